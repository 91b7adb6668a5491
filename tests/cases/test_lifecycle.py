"""The case lifecycle as an operator drives it: playbook, clocks, replies, pauses, escalation,
assignment, merge and split, through the CLI with --now so that a day can be replayed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from amends.cli import app
from amends.models import Notification, OutboundMail, Timer

runner = CliRunner()

# Monday 2 November 2026, London (GMT, no DST then).
MONDAY = datetime(2026, 11, 2, tzinfo=UTC)

PLAYBOOK = """
name: test desk
calendars:
  office:
    timezone: Europe/London
    hours: {mon: "09:00-17:00", tue: "09:00-17:00", wed: "09:00-17:00", thu: "09:00-17:00",
            fri: "09:00-17:00"}
    holidays: {dates: [2026-11-04]}
teams:
  - name: Payments
    categories: [billing, refunds]
    lead: lead@example.com
    agents:
      - {name: Lea Lead, email: lead@example.com, capacity: 5}
      - {name: Ann Agent, email: ann@example.com, capacity: 1}
  - name: Care
    lead: carl@example.com
    agents:
      - {name: Carl Care, email: carl@example.com, capacity: 5}
default_team: Care
sla:
  calendar: office
  warn_at: 0.5
  targets:
    P1: {first_response: 1h, next_response: 1h, resolution: 4h, calendar: 24/7}
    P2: {first_response: 2h, next_response: 2h, resolution: 8h}
    P3: {first_response: 4h, next_response: 4h, resolution: 16h}
    P4: {first_response: 8h, next_response: 8h, resolution: 40h}
  public:
    P3: {first_response: 1h}
escalation:
  - after: 0m
    notify: [assignee, team_lead]
  - after: 2h
    notify: [team_lead]
    reassign_to: team_lead
    raise_priority: true
