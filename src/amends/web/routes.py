"""The web pages. They call the same services as the API; every value is escaped by Jinja2."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from amends.api.deps import SessionDep
from amends.cases import service as cases
from amends.customers import service as customers
from amends.feedback import service as feedback

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> HTMLResponse:
    items, n_feedback = feedback.list_feedback(session, limit=50)
    people, n_customers = customers.list_customers(session, limit=25)
    _, n_cases = cases.list_cases(session, limit=1)
    _, n_quarantine = feedback.list_quarantine(session, limit=1)
    return templates.TemplateResponse(
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
