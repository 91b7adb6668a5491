"""The queue page as a signed-in browser sees it: open cases by urgency with what an agent reads
at a glance, the filters and the search, paging, who sees which team's cases, the empty states,
and assigning many cases at once (with its CSRF token, within the agent's teams).

The desk runs the example playbook (teams Payments, Deliveries and Care) with four complaints
taken in through the API, and is read at FIXED_NOW (Monday 10:00 UTC)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from tests.conftest import FIXED_NOW
from tests.web.conftest import SignedIn, sign_in

from amends.cases.models import Case, CaseEvent
from amends.customers.rules import IdentityKind, IdentityRef
from amends.customers.service import import_crm
from amends.db import session_scope
from amends.feedback.rules import Channel
from amends.feedback.service import ingest
from amends.playbook.service import example_source
from amends.sources.base import Item
from amends.teams.models import Agent, Team
from amends.users.rules import Role

LEAD = "boss@example.com"  # a lead: every team's cases
TOM = "tom@example.com"  # an agent of Payments in the example playbook
SAM = "sam@example.com"  # an agent of Deliveries
# Fourteen orders make Kim a loyal customer (ten are enough).
CRM = "name,email,customer_since,order_count,lifetime_value\nKim Lee,kim@example.com,,14,600\n"
HOSTILE = "<script>alert('x')</script>"


@dataclass(frozen=True)
class Desk:
    billing: int  # Payments, email, opened six days ago: its first response is late
    late: int  # Deliveries, a public post on X with 12,000 followers
    crash: int  # Care's queue, nobody's yet, on chat
    waiting: int  # Payments, waiting on the customer: hidden unless asked for
    teams: dict[str, int]
    agents: dict[str, int]  # by email


def complaint(client: TestClient, text: str, at: datetime, **extra: Any) -> int:
    """Take a complaint in through the API; the case it opened or joined."""
    r = client.post("/api/v1/feedback", json={"text": text, "received_at": at.isoformat(), **extra})
    assert r.status_code == 201, r.text
    item = client.get(f"/api/v1/feedback/{r.json()['feedback_ids'][0]}").json()
    return int(item["case_id"])


@pytest.fixture
def desk(client: TestClient, engine: Engine, tmp_path: Path) -> Desk:
    r = client.put(
        "/api/v1/playbook",
        content=example_source().encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert r.status_code == 200, r.text
    crm = tmp_path / "crm.csv"
    crm.write_text(CRM, encoding="utf-8")
    with session_scope(engine) as s:
        import_crm(s, crm, now=FIXED_NOW - timedelta(days=30), default_region="GB")
    billing = complaint(
        client,
        "You charged me twice for my order, please refund the second payment.",
        FIXED_NOW - timedelta(days=6),
        channel="email",
        email="kim@example.com",
        author_name="Kim Lee",
        subject="Charged twice",
    )
    late = complaint(
        client,
        "My parcel is a week late and nobody answers my emails. Where is it?",
        FIXED_NOW - timedelta(minutes=20),
        channel="x",
        handle="@maxmoe",
        platform="x",
        author_name="Max Moe",
        public=True,
        reach=12_000,
    )
    crash = complaint(
        client,
        "The app crashes every time I open my account page. Annoying.",
        FIXED_NOW - timedelta(hours=1),
        channel="chat",
        email="ola@example.com",
        author_name="Ola Berg",
    )
    waiting = complaint(
        client,
        "Still waiting for my refund on order 1234 after 3 weeks, this is ridiculous.",
        FIXED_NOW - timedelta(hours=2),
        channel="email",
        email="ana@example.com",
        author_name="Ana Lopez",
        subject="Refund still missing",
    )
    # Owners as the page expects them, whatever automatic assignment chose.
    for case_id, owner in (
        (billing, {"assignee": "priya@example.com"}),
        (late, {"assignee": SAM}),
        (crash, {"team": "Care"}),
        (waiting, {"assignee": "priya@example.com"}),
    ):
        r = client.post(f"/api/v1/cases/{case_id}/assign", json=owner)
        assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/cases/{waiting}/status",
        json={"status": "waiting_on_customer", "agent": "priya@example.com"},
    )
    assert r.status_code == 200, r.text
    with session_scope(engine) as s:
        teams = {name: int(i) for name, i in s.execute(select(Team.name, Team.id))}
        agents = {email: int(i) for email, i in s.execute(select(Agent.email, Agent.id))}
    return Desk(billing, late, crash, waiting, teams, agents)


@pytest.fixture
def lead(web: TestClient, engine: Engine, desk: Desk) -> SignedIn:
    return sign_in(web, engine, LEAD, role=Role.LEAD, name="Bea Boss")


@pytest.fixture
def tom(web: TestClient, engine: Engine, desk: Desk) -> SignedIn:
    return sign_in(web, engine, TOM)


# ---- reading the page ---------------------------------------------------------------------------


def listed(page: str) -> list[int]:
    """The ids of the cases a page lists, top to bottom."""
    return [int(n) for n in re.findall(r'<input type="checkbox" name="case" value="(\d+)"', page)]


def row_of(page: str, case_id: int) -> str:
    """The markup of one case's row."""
    found = re.search(
        rf'<tr class="[^"]*">\s*<td><input type="checkbox" name="case" value="{case_id}".*?</tr>',
        page,
        re.S,
    )
    assert found, f"case {case_id} is not on the page"
    return found.group(0)


