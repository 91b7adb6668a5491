"""What many tests do through the CLI: ingest a file and read back what the desk stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from amends.cli import app

runner = CliRunner()
COUNTS = ("read", "new", "duplicates", "quarantined")


def ingest(path: Path, *args: str, code: int = 0) -> dict[str, Any]:
    """`amends ingest PATH --json`, asserting the exit code; the summary object."""
    result = runner.invoke(app, ["ingest", str(path), "--json", *args])
    assert result.exit_code == code, result.output
    summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


def counts(summary: dict[str, Any]) -> tuple[int, ...]:
    return tuple(summary[k] for k in COUNTS)


def exported() -> list[dict[str, Any]]:
    """Every stored feedback item, as `amends export feedback` prints it."""
    result = runner.invoke(app, ["export", "feedback", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
