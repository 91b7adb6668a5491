"""Spike detection on real arrival times with injected bursts: detection, delay, false alarms.

Background streams, keyed as the desk keys feedback (every item under two keys):

* CFPB complaints (`cfpb_complaints/complaints.csv`), keys ``product:<Product>`` and
  ``channel:<Submitted via>``. The file has dates only, so each day's complaints are spread over
  09:00-17:00 New York time by a seeded RNG.
* Twitter customer care (`twitter_customer_care/dev.json`), every client tweet at its own time,
  keys ``company:<brand>`` and ``channel:x``.

Detection runs every 15 minutes, as the worker does, over the period that holds all but the
first 5 % of a stream's items (after a full history of it), reading hourly counts with the
current hour counted up to the run. False alarms are the alerts (after `should_alert` with a
12-hour cooldown) on the background alone, per week, all keys together. Each burst (sizes 5,
10, 20, 50; items at uniform times over 1-6 hours; start uniform; half on a key drawn at random,
half on the busiest key) is then added alone to the background. It is detected when a run
between its start and an hour after its last complete window flags its key where the
background alone did not; the delay runs from the burst's start to that run, which is the end
of the window that fired (or the first run after the top of the hour, for a complete window)."""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from amends.incidents.detect import Spike, SpikeConfig, detect, should_alert
from evals._common import data_dir, emit

QUARTER = 900  # seconds between runs
PER_HOUR = 4
SIZES = (5, 10, 20, 50)
COOLDOWN = timedelta(hours=12)
NEW_YORK = ZoneInfo("America/New_York")
# The burst key's items per day over the history before the burst.
VOLUMES = (("quiet <2/day", 2.0), ("moderate 2-20/day", 20.0), ("busy >=20/day", float("inf")))

CONFIGS: dict[str, SpikeConfig] = {
    "default": SpikeConfig(),
    "spread_0": SpikeConfig(spread=0),
    "sensitive (min_count 4, min_ratio 2, alpha 1e-3)": SpikeConfig(
        min_count=4, min_ratio=2.0, alpha=1e-3
    ),
    "strict (min_count 8, alpha 1e-6)": SpikeConfig(min_count=8, alpha=1e-6),
    "window 3h": SpikeConfig(window=timedelta(hours=3)),
}


@dataclass
class Stream:
    """Item times per key as quarter-hour counts from `t0` (a whole hour, UTC seconds)."""

    name: str
    t0: int
    quarters: dict[str, np.ndarray]
    first_step: int  # first run (quarter index) evaluated
    last_step: int  # last run evaluated

    @property
    def weeks(self) -> float:
        return (self.last_step - self.first_step + 1) * QUARTER / (7 * 86400)