def words(markup: str) -> str:
    """The text of some markup, tags dropped and whitespace collapsed."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())
    return re.sub(r" ([,.])", r"\1", text)


def alert_of(page: str) -> str | None:
    """The words of the page's alert, if it has one."""
    found = re.search(r'<p class="alert" role="alert">(.*?)</p>', page, re.S)
    return words(found.group(1)) if found else None


def select_of(page: str, name: str) -> str:
    """The markup of the filter form's dropdown `name`."""
    found = re.search(rf'<select id="f-{name}" name="{name}">.*?</select>', page, re.S)
    assert found, f"no {name} dropdown"
    return found.group(0)


def queue(web: TestClient, query: str = "") -> str:
    page = web.get(f"/queue?{query}" if query else "/queue")
    assert page.status_code == 200, page.text
    return page.text


def pager_links(page: str) -> dict[str, dict[str, list[str]]]:
    """The pager's links by rel (prev, next), as parsed query strings."""
    return {
        rel: parse_qs(urlsplit(html.unescape(href)).query)
        for href, rel in re.findall(r'<a href="([^"]+)" rel="(prev|next)">', page)
    }


def case_row(engine: Engine, case_id: int) -> Case:
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        s.expunge(case)
        return case


def events(engine: Engine, case_id: int, kind: str) -> list[CaseEvent]:
    with session_scope(engine) as s:
        found = list(
            s.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
                .order_by(CaseEvent.id)
            )
        )
        s.expunge_all()
        return found


def test_signed_out_are_sent_to_sign_in(web: TestClient, engine: Engine, desk: Desk) -> None:
    page = web.get("/queue?status=new")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fqueue%3Fstatus%3Dnew"
    posted = web.post("/queue/assign", data={"case": desk.billing, "to": f"agent:{TOM}"})
    assert posted.status_code == 303
    assert posted.headers["location"].startswith("/login?next=")
    assert case_row(engine, desk.billing).assignee_id != desk.agents[TOM]


def test_lead_sees_open_cases_by_urgency(
    web: TestClient, client: TestClient, lead: SignedIn
) -> None:
    page = queue(web)
    api = client.get("/api/v1/queue").json()
    assert listed(page) == [row["id"] for row in api["items"]]
    assert "3 cases" in words(page)
    # Priority first, then the nearest deadline.
    shown = [
        (
            re.search(r'<span class="prio (p\d)">', row_of(page, case_id)),
            re.search(r'<time class="countdown" datetime="([^"]+)"', row_of(page, case_id)),
        )
        for case_id in listed(page)
    ]
    urgency = []
    for prio, due in shown:
        assert prio
        assert due
        urgency.append((prio.group(1), datetime.fromisoformat(due.group(1))))
    assert urgency == sorted(urgency)


