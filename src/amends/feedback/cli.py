"""`amends ingest`, `amends quarantine ...`, `amends export feedback`."""

from __future__ import annotations

import codecs
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from amends import cliutil, sources
from amends.db import session_scope
from amends.errors import InvalidInput
from amends.feedback import flows, service
from amends.feedback.rules import Channel
from amends.feedback.service import IngestSummary, printable
from amends.sources.base import ParseOptions, Source


def _check_encoding(value: str | None) -> str | None:
    if value is not None:
        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise typer.BadParameter(f"unknown encoding {value!r}") from exc
    return value


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to read.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help=f"One of: {', '.join(sources.FORMATS)}. Default: detect."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary object.")] = False,
    at: cliutil.NowOption = None,
    text_column: Annotated[str | None, typer.Option(help="CSV: the column with the text.")] = None,
    time_column: Annotated[str | None, typer.Option(help="CSV: the column with the time.")] = None,
    id_column: Annotated[str | None, typer.Option(help="CSV: the column with a unique id.")] = None,
    author_column: Annotated[str | None, typer.Option(help="CSV: the author's name.")] = None,
    email_column: Annotated[str | None, typer.Option(help="CSV: the author's email.")] = None,
    channel: Annotated[Channel | None, typer.Option(help="Channel to record (CSV, JSON).")] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="Character encoding, if not detected.", callback=_check_encoding),
    ] = None,
    brand: Annotated[
        list[str] | None,
        typer.Option(help="The company's own handle or address; its turns are replies. Repeat."),
    ] = None,
) -> None:
    """Read feedback from files in any supported format. Re-reading the same input adds nothing.

    Exit status: 0 all read; 3 read, but some items were quarantined (see `amends quarantine
    list`); 1 an error stopped the run; 2 a usage error.
    """
    if fmt is not None and fmt not in sources.FORMATS:
        raise typer.BadParameter(f"unknown format {fmt!r}; known: {', '.join(sources.FORMATS)}")
    options = ParseOptions(
        text_column=text_column,
        time_column=time_column,
        id_column=id_column,
        author_column=author_column,
        email_column=email_column,
        channel=channel,
        encoding=encoding,
        brand_handles=frozenset(b.lower().lstrip("@") for b in brand or ()),
    )
    limits = cliutil.limits()
    total = IngestSummary()
    files: list[dict[str, object]] = []
    console = Console(stderr=True)
    show_progress = not as_json and console.is_terminal
    with cliutil.user_errors(), cliutil.database() as engine:
        targets = flows.expand_paths(paths)
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[count]:,} items"),
            TimeElapsedColumn(),
            console=console,
            disable=not show_progress,
            transient=True,
        ) as progress:
            for path in targets:
                task = progress.add_task(str(path), total=None, count=0)
                counted = [0]

                def advance(
                    part: IngestSummary, task: TaskID = task, counted: list[int] = counted
                ) -> None:
                    counted[0] += part.read
                    progress.update(task, advance=part.read, count=counted[0])

                now = cliutil.now(at)
                with session_scope(engine) as session:
                    result = flows.ingest_source(
                        session,
                        Source(name=printable(str(path)), path=path),
                        fmt=fmt,
                        options=options,
                        now=now,
                        limits=limits,
                        on_batch=advance,
                    )
                progress.remove_task(task)
                total.add(result.summary)
                files.append(
                    {"path": result.path, "format": result.format, **_counts(result.summary)}
                )
    if as_json:
        cliutil.print_json({**total.as_dict(), "files": files})
    else:
        _print_summary(total, files)
    if total.quarantined:
        raise typer.Exit(cliutil.EXIT_QUARANTINED)


def _counts(summary: IngestSummary) -> dict[str, int]:
    data = summary.as_dict()
    return {k: v for k, v in data.items() if isinstance(v, int)}


def _print_summary(total: IngestSummary, files: list[dict[str, object]]) -> None:
    for f in files:
        typer.echo(
            f"{f['path']} ({f['format']}): {f['read']} read, {f['new']} new, "
            f"{f['duplicates']} duplicates, {f['quarantined']} quarantined"
        )
    if len(files) > 1:
        typer.echo(
            f"total: {total.read} read, {total.new} new, {total.duplicates} duplicates, "
            f"{total.quarantined} quarantined"
        )
    if total.cases_opened or total.automated:
        typer.echo(
            f"{total.cases_opened} cases opened; {total.automated} automated messages kept "
            "without opening a case"
        )
    if total.already_quarantined:
        typer.echo(
            f"{total.already_quarantined} of the quarantined items were already in quarantine "
            "from an earlier run; they were not added again"
        )
    if total.id_clashes:
        typer.echo(
            f"{total.id_clashes} items reused a source id already taken by a different item; "
            "they were kept as separate items"
        )
    for note in total.notes:
        typer.echo(f"quarantined: {note}", err=True)
    if total.quarantined > len(total.notes):
        typer.echo(f"... and {total.quarantined - len(total.notes)} more", err=True)
    if total.quarantined:
        typer.echo("see them with: amends quarantine list", err=True)


class QuarantineFilter(StrEnum):
    PENDING = "pending"
    RELEASED = "released"
    DISCARDED = "discarded"
    ALL = "all"


