"""`amends offer ...`, `amends vouchers ...` and `amends customers flag`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from amends import cliutil
from amends.offers import service
from amends.offers.models import Offer
from amends.offers.rules import OfferStatus, RemedyKind, Suggestion, money
from amends.offers.schemas import OfferRead, VoucherState
from amends.playbook.service import active_policy

offer = typer.Typer(no_args_is_help=True, help="Offers: suggest, make, approve and answer them.")
vouchers = typer.Typer(no_args_is_help=True, help="Vouchers: look up and redeem codes.")

By = Annotated[
    str | None,
    typer.Option("--by", metavar="EMAIL", help="The agent recording it (kept in the history)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def offer_json(row: Offer) -> dict[str, Any]:
    return OfferRead.model_validate(row).model_dump(mode="json")


def _value(row: Offer) -> str:
    return money(row.amount, row.currency) if row.amount is not None else "-"


def offer_line(row: Offer) -> str:
    """One offer on one line, for lists and a customer's history."""
    code = f" · voucher {row.voucher.code}" if row.voucher is not None else ""
    return (
        f"#{row.id:<5} {row.created_at:%Y-%m-%d} case #{row.case_id:<5} {row.kind.value:<12} "
        f"{_value(row):>12}  {row.status.value}{code}"
    )


def _say(row: Offer) -> None:
    typer.echo(f"offer {row.id} on case #{row.case_id}: {row.kind.value} {_value(row)}")
    typer.echo(f"status: {row.status.value}")
    if row.voucher is not None:
        typer.echo(f"voucher: {row.voucher.code} (expires {row.voucher.expires_at:%Y-%m-%d})")


def _out(row: Offer, as_json: bool) -> None:
    if as_json:
        cliutil.print_json(offer_json(row))
    else:
        _say(row)


def render_suggestion(case_id: int, s: Suggestion | None) -> list[str]:
    if s is None:
        return [f"case #{case_id}: nothing to offer beyond a sincere apology and the fix"]
    worth = money(s.amount, s.currency) if s.amount is not None else None
    lines = [
        f"case #{case_id} · severity {s.severity} · {s.category or 'uncategorised'} · "
        f"{s.value.value.replace('_', ' ')} customer"
    ]
    if s.fix is not None:
        lines.append(f"fix: {s.fix.value}")
    if s.options:
        lines.append(f"options: {' or '.join(o.value for o in s.options)}, worth {worth}")
    if s.perk is not None:
        lines.append(f"sign of apology: {s.perk.value}, worth {worth}")
    if s.needs_approval:
        lines.append(f"needs a lead's approval (as {s.role})")
    lines.append("why: " + "; ".join(s.reasons))
    return lines


@offer.command("suggest")
def suggest(
    case_id: int,
    role: Annotated[str, typer.Option(help="Whose cap applies: agent or lead.")] = "agent",
    as_json: AsJson = False,
    now: cliutil.NowOption = None,
) -> None:
    """What to offer on a case, and why: the fix, or options; a sign of apology in proportion."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        s = service.suggest_for_case(
            session, case_id, policy=active_policy(session), role=role, now=cliutil.now(now)
        )
    if as_json:
        cliutil.print_json({"case_id": case_id, "suggestion": s.to_dict() if s else None})
        return
    for line in render_suggestion(case_id, s):
        typer.echo(line)


@offer.command("make")
def make(
    case_id: int,
    kind: Annotated[RemedyKind, typer.Option(help="What is offered.")],
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="The agent making it.")],
    amount: Annotated[
        str | None, typer.Option(help="Its value (a perk's, or a refund's sum).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note kept with the offer.")] = None,
    as_json: AsJson = False,
    now: cliutil.NowOption = None,
) -> None:
    """Make an offer on a case. Above your cap, over the month's budget, or more than the
    customer refused before, it waits for a team lead's approval."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        row = service.make_offer(
            session,
            case_id,
            kind=kind,
            amount=service.parse_amount(amount),
            by=by,
            now=cliutil.now(now),
            policy=active_policy(session),
            note=note,
        )
        if as_json:
            cliutil.print_json(offer_json(row))
            return
        _say(row)
        if row.status is OfferStatus.PENDING_APPROVAL:
            typer.echo(
                f"waiting for a team lead's approval: amends offer approve {row.id} --by LEAD"
            )


@offer.command("approve")
def approve(
    offer_id: int,
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="The approving team lead.")],
    as_json: AsJson = False,
    now: cliutil.NowOption = None,
) -> None:
    """Approve an offer waiting for approval (team leads only): it is made to the customer."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        row = service.approve(
            session, offer_id, by=by, now=cliutil.now(now), policy=active_policy(session)
        )
        _out(row, as_json)


@offer.command("accept")
def accept(
    offer_id: int, by: By = None, as_json: AsJson = False, now: cliutil.NowOption = None
) -> None:
    """The customer accepted the offer."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        row = service.accept(session, offer_id, now=cliutil.now(now), by=by)
        _out(row, as_json)