def test_each_row_says_what_an_agent_reads_at_a_glance(
    web: TestClient, client: TestClient, lead: SignedIn, desk: Desk
) -> None:
    page = queue(web)
    cases = {row["id"]: row for row in client.get("/api/v1/queue").json()["items"]}

    late = row_of(page, desk.late)
    assert f'<span class="prio {cases[desk.late]["priority"].lower()}">' in late
    assert f'<a href="/cases/{desk.late}">' in late
    assert "Max Moe" in words(late)
    assert "x public 12,000 followers" in words(late)
    assert "delivery delay" in words(late)
    feeling = re.search(r'<span class="feeling ([a-z_]+)">([a-z ]+)</span>', late)
    assert feeling
    assert feeling.group(1).replace("_", " ") == feeling.group(2)
    assert "negative" in feeling.group(2)
    assert '<span class="badge loyalty new">new</span>' in late
    due = re.search(r'<time class="countdown" datetime="([^"]+)"', late)
    assert due
    assert datetime.fromisoformat(due.group(1)) == datetime.fromisoformat(
        cases[desk.late]["next_due_at"]
    )
    assert datetime.fromisoformat(due.group(1)) > FIXED_NOW
    assert "breached" not in words(late)
    assert "Sam Okafor Deliveries" in words(late)

    billing = row_of(page, desk.billing)
    assert '<tr class="is-breached">' in billing
    assert "breached" in words(billing)
    assert '<span class="badge loyalty loyal">loyal</span>' in billing
    assert "Kim Lee" in words(billing)
    assert "email" in words(billing)
    assert "public" not in words(billing)
    late_due = re.search(r'<time class="countdown" datetime="([^"]+)"', billing)
    assert late_due
    assert datetime.fromisoformat(late_due.group(1)) < FIXED_NOW

    crash = row_of(page, desk.crash)
    assert "unassigned Care" in words(crash)
    assert "chat" in words(crash)


def test_the_page_runs_its_scripts_from_files(web: TestClient, lead: SignedIn) -> None:
    page = web.get("/queue")
    assert '<script src="/static/countdown.js" defer></script>' in page.text
    assert '<script src="/static/queue.js" defer></script>' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert web.get("/static/queue.js").status_code == 200


def test_a_paused_case_shows_paused_not_a_countdown(
    web: TestClient, lead: SignedIn, desk: Desk
) -> None:
    page = queue(web, "status=all")
    assert desk.waiting in listed(page)
    waiting = row_of(page, desk.waiting)
    assert "waiting on customer" in words(waiting)
    assert "paused" in words(waiting)
    assert "countdown" not in waiting


# ---- filters and search -------------------------------------------------------------------------


# Each query string, and the desk's cases it leaves on a lead's page.
NARROWING: tuple[tuple[str, set[str]], ...] = (
    ("", {"billing", "late", "crash"}),  # waiting on the customer: hidden unless asked for
    ("status=all", {"billing", "late", "crash", "waiting"}),
    ("status=waiting_on_customer", {"waiting"}),
    ("status=new", {"billing", "late", "crash"}),
    ("status=in_progress", set()),
    ("channel=x", {"late"}),
    ("channel=chat", {"crash"}),
    ("channel=email&status=all", {"billing", "waiting"}),
    ("category=delivery_delay", {"late"}),
    ("category=no_such_category", set()),
    ("public=1", {"late"}),
    ("breached=1", {"billing"}),
    ("breached=1&channel=x", set()),
    ("assignee=unassigned", {"crash"}),
    ("q=Kim", {"billing"}),
    ("q=kim+lee", {"billing"}),
    ("q=%40maxmoe", {"late"}),
    ("q=ola%40example.com", {"crash"}),
    ("q=charged", {"billing"}),
    ("q=lopez&status=all", {"waiting"}),
    ("q=lopez", set()),
    ("q=nobody+by+that+name", set()),
    ("q=%25", set()),  # LIKE's wildcards are searched for as text, not as wildcards
    ("q=_", set()),
)


def test_filters_and_search_narrow_the_list(web: TestClient, lead: SignedIn, desk: Desk) -> None:
    for query, expected in NARROWING:
        wanted = {getattr(desk, name) for name in expected}
        assert set(listed(queue(web, query))) == wanted, query


def test_filter_by_team_assignee_and_priority(
    web: TestClient, client: TestClient, lead: SignedIn, desk: Desk
) -> None:
    assert set(listed(queue(web, f"team={desk.teams['Payments']}"))) == {desk.billing}
    assert set(listed(queue(web, f"team={desk.teams['Payments']}&status=all"))) == {
        desk.billing,
        desk.waiting,
    }
    assert listed(queue(web, f"assignee={desk.agents[SAM]}")) == [desk.late]
    by_priority: dict[str, set[int]] = {}
    for row in client.get("/api/v1/queue").json()["items"]:
        by_priority.setdefault(row["priority"], set()).add(row["id"])
    for priority, ids in by_priority.items():
        assert set(listed(queue(web, f"priority={priority}"))) == ids
    empty = next(p for p in ("P1", "P2", "P3", "P4") if p not in by_priority)
    assert listed(queue(web, f"priority={empty}")) == []


