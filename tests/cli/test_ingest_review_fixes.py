"""Idempotency and nothing-lost guarantees at the edges of a batch and of the quarantine."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from amends.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def desk(cli_env: Callable[[], Engine]) -> Callable[[], Engine]:
    return cli_env


def ingest(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["ingest", *args, "--json"])
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def exported() -> list[dict[str, Any]]:
    out = runner.invoke(app, ["export", "feedback"]).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_json_without_ids_or_times_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text('[{"text": "The app keeps crashing when I pay", "email": "c@x.com"}]', "utf-8")
    assert ingest(str(path))["new"] == 1
    again = ingest(str(path))
    assert (again["new"], again["duplicates"]) == (0, 1)


def test_same_id_different_text_in_one_batch_keeps_both(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("id,text,email\n1,My parcel never arrived,a@x.com\n"
                    "1,You charged me twice,b@x.com\n", "utf-8")  # fmt: skip
    data = ingest(str(path))
    assert (data["new"], data["duplicates"], data["id_clashes"]) == (2, 0, 1)
    assert ingest(str(path))["new"] == 0


def test_a_refused_item_is_not_released_by_a_retry_that_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("id,text,date,email\n7,Refund please,2099-01-01,d@x.com\n", "utf-8")
    data = ingest(str(path), "--time-column", "date")
    assert (data["new"], data["quarantined"]) == (0, 1)
    retried = runner.invoke(app, ["quarantine", "retry", "1"])
    assert retried.exit_code == 1
    assert "future" in retried.stderr
    listed = [
        json.loads(x)
        for x in runner.invoke(app, ["quarantine", "list", "--json"]).stdout.splitlines()
    ]
    assert [r["status"] for r in listed] == ["pending"]
    # A corrected copy (as the feedback object the quarantine keeps) goes in, with its customer.
    shown = runner.invoke(app, ["quarantine", "show", "1"]).stdout
    assert '"email": "d@x.com"' in shown
    fixed = tmp_path / "fixed.json"
    obj = {"text": "Refund please", "source_id": "7", "channel": "other", "email": "d@x.com",
           "received_at": "2026-10-01T00:00:00Z"}  # fmt: skip
    fixed.write_text(json.dumps(obj), "utf-8")
    ok = runner.invoke(app, ["quarantine", "retry", "1", "--edited", str(fixed)])
    assert ok.exit_code == 0, ok.output
    assert [r["source_id"] for r in exported()] == ["7"]


def test_a_cut_piece_is_not_retried_from_its_first_megabyte(tmp_path: Path) -> None:
    path = tmp_path / "export.dat"
    row = "1,some complaint text that goes on for a while\n"
    path.write_text("id,text\n" + row * 30_000, "utf-8")
    data = ingest(str(path))
    assert data["quarantined"] == 1  # the format cannot be told from a .dat name and content
    retried = runner.invoke(app, ["quarantine", "retry", "1", "--format", "csv"])
    assert retried.exit_code == 1
    assert "import that file again" in retried.stderr
    assert exported() == []


def test_identical_bad_rows_are_each_kept_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("id,text\n1,\n1,\n", "utf-8")
    data = ingest(str(path))
    assert (data["quarantined"], data["already_quarantined"]) == (2, 0)
    listed = runner.invoke(app, ["quarantine", "list", "--json"]).stdout.splitlines()
    locations = [json.loads(x)["location"] for x in listed]
    assert locations == ["line 2", "line 3"]
    again = ingest(str(path))
    assert again["already_quarantined"] == 2


def test_each_case_keeps_its_own_last_activity(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("id,text,email,date\n1,late parcel,a@x.com,2024-01-01\n"
                    "2,broken app,b@x.com,2024-06-01\n", "utf-8")  # fmt: skip
    ingest(str(path), "--time-column", "date")
    cases = [
        json.loads(x) for x in runner.invoke(app, ["cases", "list", "--json"]).stdout.splitlines()
    ]
    by_subject = {c["subject"]: c["updated_at"][:10] for c in cases}
    assert by_subject == {"late parcel": "2024-01-01", "broken app": "2024-06-01"}


def test_a_reply_in_the_same_file_answers_the_complaint(tmp_path: Path) -> None:
    path = tmp_path / "thread.jsonl"
    rows = [
        {"text": "my parcel is late", "email": "e@x.com", "source_id": "1",
         "received_at": "2026-10-01T10:00:00Z"},
        {"text": "Sorry, it ships today", "email": "e@x.com", "direction": "out",
         "source_id": "2", "received_at": "2026-10-01T11:00:00Z"},
        {"text": "still waiting for that parcel", "email": "e@x.com", "source_id": "3",
         "received_at": "2026-10-05T10:00:00Z"},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    ingest(str(path))
    last = next(r for r in exported() if r["source_id"] == "3")
    assert not any("ignored" in reason for reason in last["reasons"])
