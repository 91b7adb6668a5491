"""Queue page speed over HTTP: GET /queue as a signed-in lead, rendering included, next to
baselines measured in the same run.

The database is filled by `queue_bench.seed_open_cases` (N open cases as the desk holds them,
and half as many closed ones). A lead and a browser session are made with the users service,
and the app is driven in-process through `fastapi.testclient.TestClient`: what is timed is the
server's work for one request (session check, the listing's queries, the dropdowns' counts,
the Jinja2 page) plus the test client's own hop, which `http_floor` shows.

Pages timed: the first page (50 rows), a filtered page (one team, breached, waiting ones
included), a text search, and page 100 (offset 4,950: past the end at 1,000 cases, where it
still counts what matches). Baselines: `http_floor` (GET /favicon.ico: no session, no
database), `api_queue` (GET /api/v1/queue?limit=50 with an API token: the API's queue as
JSON), `listing_first_page` (the bare `cases.listing.queue_page` call the page makes,
without HTTP, the dropdowns or the template), and `listing_facets` (the dropdowns' counts,
which every page also reads: one GROUP BY over the open cases). Each figure is the median
(and the fastest) of --repeat runs taken in rounds, one request of each per round, after a
warm-up round; with the statements each request ran and the size of its answer. Sizes 1,000
and 10,000 show growth.

    .venv/bin/python bench/queue_page_bench.py [--sizes 1000,10000] [--repeat 15]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

A file SQLite database always; PostgreSQL too when --database-url is given (in a schema of its
own, dropped afterwards). Prints a table on stderr and one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The package and this folder's seeding code, when run as a script from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from amends.api.app import create_app
from amends.api.auth import SESSION_COOKIE
from amends.cases.listing import QueueFilter, facets, queue_page
from amends.config import Settings
from amends.db import session_scope
from amends.users import service as users
from amends.users.rules import ROLE_SCOPES, Role
from bench.queue_bench import Seeded, fresh_database, seed_open_cases

PAGE = 50
LEAD = "bench-lead@example.com"
_ROW = re.compile(r'<input type="checkbox" name="case" value="\d+"')


@dataclass(frozen=True)
class Desk:
    seeded: Seeded
    cookie: str  # the lead's session
    token: str  # the lead's API token


def _desk(engine: Engine, n: int, seed: int) -> Desk:
    seeded = seed_open_cases(engine, n, seed=seed)
    with session_scope(engine) as s:
        user = users.add_user(
            s, email=LEAD, name="Bench Lead", role=Role.LEAD, password=None, now=seeded.now
        )
        _, cookie = users.start_session(s, user, now=seeded.now)
        _, token = users.issue_token(
            s, LEAD, name="bench", scopes=ROLE_SCOPES[Role.LEAD], now=seeded.now
        )
    return Desk(seeded, cookie, token)


@dataclass
class _Statements:
    count: int = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


@dataclass(frozen=True)
class _Answer:
    rows: int | None  # cases listed, for a page
    size: int | None  # bytes of the answer, for a request


def _medians(
    engine: Engine, runs: dict[str, Callable[[], _Answer]], repeat: int
) -> dict[str, dict[str, Any]]:
    """Each run `repeat` times after a warm-up round, one of each per round so that a busy
    machine slows them alike: median and fastest in ms, statements, rows and bytes."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    last: dict[str, tuple[int, _Answer]] = {}
    for attempt in range(repeat + 1):
        for name, fn in runs.items():
            counter = _Statements()
            event.listen(engine, "before_cursor_execute", counter)
            try:
                started = time.perf_counter()
                answer = fn()
                elapsed = time.perf_counter() - started
            finally:
                event.remove(engine, "before_cursor_execute", counter)
            last[name] = (counter.count, answer)
            if attempt:
                times[name].append(elapsed)
    return {
        name: {
            "ms": round(statistics.median(spent) * 1000, 2),
            "min_ms": round(min(spent) * 1000, 2),
            "statements": last[name][0],
            "rows": last[name][1].rows,
            "bytes": last[name][1].size,
        }
        for name, spent in times.items()
    }