def test_search_by_case_number(web: TestClient, lead: SignedIn, desk: Desk) -> None:
    assert listed(queue(web, f"q=%23{desk.crash}")) == [desk.crash]
    assert listed(queue(web, f"q=%23+{desk.late}")) == [desk.late]
    assert listed(queue(web, "q=%23999999999999")) == []


def test_mine_is_the_signed_in_agents_cases(web: TestClient, engine: Engine, desk: Desk) -> None:
    sign_in(web, engine, SAM)
    assert listed(queue(web, "assignee=me")) == [desk.late]
    sign_in(web, engine, LEAD, role=Role.LEAD)
    assert listed(queue(web, "assignee=me")) == []  # a lead who is no agent has none


def test_filters_show_what_was_chosen(web: TestClient, lead: SignedIn, desk: Desk) -> None:
    page = queue(web, "channel=x&public=1&q=parcel&sort=newest")
    assert '<option value="x" selected>' in page
    assert '<input type="checkbox" name="public" value="1" checked>' in page
    assert 'value="parcel"' in page
    assert '<option value="newest" selected>' in page
    assert '<a href="/queue">Clear filters</a>' in page
    assert "Clear filters" not in queue(web)


def test_orders(web: TestClient, lead: SignedIn, desk: Desk) -> None:
    newest = listed(queue(web, "sort=newest"))
    assert newest == [desk.late, desk.crash, desk.billing]
    assert listed(queue(web, "sort=oldest")) == list(reversed(newest))


def test_the_dropdowns_count_open_cases(web: TestClient, lead: SignedIn, desk: Desk) -> None:
    page = queue(web)
    assert re.search(r'<option value="waiting_on_customer"\s*>waiting on customer \(1\)', page)
    assert re.search(rf'<option value="{desk.teams["Payments"]}"\s*>Payments \(2\)', page)
    assert re.search(r'<option value="delivery_delay"\s*>delivery delay \(1\)', page)


# ---- bad values ---------------------------------------------------------------------------------


# A query string that means nothing, and what the page says about it.
REFUSED: tuple[tuple[str, str], ...] = (
    ("status=bogus", "unknown status: 'bogus'"),
    ("channel=fax", "unknown channel: 'fax'"),
    ("priority=P9", "unknown priority: 'P9'"),
    ("priority=p1", "unknown priority: 'p1'"),
    ("team=payments", "unknown team: 'payments'"),
    ("team=-1", "unknown team: '-1'"),
    ("team=%C2%B2", "unknown team: '²'"),  # a digit to str.isdigit(), not to int()
    ("team=2147483648", "unknown team: '2147483648'"),  # past PostgreSQL's integer
    ("team=99999999999999999999", "unknown team: '99999999999999999999'"),  # past SQLite's
    ("assignee=bob", "unknown assignee: 'bob'"),
    ("assignee=%D9%A3", "unknown assignee: '٣'"),
    ("assignee=99999999999999999999", "unknown assignee: '99999999999999999999'"),
    ("sort=sideways", "unknown order: 'sideways'"),
    ("public=maybe", "public is a yes or no, not 'maybe'"),
    ("breached=2", "breached is a yes or no, not '2'"),
)


def test_a_bad_filter_value_is_refused_in_words(
    web: TestClient, lead: SignedIn, desk: Desk
) -> None:
    for query, reason in REFUSED:
        page = web.get(f"/queue?{query}")
        assert page.status_code == 422, query
        assert page.headers["content-type"].startswith("text/html"), query
        assert alert_of(page.text) == reason, query


def test_a_bad_page_number_or_size_is_refused_not_an_error(
    web: TestClient, lead: SignedIn, desk: Desk
) -> None:
    for query in ("page=0", "page=abc", "page=100001", "per=0", "per=101", "q=" + "x" * 201):
        assert web.get(f"/queue?{query}").status_code == 422, query


