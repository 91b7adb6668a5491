"""/api/v1/incidents."""

from __future__ import annotations

from fastapi import APIRouter

from amends.api.auth import ActingDep
from amends.api.deps import ClockDep, IdPath, PageDep, SessionDep, actor
from amends.api.paging import PageOf
from amends.incidents import service
from amends.incidents.rules import IncidentStatus, Tier
from amends.incidents.schemas import (
    CasesIn,
    IncidentDetail,
    IncidentIn,
    IncidentRead,
    IncidentUpdate,
    ResolveIn,
    Statement,
)
from amends.playbook.service import active_policy

router = APIRouter(tags=["incidents"])


def _detail(session: SessionDep, incident_id: int) -> IncidentDetail:
    row = service.get_incident(session, incident_id)
    return IncidentDetail(
        **IncidentRead.model_validate(row).model_dump(),
        cases=service.case_ids(session, incident_id),
        timeline=[
            {"at": e.at, "kind": e.kind, "actor": e.actor, "text": e.text, "data": e.data}
            for e in service.timeline(session, incident_id)
        ],
    )


@router.post("/incidents/detect", summary="Look for spikes now")
def detect(session: SessionDep, clock: ClockDep) -> list[dict[str, object]]:
    from amends.incidents.flows import detect as run

    return run(session, now=clock(), policy=active_policy(session))


@router.get("/incidents", summary="Incidents, newest first")
def list_incidents(
    session: SessionDep, page: PageDep, status: IncidentStatus | None = None
) -> PageOf[IncidentRead]:
    rows, total = service.list_incidents(
        session, status=status, limit=page.limit, offset=page.offset
    )
    return PageOf(
        items=[IncidentRead.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/incidents", status_code=201, summary="Open an incident by hand")
def open_incident(
    body: IncidentIn, session: SessionDep, clock: ClockDep, acting: ActingDep
) -> IncidentDetail:
    row = service.open_incident(
        session,
        title=body.title,
        now=clock(),
        actor=actor(acting(body.agent)),
        policy=active_policy(session),
        cases=body.cases,
    )
    return _detail(session, row.id)


@router.get("/incidents/{incident_id}", summary="An incident with its cases and timeline")
def get_incident(incident_id: IdPath, session: SessionDep) -> IncidentDetail:
    return _detail(session, incident_id)


@router.post("/incidents/{incident_id}/cases", summary="Link cases")
def add_cases(
    incident_id: IdPath,
    body: CasesIn,
    session: SessionDep,
    clock: ClockDep,
    acting: ActingDep,
) -> IncidentDetail:
    service.add_cases(
        session,
        incident_id,
        body.cases,
        how="hand",
        actor=actor(acting(body.agent)),
        now=clock(),
        policy=active_policy(session),
    )
    return _detail(session, incident_id)


@router.post("/incidents/{incident_id}/updates", summary="Post an update, set the facts")
def update(
    incident_id: IdPath,
    body: IncidentUpdate,
    session: SessionDep,
    clock: ClockDep,
    acting: ActingDep,
) -> IncidentDetail:
    service.update(
        session,
        incident_id,
        actor=actor(acting(body.agent)),
        now=clock(),
        text=body.text,
        title=body.title,
        what_happened=body.what_happened,
        who_is_affected=body.who_is_affected,
        what_we_are_doing=body.what_we_are_doing,
        what_will_change=body.what_will_change,
        problem_id=body.problem_id,
    )
    return _detail(session, incident_id)


@router.get("/incidents/{incident_id}/statements", summary="The public statements for its tier")
def statements(
    incident_id: IdPath, session: SessionDep, tier: Tier | None = None
) -> dict[str, Statement]:
    drafts = service.drafted_statements(
        session, incident_id, policy=active_policy(session), tier=tier
    )
    return {k: Statement.model_validate(v) for k, v in drafts.items()}


@router.post("/incidents/{incident_id}/resolve", summary="Resolve; write to every customer")
def resolve(
    incident_id: IdPath,
    body: ResolveIn,
    session: SessionDep,
    clock: ClockDep,
    acting: ActingDep,
) -> dict[str, object]:
    return service.resolve(
        session,
        incident_id,
        actor=actor(acting(body.agent)),
        now=clock(),
        policy=active_policy(session),
        text=body.text,
    )
