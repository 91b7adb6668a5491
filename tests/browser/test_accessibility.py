"""Every page of the desk against axe-core's accessibility rules (labels, names, contrast,
landmarks, headings, ARIA), in a real browser, on the demo's data; and the keyboard's way in."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select

from amends.cases.flows import notify
from amends.cases.models import Case
from amends.config import Settings
from amends.db import session_scope, utcnow
from amends.demo import load_demo
from amends.feedback.service import IngestLimits
from amends.incidents.models import Incident
from amends.playbook.service import active_policy
from amends.teams.service import add_agent
from tests.browser.conftest import LiveServer

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
# What blocks someone from using a page; "moderate" and "minor" findings are printed only.
BLOCKING = ("serious", "critical")


@pytest.fixture
def desk(engine: Engine) -> dict[str, object]:
    loaded = load_demo(
        engine,
        count=30,
        now=utcnow(),
        settings=Settings(database_url="sqlite://"),
        limits=IngestLimits(100_000, "US"),
    )
    with session_scope(engine) as s:
        case_id = s.scalar(select(Case.id).order_by(Case.id).limit(1))
        incident_id = s.scalar(select(Incident.id).limit(1))
        # The admin works as an agent too, so that the notifications page shows its table.
        add_agent(s, "Desk Admin", "admin@example.com", team=None, now=utcnow())
        case = s.get(Case, case_id)
        assert case is not None
        for kind, message in (("sla_warning", "first response due soon"), ("escalation", "late")):
            notify(
                s,
                case,
                ["admin@example.com"],
                kind=kind,
                message=f"case #{case_id}: {message}",
                at=utcnow(),
                policy=active_policy(s),
            )
    return {"password": loaded.password, "case": case_id, "incident": incident_id}


def _violations(page: Page) -> list[dict[str, object]]:
    page.add_script_tag(content=AXE)
    result: dict[str, list[dict[str, object]]] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return result["violations"]


def _sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_every_page_passes_axe(
    browser: Browser, page: Page, live_server: LiveServer, desk: dict[str, object]
) -> None:
    # axe is put into the page as an inline script: only this test's browser ignores the CSP.
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    tab = context.new_page()
    try:
        pages = ["/login"]
        found: dict[str, list[str]] = {}
        for path in pages:
            tab.goto(path)
            found[path] = _report(_violations(tab))
        _sign_in(tab, "admin@example.com", str(desk["password"]))
        for path in [
            "/queue",
            "/notifications",
            f"/cases/{desk['case']}",
            "/incidents",
            *([f"/incidents/{desk['incident']}"] if desk["incident"] else []),
            "/problems",
            "/playbook",
            "/playbook/history",
            "/dashboard",
            "/feedback",
            "/admin/users",
        ]:
            answer = tab.goto(path)
            assert answer is not None
            assert answer.ok, f"{path}: {answer.status}"
            tab.wait_for_load_state("networkidle")
            found[path] = _report(_violations(tab))
    finally:
        context.close()
    blocking = {path: problems for path, problems in found.items() if problems}
    assert blocking == {}


def _report(violations: list[dict[str, object]]) -> list[str]:
    """The violations that block, as "rule (impact): where"; the others are printed."""
    blocking = []
    for v in violations:
        nodes = v.get("nodes", [])
        where = ", ".join(str(n.get("target")) for n in nodes[:3])  # type: ignore[union-attr]
        line = f"{v['id']} ({v['impact']}): {where}"
        if v.get("impact") in BLOCKING:
            blocking.append(line)
        else:
            print(f"axe, not blocking: {line}")  # noqa: T201
    return blocking


def test_the_keyboard_reaches_the_page_first(
    page: Page, desk: dict[str, object], console_errors: list[str]
) -> None:
    _sign_in(page, "priya@example.com", str(desk["password"]))
    page.goto("/queue")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    assert console_errors == []