def test_tick_boxes_read_as_people_type_them(web: TestClient, lead: SignedIn, desk: Desk) -> None:
    box = '<input type="checkbox" name="public" value="1" checked>'
    for value, ticked in (("on", True), ("TRUE", True), ("0", False), ("no", False)):
        page = queue(web, f"public={value}")
        every = {desk.billing, desk.late, desk.crash}
        assert set(listed(page)) == ({desk.late} if ticked else every), value
        assert (box in page) is ticked, value
        assert ("Clear filters" in page) is ticked, value


def test_a_page_past_the_end_lists_nothing(web: TestClient, lead: SignedIn, desk: Desk) -> None:
    page = queue(web, "page=40")
    assert listed(page) == []
    assert "3 cases" in words(page)


# ---- paging -------------------------------------------------------------------------------------


@pytest.fixture
def crowd(engine: Engine, desk: Desk) -> list[int]:
    """Thirty more open complaints by email about late parcels, all in one batch."""
    items = [
        Item(
            Channel.EMAIL,
            f"My parcel {1000 + n} is a week late and nobody tells me where it is.",
            FIXED_NOW - timedelta(hours=3, minutes=n),
            source_id=f"crowd-{n}",
            author_name=f"Crowd Member {n}",
            identities=(IdentityRef(IdentityKind.EMAIL, f"crowd{n}@example.com"),),
            subject=f"Parcel {1000 + n}",
        )
        for n in range(30)
    ]
    with session_scope(engine) as s:
        ingest(s, items, origin="test", fmt="feedback", now=FIXED_NOW)
        crowd_ids = s.scalars(select(Case.id).where(Case.subject.like("Parcel %"))).all()
    assert len(crowd_ids) == 30
    return sorted(crowd_ids)


def test_paging_keeps_the_filters_and_the_page_size(
    web: TestClient, lead: SignedIn, desk: Desk, crowd: list[int]
) -> None:
    query = "channel=email&q=parcel&per=25"
    first = queue(web, query)
    assert len(listed(first)) == 25
    assert "page 1 of 2" in words(first)
    assert "30 cases" in words(first)
    links = pager_links(first)
    assert set(links) == {"next"}
    assert links["next"] == {
        "channel": ["email"],
        "q": ["parcel"],
        "per": ["25"],
        "page": ["2"],
    }
    second = queue(web, query + "&page=2")
    assert len(listed(second)) == 5
    assert "page 2 of 2" in words(second)
    links = pager_links(second)
    assert set(links) == {"prev"}
    assert links["prev"]["per"] == ["25"]
    assert links["prev"]["channel"] == ["email"]
    assert links["prev"]["page"] == ["1"]
    assert sorted(listed(first) + listed(second)) == crowd
    # The filter form keeps the page size; the form that assigns goes back to the same page.
    assert re.search(r'<option value="25" selected>25</option>', select_of(second, "per"))
    back = re.search(r'<input type="hidden" name="back" value="([^"]+)">', second)
    assert back
    assert parse_qs(urlsplit(html.unescape(back.group(1))).query)["page"] == ["2"]


def test_a_page_size_not_offered_falls_back(
    web: TestClient, lead: SignedIn, desk: Desk, crowd: list[int]
) -> None:
    page = queue(web, "per=7")
    assert len(listed(page)) == 33
    assert '<option value="50" selected>50</option>' in select_of(page, "per")
    assert "page 1 of 1" in words(page)
    assert pager_links(page) == {}
    page = queue(web, "per=25&breached=0")
    assert pager_links(page)["next"] == {"per": ["25"], "page": ["2"]}


# ---- who sees what ------------------------------------------------------------------------------


def test_an_agent_sees_only_their_teams_cases(web: TestClient, tom: SignedIn, desk: Desk) -> None:
    page = queue(web, "status=all")
    assert set(listed(page)) == {desk.billing, desk.waiting}
    # The dropdowns offer only the agent's teams and their agents.
    teams = select_of(page, "team")
    assert f'<option value="{desk.teams["Payments"]}"' in teams
    assert f'<option value="{desk.teams["Deliveries"]}"' not in teams
    assert "my teams" in teams
    assert "Tom Hale" in select_of(page, "assignee")
    assert "Sam Okafor" not in select_of(page, "assignee")
    assert f"agent:{SAM}" not in page


def test_an_agent_cannot_reach_another_team_through_the_url(
    web: TestClient, tom: SignedIn, desk: Desk
) -> None:
    page = queue(web, f"team={desk.teams['Deliveries']}")
    assert listed(page) == []
    assert "No open case matches these filters" in words(page)
    assert listed(queue(web, "q=Max+Moe")) == []
    assert listed(queue(web, f"q=%23{desk.late}")) == []
    assert listed(queue(web, f"assignee={desk.agents[SAM]}")) == []
    assert "Max Moe" not in queue(web, "status=all")


