"""Signing in to the web desk, and the dependencies every page uses.

A signed-in browser holds one cookie (`amends_session`: HttpOnly, SameSite=Lax, Secure over
https) naming a server-side session. Every form that changes something carries that session's
CSRF token (`csrf_token` field, or the `X-CSRF-Token` header for the page scripts' calls); the
sign-in form, before any session exists, uses a double-submit cookie instead."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amends.api.auth import CSRF_HEADER, SESSION_COOKIE
from amends.api.deps import SessionDep
from amends.config import Settings
from amends.errors import DomainError, Forbidden
from amends.users import service as users
from amends.users.rules import Role
from amends.web.render import render

LOGIN_CSRF_COOKIE = "amends_login_csrf"
_SAFE = ("GET", "HEAD", "OPTIONS")

router = APIRouter(include_in_schema=False)


class SignInRequired(DomainError):
    """A page was asked for without a live session: the answer is the sign-in page."""

    code = "sign_in_required"


def _secure(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return settings.public_url.startswith("https://") or request.url.scheme == "https"


def current_user(request: Request, session: SessionDep) -> users.Principal:
    """The signed-in person; SignInRequired (a redirect to /login) without a live session."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    login = users.session_for(session, cookie, now=request.app.state.clock()) if cookie else None
    if login is None:
        raise SignInRequired("sign in to continue")
    request.state.csrf_token = login.csrf_token
    principal = users.principal_for(session, login.user, via="session")
    request.state.principal = principal
    if request.method in _SAFE and principal.agent_id is not None:
        # For the navigation's "Notifications (3)": one indexed COUNT a page.
        from amends.teams.notifications import count_unread

        request.state.unread_notifications = count_unread(session, principal.agent_id)
    return principal


async def checked_user(
    request: Request, user: Annotated[users.Principal, Depends(current_user)]
) -> users.Principal:
    """The signed-in person, for a request that changes something: its CSRF token must match."""
    if request.method not in _SAFE:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else ""
        expected: str = request.state.csrf_token
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise Forbidden("the form has expired or did not come from this desk: reload the page")
    return user


def lead_user(user: Annotated[users.Principal, Depends(current_user)]) -> users.Principal:
    if not user.at_least(Role.LEAD):
        raise Forbidden("only a lead or an admin may do this")
    return user


def admin_user(user: Annotated[users.Principal, Depends(current_user)]) -> users.Principal:
    if not user.at_least(Role.ADMIN):
        raise Forbidden("only an admin may do this")
    return user


CurrentUser = Annotated[users.Principal, Depends(current_user)]
CheckedUser = Annotated[users.Principal, Depends(checked_user)]
LeadUser = Annotated[users.Principal, Depends(lead_user)]
AdminUser = Annotated[users.Principal, Depends(admin_user)]


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this desk only (never //host or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


def sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _login_page(
    request: Request, *, next_path: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        {"next": next_path, "error": error, "login_csrf": token},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
        max_age=3600,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_page(request, next_path=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/queue",
) -> Response:
    target = safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        return _login_page(
            request,
            next_path=target,
            error="The sign-in form expired. Please try again.",
            status=403,
        )
    now = request.app.state.clock()
    try:
        # A refusal returns a page, not an error, so the failed attempt's count is committed.
        source = request.client.host if request.client is not None else None
        user = users.authenticate(session, email, password, now=now, source=source)
    except users.SignInFailed as exc:
        return _login_page(request, next_path=target, error=_sentence(exc.detail), status=401)
    _, token = users.start_session(session, user, now=now, source=source)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
        max_age=int(users.SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


@router.post("/logout")
def logout(request: Request, session: SessionDep, _user: CheckedUser) -> Response:
    users.end_session(
        session, request.cookies.get(SESSION_COOKIE, ""), now=request.app.state.clock()
    )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
