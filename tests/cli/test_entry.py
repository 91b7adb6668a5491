"""The `amends` command's entry: `amends analyze` runs without the database code (its cold start
is the models' load), everything else through the full command line."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import sys
from amends.entry import main
sys.argv = ["amends", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"amends", "sqlalchemy", "fastapi"})
sys.stderr.write("LOADED " + " ".join(loaded) + "\\n")
sys.exit(code)
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"AMENDS_ENCODER": "off", "PATH": "/usr/bin:/bin"},
    )


def _loaded(done: subprocess.CompletedProcess[str]) -> set[str]:
    line = next(x for x in done.stderr.splitlines() if x.startswith("LOADED"))
    return set(line.split()[1:])


def test_analyze_runs_without_the_database_code() -> None:
    done = _run("analyze", "You charged me twice and nobody answers", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[0])
    assert "charged twice" in " ".join(result["reasons"])
    loaded = _loaded(done)
    assert "amends.analysis" in loaded
    assert not {"sqlalchemy", "fastapi", "amends.cli", "amends.db"} & loaded


def test_analyze_says_what_is_wrong_with_its_input() -> None:
    done = _run("analyze")
    assert done.returncode == 2
    assert "give a TEXT or --file" in done.stderr


def test_other_commands_go_to_the_full_command_line() -> None:
    done = _run("--help")
    assert done.returncode == 0, done.stderr
    for command in ("analyze", "ingest", "serve", "taxonomy"):
        assert command in done.stdout
    assert "amends.cli" in _loaded(done)
