"""User administration: who may sign in, their roles, and the API tokens integrations hold.
Admins only. Every change goes through `amends.users.service`, as `amends users` and
/api/v1/users do."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from amends.api.app import status_for
from amends.api.deps import SessionDep
from amends.db import as_utc
from amends.errors import DomainError, Forbidden, InvalidInput, NotFound
from amends.teams.models import Agent, Team
from amends.users import service as users
from amends.users.models import ApiToken, User
from amends.users.rules import MIN_PASSWORD, ROLE_SCOPES, Role, Scope, parse_scopes
from amends.web.auth import AdminUser, CheckedUser
from amends.web.render import render

router = APIRouter(include_in_schema=False)

SCOPE_HELP: dict[Scope, str] = {
    Scope.READ: "read everything, and run the reply checker",
    Scope.FEEDBACK: "send feedback in (feeds, inbound webhooks)",
    Scope.CASES: "work cases: replies, assignment, offers, incidents, problems",
    Scope.PLAYBOOK: "import a playbook, teach the company taxonomy",
    Scope.ADMIN: "users, tokens and outbound webhooks",
}

ROLE_HELP: dict[Role, str] = {
    Role.AGENT: "works the cases of their own team",
    Role.LEAD: "sees every team, edits the playbook, approves offers above the caps",
    Role.ADMIN: "all a lead may, and manages users",
}

# What the page says after a change: the redirect carries only the key, never the words.
_NOTICES = {
    "added": "User added.",
    "role": "Role changed. Their API tokens keep only the scopes the new role allows.",
    "disabled": "Disabled: their sessions have ended and their API tokens stop working.",
    "enabled": "Enabled: they may sign in again.",
    "revoked": "Token revoked: it stops working at once.",
}


def _teams(session: Session) -> tuple[list[str], dict[str, str]]:
    """Every team's name, and the team of each person who works as an agent (by email)."""
    names = list(session.scalars(select(Team.name).order_by(Team.name)))
    rows = session.execute(select(Agent.email, Team.name).join(Team, Agent.team_id == Team.id))
    return names, dict(rows.all())


def _locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and as_utc(user.locked_until) > now


def _is_self(me: users.Principal, email: str) -> bool:
    return me.email == email.strip().lower()


def user_url(email: str) -> str:
    """The page of one user."""
    return "/admin/users/" + quote(email, safe="@+")


# ---- the list of users, and adding one --------------------------------------------------------


