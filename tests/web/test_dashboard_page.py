"""The dashboard page and its downloads, as a signed-in browser sees them.

The desk: two teams, three complaints in the week up to FIXED_NOW (Monday 2026-11-02 10:00
UTC), replies that the checker finds fault with, an offer and an open incident, all made
through the API. The page's numbers are compared with what the dashboard service says."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from tests.conftest import FIXED_NOW
from tests.web.conftest import sign_in

from amends.feedback.models import Feedback
from amends.reports.dashboard import Dashboard, dashboard
from amends.teams.models import Team
from amends.users.rules import Role

PLAYBOOK = """
name: dashboard desk
teams:
  - name: Payments
    categories: [billing, refunds]
    lead: lea@example.com
    agents:
      - {name: Lea Lead, email: lea@example.com}
      - {name: "Ann <b>Agent</b>", email: ann@example.com}
  - name: Care
    lead: carl@example.com
    agents:
      - {name: Carl Care, email: carl@example.com}
default_team: Care
sla:
  calendar: 24/7
  targets:
    P1: {first_response: 1h, next_response: 1h, resolution: 4h}
    P2: {first_response: 2h, next_response: 2h, resolution: 8h}
    P3: {first_response: 4h, next_response: 4h, resolution: 16h}
    P4: {first_response: 8h, next_response: 8h, resolution: 40h}
compensation:
  currency: GBP
  monthly_budget: 500
  amounts: {1: 0, 2: 5, 3: 15, 4: 40}
  caps: {agent: 50, lead: 150}
  voucher_expires_after: 30d
"""

BILLING = "You charged me twice for my order, please refund the second payment."
LATE = "My parcel is a week late and nobody answers my emails."
DAY = timedelta(days=1)
# The last 7 days up to FIXED_NOW, today included.
WEEK_START = datetime(2026, 10, 27, tzinfo=UTC)
WEEK_END = datetime(2026, 11, 3, tzinfo=UTC)


@dataclass(frozen=True)
class Desk:
    payments: int
    care: int
    billing_cases: tuple[int, int]
    late_case: int


def _complaint(client: TestClient, text: str, email: str, at: datetime, **extra: Any) -> int:
    body = {"text": text, "email": email, "received_at": at.isoformat(), **extra}
    r = client.post("/api/v1/feedback", json=body)
    assert r.status_code == 201, r.text
    item = client.get(f"/api/v1/feedback/{r.json()['feedback_ids'][0]}").json()
    return int(item["case_id"])


def _reply(client: TestClient, case_id: int, text: str, agent: str) -> None:
    r = client.post(
        f"/api/v1/cases/{case_id}/replies",
        json={"text": text, "agent": agent, "override": "checked by hand"},
    )
    assert r.status_code == 201, r.text


@pytest.fixture
def desk(client: TestClient, session: Session) -> Desk:
    r = client.put(
        "/api/v1/playbook", content=PLAYBOOK, headers={"Content-Type": "application/yaml"}
    )
    assert r.status_code in (200, 201), r.text
    first = _complaint(client, BILLING, "kim@example.com", FIXED_NOW - 3 * DAY)
    second = _complaint(client, BILLING, "lou@example.com", FIXED_NOW - DAY, channel="x")
    late = _complaint(client, LATE, "max@example.com", FIXED_NOW - 2 * DAY)
    _complaint(client, BILLING, "old@example.com", FIXED_NOW - 20 * DAY)  # before the week
    _reply(client, first, "We looked at it.", "ann@example.com")
    _reply(client, second, "We looked at it.", "lea@example.com")
    _reply(client, late, "We looked at it.", "carl@example.com")
    r = client.post(
        f"/api/v1/cases/{first}/offers",
        json={"kind": "voucher", "amount": "10.00", "agent": "lea@example.com"},
    )
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/incidents", json={"title": "Double charges <script>x</script>"})
    assert r.status_code == 201, r.text
    teams = dict(session.execute(select(Team.name, Team.id)).all())
    session.rollback()  # the pages share the one in-memory SQLite connection
    return Desk(teams["Payments"], teams["Care"], (first, second), late)


def service_board(session: Session, **kwargs: Any) -> Dashboard:
    """What the dashboard service says for the week, read in a transaction of its own."""
    try:
        return dashboard(session, start=WEEK_START, end=WEEK_END, now=FIXED_NOW, **kwargs)
    finally:
        session.rollback()


class _Tables(HTMLParser):
    """The rows of the tables on a page, as the text of their cells, by table id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def data_of(html: str) -> dict[str, Any]:
    found = re.findall(
        r'<script type="application/json" id="dashboard-data">(.*?)</script>', html, re.S
    )
    assert len(found) == 1, "the page carries one data block"
    data: dict[str, Any] = json.loads(found[0])
    return data


