"""Multi-step ingest: files and folders through the parsers into the desk, and quarantine retry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from amends import sources
from amends.errors import Conflict, InvalidInput, UsageError
from amends.feedback.models import QuarantineStatus
from amends.feedback.service import (
    IngestLimits,
    IngestSummary,
    get_quarantined,
    ingest,
    printable,
)
from amends.sources.base import MAX_RAW_BYTES, Item, ParseOptions, Rejected, Source


@dataclass(frozen=True)
class FileResult:
    path: str
    format: str
    summary: IngestSummary


def ingest_source(
    session: Session,
    source: Source,
    *,
    fmt: str | None,
    options: ParseOptions,
    now: datetime,
    limits: IngestLimits,
    on_batch: Callable[[IngestSummary], None] | None = None,
    keep_ids: bool = False,
    analyse: bool = True,
) -> FileResult:
    """Detect (unless named) the format of one source and ingest it. The caller commits."""
    options = replace(options, now=now)
    try:
        name = fmt or sources.detect(source)
        records = sources.parse(source, name, options)
    except sources.UnknownFormat as exc:
        summary = ingest(
            session,
            [Rejected("file", str(exc), source.head(MAX_RAW_BYTES + 1))],
            origin=source.name,
            fmt=fmt or "unknown",
            now=now,
            limits=limits,
        )
        return FileResult(source.name, fmt or "unknown", summary)
    try:
        summary = ingest(
            session,
            _guarded(records, source),
            origin=source.name,
            fmt=name,
            now=now,
            limits=limits,
            on_batch=on_batch,
            keep_ids=keep_ids,
            analyse=analyse,
        )
    except UsageError as exc:
        where = printable(source.name)
        detail = exc.detail if exc.detail.startswith(where) else f"{where}: {exc.detail}"
        raise UsageError(detail) from exc
    return FileResult(source.name, name, summary)


def _guarded(records: Iterator[Item | Rejected], source: Source) -> Iterator[Item | Rejected]:
    """A parser bug or an unreadable file ends that file with a quarantine note, not a crash."""
    try:
        yield from records
    except RecursionError:
        yield Rejected("file", "reading stopped: the input is nested too deeply", b"")
    except (OSError, ValueError, UnicodeError) as exc:
        yield Rejected("file", f"reading stopped: {exc}", b"")


def expand_paths(paths: list[Path]) -> list[Path]:
    """The files to read, in order; refuses what is missing, empty or not a regular file."""
    missing = [printable(str(p)) for p in paths if not p.exists()]
    if missing:
        raise InvalidInput(f"no such file or folder: {', '.join(missing)}")
    odd = [printable(str(p)) for p in paths if not (p.is_file() or p.is_dir())]
    if odd:
        # A FIFO or a device would block or never end.
        raise InvalidInput(f"not a regular file or folder: {', '.join(odd)}")
    found = [p for p in sources.expand(paths) if p.is_file() or p.is_dir()]
    if not found:
        raise InvalidInput(f"no files to read in {', '.join(printable(str(p)) for p in paths)}")
    return found


def retry_quarantined(
    session: Session,
    item_id: int,
    *,
    now: datetime,
    limits: IngestLimits,
    fmt: str | None = None,
    replacement: bytes | None = None,
    options: ParseOptions | None = None,
) -> IngestSummary:
    """Parse a quarantined piece again (perhaps edited, or as another format) and ingest it.

    On success the piece is marked released; if it still fails, it stays in quarantine and the
    new reason is recorded there, with no second copy made.
    """
    row = get_quarantined(session, item_id)
    if row.status != QuarantineStatus.PENDING:
        raise Conflict(f"quarantined item {item_id} is already {row.status}")
    raw = replacement if replacement is not None else row.raw
    if replacement is None and row.raw_truncated:
        raise InvalidInput(
            f"quarantined item {item_id} kept only the first {len(row.raw):,} bytes of "
            f"{row.origin}; import that file again (with --format) or pass a corrected copy "
            "with --edited"
        )
    if not raw:
        raise InvalidInput(
            f"quarantined item {item_id} kept no content to retry; re-import the source "
            "or pass a corrected copy with --edited"
        )
    name = fmt or (row.format if row.format in sources.FORMATS else None)
    opts = replace(ParseOptions.from_stored(row.options or {}), now=now)
    if options is not None:
        opts = opts.override(options)
    source = Source(name=f"{row.origin} ({row.location})", data=raw)
    if name is None:
        try:
            name = sources.detect(source)
        except sources.UnknownFormat as exc:
            raise InvalidInput(str(exc)) from exc
    records = list(_guarded(sources.parse(source, name, opts), source))
    failures = [r for r in records if isinstance(r, Rejected)]
    if failures:
        row.reason = "; ".join(f"{f.location}: {f.reason}" for f in failures)[:4000]
        session.flush()
        raise InvalidInput(f"still unreadable: {row.reason}")
    summary = ingest(session, records, origin=row.origin, fmt=name, now=now, limits=limits)
    stored = summary.new + summary.duplicates
    if summary.quarantined or stored == 0:
        # Nothing may be marked released that did not reach the desk.
        row.reason = "; ".join(summary.notes)[:4000] or f"no item could be read as {name}"
        session.flush()
        raise InvalidInput(f"still unreadable: {row.reason}")
    row.status = QuarantineStatus.RELEASED
    row.resolved_at = now
    if replacement is not None:
        row.raw = replacement
    session.flush()
    return summary
