"""Offers as an agent and a lead drive them through the CLI: suggestions, caps and approval,
refusals, the abusive flag, the monthly budget, vouchers, the customer's history and the report.
Every command runs with --now, so that a month can be replayed."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from amends.cli import app
from amends.db import session_scope
from amends.errors import Conflict
from amends.models import Agent, Notification, OutboundMail
from amends.offers import service
from tests.offers.desk import PLAYBOOK, SEV4

runner = CliRunner()

MONDAY = datetime(2026, 11, 2, 9, tzinfo=UTC)
CODE = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$")


def at(day: int, hour: int = 10, month: int = 11) -> str:
    return datetime(2026, month, day, hour, tzinfo=UTC).isoformat()


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output if code else result.stdout


def as_json(*args: str) -> Any:
    lines = [json.loads(line) for line in cli(*args, "--json").splitlines() if line.strip()]
    return lines[0] if len(lines) == 1 else lines


@pytest.fixture
def desk(cli_env: Callable[[], Engine], tmp_path: Path) -> Callable[[], Engine]:
    book = tmp_path / "playbook.yaml"
    book.write_text(PLAYBOOK, encoding="utf-8")
    assert "version 1" in cli("playbook", "import", str(book), "--now", MONDAY.isoformat())
    return cli_env


def complain(tmp_path: Path, email: str, text: str = SEV4, when: datetime = MONDAY) -> int:
    """Ingest one complaint; the id of the case it opened or joined."""
    path = tmp_path / f"in-{len(list(tmp_path.iterdir()))}.jsonl"
    item = {"text": text, "email": email, "received_at": when.isoformat()}
    path.write_text(json.dumps(item) + "\n", encoding="utf-8")
    cli("ingest", str(path), "--json", "--now", (when + timedelta(minutes=1)).isoformat())
    cases = as_json("cases", "list")
    cases = cases if isinstance(cases, list) else [cases]
    return int(next(c["id"] for c in cases if c["customer_id"] == customer_of(email)))


def customer_of(email: str) -> int:
    return int(as_json("customers", "show", email)["id"])


def suggestion(case_id: int, *extra: str, now: str = at(3)) -> dict[str, Any]:
    answer = as_json("offer", "suggest", str(case_id), "--now", now, *extra)
    assert answer["case_id"] == case_id
    s: dict[str, Any] = answer["suggestion"]
    return s


def make(case_id: int, kind: str, amount: str | None, by: str, now: str = at(3)) -> Any:
    args = ["offer", "make", str(case_id), "--kind", kind, "--by", by, "--now", now]
    return as_json(*args, *(["--amount", amount] if amount is not None else []))


def events(case_id: int) -> list[dict[str, Any]]:
    rows = as_json("cases", "history", str(case_id))
    return rows if isinstance(rows, list) else [rows]


# ---- cap, approval, voucher -------------------------------------------------------------------


def test_above_the_agent_cap_a_lead_approves_then_the_voucher_is_issued(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    case = complain(tmp_path, "kim@example.com")
    s = suggestion(case)
    assert (s["severity"], s["category"], s["customer_value"]) == (4, "refunds", "new")
    assert (s["fix"], s["perk"], s["amount"], s["currency"]) == ("refund", "voucher", "40", "GBP")
    assert s["needs_approval"] is True
    assert "over the agent cap of 20 GBP: a lead approves" in s["reasons"]
    assert suggestion(case, "--role", "lead")["needs_approval"] is False
    text = cli("offer", "suggest", str(case), "--now", at(3))
    assert "fix: refund" in text
    assert "sign of apology: voucher, worth 40 GBP" in text
    assert "needs a lead's approval" in text

    offer = make(case, "voucher", "40", "Ann@Example.com")
    assert offer["status"] == "pending_approval"
    assert offer["voucher"] is None
    assert offer["made_by"] == "ann@example.com"
    assert offer["suggestion"]["amount"] == "40"
    # The Payments lead owns the case's category: they are told, in the desk and by mail.
    with desk().connect() as conn:
        lead_id = conn.scalar(select(Agent.id).where(Agent.email == "lead@example.com"))
        told = conn.execute(
            select(Notification.agent_id, Notification.kind, Notification.message)
        ).all()
        mails = conn.scalars(
            select(OutboundMail.to_addr).where(OutboundMail.kind == "offer.approval")
        )
        assert list(mails) == ["lead@example.com"]
    assert [(a, k) for a, k, _m in told] == [(lead_id, "offer.approval")]
    assert "over the agent cap of 20 GBP" in told[0][2]

    refused = cli("offer", "approve", str(offer["id"]), "--by", "ann@example.com", code=1)
    assert "only a team lead approves" in refused
    approved = as_json(
        "offer", "approve", str(offer["id"]), "--by", "lead@example.com", "--now", at(3, 11)
    )
    assert approved["status"] == "made"
    assert approved["approved_by"] == "lead@example.com"
    assert CODE.match(approved["voucher"]["code"])
    expires = datetime.fromisoformat(approved["voucher"]["expires_at"])
    assert expires == datetime.fromisoformat(at(3, 11)) + timedelta(days=30)
    again = cli("offer", "approve", str(offer["id"]), "--by", "lead@example.com", code=1)
    assert "made" in again

    kinds = [(e["kind"], e["from"], e["to"], e["actor"]) for e in events(case)]
    assert ("offer_pending", None, "pending_approval", "agent:ann@example.com") in kinds
    assert ("offer_approved", "pending_approval", "made", "agent:lead@example.com") in kinds
    pending = next(e for e in events(case) if e["kind"] == "offer_pending")
    assert pending["reason"] == "over the agent cap of 20 GBP: a lead approves"
    assert pending["data"]["amount"] == "40.00"
    approved_event = next(e for e in events(case) if e["kind"] == "offer_approved")
    # The history names the voucher by its last group only.
    assert approved_event["data"]["voucher"] == "…" + approved["voucher"]["code"][-4:]
    assert "offer_approved" in cli("cases", "history", str(case))


def test_within_the_cap_the_offer_is_made_at_once(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    case = complain(tmp_path, "kim@example.com")
    offer = make(case, "voucher", "20", "ann@example.com")
    assert offer["status"] == "made"
    assert CODE.match(offer["voucher"]["code"])
    # A refund is the fix, not compensation: no cap and no budget stop it.
    refund = make(case, "refund", "480", "ann@example.com")
    assert (refund["status"], refund["voucher"], refund["amount"]) == ("made", None, "480.00")
    assert make(case, "replacement", None, "ann@example.com")["status"] == "made"
    assert "a voucher needs its value" in cli(
        "offer", "make", str(case), "--kind", "voucher", "--by", "ann@example.com", code=1
    )
    assert "over every cap" in cli(
        "offer",
        "make",
        str(case),
        "--kind",
        "gift",
        "--amount",
        "151",
        "--by",
        "lead@example.com",
        code=1,
    )
    assert "not a number" in cli(
        "offer",
        "make",
        str(case),
        "--kind",
        "gift",
        "--amount",
        "ten",
        "--by",
        "ann@example.com",
        code=1,
    )
    assert "agent nobody@example.com not found" in cli(
        "offer",
        "make",
        str(case),
        "--kind",
        "gift",
        "--amount",
        "5",
        "--by",
        "nobody@example.com",
        code=1,
    )
    assert "case 99 not found" in cli(
        "offer",
        "make",
        "99",
        "--kind",
        "gift",
        "--amount",
        "5",
        "--by",
        "ann@example.com",
        code=1,
    )
    listed = as_json("offer", "list", "--case", str(case))
    assert [o["kind"] for o in listed] == ["replacement", "refund", "voucher"]
    assert (
        as_json(
            "offer", "list", "--status", "made", "--customer", str(customer_of("kim@example.com"))
        )[0]["kind"]
        == "replacement"
    )
    assert "3 offer(s)" in cli("offer", "list")


# ---- refusals -------------------------------------------------------------------------------


def test_after_a_refusal_nothing_larger_is_suggested_or_made_alone(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    case = complain(tmp_path, "kim@example.com")
    offer = make(case, "voucher", "15", "ann@example.com")
    code = offer["voucher"]["code"]
    refused = as_json(
        "offer", "refuse", str(offer["id"]), "--reason", "a voucher is an insult", "--now", at(4)
    )
    assert (refused["status"], refused["reason"]) == ("refused", "a voucher is an insult")
    assert refused["voucher"]["voided_at"] is not None
    assert "void" in cli("vouchers", "show", code, "--now", at(4))
    assert "withdrawn" in cli("vouchers", "redeem", code, "--now", at(4), code=1)

    s = suggestion(case, now=at(5))
    assert s["amount"] == "15"  # 40 for severity 4, but never more than what was refused
    assert "capped at the refused offer (15 GBP)" in s["reasons"]
    assert s["needs_approval"] is False
    # More than the refused offer waits for a lead, though it is within the agent's cap.
    bigger = make(case, "voucher", "18", "ann@example.com", now=at(5))
    assert bigger["status"] == "pending_approval"
    pending = [e for e in events(case) if e["kind"] == "offer_pending"]
    assert "more than the customer was offered before" in pending[-1]["reason"]
    assert make(case, "voucher", "15", "ann@example.com", now=at(5))["status"] == "made"
    # A refused offer cannot be accepted afterwards; a pending one is withdrawn.
    assert "cannot be accepted" in cli("offer", "accept", str(offer["id"]), code=1)
    gone = as_json("offer", "withdraw", str(bigger["id"]), "--reason", "too much", "--now", at(5))
    assert gone["status"] == "withdrawn"
    kinds = [e["kind"] for e in events(case)]
    assert kinds.count("offer_refused") == 1
    assert "offer_withdrawn" in kinds


# ---- the abusive flag -----------------------------------------------------------------------


def test_an_abusive_customer_gets_no_uplift_and_never_more(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text("name,email,order_count\nRay Regular,ray@example.com,25\n", encoding="utf-8")
    cli("customers", "import", str(crm))
    case = complain(tmp_path, "ray@example.com")
    ray = customer_of("ray@example.com")
    loyal = suggestion(case, "--role", "lead")
    assert (loyal["customer_value"], loyal["amount"]) == ("loyal", "60")
    assert "loyal customer \N{MULTIPLICATION SIGN}1.5" in loyal["reasons"]

    assert "needs a reason" in cli("customers", "flag", str(ray), "--abusive", code=1)
    out = cli(
        "customers",
        "flag",
        str(ray),
        "--abusive",
        "--reason",
        "threatened staff",
        "--by",
        "lead@example.com",
        "--now",
        at(3),
    )
    assert "flagged abusive (threatened staff)" in out
    flagged = suggestion(case, "--role", "lead")
    assert flagged["amount"] == "40"  # the base amount: no uplift, and no earlier offer
    assert "flagged abusive: no uplift" in flagged["reasons"]
    assert make(case, "voucher", "10", "ann@example.com")["status"] == "made"
    capped = suggestion(case, "--role", "lead")
    assert capped["amount"] == "10"
    assert "flagged abusive: capped at the smallest offer so far (10 GBP)" in capped["reasons"]
    # An agent offering more than that needs a lead.
    assert make(case, "voucher", "12", "ann@example.com")["status"] == "pending_approval"

    shown = as_json("customers", "show", str(ray))
    assert (shown["abusive"], shown["abusive_reason"]) == (True, "threatened staff")
    assert [(o["kind"], o["status"]) for o in shown["offers"]] == [
        ("voucher", "pending_approval"),
        ("voucher", "made"),
    ]
    text = cli("customers", "show", str(ray))
    assert "abusive: threatened staff" in text
    assert "offers: 2" in text
    assert "pending_approval" in text
    flag_events = [e for e in events(case) if e["kind"] == "customer_flagged"]
    assert flag_events[0]["actor"] == "agent:lead@example.com"

    cli("customers", "flag", str(ray), "--not-abusive", "--now", at(4))
    cleared = suggestion(case, "--role", "lead")
    assert cleared["amount"] == "60"
    assert as_json("customers", "show", str(ray))["abusive"] is False


# ---- the monthly budget -----------------------------------------------------------------------


def test_over_the_monthly_budget_a_lead_approves(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    case = complain(tmp_path, "kim@example.com")
    other = complain(tmp_path, "lou@example.com")
    assert make(case, "voucher", "90", "lead@example.com")["status"] == "made"
    over = make(other, "gift", "15", "ann@example.com")
    assert over["status"] == "pending_approval"
    reason = next(e for e in events(other) if e["kind"] == "offer_pending")["reason"]
    assert reason == "over the monthly budget (90 GBP of 100 GBP spent): a lead approves"
    s = suggestion(other)
    assert s["needs_approval"] is True
    assert "over the monthly budget (90 GBP of 100 GBP spent): a lead approves" in s["reasons"]
    # A lead's approval takes the month over; refused and pending offers cost nothing.
    assert (
        as_json("offer", "approve", str(over["id"]), "--by", "lead@example.com", "--now", at(4))[
            "status"
        ]
        == "made"
    )
    assert make(other, "refund", "300", "ann@example.com")["status"] == "made"  # a fix
    # The same gift again while the first is open is refused: the customer would get it twice.
    again = runner.invoke(
        app,
        [
            "offer", "make", str(other), "--kind", "gift", "--amount", "15",
            "--by", "ann@example.com", "--now", at(4),
        ],
    )  # fmt: skip
    assert again.exit_code == 1
    assert "already gives this customer the same" in again.output
    # A new month, a new budget.
    third = complain(tmp_path, "max@example.com")
    december = make(third, "gift", "15", "ann@example.com", now=at(1, month=12))
    assert december["status"] == "made"


# ---- vouchers -------------------------------------------------------------------------------


def test_a_voucher_is_redeemed_once_before_it_expires(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    case = complain(tmp_path, "kim@example.com")
    first = make(case, "voucher", "10", "ann@example.com")["voucher"]["code"]
    second = make(case, "discount", "5", "ann@example.com")["voucher"]["code"]
    assert first != second
    typed = first.lower().replace("-", " ")
    used = as_json("vouchers", "redeem", typed, "--ref", "order 1234", "--now", at(10))
    assert (used["code"], used["status"], used["redeemed_ref"]) == (first, "redeemed", "order 1234")
    assert "redeemed already" in cli("vouchers", "redeem", first, "--now", at(11), code=1)
    assert "expired" in cli("vouchers", "redeem", second, "--now", at(3, month=12), code=1)
    assert "voucher NOPE not found" in cli("vouchers", "redeem", "NOPE", code=1)
    assert "redeemed" in cli("vouchers", "show", first)
    assert as_json("vouchers", "show", second, "--now", at(4))["status"] == "open"
    offers = {o["voucher"]["code"]: o for o in as_json("offer", "list", "--case", str(case))}
    assert offers[first]["status"] == "redeemed"
    assert offers[second]["status"] == "made"
    redeemed = [e for e in events(case) if e["kind"] == "voucher_redeemed"]
    assert [(e["actor"], e["from"], e["to"]) for e in redeemed] == [
        ("customer", "made", "redeemed")
    ]
    # A redeemed voucher's offer cannot be withdrawn any more.
    assert "cannot be withdrawn" in cli("offer", "withdraw", str(offers[first]["id"]), code=1)


# ---- the report -----------------------------------------------------------------------------


def test_offer_report_over_a_known_month(desk: Callable[[], Engine], tmp_path: Path) -> None:
    kim = complain(tmp_path, "kim@example.com")
    lou = complain(tmp_path, "lou@example.com")
    v1 = make(kim, "voucher", "20", "ann@example.com")  # redeemed
    v2 = make(lou, "gift", "15", "ann@example.com")  # refused
    make(lou, "refund", "60", "ann@example.com")  # a fix: not spend
    v3 = make(kim, "voucher", "40", "ann@example.com")  # pending: costs nothing
    cli("vouchers", "redeem", v1["voucher"]["code"], "--now", at(6))
    cli("offer", "refuse", str(v2["id"]), "--reason", "no", "--now", at(6))
    assert v3["status"] == "pending_approval"
    # Kim writes again 10 days after her offer: she came back; Lou did not.
    complain(
        tmp_path, "kim@example.com", "Thanks, the refund arrived.", MONDAY + timedelta(days=11)
    )

    r = as_json(
        "report", "offers", "--since", "2026-11-01", "--until", "2026-12-01", "--now", at(28)
    )
    assert r["currency"] == "GBP"
    assert r["offers"] == 4
    assert r["by_status"]["redeemed"] == 1
    assert r["by_status"]["refused"] == 1
    assert r["spend"] == "20.00"
    assert r["fixes"] == "60.00"
    assert r["by_month"] == [
        {"month": "2026-11", "spend": "20.00", "budget": "100", "left": "80.00", "over": False}
    ]
    remedies = {row["kind"]: row for row in r["by_remedy"]}
    assert remedies["refund"] == {"kind": "refund", "fix": True, "offers": 1, "amount": "60.00"}
    assert remedies["gift"]["amount"] == "0"
    assert r["by_category"] == [{"key": "refunds", "offers": 4, "spend": "20.00"}]
    assert r["acceptance"] == {"accepted": 1, "refused": 1, "decided": 2, "rate_pct": 50.0}
    assert (r["vouchers"]["issued"], r["vouchers"]["redeemed"], r["vouchers"]["void"]) == (2, 1, 1)
    assert r["came_back"] == {"customers": 2, "came_back": 1, "too_early": 0, "rate_pct": 50.0}
    assert "more than 7 and at most 180 days" in r["definitions"]["came_back"]
    text = cli(
        "report", "offers", "--since", "2026-11-01", "--until", "2026-12-01", "--now", at(28)
    )
    assert "Came back: 1 of 2 customers (50.0%)" in text
    assert "Acceptance: 1 of 2 answered (50.0%)" in text
    assert re.search(r"2026-11 +20 GBP +80 GBP\n", text)
    assert re.search(r"refund +1 +60 GBP  \(fix\)", text)
    assert "empty" in cli(
        "report", "offers", "--since", "2026-12-01", "--until", "2026-11-01", code=2
    )


def test_two_tills_racing_for_one_code_redeem_it_once(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    case = complain(tmp_path, "kim@example.com")
    code = make(case, "voucher", "10", "ann@example.com")["voucher"]["code"]
    engine = desk()
    moment = datetime.fromisoformat(at(5))
    outcome: dict[str, str] = {}

    def second_till() -> None:
        try:
            with session_scope(engine) as s:
                service.redeem_voucher(s, code, now=moment, ref="till B")
            outcome["b"] = "redeemed"
        except Conflict as exc:
            outcome["b"] = exc.detail

    with session_scope(engine) as s:
        service.redeem_voucher(s, code, now=moment, ref="till A")
        b = threading.Thread(target=second_till)
        b.start()
        time.sleep(0.3)
        assert "b" not in outcome  # till B waits for till A's unit of work
    b.join(timeout=30)
    assert "redeemed already" in outcome["b"]
    shown = as_json("vouchers", "show", code)
    assert (shown["status"], shown["redeemed_ref"]) == ("redeemed", "till A")