def cell(value: object) -> str:
    return "—" if value is None else str(value)


# ---- who may look --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard.csv", "/dashboard.json"])
def test_signed_out_goes_to_sign_in(web: TestClient, path: str) -> None:
    r = web.get(path)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")


# ---- the figures ---------------------------------------------------------------------------


def test_lead_sees_the_services_figures(
    web: TestClient, engine: Engine, session: Session, desk: Desk
) -> None:
    sign_in(web, engine, "boss@example.com", role=Role.LEAD)
    page = web.get("/dashboard?range=7")
    assert page.status_code == 200
    board = service_board(session)
    assert board.labels == tuple(
        f"2026-{d}" for d in ("10-27", "10-28", "10-29", "10-30", "10-31", "11-01", "11-02")
    )
    found = tables(page.text)

    channel = found["table-volume-channel"]
    keys = [s.key for s in board.volume.by_channel]
    assert channel[0] == ["Day", *keys, "Total"]
    for i, label in enumerate(board.labels):
        expected = [label, *(str(s.values[i]) for s in board.volume.by_channel)]
        assert channel[i + 1] == [*expected, str(board.volume.total[i])]
    assert sum(board.volume.total) == 3  # the complaint before the week is left out

    category = found["table-volume-category"]
    assert category[0][1:] == [s.key for s in board.volume.by_category]
    for i, label in enumerate(board.labels):
        assert category[i + 1] == [label, *(str(s.values[i]) for s in board.volume.by_category)]

    sla = found["table-sla"]
    for i, label in enumerate(board.labels):
        assert sla[i + 1][:4] == [
            label,
            str(board.sla.met[i]),
            str(board.sla.breached[i]),
            str(board.sla.running[i]),
        ]
    first = found["table-first-response"]
    for i, label in enumerate(board.labels):
        assert first[i + 1] == [
            label,
            str(board.first_response.count[i]),
            cell(board.first_response.median_hours[i]),
            cell(board.first_response.p90_hours[i]),
        ]
    (gbp,) = board.compensation
    spend = found["table-compensation-1"]
    assert [row[4] for row in spend[1:]] == [str(v) for v in gbp.spend]
    assert "GBP 10.00" in page.text  # the headline spend

    coaching = found["table-coaching"]
    assert coaching[0][:3] == ["Agent", "Replies", "Findings"]
    names = {a.email: a for a in board.coaching.agents}
    assert set(names) == {"ann@example.com", "lea@example.com", "carl@example.com"}
    rows = {row[0]: row for row in coaching[1:-1]}
    for agent in board.coaching.agents:
        (row,) = [r for key, r in rows.items() if agent.email in key]
        assert row[1:3] == [str(sum(agent.replies)), str(sum(agent.findings))]
        assert row[5] == str(sum(agent.overridden))
    total = coaching[-1]
    assert total[0] == "Everyone"
    assert total[1:3] == [
        str(sum(sum(a.replies) for a in board.coaching.agents)),
        str(sum(sum(a.findings) for a in board.coaching.agents)),
    ]
    assert sum(sum(a.findings) for a in board.coaching.agents) > 0


def test_headline_cards_sum_the_window(
    web: TestClient, engine: Engine, session: Session, desk: Desk
) -> None:
    sign_in(web, engine, "boss@example.com", role=Role.LEAD)
    data = data_of(web.get("/dashboard?range=7").text)
    board = service_board(session)
    head = data["headline"]
    assert head["feedback"] == 3
    assert head["first_response"]["cases"] == sum(board.first_response.count) == 3
    met, breached = sum(board.sla.met), sum(board.sla.breached)
    assert (head["sla"]["met"], head["sla"]["judged"]) == (met, met + breached)
    assert head["spend"] == [
        {"currency": "GBP", "offers_made": 1, "spend": "10.00", "fixes": "0.00"}
    ]
    assert head["open_incidents"] == 1
    # Every reply came a day or more after its complaint: the median is one of theirs.
    assert head["first_response"]["median_hours"] == 48.0


