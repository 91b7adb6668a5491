"""`amends ingest`, `quarantine` and `export` as an operator uses them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.conftest import needs_data
from typer.testing import CliRunner

from amends.cli import app

runner = CliRunner()


def amends(*args: str) -> Any:
    return runner.invoke(app, list(args))


def summary(*args: str) -> dict[str, Any]:
    result = amends("ingest", *args, "--json")
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def export_feedback() -> list[dict[str, Any]]:
    result = amends("export", "feedback", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture
def desk(cli_env: Callable[[], Engine]) -> Callable[[], Engine]:
    return cli_env


def test_csv_with_named_columns_and_reimport(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "complaints.csv"
    path.write_text(
        "Complaint ID,Date received,Consumer complaint narrative,Product\n"
        '101,2019/9/24,"They charged me twice,\nand ignored my letters.",Credit card\n'
        "102,2019/9/25,,Mortgage\n"
        "103,09/26/2019,Rude staff on the phone,Checking account\n",
        encoding="utf-8",
    )
    args = [
        str(path),
        "--format",
        "csv",
        "--text-column",
        "Consumer complaint narrative",
        "--time-column",
        "Date received",
        "--id-column",
        "Complaint ID",
    ]
    first = summary(*args)
    assert {k: first[k] for k in ("read", "new", "duplicates", "quarantined")} == {
        "read": 3,
        "new": 2,
        "duplicates": 0,
        "quarantined": 1,
    }
    again = summary(*args)
    assert {k: again[k] for k in ("read", "new", "duplicates", "quarantined")} == {
        "read": 3,
        "new": 0,
        "duplicates": 2,
        "quarantined": 1,
    }
    rows = export_feedback()
    assert [r["source_id"] for r in rows] == ["101", "103"]
    assert rows[0]["text"] == "They charged me twice,\nand ignored my letters."
    assert rows[0]["received_at"].startswith("2019-09-24")
    assert rows[1]["received_at"].startswith("2019-09-26")
    for key in (
        "id",
        "direction",
        "channel",
        "customer_id",
        "text",
        "public",
        "reach",
        "received_at",
        "source_id",
    ):
        assert key in rows[0]
    # The row without text is kept once, however often the file is imported.
    listed = amends("quarantine", "list", "--json")
    entries = [json.loads(x) for x in listed.stdout.splitlines()]
    assert len(entries) == 1
    assert entries[0]["location"] == "line 4"
    assert "no text" in entries[0]["reason"]


def test_exit_code_three_when_something_was_quarantined(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text('{"text": "fine", "source_id": "a"}\n{"text": \n', encoding="utf-8")
    result = amends("ingest", str(path))
    assert result.exit_code == 3
    assert "1 new" in result.stdout
    assert "line 2" in result.stderr
    assert "malformed JSON" in result.stderr


def test_usage_errors_are_exit_two(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("text\nhello\n", encoding="utf-8")
    assert amends("ingest", str(path), "--format", "nonsense").exit_code == 2
    missing = amends("ingest", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1
    assert "no such file" in missing.stderr


def test_wrong_column_name_is_explained(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("body,when\nhello,2020-01-01\n", encoding="utf-8")
    result = amends("ingest", str(path), "--text-column", "Narrative", "--json")
    assert result.exit_code == 2  # a usage error: the file is fine, the option is not
    assert "no column 'Narrative'" in result.stderr
    assert "body, when" in result.stderr
    assert str(path) in result.stderr
    assert amends("quarantine", "list", "--json").stdout == ""
    bad = amends("ingest", str(path), "--encoding", "no-such-codec")
    assert bad.exit_code == 2
    assert "unknown encoding" in bad.output


def test_wrong_encoding_row_is_quarantined_and_others_go_in(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "id,text\n1,caf\u00e9 closed early\n".encode()
        + b"2,na\xefve bytes from latin-1\n"
        + "3,d\u00e9j\u00e0 vu\n".encode()
    )
    data = summary(str(path))
    assert (data["new"], data["quarantined"]) == (2, 1)
    assert "line 3" in data["errors"][0]
    texts = [r["text"] for r in export_feedback()]
    assert texts == ["caf\u00e9 closed early", "d\u00e9j\u00e0 vu"]


def test_latin1_file_is_decoded(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,text\n1,Très déçu du délai de livraison\n".encode("cp1252"))
    data = summary(str(path))
    assert data["new"] == 1
    assert export_feedback()[0]["text"] == "Très déçu du délai de livraison"


def test_binary_file_is_quarantined_not_crashing(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
    data = summary(str(path))
    assert (data["new"], data["quarantined"]) == (0, 1)
    assert "binary" in data["errors"][0]


def test_quarantine_show_retry_and_discard(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        "id,text,when\n1,late again,not a date\n2,broken,2020-01-01\n", encoding="utf-8"
    )
    data = summary(str(path), "--time-column", "when")
    assert (data["new"], data["quarantined"]) == (1, 1)
    shown = amends("quarantine", "show", "1")
    assert shown.exit_code == 0
    assert "not a date" in shown.stdout
    assert "late again" in shown.stdout
    # Still broken: it stays in quarantine with the reason.
    still = amends("quarantine", "retry", "1")
    assert still.exit_code == 1
    assert "still unreadable" in still.stderr
    fixed = tmp_path / "fixed.csv"
    fixed.write_text("id,text,when\n1,late again,2020-01-02\n", encoding="utf-8")
    ok = amends("quarantine", "retry", "1", "--edited", str(fixed), "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["new"] == 1
    assert amends("quarantine", "retry", "1").exit_code == 1  # already released
    assert len(export_feedback()) == 2
    listed = amends("quarantine", "list", "--status", "released", "--json")
    assert [json.loads(x)["id"] for x in listed.stdout.splitlines()] == [1]
    assert amends("quarantine", "discard", "99").exit_code == 1


def test_folders_are_read_file_by_file(desk: Any, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("id,text\n1,one\n", encoding="utf-8")
    (tmp_path / "in" / "b.jsonl").write_text(
        '{"text": "two", "source_id": "b"}\n', encoding="utf-8"
    )
    data = summary(str(tmp_path / "in"))
    assert data["new"] == 2
    assert [f["format"] for f in data["files"]] == ["csv", "feedback"]


def test_empty_file_is_reported(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    data = summary(str(path))
    assert data["quarantined"] == 1
    assert "empty" in data["errors"][0]


def test_customers_export(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(
        '{"text": "a", "email": "Ana@Example.com", "author_name": "Ana", "source_id": "1"}\n'
        '{"text": "b", "handle": "@ana_x", "email": "ana@example.com", "source_id": "2"}\n',
        encoding="utf-8",
    )
    summary(str(path))
    result = amends("export", "customers", "--format", "jsonl")
    people = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(people) == 1
    assert people[0]["name"] == "Ana"
    assert {i["kind"] for i in people[0]["identities"]} == {"email", "handle"}


def test_cfpb_sample_goes_in_with_named_columns(desk: Any) -> None:
    path = needs_data("cfpb_complaints", "complaints.csv")
    args = [
        str(path),
        "--format",
        "csv",
        "--text-column",
        "Consumer complaint narrative",
        "--time-column",
        "Date received",
        "--id-column",
        "Complaint ID",
    ]
    first = summary(*args)
    assert first["new"] == 879  # the rows with a narrative
    assert first["read"] == first["new"] + first["quarantined"]
    assert all("no text" in e for e in first["errors"])
    again = summary(*args)
    assert (again["new"], again["duplicates"]) == (0, 879)
