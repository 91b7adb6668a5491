"""The `amends` command: the root Typer app, mounting each domain's commands."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from amends import cliutil
from amends.analyze_cli import analyze
from amends.cases.cli import cases, queue
from amends.customers.cli import customers, export_customers
from amends.feedback.cli import export, ingest, quarantine
from amends.followups.cli import followups
from amends.incidents.cli import incidents
from amends.offers.cli import flag_customer, offer, vouchers
from amends.outbound.cli import deliver, mail, webhooks
from amends.playbook.cli import playbook
from amends.problems.cli import problems
from amends.replies.cli import check, draft
from amends.reports.cli import report
from amends.taxonomy.cli import classify, correct, taxonomy
from amends.teams.cli import agents, notifications_app, teams
from amends.timers.cli import tick, timers_app, worker
from amends.users.cli import tokens, users

app = typer.Typer(
    no_args_is_help=True,
    help="amends: hear every complaint, answer personally, fix the cause, follow up.",
    pretty_exceptions_enable=False,
)
app.command("ingest")(ingest)
app.add_typer(quarantine, name="quarantine")
export.command("customers")(export_customers)
app.add_typer(export, name="export")
app.add_typer(customers, name="customers")
app.add_typer(cases, name="cases")
app.add_typer(teams, name="teams")
app.add_typer(agents, name="agents")
app.add_typer(notifications_app, name="notifications")
app.add_typer(users, name="users")
app.add_typer(tokens, name="tokens")
app.command("analyze")(analyze)
app.command("check")(check)
app.command("draft")(draft)
app.add_typer(taxonomy, name="taxonomy")
app.command("classify")(classify)
feedback_app = typer.Typer(no_args_is_help=True, help="Single feedback items.")
feedback_app.command("correct")(correct)
app.add_typer(feedback_app, name="feedback")
app.add_typer(webhooks, name="webhooks")
app.add_typer(mail, name="mail")
app.command("deliver")(deliver)
app.add_typer(report, name="report")
app.command("queue")(queue)
app.add_typer(playbook, name="playbook")
app.command("tick")(tick)
app.command("worker")(worker)
app.add_typer(timers_app, name="timers")
app.add_typer(followups, name="followups")
app.add_typer(incidents, name="incidents")
app.add_typer(problems, name="problems")
customers.command("flag")(flag_customer)
app.add_typer(offer, name="offer")
app.add_typer(vouchers, name="vouchers")


def _register_optional() -> None:
    """Mount command groups whose modules exist (mailboxes)."""
    try:
        from amends.mailbox.cli import mailbox
    except ImportError:  # pragma: no cover - always present in a full install
        return
    app.add_typer(mailbox, name="mailbox")


_register_optional()


@app.command()
def init() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    with cliutil.database() as engine:
        typer.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")


@app.command()
def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the desk after loading.")
    ] = True,
    host: str = "127.0.0.1",
    port: int = 8000,
    count: Annotated[int, typer.Option(min=1, help="Demo feedback items to generate.")] = 150,
) -> None:
    """Set up the database, load generated demo feedback, and serve the desk."""
    from amends.demo import DEMO_ACCOUNTS, load_demo

    with cliutil.user_errors(), cliutil.database() as engine:
        loaded = load_demo(
            engine,
            count=count,
            now=cliutil.now(),
            settings=cliutil.settings(),
            limits=cliutil.limits(),
        )
    s, ticked, password = loaded.summary, loaded.ticked, loaded.password
    typer.echo(
        f"demo loaded: {s.new} new feedback items ({s.duplicates} already there), "
        f"{s.cases_opened} cases opened, {loaded.worked} older ones answered as the desk "
        f"would have; example playbook in force; "
        f"{ticked.total_fired} timers fired, {ticked.assigned} cases assigned, "
        f"{ticked.incidents_opened} incident(s) opened"
    )
    typer.echo(f"\nSign in at http://{host}:{port}/ with the password  {password}  as:")
    for email, _, _, what in DEMO_ACCOUNTS:
        typer.echo(f"  {email:<20} {what}")
    typer.echo("(each run of the demo sets a new password)\n")
    if serve_after:
        serve(host=host, port=port)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Serve the web desk and the REST API (docs at /api/docs)."""
    import uvicorn

    from amends.api.app import create_app

    with cliutil.database() as engine:
        typer.echo(f"amends on http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)")
        settings = cliutil.settings()
        app_ = create_app(settings, engine=engine)
        timers = None
        if settings.run_timers:
            from amends.timers.flows import TimerThread

            timers = TimerThread(engine, settings, every=settings.tick_seconds)
            timers.start()
        try:
            uvicorn.run(app_, host=host, port=port, log_level="warning")
        finally:
            if timers is not None:
                timers.stop()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