def test_a_lead_sees_every_team(web: TestClient, lead: SignedIn, desk: Desk) -> None:
    assert listed(queue(web, f"team={desk.teams['Deliveries']}")) == [desk.late]
    assert "every team" in queue(web)


# ---- empty states -------------------------------------------------------------------------------


def test_an_empty_queue_says_how_cases_arrive(web: TestClient, engine: Engine) -> None:
    sign_in(web, engine, LEAD, role=Role.LEAD)
    page = queue(web)
    assert listed(page) == []
    assert "The queue is empty: no open case." in words(page)
    assert "0 cases" in words(page)
    assert 'id="bulk"' not in page


def test_no_match_offers_the_whole_queue(web: TestClient, lead: SignedIn, desk: Desk) -> None:
    page = queue(web, "q=zebra")
    assert listed(page) == []
    assert "No open case matches these filters. Show the whole queue." in words(page)


def test_an_agent_in_no_team_is_told_so(web: TestClient, engine: Engine, desk: Desk) -> None:
    sign_in(web, engine, "newbie@example.com")
    page = queue(web)
    assert listed(page) == []
    assert "You are in no team yet" in words(page)
    assert listed(queue(web, f"team={desk.teams['Payments']}")) == []


# ---- escaping -----------------------------------------------------------------------------------


def test_markup_in_a_subject_or_a_name_is_text(
    web: TestClient, client: TestClient, lead: SignedIn, desk: Desk
) -> None:
    hostile = complaint(
        client,
        "You charged me twice, refund it now.",
        FIXED_NOW - timedelta(minutes=5),
        channel="email",
        email="eve@example.com",
        author_name=f"Eve {HOSTILE}",
        subject=f"Refund {HOSTILE}",
    )
    page = queue(web)
    assert hostile in listed(page)
    row = row_of(page, hostile)
    assert "<script>" not in row
    assert "Refund &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in row
    assert "Eve &lt;script&gt;" in row
    assert page.count("<script") == page.count('<script src="/static/')
    searched = queue(web, "q=%3Cscript%3E")
    assert listed(searched) == [hostile]
    assert 'value="&lt;script&gt;"' in searched
    assert "<script>" not in searched.replace('<script src="/static/', "")


# ---- assigning many at once ---------------------------------------------------------------------


