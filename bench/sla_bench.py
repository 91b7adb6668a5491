"""SLA clock speed: business-time deadlines for synthetic cases, next to plain datetime sums.

Part "deadlines": a first-response and a resolution deadline for each of --cases cases (starts
spread over 2026, a mix of three calendars: 24/7 UTC; London Mon-Fri 09-17 with England's
holidays; New York split shift 08-12 + 13-17 with New York's holidays; targets 1h, 4h, 8h, 24h,
3d), timed cold (empty week cache) and warm, next to `start + timedelta` over the same inputs.
Then how the cost grows with the target: 1h, 3d and 30d.

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


# Further parts go here: a function `part_NAME(args) -> dict` with its figures, registered in
# PARTS below (e.g. "tick": re-evaluate the clocks of 10,000 open cases), plus any options it
# needs in `main`'s parser.

PARTS: dict[str, Callable[[argparse.Namespace], dict[str, object]]] = {
    "deadlines": part_deadlines,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="synthetic cases")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the cases")
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
