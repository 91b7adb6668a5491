"""Users, sign-in, browser sessions and API tokens. Services flush; the caller commits."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from amends.db import as_utc
from amends.errors import Conflict, Forbidden, InvalidInput, NotFound
from amends.teams.models import Agent, Team
from amends.users.models import ApiToken, LoginSession, SignInFailure, User
from amends.users.rules import (
    ROLE_SCOPES,
    TOKEN_PREFIX,
    Lockout,
    Role,
    Scope,
    at_least,
    effective_scopes,
    password_problem,
)

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from amends.cases.models import Case

UNUSABLE = "!"  # the hash of an account that signs in with API tokens only


class SignInFailed(Forbidden):
    """Wrong email or password, or a locked or disabled account: one message for all, so that
    the answer does not tell which accounts exist."""

    code = "sign_in_failed"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id, RFC 9106's low-memory parameters


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _verify(stored: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    """Session and API tokens are long random strings: one SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def _normal(email: str) -> str:
    return email.strip().lower()


# ---- users ---------------------------------------------------------------------------------


def get_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == _normal(email)))
    if user is None:
        raise NotFound("user", email)
    return user


def list_users(session: Session, *, include_disabled: bool = True) -> Sequence[User]:
    query = select(User).order_by(User.email)
    if not include_disabled:
        query = query.where(User.active.is_(True))
    return session.scalars(query).all()


def add_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: Role,
    password: str | None,
    team: str | None = None,
    now: datetime,
) -> User:
    """Add a person. An agent works cases as the agent with the same email: `team` puts that
    agent in a team (making it when needed). No password: the account uses API tokens only."""
    email = _normal(email)
    if "@" not in email or len(email) > 254:
        raise InvalidInput(f"{email!r} is not an email address")
    if not name.strip():
        raise InvalidInput("a user needs a name")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"user {email} already exists")
    if password is not None and (problem := password_problem(password, email=email)):
        raise InvalidInput(problem)
    if team is not None:
        _join_team(session, email=email, name=name, team=team, now=now)
    user = User(
        email=email,
        name=name.strip()[:200],
        role=role,
        password_hash=hash_password(password) if password is not None else UNUSABLE,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def _join_team(session: Session, *, email: str, name: str, team: str, now: datetime) -> None:
    found = session.scalar(select(Team).where(Team.name == team))
    if found is None:
        known = ", ".join(session.scalars(select(Team.name).order_by(Team.name))) or "none yet"
        raise NotFound("team", f"{team!r} (teams: {known})")
    agent = session.scalar(select(Agent).where(Agent.email == email))
    if agent is None:
        session.add(Agent(name=name, email=email, team_id=found.id, active=True, created_at=now))
    else:
        agent.team_id = found.id
        agent.active = True
    session.flush()


def set_active(session: Session, email: str, active: bool, *, now: datetime) -> User:
    """Disable or enable a user. Disabling ends their sessions at once; their API tokens stop
    working while the account is disabled."""
    user = get_user(session, email)
    user.active = active
    user.disabled_at = None if active else now
    # Their agent takes no new cases while they cannot sign in (assignment skips inactive
    # agents), and takes them again when they can.
    agent = session.scalar(select(Agent).where(Agent.email == user.email))
    if agent is not None:
        agent.active = active
    if not active:
        _end_sessions(session, user.id, now=now)
    else:
        _forgive(session, user)
    session.flush()
    return user


def set_password(session: Session, email: str, password: str, *, now: datetime) -> User:
    user = get_user(session, email)
    if problem := password_problem(password, email=user.email):
        raise InvalidInput(problem)
    user.password_hash = hash_password(password)
    _forgive(session, user)
    _end_sessions(session, user.id, now=now)
    session.flush()
    return user


def set_role(session: Session, email: str, role: Role) -> User:
    user = get_user(session, email)
    user.role = role
    session.flush()
    return user


def _end_sessions(session: Session, user_id: int, *, now: datetime) -> None:
    session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=now)
    )


# ---- signing in ----------------------------------------------------------------------------

# Verified against when the email is unknown, so that a wrong email takes as long as a wrong
# password and timing tells nothing.
_DUMMY: list[str] = []
LOCKOUT = Lockout()
REFUSED = (
    "wrong email or password (after five wrong tries from one place, signing in to that account "
    "from there waits 15 minutes; a disabled account signs in no more)"
)
FAILURES_KEPT = timedelta(days=1)
KNOWN_PLACE = timedelta(days=90)  # a place someone signed in from this recently is theirs


