"""Timers live in the database: after a crash a due timer fires exactly once."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from amends.cli import app
from amends.config import Settings
from amends.models import CaseEvent, Notification, Timer
from amends.timers import flows

runner = CliRunner()
MONDAY_9 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _ingest(tmp_path: Path, n: int) -> None:
    path = tmp_path / "in.jsonl"
    rows = [
        {
            "text": f"My order {i} arrived broken and nobody answers my mails.",
            "email": f"c{i}@example.com",
            "received_at": MONDAY_9.isoformat(),
        }
        for i in range(n)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(path), "--now", MONDAY_9.isoformat()])
    assert result.exit_code == 0, result.output


def _count(engine: Engine, query: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_a_crash_mid_tick_loses_nothing_and_fires_nothing_twice(
    cli_env: Callable[[], Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = cli_env()
    _ingest(tmp_path, 3)
    later = MONDAY_9 + timedelta(days=10)
    due = _count(engine, select(func.count()).select_from(Timer).where(Timer.status == "pending"))
    assert due >= 6  # a warning and a breach for two clocks of each case

    real = flows._handlers()
    calls = {"n": 0}

    def crashing(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process dies mid-batch
        real["sla.warning"](*args, **kwargs)

    monkeypatch.setattr(flows, "_handlers", lambda: {**real, "sla.warning": crashing})
    with pytest.raises(KeyboardInterrupt):
        flows.run_due(engine, now=later, settings=Settings())
    # The batch rolled back whole: nothing marked fired, no warning recorded.
    assert (
        _count(engine, select(func.count()).select_from(Timer).where(Timer.status == "done")) == 0
    )
    assert _count(engine, select(func.count()).select_from(Notification)) == 0

    monkeypatch.setattr(flows, "_handlers", lambda: real)
    first = flows.run_due(engine, now=later, settings=Settings())
    assert first.fired["sla.warning"] >= 3
    assert first.fired["sla.breach"] >= 3
    warnings = _count(
        engine, select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "sla_warning")
    )
    assert warnings == first.fired["sla.warning"]
    again = flows.run_due(engine, now=later, settings=Settings())
    assert again.total_fired == 0
    assert warnings == _count(
        engine, select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "sla_warning")
    )


def test_a_broken_timer_is_kept_failed_and_the_rest_fire(
    cli_env: Callable[[], Engine], tmp_path: Path
) -> None:
    engine = cli_env()
    _ingest(tmp_path, 1)
    with engine.begin() as conn:
        conn.execute(
            Timer.__table__.insert().values(
                kind="no.such.kind",
                due_at=MONDAY_9,
                status="pending",
                data={},
                created_at=MONDAY_9,
            )
        )
    result = runner.invoke(
        app, ["tick", "--json", "--now", (MONDAY_9 + timedelta(days=3)).isoformat()]
    )
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["failed"] == 1
    assert stats["fired"] >= 2
    listed = runner.invoke(app, ["timers", "list", "--status", "failed", "--json"])
    failed = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [t["kind"] for t in failed] == ["no.such.kind"]
    assert "no handler" in failed[0]["last_error"]


def test_tick_now_is_required_to_be_a_time(cli_env: Callable[[], Engine]) -> None:
    result = runner.invoke(app, ["tick", "--now", "tomorrow-ish"])
    assert result.exit_code == 2
    assert "ISO-8601" in result.output
