"""Who is calling the API: an API token (`Authorization: Bearer amd_...`) or a signed-in browser
(the session cookie, with the CSRF token in `X-CSRF-Token` for anything that changes data).
Every /api/v1 route depends on `require_principal`; it checks the call's scope and, for a
route about one case, that the caller works that case's team."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from amends.api.deps import SessionDep
from amends.db import as_id
from amends.errors import DomainError, Forbidden
from amends.users import service as users
from amends.users.rules import PUBLIC_PREFIXES, AgentLimit, Role, agent_limit, scope_for

SESSION_COOKIE = "amends_session"
CSRF_HEADER = "X-CSRF-Token"

_bearer = HTTPBearer(
    auto_error=False,
    description="An API token made with `amends tokens add` (or by an admin in the web desk).",
)


class Unauthenticated(DomainError):
    """No valid credentials: sign in, or send an API token."""

    code = "unauthenticated"


def principal_from_request(
    request: Request, session: Session, credentials: HTTPAuthorizationCredentials | None
) -> users.Principal | None:
    """The caller, from a bearer token or the session cookie; None when neither is valid."""
    now = request.app.state.clock()
    if credentials is not None:
        token = users.token_for(session, credentials.credentials, now=now)
        if token is None:
            raise Unauthenticated("the API token is unknown, revoked or expired")
        from amends.users.rules import parse_scopes

        return users.principal_for(
            session, token.user, via="token", scopes=parse_scopes(token.scopes)
        )
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        login = users.session_for(session, cookie, now=now)
        if login is not None:
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                sent = request.headers.get(CSRF_HEADER, "")
                if not hmac.compare_digest(sent.encode(), login.csrf_token.encode()):
                    raise Forbidden(f"missing or wrong {CSRF_HEADER} header")
            request.state.csrf_token = login.csrf_token
            return users.principal_for(session, login.user, via="session")
    return None


def require_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> users.Principal | None:
    """The caller, allowed to make this call; 401 without credentials, 403 beyond them."""
    path = request.url.path
    if path.startswith(PUBLIC_PREFIXES):
        return None
    principal = principal_from_request(request, session, credentials)
    if principal is None:
        raise Unauthenticated("sign in, or send an API token: Authorization: Bearer amd_...")
    needed = scope_for(request.method, path)
    if not principal.may(needed):
        raise Forbidden(f"this call needs the {needed.value} scope")
    limit = None if principal.at_least(Role.LEAD) else agent_limit(request.method, path)
    if limit is AgentLimit.LEAD_ONLY:
        raise Forbidden("only a lead or an admin may do this")
    if limit is AgentLimit.ONE_CASE:
        wanted = request.query_params.get("case_id", "")
        case_id = as_id(wanted)
        if case_id is None:
            raise Forbidden("an agent lists these for one of their cases: add ?case_id=")
        _check_case(session, principal, case_id)
    if principal.team_ids is not None:
        _check_what_the_path_names(session, principal, request.path_params)
    request.state.principal = principal
    return principal


def _check_what_the_path_names(
    session: Session, principal: users.Principal, params: Mapping[str, Any]
) -> None:
    """An agent reaches a case, and what hangs off one (its offers, vouchers and feedback, its
    customer), only when the case is one of their teams'."""
    from amends.cases.models import Case
    from amends.feedback.models import Feedback
    from amends.offers.models import Offer, Voucher

    def number(name: str) -> int | None:
        return as_id(str(params.get(name, "")))

    if (case_id := number("case_id")) is not None:
        _check_case(session, principal, case_id)
    if (offer_id := number("offer_id")) is not None:
        _check_case(
            session, principal, session.scalar(select(Offer.case_id).where(Offer.id == offer_id))
        )
    if (feedback_id := number("feedback_id")) is not None:
        _check_case(
            session,
            principal,
            session.scalar(select(Feedback.case_id).where(Feedback.id == feedback_id)),
        )
    if "code" in params:
        found = session.scalar(
            select(Offer.case_id)
            .join(Voucher, Voucher.offer_id == Offer.id)
            .where(Voucher.code == str(params["code"]).strip().upper())
        )
        _check_case(session, principal, found)
    if (customer_id := number("customer_id")) is not None:
        visible = session.scalar(
            select(Case.id)
            .where(Case.customer_id == customer_id, users.visible_case_filter(principal))
            .limit(1)
        )
        exists = session.scalar(select(Case.id).where(Case.customer_id == customer_id).limit(1))
        if exists is not None and visible is None:
            raise Forbidden(f"customer {customer_id} has no case in your teams")


def _check_case(session: Session, principal: users.Principal, case_id: int | None) -> None:
    """Forbidden unless the case is the person's teams' (a missing case is left to the route,
    which answers 404)."""
    from amends.cases.models import Case

    if case_id is None:
        return
    row = session.execute(
        select(Case.team_id, Case.assignee_id).where(Case.id == case_id)
    ).one_or_none()
    if row is not None and not principal.sees(row.team_id, row.assignee_id):
        raise Forbidden(f"case {case_id} belongs to another team")


PrincipalDep = Annotated[users.Principal | None, Depends(require_principal)]


class Acting:
    """Whom a call acts as, given the agent its body names (`"agent": "..."`). An admin (an
    integration, such as a bridge from another helpdesk) acts for any agent it names, or as
    the desk's API when it names none; anyone else acts as themselves only."""

    def __init__(self, principal: users.Principal | None) -> None:
        self.principal = principal

    def __call__(self, named: str | None) -> str | None:
        principal = self.principal
        if principal is None or principal.at_least(Role.ADMIN):
            return named
        if named and named.strip().lower() != principal.email:
            raise Forbidden(f"you act as {principal.email}: you cannot act for {named.strip()}")
        return principal.email

    def named(self, agent: str) -> str:
        """For a call that needs an agent: the one it acts as."""
        return self(agent) or agent


def _acting(principal: PrincipalDep) -> Acting:
    return Acting(principal)


ActingDep = Annotated[Acting, Depends(_acting)]