def test_the_data_block_holds_every_series(
    web: TestClient, engine: Engine, session: Session, desk: Desk
) -> None:
    sign_in(web, engine, "boss@example.com", role=Role.LEAD)
    page = web.get("/dashboard?range=7").text
    data = data_of(page)
    board = service_board(session).to_dict()
    for key in (
        "labels",
        "volume",
        "sentiment",
        "first_response",
        "resolution",
        "sla",
        "recovery",
        "reopen",
        "compensation",
    ):
        assert data[key] == board[key], key
    assert data["empty"] is False
    assert data["window"] == {
        "range": "7",
        "first_day": "2026-10-27",
        "last_day": "2026-11-02",
        "bucket": "day",
        "team_id": None,
    }
    assert data["coaching"]["every_agent"] is True
    assert len(data["coaching"]["agents"]) == 3
    assert data["open_incidents"][0]["title"] == "Double charges <script>x</script>"
    for chart in (
        "volume-channel",
        "volume-category",
        "sentiment",
        "first-response",
        "resolution",
        "sla",
        "rates",
        "compensation",
        "coaching",
    ):
        found = re.search(rf'<canvas id="chart-{chart}" role="img" aria-label="([^"]+)"', page)
        assert found, chart
        assert len(found.group(1)) > 40  # a sentence, not a bare name
    assert page.count("<summary>Show as table</summary>") == 9
    assert '<script src="/static/vendor/chart.umd.min.js" defer></script>' in page
    assert '<script src="/static/dashboard.js" defer></script>' in page


def test_the_page_runs_under_the_content_policy(
    web: TestClient, engine: Engine, desk: Desk
) -> None:
    sign_in(web, engine, "boss@example.com", role=Role.LEAD)
    page = web.get("/dashboard")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for tag in re.findall(r"<script[^>]*>", page.text):
        assert " src=" in tag or 'type="application/json"' in tag, tag
    assert " style=" not in page.text
    assert " onclick=" not in page.text.lower()
    for asset in (
        "/static/dashboard.js",
        "/static/dashboard.css",
        "/static/vendor/chart.umd.min.js",
    ):
        assert web.get(asset).status_code == 200, asset


# ---- the window, the buckets and the team --------------------------------------------------


def test_dates_and_week_buckets(web: TestClient, engine: Engine, desk: Desk) -> None:
    sign_in(web, engine, "boss@example.com", role=Role.LEAD)
    page = web.get("/dashboard?range=dates&from=2026-10-10&to=2026-11-02&bucket=week")
    assert page.status_code == 200
    data = data_of(page.text)
    assert data["labels"] == ["2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26", "2026-11-02"]
    assert data["volume"]["total"] == [0, 1, 0, 3, 0]  # the old complaint is in
    assert data["headline"]["feedback"] == 4
    assert '<option value="week" selected>' in page.text
    assert '<option value="dates" selected>' in page.text
    assert 'value="2026-10-10"' in page.text
    assert tables(page.text)["table-sla"][0][0] == "Week from"
    # The download links repeat the window.
    assert "/dashboard.csv?range=dates&amp;from=2026-10-10&amp;to=2026-11-02&amp;bucket=week" in (
        page.text
    )


def test_dates_alone_mean_the_dates_and_the_default_is_thirty_days(
    web: TestClient, engine: Engine, desk: Desk
) -> None:
    sign_in(web, engine, "boss@example.com", role=Role.LEAD)
    data = data_of(web.get("/dashboard?from=2026-11-01").text)
    assert data["window"]["range"] == "dates"
    assert data["labels"] == ["2026-11-01", "2026-11-02"]
    data = data_of(web.get("/dashboard").text)
    assert (data["window"]["range"], len(data["labels"])) == ("30", 30)
    assert data["labels"][-1] == "2026-11-02"


