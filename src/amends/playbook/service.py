"""Importing, versioning and reading the playbook. Services flush; callers commit."""

from __future__ import annotations

import hashlib
from datetime import datetime
from importlib import resources
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amends.errors import InvalidInput, NotFound
from amends.playbook.models import Playbook
from amends.playbook.rules import Policy, build_policy
from amends.playbook.schemas import PlaybookDoc
from amends.teams.models import Agent, Team

MAX_PLAYBOOK_BYTES = 1_000_000


def default_source() -> str:
    return resources.files("amends.playbook").joinpath("default.yaml").read_text("utf-8")


def example_source() -> str:
    return resources.files("amends.playbook").joinpath("example.yaml").read_text("utf-8")


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(document)"


def parse_document(text: str) -> PlaybookDoc:
    """Validate a playbook written in YAML (or JSON, which is YAML too). Every problem is named
    with its place in the document."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PLAYBOOK_BYTES:
        raise InvalidInput(f"playbook is larger than {MAX_PLAYBOOK_BYTES:,} bytes")
    try:
        # Anchors and aliases are refused: a few lines of them can expand to gigabytes.
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                line = mark.line + 1 if mark else "?"
                raise InvalidInput(f"line {line}: YAML aliases (*name) are not allowed")
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise InvalidInput(f"{where}{problem}") from None
    if not isinstance(raw, dict):
        raise InvalidInput("a playbook is a mapping of sections (calendars, teams, sla, ...)")
    try:
        return PlaybookDoc.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_where(e['loc'])}: {e['msg']}" for e in exc.errors()[:10]]
        more = len(exc.errors()) - len(problems)
        raise InvalidInput(
            "playbook is not valid: " + "; ".join(problems) + (f" (+{more} more)" if more else "")
        ) from None


_policies: dict[tuple[int, str], Policy] = {}


def _policy_for(version: int, checksum: str, document: dict[str, Any]) -> Policy:
    key = (version, checksum)
    if key not in _policies:
        if len(_policies) > 16:
            _policies.clear()
        _policies[key] = build_policy(PlaybookDoc.model_validate(document), version=version)
    return _policies[key]


def active_playbook(session: Session) -> Playbook | None:
    return session.scalar(select(Playbook).order_by(Playbook.version.desc()).limit(1))


def active_policy(session: Session) -> Policy:
    """The rules in force: the newest imported playbook, else the built-in default."""
    row = session.execute(
        select(Playbook.version, Playbook.checksum).order_by(Playbook.version.desc()).limit(1)
    ).first()
    if row is None:
        return _policy_for(0, "default", _default_document())
    version, checksum = row
    key = (version, checksum)
    if key in _policies:
        return _policies[key]
    document = session.scalar(select(Playbook.document).where(Playbook.version == version))
    assert document is not None
    return _policy_for(version, checksum, document)


def _default_document() -> dict[str, Any]:
    return parse_document(default_source()).model_dump(mode="json")


def import_playbook(session: Session, text: str, *, now: datetime, actor: str | None) -> Playbook:
    """Validate and store a new version, and bring teams and agents in line with it. Importing
    the text now in force again changes nothing."""
    doc = parse_document(text)
    checksum = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    current = active_playbook(session)
    if current is not None and current.checksum == checksum:
        return current
    version = (session.scalar(select(func.max(Playbook.version))) or 0) + 1
    row = Playbook(
        version=version,
        name=doc.name,
        document=doc.model_dump(mode="json"),
        source=text,
        checksum=checksum,
        imported_by=actor,
        imported_at=now,
    )
    session.add(row)
    _apply_teams(session, doc, now=now)
    session.flush()
    return row


def restore_version(
    session: Session, version: int, *, now: datetime, actor: str | None
) -> Playbook:
    """Put an earlier version back in force: its text is imported again as a new version, so
    the history keeps every step. It is checked against today's rules like any import."""
    return import_playbook(session, get_version(session, version).source, now=now, actor=actor)


def _apply_teams(session: Session, doc: PlaybookDoc, *, now: datetime) -> None:
    """Teams and agents named in the playbook exist, with its hours and capacities. Agents and
    teams it does not name are left as they are."""
    teams = {t.name.lower(): t for t in session.scalars(select(Team))}
    agents = {a.email: a for a in session.scalars(select(Agent))}
    for team_doc in doc.teams:
        team = teams.get(team_doc.name.lower())
        if team is None:
            team = Team(name=team_doc.name, created_at=now)
            session.add(team)
            teams[team_doc.name.lower()] = team
        team.calendar = team_doc.calendar
        for a in team_doc.agents:
            email = a.email.lower()
            agent = agents.get(email)
            if agent is None:
                agent = Agent(name=a.name, email=email, created_at=now)
                session.add(agent)
                agents[email] = agent
            agent.name = a.name
            agent.team = team
            agent.capacity = a.capacity
            agent.calendar = a.calendar
            agent.active = a.active
    session.flush()
    for team_doc in doc.teams:
        lead = agents.get(team_doc.lead.lower()) if team_doc.lead else None
        teams[team_doc.name.lower()].lead_id = lead.id if lead else None


def get_version(session: Session, version: int | None) -> Playbook:
    row = (
        active_playbook(session)
        if version is None
        else session.scalar(select(Playbook).where(Playbook.version == version))
    )
    if row is None:
        raise NotFound("playbook version", version if version is not None else "(none imported)")
    return row


def export_source(session: Session, version: int | None = None) -> str:
    """The playbook as it was written (comments kept); the built-in default if none was
    imported."""
    if version is None and active_playbook(session) is None:
        return default_source()
    return get_version(session, version).source


def list_versions(session: Session) -> list[Playbook]:
    return list(session.scalars(select(Playbook).order_by(Playbook.version.desc())))


def document_json(session: Session) -> dict[str, Any]:
    row = active_playbook(session)
    return row.document if row is not None else _default_document()
