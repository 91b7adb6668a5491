"""The playbook pages: everyone reads the rules in force, their history and old versions; leads
edit them. The edit form imports through the same service as `amends playbook import` and
PUT /api/v1/playbook."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from amends.api.deps import SessionDep
from amends.errors import InvalidInput, NotFound
from amends.incidents.rules import TIER_ORDER
from amends.offers.rules import CustomerValue
from amends.playbook import service as playbooks
from amends.playbook.models import Playbook
from amends.playbook.rules import Policy, build_policy
from amends.playbook.schemas import DAYS, PlaybookDoc
from amends.sla.rules import format_duration
from amends.users.rules import Role
from amends.users.service import Principal
from amends.web.auth import CheckedUser, CurrentUser, LeadUser
from amends.web.render import render

router = APIRouter(include_in_schema=False)

# A version's diff is cut after this many lines: a rewrite of a long playbook would otherwise
# fill the history page.
DIFF_LINES = 400
UPCOMING_HOLIDAYS = 5

_NOTICES = {
    "saved": "Saved: the playbook below is now in force.",
    "restored": "Restored: the earlier version is in force again, as a new version.",
    "same": "Nothing changed: that text is the playbook already in force.",
}


def _words(value: object) -> str:
    """An identifier as words: "delivery_delay" reads "delivery delay"."""
    return str(value).replace("_", " ")


def _duration(value: timedelta) -> str:
    return format_duration(value)


def _open_hours(value: timedelta) -> str:
    """An SLA target in hours and minutes: "40h", "1h 30m". Targets count a calendar's open
    time, where "1d 16h" would read as a day and a half of the clock rather than five working
    days."""
    minutes = round(value.total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    parts = [f"{hours:,}h"] if hours else []
    if rest or not parts:
        parts.append(f"{rest}m")
    return " ".join(parts)


# ---- the readable playbook ------------------------------------------------------------------


def _spans(spec: str | None) -> list[str]:
    """A day's opening hours as written ("08:00-12:00, 13:00-20:00"), one range each; none
    when closed."""
    if spec is None or spec.strip().lower() == "closed":
        return []
    return [part.strip() for part in spec.split(",") if part.strip()]


def _recipient(who: str, names: dict[str, str]) -> str:
    """An escalation recipient in words."""
    low = who.lower()
    if low == "assignee":
        return "the assignee"
    if low == "team_lead":
        return "the team's lead"
    if low.startswith("team:"):
        return f"team {who[5:]}"
    name = names.get(low)
    return f"{name} ({who})" if name else who


def _reading(doc: PlaybookDoc, policy: Policy, *, today: date) -> dict[str, Any]:
    """What the playbook page shows, section by section, from the document as written and the
    rules the desk derives from it (which fill in the built-in defaults it leaves out)."""
    names = {a.email.lower(): a.name for t in doc.teams for a in t.agents}
    default_team = (doc.default_team or "").lower()
    teams = [
        {
            "name": t.name,
            "calendar": t.calendar or doc.sla.calendar,
            "categories": t.categories,
            "lead": (names.get(t.lead.lower(), t.lead), t.lead) if t.lead else None,
            "agents": t.agents,
            "is_default": t.name.lower() == default_team,
        }
        for t in doc.teams
    ]
    calendars = []
    for name, cal in sorted(doc.calendars.items()):
        closed = policy.calendars[name].holidays if name in policy.calendars else frozenset()
        calendars.append(
            {
                "name": name,
                "timezone": cal.timezone,
                "always": cal.hours == "24/7",
                "hours": [
                    (day.title(), [] if cal.hours == "24/7" else _spans(cal.hours.get(day)))
                    for day in DAYS
                ],
                "country": cal.holidays.country,
                "subdivision": cal.holidays.subdivision,
                "dates": cal.holidays.dates,
                "upcoming": sorted(d for d in closed if d >= today)[:UPCOMING_HOLIDAYS],
                "is_default": name == doc.sla.calendar,
            }
        )
    escalation = [
        {
            "level": i,
            "after": policy.escalation[i - 1].after,
            "notify": [_recipient(n, names) for n in level.notify],
            "reassign_to": _recipient(level.reassign_to, names) if level.reassign_to else None,
            "raise_priority": level.raise_priority,
        }
        for i, level in enumerate(doc.escalation, 1)
    ]
    comp = policy.compensation
    checker_rules = [
        {"id": rule, "text": text, "set_here": rule in doc.checker.rules}
        for rule, text in policy.checker.rules.items()
    ]
    tiers = [
        {"tier": tier, "threshold": policy.incidents.tiers.get(tier)} for tier in TIER_ORDER[1:]
    ]
    return {
        "teams": teams,
        "default_team": doc.default_team,
        "calendars": calendars,
        "sla": {
            "calendar": policy.sla_calendar,
            "warn_at": policy.warn_at,
            "pause_on": sorted(s.value for s in policy.pause_on),
            "targets": sorted(policy.targets.items()),
            "public": sorted(policy.public_targets.items()),
            "channels": sorted(
                (channel.value, p, t) for (channel, p), t in policy.channel_targets.items()
            ),
        },
        "escalation": escalation,
        "policy": policy,
        "compensation": {
            "c": comp,
            "amounts": sorted(comp.amounts.items()),
            "multipliers": [
                (v.value, comp.multipliers[v]) for v in CustomerValue if v in comp.multipliers
            ],
            "caps": sorted(comp.caps.items()),
            "remedies": sorted(comp.remedies.items()),
        },
        "checker": {
            "rules": checker_rules,
            "limits": sorted(policy.checker.channel_limits.items()),
            "stock_phrases": policy.checker.stock_phrases,
            "near_copy": policy.checker.near_copy,
        },
        "tiers": tiers,
        "guidance": sorted(policy.guidance.items()),
    }


def _meta(row: Playbook | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "version": row.version,
        "name": row.name,
        "imported_at": row.imported_at,
        "imported_by": row.imported_by,
    }


def _may_edit(user: Principal) -> bool:
    return user.at_least(Role.LEAD)


@router.get("/playbook", response_class=HTMLResponse)
def playbook_page(
    request: Request, session: SessionDep, user: CurrentUser, done: str | None = None
) -> HTMLResponse:
    row = playbooks.active_playbook(session)
    document = row.document if row is not None else playbooks.document_json(session)
    doc = PlaybookDoc.model_validate(document)
    policy = playbooks.active_policy(session)
    today = request.app.state.clock().date()
    return render(
        request,
        "playbook.html",
        {
            "doc": doc,
            "meta": _meta(row),
            "in_force": _meta(row),
            "old": False,
            "source": row.source if row is not None else playbooks.default_source(),
            "may_edit": _may_edit(user),
            "notice": _NOTICES.get(done or ""),
            "duration": _duration,
            "open_hours": _open_hours,
            "words": _words,
            **_reading(doc, policy, today=today),
        },
    )


def _version_number(text: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise NotFound("playbook version", text)
    return int(text)


@router.get("/playbook/versions/{number}", response_class=HTMLResponse)
def version_page(
    request: Request, session: SessionDep, user: CurrentUser, number: str
) -> HTMLResponse:
    row = playbooks.get_version(session, _version_number(number))
    in_force = playbooks.active_playbook(session)
    doc = PlaybookDoc.model_validate(row.document)
    policy = build_policy(doc, version=row.version)
    today = request.app.state.clock().date()
    return render(
        request,
        "playbook.html",
        {
            "doc": doc,
            "meta": _meta(row),
            "in_force": _meta(in_force),
            "old": in_force is None or in_force.version != row.version,
            "source": row.source,
            "may_edit": _may_edit(user),
            "notice": None,
            "duration": _duration,
            "open_hours": _open_hours,
            "words": _words,
            **_reading(doc, policy, today=today),
        },
    )


# ---- history ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One version against the one before it (or the built-in default, for the first)."""

    version: int
    name: str
    imported_at: datetime
    imported_by: str | None
    against: str
    sections: list[str]
    added: int
    removed: int
    lines: list[tuple[str, str]]  # (kind, text): kind is add, del, hunk, file or same
    cut: int  # lines of the diff left out