def _users_page(
    request: Request,
    session: Session,
    *,
    notice: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    now: datetime = request.app.state.clock()
    people = users.list_users(session)
    live = Counter(
        t.user_id
        for t in users.list_tokens(session)
        if t.revoked_at is None and (t.expires_at is None or as_utc(t.expires_at) > now)
    )
    teams, team_of = _teams(session)
    return render(
        request,
        "admin_users.html",
        {
            "people": [
                {
                    "user": u,
                    "team": team_of.get(u.email),
                    "locked": _locked(u, now),
                    "tokens": live.get(u.id, 0),
                    "tokens_only": u.password_hash == users.UNUSABLE,
                }
                for u in people
            ],
            "teams": teams,
            "user_url": user_url,
            "roles": list(Role),
            "role_help": ROLE_HELP,
            "min_password": MIN_PASSWORD,
            "notice": notice,
            "error": error,
            "form": form or {"role": Role.AGENT.value},
        },
        status_code=status,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request, session: SessionDep, _admin: AdminUser, done: str | None = None
) -> HTMLResponse:
    return _users_page(request, session, notice=_NOTICES.get(done or ""))


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(f"choose a role: {', '.join(r.value for r in Role)}") from None


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    session: SessionDep,
    _admin: AdminUser,
    _checked: CheckedUser,
    email: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    team: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    kept = {"email": email, "name": name, "role": role, "team": team}
    try:
        # A savepoint: a refused user leaves no agent or team change behind.
        with session.begin_nested():
            user = users.add_user(
                session,
                email=email,
                name=name,
                role=_role(role),
                password=password or None,
                team=team or None,
                now=request.app.state.clock(),
            )
    except DomainError as exc:
        return _users_page(
            request, session, error=_sentence(exc.detail), form=kept, status=_status(exc)
        )
    return RedirectResponse(f"{user_url(user.email)}?done=added", status_code=303)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _status(exc: DomainError) -> int:
    return status_for(exc)


# ---- one user: role, active, tokens -----------------------------------------------------------


def _user_page(
    request: Request,
    session: Session,
    me: users.Principal,
    email: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    secret: tuple[ApiToken, str] | None = None,
    token_form: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    now: datetime = request.app.state.clock()
    person = users.get_user(session, email)
    _, team_of = _teams(session)
    tokens = [
        {
            "token": t,
            "state": "revoked"
            if t.revoked_at is not None
            else "expired"
            if t.expires_at is not None and as_utc(t.expires_at) <= now
            else "active",
        }
        for t in reversed(users.list_tokens(session, email=person.email))
    ]
    allowed = [s for s in Scope if s in ROLE_SCOPES[person.role]]
    return render(
        request,
        "admin_user.html",
        {
            "person": person,
            "team": team_of.get(person.email),
            "locked": _locked(person, now),
            "tokens_only": person.password_hash == users.UNUSABLE,
            "is_self": _is_self(me, person.email),
            "tokens": tokens,
            "url": user_url(person.email),
            "allowed": allowed,
            "scope_help": SCOPE_HELP,
            "roles": list(Role),
            "role_help": ROLE_HELP,
            "today": now.date(),
            "notice": notice,
            "error": error,
            "secret": secret,
            "token_form": token_form or {"scopes": [Scope.READ.value]},
        },
        status_code=status,
    )


@router.get("/admin/users/{email}", response_class=HTMLResponse)
def user_page(
    request: Request, session: SessionDep, admin: AdminUser, email: str, done: str | None = None
) -> HTMLResponse:
    return _user_page(request, session, admin, email, notice=_NOTICES.get(done or ""))


def _back(email: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{user_url(email)}?done={done}", status_code=303)


@router.post("/admin/users/{email}/role", response_class=HTMLResponse)
def change_role(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    _checked: CheckedUser,
    email: str,
    role: Annotated[str, Form()] = "",
) -> Response:
    person = users.get_user(session, email)
    try:
        new = _role(role)
        if _is_self(admin, person.email) and new != Role.ADMIN:
            raise Forbidden("you cannot take away your own admin role: ask another admin")
        users.set_role(session, person.email, new)
    except DomainError as exc:
        return _user_page(
            request, session, admin, email, error=_sentence(exc.detail), status=_status(exc)
        )
    return _back(person.email, "role")


@router.post("/admin/users/{email}/active", response_class=HTMLResponse)
def change_active(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    _checked: CheckedUser,
    email: str,
    active: Annotated[str, Form()] = "",
) -> Response:
    person = users.get_user(session, email)
    if active not in ("true", "false"):
        return _user_page(
            request, session, admin, email, error="Choose to disable or enable.", status=422
        )
    enable = active == "true"
    if not enable and _is_self(admin, person.email):
        return _user_page(
            request,
            session,
            admin,
            email,
            error="You cannot disable your own account: ask another admin.",
            status=403,
        )
    users.set_active(session, person.email, enable, now=request.app.state.clock())
    return _back(person.email, "enabled" if enable else "disabled")


def _expiry(text: str, *, today: date) -> datetime | None:
    """The moment a token stops: the end of the chosen day (UTC); None for no expiry."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("the expiry is not a date (YYYY-MM-DD)") from None
    if day < today:
        raise InvalidInput("the expiry is in the past: choose today or a later day")
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


@router.post("/admin/users/{email}/tokens", response_class=HTMLResponse)
def make_token(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    _checked: CheckedUser,
    email: str,
    name: Annotated[str, Form()] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    expires: Annotated[str, Form()] = "",
) -> HTMLResponse:
    person = users.get_user(session, email)
    now: datetime = request.app.state.clock()
    kept = {"name": name, "scopes": scopes or [], "expires": expires}
    try:
        try:
            chosen = parse_scopes(scopes or [])
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        with session.begin_nested():
            token, secret = users.issue_token(
                session,
                person.email,
                name=name,
                scopes=chosen,
                now=now,
                expires_at=_expiry(expires, today=now.date()),
            )
    except DomainError as exc:
        return _user_page(
            request,
            session,
            admin,
            email,
            error=_sentence(exc.detail),
            token_form=kept,
            status=_status(exc),
        )
    # The secret is in this response only: not in a URL, a cookie or the database.
    return _user_page(request, session, admin, email, secret=(token, secret))


@router.post("/admin/users/{email}/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke_token(
    request: Request,
    session: SessionDep,
    _admin: AdminUser,
    _checked: CheckedUser,
    email: str,
    token_id: str,
) -> Response:
    person = users.get_user(session, email)
    theirs = {str(t.id) for t in users.list_tokens(session, email=person.email)}
    if token_id not in theirs:
        raise NotFound("token", f"{token_id} of {person.email}")
    users.revoke_token(session, int(token_id), now=request.app.state.clock())
    return _back(person.email, "revoked")
