"""`amends incidents ...`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from amends import cliutil
from amends.incidents import service
from amends.incidents.models import Incident
from amends.incidents.rules import IncidentStatus, Tier
from amends.playbook.service import active_policy

incidents = typer.Typer(
    no_args_is_help=True, help="Spikes of similar complaints, and the response."
)
Actor = Annotated[
    str | None, typer.Option("--as", metavar="EMAIL", help="Who does it (kept on the timeline).")
]
AsJson = Annotated[bool, typer.Option("--json")]


def incident_json(row: Incident, cases: list[int] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "title": row.title,
        "status": row.status.value,
        "tier": row.tier.value,
        "key": row.key,
        "customers": row.customers,
        "reach": row.reach,
        "opened_at": row.opened_at.isoformat(),
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "opened_by": row.opened_by,
        "problem_id": row.problem_id,
        "what_happened": row.what_happened,
        "who_is_affected": row.who_is_affected,
        "what_we_are_doing": row.what_we_are_doing,
        "what_will_change": row.what_will_change,
    }
    if cases is not None:
        out["cases"] = cases
    return out


def _line(row: Incident) -> str:
    return (
        f"#{row.id:<5} {row.status.value:<9} {row.tier.value:<14} {row.customers:>5} customers "
        f"reach {row.reach:<8} {row.title[:60]}"
    )


@incidents.command("detect")
def detect(now: cliutil.NowOption = None, as_json: AsJson = False) -> None:
    """Look for spikes now: open an incident for each new one (the worker does this on its
    own every few minutes)."""
    from amends.incidents.flows import detect as run

    with cliutil.user_errors(), cliutil.session(write=True) as session:
        found = run(session, now=cliutil.now(now), policy=active_policy(session))
        for item in found:
            if as_json:
                cliutil.print_json(item)
            else:
                where = f" (incident #{item['incident_id']})" if item.get("incident_id") else ""
                typer.echo(f"{item['key']}: {item['reason']} -> {item.get('action')}{where}")
        if not found and not as_json:
            typer.echo("no spikes")


@incidents.command("list")
def list_incidents(
    status: Annotated[IncidentStatus | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: AsJson = False,
) -> None:
    """Incidents, newest first."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        rows, _total = service.list_incidents(session, status=status, limit=limit)
        for row in rows:
            cliutil.print_json(incident_json(row)) if as_json else typer.echo(_line(row))


@incidents.command("show")
def show(incident_id: int, as_json: AsJson = False) -> None:
    """An incident: its facts, cases and timeline."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        row = service.get_incident(session, incident_id)
        cases = service.case_ids(session, incident_id)
        events = service.timeline(session, incident_id)
        if as_json:
            out = incident_json(row, cases)
            out["timeline"] = [
                {
                    "at": e.at.isoformat(),
                    "kind": e.kind,
                    "actor": e.actor,
                    "text": e.text,
                    "data": e.data,
                }
                for e in events
            ]
            cliutil.print_json(out)
            return
        typer.echo(_line(row))
        for label, value in (
            ("what happened", row.what_happened),
            ("who is affected", row.who_is_affected),
            ("what we are doing", row.what_we_are_doing),
            ("what will change", row.what_will_change),
        ):
            if value:
                typer.echo(f"  {label}: {value}")
        typer.echo(f"  cases: {', '.join(f'#{c}' for c in cases) or '-'}")
        for e in events:
            text = f" {e.text}" if e.text else ""
            if e.kind == "cases_added":
                shown = ", ".join(f"#{c}" for c in e.data.get("cases", [])[:20])
                text = f" {shown} ({e.data.get('how')})"
            elif e.kind == "tier":
                text = f" {e.data.get('from')} -> {e.data.get('to')}:{text}"
            typer.echo(f"  [{e.at:%Y-%m-%d %H:%M}] {e.kind} by {e.actor}{text}")


@incidents.command("open")
def open_incident(
    title: str,
    case: Annotated[list[int] | None, typer.Option("--case", help="A case in it (repeat).")] = None,
    who: Actor = None,
    now: cliutil.NowOption = None,
) -> None:
    """Open an incident by hand."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        row = service.open_incident(
            session,
            title=title,
            now=cliutil.now(now),
            actor=cliutil.actor(who),
            policy=active_policy(session),
            cases=case or [],
        )
        typer.echo(f"incident #{row.id} opened ({row.tier.value})")


