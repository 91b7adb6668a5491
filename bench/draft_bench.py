"""Draft replies for real complaints: do all pass the checker, are they distinct, how fast.

Takes --n real complaints from ../shared/data (half the first customer tweets of the Twitter
customer-care conversations, public on X; half the CFPB complaint narratives, private by email),
ingests them into a fresh SQLite desk under the example playbook, and drafts every case with
`amends.replies.service.draft`. It prints, as JSON:

- the share of cases whose drafts have no blocking finding (it must be all of them), and the
  findings that remain as warnings, by rule;
- the share of distinct private drafts, with the customer's name blanked out, so that a
  template with a name in it would not count as distinct;
- the time per draft (median, p90), next to the baseline of one `check_reply` of the same
  drafts in the same process, and the attempts the composer needed.

Usage: .venv/bin/python bench/draft_bench.py [--n 500]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _tweets(n: int) -> list[tuple[str, str]]:
    """(handle, text) of the first customer tweet of each conversation."""
    conversations = json.loads((DATA / "twitter_customer_care" / "dev.json").read_text("utf-8"))
    out = []
    for conv in conversations:
        first = next((t for t in conv["dialogContent"] if "client" in t), None)
        if first is not None and first["message"].strip():
            out.append((first["client"], first["message"]))
    return out[:n]


def _narratives(n: int) -> list[tuple[str, str]]:
    """(complaint id, narrative) of CFPB complaints that have one."""
    out = []
    with (DATA / "cfpb_complaints" / "complaints.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            text = (row.get("Consumer complaint narrative") or "").strip()
            if len(text) >= 40:
                out.append((row["Complaint ID"], text))
    return out[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--show", action="store_true", help="print blocked drafts to stderr")
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} is absent: the shared data sets are not beside this checkout")

    from amends.customers.rules import IdentityKind, IdentityRef
    from amends.db import make_engine, session_scope
    from amends.feedback.rules import Channel
    from amends.feedback.service import ingest
    from amends.migrate import upgrade
    from amends.models import Case
    from amends.playbook.service import active_policy, example_source, import_playbook
    from amends.replies.checker import ReplyContext, check_reply
    from amends.replies.service import customer_name, draft
    from amends.sources.base import Item

    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    half = args.n // 2
    items = [
        Item(
            channel=Channel.X,
            text=text,
            received_at=start + timedelta(minutes=i),
            source_id=f"bench-x-{i}",
            author_handle=f"@{handle}",
            identities=(IdentityRef(IdentityKind.HANDLE, handle, platform="x"),),
            public=True,
        )
        for i, (handle, text) in enumerate(_tweets(half))
    ]
    items += [
        Item(
            channel=Channel.EMAIL,
            text=text,
            received_at=start + timedelta(minutes=half + i),
            source_id=f"bench-cfpb-{cid}",
            identities=(IdentityRef(IdentityKind.EMAIL, f"cfpb{cid}@example.com"),),
        )
        for i, (cid, text) in enumerate(_narratives(args.n - half))
    ]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        with session_scope(engine) as session:
            import_playbook(session, example_source(), now=start, actor="bench")
        with session_scope(engine) as session:
            summary = ingest(session, items, origin="bench", fmt="feedback", now=start)
        now = start + timedelta(hours=1)
        times: list[float] = []
        checks: list[float] = []
        blocked = 0
        attempts: Counter[int] = Counter()
        warnings: Counter[str] = Counter()
        privates: list[str] = []
        publics = 0
        with session_scope(engine, write=False) as session:
            policy = active_policy(session)
            cases = list(session.query(Case).order_by(Case.id))
            draft(session, cases[0].id, policy=policy, now=now)  # warm caches
            for case in cases:
                t0 = time.perf_counter()
                result = draft(session, case.id, policy=policy, now=now)
                times.append(time.perf_counter() - t0)
                blocked += result.blocking
                if result.blocking and args.show:
                    print(json.dumps(result.to_dict(), indent=1), file=sys.stderr)
                attempts[result.attempts] += 1
                for which, found in result.findings.items():
                    warnings.update(f"{which}:{f['rule']}" for f in found)
                name = customer_name(case, [f for f in case.feedback if f.direction == "in"])
                private = result.private
                for part in (name or "").split():
                    private = re.sub(rf"\b{re.escape(part)}\b", "NAME", private)
                privates.append(private)
                publics += result.public is not None
                t0 = time.perf_counter()
                check_reply(result.private, ReplyContext(complaint=case.subject), policy.checker)
                checks.append(time.perf_counter() - t0)
    n = len(times)
    report = {
        "complaints": len(items),
        "ingested": summary.new,
        "cases_drafted": n,
        "public_drafts": publics,
        "no_blocking_finding": round((n - blocked) / n, 4),
        "blocked_cases": blocked,
        "distinct_private_drafts": round(len(set(privates)) / n, 4),
        "warnings_by_rule": dict(warnings.most_common()),
        "attempts": {str(k): v for k, v in sorted(attempts.items())},
        "ms_per_draft_median": round(statistics.median(times) * 1000, 2),
        "ms_per_draft_p90": round(statistics.quantiles(times, n=10)[-1] * 1000, 2),
        "ms_per_check_median (baseline)": round(statistics.median(checks) * 1000, 2),
        "draft_over_check": round(statistics.median(times) / statistics.median(checks), 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
