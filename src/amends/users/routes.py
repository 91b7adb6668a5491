"""/api/v1/users, /api/v1/tokens (admins) and /api/v1/me."""

from __future__ import annotations

from fastapi import APIRouter

from amends.api.auth import PrincipalDep
from amends.api.deps import ClockDep, IdPath, SessionDep
from amends.errors import Forbidden
from amends.users import service
from amends.users.rules import Role
from amends.users.schemas import (
    MeRead,
    TokenCreated,
    TokenIn,
    TokenRead,
    UserChange,
    UserIn,
    UserRead,
)

router = APIRouter(tags=["users"])


@router.get("/me", summary="Who this call acts as: role, scopes and teams")
def me(principal: PrincipalDep) -> MeRead:
    if principal is None:  # only public routes have no principal
        raise Forbidden("no one is signed in")
    return MeRead(
        email=principal.email,
        name=principal.name,
        role=principal.role,
        scopes=sorted(principal.scopes),
        team_ids=sorted(principal.team_ids) if principal.team_ids is not None else None,
        via=principal.via,
    )


@router.get("/users", summary="Everyone who can sign in or hold a token")
def list_users(session: SessionDep) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in service.list_users(session)]


@router.post("/users", status_code=201, summary="Add a user")
def add_user(body: UserIn, session: SessionDep, clock: ClockDep) -> UserRead:
    user = service.add_user(
        session,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        team=body.team,
        now=clock(),
    )
    return UserRead.model_validate(user)


@router.patch("/users/{email}", summary="Disable, enable, or change a user's role")
def change_user(
    email: str, body: UserChange, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> UserRead:
    own = principal is not None and email.strip().lower() == principal.email
    if own and body.active is False:
        raise Forbidden("you cannot disable your own account")
    if own and body.role is not None and body.role is not Role.ADMIN:
        raise Forbidden("you cannot give up your own admin role: another admin can")
    user = service.get_user(session, email)
    if body.role is not None:
        user = service.set_role(session, email, body.role)
    if body.active is not None:
        user = service.set_active(session, email, body.active, now=clock())
    return UserRead.model_validate(user)


@router.get("/tokens", summary="API tokens (their secrets are never shown again)")
def list_tokens(session: SessionDep, user: str | None = None) -> list[TokenRead]:
    return [TokenRead.model_validate(t) for t in service.list_tokens(session, email=user)]


@router.post("/tokens", status_code=201, summary="Make an API token; its secret is shown once")
def add_token(body: TokenIn, session: SessionDep, clock: ClockDep) -> TokenCreated:
    token, secret = service.issue_token(
        session,
        body.user,
        name=body.name,
        scopes=frozenset(body.scopes),
        now=clock(),
        expires_at=body.expires_at,
    )
    read = TokenRead.model_validate(token).model_dump()
    return TokenCreated.model_validate({**read, "secret": secret})


@router.delete("/tokens/{token_id}", summary="Revoke an API token")
def revoke_token(token_id: IdPath, session: SessionDep, clock: ClockDep) -> TokenRead:
    return TokenRead.model_validate(service.revoke_token(session, token_id, now=clock()))