@offer.command("refuse")
def refuse(
    offer_id: int,
    reason: Annotated[str, typer.Option(help="What the customer said.")],
    by: By = None,
    as_json: AsJson = False,
    now: cliutil.NowOption = None,
) -> None:
    """The customer refused the offer; nothing larger will be suggested to them."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        row = service.refuse(session, offer_id, now=cliutil.now(now), reason=reason, by=by)
        _out(row, as_json)


@offer.command("withdraw")
def withdraw(
    offer_id: int,
    reason: Annotated[str | None, typer.Option(help="Why it is taken back.")] = None,
    by: By = None,
    as_json: AsJson = False,
    now: cliutil.NowOption = None,
) -> None:
    """Take back an offer that is pending or unanswered; its voucher stops working."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        row = service.withdraw(session, offer_id, now=cliutil.now(now), reason=reason, by=by)
        _out(row, as_json)


@offer.command("list")
def list_offers(
    case_id: Annotated[int | None, typer.Option("--case", help="Only this case's.")] = None,
    customer_id: Annotated[
        int | None, typer.Option("--customer", help="Only this customer's.")
    ] = None,
    status: Annotated[OfferStatus | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: AsJson = False,
) -> None:
    """Offers, newest first."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        rows, total = service.list_offers(
            session, limit=limit, case_id=case_id, customer_id=customer_id, status=status
        )
        for row in rows:
            if as_json:
                cliutil.print_json(offer_json(row))
            else:
                typer.echo(offer_line(row))
        if not as_json:
            typer.echo(f"{total} offer(s)")


@offer.command("show")
def show(offer_id: int, as_json: AsJson = False) -> None:
    """One offer, with its voucher and what the desk suggested when it was made."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        row = service.get_offer(session, offer_id)
        if as_json:
            cliutil.print_json(offer_json(row))
            return
        _say(row)
        typer.echo(f"made by {row.made_by} on {row.created_at:%Y-%m-%d %H:%M} UTC")
        if row.approved_by and row.approved_at:
            typer.echo(f"approved by {row.approved_by} on {row.approved_at:%Y-%m-%d %H:%M} UTC")
        for label, text in (("note", row.note), ("reason", row.reason)):
            if text:
                typer.echo(f"{label}: {text}")


def _voucher_out(state: dict[str, Any], as_json: bool) -> None:
    data = VoucherState.model_validate(state)
    if as_json:
        cliutil.print_json(data.model_dump(mode="json"))
        return
    worth = f"{data.kind.value} {money(data.amount, data.currency) if data.amount else ''}"
    typer.echo(f"voucher {data.code}: {data.status} · {worth.strip()} · offer {data.offer_id}")
    typer.echo(f"expires {data.expires_at:%Y-%m-%d %H:%M} UTC")
    if data.redeemed_at is not None:
        ref = f" ({data.redeemed_ref})" if data.redeemed_ref else ""
        typer.echo(f"redeemed {data.redeemed_at:%Y-%m-%d %H:%M} UTC{ref}")


@vouchers.command("redeem")
def redeem(
    code: str,
    ref: Annotated[str | None, typer.Option(help="The order it is used on.")] = None,
    as_json: AsJson = False,
    now: cliutil.NowOption = None,
) -> None:
    """Use a voucher, once. The code may be typed in any case, with or without dashes."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        moment = cliutil.now(now)
        voucher = service.redeem_voucher(session, code, now=moment, ref=ref)
        _voucher_out(service.voucher_summary(voucher, now=moment), as_json)


@vouchers.command("show")
def show_voucher(code: str, as_json: AsJson = False, now: cliutil.NowOption = None) -> None:
    """A voucher's state: open, redeemed, expired or void."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        voucher = service.get_voucher(session, code)
        _voucher_out(service.voucher_summary(voucher, now=cliutil.now(now)), as_json)


def flag_customer(
    customer_id: int,
    abusive: Annotated[
        bool,
        typer.Option(
            "--abusive/--not-abusive", help="Flag the customer as abusive, or clear the flag."
        ),
    ],
    reason: Annotated[str | None, typer.Option(help="Why (needed to flag).")] = None,
    by: By = None,
    now: cliutil.NowOption = None,
) -> None:
    """Flag a customer who keeps attacking staff: offers to them are never larger than before
    and get no uplift for their value. --not-abusive clears it."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        customer = service.flag_customer(
            session, customer_id, abusive=abusive, reason=reason, now=cliutil.now(now), by=by
        )
        state = (
            f"flagged abusive ({customer.abusive_reason})" if customer.abusive else "not flagged"
        )
        typer.echo(f"customer {customer.id}: {state}")
