"""Two imports at once, on a database neither has set up yet: both finish, nothing is doubled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.conftest import PG_URL
from typer.testing import CliRunner

from amends.cli import app
from amends.config import get_settings
from amends.db import make_engine


@pytest.fixture
def fresh_url(tmp_path: Path, pg_schema: str | None) -> Iterator[str]:
    """A database no one has set up yet, so that both imports race to create the schema."""
    if pg_schema is None:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    schema = f"{pg_schema}_race"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_two_concurrent_imports_of_overlapping_files(tmp_path: Path, fresh_url: str) -> None:
    url = fresh_url
    emails = [f"person{n}@example.com" for n in range(600)]
    files = []
    for name, order in (("a.jsonl", emails), ("b.jsonl", list(reversed(emails)))):
        path = tmp_path / name
        path.write_text(
            "".join(
                json.dumps({"text": f"complaint from {e} in {name}", "email": e,
                            "source_id": f"{name}-{e}"}) + "\n"
                for e in order
            ),
            encoding="utf-8",
        )  # fmt: skip
        files.append(path)
    env = {**os.environ, "AMENDS_DATABASE_URL": url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "amends.cli", "ingest", str(p), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in files
    ]
    results = [p.communicate(timeout=240) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert json.loads(out)["new"] == 600
    get_settings.cache_clear()
    people = CliRunner().invoke(app, ["export", "customers"], env={"AMENDS_DATABASE_URL": url})
    get_settings.cache_clear()
    assert len(people.stdout.splitlines()) == 600  # one customer per address, not two