@incidents.command("add-cases")
def add_cases(
    incident_id: int, cases: list[int], who: Actor = None, now: cliutil.NowOption = None
) -> None:
    """Link cases to an incident; customers, reach and tier follow."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        added = service.add_cases(
            session,
            incident_id,
            cases,
            how="hand",
            actor=cliutil.actor(who),
            now=cliutil.now(now),
            policy=active_policy(session),
        )
        row = service.get_incident(session, incident_id)
        typer.echo(f"{len(added)} case(s) added to incident #{incident_id}")
        typer.echo(_line(row))


@incidents.command("remove-case")
def remove_case(
    incident_id: int, case_id: int, who: Actor = None, now: cliutil.NowOption = None
) -> None:
    """Take a case out of an incident."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        service.remove_case(
            session,
            incident_id,
            case_id,
            actor=cliutil.actor(who),
            now=cliutil.now(now),
            policy=active_policy(session),
        )
        typer.echo(f"case #{case_id} removed from incident #{incident_id}")


@incidents.command("update")
def update(
    incident_id: int,
    text: Annotated[str | None, typer.Argument(help="The update, for the timeline.")] = None,
    title: Annotated[str | None, typer.Option()] = None,
    what_happened: Annotated[str | None, typer.Option()] = None,
    who_is_affected: Annotated[str | None, typer.Option()] = None,
    doing: Annotated[str | None, typer.Option("--doing", help="What we are doing.")] = None,
    change: Annotated[str | None, typer.Option("--change", help="What will change.")] = None,
    problem: Annotated[int | None, typer.Option(help="The problem (root cause) behind it.")] = None,
    who: Actor = None,
    now: cliutil.NowOption = None,
) -> None:
    """Post an update and set the facts the statements are drafted from."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        service.update(
            session,
            incident_id,
            actor=cliutil.actor(who),
            now=cliutil.now(now),
            text=text,
            title=title,
            what_happened=what_happened,
            who_is_affected=who_is_affected,
            what_we_are_doing=doing,
            what_will_change=change,
            problem_id=problem,
        )
        typer.echo(f"incident #{incident_id} updated")


@incidents.command("statements")
def statements(
    incident_id: int,
    tier: Annotated[Tier | None, typer.Option(help="Draft for this tier instead.")] = None,
    as_json: AsJson = False,
) -> None:
    """The public statements its tier calls for, each checked by the reply checker."""
    from amends.replies.cli import print_findings

    with cliutil.user_errors(), cliutil.session(write=False) as session:
        drafts = service.drafted_statements(
            session, incident_id, policy=active_policy(session), tier=tier
        )
    blocking = any(d["blocking"] for d in drafts.values())
    if as_json:
        cliutil.print_json(drafts)
    if blocking:
        typer.echo("a statement has blocking findings: change the incident's facts", err=True)
        raise typer.Exit(cliutil.EXIT_ERROR)
    if as_json:
        return
    if not drafts:
        typer.echo("individual replies only: no public statement at this tier")
    for which, draft in drafts.items():
        typer.echo(f"--- {which} ---")
        typer.echo(draft["text"])
        print_findings(draft["text"], draft["findings"], label="  ")


@incidents.command("resolve")
def resolve(
    incident_id: int,
    text: Annotated[str | None, typer.Argument(help="The closing update.")] = None,
    who: Actor = None,
    now: cliutil.NowOption = None,
) -> None:
    """Resolve it: every linked customer gets a personal private reply, their case is
    resolved and its follow-up scheduled."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        counts = service.resolve(
            session,
            incident_id,
            actor=cliutil.actor(who),
            now=cliutil.now(now),
            policy=active_policy(session),
            text=text,
        )
        typer.echo(
            f"incident #{incident_id} resolved: {counts['replied']} customers written to, "
            f"{counts['resolved']} cases resolved, {counts['already_closed']} already "
            "resolved or closed"
        )
        if counts["left_open"]:
            left = ", ".join(f"#{c}" for c in counts["left_open"])
            typer.echo(
                f"left open for a personal reply (the draft did not pass the checker): {left}"
            )