def place(address: str | None) -> str:
    """Where a sign-in comes from, as the limits count it: the client's address, an IPv6 one
    as its /64 (one subscriber's block: counting each address would let it dodge the limits)."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    now: datetime,
    source: str | None = None,
    lockout: Lockout = LOCKOUT,
) -> User:
    """The user whose email and password these are; SignInFailed otherwise. `source` is the
    client's address. Failures are limited per account and place, per place, and per account
    (see `Lockout`); the last two never hold back a place the person has signed in from, so a
    stranger who knows an email cannot keep its owner out, nor one guesser a whole office."""
    address = _normal(email)[:254]
    where = place(source)
    _serialise(session, address)
    since = now - timedelta(minutes=lockout.minutes)
    recent = SignInFailure.at > since
    pair = _count(session, recent, SignInFailure.email == address, SignInFailure.source == where)
    spread = _count(session, recent, SignInFailure.source == where)
    user = session.scalar(select(User).where(User.email == address))
    if user is None or user.password_hash == UNUSABLE:
        if not _DUMMY:
            _DUMMY.append(hash_password(secrets.token_urlsafe(16)))
        _verify(_DUMMY[0], password)
        if pair < lockout.attempts and spread < lockout.source_attempts:
            _failed(session, address, where, now=now)
        raise SignInFailed(REFUSED)
    # Every account pays the same: the password is checked even when the answer is no, and
    # a held, locked or disabled account gets the same words as a wrong password.
    right = _verify(user.password_hash, password)
    known = _known_place(session, user, where, now=now)
    locked = user.locked_until is not None and as_utc(user.locked_until) > now
    held = pair >= lockout.attempts or (not known and (spread >= lockout.source_attempts or locked))
    if not right and not held:
        _failed(session, address, where, now=now)
        user.failed_logins += 1
        if _count(session, recent, SignInFailure.email == address) >= lockout.account_attempts:
            user.locked_until = now + timedelta(minutes=lockout.minutes)
        session.flush()
    if not right or held or not user.active:
        raise SignInFailed(REFUSED)
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # the owner is in: their own earlier slips from this place count no more
    session.execute(
        delete(SignInFailure).where(SignInFailure.email == address, SignInFailure.source == where)
    )
    user.failed_logins = 0
    if not locked:
        user.locked_until = None
    user.last_login_at = now
    session.flush()
    return user


def _serialise(session: Session, address: str) -> None:
    """One sign-in to an account at a time, so parallel guesses cannot all read a count under
    the limit: PostgreSQL takes a lock until the end of the transaction (SQLite's writers are
    one at a time already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"sign-in:{address}"}
        )


def _count(session: Session, *where: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count(SignInFailure.id)).where(*where)) or 0


def _known_place(session: Session, user: User, where: str, *, now: datetime) -> bool:
    """Whether this person signed in from this place lately."""
    found = session.scalar(
        select(LoginSession.id)
        .where(
            LoginSession.user_id == user.id,
            LoginSession.source == where,
            LoginSession.created_at > now - KNOWN_PLACE,
        )
        .limit(1)
    )
    return found is not None


def _forgive(session: Session, user: User) -> None:
    """A person re-enabled or given a new password starts with no failures against them."""
    user.failed_logins = 0
    user.locked_until = None
    session.execute(delete(SignInFailure).where(SignInFailure.email == user.email))


def _failed(session: Session, address: str, where: str, *, now: datetime) -> None:
    session.add(SignInFailure(email=address, source=where, at=now))
    session.execute(delete(SignInFailure).where(SignInFailure.at < now - FAILURES_KEPT))


SESSION_LIFETIME = timedelta(hours=12)
SESSION_IDLE = timedelta(hours=2)


def start_session(
    session: Session, user: User, *, now: datetime, source: str | None = None
) -> tuple[LoginSession, str]:
    """A new browser session, from the client's address `source`; returns it and the token
    for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    row = LoginSession(
        token_hash=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_LIFETIME,
        source=place(source) if source is not None else None,
    )
    session.add(row)
    session.flush()
    return row, token


def session_for(session: Session, token: str, *, now: datetime) -> LoginSession | None:
    """The live session a cookie names: not ended, not expired, not idle too long, its user
    active. Seen-time is written at most once a minute."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))
    if row is None or row.ended_at is not None or not row.user.active:
        return None
    if as_utc(row.expires_at) <= now or as_utc(row.last_seen_at) + SESSION_IDLE <= now:
        return None
    if now - as_utc(row.last_seen_at) > timedelta(minutes=1):
        row.last_seen_at = now
        session.flush()
    return row


def end_session(session: Session, token: str, *, now: datetime) -> None:
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))
    if row is not None and row.ended_at is None:
        row.ended_at = now
        session.flush()


