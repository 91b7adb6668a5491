"""`amends report sla`: the SLA report as a plain-text table or one JSON object."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import typer

from amends import cliutil
from amends.errors import InvalidInput, UsageError
from amends.offers.rules import money
from amends.offers.schemas import OfferReportRead
from amends.reports import service
from amends.reports.schemas import ClockRead, DurationRead, SlaGroupRead, SlaReportRead

report = typer.Typer(no_args_is_help=True, help="Reports over the desk's cases and offers.")

_BOUND = "ISO-8601 date or date and time (naive means UTC)"


def _bound(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise UsageError(f"{option}: not an ISO-8601 date or time: {value!r}") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@report.command("sla")
def sla(
    since: Annotated[
        str | None, typer.Option(help=f"Cases opened from this {_BOUND}; default until - 30d.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help=f"Cases opened before this {_BOUND}; default now.")
    ] = None,
    now: Annotated[
        str | None, typer.Option(help="Judge running clocks as of this ISO-8601 time.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """SLA attainment by team, priority and channel; response and resolution times; reopen
    rate; CSAT and NPS. Over the cases opened in [since, until), merged cases left out."""
    with cliutil.user_errors():
        moment = cliutil.parse_now(now)
        try:
            start, end = service.report_window(
                _bound("--since", since), _bound("--until", until), now=moment
            )
        except InvalidInput as exc:
            raise UsageError(exc.detail) from exc
        with cliutil.session(write=False) as session:
            result = SlaReportRead.model_validate(
                service.sla_report(session, since=start, until=end, now=moment)
            )
    if as_json:
        cliutil.print_json(result.model_dump(mode="json"))
        return
    for line in render(result):
        typer.echo(line)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _clock(c: ClockRead) -> str:
    return f"{c.met:>5} {c.breached:>5} {c.running:>5} {_pct(c.attainment_pct):>7}"


def _group(label: str, g: SlaGroupRead) -> str:
    return (
        f"  {label[:22]:<22} {g.cases:>6}  {_clock(g.first_response)}  {_clock(g.resolution)}"
        f"  {g.next_response_breached:>6}"
    )


def _duration(label: str, d: DurationRead) -> str:
    return f"  {label:<16} {d.median:>10} {d.p90:>10} {d.count:>7}"


def render(r: SlaReportRead) -> list[str]:
    """The report as lines of plain text, for a terminal."""
    c, reopen, s = r.cases, r.reopen, r.surveys
    lines = [
        f"SLA report: cases opened {r.since:%Y-%m-%d %H:%M} to {r.until:%Y-%m-%d %H:%M} UTC, "
        f"as of {r.now:%Y-%m-%d %H:%M} UTC",
        f"Cases: {c.opened} opened, {c.resolved} resolved, {c.open} still open",
        "",
        "Times (wall-clock from opening, not business hours; p90 = 90th percentile)",
        f"  {'':<16} {'median':>10} {'p90':>10} {'cases':>7}",
        _duration("first response", r.first_response_time),
        _duration("resolution", r.resolution_time),
        "",
        "SLA attainment (att. = met / (met + breached); running clocks are not yet due)",
        f"  {'':<22} {'':>6}  {'first response':<25}  {'resolution':<25}  {'next':>6}",
        f"  {'':<22} {'cases':>6}  {'met':>5} {'brch':>5} {'run':>5} {'att.':>7}"
        f"  {'met':>5} {'brch':>5} {'run':>5} {'att.':>7}  {'breach':>6}",
        _group("all", r.sla),
    ]
    for title, groups in (
        ("team", r.by_team),
        ("priority", r.by_priority),
        ("channel", r.by_channel),
    ):
        lines.extend(_group(f"{title} {g.key}", g) for g in groups)
    lines += [
        "",
        f"Reopened: {reopen.reopened} of {reopen.resolved} resolved cases "
        f"({_pct(reopen.rate_pct)})",
        f"Surveys: {s.sent} sent, {s.answered} answered ({_pct(s.response_rate_pct)})",
        f"  CSAT: {s.csat.answered} answers, mean "
        f"{'-' if s.csat.mean is None else f'{s.csat.mean:.2f}'} of 5, "
        f"{_pct(s.csat.satisfied_pct)} satisfied (4-5)",
        f"  NPS: {'-' if s.nps.score is None else f'{s.nps.score:+.1f}'} "
        f"({s.nps.promoters} promoters, {s.nps.passives} passives, "
        f"{s.nps.detractors} detractors of {s.nps.answered})",
    ]
    return lines


@report.command("offers")
def offers(
    since: Annotated[
        str | None, typer.Option(help=f"Offers made from this {_BOUND}; default until - 30d.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help=f"Offers made before this {_BOUND}; default now.")
    ] = None,
    now: Annotated[
        str | None, typer.Option(help="Judge vouchers and comebacks as of this ISO-8601 time.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Compensation: spend by category, remedy and month against the budget; acceptance;
    vouchers redeemed; whether customers came back. Over the offers created in [since, until)."""
    from amends.offers.service import offers_report
    from amends.playbook.service import active_policy

    with cliutil.user_errors():
        moment = cliutil.parse_now(now)
        try:
            start, end = service.report_window(
                _bound("--since", since), _bound("--until", until), now=moment
            )
        except InvalidInput as exc:
            raise UsageError(exc.detail) from exc
        with cliutil.session(write=False) as session:
            result = OfferReportRead.model_validate(
                offers_report(
                    session, since=start, until=end, now=moment, policy=active_policy(session)
                )
            )
    if as_json:
        cliutil.print_json(result.model_dump(mode="json"))
        return
    for line in render_offers(result):
        typer.echo(line)


