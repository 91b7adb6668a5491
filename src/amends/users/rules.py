"""Who may do what: roles, API token scopes, and the password policy. Pure: no IO."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"  # works the cases of their own teams
    LEAD = "lead"  # sees every team, edits the playbook, approves offers above the caps
    ADMIN = "admin"  # all a lead may, and manages users

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Role.AGENT: 0, Role.LEAD: 1, Role.ADMIN: 2}


class Scope(StrEnum):
    """What an API token may do. A token never does more than its user's role allows."""

    READ = "read"  # every GET, and the reply checker
    FEEDBACK = "feedback:write"  # send feedback in (feeds, inbound webhooks)
    CASES = "cases:write"  # work cases: replies, assignment, offers, incidents, problems,
    # and marking one's own notifications read
    PLAYBOOK = "playbook:write"  # import a playbook, teach the company taxonomy
    ADMIN = "admin"  # users, tokens, outbound webhooks


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.AGENT: frozenset({Scope.READ, Scope.FEEDBACK, Scope.CASES}),
    Role.LEAD: frozenset({Scope.READ, Scope.FEEDBACK, Scope.CASES, Scope.PLAYBOOK}),
    Role.ADMIN: frozenset(Scope),
}


def at_least(role: Role, needed: Role) -> bool:
    return role.rank >= needed.rank


def effective_scopes(granted: frozenset[Scope], role: Role) -> frozenset[Scope]:
    """A token's scopes as of now: what it was given, within what its user's role allows
    today (a lead made an agent loses playbook:write on every token at once)."""
    return granted & ROLE_SCOPES[role]


# Read-only calls made with POST: they change nothing.
_READ_POSTS = ("/api/v1/check", "/api/v1/analyze")
_FEEDBACK_PREFIXES = ("/api/v1/feedback", "/api/v1/quarantine")
_PLAYBOOK_PREFIXES = ("/api/v1/playbook", "/api/v1/taxonomies", "/api/v1/teams")
# Marking one's own notifications read changes only the note of what one has seen: the least
# write scope that fits is an agent's daily work, cases:write (feedback:write is for feeds).
_OWN_NOTIFICATIONS = "/api/v1/notifications/read"
_ADMIN_PREFIXES = (
    "/api/v1/users",
    "/api/v1/tokens",
    "/api/v1/webhooks",
    "/api/v1/webhook-deliveries",
    "/api/v1/outbox",
)
# Customers answer surveys with the signed link they were sent: the link is the credential.
PUBLIC_PREFIXES = ("/api/v1/survey/",)
# What an agent may not do although their scopes allow the kind of call: lead work, and
# the desk's own figures and lists (an agent works their teams' cases through the cases).
_LEAD_READS = ("/api/v1/reports", "/api/v1/quarantine", "/api/v1/followups")
_LEAD_WRITES = ("/api/v1/incidents", "/api/v1/problems", "/api/v1/problem-actions")
_LISTS_BY_CASE = ("/api/v1/feedback", "/api/v1/offers")


class AgentLimit(StrEnum):
    LEAD_ONLY = "lead_only"
    ONE_CASE = "one_case"  # a list an agent may read for one of their cases (?case_id=)


def agent_limit(method: str, path: str) -> AgentLimit | None:
    """How an API call is limited for an agent (a lead or an admin has no such limit)."""
    path = path.rstrip("/")
    if path.startswith(_LEAD_READS):
        return AgentLimit.LEAD_ONLY
    if method not in ("GET", "HEAD", "OPTIONS") and path.startswith(_LEAD_WRITES):
        return AgentLimit.LEAD_ONLY
    if method == "GET" and path == "/api/v1/customers":
        return AgentLimit.LEAD_ONLY
    if method == "GET" and path in _LISTS_BY_CASE:
        return AgentLimit.ONE_CASE
    return None


_CLASSIFY = re.compile(r"/api/v1/taxonomies/[^/]+/classify")


def scope_for(method: str, path: str) -> Scope:
    """The scope an API call needs: by its method and path."""
    path = path.rstrip("/")
    if path.startswith(_ADMIN_PREFIXES):
        return Scope.ADMIN
    if method in ("GET", "HEAD", "OPTIONS") or path in _READ_POSTS:
        return Scope.READ
    if method == "POST" and _CLASSIFY.fullmatch(path):
        return Scope.READ
    if path.startswith("/api/v1/feedback/") and path.endswith("/category"):
        return Scope.CASES  # correcting a complaint's category is case work
    if path == _OWN_NOTIFICATIONS:
        return Scope.CASES
    if path.startswith(_FEEDBACK_PREFIXES):
        return Scope.FEEDBACK
    if path.startswith(_PLAYBOOK_PREFIXES):
        return Scope.PLAYBOOK
    return Scope.CASES


def parse_scopes(values: list[str] | tuple[str, ...]) -> frozenset[Scope]:
    """Scopes named by a person; an unknown one is refused with the list of known ones."""
    known = {s.value: s for s in Scope}
    out: set[Scope] = set()
    for value in values:
        for part in value.replace(",", " ").split():
            if part not in known:
                raise ValueError(f"unknown scope {part!r}; known: {', '.join(known)}")
            out.add(known[part])
    return frozenset(out)


MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 is slow by design: a megabyte password is a denial of service


def password_problem(password: str, *, email: str) -> str | None:
    """Why a password is refused, or None. Length over complexity rules (NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"a password has at most {MAX_PASSWORD} characters"
    if password.strip().lower() == email.strip().lower() or len(set(password)) < 4:
        return "this password is too easy to guess"
    return None


@dataclass(frozen=True)
class Lockout:
    """Limits on failed sign-ins, each over the last `minutes`:

    - `attempts` to one account from one address: that address waits before it may try that
      account again, while its owner, signing in from anywhere else, is not kept out;
    - `source_attempts` from one address to any accounts (guessing across many), and
    - `account_attempts` to one account from anywhere (guessing from many addresses): the
      account itself is locked for `minutes`, which the users page shows.

    The last two do not hold back a place the person has signed in from lately.
    """

    attempts: int = 5
    minutes: int = 15
    source_attempts: int = 30
    account_attempts: int = 50


TOKEN_PREFIX = "amd_"