def _kind(line: str, *, header: bool) -> str:
    if header:
        return "file"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    return "same"


def diff_lines(before: str, after: str, *, old: str, new: str) -> list[tuple[str, str]]:
    """A unified diff of two texts, each line with its kind (add, del, hunk, file, same)."""
    diff = difflib.unified_diff(
        before.splitlines(), after.splitlines(), fromfile=old, tofile=new, lineterm="", n=2
    )
    # Only the first two lines name the files: a removed "--" line also starts with "---".
    return [(_kind(line, header=i < 2), line) for i, line in enumerate(diff)]


def _sections(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The top-level sections whose meaning changed (a comment or spacing changes none)."""
    keys = list(PlaybookDoc.model_fields)
    return [k for k in keys if before.get(k) != after.get(k)]


def _changes(session: Session) -> list[Change]:
    rows = playbooks.list_versions(session)  # newest first
    default_text = playbooks.default_source()
    default_doc = playbooks.parse_document(default_text).model_dump(mode="json")
    out: list[Change] = []
    for i, row in enumerate(rows):
        previous = rows[i + 1] if i + 1 < len(rows) else None
        old_text = previous.source if previous is not None else default_text
        old_doc = previous.document if previous is not None else default_doc
        against = f"version {previous.version}" if previous is not None else "the built-in default"
        lines = diff_lines(old_text, row.source, old=against, new=f"version {row.version}")
        out.append(
            Change(
                version=row.version,
                name=row.name,
                imported_at=row.imported_at,
                imported_by=row.imported_by,
                against=against,
                sections=_sections(old_doc, row.document),
                added=sum(1 for kind, _ in lines if kind == "add"),
                removed=sum(1 for kind, _ in lines if kind == "del"),
                lines=lines[:DIFF_LINES],
                cut=max(0, len(lines) - DIFF_LINES),
            )
        )
    return out


@router.get("/playbook/history", response_class=HTMLResponse)
def history_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    return render(
        request,
        "playbook_history.html",
        {"changes": _changes(session), "may_edit": _may_edit(user), "words": _words},
    )


# ---- editing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a problem is in the submitted text: its line (1-based), path and the line itself."""

    line: int
    column: int | None
    path: str | None  # the place in the document, for a problem with a section's content
    problem: str
    excerpt: str


_AT_LINE = re.compile(r"^line (\d+)(?:, column (\d+))?: (.*)$", re.DOTALL)


def _line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The line of the deepest node along `loc` that the document has (keys' own lines)."""
    node = root
    line = None
    for part in loc:
        found: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    found, line = value, key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            found = node.value[part]
            line = found.start_mark.line + 1
        if found is None:
            break
        node = found
    return line


def problem_places(text: str, detail: str) -> list[Place]:
    """The places a refused playbook's problems point at, each with its line of the text."""
    lines = text.splitlines()

    def excerpt(line: int) -> str:
        return lines[line - 1].rstrip()[:200] if 0 < line <= len(lines) else ""

    at = _AT_LINE.match(detail)
    if at is not None:
        number = int(at.group(1))
        column = int(at.group(2)) if at.group(2) else None
        return [Place(number, column, None, at.group(3), excerpt(number))]
    if not detail.startswith("playbook is not valid"):
        return []
    # Read again here only to learn where each problem sits: the service has already refused
    # aliases and bad YAML, so this parse succeeds and costs no more than the import did.
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        PlaybookDoc.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        places = []
        for error in exc.errors()[:10]:
            loc = tuple(error["loc"])
            line = _line_of(root, loc) if loc else None
            if line is not None:
                path = ".".join(str(p) for p in loc)
                places.append(Place(line, None, path, error["msg"], excerpt(line)))
        return places
    except yaml.YAMLError:
        return []
    return []


def _editor(
    request: Request,
    session: Session,
    *,
    source: str,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    row = playbooks.active_playbook(session)
    return render(
        request,
        "playbook_edit.html",
        {
            "meta": _meta(row),
            "source": source,
            "error": error,
            "places": problem_places(source, error) if error else [],
            "example": playbooks.example_source(),
            "max_bytes": playbooks.MAX_PLAYBOOK_BYTES,
        },
        status_code=status,
    )


@router.post("/playbook/versions/{number}/restore", response_class=HTMLResponse)
def restore_version(
    request: Request, session: SessionDep, user: CheckedUser, _lead: LeadUser, number: str
) -> Response:
    """A lead puts an earlier version back in force. One that today's rules refuse opens in
    the editor with its problems marked, to be mended and saved."""
    row = playbooks.get_version(session, _version_number(number))
    current = playbooks.active_playbook(session)
    if current is not None and current.checksum == row.checksum:
        return RedirectResponse("/playbook?done=same", status_code=303)
    try:
        with session.begin_nested():
            playbooks.restore_version(
                session, row.version, now=request.app.state.clock(), actor=user.email
            )
    except InvalidInput as exc:
        return _editor(request, session, source=row.source, error=exc.detail, status=422)
    return RedirectResponse("/playbook?done=restored", status_code=303)


@router.get("/playbook/edit", response_class=HTMLResponse)
def edit_page(request: Request, session: SessionDep, _lead: LeadUser) -> HTMLResponse:
    return _editor(request, session, source=playbooks.export_source(session))


def _lines(text: str) -> str:
    """Browsers send a textarea's lines ended by CRLF; the playbook keeps LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@router.post("/playbook/edit", response_class=HTMLResponse)
def save_playbook(
    request: Request,
    session: SessionDep,
    user: CheckedUser,
    _lead: LeadUser,
    source: Annotated[str, Form()] = "",
) -> Response:
    text = _lines(source)
    current = playbooks.active_playbook(session)
    if current is not None and _lines(current.source) == text:
        return RedirectResponse("/playbook?done=same", status_code=303)
    try:
        # A savepoint: a refused import leaves nothing behind.
        with session.begin_nested():
            row = playbooks.import_playbook(
                session, text, now=request.app.state.clock(), actor=user.email
            )
    except InvalidInput as exc:
        return _editor(request, session, source=text, error=exc.detail, status=422)
    done = "same" if current is not None and row.id == current.id else "saved"
    return RedirectResponse(f"/playbook?done={done}", status_code=303)
