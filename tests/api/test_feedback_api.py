"""POST /api/v1/feedback and the read endpoints, through the HTTP interface."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def post(client: TestClient, body: Any, **headers: str) -> Any:
    return client.post("/api/v1/feedback", json=body, headers=headers)


def test_one_item_opens_a_case_for_a_new_customer(client: TestClient) -> None:
    r = post(client, {"text": "I was charged twice for my order", "email": "ana@example.com",
                      "author_name": "Ana López", "channel": "email"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["new"], body["duplicates"], body["quarantined"], body["cases_opened"]) == (1, 0, 0, 1)
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
    r = post(client, {"text": "@brand your app is down again", "channel": "x",
                      "handle": "@loud", "reach": 48000})
    item = client.get(f"/api/v1/feedback/{r.json()['feedback_ids'][0]}").json()
    assert (item["public"], item["reach"], item["author_handle"]) == (True, 48000, "@loud")


def test_bad_items_in_a_batch_are_quarantined_and_the_rest_go_in(client: TestClient) -> None:
    r = post(client, [
        {"text": "fine item", "email": "a@example.com"},
        {"text": "   "},
        {"text": "unknown field", "colour": "red"},
        {"text": "bad email", "email": "nope"},
    ])
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
    assert "text" in r.json()["errors"][0]
    assert client.get("/api/v1/quarantine").json()["total"] == 1


def test_malformed_json_is_400_and_kept(client: TestClient) -> None:
    r = client.post("/api/v1/feedback", content=b'{"text": "cut', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["code"] == "malformed_request"
    assert client.get("/api/v1/quarantine").json()["total"] == 1


def test_empty_body_and_empty_batch_are_refused(client: TestClient) -> None:
    assert client.post("/api/v1/feedback", content=b"").status_code == 422
    r = post(client, [])
    assert r.status_code == 422
    assert "empty batch" in r.json()["detail"]


def test_oversized_body_is_413(client: TestClient) -> None:
    client.app.state.settings.max_payload_bytes = 1000  # type: ignore[attr-defined]
    r = post(client, {"text": "x" * 5000})
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


def test_lists_are_paged_newest_first(client: TestClient) -> None:
    post(client, [
        {"text": f"item {n}", "source_id": f"s{n}", "received_at": f"2026-10-0{n + 1}T10:00:00Z"}
        for n in range(7)
    ])
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
