"""Teams and agents: the minimal roster the playbook will build on."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.conftest import admin_token
from typer.testing import CliRunner

from amends.api.app import create_app
from amends.cli import app
from amends.config import Settings

runner = CliRunner()


def test_add_and_list_teams_and_agents(cli_env: Callable[[], Engine]) -> None:
    assert runner.invoke(app, ["teams", "add", "Billing"]).exit_code == 0
    dup = runner.invoke(app, ["teams", "add", "billing"])
    assert dup.exit_code == 1
    assert "already exists" in dup.stderr
    ok = runner.invoke(
        app, ["agents", "add", "Rosa Reyes", "Rosa@Example.com", "--team", "Billing"]
    )
    assert ok.exit_code == 0, ok.output
    assert (
        runner.invoke(app, ["agents", "add", "X", "x@example.com", "--team", "Nope"]).exit_code == 1
    )
    assert runner.invoke(app, ["agents", "add", "Y", "not-an-email"]).exit_code == 1
    listed = runner.invoke(app, ["teams", "list"])
    assert "Billing: Rosa Reyes" in listed.stdout
    with TestClient(create_app(Settings(), engine=cli_env())) as client:
        client.headers["Authorization"] = f"Bearer {admin_token(cli_env())}"
        teams = client.get("/api/v1/teams").json()
    assert teams[0]["name"] == "Billing"
    assert teams[0]["agents"][0]["email"] == "rosa@example.com"