def _money(value: Decimal | None, currency: str) -> str:
    return "-" if value is None else money(value, currency)


def render_offers(r: OfferReportRead) -> list[str]:
    """The offer report as lines of plain text, for a terminal."""
    cur = r.currency
    counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in r.by_status.items() if n)
    lines = [
        f"Offer report: offers created {r.since:%Y-%m-%d %H:%M} to {r.until:%Y-%m-%d %H:%M} UTC, "
        f"as of {r.now:%Y-%m-%d %H:%M} UTC",
        f"Offers: {r.offers}" + (f" ({counts})" if counts else ""),
        f"Spend: {_money(r.spend, cur)} on signs of apology; fixes (refunds, replacements): "
        f"{_money(r.fixes, cur)}",
        "",
        f"By month (budget {_money(r.monthly_budget, cur)} a month)",
        f"  {'month':<26} {'spend':>14}  {'left':>14}",
    ]
    for m in r.by_month:
        over = "  OVER BUDGET" if m.over else ""
        lines.append(f"  {m.month:<26} {_money(m.spend, cur):>14}  {_money(m.left, cur):>14}{over}")
    lines += ["", "By category", f"  {'category':<26} {'offers':>6} {'spend':>14}"]
    lines += [f"  {c.key[:26]:<26} {c.offers:>6} {_money(c.spend, cur):>14}" for c in r.by_category]
    lines += [
        "",
        "By remedy (fixes are not spend)",
        f"  {'remedy':<26} {'offers':>6} {'amount':>14}",
    ]
    lines += [
        f"  {m.kind:<26} {m.offers:>6} {_money(m.amount, cur):>14}" + ("  (fix)" if m.fix else "")
        for m in r.by_remedy
    ]
    a, v, c = r.acceptance, r.vouchers, r.came_back
    lines += [
        "",
        f"Acceptance: {a.accepted} of {a.decided} answered ({_pct(a.rate_pct)}); "
        f"{a.refused} refused",
        f"Vouchers: {v.issued} issued, {v.redeemed} redeemed ({_pct(v.redeemed_pct)}), "
        f"{v.open} open, {v.expired} expired unused, {v.void} void",
        f"Came back: {c.came_back} of {c.customers} customers ({_pct(c.rate_pct)}); "
        f"{c.too_early} too early to tell",
        "",
        "Definitions",
    ]
    lines += [f"  {k}: {text}" for k, text in r.definitions.items()]
    return lines


@report.command("trends")
def trends(
    weeks: Annotated[int, typer.Option(min=1, max=260, help="Weeks back from now.")] = 12,
    now: cliutil.NowOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Weekly volume and sentiment by category and channel, the top causes before and after
    their fixes, and incidents on a timeline."""
    from amends.playbook.service import active_policy
    from amends.reports.trends import trends as build

    with cliutil.user_errors(), cliutil.session(write=False) as session:
        result = build(session, now=cliutil.now(now), policy=active_policy(session), weeks=weeks)
    if as_json:
        cliutil.print_json(result)
        return
    for line in render_trends(result):
        typer.echo(line)


def render_trends(r: dict[str, Any]) -> list[str]:
    weeks = r["weeks"]
    header = f"  {'week starting':<24}" + " ".join(f"{w[5:]:>5}" for w in weeks)
    lines = ["complaints per week", header]
    for name, per_week in r["volume_by_category"].items():
        counts = " ".join(f"{per_week[w]:>5}" for w in weeks)
        mood = [v for v in r["sentiment_by_category"][name].values() if v is not None]
        avg = f"  sentiment {sum(mood) / len(mood):+.2f}" if mood else ""
        lines.append(f"  {name:<24}{counts}{avg}")
    lines.append("by channel")
    lines.append(header)
    for name, per_week in r["volume_by_channel"].items():
        lines.append(f"  {name:<24}" + " ".join(f"{per_week[w]:>5}" for w in weeks))
    lines.append("top causes")
    for c in r["top_causes"] or []:
        v = c.get("verification")
        fix = f"; fixed {c['fixed_at'][:10]}, verdict: {v['verdict']}" if v else ""
        lines.append(
            f"  #{c['id']} {c['title'][:50]} ({c['status']}, {c['complaints']} complaints{fix})"
        )
    if not r["top_causes"]:
        lines.append("  none yet: open problems with `amends problems open` or `discover`")
    lines.append("incidents")
    for i in r["incidents"]:
        end = f" .. {i['resolved_at'][:16]}" if i["resolved_at"] else " (open)"
        lines.append(f"  {i['opened_at'][:16]}{end}  #{i['id']} {i['tier']} {i['title'][:50]}")
    if not r["incidents"]:
        lines.append("  none in these weeks")
    return lines