follow_up: {delay: 2d, survey: csat, expires_after: 7d}
"""


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout


def as_json(*args: str) -> Any:
    lines = [json.loads(line) for line in cli(*args, "--json").splitlines() if line.strip()]
    return lines[0] if len(lines) == 1 else lines


def ingest(tmp_path: Path, items: list[dict[str, Any]], *, now: datetime) -> dict[str, Any]:
    path = tmp_path / f"batch-{len(list(tmp_path.iterdir()))}.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    out = cli("ingest", str(path), "--json", "--now", now.isoformat())
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def complaint(
    text: str, when: datetime, *, email: str = "kim@example.com", **extra: Any
) -> dict[str, Any]:
    return {"text": text, "email": email, "received_at": when.isoformat(), **extra}


BILLING = "You charged me twice for my order, please refund the second payment."


@pytest.fixture
def desk(cli_env: Callable[[], Engine], tmp_path: Path) -> Callable[[], Engine]:
    book = tmp_path / "playbook.yaml"
    book.write_text(PLAYBOOK, encoding="utf-8")
    (tmp_path / "in").mkdir()
    assert "version 1" in cli("playbook", "import", str(book), "--now", MONDAY.isoformat())
    return cli_env


def the_case(now: datetime | None = None) -> dict[str, Any]:
    cases = as_json("cases", "list", *(["--now", now.isoformat()] if now else []))
    assert isinstance(cases, dict), cases
    return cases


def deadline(case: dict[str, Any], clock: str) -> dict[str, Any]:
    return next(d for d in case["deadlines"] if d["clock"] == clock)


def test_playbook_round_trip_and_versions(desk: Callable[[], Engine], tmp_path: Path) -> None:
    exported = cli("playbook", "export")
    assert exported == PLAYBOOK  # as written, comments and all
    book = tmp_path / "playbook.yaml"
    assert "version 1" in cli("playbook", "import", str(book))  # same text: no new version
    book.write_text(PLAYBOOK.replace("warn_at: 0.5", "warn_at: 0.8"), encoding="utf-8")
    assert "version 2" in cli("playbook", "import", str(book))
    assert "v2" in cli("playbook", "versions")
    assert "v1" in cli("playbook", "versions")
    assert cli("playbook", "export", "--version", "1") == PLAYBOOK
    shown = cli("playbook", "show")
    assert "warn at 80%" in shown
    assert "team Payments: owns billing, refunds" in shown
    teams = cli("agents", "list")
    assert "ann@example.com" in teams
    assert "Payments" in teams
    # an earlier version put back in force is a new version with its text
    restored = cli("playbook", "restore", "1", "--as", "lead@example.com")
    assert "version 3 (as version 1) is in force" in restored
    assert cli("playbook", "export") == PLAYBOOK
    missing = runner.invoke(app, ["playbook", "restore", "9"])
    assert missing.exit_code == 1
    assert "playbook version 9 not found" in missing.output


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("sla: {targets: {P1: {first_response: 1h}}}", "targets.P1 needs first_response"),
        (PLAYBOOK.replace("warn_at: 0.5", "warn_at: 2"), "sla.warn_at"),
        (PLAYBOOK.replace("first_response: 1h, next", "first_response: soon, next"), "soon"),
        (PLAYBOOK.replace("default_team: Care", "default_team: Nobody"), "Nobody"),
        (PLAYBOOK.replace("mon: ", "monday: "), "unknown day 'monday'"),
        # A misspelt zone or category would be taken, then stop every clock or route nothing.
        (PLAYBOOK.replace("Europe/London", "Europe/Londn"), "unknown time zone 'Europe/Londn'"),
        (PLAYBOOK.replace("[billing, refunds]", "[billing, refundz]"), "category 'refundz'"),
        (PLAYBOOK + "\nsurprise: 1\n", "surprise"),
        ("a: &x [1]\nb: *x\n", "aliases"),
        ("sla: [unclosed\n", "line"),
        ("- just\n- a list\n", "a playbook is a mapping"),
    ],
)
def test_a_bad_playbook_is_refused_with_its_place(
    desk: Callable[[], Engine], tmp_path: Path, text: str, problem: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["playbook", "import", str(bad)])
    assert result.exit_code == 1
    assert problem in result.output
    assert "v2" not in cli("playbook", "versions")


def test_first_response_clock_counts_business_hours_and_only_a_person_stops_it(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    # Monday 16:00 London, P3 private: 4 business hours -> 1h Monday + 3h Tuesday = Tue 12:00.
    ingest(
        tmp_path / "in",
        [complaint("The app keeps logging me out, annoying.", at(2, 16))],
        now=at(2, 16, 1),
    )
    case = the_case()
    assert case["priority"] in ("P3", "P4")
    expected = at(3, 12) if case["priority"] == "P3" else at(4 + 1, 15)  # P4: 8h, skips the holiday
    assert deadline(case, "first_response")["due"] == expected.isoformat()
    # An automatic acknowledgement changes nothing; a person's reply keeps the promise.
    cli(
        "cases",
        "reply",
        str(case["id"]),
        "We got your message.",
        "--auto",
        "--now",
        at(2, 16, 2).isoformat(),
    )
    case = the_case()
    assert deadline(case, "first_response")["met_at"] is None
    assert case["status"] == "new"
    cli("cases", "reply", str(case["id"]), "Sorry, Kim - fixing it now.",
        "--as", "carl@example.com", "--now", at(3, 10).isoformat())  # fmt: skip
    case = the_case(at(3, 10))
    assert deadline(case, "first_response")["met_at"] == at(3, 10).isoformat()
    assert case["status"] == "acknowledged"
    assert not case["breached"]
    history = as_json("cases", "history", str(case["id"]))
    kinds = [e["kind"] for e in history]
    assert kinds[0] == "opened"
    assert "auto_acknowledged" in kinds
    assert "replied" in kinds
    assert any(e["actor"] == "agent:carl@example.com" for e in history)


def test_waiting_on_the_customer_pauses_the_clock_and_their_reply_resumes_it(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(tmp_path / "in", [complaint(BILLING, at(2, 9))], now=at(2, 9))
    case = the_case()
    cid = str(case["id"])
    due_before = datetime.fromisoformat(deadline(case, "resolution")["due"])
    cli("cases", "reply", cid, "Which card was charged?", "--as", "ann@example.com", "--waiting",
        "--now", at(2, 10).isoformat())  # fmt: skip
    case = the_case()
    assert case["status"] == "waiting_on_customer"
    assert case["paused"]
    assert as_json("queue") == []  # paused cases leave the queue ...
    assert as_json("queue", "--all")["id"] == case["id"]  # ... unless asked for
    # The customer answers the next morning: the clock moves on by the business time paused
    # (Mon 10:00-17:00 = 7h), and the next-response clock starts. For P3 (16h): due Thu 09:00
    # (Wednesday is a holiday); 15h were left at the pause; from Tue 09:00 that is Thu 16:00.
    ingest(tmp_path / "in", [complaint("It was the Visa ending 4242.", at(3, 9))], now=at(3, 9))
    case = the_case()
    assert case["status"] == "in_progress"
    assert not case["paused"]
    due_after = datetime.fromisoformat(deadline(case, "resolution")["due"])
    assert case["priority"] == "P3"
    assert due_before == at(5, 9)
    assert due_after == at(5, 16)
    assert any(d["clock"] == "next_response" for d in case["deadlines"])


def test_tick_warns_breaches_and_escalates_exactly_once(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(
        tmp_path / "in",
        [complaint("My parcel never arrived and nobody answers.", at(2, 9))],
        now=at(2, 9),
    )
    case = the_case()
    cid = case["id"]
    due = datetime.fromisoformat(deadline(case, "first_response")["due"])
    assert case["assignee"] is not None  # assigned on arrival, in office hours
    # Replaying the day in one tick gives the warning, the breach and both escalations.
    late = due + timedelta(hours=3)
    stats = as_json("tick", "--now", late.isoformat())
    assert stats["by_kind"].get("sla.warning", 0) >= 1
    assert stats["by_kind"].get("sla.breach", 0) >= 1
    assert stats["by_kind"].get("sla.escalate", 0) >= 2
    case = as_json("cases", "show", str(cid), "--now", late.isoformat())
    assert case["breached"]
    assert case["escalation_level"] == 2
    assert case["assignee"] == "carl@example.com"  # reassigned to the team lead
    kinds = [e["kind"] for e in as_json("cases", "history", str(cid))]
    assert kinds.count("escalated") == 2
    assert kinds.count("sla_breached") >= 1
    # A second tick at the same moment fires nothing again.
    assert as_json("tick", "--now", late.isoformat())["fired"] == 0
    engine = desk()
    with engine.connect() as conn:
        notes = conn.execute(select(Notification.kind)).scalars().all()
        mails = conn.execute(select(OutboundMail.to_addr)).scalars().all()
        pending = conn.execute(select(Timer.kind).where(Timer.status == "pending")).scalars().all()
    assert "sla_warning" in notes
    assert "escalation" in notes
    assert "carl@example.com" in mails  # the lead hears by mail too
    assert "sla.escalate" not in pending  # the chain has two levels


def test_a_reply_before_the_breach_cancels_warning_and_breach(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(tmp_path / "in", [complaint(BILLING, at(2, 9))], now=at(2, 9))
    case = the_case()
    cli("cases", "reply", str(case["id"]), "Refunding now, sorry.", "--as", "ann@example.com",
        "--now", at(2, 9, 10).isoformat())  # fmt: skip
    stats = as_json("tick", "--now", at(2, 12).isoformat())
    assert stats["by_kind"].get("sla.breach", 0) == 0
    assert not the_case(at(2, 12))["breached"]


def test_assignment_respects_capacity_and_working_hours(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    # Saturday: nobody on shift; the case waits in its team's queue.
    ingest(tmp_path / "in", [complaint(BILLING, at(7, 11), email="a@example.com")], now=at(7, 11))
    first = the_case()
    assert first["team"] == "Payments"
    assert first["assignee"] is None
    # Monday morning the next tick assigns it.
    assert as_json("tick", "--now", at(9, 9, 5).isoformat())["assigned"] == 1
    assigned = [
        c["assignee"]
        for c in as_json("cases", "list", "--now", at(9, 9, 5).isoformat())
        if isinstance(c, dict)
    ] or [the_case()["assignee"]]
    assert assigned[0] in ("lead@example.com", "ann@example.com")
    # Three more billing complaints: Ann holds at most one open case, the lead the rest.
    more = [complaint(BILLING, at(9, 10), email=f"c{i}@example.com") for i in range(3)]
    ingest(tmp_path / "in", more, now=at(9, 10))
    rows = as_json("queue", "--now", at(9, 10).isoformat())
    owners = [r["assignee"] for r in rows]
    assert owners.count("ann@example.com") == 1
    assert owners.count("lead@example.com") == 3


def test_lifecycle_refuses_what_it_does_not_allow(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(tmp_path / "in", [complaint(BILLING, at(2, 9))], now=at(2, 9))
    cid = str(the_case()["id"])
    out = runner.invoke(app, ["cases", "status", cid, "new"])
    assert out.exit_code == 0  # already new: nothing to do
    cli("cases", "resolve", cid, "--as", "ann@example.com", "--now", at(2, 12).isoformat())
    refused = runner.invoke(app, ["cases", "status", cid, "waiting_on_customer"])
    assert refused.exit_code == 1
    assert "cannot become" in refused.output
    needs_reason = runner.invoke(app, ["cases", "status", cid, "in_progress"])
    assert needs_reason.exit_code == 1
    assert "reason" in needs_reason.output
    cli("cases", "reopen", cid, "--reason", "refund bounced", "--now", at(3, 9).isoformat())
    case = the_case()
    assert case["status"] == "in_progress"
    assert case["reopened_count"] == 1
    history = as_json("cases", "history", cid)
    reopen = [e for e in history if e["to"] == "in_progress"][-1]
    assert reopen["reason"] == "refund bounced"
    assert reopen["from"] == "resolved"


def test_same_matter_joins_other_matters_open_their_own_case_and_agents_merge_and_split(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(tmp_path / "in", [complaint(BILLING, at(2, 9))], now=at(2, 9))
    ingest(
        tmp_path / "in",
        [complaint("And you charged me twice again this month, refund it!", at(2, 10))],
        now=at(2, 10),
    )
    assert isinstance(as_json("cases", "list"), dict)  # same matter: one case
    ingest(
        tmp_path / "in",
        [complaint("Also my parcel has not arrived after three weeks of waiting.", at(2, 11))],
        now=at(2, 11),
    )
    cases = as_json("cases", "list")
    assert isinstance(cases, list)
    assert len(cases) == 2
    keep, other = sorted(c["id"] for c in cases)
    cli("cases", "merge", str(keep), str(other), "--reason", "one conversation")
    merged = as_json("cases", "show", str(other))
    assert merged["status"] == "closed"
    assert merged["merged_into"] == keep
    feedback = json.loads(cli("export", "feedback", "--format", "jsonl").splitlines()[-1])
    assert feedback["case_id"] == keep
    new = cli("cases", "split", str(keep), str(feedback["id"]), "--reason", "different matter")
    new_id = int(new.split("#")[1].split()[0])
    split = as_json("cases", "show", str(new_id))
    assert split["status"] == "new"
    assert split["deadlines"]
    refused = runner.invoke(app, ["cases", "merge", str(keep), str(keep)])
    assert refused.exit_code == 1


def test_a_more_urgent_complaint_brings_the_deadlines_forward(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(tmp_path / "in", [complaint("The app is a bit slow today.", at(2, 9))], now=at(2, 9))
    before = the_case(at(2, 9, 5))
    due_before = datetime.fromisoformat(deadline(before, "first_response")["due"])
    urgent = "The charger caught fire and burned my hand. My lawyer will hear about this."
    ingest(tmp_path / "in", [complaint(urgent, at(2, 9, 5))], now=at(2, 9, 5))
    after = the_case(at(2, 9, 5))
    assert after["id"] == before["id"]
    assert after["priority"] == "P1"
    # P1: one hour on the 24/7 calendar from the opening at 09:00.
    assert deadline(after, "first_response")["due"] == at(2, 10).isoformat()
    assert datetime.fromisoformat(deadline(after, "first_response")["due"]) < due_before


def test_reopen_refuses_a_case_that_is_still_open(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(tmp_path / "in", [complaint(BILLING, at(2, 9))], now=at(2, 9))
    cid = str(the_case()["id"])
    refused = runner.invoke(app, ["cases", "reopen", cid, "--reason", "again"])
    assert refused.exit_code == 1
    assert "only a resolved or closed case" in refused.output
    assert the_case()["status"] == "new"


def test_a_case_put_in_another_teams_queue_stays_there(
    desk: Callable[[], Engine], tmp_path: Path
) -> None:
    ingest(
        tmp_path / "in",
        [complaint("You charged my card twice for one order.", at(2, 9))],
        now=at(2, 9),
    )
    cid = the_case()["id"]
    assert the_case()["team"] == "Payments"
    cli(
        "cases",
        "assign",
        str(cid),
        "--team",
        "Care",
        "--reason",
        "a Care matter after all",
        "--now",
        at(2, 10).isoformat(),
    )
    as_json("tick", "--now", at(2, 11).isoformat())
    case = as_json("cases", "show", str(cid), "--now", at(2, 11).isoformat())
    # The next tick gives it to someone in Care, not back to the team owning billing.
    assert case["team"] == "Care"
    assert case["assignee"] == "carl@example.com"
