"""Rendering pages: one Jinja2 environment (autoescaping on), and what every page is given.

Pages run under a Content-Security-Policy that allows no inline script: a page's script is a
file under /static, and data it needs travels in `<script type="application/json">` blocks
(`{{ value|tojson }}`), which the browser never runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

# The main navigation: (path, label, least role that sees it).
NAV: tuple[tuple[str, str, str], ...] = (
    ("/queue", "Queue", "agent"),
    ("/notifications", "Notifications", "agent"),
    ("/incidents", "Incidents", "agent"),
    ("/problems", "Problems", "agent"),
    ("/dashboard", "Dashboard", "agent"),
    ("/playbook", "Playbook", "agent"),
    ("/feedback", "Feedback", "lead"),
    ("/admin/users", "Users", "admin"),
)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.strftime(fmt) + " UTC" if value is not None else "—"


def _money(value: float | None, currency: str = "") -> str:
    if value is None:
        return "—"
    return f"{currency} {value:,.2f}".strip()


templates.env.filters["when"] = _when
templates.env.filters["money"] = _money


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """A page, given the signed-in user (when there is one), their CSRF token, the main
    navigation and the page's own context."""
    from amends.users.rules import Role

    user = getattr(request.state, "principal", None)
    nav: list[tuple[str, str, int]] = []
    if user is not None:
        # (path, label, a count shown beside it: the unread notifications, set by CurrentUser)
        unread = int(getattr(request.state, "unread_notifications", 0) or 0)
        nav = [
            (path, label, unread if path == "/notifications" else 0)
            for path, label, least in NAV
            if user.at_least(Role(least))
        ]
    response = templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "csrf_token": getattr(request.state, "csrf_token", ""),
            "nav": nav,
            "path": request.url.path,
            "desk_now": request.app.state.clock().isoformat(),
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return render(request, "error.html", {"title": title, "detail": detail}, status_code=status)