def test_a_lead_picks_one_team(web: TestClient, engine: Engine, desk: Desk) -> None:
    sign_in(web, engine, "boss@example.com", role=Role.LEAD)
    page = web.get(f"/dashboard?range=7&team={desk.care}")
    assert page.status_code == 200
    data = data_of(page.text)
    assert data["team_ids"] == [desk.care]
    assert data["headline"]["feedback"] == 1
    assert [a["email"] for a in data["coaching"]["agents"]] == ["carl@example.com"]
    assert f'<option value="{desk.care}" selected>Care</option>' in page.text
    assert f'<option value="{desk.payments}">Payments</option>' in page.text
    assert "team Care" in page.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("range=5", "The window must be the last 7, 30 or 90 days"),
        ("bucket=month", "Figures are shown per day or per week"),
        ("range=dates&from=2026-13-01", "The first day is not a date"),
        ("range=dates", "Choose the first day of the window"),
        ("range=dates&from=2026-11-02&to=2026-10-01", "is after the last day"),
        ("range=dates&from=0001-01-01", "must fall between"),
        ("range=dates&from=2020-01-01&to=2026-11-02", "at most 400 fit on a chart"),
        ("team=abc", "Choose a team from the list"),
        ("team=99999", "There is no such team"),
        ("team=" + "9" * 40, "Choose a team from the list"),
    ],
)
def test_bad_parameters_get_the_form_back_with_the_reason(
    web: TestClient, engine: Engine, query: str, message: str
) -> None:
    sign_in(web, engine, "boss@example.com", role=Role.LEAD)
    page = web.get(f"/dashboard?{query}")
    assert page.status_code == 422
    assert "text/html" in page.headers["content-type"]
    alert = re.search(r'<p class="alert" role="alert">([^<]*)</p>', page.text)
    assert alert is not None
    assert message in alert.group(1)
    assert '<form method="get" action="/dashboard"' in page.text
    assert 'id="dashboard-data"' not in page.text
    for download in ("/dashboard.csv", "/dashboard.json"):
        r = web.get(f"{download}?{query}")
        assert r.status_code == 422, download


def test_an_agent_sees_their_teams_only(web: TestClient, engine: Engine, desk: Desk) -> None:
    sign_in(web, engine, "ann@example.com")  # an agent of Payments
    page = web.get("/dashboard?range=7")
    assert page.status_code == 200
    data = data_of(page.text)
    assert data["team_ids"] == [desk.payments]
    assert data["headline"]["feedback"] == 2  # not Care's late parcel
    assert "All my teams" in page.text
    assert f'<option value="{desk.payments}">Payments</option>' in page.text
    assert ">Care</option>" not in page.text

    for path in ("/dashboard", "/dashboard.csv", "/dashboard.json"):
        r = web.get(f"{path}?range=7&team={desk.care}")
        assert r.status_code == 403, path
        assert "Care" not in r.text
    assert web.get(f"/dashboard?range=7&team={desk.payments}").status_code == 200


def test_an_agent_sees_their_own_coaching_row_and_the_teams_total(
    web: TestClient, engine: Engine, session: Session, desk: Desk
) -> None:
    sign_in(web, engine, "ann@example.com")
    page = web.get("/dashboard?range=7")
    data = data_of(page.text)
    board = service_board(session, team_ids=frozenset({desk.payments}))
    (ann,) = data["coaching"]["agents"]
    assert ann["email"] == "ann@example.com"
    assert data["coaching"]["every_agent"] is False
    both = sum(sum(a.findings) for a in board.coaching.agents)
    assert data["coaching"]["total"]["window"]["findings"] == both
    assert data["coaching"]["total"]["window"]["replies"] == 2  # Ann's and Lea's
    rows = tables(page.text)["table-coaching"]
    assert len(rows) == 3  # the head, Ann, the total
    assert rows[-1][0] == "Your teams' total"
    assert "lea@example.com" not in page.text
    assert "Lea Lead" not in page.text
    csv_text = web.get("/dashboard.csv?range=7").text
    assert "ann@example.com" in csv_text
    assert "lea@example.com" not in csv_text


def test_an_agent_in_no_team_is_told_so(web: TestClient, engine: Engine, desk: Desk) -> None:
    sign_in(web, engine, "new@example.com")
    page = web.get("/dashboard?range=7")
    assert page.status_code == 200
    assert "You are not in a team yet" in page.text
    assert data_of(page.text)["headline"]["feedback"] == 0


