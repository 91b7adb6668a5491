"""Triage at ingest: each incoming complaint analysed with what the desk knows of its customer.

One call per batch: the customers' facts and history come from two queries, and the models run
vectorised over the whole batch (`analyze_many`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from amends.customers.models import Customer
from amends.db import chunked
from amends.feedback.models import Feedback
from amends.feedback.rules import Direction, ScoreScale

if TYPE_CHECKING:
    from amends.analysis import Analysis, AnalysisContext, TaxonomyModel
    from amends.sources.base import Item

# A complaint unanswered for this long counts as "ignored before" when the customer writes again.
IGNORED_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class CompanyTaxonomy:
    name: str
    model: TaxonomyModel


@dataclass
class _History:
    complaints: int = 0
    last_in: datetime | None = None
    last_out: datetime | None = None


def analyse_batch(
    session: Session,
    items: Sequence[tuple[Item, str, int | None]],
    *,
    now: datetime,
    taxonomy: CompanyTaxonomy | None,
) -> list[Analysis | None]:
    """Analyse the incoming, non-automated of (item, cleaned text, customer id) triples, with
    customer context; our replies in the batch count as answers. Results in input order."""
    from amends.analysis import analyze_many

    customer_ids = sorted({cid for _, _, cid in items if cid is not None})
    facts = _facts(session, customer_ids)
    history = _history(session, customer_ids)
    wanted: list[int] = []
    contexts: dict[int, AnalysisContext] = {}
    # In time order, so that each message sees what came before it, replies included.
    for index in sorted(range(len(items)), key=lambda i: items[i][0].received_at):
        item, _, cid = items[index]
        seen = history.setdefault(cid, _History()) if cid is not None else _History()
        if item.automated:
            continue
        if item.direction is Direction.OUT:
            seen.last_out = max(seen.last_out or item.received_at, item.received_at)
            continue
        contexts[index] = _context(item, seen, facts.get(cid) if cid is not None else None, now)
        wanted.append(index)
        seen.complaints += 1
        seen.last_in = max(seen.last_in or item.received_at, item.received_at)
    wanted.sort()
    results = analyze_many(
        [items[i][1] for i in wanted],
        [contexts[i] for i in wanted],
        taxonomy=taxonomy.model if taxonomy is not None else None,
    )
    out: list[Analysis | None] = [None] * len(items)
    for index, result in zip(wanted, results, strict=True):
        out[index] = result
    return out


def _context(item: Item, seen: _History, fact: Any, now: datetime) -> AnalysisContext:
    from amends.analysis import AnalysisContext

    ignored = (
        seen.last_in is not None
        and (seen.last_out is None or seen.last_out < seen.last_in)
        and item.received_at - seen.last_in > IGNORED_AFTER
    )
    return AnalysisContext(
        channel=item.channel.value,
        public=item.public,
        reach=item.reach,
        score=item.score,
        score_scale=10 if item.score_scale is ScoreScale.NPS else 5,
        complaints_before=seen.complaints,
        ignored_before=ignored,
        customer_since=fact.customer_since if fact else None,
        order_count=fact.order_count if fact else None,
        lifetime_value=float(fact.lifetime_value)
        if fact and fact.lifetime_value is not None
        else None,
        now=now,
    )


def _facts(session: Session, ids: list[int]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for part in chunked(ids):
        rows = session.execute(
            select(
                Customer.id, Customer.customer_since, Customer.order_count, Customer.lifetime_value
            ).where(Customer.id.in_(part))
        )
        found.update({row.id: row for row in rows})
    return found


def _history(session: Session, ids: list[int]) -> dict[int | None, _History]:
    found: dict[int | None, _History] = {}
    is_in = Feedback.direction == Direction.IN
    for part in chunked(ids):
        rows = session.execute(
            select(
                Feedback.customer_id,
                func.sum(case((is_in, 1), else_=0)),
                func.max(case((is_in, Feedback.received_at))),
                func.max(case((~is_in, Feedback.received_at))),
            )
            .where(Feedback.customer_id.in_(part), Feedback.automated.is_(False))
            .group_by(Feedback.customer_id)
        )
        for cid, complaints, last_in, last_out in rows:
            found[cid] = _History(int(complaints or 0), _aware(last_in), _aware(last_out))
    return found


def _aware(value: datetime | None) -> datetime | None:
    """Aggregates bypass the column type on SQLite, so restore the UTC zone here."""
    from datetime import UTC

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def analysis_columns(result: Analysis) -> dict[str, Any]:
    """The stored summary of an analysis, beside its full JSON."""
    custom = result.custom_category
    return {
        "sentiment": result.sentiment,
        "severity": result.severity.level,
        "category": result.category.label,
        "category_confidence": result.category.confidence,
        "category_source": "model",
        "company_label": custom.label if custom else None,
        "company_confidence": custom.confidence if custom else None,
        "priority": result.priority,
        "needs_response": result.needs_response,
        "language": result.language,
        "analysis": result.to_dict(),
    }


EMPTY_ANALYSIS: dict[str, Any] = {
    "sentiment": None,
    "severity": None,
    "category": None,
    "category_confidence": None,
    "category_source": None,
    "company_label": None,
    "company_confidence": None,
    "priority": None,
    "needs_response": None,
    "language": None,
    "analysis": None,
}
