"""Storing feedback: the batch ingest every channel goes through, the quarantine, and reads.

Ingest is batch-oriented so that a large brand's stream keeps up: per batch one query finds the
duplicates, one finds known identities, one finds open cases, and rows go in with bulk INSERTs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from amends.cases.flows import Touch, after_ingest
from amends.cases.models import Case
from amends.cases.rules import OPEN_STATUSES, CaseStatus, same_matter
from amends.customers.models import Customer, Identity
from amends.customers.rules import (
    InvalidIdentity,
    NormalIdentity,
    link_groups,
    new_customer_ref,
    normalise,
)
from amends.customers.service import customer_ids_for_keys, merge_customers
from amends.db import Base, chunked, lookup
from amends.errors import NotFound
from amends.feedback.models import Feedback, QuarantinedItem, QuarantineStatus
from amends.feedback.rules import (
    FUTURE_TOLERANCE,
    SCORE_RANGES,
    Direction,
    content_source_id,
    is_praise,
    source_key,
)
from amends.feedback.triage import (
    EMPTY_ANALYSIS,
    CompanyTaxonomy,
    analyse_batch,
    analysis_columns,
)
from amends.playbook.service import active_policy
from amends.sources.base import Item, Rejected, truncate_raw
from amends.sources.text import clean

if TYPE_CHECKING:
    from amends.analysis import Analysis

BATCH_SIZE = 2000
STORE_ATTEMPTS = 3
log = logging.getLogger(__name__)


def _retryable(exc: IntegrityError | OperationalError) -> bool:
    """A unique-key race, or a PostgreSQL deadlock or serialisation failure: worth a retry."""
    if isinstance(exc, IntegrityError):
        return True
    return getattr(exc.orig, "sqlstate", None) in {"40P01", "40001"}


def printable(name: str) -> str:
    """A file name as text that any database can store (undecodable bytes become U+FFFD)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# How many quarantine reasons a summary carries for display; all are stored regardless.
MAX_NOTES = 50


@dataclass(frozen=True)
class IngestLimits:
    max_text_chars: int = 100_000
    default_region: str = "US"


@dataclass
class IngestSummary:
    read: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    automated: int = 0
    cases_opened: int = 0
    customers_created: int = 0
    customers_merged: int = 0
    # Of `quarantined`, those kept from an earlier run of the same input.
    already_quarantined: int = 0
    # Items whose source id was taken by a different item: kept apart, under a derived id.
    id_clashes: int = 0
    notes: list[str] = field(default_factory=list)
    feedback_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "new": self.new,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "automated": self.automated,
            "cases_opened": self.cases_opened,
            "customers_created": self.customers_created,
            "customers_merged": self.customers_merged,
            "already_quarantined": self.already_quarantined,
            "id_clashes": self.id_clashes,
            "errors": self.notes,
        }

    def add(self, other: IngestSummary) -> None:
        for name in (
            "read",
            "new",
            "duplicates",
            "quarantined",
            "automated",
            "cases_opened",
            "customers_created",
            "customers_merged",
            "already_quarantined",
            "id_clashes",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.notes.extend(other.notes[: max(0, MAX_NOTES - len(self.notes))])
        self.feedback_ids.extend(other.feedback_ids)


def ingest(
    session: Session,
    records: Iterable[Item | Rejected],
    *,
    origin: str,
    fmt: str,
    now: datetime,
    limits: IngestLimits = IngestLimits(),
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[IngestSummary], None] | None = None,
    keep_ids: bool = False,
    analyse: bool = True,
) -> IngestSummary:
    """Store every readable item once, triaged, and quarantine the rest. The caller commits."""
    from amends.taxonomy.service import active_taxonomy

    origin = printable(origin)
    taxonomy = active_taxonomy(session) if analyse else None
    total = IngestSummary()
    items: list[Item] = []
    rejects: list[Rejected] = []

    def flush() -> None:
        for attempt in range(1, STORE_ATTEMPTS + 1):
            part = IngestSummary()
            part.read = len(items) + len(rejects)
            try:
                # A savepoint per batch: if a concurrent import stored the same customer or
                # item first, the batch is undone and run again, and then sees theirs.
                with session.begin_nested():
                    _quarantine(session, rejects, origin=origin, fmt=fmt, now=now, summary=part)
                    _store(
                        session,
                        items,
                        now=now,
                        limits=limits,
                        summary=part,
                        origin=origin,
                        fmt=fmt,
                        keep_ids=keep_ids,
                        analyse=analyse,
                        taxonomy=taxonomy,
                    )
                break
            except (IntegrityError, OperationalError) as exc:
                if attempt == STORE_ATTEMPTS or not _retryable(exc):
                    raise
                log.info("ingest batch met a concurrent writer; retrying (%d)", attempt)
        total.add(part)
        items.clear()
        rejects.clear()
        if on_batch is not None:
            on_batch(part)

    for record in records:
        if isinstance(record, Rejected):
            rejects.append(record)
        else:
            items.append(record)
        if len(items) + len(rejects) >= batch_size:
            flush()
    if items or rejects:
        flush()
    return total