# ---- nothing yet ---------------------------------------------------------------------------


def test_empty_window_says_how_feedback_arrives(web: TestClient, engine: Engine) -> None:
    sign_in(web, engine, "boss@example.com", role=Role.LEAD)
    page = web.get("/dashboard")
    assert page.status_code == 200
    assert "No feedback in this window" in page.text
    assert "amends ingest" in page.text
    assert "POST /api/v1/feedback" in page.text
    assert "amends mailbox add" in page.text
    assert "<canvas" not in page.text
    assert data_of(page.text)["empty"] is True
    assert "none open now" in page.text


# ---- downloads -----------------------------------------------------------------------------


def test_csv_download_has_every_series(
    web: TestClient, engine: Engine, session: Session, desk: Desk
) -> None:
    sign_in(web, engine, "boss@example.com", role=Role.LEAD)
    r = web.get("/dashboard.csv?range=7")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == (
        'attachment; filename="amends-dashboard-2026-10-27-2026-11-02.csv"'
    )
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["figure", "key", "bucket_start", "value"]
    board = service_board(session)
    totals = [row for row in rows if row[0] == "feedback"]
    assert [(row[2], int(row[3])) for row in totals] == list(
        zip(board.labels, board.volume.total, strict=True)
    )
    figures = {row[0] for row in rows}
    assert {
        "feedback_by_channel",
        "feedback_by_category",
        "sentiment_mean",
        "first_response_median_hours",
        "resolution_p90_hours",
        "sla_attainment_pct",
        "recovery_rate_pct",
        "reopen_rate_pct",
        "compensation_spend",
        "coaching_findings",
        "coaching_findings_by_rule",
        "coaching_total_findings",
    } <= figures
    spend = [row[3] for row in rows if row[0] == "compensation_spend" and row[1] == "GBP"]
    assert spend == [str(v) for v in board.compensation[0].spend]
    medians = [row[3] for row in rows if row[0] == "first_response_median_hours"]
    assert medians == ["" if v is None else str(v) for v in board.first_response.median_hours]


def test_json_download_is_the_pages_data(web: TestClient, engine: Engine, desk: Desk) -> None:
    sign_in(web, engine, "boss@example.com", role=Role.LEAD)
    query = f"range=dates&from=2026-10-20&to=2026-11-02&bucket=week&team={desk.payments}"
    r = web.get(f"/dashboard.json?{query}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert "attachment" in r.headers["content-disposition"]
    assert r.json() == data_of(web.get(f"/dashboard?{query}").text)


# ---- escaping ------------------------------------------------------------------------------


def test_names_from_the_data_are_escaped(
    web: TestClient, engine: Engine, session: Session, desk: Desk
) -> None:
    # A company taxonomy or an import can name a category anything.
    session.execute(
        update(Feedback)
        .where(Feedback.case_id == desk.late_case)
        .values(category="<script>alert(1)</script>")
    )
    session.execute(
        update(Feedback)
        .where(Feedback.case_id == desk.billing_cases[1])
        .values(category='=HYPERLINK("http://x")')
    )
    session.commit()
    sign_in(web, engine, "boss@example.com", role=Role.LEAD)
    page = web.get("/dashboard?range=7").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # in the table and the summary
    assert "<b>Agent</b>" not in page
    assert "Ann &lt;b&gt;Agent&lt;/b&gt;" in page
    assert "Double charges &lt;script&gt;x&lt;/script&gt;" in page
    # In the data block the markup is JSON-escaped, so it cannot close the script element.
    block = re.search(r'id="dashboard-data">(.*?)</script>', page, re.S)
    assert block is not None
    assert "<" not in block.group(1)
    data = data_of(page)
    assert "<script>alert(1)</script>" in [s["key"] for s in data["volume"]["by_category"]]

    rows = list(csv.reader(io.StringIO(web.get("/dashboard.csv?range=7").text)))
    keys = {row[1] for row in rows if row[0] == "feedback_by_category"}
    assert '\'=HYPERLINK("http://x")' in keys  # a spreadsheet shows it, never runs it
    assert "<script>alert(1)</script>" in keys
