"""The queue: open cases by urgency, filtered and searched on the server, a page at a time, with
live SLA countdowns; cases are assigned one by one from the case page or many at once here."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Literal, TypeVar
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from amends.api.deps import SessionDep
from amends.cases import listing
from amends.cases.rules import OPEN_STATUSES, PRIORITIES, CaseStatus
from amends.db import MAX_ID, as_id
from amends.errors import InvalidInput, NotFound
from amends.feedback.rules import Channel
from amends.teams.models import Agent, Team
from amends.users.service import Principal, check_assignable
from amends.web.auth import CheckedUser, CurrentUser
from amends.web.render import render

router = APIRouter(include_in_schema=False)
E = TypeVar("E", bound=StrEnum)

PER_PAGE = (25, 50, 100)
SORTS = {
    listing.QueueSort.URGENCY: "most urgent first",
    listing.QueueSort.NEWEST: "newest first",
    listing.QueueSort.OLDEST: "oldest first",
}


def _notice(kind: str, count: int, to: str) -> str | None:
    """What the last action did, in words (the page escapes them)."""
    if kind != "assigned":
        return None
    if not count or not to:
        return "Cases assigned."
    return f"{count} {'case' if count == 1 else 'cases'} assigned to {to}."


# The largest id the page looks up (teams, agents, cases): ids are 32-bit integer columns.
_ON = frozenset({"1", "true", "on", "yes"})
_OFF = frozenset({"", "0", "false", "off", "no"})


def _teams_and_agents(
    session: Session, user: Principal
) -> tuple[list[Team], list[tuple[Agent, str]]]:
    """The teams the user works (every team for leads) and their active agents."""
    teams = select(Team).order_by(Team.name)
    if user.team_ids is not None:
        teams = teams.where(Team.id.in_(sorted(user.team_ids)))
    team_rows = list(session.scalars(teams))
    agents = (
        select(Agent, Team.name)
        .join(Team, Agent.team_id == Team.id)
        .where(Agent.active.is_(True), Team.id.in_([t.id for t in team_rows]))
        .order_by(Agent.name)
    )
    return team_rows, [(a, name) for a, name in session.execute(agents).all()]


def _choice(value: str, allowed: Iterable[E], what: str) -> E | None:
    """The member of `allowed` named by `value`, None for no value; unknown ones are refused."""
    if not value:
        return None
    for member in allowed:
        if member.value == value:
            return member
    raise InvalidInput(f"unknown {what}: {value!r}")


def _id(value: str, what: str) -> int:
    """A team's or an agent's id as the URL spells it."""
    found = as_id(value)
    if found is None:
        raise InvalidInput(f"unknown {what}: {value!r}")
    return found


def _flag(value: str, what: str) -> bool:
    """A tick box: on as its form sends it ("1") or as people type it; empty is off."""
    word = value.strip().lower()
    if word in _ON:
        return True
    if word in _OFF:
        return False
    raise InvalidInput(f"{what} is a yes or no, not {value!r}")


def _filter(
    user: Principal,
    *,
    status: str,
    team: str,
    assignee: str,
    channel: str,
    category: str,
    priority: str,
    public: str,
    breached: str,
    q: str,
    sort: str,
) -> listing.QueueFilter:
    """The page's query string as a filter; a value that means nothing is refused by name."""
    who: int | Literal["unassigned"] | None = None
    if assignee == "me":
        who = user.agent_id if user.agent_id is not None else -1
    elif assignee == listing.UNASSIGNED:
        who = "unassigned"
    elif assignee:
        who = _id(assignee, "assignee")
    if priority and priority not in PRIORITIES:
        raise InvalidInput(f"unknown priority: {priority!r}")
    return listing.QueueFilter(
        status=_choice("" if status == "all" else status, CaseStatus, "status"),
        include_waiting=status == "all",
        team=_id(team, "team") if team else None,
        assignee=who,
        channel=_choice(channel, Channel, "channel"),
        category=category or None,
        priority=priority or None,
        public=_flag(public, "public"),
        breached=_flag(breached, "breached"),
        q=q.strip() or None,
        sort=_choice(sort, listing.QueueSort, "order") or listing.QueueSort.URGENCY,
    )


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    status: Annotated[str, Query(max_length=40)] = "",
    team: Annotated[str, Query(max_length=20)] = "",
    assignee: Annotated[str, Query(max_length=20)] = "",
    channel: Annotated[str, Query(max_length=20)] = "",
    category: Annotated[str, Query(max_length=60)] = "",
    priority: Annotated[str, Query(max_length=4)] = "",
    public: Annotated[str, Query(max_length=10)] = "",
    breached: Annotated[str, Query(max_length=10)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per: Annotated[int, Query(ge=1, le=100)] = 50,
    notice: Annotated[str, Query(max_length=20)] = "",
    n: Annotated[int, Query(ge=0, le=1000)] = 0,
    to: Annotated[str, Query(max_length=300)] = "",
) -> HTMLResponse:
    now = request.app.state.clock()
    params = {
        "status": status,
        "team": team,
        "assignee": assignee,
        "channel": channel,
        "category": category,
        "priority": priority,
        "public": "1" if public.strip().lower() in _ON else "",
        "breached": "1" if breached.strip().lower() in _ON else "",
        "q": q,
        "sort": sort,
    }
    per = per if per in PER_PAGE else 50
    error = None
    try:
        filt = _filter(
            user,
            status=status,
            team=team,
            assignee=assignee,
            channel=channel,
            category=category,
            priority=priority,
            public=public,
            breached=breached,
            q=q,
            sort=sort,
        )
    except InvalidInput as exc:
        error = exc.detail
        filt = listing.QueueFilter()
    result = listing.queue_page(
        session, filt, team_ids=user.team_ids, limit=per, offset=(page - 1) * per, now=now
    )
    facets = listing.facets(session, team_ids=user.team_ids)
    teams, agents = _teams_and_agents(session, user)
    pages = max(1, -(-result.total // per))
    kept = {k: v for k, v in params.items() if v}
    if per != 50:
        kept["per"] = str(per)

    def page_url(number: int) -> str:
        return "/queue?" + urlencode({**kept, "page": str(number)})

    return render(
        request,
        "queue.html",
        {
            "result": result,
            "facets": facets,
            "params": params,
            "teams": teams,
            "agents": agents,
            "statuses": [s for s in CaseStatus if s in OPEN_STATUSES],
            "channels": list(Channel),
            "priorities": PRIORITIES,
            "sorts": SORTS,
            "page": page,
            "pages": pages,
            "per": per,
            "per_choices": PER_PAGE,
            "prev_url": page_url(page - 1) if page > 1 else None,
            "next_url": page_url(page + 1) if page < pages else None,
            "back": "/queue?" + urlencode({**kept, "page": str(page)}),
            "filtered": bool(kept),
            "error": error,
            "notice": _notice(notice, n, to),
            "now": now,
        },
        status_code=422 if error else 200,
    )


@router.post("/queue/assign")
def bulk_assign(
    request: Request,
    session: SessionDep,
    user: CheckedUser,
    case_ids: Annotated[list[int], Form(alias="case")] = [],  # noqa: B006
    to: Annotated[str, Form(max_length=300)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/queue",
) -> Response:
    """Assign the ticked cases to an agent (`agent:<email>`) or a team's queue (`team:<name>`)."""
    if not back.startswith("/queue"):
        back = "/queue"
    if not case_ids:
        raise InvalidInput("tick the cases to assign first")
    if len(case_ids) > max(PER_PAGE):
        raise InvalidInput(f"assign at most {max(PER_PAGE)} cases at once")
    for case_id in case_ids:
        if not 0 < case_id <= MAX_ID:  # no such case; the database could not even look
            raise NotFound("case", case_id)
    kind, _, name = to.partition(":")
    if kind not in ("agent", "team") or not name:
        raise InvalidInput("choose an agent or a team to assign to")
    check_assignable(session, user, agent_email=name if kind == "agent" else None)
    listing.bulk_assign(
        session,
        case_ids,
        agent_email=name if kind == "agent" else None,
        team_name=name if kind == "team" else None,
        actor=user.actor,
        now=request.app.state.clock(),
        team_ids=user.team_ids,
    )
    separator = "&" if "?" in back else "?"
    count = len(set(case_ids))
    return RedirectResponse(
        f"{back}{separator}notice=assigned&n={count}&to={quote(name, safe='')}", status_code=303
    )
