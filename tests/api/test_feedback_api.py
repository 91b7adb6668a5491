"""POST /api/v1/feedback and the read endpoints, through the HTTP interface."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def post(client: TestClient, body: Any, **headers: str) -> Any:
    return client.post("/api/v1/feedback", json=body, headers=headers)


def test_one_item_opens_a_case_for_a_new_customer(client: TestClient) -> None:
    r = post(
        client,
        {
            "text": "I was charged twice for my order",
            "email": "ana@example.com",
            "author_name": "Ana López",
            "channel": "email",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["new"], body["duplicates"], body["quarantined"], body["cases_opened"]) == (
        1,
        0,
        0,
        1,
    )
    fid = body["feedback_ids"][0]
    item = client.get(f"/api/v1/feedback/{fid}").json()
    assert item["direction"] == "in"
    assert item["channel"] == "email"
    assert item["public"] is False
    customer = client.get(f"/api/v1/customers/{item['customer_id']}").json()
    assert customer["name"] == "Ana López"
    assert [i["key"] for i in customer["identities"]] == ["email:ana@example.com"]
    cases = client.get("/api/v1/cases").json()
    assert cases["total"] == 1
    assert cases["items"][0]["customer_id"] == item["customer_id"]


def test_batch_with_source_ids_is_safe_to_retry(client: TestClient) -> None:
    batch = [
        {"text": f"complaint {n}", "source_id": f"crm-{n}", "email": f"p{n}@example.com"}
        for n in range(5)
    ]
    first = post(client, batch).json()
    again = post(client, {"items": batch}).json()
    assert (first["new"], first["duplicates"]) == (5, 0)
    assert (again["new"], again["duplicates"]) == (0, 5)
    assert client.get("/api/v1/feedback").json()["total"] == 5


def test_idempotency_key_replays_the_first_answer(client: TestClient) -> None:
    body = {"text": "where is my parcel?", "handle": "@bram", "channel": "x"}
    first = post(client, body, **{"Idempotency-Key": "k-1"})
    second = post(client, body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert client.get("/api/v1/feedback").json()["total"] == 1
    clash = post(client, {**body, "text": "other"}, **{"Idempotency-Key": "k-1"})
    assert clash.status_code == 409
    assert clash.json()["code"] == "conflict"


def test_social_items_are_public_with_reach(client: TestClient) -> None:
    r = post(
        client,
        {
            "text": "@brand your app is down again",
            "channel": "x",
            "handle": "@loud",
            "reach": 48000,
        },
    )
    item = client.get(f"/api/v1/feedback/{r.json()['feedback_ids'][0]}").json()
    assert (item["public"], item["reach"], item["author_handle"]) == (True, 48000, "@loud")


def test_bad_items_in_a_batch_are_quarantined_and_the_rest_go_in(client: TestClient) -> None:
    r = post(
        client,
        [
            {"text": "fine item", "email": "a@example.com"},
            {"text": "   "},
            {"text": "unknown field", "colour": "red"},
            {"text": "bad email", "email": "nope"},
        ],
    )
    assert r.status_code == 201
    body = r.json()
    assert (body["new"], body["quarantined"]) == (1, 3)
    assert any(e.startswith("api: items[2]:") and "colour" in e for e in body["errors"])
    q = client.get("/api/v1/quarantine").json()
    assert q["total"] == 3
    assert {item["location"] for item in q["items"]} == {"items[1]", "items[2]", "items[3]"}


def test_a_single_invalid_item_is_422_and_kept(client: TestClient) -> None:
    r = post(client, {"channel": "x"})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input"
    assert "text" in r.json()["detail"]
    assert client.get("/api/v1/quarantine").json()["total"] == 1


def test_malformed_json_is_400_and_kept(client: TestClient) -> None:
    r = client.post(
        "/api/v1/feedback", content=b'{"text": "cut', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["code"] == "malformed_request"
    assert client.get("/api/v1/quarantine").json()["total"] == 1


def test_empty_body_and_empty_batch_are_refused(client: TestClient) -> None:
    empty = client.post(
        "/api/v1/feedback", content=b"", headers={"content-type": "application/json"}
    )
    assert empty.status_code == 422
    r = post(client, [])
    assert r.status_code == 422
    assert "empty batch" in r.json()["detail"]


def test_oversized_body_is_413(client: TestClient) -> None:
    client.app.state.settings.max_payload_bytes = 1000  # type: ignore[attr-defined]
    r = post(client, {"text": "x" * 5000})
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


def test_lists_are_paged_newest_first(client: TestClient) -> None:
    post(
        client,
        [
            {
                "text": f"item {n}",
                "source_id": f"s{n}",
                "received_at": f"2026-10-0{n + 1}T10:00:00Z",
            }
            for n in range(7)
        ],
    )
    page = client.get("/api/v1/feedback", params={"limit": 3, "offset": 0}).json()
    assert page["total"] == 7
    assert [i["text"] for i in page["items"]] == ["item 6", "item 5", "item 4"]
    page2 = client.get("/api/v1/feedback", params={"limit": 3, "offset": 6}).json()
    assert [i["text"] for i in page2["items"]] == ["item 0"]
    assert client.get("/api/v1/feedback", params={"limit": 0}).status_code == 422


def test_unknown_ids_are_404_with_a_code(client: TestClient) -> None:
    for path in ("/api/v1/feedback/999", "/api/v1/customers/999", "/api/v1/cases/999"):
        r = client.get(path)
        assert r.status_code == 404
        assert r.json()["code"] == "not_found"


def test_openapi_describes_the_feedback_body(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    body = spec["paths"]["/api/v1/feedback"]["post"]["requestBody"]
    assert "FeedbackIn" in str(body)
    assert "FeedbackIn" in spec["components"]["schemas"]


def test_only_json_bodies_are_accepted(client: TestClient) -> None:
    # A plain form or text/plain post from another web page must not reach the desk.
    r = client.post(
        "/api/v1/feedback", content=b'{"text": "hi"}', headers={"content-type": "text/plain"}
    )
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_media_type"
    assert client.get("/api/v1/feedback").json()["total"] == 0


@pytest.mark.parametrize(
    "item",
    [
        {"text": "bad nps", "score": 99, "score_scale": "nps"},
        {"text": "bad stars", "score": 0, "score_scale": "stars"},
        {"text": "no scale", "score": 3},
        {"text": "deep", "meta": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}},
        {"text": "from the future", "received_at": "2999-01-01T00:00:00Z"},
    ],
)
def test_implausible_items_are_refused_and_kept(client: TestClient, item: dict[str, Any]) -> None:
    r = post(client, item)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_input"
    assert client.get("/api/v1/quarantine").json()["total"] == 1
    assert client.get("/api/v1/cases").json()["total"] == 0


def test_hostile_requests_get_clear_errors_not_500(client: TestClient) -> None:
    deep = client.post(
        "/api/v1/feedback", content=b"[" * 100_000, headers={"content-type": "application/json"}
    )
    assert deep.status_code == 400
    for path in (
        "/api/v1/feedback/99999999999999999999999",
        "/api/v1/feedback?offset=999999999999999999999",
        "/api/v1/cases?customer_id=99999999999999999999999",
    ):
        r = client.get(path)
        assert r.status_code == 422, path
        assert r.json()["code"] == "invalid_input"
        assert "99999" not in r.text  # the input is not echoed back


def test_the_same_id_with_different_text_is_kept_apart(client: TestClient) -> None:
    # Two exports that both number their rows 1, 2, 3 must not swallow each other.
    first = post(client, {"text": "shop A: parcel lost", "source_id": "1"}).json()
    other = post(client, {"text": "shop B: app crashes", "source_id": "1"}).json()
    again = post(client, {"text": "shop B: app crashes", "source_id": "1"}).json()
    assert (first["new"], other["new"], other["id_clashes"]) == (1, 1, 1)
    assert (again["new"], again["duplicates"]) == (0, 1)
    texts = {i["text"] for i in client.get("/api/v1/feedback").json()["items"]}
    assert texts == {"shop A: parcel lost", "shop B: app crashes"}