# ---- API tokens ----------------------------------------------------------------------------


def issue_token(
    session: Session,
    email: str,
    *,
    name: str,
    scopes: frozenset[Scope],
    now: datetime,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new API token for a user; returns it and its secret, shown once and never stored."""
    user = get_user(session, email)
    if not user.active:
        raise Conflict(f"user {user.email} is disabled")
    if not scopes:
        raise InvalidInput("a token needs at least one scope")
    beyond = scopes - ROLE_SCOPES[user.role]
    if beyond:
        article = "an" if user.role.value[0] in "aeiou" else "a"
        raise Forbidden(
            f"{article} {user.role.value} may not hold {', '.join(sorted(s.value for s in beyond))}"
        )
    if not name.strip():
        raise InvalidInput("a token needs a name (what uses it)")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name.strip()[:100],
        prefix=secret[:10],
        token_hash=_digest(secret),
        scopes=sorted(s.value for s in scopes),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def token_for(session: Session, secret: str, *, now: datetime) -> ApiToken | None:
    """The live token a request presents: not revoked or expired, its user active."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    if token.expires_at is not None and as_utc(token.expires_at) <= now:
        return None
    last = token.last_used_at
    if last is None or now - as_utc(last) > timedelta(minutes=1):
        token.last_used_at = now
        session.flush()
    return token


def list_tokens(session: Session, *, email: str | None = None) -> Sequence[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if email is not None:
        query = query.where(ApiToken.user_id == get_user(session, email).id)
    return session.scalars(query).all()


def revoke_token(session: Session, token_id: int, *, now: datetime) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("token", token_id)
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    return token


# ---- who is acting, and what they may see ---------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a signed-in person or an API token's user."""

    user_id: int
    email: str
    name: str
    role: Role
    scopes: frozenset[Scope]
    # Teams whose cases this person works; None: every team (leads and admins).
    team_ids: frozenset[int] | None
    agent_id: int | None  # the agent with this person's email, if any
    via: str  # "session" or "token"

    def may(self, scope: Scope) -> bool:
        return scope in self.scopes

    def at_least(self, role: Role) -> bool:
        return at_least(self.role, role)

    @property
    def actor(self) -> str:
        return f"agent:{self.email}"

    def sees(self, team_id: int | None, assignee_id: int | None = None) -> bool:
        if self.team_ids is None:
            return True
        if assignee_id is not None and assignee_id == self.agent_id:
            return True
        return team_id is not None and team_id in self.team_ids


def principal_for(
    session: Session, user: User, *, via: str, scopes: frozenset[Scope] | None = None
) -> Principal:
    agent = session.scalar(select(Agent).where(Agent.email == user.email))
    team_ids: frozenset[int] | None = None
    if not at_least(user.role, Role.LEAD):
        found: set[int] = set()
        if agent is not None:
            if agent.team_id is not None:
                found.add(agent.team_id)
            found.update(session.scalars(select(Team.id).where(Team.lead_id == agent.id)))
        team_ids = frozenset(found)
    granted = ROLE_SCOPES[user.role] if scopes is None else effective_scopes(scopes, user.role)
    return Principal(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        scopes=granted,
        team_ids=team_ids,
        agent_id=agent.id if agent is not None else None,
        via=via,
    )


def check_case_visible(principal: Principal, case: Case) -> None:
    """Forbidden unless the case belongs to one of the person's teams (or is theirs)."""
    if not principal.sees(case.team_id, case.assignee_id):
        raise Forbidden(f"case {case.id} belongs to another team")


def visible_case_filter(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause limiting cases to those the person works; True for leads and admins."""
    from sqlalchemy import true

    from amends.cases.models import Case

    if principal.team_ids is None:
        return true()
    clauses: list[ColumnElement[bool]] = [Case.team_id.in_(principal.team_ids)]
    if principal.agent_id is not None:
        clauses.append(Case.assignee_id == principal.agent_id)
    return or_(*clauses)


def check_assignable(session: Session, principal: Principal, *, agent_email: str | None) -> None:
    """Forbidden when an agent would hand a case to a person outside their teams. Any team's
    queue is open to them (a case that came to the wrong team is passed on), and leads and
    admins assign anywhere."""
    if principal.team_ids is None or not agent_email:
        return
    agent = session.scalar(select(Agent).where(Agent.email == _normal(agent_email)))
    mine = agent is None or agent.id == principal.agent_id
    if agent is not None and not mine and agent.team_id not in principal.team_ids:
        raise Forbidden(f"{agent.email} works in another team")
