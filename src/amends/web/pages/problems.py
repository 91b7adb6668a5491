"""The problems pages: root causes with their cases and corrective actions, and the proof of a
fix: the complaint rate week by week before and after it, as a chart, a table and a verdict in
words. Leads open problems, run topic discovery, add and finish actions and mark a fix; everyone
signed in reads."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amends.analysis.pipeline import CATEGORY_TITLES, Category
from amends.api.deps import ClockDep, SessionDep
from amends.cases.models import Case
from amends.errors import DomainError, InvalidInput, NotFound
from amends.feedback.models import Feedback
from amends.incidents.models import Incident
from amends.playbook.service import active_policy
from amends.problems import service
from amends.problems.models import (
    ActionStatus,
    CorrectiveAction,
    Problem,
    ProblemCase,
    ProblemStatus,
)
from amends.problems.rules import ProblemPolicy, Verification
from amends.users.rules import Role
from amends.users.service import Principal, visible_case_filter
from amends.web.auth import CheckedUser, CurrentUser, LeadUser
from amends.web.pages.incidents import case_list, case_numbers, page_id, page_number, sentence
from amends.web.pages.incidents import status_of as _status
from amends.web.render import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
CHART_WEEKS = 12  # weeks on the chart before a fix, and at least that many after one
MAX_CHART_WEEKS = 52
_WEEK = timedelta(weeks=1)
STATUS_FILTERS = ("all", "recurring", "open", "proposed", "fixed", "closed")
STATUS_BADGES = {
    ProblemStatus.PROPOSED: "",
    ProblemStatus.OPEN: "warn",
    ProblemStatus.FIXED: "good",
    ProblemStatus.RECURRING: "bad",
    ProblemStatus.CLOSED: "",
}
# Problems that need someone come first.
_ORDER = {
    ProblemStatus.RECURRING: 0,
    ProblemStatus.OPEN: 1,
    ProblemStatus.PROPOSED: 2,
    ProblemStatus.FIXED: 3,
    ProblemStatus.CLOSED: 4,
}
_DONE = {
    "opened": "The problem is open.",
    "action": "Corrective action added.",
    "action_done": "Corrective action marked done.",
    "action_cancelled": "Corrective action cancelled.",
    "action_open": "Corrective action opened again.",
    "fixed": "Marked fixed: its complaint rate is now compared before and after the fix.",
    "confirmed": "Confirmed: the problem is open.",
    "closed": "The problem is closed.",
    "updated": "Saved.",
}


def _categories() -> list[tuple[str, str]]:
    return [(c.value, CATEGORY_TITLES[c]) for c in Category if c is not Category.OTHER]


# ---- the list --------------------------------------------------------------------------------


def _list_page(
    request: Request,
    session: Session,
    user: Principal,
    *,
    now: datetime,
    status: str = "all",
    page: int = 1,
    found: str = "",
    error: str | None = None,
    form: dict[str, str] | None = None,
    code: int = 200,
) -> HTMLResponse:
    query = select(Problem)
    if status != "all":
        query = query.where(Problem.status == ProblemStatus(status))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rank = sql_case(_ORDER, value=Problem.status, else_=9)
    rows = list(
        session.scalars(
            query.order_by(rank, Problem.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
        )
    )
    ids = [r.id for r in rows]
    cases: dict[int, int] = {}
    open_actions: dict[int, int] = {}
    overdue: dict[int, int] = {}
    if ids:
        cases = {
            int(p): int(n)
            for p, n in session.execute(
                select(ProblemCase.problem_id, func.count())
                .where(ProblemCase.problem_id.in_(ids))
                .group_by(ProblemCase.problem_id)
            ).all()
        }
        late = sql_case((CorrectiveAction.due_at < now, 1), else_=0)
        for p, n, k in session.execute(
            select(CorrectiveAction.problem_id, func.count(), func.sum(late))
            .where(
                CorrectiveAction.problem_id.in_(ids),
                CorrectiveAction.status == ActionStatus.OPEN,
            )
            .group_by(CorrectiveAction.problem_id)
        ).all():
            open_actions[int(p)] = int(n)
            overdue[int(p)] = int(k or 0)
    recurring = session.scalar(
        select(func.count(Problem.id)).where(Problem.status == ProblemStatus.RECURRING)
    )
    found_count = int(found) if found.isascii() and found.isdigit() else None
    return render(
        request,
        "problems.html",
        {
            "problems": rows,
            "case_counts": cases,
            "open_actions": open_actions,
            "overdue": overdue,
            "total": total,
            "recurring_count": recurring or 0,
            "status": status,
            "filters": STATUS_FILTERS,
            "badges": STATUS_BADGES,
            "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
            "found": found_count,
            "can_change": user.at_least(Role.LEAD),
            "categories": _categories(),
            "error": error,
            "form": form or {},
        },
        status_code=code,
    )


@router.get("/problems", response_class=HTMLResponse)
def problems_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    status: str = "",
    page: str = "1",
    found: str = "",
) -> HTMLResponse:
    chosen = status if status in STATUS_FILTERS else "all"
    return _list_page(
        request,
        session,
        user,
        now=clock(),
        status=chosen,
        page=page_number(page),
        found=found,
    )


@router.post("/problems", response_class=HTMLResponse)
def open_problem(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CheckedUser,
    _lead: LeadUser,
    title: Annotated[str, Form(max_length=200)] = "",
    root_cause: Annotated[str, Form(max_length=5000)] = "",
    category: Annotated[str, Form(max_length=40)] = "",
    owner: Annotated[str, Form(max_length=254)] = "",
    cases: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    now = clock()
    try:
        if category and category not in {c for c, _ in _categories()}:
            raise InvalidInput(f"{category!r} is not a category")
        with session.begin_nested():
            row = service.open_problem(
                session,
                title=title,
                now=now,
                actor=user.actor,
                category=category or None,
                root_cause=root_cause.strip() or None,
                owner=owner.strip() or None,
            )
            numbers = case_numbers(cases)
            if numbers:
                service.link_cases(session, row.id, numbers, actor=user.actor, now=now)
    except DomainError as exc:
        return _list_page(
            request,
            session,
            user,
            now=now,
            error=sentence(exc.detail),
            form={
                "title": title,
                "root_cause": root_cause,
                "category": category,
                "owner": owner,
                "cases": cases,
            },
            code=_status(exc),
        )
    return RedirectResponse(f"/problems/{row.id}?done=opened", status_code=303)


@router.post("/problems/discover", response_class=HTMLResponse)
def discover(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    user: CheckedUser,
    _lead: LeadUser,
    days: Annotated[str, Form(max_length=10)] = "30",
    min_size: Annotated[str, Form(max_length=10)] = "5",
) -> Response:
    now = clock()
    try:
        span = _whole(days, "days", 1, 3650)
        smallest = _whole(min_size, "the smallest topic", 2, 10_000)
        with session.begin_nested():
            proposals = service.discover(
                session,
                now=now,
                since=now - timedelta(days=span),
                actor=user.actor,
                min_size=smallest,
            )
    except DomainError as exc:
        return _list_page(
            request,
            session,
            user,
            now=now,
            error=sentence(exc.detail),
            form={"days": days, "min_size": min_size},
            code=_status(exc),
        )
    return RedirectResponse(f"/problems?status=proposed&found={len(proposals)}", status_code=303)


def _whole(text: str, what: str, low: int, high: int) -> int:
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise InvalidInput(f"{what} must be a whole number from {low} to {high}")
    return int(value)


# ---- one problem -------------------------------------------------------------------------------


def _chart_weeks(problem: Problem, *, now: datetime, policy: ProblemPolicy) -> int:
    """Enough weeks to show the window before the fix and everything since."""
    if problem.fixed_at is None:
        return CHART_WEEKS
    start = problem.fixed_at - policy.window
    return max(CHART_WEEKS, min(MAX_CHART_WEEKS, math.ceil((now - start).days / 7) + 1))


def chart_data(
    session: Session, problem: Problem, *, now: datetime, policy: ProblemPolicy
) -> dict[str, Any]:
    """What the chart draws, for the page's JSON block: weeks with its complaints, all
    complaints and its share, and the fix (its day, and the week it fell in)."""
    weeks = service.weekly_rate(
        session, problem.id, now=now, weeks=_chart_weeks(problem, now=now, policy=policy)
    )
    fixed = problem.fixed_at
    rows = []
    for w in weeks:
        rows.append(
            {
                "week": w.week.date().isoformat(),
                "complaints": w.complaints,
                "total": w.total,
                "share": round(100 * w.complaints / w.total, 1) if w.total else None,
                # The week of the fix counts as after it: the chart marks the day within it,
                # and its bar is split into the complaints before and since the moment.
                "after_fix": fixed is not None and w.week + _WEEK > fixed,
                "before_fix": w.before_fix,
                "since_fix": w.complaints - w.before_fix,
            }
        )
    fix_week = next((w.week for w in weeks if fixed is not None and w.week + _WEEK > fixed), None)
    return {
        "title": problem.title,
        "weeks": rows,
        "fixed_at": fixed.date().isoformat() if fixed is not None else None,
        "fixed_week": fix_week.date().isoformat() if fix_week is not None else None,
        # Where in its week the fix fell, 0 (Monday 00:00) to 1, to place the marker.
        "fixed_offset": (
            round((fixed - fix_week) / _WEEK, 3)
            if fixed is not None and fix_week is not None
            else None
        ),
        "complaints": sum(r["complaints"] for r in rows),
        "all": sum(r["total"] for r in rows),
    }


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%"


def verdict_words(
    found: Verification, *, problem: Problem, policy: ProblemPolicy
) -> dict[str, str]:
    """The verification in words: a headline, then the numbers behind it."""
    days = policy.window.days
    before = (
        f"{found.before:,} of {found.before_total:,} complaints ({_percent(found.before_share)}) "
        f"in the {days} days before the fix"
        if found.before_total
        else f"No complaints in the {days} days before the fix"
    )
    since = (
        f"; {found.after:,} of {found.after_total:,} ({_percent(found.after_share)}) since"
        if found.after_total
        else ""
    )
    numbers = f"{before}{since}."
    p = f"p = {found.p_value:.3g}" if found.p_value is not None else ""
    if found.verdict == "fixed":
        head = "Fewer complaints since the fix, and the fall is significant."
        tone = "good"
        more = f"A one-sided Fisher exact test: {p}, under {policy.alpha:g}."
    elif found.verdict == "not yet significant":
        head = "Fewer complaints since the fix, but not yet significant."
        tone = "warn"
        more = (
            f"A one-sided Fisher exact test gives {p}: it needs more time, or more "
            "complaints, to tell a real fall from chance."
        )
    elif found.verdict == "recurring":
        head = "The complaints came back after the fix."
        tone = "bad"
        more = (
            f"At least {policy.recurring_min} of its complaints in the last "
            f"{policy.recurring_window.days} days, and no significant fall ({p})."
        )
    elif found.verdict == "no change":
        head = "No fewer complaints since the fix."
        tone = "bad"
        more = f"A one-sided Fisher exact test gives {p}: its share of complaints did not fall."
    else:
        head = "Too early to tell."
        tone = "warn"
        more = (
            "No complaints have arrived since the fix yet."
            if found.after_total == 0
            else "There were no complaints in the window before the fix to compare with."
        )
    if problem.status is ProblemStatus.RECURRING and found.verdict != "recurring":
        more += " It was flagged as recurring"
        if problem.recurring_at is not None:
            more += f" on {problem.recurring_at:%Y-%m-%d}"
        more += "."
    return {"head": head, "numbers": numbers, "more": more, "tone": tone}


def _examples(session: Session, user: Principal, problem: Problem) -> list[Feedback]:
    """The typical complaints discovery chose, where the person may read their case."""
    if not problem.examples:
        return []
    return list(
        session.scalars(
            select(Feedback)
            .outerjoin(Case, Case.id == Feedback.case_id)
            .where(Feedback.id.in_(problem.examples), visible_case_filter(user))
            .order_by(Feedback.id)
        )
    )


def _detail_page(
    request: Request,
    session: Session,
    user: Principal,
    problem_id: int,
    *,
    now: datetime,
    done: str = "",
    error: str | None = None,
    form: dict[str, str] | None = None,
    code: int = 200,
) -> HTMLResponse:
    problem = service.get_problem(session, problem_id)
    policy = active_policy(session)
    total = (
        session.scalar(
            select(func.count(ProblemCase.id)).where(ProblemCase.problem_id == problem_id)
        )
        or 0
    )
    linked = select(ProblemCase.case_id).where(ProblemCase.problem_id == problem_id)
    actions = service.actions(session, problem_id)
    chart = chart_data(session, problem, now=now, policy=policy.problems)
    verification = None
    if problem.fixed_at is not None:
        found = service.verification(session, problem_id, now=now, policy=policy)
        verification = {
            **verdict_words(found, problem=problem, policy=policy.problems),
            "verdict": found.verdict,
        }
    incidents = list(
        session.scalars(
            select(Incident).where(Incident.problem_id == problem_id).order_by(Incident.id)
        )
    )
    recent = chart["weeks"][-4:]
    return render(
        request,
        "problems_detail.html",
        {
            "problem": problem,
            "badge": STATUS_BADGES[problem.status],
            "category_title": (
                CATEGORY_TITLES.get(Category(problem.category))
                if problem.category in {c.value for c in Category}
                else problem.category
            ),
            "cases": case_list(session, user, linked, total),
            "actions": actions,
            "overdue": {
                a.id
                for a in actions
                if a.status is ActionStatus.OPEN and a.due_at is not None and a.due_at < now
            },
            "open_actions": sum(1 for a in actions if a.status is ActionStatus.OPEN),
            "chart": chart,
            "so_far": {
                "weeks": len(recent),
                "complaints": sum(r["complaints"] for r in recent),
                "all": sum(r["total"] for r in recent),
            },
            "verification": verification,
            "window_days": policy.problems.window.days,
            "incidents": incidents,
            "examples": _examples(session, user, problem),
            "can_change": user.at_least(Role.LEAD),
            "can_fix": problem.status in (ProblemStatus.OPEN, ProblemStatus.RECURRING),
            "done": _DONE.get(done),
            "error": error,
            "form": form or {},
            "today": now.date().isoformat(),
        },
        status_code=code,
    )


@router.get("/problems/{problem_id}", response_class=HTMLResponse)
def problem_page(
    request: Request,
    problem_id: str,
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    done: str = "",
) -> HTMLResponse:
    return _detail_page(
        request, session, user, page_id(problem_id, "problem"), now=clock(), done=done
    )


def _refused(
    request: Request,
    session: Session,
    user: Principal,
    problem_id: int,
    exc: DomainError,
    *,
    now: datetime,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    return _detail_page(
        request,
        session,
        user,
        problem_id,
        now=now,
        error=sentence(exc.detail),
        form=form,
        code=_status(exc),
    )


def _due(text: str) -> datetime | None:
    """A due date from a date field: the end of that day, UTC."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("the due date must be a date like 2026-12-31") from None
    return datetime.combine(day, time(23, 59), tzinfo=UTC)


