"""`amends notifications list` and `read`: an agent's own, newest first, as text or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import Engine
from tests.teams.desk import ANN, BOB, HOSTILE, make_desk
from typer.testing import CliRunner

from amends.cli import app

runner = CliRunner()


def test_list_newest_first_then_read_some_and_all(cli_env: Callable[[], Engine]) -> None:
    desk = make_desk(cli_env())
    listed = runner.invoke(app, ["notifications", "list", "--as", ANN])
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("*")
    assert HOSTILE in lines[0]
    assert f"case #{desk.cases[0]}" in lines[0]
    assert [int(line.split()[1]) for line in lines[:4]] == desk.ann[::-1]
    assert lines[-1] == "4 unread"

    read = runner.invoke(app, ["notifications", "read", "--as", ANN, str(desk.ann[0])])
    assert read.exit_code == 0, read.output
    assert read.stdout.strip() == "marked 1 read; 3 unread left"

    as_json = runner.invoke(app, ["notifications", "list", "--as", ANN, "--unread", "--json"])
    body = json.loads(as_json.stdout)
    assert [n["id"] for n in body["items"]] == desk.ann[1:][::-1]
    assert (body["total"], body["unread"], body["next_before"]) == (3, 3, None)
    assert body["items"][0]["message"] == HOSTILE

    paged = runner.invoke(app, ["notifications", "list", "--as", ANN, "--limit", "2"])
    assert f"older: --before {desk.ann[::-1][1]}" in paged.stdout
    older = runner.invoke(
        app, ["notifications", "list", "--as", ANN, "--before", str(desk.ann[::-1][1]), "--json"]
    )
    assert [n["id"] for n in json.loads(older.stdout)["items"]] == desk.ann[:2][::-1]

    everything = runner.invoke(app, ["notifications", "read", "--as", ANN, "--all"])
    assert everything.stdout.strip() == "marked 3 read; 0 unread left"
    none_left = runner.invoke(app, ["notifications", "list", "--as", ANN, "--unread"])
    assert none_left.stdout.splitlines() == ["no unread notifications", "0 unread"]


def test_read_leaves_someone_elses_alone(cli_env: Callable[[], Engine]) -> None:
    desk = make_desk(cli_env())
    ids = [str(i) for i in desk.bob]
    done = runner.invoke(app, ["notifications", "read", "--as", ANN, *ids])
    assert done.stdout.strip() == "marked 0 read; 4 unread left"
    bobs = json.loads(runner.invoke(app, ["notifications", "list", "--as", BOB, "--json"]).stdout)
    assert bobs["unread"] == 1


def test_usage_errors(cli_env: Callable[[], Engine]) -> None:
    make_desk(cli_env())
    neither = runner.invoke(app, ["notifications", "read", "--as", ANN])
    assert neither.exit_code == 2
    assert "ids or --all" in neither.stderr
    both = runner.invoke(app, ["notifications", "read", "--as", ANN, "1", "--all"])
    assert both.exit_code == 2
    nobody = runner.invoke(app, ["notifications", "list", "--as", "nobody@example.com"])
    assert nobody.exit_code == 1
    assert "agent nobody@example.com not found" in nobody.stderr
    assert runner.invoke(app, ["notifications", "list"]).exit_code == 2  # --as is required