def _quarantine(
    session: Session,
    rejects: list[Rejected],
    *,
    origin: str,
    fmt: str,
    now: datetime,
    summary: IngestSummary,
) -> None:
    if not rejects:
        return
    rows: list[dict[str, Any]] = []
    for rej in rejects:
        raw = truncate_raw(rej.raw)
        fingerprint = hashlib.sha256(
            b"\x1f".join((origin.encode(), rej.location.encode(), rej.raw))
        ).hexdigest()
        rows.append(
            {
                "origin": origin[:1000],
                "location": rej.location[:200],
                "format": (rej.fmt or fmt)[:40],
                "reason": rej.reason,
                "raw": raw,
                "raw_truncated": len(raw) < len(rej.raw),
                "options": dict(rej.options),
                "status": QuarantineStatus.PENDING,
                "created_at": now,
                "fingerprint": fingerprint,
            }
        )
        if len(summary.notes) < MAX_NOTES:
            summary.notes.append(f"{origin}: {rej.location}: {rej.reason}")
    # The same bad piece of the same input is kept once, however often it is re-imported,
    # and one already released or discarded is not brought back.
    known = set(
        session.scalars(
            select(QuarantinedItem.fingerprint).where(
                QuarantinedItem.fingerprint.in_({r["fingerprint"] for r in rows})
            )
        )
    )
    fresh: dict[str, dict[str, Any]] = {}
    for row in rows:
        fingerprint = str(row["fingerprint"])
        if fingerprint not in known:
            fresh.setdefault(fingerprint, row)
    if fresh:
        session.execute(insert(_table(QuarantinedItem)), list(fresh.values()))
    summary.quarantined += len(rows)
    summary.already_quarantined += sum(1 for r in rows if r["fingerprint"] in known)


@dataclass
class _Pending:
    item: Item
    key: str
    source_id: str
    text: str
    identities: list[NormalIdentity]
    meta: dict[str, Any]
    customer_id: int | None = None
    case_id: int | None = None
    analysis: Analysis | None = None