@router.post("/problems/{problem_id}/actions", response_class=HTMLResponse)
def add_action(
    request: Request,
    problem_id: str,
    session: SessionDep,
    clock: ClockDep,
    user: CheckedUser,
    _lead: LeadUser,
    title: Annotated[str, Form(max_length=300)] = "",
    owner: Annotated[str, Form(max_length=254)] = "",
    due: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    pid = page_id(problem_id, "problem")
    service.get_problem(session, pid)
    now = clock()
    try:
        with session.begin_nested():
            service.add_action(session, pid, title=title, owner=owner, now=now, due_at=_due(due))
    except DomainError as exc:
        return _refused(
            request,
            session,
            user,
            pid,
            exc,
            now=now,
            form={"action_title": title, "action_owner": owner, "action_due": due},
        )
    return RedirectResponse(f"/problems/{pid}?done=action#actions", status_code=303)


@router.post("/problems/{problem_id}/actions/{action_id}", response_class=HTMLResponse)
def set_action(
    request: Request,
    problem_id: str,
    action_id: str,
    session: SessionDep,
    clock: ClockDep,
    user: CheckedUser,
    _lead: LeadUser,
    status: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    pid = page_id(problem_id, "problem")
    aid = page_id(action_id, "corrective action")
    action = session.get(CorrectiveAction, aid)
    if action is None or action.problem_id != pid:
        raise NotFound("corrective action", aid)
    now = clock()
    try:
        if status not in {s.value for s in ActionStatus}:
            raise InvalidInput("choose done, cancelled or open")
        with session.begin_nested():
            service.set_action(session, aid, ActionStatus(status), now=now, note=None)
    except DomainError as exc:
        return _refused(request, session, user, pid, exc, now=now)
    return RedirectResponse(f"/problems/{pid}?done=action_{status}#actions", status_code=303)


def _step(
    request: Request,
    problem_id: str,
    session: Session,
    user: Principal,
    now: datetime,
    done: str,
    step: Callable[[int], object],
) -> Response:
    pid = page_id(problem_id, "problem")
    service.get_problem(session, pid)
    try:
        with session.begin_nested():
            step(pid)
    except DomainError as exc:
        return _refused(request, session, user, pid, exc, now=now)
    return RedirectResponse(f"/problems/{pid}?done={done}", status_code=303)


@router.post("/problems/{problem_id}/fixed", response_class=HTMLResponse)
def mark_fixed(
    request: Request,
    problem_id: str,
    session: SessionDep,
    clock: ClockDep,
    user: CheckedUser,
    _lead: LeadUser,
) -> Response:
    now = clock()
    return _step(
        request,
        problem_id,
        session,
        user,
        now,
        "fixed",
        lambda pid: service.mark_fixed(session, pid, now=now),
    )


@router.post("/problems/{problem_id}/confirm", response_class=HTMLResponse)
def confirm(
    request: Request,
    problem_id: str,
    session: SessionDep,
    clock: ClockDep,
    user: CheckedUser,
    _lead: LeadUser,
) -> Response:
    return _step(
        request,
        problem_id,
        session,
        user,
        clock(),
        "confirmed",
        lambda pid: service.confirm(session, pid),
    )


@router.post("/problems/{problem_id}/close", response_class=HTMLResponse)
def close(
    request: Request,
    problem_id: str,
    session: SessionDep,
    clock: ClockDep,
    user: CheckedUser,
    _lead: LeadUser,
) -> Response:
    now = clock()
    return _step(
        request,
        problem_id,
        session,
        user,
        now,
        "closed",
        lambda pid: service.close(session, pid, now=now),
    )


@router.post("/problems/{problem_id}", response_class=HTMLResponse)
def update(
    request: Request,
    problem_id: str,
    session: SessionDep,
    clock: ClockDep,
    user: CheckedUser,
    _lead: LeadUser,
    title: Annotated[str, Form(max_length=200)] = "",
    root_cause: Annotated[str, Form(max_length=5000)] = "",
    what_will_change: Annotated[str, Form(max_length=5000)] = "",
    owner: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    pid = page_id(problem_id, "problem")
    service.get_problem(session, pid)
    now = clock()
    try:
        if not title.strip():
            raise InvalidInput("a problem needs a title")
        with session.begin_nested():
            service.update(
                session,
                pid,
                # An emptied field clears what was known.
                title=" ".join(title.split())[:200],
                root_cause=root_cause,
                what_will_change=what_will_change,
                owner=owner.strip().lower(),
            )
    except DomainError as exc:
        return _refused(
            request,
            session,
            user,
            pid,
            exc,
            now=now,
            form={
                "title": title,
                "root_cause": root_cause,
                "what_will_change": what_will_change,
                "owner": owner,
            },
        )
    return RedirectResponse(f"/problems/{pid}?done=updated", status_code=303)