def test_a_lead_assigns_ticked_cases_to_an_agent(
    web: TestClient, engine: Engine, lead: SignedIn, desk: Desk
) -> None:
    back = "/queue?channel=email&page=1"
    answer = web.post(
        "/queue/assign",
        data=lead.form(case=[desk.billing, desk.crash], to=f"agent:{TOM}", back=back),
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == back + "&notice=assigned&n=2&to=tom%40example.com"
    for case_id in (desk.billing, desk.crash):
        case = case_row(engine, case_id)
        assert case.assignee_id == desk.agents[TOM]
        assert case.team_id == desk.teams["Payments"]
        assigned = events(engine, case_id, "assigned")[-1]
        assert assigned.actor == f"agent:{LEAD}"
        assert assigned.to_value == TOM
    page = web.get(answer.headers["location"])
    assert '<p class="notice" role="status">2 cases assigned to tom@example.com.</p>' in page.text


def test_a_lead_moves_cases_to_a_teams_queue(
    web: TestClient, engine: Engine, lead: SignedIn, desk: Desk
) -> None:
    answer = web.post(
        "/queue/assign", data=lead.form(case=[desk.late], to="team:Care", back="/queue")
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/queue?notice=assigned&n=1&to=Care"
    case = case_row(engine, desk.late)
    assert case.team_id == desk.teams["Care"]
    assert case.assignee_id is None
    assert events(engine, desk.late, "assigned")[-1].to_value == "team:Care"


def test_an_agent_assigns_within_their_team(
    web: TestClient, engine: Engine, tom: SignedIn, desk: Desk
) -> None:
    answer = web.post(
        "/queue/assign",
        data=tom.form(case=[desk.billing, desk.waiting], to=f"agent:{TOM}"),
    )
    assert answer.status_code == 303
    assert case_row(engine, desk.billing).assignee_id == desk.agents[TOM]
    assert case_row(engine, desk.waiting).assignee_id == desk.agents[TOM]
    assert events(engine, desk.waiting, "assigned")[-1].actor == f"agent:{TOM}"


def test_the_bulk_form_offers_the_teams_agents(web: TestClient, lead: SignedIn) -> None:
    page = queue(web)
    assert f'<option value="agent:{TOM}">Tom Hale · Payments</option>' in page
    assert '<option value="team:Care">Care</option>' in page
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]+">', page)


def test_bulk_assign_needs_the_csrf_token(
    web: TestClient, engine: Engine, lead: SignedIn, desk: Desk
) -> None:
    before = case_row(engine, desk.late).assignee_id
    history = len(events(engine, desk.late, "assigned"))
    for token in (None, "forged"):
        data: dict[str, object] = {"case": [desk.late], "to": f"agent:{TOM}"}
        if token is not None:
            data["csrf_token"] = token
        answer = web.post("/queue/assign", data=data)
        assert answer.status_code == 403
        assert "did not come from this desk" in answer.text
    assert case_row(engine, desk.late).assignee_id == before
    assert len(events(engine, desk.late, "assigned")) == history


def test_an_agent_cannot_assign_another_teams_case(
    web: TestClient, engine: Engine, tom: SignedIn, desk: Desk
) -> None:
    before = {c: case_row(engine, c).assignee_id for c in (desk.billing, desk.late)}
    answer = web.post(
        "/queue/assign", data=tom.form(case=[desk.billing, desk.late], to=f"agent:{TOM}")
    )
    assert answer.status_code == 403
    assert f"case {desk.late} belongs to a team you are not in" in answer.text
    # One case outside the agent's teams refuses them all.
    assert {c: case_row(engine, c).assignee_id for c in (desk.billing, desk.late)} == before
    # Nor does an agent hand their own team's case to someone of another team.
    away = web.post("/queue/assign", data=tom.form(case=[desk.billing], to=f"agent:{SAM}"))
    assert away.status_code == 403
    assert "works in another team" in away.text
    assert case_row(engine, desk.billing).assignee_id == before[desk.billing]


def test_bulk_assign_refuses_in_words(
    web: TestClient, engine: Engine, lead: SignedIn, desk: Desk
) -> None:
    late = [desk.late]
    refused: tuple[tuple[dict[str, object], str], ...] = (
        ({"to": f"agent:{TOM}"}, "tick the cases to assign first"),
        ({"case": late}, "choose an agent or a team to assign to"),
        ({"case": late, "to": ""}, "choose an agent or a team to assign to"),
        ({"case": late, "to": "agent:"}, "choose an agent or a team to assign to"),
        ({"case": late, "to": TOM}, "choose an agent or a team to assign to"),
        ({"case": late * 101, "to": f"agent:{TOM}"}, "assign at most 100 cases at once"),
    )
    for fields, reason in refused:
        answer = web.post("/queue/assign", data=lead.form(**fields))
        assert answer.status_code == 422, reason
        assert answer.headers["content-type"].startswith("text/html"), reason
        assert reason in words(answer.text)
    assert case_row(engine, desk.late).assignee_id == desk.agents[SAM]


def test_bulk_assign_to_someone_unknown(
    web: TestClient, engine: Engine, lead: SignedIn, desk: Desk
) -> None:
    answer = web.post(
        "/queue/assign", data=lead.form(case=[desk.late], to="agent:nobody@example.com")
    )
    assert answer.status_code == 404
    assert case_row(engine, desk.late).assignee_id == desk.agents[SAM]
    # Ids no case can have (PostgreSQL's integer ends at 2**31 - 1, SQLite's at 2**63 - 1).
    for case_id in (999_999, 0, 2**31, 10**20):
        answer = web.post("/queue/assign", data=lead.form(case=[case_id], to=f"agent:{TOM}"))
        assert answer.status_code == 404, case_id
        assert f"case {case_id} not found" in words(answer.text)


def test_bulk_assign_goes_back_only_to_the_queue(
    web: TestClient, lead: SignedIn, desk: Desk
) -> None:
    for back in ("https://evil.example/queue", "//evil.example", "/cases/1"):
        answer = web.post(
            "/queue/assign", data=lead.form(case=[desk.late], to=f"agent:{SAM}", back=back)
        )
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/queue?notice=assigned&")
