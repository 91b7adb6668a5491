"""`amends problems ...`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import typer

from amends import cliutil
from amends.playbook.service import active_policy
from amends.problems import service
from amends.problems.models import ActionStatus, CorrectiveAction, Problem, ProblemStatus

problems = typer.Typer(no_args_is_help=True, help="Root causes: cases, actions, proof of the fix.")
actions = typer.Typer(no_args_is_help=True, help="Corrective actions of a problem.")
problems.add_typer(actions, name="action")
Actor = Annotated[str | None, typer.Option("--as", metavar="EMAIL", help="Who does it.")]
AsJson = Annotated[bool, typer.Option("--json")]


def problem_json(row: Problem) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "status": row.status.value,
        "category": row.category,
        "company_label": row.company_label,
        "terms": row.terms,
        "root_cause": row.root_cause,
        "what_will_change": row.what_will_change,
        "owner": row.owner,
        "opened_at": row.opened_at.isoformat(),
        "fixed_at": row.fixed_at.isoformat() if row.fixed_at else None,
        "recurring_at": row.recurring_at.isoformat() if row.recurring_at else None,
        "examples": row.examples,
    }


def action_json(a: CorrectiveAction) -> dict[str, Any]:
    return {
        "id": a.id,
        "problem_id": a.problem_id,
        "title": a.title,
        "owner": a.owner,
        "due_at": a.due_at.isoformat() if a.due_at else None,
        "status": a.status.value,
        "done_at": a.done_at.isoformat() if a.done_at else None,
    }


@problems.command("list")
def list_problems(
    status: Annotated[ProblemStatus | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: AsJson = False,
) -> None:
    """Problems, newest first."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        rows, _ = service.list_problems(session, status=status, limit=limit)
        for r in rows:
            if as_json:
                cliutil.print_json(problem_json(r))
            else:
                typer.echo(f"#{r.id:<5} {r.status.value:<10} {r.title[:70]}")


@problems.command("open")
def open_problem(
    title: str,
    category: Annotated[str | None, typer.Option(help="Its complaints' category.")] = None,
    label: Annotated[str | None, typer.Option(help="Or their company taxonomy label.")] = None,
    term: Annotated[list[str] | None, typer.Option(help="Or words they use (repeat).")] = None,
    root_cause: Annotated[str | None, typer.Option()] = None,
    change: Annotated[str | None, typer.Option("--change", help="What will change.")] = None,
    owner: Annotated[str | None, typer.Option(help="The owner's email.")] = None,
    case: Annotated[list[int] | None, typer.Option("--case", help="A case it explains.")] = None,
    who: Actor = None,
    now: cliutil.NowOption = None,
) -> None:
    """Open a problem: a root cause behind many cases."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        moment = cliutil.now(now)
        row = service.open_problem(
            session,
            title=title,
            now=moment,
            actor=cliutil.actor(who),
            category=category,
            company_label=label,
            terms=term or [],
            root_cause=root_cause,
            what_will_change=change,
            owner=owner,
        )
        if case:
            service.link_cases(session, row.id, case, actor=cliutil.actor(who), now=moment)
        typer.echo(f"problem #{row.id} opened")


@problems.command("show")
def show(problem_id: int, as_json: AsJson = False, now: cliutil.NowOption = None) -> None:
    """A problem, its actions and its complaint rate week by week."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        moment = cliutil.now(now)
        row = service.get_problem(session, problem_id)
        acts = service.actions(session, problem_id)
        weeks = service.weekly_rate(session, problem_id, now=moment)
        out = problem_json(row) | {
            "actions": [action_json(a) for a in acts],
            "weekly": [
                {
                    "week": w.week.date().isoformat(),
                    "complaints": w.complaints,
                    "total": w.total,
                    "before_fix": w.before_fix,
                }
                for w in weeks
            ],
        }
        if row.fixed_at is not None:
            out["verification"] = service.verification(
                session, problem_id, now=moment, policy=active_policy(session)
            ).to_dict()
    if as_json:
        cliutil.print_json(out)
        return
    typer.echo(f"problem #{row.id} · {row.status.value} · {row.title}")
    for label, value in (
        ("root cause", row.root_cause),
        ("what will change", row.what_will_change),
        ("owner", row.owner),
    ):
        if value:
            typer.echo(f"  {label}: {value}")
    for a in out["actions"]:
        due = f" due {a['due_at'][:10]}" if a["due_at"] else ""
        typer.echo(f"  action {a['id']}: [{a['status']}] {a['title']} ({a['owner']}{due})")
    typer.echo("  week        complaints / all")
    for w in out["weekly"]:
        typer.echo(f"  {w['week']}  {w['complaints']:>6} / {w['total']}")
    if "verification" in out:
        v = out["verification"]
        p = f"p={v['p_value']:.3g}" if v["p_value"] is not None else "no test yet"
        typer.echo(
            f"  verification: {v['verdict']} ({v['before']}/{v['before_total']} before the fix, "
            f"{v['after']}/{v['after_total']} after; {p})"
        )