def _prepare(item: Item, limits: IngestLimits, now: datetime) -> _Pending | Rejected:
    where = f"item {item.source_id}" if item.source_id else "item"
    text = clean(item.text)
    if not text:
        return Rejected(where, "no text", _raw(item), fmt="feedback")
    if item.received_at > now + FUTURE_TOLERANCE:
        reason = f"dated in the future ({item.received_at.isoformat()})"
        return Rejected(where, reason, _raw(item), fmt="feedback")
    if item.score is not None:
        low, high = SCORE_RANGES[item.score_scale] if item.score_scale else (0, 10)
        if not (math.isfinite(item.score) and low <= item.score <= high):
            reason = f"score {item.score} is outside {low}..{high}"
            return Rejected(where, reason, _raw(item), fmt="feedback")
    meta = dict(item.meta)
    if len(text) > limits.max_text_chars:
        text = text[: limits.max_text_chars]
        meta["truncated"] = True
    identities: list[NormalIdentity] = []
    for ref in item.identities:
        try:
            identities.append(normalise(ref, default_region=limits.default_region))
        except InvalidIdentity as exc:
            meta.setdefault("identity_errors", []).append(str(exc))
    # A time the source did not give (read "now") must not make the same item look new.
    when = "" if item.meta.get("time_assumed") else item.received_at.isoformat()
    source_id = item.source_id or content_source_id(
        item.channel.value,
        item.direction.value,
        item.author_handle or item.author_name or "",
        # Two customers who send the same words at the same moment sent two messages.
        ",".join(sorted(i.key for i in identities)),
        when,
        text,
    )
    source_id = source_id[:580]
    return _Pending(item, source_key(item.channel, source_id), source_id, text, identities, meta)


def _table(model: type[Base]) -> Table:
    """A model's table, for Core bulk INSERTs."""
    return cast(Table, model.__table__)


def _raw(item: Item) -> bytes:
    """An item that parsed but cannot be stored, as a feedback object that a retry can read."""
    obj: dict[str, Any] = {
        "text": item.text or " ",
        "channel": item.channel.value,
        "direction": item.direction.value,
        "received_at": item.received_at.isoformat(),
        "public": item.public,
    }
    optional = {
        "source_id": item.source_id,
        "author_name": item.author_name,
        "reach": item.reach,
        "subject": item.subject,
        "thread_id": item.thread_id,
        "in_reply_to": item.in_reply_to,
        "score": item.score if item.score is None or math.isfinite(item.score) else None,
        "score_scale": item.score_scale.value if item.score_scale else None,
    }
    obj.update({k: v for k, v in optional.items() if v is not None})
    for ref in item.identities:
        field = {"email": "email", "handle": "handle", "phone": "phone"}.get(ref.kind.value)
        field = field or ref.kind.value
        obj.setdefault(field, ref.value)
        if ref.kind.value == "handle" and ref.platform:
            obj.setdefault("platform", ref.platform)
    return json.dumps(obj, ensure_ascii=False).encode()[:MAX_RAW]


MAX_RAW = 1_000_000
# A complaint opens a case of its own only when its category is at least this sure.
JOIN_CONFIDENCE = 0.5


