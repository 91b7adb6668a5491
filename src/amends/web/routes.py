"""The web pages. They call the same services as the API; every value is escaped by Jinja2."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from amends.api.deps import SessionDep
from amends.cases import service as cases
from amends.config import Settings
from amends.customers import service as customers
from amends.errors import Conflict, DomainError, InvalidInput
from amends.feedback import service as feedback
from amends.followups import service as followups
from amends.playbook.service import active_policy
from amends.web.auth import LeadUser
from amends.web.render import render

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=FilePath(__file__).parent / "templates")


def _pages() -> None:
    from amends.web import auth
    from amends.web.pages import (
        admin,
        case,
        dashboard,
        incidents,
        notifications,
        playbook,
        problems,
        queue,
    )

    for module in (
        auth,
        queue,
        notifications,
        case,
        incidents,
        problems,
        playbook,
        dashboard,
        admin,
    ):
        router.include_router(module.router)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """The queue for the signed-in; the sign-in page for everyone else."""
    return RedirectResponse("/queue", status_code=303)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """Browsers ask for it on their own; the icon is the desk's SVG."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/feedback", response_class=HTMLResponse)
def feedback_page(request: Request, session: SessionDep, _user: LeadUser) -> HTMLResponse:
    """Everything that came in, every team's: a lead's view (agents work their queue)."""
    items, n_feedback = feedback.list_feedback(session, limit=50)
    people, n_customers = customers.list_customers(session, limit=25)
    _, n_cases = cases.list_cases(session, limit=1)
    _, n_quarantine = feedback.list_quarantine(session, limit=1)
    return render(
        request,
        "home.html",
        {
            "feedback": items,
            "customers": people,
            "counts": {
                "feedback": n_feedback,
                "customers": n_customers,
                "cases": n_cases,
                "quarantine": n_quarantine,
            },
        },
    )


# ---- the customer's survey page ----------------------------------------------------------
# A GET only shows the question: mail scanners that open every link never vote. The answer is
# recorded by the POST that a button press sends.


def _survey_page(
    request: Request, state: str, status: int = 200, **context: object
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, "survey.html", {"state": state, **context}, status_code=status
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _survey_error(request: Request, exc: DomainError) -> HTMLResponse:
    if isinstance(exc, Conflict):
        return _survey_page(
            request, "gone", 410, title="This link has expired", message="Thank you all the same."
        )
    return _survey_page(
        request,
        "gone",
        404,
        title="Link not found",
        message="This survey link is not valid. Please use the link from our mail.",
    )


@router.get("/survey/{token}", response_class=HTMLResponse)
def survey(request: Request, token: str, session: SessionDep) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    try:
        found = followups.open_survey(session, token, now=request.app.state.clock(), secret=secret)
    except DomainError as exc:
        return _survey_error(request, exc)
    if found.followup.score is not None:
        return _survey_page(
            request, "thanks", verdict=followups.verdict(found.followup.scale, found.followup.score)
        )
    return _survey_page(
        request,
        "ask",
        subject=found.case.subject,
        scale=found.followup.scale.value,
        low=found.low,
        high=found.high,
    )


@router.post("/survey/{token}", response_class=HTMLResponse)
def survey_answer(
    request: Request,
    token: str,
    session: SessionDep,
    # Read as text and checked by the service: a score off the scale (or no score) gets the
    # survey page with its reason, not the API's JSON error.
    score: Annotated[str, Form(max_length=20)] = "",
    comment: Annotated[str | None, Form(max_length=5000)] = None,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    try:
        # A savepoint: an answer that fails part-way leaves nothing half-recorded.
        with session.begin_nested():
            _, verdict = followups.answer(
                session,
                token,
                _score(score),
                comment=comment,
                now=request.app.state.clock(),
                secret=secret,
                policy=active_policy(session),
            )
    except InvalidInput as exc:
        return _survey_page(request, "gone", 422, title="Please pick a score", message=str(exc))
    except DomainError as exc:
        return _survey_error(request, exc)
    return _survey_page(request, "thanks", verdict=verdict)


def _score(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput("choose one of the scores") from None


_pages()