def load_cfpb(path: Path) -> dict[str, list[float]]:
    rng = np.random.default_rng(0)
    out: dict[str, list[float]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            y, m, d = (int(p) for p in row["Date received"].split("/"))
            opens = datetime.combine(date(y, m, d), datetime.min.time(), NEW_YORK)
            at = opens + timedelta(hours=9) + timedelta(seconds=float(rng.uniform(0, 8 * 3600)))
            out.setdefault(f"product:{row['Product']}", []).append(at.timestamp())
            out.setdefault(f"channel:{row['Submitted via']}", []).append(at.timestamp())
    return out


def load_twitter(path: Path) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for conversation in json.loads(path.read_text(encoding="utf-8")):
        company = conversation["dialogHeader"]["company"]
        for tweet in conversation["dialogContent"]:
            if "client" in tweet or "client1" in tweet:
                at = datetime.fromisoformat(tweet["datetime"].replace("Z", "+00:00"))
                out.setdefault(f"company:{company}", []).append(at.timestamp())
                out.setdefault("channel:x", []).append(at.timestamp())
    return out


def make_stream(name: str, times: Mapping[str, list[float]], history: timedelta) -> Stream:
    # Every item is under two keys (its product or brand, and its channel): the same percentiles.
    every = np.sort(np.concatenate([np.asarray(t) for t in times.values()]))
    begin = float(np.percentile(every, 5))
    t0 = int(begin // 3600) * 3600
    first_step = int((history + timedelta(hours=8)).total_seconds()) // QUARTER
    last_step = int((every[-1] - t0) // QUARTER) + 1
    length = (last_step // PER_HOUR + 12) * PER_HOUR
    quarters = {}
    for key, ts in times.items():
        idx = ((np.asarray(ts) - t0) // QUARTER).astype(np.int64)
        idx = idx[(idx >= 0) & (idx < length)]
        quarters[key] = np.bincount(idx, minlength=length)
    return Stream(name, t0, quarters, first_step, last_step)


class Runner:
    """Runs `detect` for one key at a quarter-hour step, as the database would feed it."""

    def __init__(self, stream: Stream, config: SpikeConfig) -> None:
        self.stream = stream
        self.config = config
        self.back = config.window_hours + config.reach_hours
        n_hours = len(next(iter(stream.quarters.values()))) // PER_HOUR
        self.hours = [datetime.fromtimestamp(stream.t0 + h * 3600, UTC) for h in range(n_hours)]

    def window_counts(self, quarters: np.ndarray) -> np.ndarray:
        """Per step, the larger of the items in its two windows (to skip runs that cannot fire)."""
        w = self.config.window_hours
        hourly = quarters.reshape(-1, PER_HOUR).sum(axis=1)
        cum_q = np.concatenate([[0], np.cumsum(quarters)])
        cum_h = np.concatenate([[0], np.cumsum(hourly)])
        steps = np.arange(len(quarters))
        current = steps // PER_HOUR
        complete = cum_h[current] - cum_h[np.maximum(current - w, 0)]
        ongoing = cum_q[steps] - cum_q[np.maximum(current - w + 1, 0) * PER_HOUR]
        return np.maximum(complete, ongoing)

    def run(self, key: str, quarters: np.ndarray, step: int) -> Spike | None:
        current = step // PER_HOUR
        lo = max(current - self.back, 0)
        hourly = quarters[lo * PER_HOUR : current * PER_HOUR].reshape(-1, PER_HOUR).sum(axis=1)
        rows = [(self.hours[lo + int(i)], int(hourly[i])) for i in np.flatnonzero(hourly)]
        partial = int(quarters[current * PER_HOUR : step].sum())
        if partial:
            rows.append((self.hours[current], partial))
        now = datetime.fromtimestamp(self.stream.t0 + step * QUARTER, UTC)
        found = detect({key: rows}, now=now, config=self.config)
        return found[0] if found else None


def background(runner: Runner) -> tuple[dict[str, Any], set[tuple[str, int]]]:
    stream, config = runner.stream, runner.config
    flagged: set[tuple[str, int]] = set()
    alerts: list[tuple[str, datetime]] = []
    alerted_keys: dict[str, int] = {}
    for key, quarters in stream.quarters.items():
        counts = runner.window_counts(quarters)
        steps = np.flatnonzero(counts >= config.min_count)
        steps = steps[(steps >= stream.first_step) & (steps <= stream.last_step)]
        for step in steps:
            spike = runner.run(key, quarters, int(step))
            if spike is None:
                continue
            flagged.add((key, int(step)))
            if should_alert(spike, alerts, cooldown=COOLDOWN):
                alerts.append((key, spike.window_end))
                alerted_keys[key] = alerted_keys.get(key, 0) + 1
    weeks = stream.weeks
    return {
        "alerts": len(alerts),
        "alerts_per_week": round(len(alerts) / weeks, 3),
        "flagged_runs_per_week": round(len(flagged) / weeks, 3),
        "alerts_by_key": dict(sorted(alerted_keys.items(), key=lambda kv: -kv[1])),
    }, flagged


@dataclass(frozen=True)
class Burst:
    key: str
    size: int
    start: float  # seconds from t0
    hours: float
    quarters: np.ndarray  # quarter indices of its items


def draw_bursts(stream: Stream, per_size: int, seed: int) -> list[Burst]:
    rng = np.random.default_rng(seed)
    keys = sorted(stream.quarters)
    busiest = max(keys, key=lambda k: int(stream.quarters[k].sum()))
    lo = stream.first_step * QUARTER
    hi = (stream.last_step - 8 * PER_HOUR) * QUARTER
    bursts = []
    for size in SIZES:
        for i in range(per_size):
            # Half on a key drawn at random (most are quiet), half on the busiest key.
            key = busiest if i % 2 else keys[int(rng.integers(len(keys)))]
            start = float(rng.uniform(lo, hi))
            hours = float(rng.uniform(1, 6))
            times = start + rng.uniform(0, hours * 3600, size)
            bursts.append(Burst(key, size, start, hours, (times // QUARTER).astype(np.int64)))
    return bursts


def injected(runner: Runner, bursts: list[Burst], flagged: set[tuple[str, int]]) -> dict[str, Any]:
    window = runner.config.window_hours
    history_quarters = runner.config.history_hours * PER_HOUR
    results: dict[int, list[tuple[bool, float | None, float, str]]] = {s: [] for s in SIZES}
    for burst in bursts:
        background = runner.stream.quarters[burst.key]
        begin = int(burst.start // QUARTER)
        rate = (
            background[max(begin - history_quarters, 0) : begin].sum()
            * 24
            / runner.config.history_hours
        )
        volume = next(name for name, top in VOLUMES if rate < top)
        quarters = background.copy()
        np.add.at(quarters, burst.quarters, 1)
        first = int(burst.start // QUARTER) + 1
        end_hour = -(-int(burst.start + burst.hours * 3600) // 3600)
        last = (end_hour + window + 1) * PER_HOUR
        counts = runner.window_counts(quarters)
        delay: float | None = None
        for step in range(first, last + 1):
            if counts[step] < runner.config.min_count or (burst.key, step) in flagged:
                continue
            if runner.run(burst.key, quarters, step) is not None:
                delay = (step * QUARTER - burst.start) / 60
                break
        results[burst.size].append((delay is not None, delay, burst.hours, volume))
    out: dict[str, Any] = {}
    for size, rows in results.items():
        delays = [d for ok, d, _, _ in rows if ok]
        out[str(size)] = {
            "bursts": len(rows),
            "detected": _share([ok for ok, _, _, _ in rows]),
            "detected_1_2h": _share([ok for ok, _, h, _ in rows if h <= 2]),
            "detected_4_6h": _share([ok for ok, _, h, _ in rows if h >= 4]),
            "detected_by_key_volume": {
                name: _share([ok for ok, _, _, v in rows if v == name]) for name, _ in VOLUMES
            },
            "delay_min_median": _minutes(delays, 50),
            "delay_min_p90": _minutes(delays, 90),
            "delay_min_median_1_2h": _minutes([d for ok, d, h, _ in rows if ok and h <= 2], 50),
        }
    return out


def _minutes(delays: list[float | None], q: float) -> float | None:
    found = [d for d in delays if d is not None]
    return round(float(np.percentile(found, q)), 1) if found else None


def _share(flags: list[bool]) -> str | None:
    """ "0.875 of 40": the share detected and how many it is of."""
    return f"{sum(flags) / len(flags):.3f} of {len(flags)}" if flags else None


def evaluate(stream: Stream, per_size: int, seed: int) -> dict[str, Any]:
    bursts = draw_bursts(stream, per_size, seed)
    out: dict[str, Any] = {
        "keys": len(stream.quarters),
        "items": int(sum(int(q.sum()) for q in stream.quarters.values())) // 2,
        "period": [
            datetime.fromtimestamp(stream.t0 + s * QUARTER, UTC).date().isoformat()
            for s in (stream.first_step, stream.last_step)
        ],
        "weeks": round(stream.weeks, 1),
        "configs": {},
    }
    for name, config in CONFIGS.items():
        started = time.perf_counter()
        runner = Runner(stream, config)
        figures, flagged = background(runner)
        figures["bursts"] = injected(runner, bursts, flagged)
        figures["seconds"] = round(time.perf_counter() - started, 1)
        out["configs"][name] = figures
    return out


def main() -> None:
    cfpb_path = "cfpb_complaints/complaints.csv"
    twitter_path = "twitter_customer_care/dev.json"
    data, args = data_dir(__doc__.splitlines()[0], cfpb_path, twitter_path)
    per_size = 30 * max(args.seeds, 1)
    history = SpikeConfig().history + timedelta(hours=3)
    streams = [
        make_stream("cfpb", load_cfpb(data / cfpb_path), history),
        make_stream("twitter", load_twitter(data / twitter_path), history),
    ]
    emit(
        {
            "eval": "spikes",
            "runs_every_minutes": QUARTER // 60,
            "cooldown_hours": COOLDOWN / timedelta(hours=1),
            "bursts_per_size": per_size,
            "datasets": {s.name: evaluate(s, per_size, seed=1) for s in streams},
        }
    )


if __name__ == "__main__":
    main()