def _store(
    session: Session,
    items: list[Item],
    *,
    now: datetime,
    limits: IngestLimits,
    summary: IngestSummary,
    origin: str,
    fmt: str,
    keep_ids: bool,
    analyse: bool = True,
    taxonomy: CompanyTaxonomy | None = None,
) -> None:
    if not items:
        return
    pending: list[_Pending] = []
    bad: list[Rejected] = []
    for item in items:
        prepared = _prepare(item, limits, now)
        (bad if isinstance(prepared, Rejected) else pending).append(prepared)  # type: ignore[arg-type]
    if bad:
        _quarantine(session, bad, origin=origin, fmt=fmt, now=now, summary=summary)

    # 1. Duplicates: already on the desk with the same text, or earlier in this batch. An id
    # already taken by a different text (two exports both numbering rows 1, 2, 3...) is not a
    # duplicate: that item is kept under the id plus a hash of its text.
    stored = lookup(session, Feedback.source_key, Feedback.text, [p.key for p in pending])
    first_text: dict[str, str] = {}
    clashing: list[_Pending] = []
    for p in pending:
        earlier = stored.get(p.key, first_text.setdefault(p.key, p.text))
        if earlier != p.text:
            clashing.append(p)
    for p in clashing:
        p.meta["source_id_clash"] = p.source_id
        p.source_id = f"{p.source_id}#{hashlib.sha256(p.text.encode()).hexdigest()[:10]}"
        p.key = source_key(p.item.channel, p.source_id)
    if clashing:
        stored.update(
            lookup(session, Feedback.source_key, Feedback.text, [p.key for p in clashing])
        )
    seen: set[str] = set()
    fresh: list[_Pending] = []
    for p in pending:
        if p.key in stored or p.key in seen:
            summary.duplicates += 1
        else:
            seen.add(p.key)
            fresh.append(p)
            if "source_id_clash" in p.meta:
                summary.id_clashes += 1
    if not fresh:
        return

    # 2. Customers: identities that arrive together belong to one customer.
    _resolve_customers(session, fresh, now=now, summary=summary)

    # 2b. Triage: every incoming message analysed, with what the desk knows of its customer.
    if analyse:
        results = analyse_batch(
            session,
            [(p.item, p.text, p.customer_id) for p in fresh],
            now=now,
            taxonomy=taxonomy,
        )
        for p, result in zip(fresh, results, strict=True):
            p.analysis = result

    # 3. Cases: a complaint joins the customer's open case about the same thing (or in the same
    # conversation), or opens one; replies and other messages join only.
    batch_customers = {p.customer_id for p in fresh if p.customer_id is not None}
    _lock_customers(session, batch_customers)
    open_cases = _open_cases(session, batch_customers)
    threads = _thread_cases(session, fresh)
    new_cases: list[_Pending] = []  # the complaint that opens each new case, in order
    placeholder: dict[int, _Pending] = {}  # id(p) of a later message -> its opener
    batch_threads: dict[str, int | _Pending] = {}
    for p in fresh:
        if p.item.automated or p.customer_id is None:
            if p.item.automated:
                summary.automated += 1
            continue
        mine = open_cases.setdefault(p.customer_id, [])
        thread = (p.item.thread_id or "")[:600]
        thread_case = threads.get(thread)
        # An unsure category says nothing about which case a message belongs to.
        found = p.analysis.category if p.analysis is not None else None
        category = found.label if found and found.confidence >= JOIN_CONFIDENCE else None
        complaint = _is_complaint(p)
        chosen: int | _Pending | None = None
        if thread and thread in batch_threads:
            chosen = batch_threads[thread]
        elif thread_case is not None and any(c == thread_case for c, _ in mine):
            chosen = thread_case
        elif complaint:
            chosen = next((c for c, cat in mine if same_matter(cat, category)), None)
        elif mine:
            chosen = mine[0][0]
        if chosen is None and complaint:
            new_cases.append(p)
            mine.insert(0, (p, category))
            chosen = p
        if thread and chosen is not None:
            batch_threads.setdefault(thread, chosen)
        if isinstance(chosen, int):
            p.case_id = chosen
        elif chosen is not None:
            placeholder[id(p)] = chosen
    if new_cases:
        first_new = _insert_cases(session, new_cases)
        for p, case_id in zip(new_cases, first_new, strict=True):
            p.case_id = case_id
        for p in fresh:
            opener = placeholder.get(id(p))
            if opener is not None:
                p.case_id = opener.case_id
        summary.cases_opened += len(new_cases)
    best: dict[int, str] = {}
    for p in fresh:
        if p.case_id is not None and p.analysis is not None and _is_complaint(p):
            current = best.get(p.case_id)
            if current is None or p.analysis.priority < current:
                best[p.case_id] = p.analysis.priority
    _raise_priorities(session, best)

    # 4. Feedback rows, in one bulk INSERT.
    rows = []
    for p in fresh:
        item = p.item
        rows.append(
            {
                "direction": item.direction,
                "channel": item.channel,
                "source_key": p.key,
                "source_id": p.source_id,
                "customer_id": p.customer_id,
                "case_id": p.case_id,
                "author_name": (item.author_name or None) and item.author_name[:200],
                "author_handle": (item.author_handle or None) and item.author_handle[:320],
                "subject": (item.subject or None) and item.subject[:500],
                "text": p.text,
                "public": item.public,
                "reach": item.reach,
                "received_at": item.received_at,
                "thread_key": (item.thread_id or None) and item.thread_id[:600],
                "in_reply_to": (item.in_reply_to or None) and item.in_reply_to[:600],
                "score": item.score,
                "score_scale": item.score_scale,
                "automated": item.automated,
                "meta": p.meta,
                "ingested_at": now,
                **(analysis_columns(p.analysis) if p.analysis is not None else EMPTY_ANALYSIS),
            }
        )
    # Core (not ORM) bulk INSERTs: one executemany each, without per-row ORM bookkeeping.
    session.execute(insert(_table(Feedback)), rows)
    if keep_ids:
        keys = [p.key for p in fresh]
        by_key = lookup(session, Feedback.source_key, Feedback.id, keys)
        summary.feedback_ids.extend(by_key[key] for key in keys)
    summary.new += len(rows)
    latest: dict[int, datetime] = {}
    for p in fresh:
        if p.case_id is not None:
            latest[p.case_id] = max(latest.get(p.case_id, p.item.received_at), p.item.received_at)
    if latest:
        # One executemany for every touched case, each to its own latest moment.
        cases = _table(Case)
        session.execute(
            update(cases)
            .where(cases.c.id == bindparam("case_id"), cases.c.updated_at < bindparam("moment"))
            .values(updated_at=bindparam("moment")),
            [{"case_id": cid, "moment": moment} for cid, moment in sorted(latest.items())],
        )
        # 5. Clocks: new cases start theirs; replies and new messages move the others.
        opened_ids = {p.case_id for p in new_cases if p.case_id is not None}
        touches = [
            Touch(
                case_id=p.case_id,
                at=p.item.received_at,
                incoming=p.item.direction is Direction.IN,
                automated=p.item.automated,
                author=p.item.author_handle if p.item.direction is Direction.OUT else None,
                needs_response=_is_complaint(p),
                public=p.item.public,
            )
            for p in fresh
            if p.case_id is not None
        ]
        after_ingest(
            session,
            opened=sorted(opened_ids),
            touches=touches,
            policy=active_policy(session),
            now=now,
        )


