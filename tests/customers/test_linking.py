"""One customer across channels: identities resolve and link, history is kept."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def send(client: TestClient, **item: Any) -> dict[str, Any]:
    r = client.post("/api/v1/feedback", json=item)
    assert r.status_code == 201, r.text
    fid = r.json()["feedback_ids"][0]
    return client.get(f"/api/v1/feedback/{fid}").json()  # type: ignore[no-any-return]


def test_email_is_matched_case_insensitively_across_channels(client: TestClient) -> None:
    a = send(client, text="late parcel", email="Ana@Example.com", channel="email")
    b = send(
        client,
        text="still late",
        email="ana@example.COM",
        channel="survey",
        score=2,
        score_scale="nps",
    )
    assert a["customer_id"] == b["customer_id"]
    # The second complaint joins the open case rather than opening another.
    assert a["case_id"] == b["case_id"]


def test_phone_numbers_are_normalised(client: TestClient) -> None:
    a = send(client, text="rude agent", phone="(415) 555-0132", channel="call")
    b = send(client, text="called again", phone="+1 415 555 0132", channel="call")
    assert a["customer_id"] == b["customer_id"]


def test_a_message_with_two_identities_links_two_customers(client: TestClient) -> None:
    by_mail = send(client, text="refund please", email="bram@example.org", channel="email")
    by_x = send(client, text="@brand where is my refund", handle="@BramV", channel="x")
    assert by_mail["customer_id"] != by_x["customer_id"]
    both = send(
        client,
        text="it's me again",
        email="bram@example.org",
        handle="bramv",
        platform="x",
        channel="web",
    )
    merged = client.get(f"/api/v1/customers/{both['customer_id']}").json()
    assert {i["key"] for i in merged["identities"]} == {
        "email:bram@example.org",
        "handle:x:bramv",
    }
    history = client.get("/api/v1/feedback", params={"customer_id": both["customer_id"]}).json()
    assert history["total"] == 3
    # The absorbed record no longer shows in the customer list.
    listed = client.get("/api/v1/customers").json()
    assert listed["total"] == 1


def test_praise_and_automated_items_open_no_case(client: TestClient) -> None:
    five = send(client, text="Great service!", channel="review", score=5, score_scale="stars")
    nine = send(
        client,
        text="love it",
        channel="survey",
        score=9,
        score_scale="nps",
        email="fan@example.com",
    )
    bot = send(
        client, text="I am out of office", channel="email", automated=True, email="ooo@example.com"
    )
    assert five["case_id"] is None
    assert nine["case_id"] is None
    assert bot["case_id"] is None
    one = send(client, text="Awful.", channel="review", score=1, score_scale="stars")
    assert one["case_id"] is not None


def test_our_reply_joins_the_customer_case_without_opening_one(client: TestClient) -> None:
    complaint = send(client, text="@brand charged twice", handle="@cara", channel="x")
    reply = send(client, text="Sorry Cara, DM us", handle="@cara", channel="x", direction="out")
    assert reply["direction"] == "out"
    assert reply["case_id"] == complaint["case_id"]
    lone = send(client, text="Thanks for reaching out", handle="@dan", channel="x", direction="out")
    assert lone["case_id"] is None
    assert client.get("/api/v1/cases").json()["total"] == 1
