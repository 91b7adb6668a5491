"""`GET /api/v1/reports/sla` and `amends report sla`."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from amends.cli import app
from tests.reports.desk import build_desk, check_desk_report

runner = CliRunner()


def test_api_report(session: Session, client: TestClient) -> None:
    build_desk(session)
    session.commit()
    response = client.get("/api/v1/reports/sla")  # the client's clock is desk.NOW
    assert response.status_code == 200, response.text
    body = response.json()
    check_desk_report(body)
    assert body["since"].startswith("2026-10-03T10:00:00")
    # A naive bound is UTC; a date alone is its midnight.
    narrow = client.get(
        "/api/v1/reports/sla", params={"since": "2026-11-02T07:00", "until": "2026-11-03"}
    ).json()
    assert narrow["cases"] == {"opened": 1, "resolved": 0, "open": 1}
    assert narrow["until"].startswith("2026-11-03T00:00:00")


@pytest.mark.parametrize(
    "params",
    [{"since": "2026-11-02", "until": "2026-11-01"}, {"since": "yesterday"}],
)
def test_api_refuses_bad_windows(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/api/v1/reports/sla", params=params)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_cli_report(cli_env: Callable[[], Engine]) -> None:
    engine = cli_env()
    with Session(engine) as session:
        build_desk(session)
        session.commit()
    now = ["--now", "2026-11-02T10:00"]
    result = runner.invoke(app, ["report", "sla", "--json", *now])
    assert result.exit_code == 0, result.output
    check_desk_report(json.loads(result.stdout))
    text = runner.invoke(app, ["report", "sla", "--since", "2026-10-01", *now])
    assert text.exit_code == 0, text.output
    assert "Cases: 7 opened, 4 resolved, 3 still open" in text.stdout
    assert "wall-clock" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last week"], "--since: not an ISO-8601"),
        (["--now", "soon"], "--now: not an ISO-8601"),
        (["--since", "2026-11-02", "--until", "2026-11-01"], "empty"),
    ],
)
def test_cli_refuses_bad_input(
    cli_env: Callable[[], Engine], args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["report", "sla", *args])
    assert result.exit_code == 2
    assert message in result.stderr
