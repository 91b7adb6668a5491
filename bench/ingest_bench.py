"""Ingest throughput: generated social posts and emails into SQLite, against a plain baseline.

The baseline reads the same files with the standard library (json, the legacy email parser)
and inserts the same rows with plain sqlite3 executemany: no identity resolution, no dedupe, no
cases, no analysis. `amends_without_analysis` is the desk's storing alone; `amends` is the full
ingest with triage (every complaint analysed). Sizes grow to show how cost scales.

    .venv/bin/python bench/ingest_bench.py [--sizes 10000,30000,100000]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import email.utils
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from amends.db import make_engine, session_scope
from amends.demo import people, write_mbox, write_x
from amends.feedback import flows
from amends.feedback.service import IngestLimits
from amends.migrate import upgrade
from amends.sources.base import ParseOptions, Source

START = datetime(2026, 1, 1, tzinfo=UTC)


def write_inputs(tweets: Path, mbox: Path, size: int) -> None:
    """Half X API pages, half mbox messages, from ~size/4 distinct customers over 30 days."""
    rng = random.Random(size)
    who = people(rng, max(10, size // 4))
    span = timedelta(days=30)
    write_x(tweets, who, size // 2, start=START, span=span, seed=1)
    write_mbox(mbox, who, size - size // 2, start=START, span=span, seed=2)


def baseline(tweets: Path, mbox: Path, db: Path) -> int:
    """Parse with the standard library and insert with plain sqlite3."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE feedback (id INTEGER PRIMARY KEY, channel TEXT, source_id TEXT, "
        "author TEXT, text TEXT, received_at TEXT, reach INTEGER)"
    )
    rows: list[tuple[Any, ...]] = []
    count = 0

    def flush() -> None:
        nonlocal count
        conn.executemany(
            "INSERT INTO feedback (channel, source_id, author, text, received_at, reach) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        count += len(rows)
        rows.clear()

    with tweets.open("rb") as handle:
        for line in handle:
            doc = json.loads(line)
            users = {u["id"]: u for u in doc["includes"]["users"]}
            for t in doc["data"]:
                u = users[t["author_id"]]
                rows.append(
                    (
                        "x",
                        t["id"],
                        u["username"],
                        t["text"],
                        t["created_at"],
                        u["public_metrics"]["followers_count"],
                    )
                )
            if len(rows) >= 2000:
                flush()
    with mbox.open("rb") as handle:
        chunk: list[bytes] = []
        for line in handle:
            if line.startswith(b"From ") and chunk:
                _base_mail(b"".join(chunk[1:]), rows)
                chunk = []
                if len(rows) >= 2000:
                    flush()
            chunk.append(line)
        if chunk:
            _base_mail(b"".join(chunk[1:]), rows)
    flush()
    conn.commit()
    conn.close()
    return count


def _base_mail(raw: bytes, rows: list[tuple[Any, ...]]) -> None:
    # The quickest plain reading: the legacy parser, raw headers, the first text part.
    msg = email.message_from_bytes(raw)
    part = next((p for p in msg.walk() if p.get_content_type() == "text/plain"), msg)
    payload = part.get_payload(decode=True)
    text = payload.decode(part.get_content_charset() or "utf-8", "replace") if payload else ""
    rows.append(("email", msg["Message-ID"], msg["From"], text, msg["Date"], None))


def desk(tweets: Path, mbox: Path, url: str, *, analyse: bool = True) -> dict[str, int]:
    engine = make_engine(url)
    upgrade(engine)
    totals = {"read": 0, "new": 0, "quarantined": 0, "cases_opened": 0}
    for path, fmt in ((tweets, "x"), (mbox, "mbox")):
        with session_scope(engine) as session:
            result = flows.ingest_source(
                session,
                Source(name=str(path), path=path),
                fmt=fmt,
                options=ParseOptions(),
                now=datetime.now(UTC),
                limits=IngestLimits(),
                analyse=analyse,
            )
        for key in totals:
            totals[key] += getattr(result.summary, key)
    engine.dispose()
    return totals


def run(size: int, tmp: Path) -> dict[str, Any]:
    tweets, mbox = tmp / f"tweets-{size}.jsonl", tmp / f"mail-{size}.mbox"
    write_inputs(tweets, mbox, size)
    t0 = time.perf_counter()
    base_n = baseline(tweets, mbox, tmp / f"base-{size}.db")
    base_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    desk(tweets, mbox, f"sqlite:///{tmp / f'plain-{size}.db'}", analyse=False)
    plain_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    totals = desk(tweets, mbox, f"sqlite:///{tmp / f'desk-{size}.db'}")
    desk_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = desk(tweets, mbox, f"sqlite:///{tmp / f'desk-{size}.db'}")
    again_s = time.perf_counter() - t0
    return {
        "items": size,
        "baseline": {
            "rows": base_n,
            "seconds": round(base_s, 2),
            "items_per_s": round(base_n / base_s),
        },
        "amends_without_analysis": {
            "seconds": round(plain_s, 2),
            "items_per_s": round(size / plain_s),
        },
        "amends": {**totals, "seconds": round(desk_s, 2), "items_per_s": round(size / desk_s)},
        "amends_reimport": {
            "new": again["new"],
            "seconds": round(again_s, 2),
            "items_per_s": round(size / again_s),
        },
        "amends_vs_baseline": round(base_s / desk_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,30000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        results = [run(size, Path(tmp)) for size in sizes]
    json.dump({"python": sys.version.split()[0], "runs": results}, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
