"""`amends customers ...` and `amends export customers`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from amends import cliutil
from amends.customers import service
from amends.customers.models import Customer
from amends.customers.rules import IdentityKind, IdentityRef
from amends.errors import InvalidInput, NotFound
from amends.feedback import service as feedback_service
from amends.offers import service as offers_service
from amends.offers.cli import offer_json, offer_line

customers = typer.Typer(no_args_is_help=True, help="Customers and their identities.")


@customers.command("import")
def import_crm(
    path: Path,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import a CRM CSV: name, email/phone/handle/customer_ref/order_ref, customer_since,
    order_count, lifetime_value. Rows match existing customers by any identity."""
    settings = cliutil.settings()
    with cliutil.user_errors():
        if not path.is_file():
            raise InvalidInput(f"no such file: {path}")
        with cliutil.session(write=True) as session:
            summary = service.import_crm(
                session, path, now=cliutil.now(), default_region=settings.default_region
            )
    data = {
        "read": summary.read,
        "created": summary.created,
        "updated": summary.updated,
        "merged": summary.merged,
        "rejected": len(summary.rejected),
        "errors": summary.rejected[:50],
    }
    if as_json:
        cliutil.print_json(data)
    else:
        typer.echo(
            f"{summary.read} rows: {summary.created} new customers, {summary.updated} updated, "
            f"{summary.merged} merged, {len(summary.rejected)} rejected"
        )
        for line in summary.rejected[:50]:
            typer.echo(f"rejected: {line}", err=True)
    if summary.rejected:
        raise typer.Exit(cliutil.EXIT_QUARANTINED)


@customers.command("list")
def list_customers(
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List customers, newest first."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        rows, total = service.list_customers(session, limit=limit)
        for c in rows:
            if as_json:
                cliutil.print_json(customer_json(c))
            else:
                ids = ", ".join(i.display for i in c.identities)
                typer.echo(f"{c.id:>6}  {c.name or '(no name)':<30} {ids}")
        if not as_json:
            typer.echo(f"{total} customer(s)")


@customers.command("show")
def show_customer(
    who: Annotated[str, typer.Argument(help="Customer id, email, @handle or phone.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a customer: identities, CRM facts, complaint history and offers."""
    settings = cliutil.settings()
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        customer = _find(session, who, settings.default_region)
        history, total = feedback_service.list_feedback(session, customer_id=customer.id, limit=50)
        offers, offer_total = offers_service.list_offers(session, customer_id=customer.id, limit=50)
        if as_json:
            cliutil.print_json(
                {
                    **customer_json(customer),
                    "cases": [
                        {"id": c.id, "status": c.status.value, "subject": c.subject}
                        for c in customer.cases
                    ],
                    "feedback_count": total,
                    "abusive": customer.abusive,
                    "abusive_reason": customer.abusive_reason,
                    "offers": [offer_json(o) for o in offers],
                }
            )
            return
        typer.echo(f"customer {customer.id}: {customer.name or '(no name)'}")
        for i in customer.identities:
            typer.echo(f"  {i.kind.value:<13} {i.display}")
        if customer.customer_since:
            typer.echo(f"  since         {customer.customer_since.date().isoformat()}")
        if customer.order_count is not None:
            typer.echo(f"  orders        {customer.order_count}")
        if customer.lifetime_value is not None:
            typer.echo(f"  value         {customer.lifetime_value}")
        if customer.abusive:
            typer.echo(f"  flagged       abusive: {customer.abusive_reason or '-'}")
        typer.echo(f"cases: {len(customer.cases)}")
        for case in customer.cases:
            typer.echo(f"  #{case.id} {case.status.value:<20} {case.subject}")
        typer.echo(f"offers: {offer_total}")
        for o in offers:
            typer.echo(f"  {offer_line(o)}")
        typer.echo(f"feedback: {total} (newest {len(history)} shown)")
        for f in history:
            text = f.text.replace("\n", " ")
            typer.echo(
                f"  {f.received_at:%Y-%m-%d %H:%M} {f.direction.value:<3} {f.channel.value:<7} "
                f"{text[:90]}"
            )


def _find(session: Session, who: str, region: str) -> Customer:
    """A customer by id, email, @handle, phone, or a bare word tried as each in turn."""
    tried: list[str] = []
    if who.isdigit() and len(who) < 12:
        try:
            return service.get_customer(session, int(who))
        except NotFound:
            tried.append("id")
    for ref in _candidates(who):
        try:
            return service.find_by_identity(session, ref, default_region=region)
        except (NotFound, InvalidInput):
            tried.append(ref.kind.value)
    raise NotFound(f"customer (tried as {', '.join(tried)})", who)


def _candidates(value: str) -> list[IdentityRef]:
    if "@" in value[1:] and not value.startswith("@"):
        return [IdentityRef(IdentityKind.EMAIL, value)]
    if value.startswith("@"):
        return [IdentityRef(IdentityKind.HANDLE, value, "x")]
    refs = []
    if value.lstrip("+").replace(" ", "").replace("-", "").isdigit():
        refs.append(IdentityRef(IdentityKind.PHONE, value))
    refs += [
        IdentityRef(IdentityKind.HANDLE, value, "x"),
        IdentityRef(IdentityKind.CUSTOMER_REF, value),
        IdentityRef(IdentityKind.ORDER_REF, value),
    ]
    return refs


def customer_json(c: Customer) -> dict[str, object]:
    return {
        "id": c.id,
        "name": c.name,
        "identities": [
            {"kind": i.kind.value, "value": i.display, "key": i.key} for i in c.identities
        ],
        "customer_since": c.customer_since.isoformat() if c.customer_since else None,
        "order_count": c.order_count,
        "lifetime_value": str(c.lifetime_value) if c.lifetime_value is not None else None,
    }


def export_customers(
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl")] = "jsonl",
) -> None:
    """Print every customer with identities, one JSON object per line."""
    if fmt != "jsonl":
        raise typer.BadParameter("only jsonl is supported", param_hint="--format")
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        for c in service.iter_customers(session):
            sys.stdout.write(json.dumps(customer_json(c), ensure_ascii=False) + "\n")
