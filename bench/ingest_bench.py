"""Ingest throughput: generated social posts and emails into SQLite, against a plain baseline.

The baseline reads the same files with the standard library (json, email) and inserts the same
rows with plain sqlite3 executemany: no identity resolution, no dedupe, no cases. The ratio says
what the desk's work costs on top of parsing and storing. Sizes grow to show how cost scales.

    .venv/bin/python bench/ingest_bench.py [--sizes 10000,30000,100000]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from amends.db import make_engine, session_scope
from amends.demo import BRANDS, COMPLAINTS, FIRST, LAST, PRODUCTS
from amends.feedback import flows
from amends.feedback.service import IngestLimits
from amends.migrate import upgrade
from amends.sources.base import ParseOptions, Source

START = datetime(2026, 1, 1, tzinfo=UTC)


def _people(rng: random.Random, n: int) -> list[tuple[str, str, str, str]]:
    out = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        handle = f"{first}{i}".encode("ascii", "ignore").decode()
        out.append((str(10_000 + i), f"{first} {last}", handle, f"{handle.lower()}@example.com"))
    return out


def write_tweets(path: Path, n: int, seed: int = 1) -> None:
    """X API v2 responses as JSONL, 100 tweets per page with includes.users."""
    rng = random.Random(seed)
    people = _people(rng, max(10, n // 4))
    with path.open("w", encoding="utf-8") as out:
        for page in range(0, n, 100):
            tweets, users = [], {}
            for i in range(page, min(n, page + 100)):
                uid, name, handle, _ = rng.choice(people)
                brand = rng.choice(BRANDS).replace(" ", "")
                text = f"@{brand} " + rng.choice(COMPLAINTS).format(p=rng.choice(PRODUCTS))
                when = START + timedelta(seconds=i * 3)
                tweets.append({"id": str(1_000_000_000 + i), "text": text, "author_id": uid,
                               "created_at": when.isoformat().replace("+00:00", "Z"),
                               "conversation_id": str(1_000_000_000 + i), "lang": "en"})
                users[uid] = {"id": uid, "name": name, "username": handle,
                              "public_metrics": {"followers_count": rng.randint(0, 50_000)}}
            out.write(json.dumps({"data": tweets, "includes": {"users": list(users.values())}}))
            out.write("\n")


def write_mbox(path: Path, n: int, seed: int = 2) -> None:
    rng = random.Random(seed)
    people = _people(rng, max(10, n // 4))
    with path.open("wb") as out:
        for i in range(n):
            _, name, _, addr = rng.choice(people)
            product = rng.choice(PRODUCTS)
            msg = EmailMessage()
            msg["From"] = f"{name} <{addr}>"
            msg["To"] = "care@northwind.example"
            msg["Subject"] = f"Problem with my {product}"
            msg["Date"] = email.utils.format_datetime(START + timedelta(seconds=i * 3))
            msg["Message-ID"] = f"<m{i}@example.com>"
            msg.set_content(rng.choice(COMPLAINTS).format(p=product) + f"\n\nRegards,\n{name}\n")
            data = msg.as_bytes(policy=email.policy.SMTP.clone(linesep="\n"))
            when = (START + timedelta(seconds=i * 3)).strftime("%a %b %d %H:%M:%S %Y")
            out.write(f"From {addr} {when}\n".encode())
            out.write(data.replace(b"\nFrom ", b"\n>From "))
            out.write(b"\n")


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
                rows.append(("x", t["id"], u["username"], t["text"], t["created_at"],
                             u["public_metrics"]["followers_count"]))
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
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    body = msg.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    rows.append(("email", msg["Message-ID"], str(msg["From"]), text, msg["Date"], None))


def desk(tweets: Path, mbox: Path, url: str) -> dict[str, int]:
    engine = make_engine(url)
    upgrade(engine)
    totals = {"read": 0, "new": 0, "quarantined": 0, "cases_opened": 0}
    for path, fmt in ((tweets, "x"), (mbox, "mbox")):
        with session_scope(engine) as session:
            result = flows.ingest_source(
                session, Source(name=str(path), path=path), fmt=fmt, options=ParseOptions(),
                now=datetime.now(UTC), limits=IngestLimits(),
            )
        for key in totals:
            totals[key] += getattr(result.summary, key)
    engine.dispose()
    return totals


def run(size: int, tmp: Path) -> dict[str, Any]:
    tweets, mbox = tmp / f"tweets-{size}.jsonl", tmp / f"mail-{size}.mbox"
    write_tweets(tweets, size // 2)
    write_mbox(mbox, size - size // 2)
    t0 = time.perf_counter()
    base_n = baseline(tweets, mbox, tmp / f"base-{size}.db")
    base_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    totals = desk(tweets, mbox, f"sqlite:///{tmp / f'desk-{size}.db'}")
    desk_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = desk(tweets, mbox, f"sqlite:///{tmp / f'desk-{size}.db'}")
    again_s = time.perf_counter() - t0
    return {
        "items": size,
        "baseline": {"rows": base_n, "seconds": round(base_s, 2),
                     "items_per_s": round(base_n / base_s)},
        "amends": {**totals, "seconds": round(desk_s, 2), "items_per_s": round(size / desk_s)},
        "amends_reimport": {"new": again["new"], "seconds": round(again_s, 2),
                            "items_per_s": round(size / again_s)},
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
