"""`amends check` and `amends draft`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from amends import cliutil
from amends.errors import UsageError
from amends.playbook.service import active_policy
from amends.replies import service
from amends.replies.service import MAX_REPLY_CHARS

_MARK = {"block": "BLOCK", "warn": "warn ", "info": "info "}


def _read(path: str | None, what: str) -> str:
    """A UTF-8 text from a file, or from standard input for "-" or no path."""
    if path is None or path == "-":
        if sys.stdin.isatty() and path is None:
            raise UsageError(f"give the {what} as a file, or pipe it in with -")
        data = sys.stdin.buffer.read(MAX_REPLY_CHARS * 4 + 1)
        where = "standard input"
    else:
        file = Path(path)
        if not file.is_file():
            raise UsageError(f"{path}: no such file")
        with file.open("rb") as handle:
            data = handle.read(MAX_REPLY_CHARS * 4 + 1)
        where = path
    if len(data) > MAX_REPLY_CHARS * 4:
        raise UsageError(f"{where}: the {what} is over {MAX_REPLY_CHARS} characters")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where}: not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise UsageError(f"{where}: the {what} is empty")
    return text


def print_findings(text: str, findings: list[dict[str, Any]], *, label: str = "") -> None:
    if not findings:
        typer.echo(f"{label}no findings")
        return
    for f in findings:
        span = text[f["start"] : f["end"]].replace("\n", " ")
        where = f' "{span[:60]}{"..." if len(span) > 60 else ""}"' if span else ""
        typer.echo(f"{label}{_MARK[f['severity']]} {f['rule']}{where}")
        typer.echo(f"{label}      {f['message']}")
        typer.echo(f"{label}      -> {f['suggestion']}")


def check(
    file: Annotated[
        str | None, typer.Argument(help="The reply: a UTF-8 file, or - for standard input.")
    ] = None,
    customer_name: Annotated[
        str | None, typer.Option(help="The customer's name, as they spell it.")
    ] = None,
    complaint_file: Annotated[
        Path | None, typer.Option(help="What the customer wrote (UTF-8 text).")
    ] = None,
    case_id: Annotated[
        int | None,
        typer.Option("--case", help="Check it as a reply on this case (its customer, complaint)."),
    ] = None,
    public: Annotated[
        bool | None, typer.Option("--public/--private", help="Where the reply is shown.")
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="The channel: x, email, review:google-play ...")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check a reply before it is sent. Exits 1 when a finding blocks sending."""
    with cliutil.user_errors():
        text = _read(file, "reply")
        complaint = _read(str(complaint_file), "complaint") if complaint_file else None
        with cliutil.session(write=False) as session:
            result = service.check(
                session,
                text,
                policy=active_policy(session),
                case_id=case_id,
                public=public,
                channel=channel,
                customer_name=customer_name,
                complaint=complaint,
            )
    found = result.to_dict()
    if as_json:
        cliutil.print_json(found)
    else:
        print_findings(text, found["findings"])
    if result.blocking:
        raise typer.Exit(cliutil.EXIT_ERROR)


def draft(
    case_id: Annotated[int, typer.Argument(help="The case to draft replies for.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    now: cliutil.NowOption = None,
) -> None:
    """Draft the replies a case needs: a public one for a public complaint, and a personal,
    private apology. Every draft has passed the checker."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        result = service.draft(
            session, case_id, policy=active_policy(session), now=cliutil.now(now)
        )
    found = result.to_dict()
    if as_json:
        cliutil.print_json(
            {k: found[k] for k in ("public", "private", "offer", "findings", "blocking")}
        )
        return
    if result.public is not None:
        typer.echo("--- public reply ---")
        typer.echo(result.public)
        print_findings(result.public, result.findings.get("public", []), label="  ")
    typer.echo("--- private reply ---")
    typer.echo(result.private)
    print_findings(result.private, result.findings.get("private", []), label="  ")
    if result.offer is not None:
        offer = result.offer
        typer.echo("--- offer ---")
        parts = [f"fix: {offer.get('fix') or '-'}"]
        if offer.get("options"):
            parts.append("options: " + ", ".join(offer["options"]))
        if offer.get("perk"):
            parts.append(f"sign of apology: {offer['perk']} {offer.get('amount')}")
        typer.echo("; ".join(parts))