@problems.command("link")
def link(
    problem_id: int,
    case: Annotated[list[int] | None, typer.Option("--case")] = None,
    incident: Annotated[int | None, typer.Option("--incident")] = None,
    who: Actor = None,
    now: cliutil.NowOption = None,
) -> None:
    """Link cases or an incident to the problem."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        added = service.link_cases(
            session, problem_id, case or [], actor=cliutil.actor(who), now=cliutil.now(now)
        )
        if incident is not None:
            service.link_incident(session, problem_id, incident)
        typer.echo(f"{len(added)} case(s) linked" + (f", incident #{incident}" if incident else ""))


@problems.command("update")
def update(
    problem_id: int,
    title: Annotated[str | None, typer.Option()] = None,
    root_cause: Annotated[str | None, typer.Option()] = None,
    change: Annotated[str | None, typer.Option("--change", help="What will change.")] = None,
    owner: Annotated[str | None, typer.Option()] = None,
    confirm: Annotated[bool, typer.Option("--confirm", help="A proposed problem is real.")] = False,
) -> None:
    """Change what is known about a problem."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        service.update(
            session,
            problem_id,
            title=title,
            root_cause=root_cause,
            what_will_change=change,
            owner=owner,
        )
        if confirm:
            service.confirm(session, problem_id)
        typer.echo(f"problem #{problem_id} updated")


@problems.command("fixed")
def fixed(problem_id: int, now: cliutil.NowOption = None) -> None:
    """The fix is in: from now the complaint rate shows whether it worked."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        service.mark_fixed(session, problem_id, now=cliutil.now(now))
        typer.echo(f"problem #{problem_id} marked fixed")


@problems.command("close")
def close(problem_id: int, now: cliutil.NowOption = None) -> None:
    """Close a problem: verified, or dismissed."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        service.close(session, problem_id, now=cliutil.now(now))
        typer.echo(f"problem #{problem_id} closed")


@problems.command("verify")
def verify(problem_id: int, as_json: AsJson = False, now: cliutil.NowOption = None) -> None:
    """Did the fix work? The share of complaints before and after it, with a Fisher test."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        found = service.verification(
            session, problem_id, now=cliutil.now(now), policy=active_policy(session)
        ).to_dict()
    if as_json:
        cliutil.print_json(found)
        return
    p = f"p={found['p_value']:.3g}" if found["p_value"] is not None else "no test yet"
    typer.echo(
        f"{found['verdict']}: {found['before']} of {found['before_total']} complaints before "
        f"the fix, {found['after']} of {found['after_total']} after ({p})"
    )


@problems.command("discover")
def discover(
    days: Annotated[int, typer.Option(min=1, max=3650, help="Look this far back.")] = 30,
    max_topics: Annotated[int | None, typer.Option(min=2, max=500)] = None,
    min_size: Annotated[int, typer.Option(min=2)] = 5,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, propose nothing.")] = False,
    as_json: AsJson = False,
    who: Actor = None,
    now: cliutil.NowOption = None,
) -> None:
    """Find topics among complaints the taxonomy could not place, and propose each as a problem
    with a readable label and typical examples."""
    with cliutil.user_errors(), cliutil.session(write=not dry_run) as session:
        moment = cliutil.now(now)
        found = service.discover(
            session,
            now=moment,
            since=moment - timedelta(days=days),
            actor=cliutil.actor(who),
            max_topics=max_topics,
            min_size=min_size,
            propose=not dry_run,
        )
    for topic in found:
        if as_json:
            cliutil.print_json(topic)
        else:
            pid = f" -> problem #{topic['problem_id']}" if "problem_id" in topic else ""
            typer.echo(f"{topic['size']:>6}  {topic['label']}{pid}")
    if not found and not as_json:
        typer.echo("no topics: nothing uncategorised in that time")


@actions.command("add")
def add_action(
    problem_id: int,
    title: str,
    owner: Annotated[str, typer.Option(help="Who does it (email).")],
    due: Annotated[str | None, typer.Option(help="Due date/time (ISO 8601).")] = None,
    now: cliutil.NowOption = None,
) -> None:
    """Add a corrective action with an owner and a due date."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        action = service.add_action(
            session,
            problem_id,
            title=title,
            owner=owner,
            now=cliutil.now(now),
            due_at=cliutil.parse_now(due) if due else None,
        )
        typer.echo(f"action {action.id} added to problem #{problem_id}")


@actions.command("set")
def set_action(
    action_id: int,
    status: ActionStatus,
    note: Annotated[str | None, typer.Option()] = None,
    now: cliutil.NowOption = None,
) -> None:
    """Mark an action done (or open again, or cancelled)."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        service.set_action(session, action_id, status, now=cliutil.now(now), note=note)
        typer.echo(f"action {action_id} is {status.value}")
