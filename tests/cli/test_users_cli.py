"""`amends users` and `amends tokens`: who signs in, and what integrations hold."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from amends.api.app import create_app
from amends.cli import app
from amends.config import Settings
from amends.users.models import ApiToken, User

runner = CliRunner()


def _api(engine: Engine) -> TestClient:
    return TestClient(create_app(Settings(), engine=engine))


def test_add_list_disable_enable(cli_env: Callable[[], Engine]) -> None:
    assert runner.invoke(app, ["teams", "add", "Payments"]).exit_code == 0
    added = runner.invoke(
        app,
        [
            "users",
            "add",
            "Tom@Example.com",
            "--name",
            "Tom Hale",
            "--team",
            "Payments",
            "--password-stdin",
        ],
        input="a long enough secret\n",
    )
    assert added.exit_code == 0, added.output
    assert "tom@example.com" in added.stdout
    assert "secret" not in added.output
    with cli_env().connect() as conn:
        stored = conn.execute(select(User.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "a long enough secret" not in stored
    # The user works Payments' cases as the agent with the same email.
    assert "Payments: Tom Hale" in runner.invoke(app, ["teams", "list"]).stdout

    listed = json.loads(runner.invoke(app, ["users", "list", "--json"]).stdout)
    assert [(u["email"], u["role"], u["active"]) for u in listed] == [
        ("tom@example.com", "agent", True)
    ]
    assert runner.invoke(app, ["users", "disable", "tom@example.com"]).exit_code == 0
    assert "(disabled)" in runner.invoke(app, ["users", "list"]).stdout
    # Nor is a disabled person's agent given cases any more.
    assert "(disabled)" in runner.invoke(app, ["agents", "list"]).stdout
    assert runner.invoke(app, ["users", "enable", "TOM@example.com"]).exit_code == 0
    assert "(disabled)" not in runner.invoke(app, ["users", "list"]).stdout


def test_refusals_say_why(cli_env: Callable[[], Engine]) -> None:
    short = runner.invoke(
        app, ["users", "add", "a@example.com", "--name", "A", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 1
    assert "at least 10 characters" in short.stderr
    no_team = runner.invoke(
        app, ["users", "add", "b@example.com", "--name", "B", "--team", "Nope", "--no-password"]
    )
    assert no_team.exit_code == 1
    assert "team 'Nope'" in no_team.stderr
    assert (
        runner.invoke(
            app, ["users", "add", "c@example.com", "--name", "C", "--no-password"]
        ).exit_code
        == 0
    )
    again = runner.invoke(app, ["users", "add", "C@example.com", "--name", "C", "--no-password"])
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    bad_role = runner.invoke(
        app, ["users", "add", "d@example.com", "--name", "D", "--role", "boss", "--no-password"]
    )
    assert bad_role.exit_code == 2
    assert runner.invoke(app, ["users", "disable", "nobody@example.com"]).exit_code == 1


def test_token_secret_printed_once_and_works_until_revoked(
    cli_env: Callable[[], Engine],
) -> None:
    runner.invoke(app, ["users", "add", "feed@example.com", "--name", "Feed", "--no-password"])
    made = runner.invoke(
        app,
        [
            "tokens",
            "add",
            "--user",
            "feed@example.com",
            "--name",
            "review import",
            "--scope",
            "read,feedback:write",
        ],
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("amd_")
    with cli_env().connect() as conn:
        row = conn.execute(select(ApiToken.token_hash, ApiToken.scopes)).one()
    assert secret not in row.token_hash
    assert sorted(row.scopes) == ["feedback:write", "read"]
    listed = runner.invoke(app, ["tokens", "list"]).stdout
    assert "review import" in listed
    assert secret not in listed

    with _api(cli_env()) as api:
        auth = {"Authorization": f"Bearer {secret}"}
        assert api.get("/api/v1/me", headers=auth).json()["email"] == "feed@example.com"
        sent = api.post(
            "/api/v1/feedback", headers=auth, json={"text": "late parcel", "email": "x@example.com"}
        )
        assert sent.status_code in (200, 201), sent.text
        # Not granted: working cases.
        assert api.post("/api/v1/incidents/detect", headers=auth).status_code == 403
        token_id = runner.invoke(app, ["tokens", "list"]).stdout.split()[0]
        assert runner.invoke(app, ["tokens", "revoke", token_id]).exit_code == 0
        assert api.get("/api/v1/me", headers=auth).status_code == 401


def test_a_token_cannot_exceed_its_users_role(cli_env: Callable[[], Engine]) -> None:
    runner.invoke(app, ["users", "add", "agent@example.com", "--name", "Ag", "--no-password"])
    refused = runner.invoke(
        app, ["tokens", "add", "--user", "agent@example.com", "--name", "x", "--scope", "admin"]
    )
    assert refused.exit_code == 1
    assert "may not hold admin" in refused.stderr
    unknown = runner.invoke(
        app, ["tokens", "add", "--user", "agent@example.com", "--name", "x", "--scope", "all"]
    )
    assert unknown.exit_code == 2
    assert "unknown scope 'all'" in unknown.stderr
