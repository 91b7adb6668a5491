"""`amends users ...` and `amends tokens ...`: who signs in, and what integrations hold."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer

from amends import cliutil
from amends.errors import UsageError
from amends.users import service
from amends.users.rules import Role, parse_scopes

users = typer.Typer(no_args_is_help=True, help="People who sign in to the web desk.")
tokens = typer.Typer(no_args_is_help=True, help="API tokens for integrations.")

PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (for scripts)."),
]


def _read_password(from_stdin: bool, *, prompt: bool) -> str | None:
    """The password: from standard input, asked for twice without echo, or none."""
    if from_stdin:
        text = sys.stdin.readline().rstrip("\r\n")
        if not text:
            raise UsageError("--password-stdin: standard input held no password")
        return text
    if not prompt:
        return None
    first: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return first


@users.command("add")
def add_user(
    email: str,
    name: Annotated[str, typer.Option(help="The person's name, as colleagues see it.")],
    role: Annotated[Role, typer.Option(help="agent, lead or admin.")] = Role.AGENT,
    team: Annotated[
        str | None, typer.Option(help="The team whose cases they work (agents).")
    ] = None,
    password_stdin: PasswordStdin = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="No sign-in: API tokens only.")
    ] = False,
) -> None:
    """Add a user who signs in with their email and a password (asked for, never echoed)."""
    with cliutil.user_errors():
        password = _read_password(password_stdin, prompt=not no_password)
        with cliutil.session(write=True) as session:
            user = service.add_user(
                session,
                email=email,
                name=name,
                role=role,
                password=password,
                team=team,
                now=cliutil.now(),
            )
            typer.echo(f"user {user.id}: {user.name} <{user.email}> ({user.role.value})")


@users.command("list")
def list_users(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List users, with their role and whether they may sign in."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        rows = service.list_users(session)
        if json_out:
            cliutil.print_json(
                [
                    {
                        "id": u.id,
                        "email": u.email,
                        "name": u.name,
                        "role": u.role.value,
                        "active": u.active,
                        "last_login_at": u.last_login_at,
                    }
                    for u in rows
                ]
            )
            return
        if not rows:
            typer.echo("no users yet: amends users add EMAIL --name NAME --role admin")
        for u in rows:
            state = "" if u.active else "  (disabled)"
            seen = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"
            typer.echo(
                f"{u.id:>4}  {u.email:<32} {u.role.value:<6} {u.name}  last sign-in {seen}{state}"
            )


@users.command("disable")
def disable_user(email: str) -> None:
    """Stop a user signing in: their sessions end now and their API tokens stop working."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        user = service.set_active(session, email, False, now=cliutil.now())
        typer.echo(f"user {user.email} disabled")


@users.command("enable")
def enable_user(email: str) -> None:
    """Let a disabled user sign in again."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        user = service.set_active(session, email, True, now=cliutil.now())
        typer.echo(f"user {user.email} enabled")


@users.command("password")
def set_password(email: str, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password; every session they have open ends."""
    with cliutil.user_errors():
        password = _read_password(password_stdin, prompt=True)
        assert password is not None
        with cliutil.session(write=True) as session:
            user = service.set_password(session, email, password, now=cliutil.now())
            typer.echo(f"password of {user.email} changed")


@users.command("role")
def set_role(email: str, role: Role) -> None:
    """Change a user's role (agent, lead, admin)."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        user = service.set_role(session, email, role)
        typer.echo(f"user {user.email} is now {user.role.value}")


@tokens.command("add")
def add_token(
    user: Annotated[str, typer.Option("--user", help="The email of the user it acts as.")],
    name: Annotated[str, typer.Option(help="What uses it, e.g. 'zendesk import'.")],
    scope: Annotated[
        list[str],
        typer.Option(
            help="read, feedback:write, cases:write, playbook:write, admin (repeat, or commas)."
        ),
    ],
    expires: Annotated[
        str | None, typer.Option(help="Expiry, ISO 8601 (no zone means UTC).")
    ] = None,
) -> None:
    """Make an API token. Its secret is printed once: the desk keeps only a hash."""
    with cliutil.user_errors():
        try:
            scopes = parse_scopes(scope)
        except ValueError as exc:
            raise UsageError(f"--scope: {exc}") from exc
        expires_at: datetime | None = cliutil.parse_now(expires) if expires else None
        with cliutil.session(write=True) as session:
            token, secret = service.issue_token(
                session,
                user,
                name=name,
                scopes=scopes,
                now=cliutil.now(),
                expires_at=expires_at,
            )
            typer.echo(f"token {token.id} ({', '.join(token.scopes)}) for {user}:", err=True)
            typer.echo(secret)
            typer.echo("Store it now: it is not shown again.", err=True)


@tokens.command("list")
def list_tokens(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's.")] = None,
) -> None:
    """List API tokens (never their secrets)."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        rows = service.list_tokens(session, email=user)
        if not rows:
            typer.echo("no tokens")
        for t in rows:
            state = "revoked" if t.revoked_at else "active"
            used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never used"
            typer.echo(
                f"{t.id:>4}  {t.prefix}…  {t.user.email:<28} {t.name:<24} "
                f"{','.join(t.scopes)}  {state}, {used}"
            )


@tokens.command("revoke")
def revoke_token(token_id: int) -> None:
    """Revoke an API token at once."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        token = service.revoke_token(session, token_id, now=cliutil.now())
        typer.echo(f"token {token.id} ({token.name}) revoked")
