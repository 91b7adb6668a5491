"""The SLA report over cases stored in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from amends.errors import InvalidInput
from amends.reports import service
from amends.reports.cli import render
from amends.reports.schemas import SlaReportRead
from tests.reports.desk import NOW, build_desk, check_desk_report


def test_sla_report_over_the_desk(session: Session) -> None:
    build_desk(session)
    session.commit()
    report = service.sla_report(session, since=None, until=None, now=NOW)
    assert (report.since, report.until) == (NOW - timedelta(days=30), NOW)
    check_desk_report(SlaReportRead.model_validate(report).model_dump(mode="json"))


def test_window_bounds_are_half_open_and_naive_means_utc(session: Session) -> None:
    build_desk(session)
    session.commit()
    # Only case #3 was opened in the last day; `until` is exclusive of its exact opening.
    opened_3 = NOW - timedelta(hours=2)
    last_day = service.sla_report(session, since=NOW - timedelta(days=1), until=None, now=NOW)
    assert last_day.cases.opened == 1
    before = service.sla_report(
        session, since=opened_3 - timedelta(days=1), until=opened_3.replace(tzinfo=None), now=NOW
    )
    assert before.until == opened_3
    assert before.cases.opened == 0
    assert before.surveys.sent == 0
    assert before.first_response_time.median_seconds is None
    assert before.sla.first_response.attainment_pct is None


def test_running_clocks_are_judged_at_now(session: Session) -> None:
    build_desk(session)
    session.commit()
    # A day later, case #3's clocks have both gone past due without being kept.
    later = service.sla_report(
        session, since=NOW - timedelta(days=30), until=NOW, now=NOW + timedelta(days=3)
    )
    assert (later.sla.first_response.breached, later.sla.first_response.running) == (3, 0)
    assert (later.sla.resolution.breached, later.sla.resolution.running) == (2, 1)  # #6 paused


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (NOW, NOW),
        (NOW + timedelta(days=1), None),
        (NOW - timedelta(days=1), NOW - timedelta(days=2)),
    ],
)
def test_empty_window_is_refused(
    session: Session, since: datetime | None, until: datetime | None
) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        service.sla_report(session, since=since, until=until, now=NOW)


def test_text_rendering_says_wall_clock_and_shows_every_group(session: Session) -> None:
    build_desk(session)
    session.commit()
    text = "\n".join(
        render(
            SlaReportRead.model_validate(
                service.sla_report(session, since=None, until=None, now=NOW)
            )
        )
    )
    assert "wall-clock" in text
    assert "Cases: 7 opened, 4 resolved, 3 still open" in text
    for label in ("team Billing", "team unassigned", "priority none", "channel review"):
        assert label in text
    assert "NPS: +33.3 (2 promoters, 0 passives, 1 detractors of 3)" in text
    assert "CSAT: 2 answers, mean 3.50 of 5, 50.0% satisfied" in text
