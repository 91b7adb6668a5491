"""Offers, vouchers and the abusive flag through the REST API, as an agent's tool or a till
drives them. The app's clock is movable, so that vouchers can expire and customers come back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from amends.api.app import create_app
from amends.config import Settings
from tests.conftest import FIXED_NOW, admin_token
from tests.offers.desk import PLAYBOOK, SEV4

CODE = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$")


class Clock:
    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(engine: Engine, settings: Settings, clock: Clock) -> Iterator[TestClient]:
    app = create_app(settings, engine=engine, clock=clock)
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {admin_token(engine)}"
        r = c.put(
            "/api/v1/playbook",
            content=PLAYBOOK.encode("utf-8"),
            headers={"Content-Type": "application/yaml"},
        )
        assert r.status_code in (200, 201), r.text
        yield c


def open_case(api: TestClient, email: str, text: str = SEV4, *, received: datetime) -> int:
    r = api.post(
        "/api/v1/feedback", json={"text": text, "email": email, "received_at": received.isoformat()}
    )
    assert r.status_code == 201, r.text
    fb = api.get(f"/api/v1/feedback/{r.json()['feedback_ids'][0]}").json()
    return int(fb["case_id"])


def offer(api: TestClient, case_id: int, kind: str, amount: str | None, agent: str) -> Any:
    body: dict[str, Any] = {"kind": kind, "agent": agent}
    if amount is not None:
        body["amount"] = amount
    r = api.post(f"/api/v1/cases/{case_id}/offers", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def error(r: Any, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    return str(body["detail"])


def test_suggest_make_approve_and_redeem(api: TestClient, clock: Clock) -> None:
    case = open_case(api, "kim@example.com", received=FIXED_NOW - timedelta(minutes=5))
    r = api.get(f"/api/v1/cases/{case}/offer-suggestion")
    assert r.status_code == 200, r.text
    s = r.json()["suggestion"]
    assert (s["fix"], s["perk"], s["amount"], s["needs_approval"]) == (
        "refund",
        "voucher",
        "40",
        True,
    )
    lead = api.get(f"/api/v1/cases/{case}/offer-suggestion", params={"role": "lead"}).json()
    assert lead["suggestion"]["needs_approval"] is False
    assert api.get(f"/api/v1/cases/{case}/offer-suggestion?role=boss").status_code == 422
    error(api.get("/api/v1/cases/999/offer-suggestion"), 404, "not_found")

    pending = offer(api, case, "voucher", "40", "ann@example.com")
    assert (pending["status"], pending["voucher"]) == ("pending_approval", None)
    extra = api.post(
        f"/api/v1/cases/{case}/offers",
        json={"kind": "voucher", "amount": "5", "agent": "ann@example.com", "free": True},
    )
    error(extra, 422, "invalid_input")
    bad_kind = api.post(
        f"/api/v1/cases/{case}/offers", json={"kind": "cash", "agent": "ann@example.com"}
    )
    error(bad_kind, 422, "invalid_input")

    no = api.post(f"/api/v1/offers/{pending['id']}/approve", json={"agent": "ann@example.com"})
    assert "only a team lead approves" in error(no, 403, "forbidden")
    ok = api.post(f"/api/v1/offers/{pending['id']}/approve", json={"agent": "lead@example.com"})
    assert ok.status_code == 200, ok.text
    made = ok.json()
    assert made["status"] == "made"
    code = made["voucher"]["code"]
    assert CODE.match(code)
    assert made["voucher"]["expires_at"].startswith(
        (FIXED_NOW + timedelta(days=30)).date().isoformat()
    )

    listed = api.get("/api/v1/offers", params={"status": "made", "case_id": case}).json()
    assert [o["id"] for o in listed["items"]] == [made["id"]]
    customer = api.get(f"/api/v1/customers/{made['customer_id']}").json()
    assert customer["abusive"] is False
    assert [o["id"] for o in customer["offers"]] == [made["id"]]

    # The till: any case, with or without dashes; once only.
    typed = code.lower().replace("-", "")
    used = api.post(f"/api/v1/vouchers/{typed}/redeem", json={"ref": "order 77"})
    assert used.status_code == 200, used.text
    assert (used.json()["status"], used.json()["redeemed_ref"]) == ("redeemed", "order 77")
    assert "redeemed already" in error(api.post(f"/api/v1/vouchers/{code}/redeem"), 409, "conflict")
    error(api.post("/api/v1/vouchers/AAAA-AAAA-AAAA-AAAA/redeem"), 404, "not_found")
    error(api.post("/api/v1/vouchers/not-a-code/redeem"), 404, "not_found")
    assert api.get(f"/api/v1/offers/{made['id']}").json()["status"] == "redeemed"
    error(api.post(f"/api/v1/offers/{made['id']}/accept"), 409, "invalid_transition")

    # Another voucher, past its date.
    later = offer(api, case, "discount", "10", "ann@example.com")
    clock.now = FIXED_NOW + timedelta(days=31)
    assert api.get(f"/api/v1/vouchers/{later['voucher']['code']}").json()["status"] == "expired"
    assert "expired" in error(
        api.post(f"/api/v1/vouchers/{later['voucher']['code']}/redeem"), 410, "gone"
    )

    events = [e["kind"] for e in api.get(f"/api/v1/cases/{case}/events").json()]
    for kind in ("offer_pending", "offer_approved", "voucher_redeemed", "offer_made"):
        assert kind in events


def test_accept_refuse_withdraw(api: TestClient) -> None:
    case = open_case(api, "kim@example.com", received=FIXED_NOW - timedelta(minutes=5))
    a = offer(api, case, "voucher", "10", "ann@example.com")
    b = offer(api, case, "gift", "10", "ann@example.com")
    c = offer(api, case, "voucher", "30", "ann@example.com")
    r = api.post(f"/api/v1/offers/{a['id']}/accept", json={"agent": "ann@example.com"})
    assert r.json()["status"] == "accepted"
    r = api.post(f"/api/v1/offers/{b['id']}/refuse", json={"reason": "wants cash"})
    assert (r.json()["status"], r.json()["reason"]) == ("refused", "wants cash")
    assert r.json()["voucher"]["voided_at"] is not None
    error(api.post(f"/api/v1/vouchers/{b['voucher']['code']}/redeem"), 410, "gone")
    r = api.post(f"/api/v1/offers/{c['id']}/withdraw")
    assert r.json()["status"] == "withdrawn"
    error(
        api.post(f"/api/v1/offers/{c['id']}/approve", json={"agent": "lead@example.com"}),
        409,
        "invalid_transition",
    )
    error(api.post("/api/v1/offers/999/accept"), 404, "not_found")
    # The accepted voucher still works.
    code = a["voucher"]["code"]
    assert api.post(f"/api/v1/vouchers/{code}/redeem").json()["status"] == "redeemed"
    # Refused 10: the next suggestion is worth no more than that.
    s = api.get(f"/api/v1/cases/{case}/offer-suggestion").json()["suggestion"]
    assert s["amount"] == "10"


def test_the_same_open_offer_is_not_made_twice(api: TestClient) -> None:
    case = open_case(api, "kim@example.com", received=FIXED_NOW - timedelta(minutes=5))
    first = offer(api, case, "voucher", "10", "ann@example.com")
    # a retried call, or a second agent, would give the customer the same twice
    body = {"kind": "voucher", "amount": "10.00", "agent": "lead@example.com"}
    twice = api.post(f"/api/v1/cases/{case}/offers", json=body)
    assert "already gives this customer the same" in error(twice, 409, "conflict")
    assert len(api.get("/api/v1/offers", params={"case_id": case}).json()["items"]) == 1
    # another value, or the same once the first is answered, is a new offer
    offer(api, case, "voucher", "15", "ann@example.com")
    api.post(f"/api/v1/offers/{first['id']}/refuse", json={"reason": "wants cash"})
    offer(api, case, "voucher", "10", "ann@example.com")


def test_flag_a_customer(api: TestClient) -> None:
    case = open_case(api, "kim@example.com", received=FIXED_NOW - timedelta(minutes=5))
    customer_id = api.get(f"/api/v1/cases/{case}").json()["customer_id"]
    error(
        api.post(f"/api/v1/customers/{customer_id}/flag", json={"abusive": True}),
        422,
        "invalid_input",
    )
    error(api.post("/api/v1/customers/999/flag", json={"abusive": False}), 404, "not_found")
    r = api.post(
        f"/api/v1/customers/{customer_id}/flag",
        json={"abusive": True, "reason": "insults", "agent": "lead@example.com"},
    )
    assert r.json() == {"id": customer_id, "abusive": True, "abusive_reason": "insults"}
    assert api.get(f"/api/v1/customers/{customer_id}").json()["abusive_reason"] == "insults"
    s = api.get(f"/api/v1/cases/{case}/offer-suggestion").json()["suggestion"]
    assert "flagged abusive: no uplift" in s["reasons"]
    events = api.get(f"/api/v1/cases/{case}/events").json()
    flagged = [e for e in events if e["kind"] == "customer_flagged"]
    assert flagged[0]["actor"] == "agent:lead@example.com"
    assert flagged[0]["reason"] == "insults"


def test_offer_report(api: TestClient, clock: Clock) -> None:
    start = FIXED_NOW
    kim = open_case(api, "kim@example.com", received=start - timedelta(minutes=5))
    lou = open_case(api, "lou@example.com", received=start - timedelta(minutes=4))
    eve = open_case(api, "eve@example.com", received=start - timedelta(minutes=3))
    offer(api, kim, "voucher", "20", "ann@example.com")
    refused = offer(api, lou, "gift", "12", "ann@example.com")
    api.post(f"/api/v1/offers/{refused['id']}/refuse", json={"reason": "no"})
    # Lou writes again after 3 days (too soon to count) and Kim after 20 (she came back).
    clock.now = start + timedelta(days=3)
    open_case(api, "lou@example.com", "Any news?", received=clock.now - timedelta(minutes=1))
    clock.now = start + timedelta(days=20)
    open_case(api, "kim@example.com", "Hello again", received=clock.now - timedelta(minutes=1))
    # Eve's offer is made three days before the report's moment: too early to tell.
    clock.now = start + timedelta(days=25)
    offer(api, eve, "voucher", "5", "ann@example.com")
    clock.now = start + timedelta(days=28)
    r = api.get(
        "/api/v1/reports/offers",
        params={"since": "2026-11-01T00:00:00Z", "until": "2026-12-01T00:00:00Z"},
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["offers"] == 3
    assert report["spend"] == "25.00"  # 20 + 5; the refused gift costs nothing
    assert report["came_back"] == {"customers": 2, "came_back": 1, "too_early": 1, "rate_pct": 50.0}
    assert report["acceptance"]["rate_pct"] == 0.0
    assert report["vouchers"]["open"] == 2
    assert set(report["definitions"]) == {"spend", "month", "acceptance", "came_back"}
    empty = api.get("/api/v1/reports/offers", params={"since": "2026-12-01", "until": "2026-11-01"})
    error(empty, 422, "invalid_input")
