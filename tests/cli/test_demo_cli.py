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