def measure(engine: Engine, url: str, desk: Desk, repeat: int) -> dict[str, Any]:
    """The page's figures and the baselines' on a seeded database."""
    now = desk.seeded.now
    payments = desk.seeded.team_ids["Payments"]
    pages = {
        "page_first": "/queue",
        "page_filtered": f"/queue?team={payments}&breached=1&status=all",
        "page_search": "/queue?q=lopez",
        "page_100": "/queue?page=100",
    }
    app = create_app(Settings(database_url=url), engine=engine, clock=lambda: now)
    with TestClient(app, follow_redirects=False) as web, TestClient(app) as api:
        web.cookies.set(SESSION_COOKIE, desk.cookie)
        api.headers["Authorization"] = f"Bearer {desk.token}"

        def get_page(path: str) -> Callable[[], _Answer]:
            def run() -> _Answer:
                answer = web.get(path)
                if answer.status_code != 200:
                    raise SystemExit(f"GET {path}: {answer.status_code} {answer.text[:300]}")
                return _Answer(len(_ROW.findall(answer.text)), len(answer.content))

            return run

        def floor() -> _Answer:
            answer = web.get("/favicon.ico")
            return _Answer(None, len(answer.content))

        def api_queue() -> _Answer:
            answer = api.get(f"/api/v1/queue?limit={PAGE}")
            if answer.status_code != 200:
                raise SystemExit(f"GET /api/v1/queue: {answer.status_code} {answer.text[:300]}")
            return _Answer(len(answer.json()["items"]), len(answer.content))

        def listing() -> _Answer:
            with Session(engine) as s:
                found = queue_page(s, QueueFilter(), team_ids=None, limit=PAGE, offset=0, now=now)
            return _Answer(len(found.rows), None)

        def counts() -> _Answer:
            with Session(engine) as s:
                facets(s, team_ids=None)
            return _Answer(None, None)

        runs: dict[str, Callable[[], _Answer]] = {
            "http_floor": floor,
            "api_queue": api_queue,
            "listing_first_page": listing,
            "listing_facets": counts,
            **{name: get_page(path) for name, path in pages.items()},
        }
        timings = _medians(engine, runs, repeat)
    api_ms = timings["api_queue"]["ms"]
    listing_ms = timings["listing_first_page"]["ms"]
    for figure in timings.values():
        figure["x_api_queue"] = round(figure["ms"] / api_ms, 2) if api_ms else None
        figure["x_listing"] = round(figure["ms"] / listing_ms, 2) if listing_ms else None
    return {"paths": pages, "timings": timings}


def run(kind: str, url: str | None, sizes: list[int], repeat: int, seed: int) -> dict[str, Any]:
    by_size: dict[str, Any] = {}
    for n in sizes:
        with fresh_database(kind, url) as engine:
            desk = _desk(engine, n, seed)
            engine_url = engine.url.render_as_string(hide_password=False)
            figures = measure(engine, engine_url, desk, repeat)
        by_size[str(n)] = {"seed_seconds": desk.seeded.seconds, **figures}
    out: dict[str, Any] = {"by_size": by_size}
    if len(sizes) > 1:
        # Median time at the largest size over the median at the smallest.
        small = by_size[str(min(sizes))]["timings"]
        large = by_size[str(max(sizes))]["timings"]
        out["growth"] = {
            "cases": f"{min(sizes)} -> {max(sizes)}",
            **{
                name: round(large[name]["ms"] / small[name]["ms"], 2) if small[name]["ms"] else None
                for name in large
            },
        }
    return out


def _table(result: dict[str, Any]) -> str:
    """The medians as a small table: one line a figure, one column a backend and size."""
    columns = [
        (backend, size, figures["timings"])
        for backend in ("sqlite", "postgresql")
        if backend in result
        for size, figures in result[backend]["by_size"].items()
    ]
    names = list(columns[0][2]) if columns else []
    head = f"{'median ms':<20}" + "".join(f"{f'{b} {int(n):,}':>22}" for b, n, _ in columns)
    lines = [head, "-" * len(head)]
    for name in names:
        cells = "".join(
            f"{t[name]['ms']:>9.2f} ({t[name]['x_api_queue']:>4.2f}x api)" for _, _, t in columns
        )
        lines.append(f"{name:<20}{cells}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="open cases, comma-separated")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per figure")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", help="also measure on this PostgreSQL server")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    result: dict[str, Any] = {
        "bench": "queue_page",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "page": PAGE,
        "repeat": args.repeat,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "sqlite": run("sqlite", None, sizes, args.repeat, args.seed),
    }
    if args.database_url:
        result["postgresql"] = run("postgresql", args.database_url, sizes, args.repeat, args.seed)
    # Other work on the machine slows every figure alike (they run in rounds), not the ratios.
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(_table(result), file=sys.stderr)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
