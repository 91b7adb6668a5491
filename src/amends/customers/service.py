"""Finding, creating, linking and importing customers. Services flush; callers commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from amends.cases.models import Case
from amends.customers.models import Customer, Identity
from amends.customers.rules import (
    IdentityKind,
    IdentityRef,
    InvalidIdentity,
    NormalIdentity,
    normalise,
)
from amends.db import lookup
from amends.errors import InvalidInput, NotFound
from amends.feedback.models import Feedback
from amends.offers.models import Offer


def get_customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id, options=[selectinload(Customer.identities)])
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


def find_by_identity(session: Session, ref: IdentityRef, *, default_region: str) -> Customer:
    try:
        key = normalise(ref, default_region=default_region).key
    except InvalidIdentity as exc:
        raise InvalidInput(str(exc)) from exc
    identity = session.scalar(select(Identity).where(Identity.key == key))
    if identity is None:
        raise NotFound("customer with identity", ref.value)
    return get_customer(session, identity.customer_id)


def customer_ids_for_keys(session: Session, keys: Iterable[str]) -> dict[str, int]:
    """Map identity keys already on the desk to their customer."""
    return lookup(session, Identity.key, Identity.customer_id, keys)


def merge_customers(session: Session, *, keep: int, absorb: int) -> None:
    """Fold customer `absorb` into `keep`: identities, feedback and cases move; nothing is lost."""
    if keep == absorb:
        return
    session.execute(update(Identity).where(Identity.customer_id == absorb).values(customer_id=keep))
    session.execute(update(Feedback).where(Feedback.customer_id == absorb).values(customer_id=keep))
    session.execute(update(Case).where(Case.customer_id == absorb).values(customer_id=keep))
    session.execute(update(Offer).where(Offer.customer_id == absorb).values(customer_id=keep))
    kept = session.get(Customer, keep)
    gone = session.get(Customer, absorb)
    if kept is not None and gone is not None:
        # The CRM's facts win over what a message suggested; otherwise keep what is known.
        kept.name = kept.name or gone.name
        kept.customer_since = _earliest(kept.customer_since, gone.customer_since)
        kept.order_count = kept.order_count or gone.order_count
        kept.lifetime_value = kept.lifetime_value or gone.lifetime_value
        if gone.abusive and not kept.abusive:
            kept.abusive, kept.abusive_reason = True, gone.abusive_reason
        gone.merged_into_id = keep
    session.flush()


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return min(a, b)


def add_identities(
    session: Session, customer: Customer, identities: Iterable[NormalIdentity], *, now: datetime
) -> list[int]:
    """Attach identities to `customer`, merging any other customer that already owns one.

    Returns the ids of customers merged into this one.
    """
    merged: list[int] = []
    wanted = {n.key: n for n in identities}
    owners = customer_ids_for_keys(session, wanted)
    for other in sorted(set(owners.values()) - {customer.id}):
        merge_customers(session, keep=customer.id, absorb=other)
        merged.append(other)
    for key, ident in wanted.items():
        if key not in owners:
            session.add(
                Identity(
                    customer_id=customer.id,
                    kind=ident.kind,
                    key=key,
                    display=ident.display,
                    created_at=now,
                )
            )
    session.flush()
    return merged


def list_customers(session: Session, *, limit: int, offset: int = 0) -> tuple[list[Customer], int]:
    live = Customer.merged_into_id.is_(None)
    total = session.scalar(select(func.count()).select_from(Customer).where(live)) or 0
    rows = session.scalars(
        select(Customer)
        .where(live)
        .options(selectinload(Customer.identities))
        .order_by(Customer.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def iter_customers(session: Session, *, batch: int = 1000) -> Iterable[Customer]:
    last = 0
    while True:
        rows = list(
            session.scalars(
                select(Customer)
                .where(Customer.merged_into_id.is_(None), Customer.id > last)
                .options(selectinload(Customer.identities))
                .order_by(Customer.id)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].id


# ---- CRM import -------------------------------------------------------------------------------

CRM_IDENTITY_COLUMNS: dict[str, IdentityKind] = {
    "email": IdentityKind.EMAIL,
    "phone": IdentityKind.PHONE,
    "customer_ref": IdentityKind.CUSTOMER_REF,
    "customer_id": IdentityKind.CUSTOMER_REF,
    "order_ref": IdentityKind.ORDER_REF,
    "handle": IdentityKind.HANDLE,
    "x_handle": IdentityKind.HANDLE,
    "twitter": IdentityKind.HANDLE,
}


@dataclass
class CrmImportSummary:
    read: int = 0
    created: int = 0
    updated: int = 0
    merged: int = 0
    rejected: list[str] = field(default_factory=list)


def import_crm(
    session: Session, path: Path, *, now: datetime, default_region: str
) -> CrmImportSummary:
    """Import a CRM CSV: name, identities, customer_since, order_count, lifetime_value.

    Columns are matched by name, case-insensitively; several identity columns may hold several
    values separated by ";". A row is matched to an existing customer by any of its identities.
    """
    from amends.sources.base import ParseOptions, Rejected, Source
    from amends.sources.csvfile import rows
    from amends.sources.times import BadTime, parse_time

    summary = CrmImportSummary()
    columns: dict[str, str] | None = None
    id_columns: list[str] = []
    # The shared CSV reader: streamed, any encoding, real line numbers, bad rows reported.
    for record in rows(Source(name=str(path), path=path), ParseOptions()):
        if isinstance(record, Rejected):
            summary.read += 1
            summary.rejected.append(f"{path}:{record.location}: {record.reason}")
            continue
        line_no, header, row = record
        if columns is None:
            columns = {name.strip().lower(): name for name in header if name}
            id_columns = [c for c in columns if c in CRM_IDENTITY_COLUMNS]
            if not id_columns:
                raise InvalidInput(
                    f"{path}: no identity column; expected one of "
                    + ", ".join(sorted(CRM_IDENTITY_COLUMNS))
                )
        summary.read += 1
        where = f"{path}:{line_no}"
        try:
            idents = _crm_identities(row, columns, id_columns, default_region)
            if not idents:
                raise InvalidInput("no identity in this row")
            since_raw = row.get(columns.get("customer_since", ""), "") or ""
            since = parse_time(since_raw, field="customer_since") if since_raw.strip() else None
            if since is not None and since > now:
                raise InvalidInput(f"customer_since {since_raw!r} is in the future")
            orders = _int_or_none(row.get(columns.get("order_count", ""), ""))
            value = _decimal_or_none(row.get(columns.get("lifetime_value", ""), ""))
        except (InvalidInput, BadTime, ValueError, InvalidOperation) as exc:
            detail = exc.detail if isinstance(exc, InvalidInput) else str(exc)
            summary.rejected.append(f"{where}: {detail}")
            continue
        owners = customer_ids_for_keys(session, [i.key for i in idents])
        if owners:
            customer = get_customer(session, min(owners.values()))
            summary.updated += 1
        else:
            customer = Customer(created_at=now)
            session.add(customer)
            session.flush()
            summary.created += 1
        name = (row.get(columns.get("name", ""), "") or "").strip()
        if name:
            customer.name = name[:200]
        if since is not None:
            customer.customer_since = since
        if orders is not None:
            customer.order_count = orders
        if value is not None:
            customer.lifetime_value = value
        summary.merged += len(add_identities(session, customer, idents, now=now))
    if columns is None and not summary.rejected:
        raise InvalidInput(f"{path}: no rows to import (expected a header row and customer rows)")
    return summary


def _crm_identities(
    row: dict[str, str], columns: dict[str, str], id_columns: list[str], region: str
) -> list[NormalIdentity]:
    found: list[NormalIdentity] = []
    for column in id_columns:
        cell = row.get(columns[column]) or ""
        for value in (v.strip() for v in cell.split(";")):
            if not value:
                continue
            kind = CRM_IDENTITY_COLUMNS[column]
            platform = "x" if kind is IdentityKind.HANDLE else None
            try:
                found.append(normalise(IdentityRef(kind, value, platform), default_region=region))
            except InvalidIdentity as exc:
                raise InvalidInput(f"column {columns[column]!r}: {exc}") from exc
    return found


def _int_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise InvalidInput(f"order_count must be a whole number of orders, not {value[:20]!r}")
    return int(value)


# Numeric(12, 2): ten digits before the point.
MAX_VALUE = Decimal("9999999999.99")


def _decimal_or_none(value: str | None) -> Decimal | None:
    text = (value or "").strip().replace(",", "").lstrip("$€£")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise InvalidInput(f"lifetime_value is not an amount: {text[:20]!r}") from exc
    if not amount.is_finite() or not (0 <= amount <= MAX_VALUE):
        raise InvalidInput(f"lifetime_value must be between 0 and {MAX_VALUE}, not {text[:20]!r}")
    return amount.quantize(Decimal("0.01"))
