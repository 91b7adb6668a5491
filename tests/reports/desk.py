"""A small desk of cases with known SLA outcomes, shared by the report tests.

Expected figures, as of NOW (T0 = NOW - 5 days):
  #1 Billing  P1 email   first response met, resolution met (resolved)
  #2 Billing  P2 email   first response late, resolution running past due; next-response breach
  #3 Returns  P2 x       both clocks running (opened 2 hours ago)
  #4 (none)   -  chat    first response in "breaches" though kept in time; resolution met;
                         closed, reopened once
  #5 (none)   P3 web     no due times (not counted for the clocks); resolved
  #6 Returns  P1 email   first response met; resolution paused before its due: running
  #7 Returns  P3 review  resolved before any reply and before both dues: both met
  left out: a case merged into #1, and one opened before the window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from amends.cases.models import Case
from amends.cases.rules import CaseStatus
from amends.customers.models import Customer
from amends.feedback.rules import Channel
from amends.followups.models import FollowUp, FollowUpStatus, SurveyScale
from amends.teams.models import Team

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
T0 = NOW - timedelta(days=5)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
_nonces = count(1)


def _case(session: Session, customer: Customer, **values: Any) -> Case:
    values.setdefault("status", CaseStatus.IN_PROGRESS)
    values.setdefault("opened_at", T0)
    values.setdefault("channel", Channel.EMAIL)
    case = Case(
        customer_id=customer.id,
        subject="a complaint",
        public=False,
        updated_at=values["opened_at"],
        **values,
    )
    session.add(case)
    session.flush()
    return case


def _followup(
    session: Session, case: Case, scale: SurveyScale, score: int | None, *, sent: bool = True
) -> None:
    answered = score is not None
    status = (
        FollowUpStatus.ANSWERED
        if answered
        else (FollowUpStatus.SENT if sent else FollowUpStatus.SCHEDULED)
    )
    session.add(
        FollowUp(
            case_id=case.id,
            status=status,
            scale=scale,
            nonce=f"nonce-{next(_nonces)}",
            due_at=T0 + D,
            sent_at=T0 + D if sent else None,
            answered_at=T0 + 2 * D if answered else None,
            score=score,
            created_at=T0,
        )
    )


def build_desk(session: Session) -> None:
    """Insert the cases above and their follow-ups; the caller commits."""
    customer = Customer(name="Ana", created_at=T0 - D)
    billing = Team(name="Billing", created_at=T0 - D)
    returns = Team(name="Returns", created_at=T0 - D)
    session.add_all([customer, billing, returns])
    session.flush()
    c1 = _case(
        session,
        customer,
        status=CaseStatus.RESOLVED,
        team_id=billing.id,
        priority="P1",
        first_response_due=T0 + H,
        first_responded_at=T0 + 30 * M,
        resolution_due=T0 + D,
        resolved_at=T0 + 10 * H,
    )
    _case(
        session,
        customer,
        team_id=billing.id,
        priority="P2",
        first_response_due=T0 + H,
        first_responded_at=T0 + 2 * H,
        resolution_due=T0 + D,
        breaches=["next_response"],
    )
    _case(
        session,
        customer,
        status=CaseStatus.NEW,
        team_id=returns.id,
        priority="P2",
        channel=Channel.X,
        opened_at=NOW - 2 * H,
        first_response_due=NOW + H,
        resolution_due=NOW + 2 * D,
    )
    c4 = _case(
        session,
        customer,
        status=CaseStatus.CLOSED,
        channel=Channel.CHAT,
        first_response_due=T0 + H,
        first_responded_at=T0 + 10 * M,
        resolution_due=T0 + D,
        resolved_at=T0 + 3 * H,
        closed_at=T0 + 4 * H,
        breaches=["first_response"],
        reopened_count=1,
    )
    c5 = _case(
        session,
        customer,
        status=CaseStatus.RESOLVED,
        priority="P3",
        channel=Channel.WEB,
        resolved_at=T0 + 2 * D,
    )
    _case(
        session,
        customer,
        status=CaseStatus.WAITING_ON_CUSTOMER,
        team_id=returns.id,
        priority="P1",
        opened_at=NOW - 3 * D,
        first_response_due=NOW - 3 * D + 2 * H,
        first_responded_at=NOW - 3 * D + H,
        resolution_due=NOW - H,
        paused_at=NOW - 2 * D,
    )
    c7 = _case(
        session,
        customer,
        status=CaseStatus.RESOLVED,
        team_id=returns.id,
        priority="P3",
        channel=Channel.REVIEW,
        first_response_due=T0 + H,
        resolution_due=T0 + 4 * H,
        resolved_at=T0 + 30 * M,
    )
    merged = _case(
        session,
        customer,
        status=CaseStatus.CLOSED,
        team_id=billing.id,
        priority="P1",
        first_response_due=T0 + H,
        resolution_due=T0 + D,
        breaches=["first_response", "resolution"],
        merged_into_id=c1.id,
        closed_at=T0 + 20 * H,
    )
    old = _case(
        session,
        customer,
        priority="P1",
        opened_at=NOW - 40 * D,
        first_response_due=NOW - 40 * D + H,
        resolution_due=NOW - 39 * D,
    )
    _followup(session, c1, SurveyScale.CSAT, 5)
    _followup(session, c4, SurveyScale.CSAT, 2)
    _followup(session, c5, SurveyScale.CSAT, None)  # sent, not answered
    _followup(session, c7, SurveyScale.NPS, 10)
    _followup(session, c5, SurveyScale.NPS, 6)
    _followup(session, c4, SurveyScale.NPS, 9)
    _followup(session, c7, SurveyScale.CSAT, None, sent=False)  # not sent yet
    _followup(session, merged, SurveyScale.CSAT, 1)  # left out with its case
    _followup(session, old, SurveyScale.NPS, 0)  # left out with its case
    session.flush()


def group(groups: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(g for g in groups if g["key"] == key)


def clock(met: int, breached: int, running: int, pct: float | None) -> dict[str, Any]:
    return {"met": met, "breached": breached, "running": running, "attainment_pct": pct}


def check_desk_report(report: dict[str, Any]) -> None:
    """Assert the figures of `build_desk`'s report, as JSON (the API's and the CLI's shape)."""
    assert report["cases"] == {"opened": 7, "resolved": 4, "open": 3}
    assert report["time_basis"] == "wall-clock"
    # First responses: 10m, 30m, 1h, 2h; resolutions: 30m, 3h, 10h, 2d.
    assert report["first_response_time"] == {
        "count": 4,
        "median_seconds": 2700.0,
        "median": "45m",
        "p90_seconds": 6120.0,  # 1h + 0.7 * (2h - 1h)
        "p90": "1h 42m",
    }
    assert report["resolution_time"] == {
        "count": 4,
        "median_seconds": 23400.0,
        "median": "6h 30m",
        "p90_seconds": 131760.0,  # 10h + 0.7 * (2d - 10h)
        "p90": "1d 12h",
    }
    sla = report["sla"]
    assert sla["cases"] == 7
    assert sla["first_response"] == clock(3, 2, 1, 60.0)
    assert sla["resolution"] == clock(3, 1, 2, 75.0)
    assert sla["next_response_breached"] == 1

    assert [g["key"] for g in report["by_team"]] == ["Billing", "Returns", "unassigned"]
    billing = group(report["by_team"], "Billing")
    assert (billing["cases"], billing["next_response_breached"]) == (2, 1)
    assert billing["first_response"] == clock(1, 1, 0, 50.0)
    assert billing["resolution"] == clock(1, 1, 0, 50.0)
    returns = group(report["by_team"], "Returns")
    assert returns["first_response"] == clock(2, 0, 1, 100.0)
    assert returns["resolution"] == clock(1, 0, 2, 100.0)
    unassigned = group(report["by_team"], "unassigned")
    assert unassigned["cases"] == 2
    assert unassigned["first_response"] == clock(0, 1, 0, 0.0)
    assert unassigned["resolution"] == clock(1, 0, 0, 100.0)

    assert [g["key"] for g in report["by_priority"]] == ["P1", "P2", "P3", "none"]
    assert group(report["by_priority"], "P1")["resolution"] == clock(1, 0, 1, 100.0)
    assert group(report["by_priority"], "P2")["first_response"] == clock(0, 1, 1, 0.0)
    assert group(report["by_priority"], "P3")["cases"] == 2
    assert group(report["by_priority"], "none")["first_response"] == clock(0, 1, 0, 0.0)

    assert [g["key"] for g in report["by_channel"]] == ["chat", "email", "review", "web", "x"]
    email = group(report["by_channel"], "email")
    assert email["cases"] == 3
    assert email["first_response"] == clock(2, 1, 0, 66.7)
    assert email["resolution"] == clock(1, 1, 1, 50.0)
    assert group(report["by_channel"], "web")["first_response"] == clock(0, 0, 0, None)

    assert report["reopen"] == {"resolved": 4, "reopened": 1, "rate_pct": 25.0}
    assert report["surveys"] == {
        "sent": 6,
        "answered": 5,
        "response_rate_pct": 83.3,
        "csat": {"answered": 2, "mean": 3.5, "satisfied_pct": 50.0},
        "nps": {"answered": 3, "promoters": 2, "passives": 0, "detractors": 1, "score": 33.3},
    }