quarantine = typer.Typer(
    no_args_is_help=True, help="Input that could not be read, kept with its reason."
)


@quarantine.command("list")
def quarantine_list(
    status: Annotated[
        QuarantineFilter, typer.Option(help="Which items to list.")
    ] = QuarantineFilter.PENDING,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List quarantined items, oldest first."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        rows, total = service.list_quarantine(
            session, status=None if status is QuarantineFilter.ALL else status.value, limit=limit
        )
        for row in rows:
            if as_json:
                cliutil.print_json(
                    {
                        "id": row.id,
                        "origin": row.origin,
                        "location": row.location,
                        "format": row.format,
                        "reason": row.reason,
                        "status": row.status,
                        "created_at": row.created_at.isoformat(),
                    }
                )
            else:
                typer.echo(
                    f"{row.id:>6}  {row.status:<9} {row.origin}: {row.location}: {row.reason}"
                )
        if not as_json:
            label = "" if status is QuarantineFilter.ALL else f" {status.value}"
            shown = f"showing {len(rows)} of {total}" if len(rows) < total else f"{total}"
            typer.echo(f"{shown}{label} item(s)")


@quarantine.command("show")
def quarantine_show(item_id: int) -> None:
    """Show one quarantined item: where it came from, why, and its raw content."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        row = service.get_quarantined(session, item_id)
        typer.echo(f"id:       {row.id}")
        typer.echo(f"status:   {row.status}")
        typer.echo(f"origin:   {row.origin}")
        typer.echo(f"location: {row.location}")
        typer.echo(f"format:   {row.format}")
        typer.echo(f"reason:   {row.reason}")
        typer.echo(f"received: {row.created_at.isoformat()}")
        typer.echo(f"raw ({len(row.raw)} bytes{', cut' if row.raw_truncated else ''}):")
        preview = row.raw[:4000].decode("utf-8", "backslashreplace")
        typer.echo(preview)


@quarantine.command("retry")
def quarantine_retry(
    item_id: int,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="Read it as this format.")
    ] = None,
    edited: Annotated[
        Path | None, typer.Option(help="A corrected copy of the raw content to read instead.")
    ] = None,
    text_column: Annotated[str | None, typer.Option(help="CSV: read the text from here.")] = None,
    time_column: Annotated[str | None, typer.Option()] = None,
    id_column: Annotated[str | None, typer.Option()] = None,
    author_column: Annotated[str | None, typer.Option()] = None,
    email_column: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[Channel | None, typer.Option()] = None,
    encoding: Annotated[str | None, typer.Option(callback=_check_encoding)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Read a quarantined item again (after a fix, as another format, or a corrected copy).

    It is read with the options of its first import; each option given here replaces one.
    """
    limits = cliutil.limits()
    options = ParseOptions(
        text_column=text_column,
        time_column=time_column,
        id_column=id_column,
        author_column=author_column,
        email_column=email_column,
        channel=channel,
        encoding=encoding,
    )
    with cliutil.user_errors():
        replacement = None
        if edited is not None:
            if not edited.is_file():
                raise InvalidInput(f"no such file: {edited}")
            replacement = edited.read_bytes()
        with cliutil.session(write=True) as session:
            summary = flows.retry_quarantined(
                session,
                item_id,
                now=cliutil.now(),
                limits=limits,
                fmt=fmt,
                replacement=replacement,
                options=options,
            )
    if as_json:
        cliutil.print_json(summary.as_dict())
    else:
        typer.echo(f"released: {summary.new} new, {summary.duplicates} duplicates")


@quarantine.command("discard")
def quarantine_discard(item_id: int) -> None:
    """Mark a quarantined item as not worth keeping (it stays on record as discarded)."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        row = service.discard_quarantined(session, item_id, now=cliutil.now())
        typer.echo(f"quarantined item {row.id} discarded")


export = typer.Typer(no_args_is_help=True, help="Export desk data.")


@export.command("feedback")
def export_feedback(
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl")] = "jsonl",
) -> None:
    """Print every feedback item, one JSON object per line."""
    if fmt != "jsonl":
        raise typer.BadParameter("only jsonl is supported", param_hint="--format")
    out = sys.stdout
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        for row in service.iter_feedback(session):
            out.write(
                json.dumps(
                    {
                        "id": row.id,
                        "direction": row.direction.value,
                        "channel": row.channel.value,
                        "customer_id": row.customer_id,
                        "case_id": row.case_id,
                        "author_name": row.author_name,
                        "author_handle": row.author_handle,
                        "subject": row.subject,
                        "text": row.text,
                        "public": row.public,
                        "reach": row.reach,
                        "received_at": row.received_at.isoformat(),
                        "source_id": row.source_id,
                        "thread_key": row.thread_key,
                        "in_reply_to": row.in_reply_to,
                        "score": row.score,
                        "score_scale": row.score_scale.value if row.score_scale else None,
                        "automated": row.automated,
                        "priority": row.priority,
                        "category": row.category,
                        "company_label": row.company_label,
                        "severity": row.severity,
                        "sentiment": row.sentiment,
                        "needs_response": row.needs_response,
                        "language": row.language,
                        "reasons": (row.analysis or {}).get("reasons"),
                        "meta": row.meta,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