def _resolve_customers(
    session: Session, fresh: list[_Pending], *, now: datetime, summary: IngestSummary
) -> None:
    all_keys = {i.key for p in fresh for i in p.identities}
    known = customer_ids_for_keys(session, all_keys)
    roots = link_groups([[i.key for i in p.identities] for p in fresh if p.identities])
    # Each group of linked keys maps to the customers already owning any of them.
    owners: dict[str, set[int]] = {}
    for key, root in roots.items():
        if key in known:
            owners.setdefault(root, set()).add(known[key])
    chosen: dict[str, int] = {}
    for root, cids in owners.items():
        keep = min(cids)
        for other in sorted(cids - {keep}):
            merge_customers(session, keep=keep, absorb=other)
            summary.customers_merged += 1
        chosen[root] = keep

    # New customers: one per unknown group, and one per item that names nobody at all.
    new_rows: list[dict[str, Any]] = []
    new_slots: list[tuple[str | None, _Pending | None]] = []
    seen_roots: set[str] = set()
    for p in fresh:
        if not p.identities:
            new_rows.append(_customer_row(p, now))
            new_slots.append((None, p))
            continue
        root = roots[p.identities[0].key]
        if root not in chosen and root not in seen_roots:
            seen_roots.add(root)
            new_rows.append(_customer_row(p, now))
            new_slots.append((root, None))
    if new_rows:
        # Plain multi-row INSERTs, then ids read back by the unique ref: RETURNING in input
        # order costs one statement per row on SQLite.
        session.execute(insert(_table(Customer)), new_rows)
        by_ref = lookup(session, Customer.ref, Customer.id, [r["ref"] for r in new_rows])
        summary.customers_created += len(new_rows)
        for (slot_root, anonymous), row in zip(new_slots, new_rows, strict=True):
            cid = by_ref[row["ref"]]
            if slot_root is not None:
                chosen[slot_root] = cid
            elif anonymous is not None:
                anonymous.customer_id = cid

    # Identities not yet on the desk are attached to their group's customer.
    ident_rows: dict[str, dict[str, Any]] = {}
    for p in fresh:
        if not p.identities:
            continue
        p.customer_id = chosen[roots[p.identities[0].key]]
        for ident in p.identities:
            if ident.key not in known and ident.key not in ident_rows:
                ident_rows[ident.key] = {
                    "customer_id": p.customer_id,
                    "kind": ident.kind,
                    "key": ident.key,
                    "display": ident.display,
                    "created_at": now,
                }
    if ident_rows:
        ordered = [ident_rows[k] for k in sorted(ident_rows)]  # one lock order for all writers
        session.execute(insert(_table(Identity)), ordered)
    # A known customer with no name yet takes the name their message was signed with.
    named = {
        known[p.identities[0].key]: p.item.author_name
        for p in fresh
        if p.identities
        and p.identities[0].key in known
        and p.item.author_name
        and p.item.direction is Direction.IN
    }
    for part in chunked(sorted(named)):
        nameless = session.scalars(
            select(Customer.id).where(Customer.id.in_(part), Customer.name.is_(None))
        )
        for cid in nameless:
            session.execute(
                update(Customer).where(Customer.id == cid).values(name=named[cid][:200])
            )


