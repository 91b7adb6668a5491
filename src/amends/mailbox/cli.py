"""`amends mailbox add | list | poll`."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from amends import cliutil
from amends.db import session_scope
from amends.errors import DomainError
from amends.feedback.service import IngestSummary
from amends.mailbox import service
from amends.mailbox.models import Mailbox

mailbox = typer.Typer(no_args_is_help=True, help="IMAP mailboxes the desk polls for new mail.")


@mailbox.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A short name for the mailbox, e.g. support.")],
    host: Annotated[str, typer.Option(help="IMAP server host name.")],
    user: Annotated[str, typer.Option(help="Login name.")],
    password_env: Annotated[
        str,
        typer.Option(help="NAME of the environment variable holding the password (not stored)."),
    ],
    port: Annotated[
        int | None, typer.Option(help="IMAP port. Default: 993 with --ssl, else 143.")
    ] = None,
    folder: Annotated[str, typer.Option(help="Folder to read.")] = "INBOX",
    use_ssl: Annotated[bool, typer.Option("--ssl/--no-ssl", help="IMAP over TLS (IMAPS).")] = True,
    starttls: Annotated[
        bool, typer.Option("--starttls", help="Plain IMAP upgraded with STARTTLS (use --no-ssl).")
    ] = False,
) -> None:
    """Register an IMAP mailbox; `amends mailbox poll` then fetches its new mail."""
    if starttls and use_ssl:
        # --starttls says what the user means: a plain connection upgraded to TLS.
        use_ssl = False
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        box = service.add_mailbox(
            session,
            name=name,
            host=host,
            port=port if port is not None else (993 if use_ssl else 143),
            username=user,
            password_env=password_env,
            folder=folder,
            use_ssl=use_ssl,
            starttls=starttls,
            now=cliutil.now(),
        )
        typer.echo(f"mailbox {box.name} added: {_describe(box)}")


@mailbox.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the mailboxes and how far each has been read."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        boxes = service.list_mailboxes(session)
        for box in boxes:
            if as_json:
                cliutil.print_json(
                    {
                        "name": box.name,
                        "host": box.host,
                        "port": box.port,
                        "user": box.username,
                        "folder": box.folder,
                        "ssl": box.use_ssl,
                        "starttls": box.starttls,
                        "password_env": box.password_env,
                        "last_uid": box.last_uid,
                        "last_polled_at": box.last_polled_at.isoformat()
                        if box.last_polled_at
                        else None,
                    }
                )
            else:
                polled = (
                    f"{box.last_polled_at:%Y-%m-%d %H:%M} UTC" if box.last_polled_at else "never"
                )
                typer.echo(f"{box.name:<20} {_describe(box)}  last polled: {polled}")
        if not as_json:
            typer.echo(f"{len(boxes)} mailbox(es)")


@mailbox.command("poll")
def poll(
    name: Annotated[str | None, typer.Argument(help="Mailbox to poll. Default: all.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary object.")] = False,
    at: cliutil.NowOption = None,
    brand: Annotated[
        list[str] | None,
        typer.Option(help="Another address of the company; its mail is a reply. Repeat."),
    ] = None,
) -> None:
    """Fetch new mail into the desk. Polling again fetches nothing twice; mail stays unread.

    Exit status: 0 all read; 3 read, but some messages were quarantined; 1 a mailbox could not
    be read (the others are still polled).
    """
    limits = cliutil.limits()
    brand_handles = frozenset(b.lower().lstrip("@") for b in brand or ())
    total = IngestSummary()
    results: list[dict[str, object]] = []
    failed = 0
    with cliutil.database() as engine:
        with cliutil.user_errors(), session_scope(engine) as session:
            names = (
                [service.get_mailbox(session, name).name]
                if name is not None
                else [box.name for box in service.list_mailboxes(session)]
            )
        if not names:
            typer.echo("no mailboxes; add one with: amends mailbox add", err=True)
        for box_name in names:
            # Each mailbox is its own unit of work: one that fails leaves the others polled.
            try:
                with session_scope(engine) as session:
                    box = service.get_mailbox(session, box_name)
                    summary = service.poll_mailbox(
                        session,
                        box,
                        now=cliutil.now(at),
                        limits=limits,
                        password=service.password_for(box, os.environ),
                        brand_handles=brand_handles,
                    )
            except DomainError as exc:
                failed += 1
                typer.echo(f"Error: {exc.detail}", err=True)
                results.append({"name": box_name, "error": exc.detail})
                continue
            total.add(summary)
            counts = {k: v for k, v in summary.as_dict().items() if isinstance(v, int)}
            results.append({"name": box_name, **counts})
            if not as_json:
                typer.echo(
                    f"{box_name}: {summary.read} read, {summary.new} new, "
                    f"{summary.duplicates} duplicates, {summary.quarantined} quarantined"
                    + (f", {summary.automated} automated" if summary.automated else "")
                )
    if as_json:
        cliutil.print_json({**total.as_dict(), "mailboxes": results})
    else:
        for note in total.notes:
            typer.echo(f"quarantined: {note}", err=True)
        if total.quarantined:
            typer.echo("see them with: amends quarantine list", err=True)
    if failed:
        raise typer.Exit(cliutil.EXIT_ERROR)
    if total.quarantined:
        raise typer.Exit(cliutil.EXIT_QUARANTINED)


def _describe(box: Mailbox) -> str:
    security = "ssl" if box.use_ssl else "starttls" if box.starttls else "plain"
    return f"{box.username}@{box.host}:{box.port}/{box.folder} ({security})"
