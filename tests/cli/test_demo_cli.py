"""`amends demo`: loads a desk and prints accounts that sign in with the printed password."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from amends.api.app import create_app
from amends.cli import app
from amends.config import Settings

runner = CliRunner()


def test_the_printed_demo_account_signs_in(cli_env: Callable[[], Engine]) -> None:
    loaded = runner.invoke(app, ["demo", "--no-serve", "--count", "12"])
    assert loaded.exit_code == 0, loaded.output
    found = re.search(r"with the password\s+(\S+)\s+as:", loaded.stdout)
    assert found, loaded.stdout
    password = found.group(1)
    assert "priya@example.com" in loaded.stdout
    with TestClient(create_app(Settings(), engine=cli_env()), follow_redirects=False) as web:
        form = web.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token
        signed = web.post(
            "/login",
            data={
                "email": "priya@example.com",
                "password": password,
                "csrf_token": token.group(1),
                "next": "/feedback",
            },
        )
        assert signed.status_code == 303
        assert web.get("/feedback").status_code == 200
    # A second run sets a new password; the old one stops working.
    again = runner.invoke(app, ["demo", "--no-serve", "--count", "12"])
    second = re.search(r"with the password\s+(\S+)\s+as:", again.stdout)
    assert second
    assert second.group(1) != password


def test_the_demo_desk_has_worked_its_older_cases(cli_env: Callable[[], Engine]) -> None:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from amends.cases.models import Case
    from amends.cases.rules import CaseStatus
    from amends.cases.service import answered_privately
    from amends.feedback.models import Direction, Feedback

    loaded = runner.invoke(app, ["demo", "--no-serve", "--count", "60"])
    assert loaded.exit_code == 0, loaded.output
    answered_here = re.search(r"(\d+) older ones answered", loaded.stdout)
    assert answered_here
    assert int(answered_here.group(1)) > 0
    with Session(cli_env()) as session:
        cases = session.scalars(select(Case).where(Case.merged_into_id.is_(None))).all()
        resolved = [c for c in cases if c.status is CaseStatus.RESOLVED]
        waiting = [c for c in cases if c.status is CaseStatus.NEW]
        # most cases were answered and resolved; a queue of new ones is left to work
        assert len(resolved) > len(cases) / 2
        assert waiting
        for case in resolved:
            assert case.first_responded_at is not None
            assert case.assignee_id is not None or case.team_id is None
            # public, then private
            assert not case.public or answered_privately(session, case)
            last_in = session.scalar(
                select(func.max(Feedback.received_at)).where(
                    Feedback.case_id == case.id, Feedback.direction == Direction.IN
                )
            )
            assert case.resolved_at is not None
            assert last_in is not None
            assert case.resolved_at > last_in
        answers = session.scalars(
            select(Feedback).where(Feedback.direction == Direction.OUT, ~Feedback.automated)
        ).all()
        assert answers
        opened = {c.id: c.opened_at for c in cases}
        # the desk's own replies (the imported threads hold some of the brand's too) came after
        sent = [a for a in answers if "checked" in a.meta and a.case_id in opened]
        assert sent
        assert all(a.received_at >= opened[a.case_id] for a in sent)
        before = {c.id: c.status for c in cases}
    # a second run leaves the same backlog: the cases left unanswered stay so
    again = runner.invoke(app, ["demo", "--no-serve", "--count", "60"])
    assert again.exit_code == 0, again.output
    assert "0 older ones answered" in again.stdout
    with Session(cli_env()) as session:
        for case_id, status in before.items():
            if status is CaseStatus.NEW:
                assert session.get(Case, case_id).status is CaseStatus.NEW  # type: ignore[union-attr]