def _customer_row(p: _Pending, now: datetime) -> dict[str, Any]:
    name = p.item.author_name if p.item.direction is Direction.IN else None
    return {"ref": new_customer_ref(), "name": name[:200] if name else None, "created_at": now}


def _lock_customers(session: Session, customer_ids: set[int]) -> None:
    """On PostgreSQL, hold the batch's customers (in id order) until commit, so that two
    concurrent imports cannot both open a case for one customer. SQLite writers are serialised
    already (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for part in chunked(sorted(customer_ids)):
        session.execute(
            select(Customer.id).where(Customer.id.in_(part)).order_by(Customer.id).with_for_update()
        ).all()


def _open_cases(
    session: Session, customer_ids: set[int]
) -> dict[int, list[tuple[int | _Pending, str | None]]]:
    """Each customer's open cases with their categories, newest first."""
    found: dict[int, list[tuple[int | _Pending, str | None]]] = {}
    for part in chunked(sorted(customer_ids)):
        rows = session.execute(
            select(Case.customer_id, Case.id, Case.category)
            .where(Case.customer_id.in_(part), Case.status.in_(OPEN_STATUSES))
            .order_by(Case.customer_id, Case.id.desc())
        )
        for customer_id, case_id, category in rows:
            found.setdefault(customer_id, []).append((case_id, category))
    return found


def _thread_cases(session: Session, fresh: list[_Pending]) -> dict[str, int]:
    """The case each conversation already belongs to (its newest), by thread key."""
    keys = sorted({p.item.thread_id[:600] for p in fresh if p.item.thread_id})
    found: dict[str, int] = {}
    for part in chunked(keys):
        rows = session.execute(
            select(Feedback.thread_key, func.max(Feedback.case_id))
            .where(Feedback.thread_key.in_(part), Feedback.case_id.is_not(None))
            .group_by(Feedback.thread_key)
        )
        found.update({k: cid for k, cid in rows.all() if k is not None and cid is not None})
    return found


def _insert_cases(session: Session, openers: list[_Pending]) -> list[int]:
    """Insert one case per opener in one statement; their ids, in the openers' order."""
    before = session.scalar(select(func.max(Case.id))) or 0
    session.execute(insert(_table(Case)), [_case_row(p) for p in openers])
    customers = sorted({p.customer_id for p in openers if p.customer_id is not None})
    ids: dict[int, list[int]] = {}
    for part in chunked(customers):
        rows = session.execute(
            select(Case.customer_id, Case.id)
            .where(Case.customer_id.in_(part), Case.id > before)
            .order_by(Case.id)
        )
        for customer_id, case_id in rows:
            ids.setdefault(customer_id, []).append(case_id)
    # Ids grow in insertion order, and each customer's rows were inserted in openers' order.
    taken: dict[int, int] = {}
    result = []
    for p in openers:
        assert p.customer_id is not None
        n = taken.get(p.customer_id, 0)
        result.append(ids[p.customer_id][n])
        taken[p.customer_id] = n + 1
    return result


