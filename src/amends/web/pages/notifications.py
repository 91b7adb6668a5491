"""The notifications page: what the desk told the signed-in person (as their agent), newest
first, the unread ones marked; each read with one button, or all at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amends.api.deps import ClockDep, SessionDep
from amends.db import as_id
from amends.teams import notifications
from amends.web.auth import CheckedUser, CurrentUser
from amends.web.pages.incidents import page_id
from amends.web.render import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
# What the page says after a form, by the `done` the redirect carries.
_DONE = {
    "one": "Marked read.",
    "all": "All your notifications are marked read.",
    "none": "Nothing to mark: already read.",
}
# The kinds the desk writes, in words; an unknown kind shows as it is stored.
KINDS = {
    "sla_warning": "SLA warning",
    "escalation": "Escalation",
    "problem_recurring": "Problem recurring",
}


def _back(show: str) -> str:
    return "/notifications?show=unread" if show == "unread" else "/notifications"


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    show: str = "all",
    before: str = "",
    done: str = "",
) -> HTMLResponse:
    unread_only = show == "unread"
    anchor = as_id(before) if before else None
    page = notifications.list_notifications(
        session, user.agent_id, unread_only=unread_only, before=anchor, limit=PER_PAGE
    )
    return render(
        request,
        "notifications.html",
        {
            "items": page.items,
            "total": page.total,
            "unread": page.unread,
            "next_before": page.next_before,
            "older": anchor is not None,
            "show": "unread" if unread_only else "all",
            "is_agent": user.agent_id is not None,
            "kinds": KINDS,
            "done": _DONE.get(done),
        },
    )


@router.post("/notifications/read", response_class=HTMLResponse)
def mark_all_read(
    session: SessionDep,
    clock: ClockDep,
    user: CheckedUser,
    show: Annotated[str, Form(max_length=10)] = "all",
) -> Response:
    marked = notifications.mark_read(session, user.agent_id, None, now=clock())
    done = "all" if marked else "none"
    return RedirectResponse(f"{_back(show)}{'&' if show == 'unread' else '?'}done={done}", 303)


@router.post("/notifications/{notification_id}/read", response_class=HTMLResponse)
def mark_one_read(
    notification_id: str,
    session: SessionDep,
    clock: ClockDep,
    user: CheckedUser,
    show: Annotated[str, Form(max_length=10)] = "all",
) -> Response:
    """Someone else's notification is left alone: the answer is the same as for one read."""
    nid = page_id(notification_id, "notification")
    marked = notifications.mark_read(session, user.agent_id, [nid], now=clock())
    done = "one" if marked else "none"
    return RedirectResponse(f"{_back(show)}{'&' if show == 'unread' else '?'}done={done}", 303)
