"""SLA clock speed: business-time deadlines for synthetic cases, next to plain datetime sums.

Part "deadlines": a first-response and a resolution deadline for each of --cases cases (starts
spread over 2026, a mix of three calendars: 24/7 UTC; London Mon-Fri 09-17 with England's
holidays; New York split shift 08-12 + 13-17 with New York's holidays; targets 1h, 4h, 8h, 24h,
3d), timed cold (empty week cache) and warm, next to `start + timedelta` over the same inputs.
Then how the cost grows with the target: 1h, 3d and 30d.

Part "tick": --open-cases complaints ingested under the example playbook (clocks, timers,
assignment), then one tick thirty days later that fires every warning, breach and escalation.

    .venv/bin/python bench/sla_bench.py [--cases 100000] [--seed 7]

Prints one JSON object, one key per part.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from amends.customers.rules import IdentityKind, IdentityRef
from amends.feedback.rules import Channel
from amends.sla import rules
from amends.sla.holidays import public_holidays
from amends.sla.rules import BusinessCalendar, add_business_time, parse_hours

YEAR = 2026
FIRST_RESPONSE = (timedelta(hours=1), timedelta(hours=4), timedelta(hours=8))
RESOLUTION = (timedelta(hours=24), timedelta(days=3))
GROWTH_TARGETS = {"1h": timedelta(hours=1), "3d": timedelta(days=3), "30d": timedelta(days=30)}

Case = tuple[datetime, BusinessCalendar, timedelta, timedelta]


def calendars() -> list[BusinessCalendar]:
    """The three calendars of the mix; holidays cover the year and the spill into the next."""
    years = [YEAR, YEAR + 1, YEAR + 2]
    london = (parse_hours("09:00-17:00"),) * 5 + ((), ())
    split = (parse_hours("08:00-12:00, 13:00-17:00"),) * 5 + ((), ())
    return [
        BusinessCalendar.always(),
        BusinessCalendar(
            name="London 9-5",
            tz="Europe/London",
            hours=london,
            holidays=public_holidays("GB", subdivision="ENG", years=years),
        ),
        BusinessCalendar(
            name="New York split",
            tz="America/New_York",
            hours=split,
            holidays=public_holidays("US", subdivision="NY", years=years),
        ),
    ]


def synthetic_cases(n: int, seed: int) -> list[Case]:
    """Starts uniform over the year to the second; calendar and targets drawn at random."""
    rng = random.Random(seed)
    cals = calendars()
    origin = datetime(YEAR, 1, 1, tzinfo=UTC)
    seconds = 365 * 86400
    return [
        (
            origin + timedelta(seconds=rng.randrange(seconds)),
            rng.choice(cals),
            rng.choice(FIRST_RESPONSE),
            rng.choice(RESOLUTION),
        )
        for _ in range(n)
    ]


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _business_deadlines(cases: list[Case]) -> list[tuple[datetime, datetime]]:
    return [
        (add_business_time(start, first, cal), add_business_time(start, resolution, cal))
        for start, cal, first, resolution in cases
    ]


def _plain_deadlines(cases: list[Case]) -> list[tuple[datetime, datetime]]:
    return [(start + first, start + resolution) for start, _cal, first, resolution in cases]


def part_deadlines(args: argparse.Namespace) -> dict[str, object]:
    """First-response and resolution deadlines for --cases cases, cold and warm, vs baseline."""
    cases = synthetic_cases(args.cases, args.seed)
    deadlines = 2 * len(cases)
    rules._week.cache_clear()
    cold = _timed(lambda: _business_deadlines(cases))
    warm = min(_timed(lambda: _business_deadlines(cases)) for _ in range(3))
    baseline = min(_timed(lambda: _plain_deadlines(cases)) for _ in range(3))

    growth: dict[str, dict[str, float]] = {}
    sample = cases[: min(len(cases), 20_000)]
    for label, target in GROWTH_TARGETS.items():
        per_calendar: dict[str, float] = {}
        for cal in calendars():
            subset = [(start, cal) for start, *_ in sample]
            seconds = min(
                _timed(lambda s=subset, t=target: [add_business_time(a, t, c) for a, c in s])
                for _ in range(3)
            )
            per_calendar[cal.name] = round(seconds / len(subset) * 1e6, 3)
        growth[label] = per_calendar

    return {
        "cases": len(cases),
        "deadlines": deadlines,
        "calendars": [cal.name for cal in calendars()],
        "cold_seconds": round(cold, 4),
        "warm_seconds": round(warm, 4),
        "cases_per_second_warm": round(len(cases) / warm),
        "us_per_deadline_cold": round(cold / deadlines * 1e6, 3),
        "us_per_deadline_warm": round(warm / deadlines * 1e6, 3),
        "baseline_plain_sum_us_per_deadline": round(baseline / deadlines * 1e6, 3),
        "ratio_to_baseline_warm": round(warm / baseline, 1),
        "week_cache": rules._week.cache_info()._asdict(),
        "us_per_deadline_by_target": growth,
    }


def part_tick(args: argparse.Namespace) -> dict[str, object]:
    """--open-cases complaints (one customer each) ingested into a fresh SQLite desk under the
    example playbook, so every case has its clocks and timers; then one `tick` thirty days on,
    when every warning, breach and escalation is due. The baseline is the floor: one UPDATE
    that marks the same timers done, with no work behind them."""
    import tempfile

    from sqlalchemy import func, select, update

    from amends.config import Settings
    from amends.db import make_engine, session_scope
    from amends.feedback.service import ingest
    from amends.migrate import upgrade
    from amends.models import Timer
    from amends.playbook.service import example_source, import_playbook
    from amends.sources.base import Item
    from amends.timers.flows import run_due

    n = args.open_cases
    start = datetime(YEAR, 3, 2, 9, tzinfo=UTC)
    texts = [
        "You charged me twice for order {i}, I want the money back.",
        "Parcel {i} has not arrived after two weeks, where is it?",
        "The app crashes when I open my account page ({i}).",
        "Order {i} came broken and nobody answers my mails.",
    ]
    items = [
        Item(
            channel=Channel.EMAIL,
            text=texts[i % len(texts)].format(i=i),
            received_at=start + timedelta(seconds=7 * i),
            source_id=f"bench-{i}",
            author_name=f"Customer {i}",
            identities=(IdentityRef(IdentityKind.EMAIL, f"c{i}@example.com"),),
        )
        for i in range(n)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        with session_scope(engine) as session:
            import_playbook(session, example_source(), now=start, actor="bench")
        t0 = time.perf_counter()
        with session_scope(engine) as session:
            summary = ingest(session, items, origin="bench", fmt="feedback", now=start)
        ingest_s = time.perf_counter() - t0
        with session_scope(engine, write=False) as session:
            pending = session.scalar(
                select(func.count()).select_from(Timer).where(Timer.status == "pending")
            )
        later = start + timedelta(days=30)
        t0 = time.perf_counter()
        stats = run_due(engine, now=later, settings=Settings())
        tick_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with session_scope(engine) as session:
            session.execute(update(Timer).values(status="pending"))
        with session_scope(engine) as session:
            session.execute(
                update(Timer).where(Timer.due_at <= later).values(status="done", fired_at=later)
            )
        floor_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        idle = run_due(engine, now=later, settings=Settings())
        idle_s = time.perf_counter() - t0
        engine.dispose()
    return {
        "open_cases": summary.cases_opened,
        "ingest_with_clocks_s": round(ingest_s, 2),
        "ingest_items_per_s": round(n / ingest_s),
        "timers_pending_after_ingest": pending,
        "tick_fired": stats.total_fired,
        "tick_fired_by_kind": stats.fired,
        "tick_s": round(tick_s, 2),
        "timers_per_s": round(stats.total_fired / tick_s) if tick_s else None,
        "baseline_mark_done_s": round(floor_s, 3),
        "ratio_to_baseline": round(tick_s / floor_s, 1) if floor_s else None,
        "idle_tick_s": round(idle_s, 4),
        "idle_tick_fired": idle.total_fired,
    }


PARTS: dict[str, Callable[[argparse.Namespace], dict[str, object]]] = {
    "deadlines": part_deadlines,
    "tick": part_tick,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="synthetic cases")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the cases")
    parser.add_argument(
        "--open-cases", type=int, default=10_000, help="open cases for the tick part"
    )
    parser.add_argument(
        "--part", choices=sorted(PARTS), action="append", help="run only this part (repeatable)"
    )
    args = parser.parse_args()
    result: dict[str, object] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    for name in args.part or list(PARTS):
        result[name] = PARTS[name](args)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