def _is_complaint(p: _Pending) -> bool:
    """An incoming message that asks for a response (not praise, thanks, spam or chit-chat)."""
    item = p.item
    if item.direction is not Direction.IN or is_praise(item.score_scale, item.score):
        return False
    return p.analysis is None or p.analysis.needs_response


def _raise_priorities(session: Session, best: dict[int, str]) -> None:
    """A case takes the priority of its most urgent complaint ("P1" sorts before "P2")."""
    by_priority: dict[str, list[int]] = {}
    for case_id, priority in best.items():
        by_priority.setdefault(priority, []).append(case_id)
    for priority, ids in by_priority.items():
        for part in chunked(sorted(ids)):
            session.execute(
                update(Case)
                .where(Case.id.in_(part), or_(Case.priority.is_(None), Case.priority > priority))
                .values(priority=priority)
                .execution_options(synchronize_session=False)
            )


def _case_row(p: _Pending) -> dict[str, Any]:
    item = p.item
    found = p.analysis
    subject = item.subject or p.text.split("\n", 1)[0]
    if len(subject) > 120:
        subject = subject[:117].rstrip() + "..."
    return {
        "customer_id": p.customer_id,
        "status": CaseStatus.NEW,
        "breaches": [],
        "escalation_level": 0,
        "reopened_count": 0,
        "subject": subject,
        "channel": item.channel,
        "public": item.public,
        "opened_at": item.received_at,
        "updated_at": item.received_at,
        "priority": found.priority if found else None,
        "severity": found.severity.level if found else None,
        "category": found.category.label if found else None,
    }


# ---- reading --------------------------------------------------------------------------------


def get_feedback(session: Session, feedback_id: int) -> Feedback:
    row = session.get(Feedback, feedback_id)
    if row is None:
        raise NotFound("feedback", feedback_id)
    return row


def list_feedback(
    session: Session,
    *,
    limit: int,
    offset: int = 0,
    customer_id: int | None = None,
    case_id: int | None = None,
    channel: str | None = None,
    direction: str | None = None,
) -> tuple[list[Feedback], int]:
    """The newest feedback first, with the total matching count."""
    query = select(Feedback)
    if customer_id is not None:
        query = query.where(Feedback.customer_id == customer_id)
    if case_id is not None:
        query = query.where(Feedback.case_id == case_id)
    if channel is not None:
        query = query.where(Feedback.channel == channel)
    if direction is not None:
        query = query.where(Feedback.direction == direction)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Feedback.received_at.desc(), Feedback.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def iter_feedback(session: Session, *, batch: int = 2000) -> Iterator[Feedback]:
    """Every feedback item in id order, a batch at a time (for exports of any size)."""
    last = 0
    while True:
        rows = list(
            session.scalars(
                select(Feedback).where(Feedback.id > last).order_by(Feedback.id).limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()


# ---- quarantine -----------------------------------------------------------------------------


def list_quarantine(
    session: Session,
    *,
    status: str | None = QuarantineStatus.PENDING,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[QuarantinedItem], int]:
    query = select(QuarantinedItem)
    if status is not None:
        query = query.where(QuarantinedItem.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(QuarantinedItem.id).limit(limit).offset(offset))
    return list(rows), total


def get_quarantined(session: Session, item_id: int) -> QuarantinedItem:
    row = session.get(QuarantinedItem, item_id)
    if row is None:
        raise NotFound("quarantined item", item_id)
    return row


def discard_quarantined(session: Session, item_id: int, *, now: datetime) -> QuarantinedItem:
    row = get_quarantined(session, item_id)
    row.status = QuarantineStatus.DISCARDED
    row.resolved_at = now
    session.flush()
    return row
