"""`amends customers import`: CRM facts join the customers the desk already knows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from typer.testing import CliRunner

from amends.cli import app

runner = CliRunner()


def test_crm_import_enriches_and_links(cli_env: Callable[[], Engine], tmp_path: Path) -> None:
    feed = tmp_path / "f.jsonl"
    feed.write_text(
        '{"text": "late again", "email": "ana@example.com", "source_id": "1"}\n'
        '{"text": "@brand late", "handle": "@ana_l", "platform": "x", "channel": "x",'
        ' "source_id": "2"}\n',
        encoding="utf-8",
    )
    assert runner.invoke(app, ["ingest", str(feed)]).exit_code == 0
    crm = tmp_path / "crm.csv"
    crm.write_text(
        "name,email,x_handle,phone,customer_since,order_count,lifetime_value\n"
        'Ana López,ANA@example.com,ana_l,+34 612 345 678,2019-03-01,42,"1,250.50"\n'
        "Bram de Vries,bram@example.org,,,2024-01-10,1,19.99\n"
        "No Identity,,,,2020-01-01,3,10\n"
        "Bad Date,carl@example.com,,,yesterday-ish,2,5\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["customers", "import", str(crm), "--json"])
    assert result.exit_code == 3, result.output  # two rows rejected
    data = json.loads(result.stdout)
    assert (data["read"], data["created"], data["updated"], data["merged"]) == (4, 1, 1, 1)
    assert any(":4:" in e and "no identity" in e for e in data["errors"])
    assert any(":5:" in e and "customer_since" in e for e in data["errors"])
    shown = runner.invoke(app, ["customers", "show", "ana@example.com", "--json"])
    assert shown.exit_code == 0, shown.output
    ana: dict[str, Any] = json.loads(shown.stdout)
    assert ana["name"] == "Ana López"
    assert ana["order_count"] == 42
    assert ana["lifetime_value"] == "1250.50"
    assert ana["customer_since"].startswith("2019-03-01")
    assert {i["kind"] for i in ana["identities"]} == {"email", "handle", "phone"}
    assert ana["feedback_count"] == 2  # both channels' complaints in one history
    by_phone = runner.invoke(app, ["customers", "show", "+34612345678", "--json"])
    assert json.loads(by_phone.stdout)["id"] == ana["id"]


def test_crm_file_without_identity_columns_is_refused(
    cli_env: Callable[[], Engine], tmp_path: Path
) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text("name,orders\nAna,3\n", encoding="utf-8")
    result = runner.invoke(app, ["customers", "import", str(crm)])
    assert result.exit_code == 1
    assert "no identity column" in result.stderr


def test_implausible_crm_values_are_rejected_with_the_column(
    cli_env: Callable[[], Engine], tmp_path: Path
) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text(
        "name,email,order_count,lifetime_value\n"
        "Inf,inf@example.com,1,inf\n"
        "Huge,huge@example.com,1,1e9999\n"
        "Frac,frac@example.com,3.7,10\n"
        "Neg,neg@example.com,1,-5\n"
        "Fine,fine@example.com,2,12.5\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["customers", "import", str(crm), "--json"])
    data = json.loads(result.stdout)
    assert (data["created"], data["rejected"]) == (1, 4)
    assert sum("lifetime_value" in e for e in data["errors"]) == 3
    assert any("order_count" in e for e in data["errors"])
    people = runner.invoke(app, ["export", "customers"]).stdout.splitlines()
    assert [json.loads(p)["lifetime_value"] for p in people] == ["12.50"]


def test_a_bare_handle_finds_the_customer(cli_env: Callable[[], Engine], tmp_path: Path) -> None:
    feed = tmp_path / "f.jsonl"
    feed.write_text(
        '{"text": "late", "handle": "CinVakas", "platform": "x", "channel": "x",'
        ' "source_id": "1"}\n',
        encoding="utf-8",
    )
    runner.invoke(app, ["ingest", str(feed)])
    found = runner.invoke(app, ["customers", "show", "CinVakas", "--json"])
    assert found.exit_code == 0, found.output
    missing = runner.invoke(app, ["customers", "show", "nobody-here"])
    assert missing.exit_code == 1
    assert "tried as" in missing.stderr
