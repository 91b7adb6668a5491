"""Hostile and awkward input through `amends ingest`: clear answers, nothing lost, no hang."""

from __future__ import annotations

import json
import os
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


def ingest(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["ingest", *args, "--json"])
    assert result.exit_code in (0, 3), result.output
    return result.exit_code, json.loads(result.stdout)


def texts() -> list[str]:
    out = runner.invoke(app, ["export", "feedback"]).stdout
    return [json.loads(line)["text"] for line in out.splitlines()]


@pytest.mark.parametrize("fmt", ["x", "feedback", "conversations", "reviews", "transcript"])
def test_deeply_nested_json_is_quarantined_quickly(tmp_path: Path, fmt: str) -> None:
    arrays = tmp_path / "deep.json"
    arrays.write_text("[" * 100_000, encoding="utf-8")
    objects = tmp_path / "deepobj.json"
    objects.write_text('{"a":' * 100_000, encoding="utf-8")
    for path in (arrays, objects):
        code, data = ingest(str(path), "--format", fmt)
        assert code == 3
        assert (data["new"], data["quarantined"]) == (0, 1)
        assert "nested" in data["errors"][0]


def test_items_before_a_too_deep_one_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    good = '{"text": "kept", "source_id": "1"}'
    path.write_text(f"[{good}, {'[' * 500}", encoding="utf-8")
    _, data = ingest(str(path), "--format", "feedback")
    assert (data["new"], data["quarantined"]) == (1, 1)
    assert texts() == ["kept"]


def test_duplicate_header_names_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("text,id,text\nfirst text col,1,\nanother,2,second text col\n", "utf-8")
    _, data = ingest(str(path))
    assert (data["new"], data["quarantined"]) == (2, 0)
    assert texts() == ["first text col", "another"]


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "excel-unicode.csv"
    path.write_bytes("id,text\n1,Très déçu\n2,späte Lieferung\n".encode("utf-16"))
    _, data = ingest(str(path))
    assert data["new"] == 2
    assert texts() == ["Très déçu", "späte Lieferung"]


def test_a_stray_nul_damages_one_row_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"id,text\n1,fine row\n2,bad\x00row\n3,another fine\n")
    _, data = ingest(str(path))
    assert data["new"] == 3
    assert "fine row" in texts()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    result = runner.invoke(app, ["ingest", str(fifo)])
    assert result.exit_code == 1
    assert "not a regular file" in result.stderr


def test_an_empty_folder_is_reported(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["ingest", str(tmp_path / "empty")])
    assert result.exit_code == 1
    assert "no files to read" in result.stderr


def test_a_name_that_is_not_utf8_does_not_stop_the_run(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    odd = os.fsencode(str(folder)) + b"/bin\xffname.json"
    with open(odd, "wb") as handle:
        handle.write(b"\x00\x01\x02" * 100)
    (folder / "ok.csv").write_text("id,text\n1,hello\n", encoding="utf-8")
    _, data = ingest(str(folder))
    assert (data["new"], data["quarantined"]) == (1, 1)
    assert "bin\ufffdname.json" in data["errors"][0]


def test_retry_keeps_the_first_options_and_overrides_only_the_given(tmp_path: Path) -> None:
    path = tmp_path / "retry.csv"
    path.write_text(
        "Ref,When,Body,Alt\nR1,2024-02-01,,alt text one\nR2,2024-02-02,body two,x\n",
        encoding="utf-8",
    )
    args = [
        "--format",
        "csv",
        "--text-column",
        "Body",
        "--id-column",
        "Ref",
        "--time-column",
        "When",
    ]
    _, data = ingest(str(path), *args)
    assert (data["new"], data["quarantined"]) == (1, 1)
    retried = runner.invoke(app, ["quarantine", "retry", "1", "--text-column", "Alt"])
    assert retried.exit_code == 0, retried.output
    rows = [json.loads(x) for x in runner.invoke(app, ["export", "feedback"]).stdout.splitlines()]
    released = next(r for r in rows if r["text"] == "alt text one")
    assert released["source_id"] == "R1"
    assert released["received_at"].startswith("2024-02-01")
    # The file read again adds nothing and does not put the released row back in quarantine.
    _, again = ingest(str(path), *args)
    assert (again["new"], again["already_quarantined"]) == (0, 1)
    listed = runner.invoke(app, ["quarantine", "list", "--json"]).stdout
    assert listed == ""
