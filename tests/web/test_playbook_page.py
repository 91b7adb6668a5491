"""The playbook pages: everyone reads the playbook in force and its history; leads edit it."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.web.conftest import SignedIn, sign_in

from amends.playbook.service import example_source
from amends.users.rules import Role
from amends.web.pages.playbook import diff_lines, problem_places

EXAMPLE = example_source()


def put_playbook(client: TestClient, text: str) -> int:
    """Import a playbook through the API (as an admin's integration); its version."""
    reply = client.put(
        "/api/v1/playbook", content=text.encode(), headers={"Content-Type": "application/yaml"}
    )
    assert reply.status_code == 200, reply.text
    version: int = reply.json()["version"]
    return version


def versions(client: TestClient) -> list[dict[str, object]]:
    found: list[dict[str, object]] = client.get("/api/v1/playbook/versions").json()
    return found


def text_of(page: str) -> str:
    """The page's words, tags dropped and whitespace collapsed, for phrases that span tags."""
    words = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    return re.sub(r" ([,.])", r"\1", words)


@pytest.fixture
def lead(web: TestClient, engine: Engine) -> SignedIn:
    return sign_in(web, engine, "lead@example.com", role=Role.LEAD, name="Lena Lead")


@pytest.fixture
def agent(web: TestClient, engine: Engine) -> SignedIn:
    return sign_in(web, engine, "agent@example.com", role=Role.AGENT)


# ---- reading -----------------------------------------------------------------------------------


def test_signed_out_reader_is_sent_to_sign_in(web: TestClient) -> None:
    page = web.get("/playbook")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")


def test_agent_reads_every_section_of_the_playbook_in_force(
    client: TestClient, web: TestClient, agent: SignedIn
) -> None:
    put_playbook(client, EXAMPLE)
    page = web.get("/playbook")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Playbook: Example Outfitters" in words
    assert "Version 1, imported 2026-11-02 10:00 UTC" in words
    # teams: categories, leads and agents
    assert "Payments Owns billing refunds" in words
    assert "Lead Priya Shah priya@example.com" in words
    assert "Sam Okafor sam@example.com 10 office active" in words
    assert "Team Care owns every category no team names." in words
    # SLA targets, public and per channel, in open hours
    assert "P1 30m 1h 8h always" in words
    assert "P3 8h 8h 40h office" in words
    assert "P2 1h 4h 16h office" in words  # public
    assert "chat P3 15m 8h 40h office" in words
    assert "warned when 75% of the time has gone" in words
    # calendars: hours, holidays
    assert "Time zone America/New_York" in words
    assert "Mon 08:00-12:00, 13:00-20:00" in words
    assert "Public holidays of GB (ENG). Also closed on 2026-12-24." in words
    assert "Next closed days: 2026-12-24, 2026-12-25" in words
    # the escalation chain
    assert "Level 2 after 2h Notify the team's lead, Lee Park (lee@example.com)" in words
    assert "Reassign to team Care" in words
    # compensation
    assert "GBP 2,000.00; spend above it needs a lead" in words
    assert "lead GBP 150.00" in words
    assert "delivery delay refund, replacement, discount" in words
    # checker rules with their severities
    assert "missing apology set here block There is no apology." in words
    assert "over explaining set here info" in words
    assert "x 280" in words
    assert "“thank you for reaching out to Example Outfitters”" in words
    # incident tiers, guidance, the YAML as written with its comments
    assert "press release 500 2,000,000 followers" in words
    assert "Give the new delivery date from the carrier" in words
    assert "# An example playbook, with every section." in words
    # an agent reads; only leads edit
    assert 'href="/playbook/edit"' not in page.text


def test_built_in_default_says_none_is_imported_yet(web: TestClient, agent: SignedIn) -> None:
    words = text_of(web.get("/playbook").text)
    assert "No playbook has been imported yet: the built-in default below is in force." in words
    assert "amends playbook import FILE" in words
    assert "# The playbook a new desk starts with" in words
    assert "This playbook names no teams" in words
    assert "No guidance yet." in words


def test_markup_in_the_playbook_is_shown_as_text(
    client: TestClient, web: TestClient, agent: SignedIn
) -> None:
    hostile = EXAMPLE.replace(
        "name: Example Outfitters", "name: Ex <script>alert(1)</script>  # <b>bold</b>"
    ).replace("billing: Check the ledger", "billing: <img src=x onerror=alert(2)> Check the ledger")
    put_playbook(client, hostile)
    page = web.get("/playbook").text
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert "Ex &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "# &lt;b&gt;bold&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt; Check the ledger" in page


# ---- editing -----------------------------------------------------------------------------------


def test_lead_sees_the_editor_with_the_text_in_force(
    client: TestClient, web: TestClient, lead: SignedIn
) -> None:
    put_playbook(client, EXAMPLE)
    assert 'href="/playbook/edit"' in web.get("/playbook").text
    page = web.get("/playbook/edit")
    assert page.status_code == 200
    assert '<textarea id="source-text" name="source"' in page.text
    assert html.escape("# An example playbook, with every section.") in page.text
    assert 'name="csrf_token"' in page.text


def test_lead_saves_a_new_version_and_the_same_text_changes_nothing(
    client: TestClient, web: TestClient, lead: SignedIn
) -> None:
    put_playbook(client, EXAMPLE)
    changed = EXAMPLE.replace("warn_at: 0.75", "warn_at: 0.8")
    # A browser sends a textarea's lines ended by CRLF.
    saved = web.post("/playbook/edit", data=lead.form(source=changed.replace("\n", "\r\n")))
    assert saved.status_code == 303
    assert saved.headers["location"] == "/playbook?done=saved"
    found = versions(client)
    assert [v["version"] for v in found] == [2, 1]
    assert found[0]["imported_by"] == "lead@example.com"
    assert client.get("/api/v1/playbook/export").text == changed
    words = text_of(web.get(saved.headers["location"]).text)
    assert "Saved: the playbook below is now in force." in words
    assert "Version 2, imported 2026-11-02 10:00 UTC by lead@example.com." in words
    assert "warned when 80% of the time has gone" in words

    again = web.post("/playbook/edit", data=lead.form(source=changed.replace("\n", "\r\n")))
    assert again.status_code == 303
    assert again.headers["location"] == "/playbook?done=same"
    assert len(versions(client)) == 2
    assert "Nothing changed" in web.get(again.headers["location"]).text


def test_yaml_error_keeps_the_text_and_names_its_line(
    client: TestClient, web: TestClient, lead: SignedIn
) -> None:
    put_playbook(client, EXAMPLE)
    broken = "name: Broken <one>\nsla:\n  targets: [P1\n"
    page = web.post("/playbook/edit", data=lead.form(source=broken))
    assert page.status_code == 422
    alert = re.search(r'<div class="alert[^"]*" role="alert">(.*?)</div>', page.text, re.S)
    assert alert is not None
    words = text_of(alert.group(1))
    assert "Not saved." in words
    assert re.search(r"line 4, column \d+", words)
    assert "Line 4, column" in words
    # the text is kept, escaped, for correcting
    assert "name: Broken &lt;one&gt;\nsla:\n  targets: [P1\n</textarea>" in page.text
    assert [v["version"] for v in versions(client)] == [1]


def test_schema_error_names_the_path_and_its_line(
    client: TestClient, web: TestClient, lead: SignedIn
) -> None:
    bad = EXAMPLE.replace("P2: {first_response: 2h,", "P2: {first_response: soon,")
    page = web.post("/playbook/edit", data=lead.form(source=bad))
    assert page.status_code == 422
    words = text_of(page.text)
    assert "sla.targets.P2.first_response" in words
    line = next(i for i, text in enumerate(bad.splitlines(), 1) if "first_response: soon" in text)
    assert f"Line {line} (sla.targets.P2.first_response)" in words
    assert "P2: {first_response: soon, next_response: 4h" in words  # the line itself
    assert html.escape("# An example playbook") in page.text
    assert versions(client) == []


def test_agent_may_not_edit(client: TestClient, web: TestClient, agent: SignedIn) -> None:
    assert web.get("/playbook/edit").status_code == 403
    refused = web.post("/playbook/edit", data=agent.form(source=EXAMPLE))
    assert refused.status_code == 403
    assert "Not yours to open" in refused.text
    assert versions(client) == []


def test_edit_without_the_csrf_token_is_refused(
    client: TestClient, web: TestClient, lead: SignedIn
) -> None:
    refused = web.post("/playbook/edit", data={"source": EXAMPLE})
    assert refused.status_code == 403
    wrong = web.post("/playbook/edit", data={"source": EXAMPLE, "csrf_token": "forged"})
    assert wrong.status_code == 403
    assert versions(client) == []


# ---- history and old versions --------------------------------------------------------------------


def test_history_shows_each_version_with_its_diff(
    client: TestClient, web: TestClient, agent: SignedIn
) -> None:
    put_playbook(client, EXAMPLE)
    put_playbook(
        client,
        EXAMPLE.replace("warn_at: 0.75", "warn_at: 0.8").replace(
            "# Guidance agents see", "# Guidance <em>agents</em> see"
        ),
    )
    page = web.get("/playbook/history")
    assert page.status_code == 200
    assert '<a href="/playbook/versions/2">Version 2</a>' in page.text
    assert '<a href="/playbook/versions/1">Version 1</a>' in page.text
    words = text_of(page.text)
    assert "Against version 1: +2 lines added, -2 lines removed. Changed: sla." in words
    assert "Against the built-in default:" in words
    # removed and added lines carry a class and their sign; markup stays text
    assert '<span class="del">-  warn_at: 0.75' in page.text
    assert '<span class="add">+  warn_at: 0.8' in page.text
    assert '<span class="add">+# Guidance &lt;em&gt;agents&lt;/em&gt; see' in page.text
    assert "<em>agents" not in page.text
    assert 'href="/playbook/edit"' not in page.text


def test_history_before_any_import(web: TestClient, agent: SignedIn) -> None:
    words = text_of(web.get("/playbook/history").text)
    assert "No playbook has been imported yet" in words


def test_an_old_version_reads_as_it_was(
    client: TestClient, web: TestClient, agent: SignedIn
) -> None:
    put_playbook(client, EXAMPLE)
    put_playbook(client, EXAMPLE.replace("warn_at: 0.75", "warn_at: 0.8"))
    page = web.get("/playbook/versions/1")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Playbook version 1: Example Outfitters" in words
    assert "This is an earlier version, not the one in force (version 2)." in words
    assert "warned when 75% of the time has gone" in words
    assert "warn_at: 0.75" in words
    assert 'href="/api/v1/playbook/export?version=1"' in page.text
    assert web.get("/playbook/versions/2").text.count("earlier version") == 0
    assert web.get("/playbook/versions/9").status_code == 404
    assert web.get("/playbook/versions/nine").status_code == 404


def test_a_lead_puts_an_earlier_version_back_in_force(
    client: TestClient, web: TestClient, engine: Engine
) -> None:
    put_playbook(client, EXAMPLE)
    put_playbook(client, EXAMPLE.replace("warn_at: 0.75", "warn_at: 0.8"))
    me = sign_in(web, engine, "lead@example.com", role=Role.LEAD, name="Lena Lead")
    page = web.get("/playbook/versions/1").text
    assert 'action="/playbook/versions/1/restore"' in page
    assert f'name="csrf_token" value="{me.csrf}"' in page
    # no such form on the version in force
    assert "/restore" not in web.get("/playbook/versions/2").text

    assert web.post("/playbook/versions/1/restore", data={}).status_code == 403  # no token
    done = web.post("/playbook/versions/1/restore", data=me.form())
    assert done.status_code == 303
    assert done.headers["location"] == "/playbook?done=restored"
    assert (
        "Restored: the earlier version is in force again" in web.get(done.headers["location"]).text
    )
    # a new version with version 1's text: the history keeps every step
    assert [v["version"] for v in versions(client)] == [3, 2, 1]
    assert client.get("/api/v1/playbook/export").text == EXAMPLE
    restored = versions(client)[0]
    assert restored["imported_by"] == "lead@example.com"
    # putting back the text already in force changes nothing
    same = web.post("/playbook/versions/1/restore", data=me.form())
    assert same.headers["location"] == "/playbook?done=same"
    assert len(versions(client)) == 3
    assert web.post("/playbook/versions/9/restore", data=me.form()).status_code == 404


def test_a_version_todays_rules_refuse_opens_in_the_editor(
    client: TestClient, web: TestClient, engine: Engine, lead: SignedIn
) -> None:
    from datetime import UTC, datetime

    from amends.db import session_scope
    from amends.playbook.models import Playbook

    put_playbook(client, EXAMPLE)
    # an old version stored before a rule that refuses it now (a misspelt time zone)
    old_text = EXAMPLE.replace("Europe/London", "Europe/Londn")
    with session_scope(engine) as s:
        s.add(
            Playbook(
                version=0,
                name="older",
                document={},
                source=old_text,
                checksum="0" * 64,
                imported_by="someone",
                imported_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
    refused = web.post("/playbook/versions/0/restore", data=lead.form())
    assert refused.status_code == 422
    assert "Europe/Londn" in refused.text
    assert "unknown time zone" in refused.text
    assert len(versions(client)) == 2  # nothing imported


def test_an_agent_may_not_restore_a_version(
    client: TestClient, web: TestClient, agent: SignedIn
) -> None:
    put_playbook(client, EXAMPLE)
    put_playbook(client, EXAMPLE.replace("warn_at: 0.75", "warn_at: 0.8"))
    assert "/restore" not in web.get("/playbook/versions/1").text
    refused = web.post("/playbook/versions/1/restore", data=agent.form())
    assert refused.status_code == 403
    assert len(versions(client)) == 2


def test_the_api_restores_a_version(client: TestClient) -> None:
    put_playbook(client, EXAMPLE)
    put_playbook(client, EXAMPLE.replace("warn_at: 0.75", "warn_at: 0.8"))
    answer = client.post("/api/v1/playbook/versions/1/restore")
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == 3
    assert client.get("/api/v1/playbook/export").text == EXAMPLE
    assert client.post("/api/v1/playbook/versions/99/restore").status_code == 404
    assert client.post("/api/v1/playbook/versions/0/restore").status_code == 422


# ---- where a problem is ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detail", "expected"),
    [
        (
            "a: 1\nb: [\n",
            "line 3, column 1: expected the node content",
            [(3, 1, None, "")],
        ),
        (
            "sla:\n  targets:\n    P1: {first_response: soon}\n",
            "playbook is not valid: sla.targets.P1.first_response: bad duration",
            [(3, None, "sla.targets.P1.first_response", "    P1: {first_response: soon}")],
        ),
        (
            "teams:\n  - name: A\n    agents:\n      - {name: X, email: nope}\n"
            "sla: {targets: {}}\n",
            "playbook is not valid: teams.0.agents.0.email: ...",
            [(4, None, "teams.0.agents.0.email", "      - {name: X, email: nope}")],
        ),
        ("a: 1\n", "playbook is larger than 1,000,000 bytes", []),
    ],
)
def test_problem_places(
    text: str, detail: str, expected: list[tuple[int, int | None, str | None, str]]
) -> None:
    found = [(p.line, p.column, p.path, p.excerpt) for p in problem_places(text, detail)]
    assert found[: len(expected)] == expected
    if not expected:
        assert found == []


def test_diff_lines_mark_headers_only_at_the_top() -> None:
    lines = diff_lines("a: 1\n---\nb: 2\n", "a: 1\nb: 3\n++c\n", old="v1", new="v2")
    assert lines == [
        ("file", "--- v1"),
        ("file", "+++ v2"),
        ("hunk", "@@ -1,3 +1,3 @@"),
        ("same", " a: 1"),
        ("del", "----"),
        ("del", "-b: 2"),
        ("add", "+b: 3"),
        ("add", "+++c"),
    ]
