"""The dashboard: the desk's figures over a window of whole UTC days, per day or per week, for
every team or one, as headline cards, charts with their numbers in tables beside them, and the
same figures as CSV and JSON downloads.

An agent sees the teams they work in and, of the coaching figures, their own row and their
teams' total; leads and admins see every team and every agent."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from amends.api.deps import SessionDep
from amends.errors import Forbidden, InvalidInput
from amends.incidents import service as incidents
from amends.incidents.rules import IncidentStatus
from amends.reports.dashboard import Dashboard, Durations, dashboard, window_durations
from amends.reports.rules import percent
from amends.teams.models import Team
from amends.users.rules import Role
from amends.users.service import Principal
from amends.web.auth import CurrentUser
from amends.web.render import render

router = APIRouter(include_in_schema=False)

RANGES = ("7", "30", "90")  # the last N days, today included
DATES = "dates"  # the window is the from-to dates
DEFAULT_RANGE = "30"
# Dates outside these make no sense for a desk, and the year 9999 overflows a day later.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)
OPEN_INCIDENTS_SHOWN = 5
TOP_RULES = 3


@dataclass(frozen=True)
class Window:
    """What the dashboard shows: whole UTC days first..last, in buckets, for a team or all."""

    range: str  # one of RANGES, or DATES
    first: date
    last: date  # inclusive
    bucket: Literal["day", "week"]
    team_id: int | None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    def query(self) -> str:
        """The query string that shows this window again (for the download links)."""
        params = {"range": self.range}
        if self.range == DATES:
            params |= {"from": self.first.isoformat(), "to": self.last.isoformat()}
        params["bucket"] = self.bucket
        if self.team_id is not None:
            params["team"] = str(self.team_id)
        return urlencode(params)

    def to_dict(self) -> dict[str, Any]:
        return {
            "range": self.range,
            "first_day": self.first.isoformat(),
            "last_day": self.last.isoformat(),
            "bucket": self.bucket,
            "team_id": self.team_id,
        }


def _day(text: str, which: str) -> date:
    try:
        found = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"the {which} is not a date: write it as YYYY-MM-DD") from None
    if not FIRST_DAY <= found <= LAST_DAY:
        raise InvalidInput(f"the {which} must fall between {FIRST_DAY} and {LAST_DAY}")
    return found


def parse_window(form: Mapping[str, str], *, today: date) -> Window:
    """The window the query asks for; InvalidInput, in words for the person, when it cannot
    be read. Dates without a range mean the dates."""
    chosen = form["range"] or (DATES if form["from"] or form["to"] else DEFAULT_RANGE)
    if chosen in RANGES:
        first, last = today - timedelta(days=int(chosen) - 1), today
    elif chosen == DATES:
        if not form["from"]:
            raise InvalidInput("choose the first day of the window, or the last 7, 30 or 90 days")
        first = _day(form["from"], "first day")
        last = _day(form["to"], "last day") if form["to"] else today
        if first > last:
            raise InvalidInput(f"the first day ({first}) is after the last day ({last})")
    else:
        raise InvalidInput("the window must be the last 7, 30 or 90 days, or chosen dates")
    bucket = form["bucket"] or "day"
    if bucket not in ("day", "week"):
        raise InvalidInput("figures are shown per day or per week")
    team_id = None
    if form["team"]:
        if not form["team"].isdigit() or len(form["team"]) > 18:
            raise InvalidInput("choose a team from the list")
        team_id = int(form["team"])
    return Window(chosen, first, last, "week" if bucket == "week" else "day", team_id)


def _teams(session: Session, user: Principal) -> list[tuple[int, str]]:
    """The teams this person may choose from, by name."""
    query = select(Team.id, Team.name).order_by(Team.name, Team.id)
    if user.team_ids is not None:
        query = query.where(Team.id.in_(sorted(user.team_ids)))
    return [(team_id, name) for team_id, name in session.execute(query)]


def _scope(
    user: Principal, window: Window, teams: Sequence[tuple[int, str]]
) -> frozenset[int] | None:
    """The teams whose figures count: the one chosen, or all this person sees."""
    if window.team_id is None:
        return user.team_ids
    if user.team_ids is not None and window.team_id not in user.team_ids:
        raise Forbidden("you see the figures of your own teams only")
    if window.team_id not in {team_id for team_id, _ in teams}:
        raise InvalidInput("there is no such team: choose one from the list")
    return frozenset({window.team_id})


# ---- the figures ---------------------------------------------------------------------------


def _total(values: Sequence[Sequence[int]], size: int) -> list[int]:
    return [sum(v[i] for v in values) for i in range(size)]


def _per_reply(findings: Sequence[int], replies: Sequence[int]) -> list[float | None]:
    return [round(f / r, 2) if r else None for f, r in zip(findings, replies, strict=True)]


def _coaching_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """An agent's (or the total's) series with its sums over the window added."""
    replies, findings = sum(row["replies"]), sum(row["findings"])
    rules = Counter({s["key"]: sum(s["values"]) for s in row["by_rule"]})
    return {
        **row,
        "window": {
            "replies": replies,
            "findings": findings,
            "overridden": sum(row["overridden"]),
            "findings_per_reply": round(findings / replies, 2) if replies else None,
            "top_rules": [
                [rule, n]
                for rule, n in sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_RULES]
                if n
            ],
        },
    }


def _coaching(user: Principal, coaching: Mapping[str, Any], size: int) -> dict[str, Any]:
    """Every agent for a lead; for an agent, their own row. Both get the total of everyone
    counted, which for an agent is their teams' total."""
    agents: list[dict[str, Any]] = coaching["agents"]
    by_rule: dict[str, list[int]] = {}
    for agent in agents:
        for s in agent["by_rule"]:
            sums = by_rule.setdefault(s["key"], [0] * size)
            for i, n in enumerate(s["values"]):
                sums[i] += n
    replies = _total([a["replies"] for a in agents], size)
    findings = _total([a["findings"] for a in agents], size)
    total = {
        "replies": replies,
        "findings": findings,
        "overridden": _total([a["overridden"] for a in agents], size),
        "findings_per_reply": _per_reply(findings, replies),
        "by_rule": [
            {"key": key, "values": values}
            for key, values in sorted(by_rule.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
        ],
    }
    everyone = user.at_least(Role.LEAD)
    shown = agents if everyone else [a for a in agents if a["agent_id"] == user.agent_id]
    return {
        "every_agent": everyone,
        "agents": [_coaching_row(a) for a in shown],
        "total": _coaching_row(total),
        "unattributed_findings": coaching["unattributed_findings"],
    }


def _durations(found: Durations) -> dict[str, Any]:
    return {
        "cases": found.count[0],
        "median_hours": found.median_hours[0],
        "p90_hours": found.p90_hours[0],
    }


def _headline(
    board: Dashboard, first_response: Durations, resolution: Durations, open_incidents: int
) -> dict[str, Any]:
    met, breached = sum(board.sla.met), sum(board.sla.breached)
    answered, good = sum(board.recovery.answered), sum(board.recovery.good)
    resolved, reopened = sum(board.reopen.resolved), sum(board.reopen.reopened)
    return {
        "feedback": sum(board.volume.total),
        "first_response": _durations(first_response),
        "resolution": _durations(resolution),
        "sla": {
            "met": met,
            "judged": met + breached,
            "running": sum(board.sla.running),
            "attainment_pct": percent(met, met + breached),
        },
        "recovery": {"answered": answered, "good": good, "rate_pct": percent(good, answered)},
        "reopen": {
            "resolved": resolved,
            "reopened": reopened,
            "rate_pct": percent(reopened, resolved),
        },
        "spend": [
            {
                "currency": c.currency,
                "offers_made": sum(c.offers_made),
                "spend": str(sum(c.spend, Decimal("0.00"))),
                "fixes": str(sum(c.fixes_amount, Decimal("0.00"))),
            }
            for c in board.compensation
        ],
        "open_incidents": open_incidents,
    }


def figures(
    session: Session,
    user: Principal,
    window: Window,
    *,
    now: datetime,
    teams: Sequence[tuple[int, str]] | None = None,
) -> dict[str, Any]:
    """Everything the page, its charts and the downloads show, as plain JSON values; `teams`:
    those this person may choose from, when the caller has read them already."""
    scope = _scope(user, window, _teams(session, user) if teams is None else teams)
    board = dashboard(
        session, start=window.start, end=window.end, bucket=window.bucket, team_ids=scope, now=now
    )
    first_response, resolution = window_durations(
        session, start=window.start, end=window.end, team_ids=scope
    )
    latest, open_count = incidents.list_incidents(
        session, status=IncidentStatus.OPEN, limit=OPEN_INCIDENTS_SHOWN
    )
    data = board.to_dict()
    data["window"] = window.to_dict()
    data["coaching"] = _coaching(user, data["coaching"], len(board.labels))
    data["headline"] = _headline(board, first_response, resolution, open_count)
    data["open_incidents"] = [
        {
            "id": i.id,
            "title": i.title,
            "tier": i.tier.value,
            "customers": i.customers,
            "opened_at": i.opened_at.isoformat(),
        }
        for i in latest
    ]
    return data


# ---- words for the page --------------------------------------------------------------------


def hours(value: float | None) -> str:
    """A duration given in hours, in the unit that reads best."""
    if value is None:
        return "—"
    if value < 1:
        return f"{round(value * 60)} min"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} days"


def number(value: float | str | None, suffix: str = "") -> str:
    return "—" if value is None else f"{value}{suffix}"


def _listed(series: Sequence[Mapping[str, Any]], most: int = 5) -> str:
    parts = [f"{s['key']} {sum(s['values'])}" for s in series[:most]]
    if len(series) > most:
        parts.append(f"and {len(series) - most} more")
    return ", ".join(parts)


def summaries(data: Mapping[str, Any]) -> dict[str, str]:
    """One sentence per chart for screen readers: what it draws and the window's figures."""
    per = "per week" if data["bucket"] == "week" else "per day"
    span = f"from {data['window']['first_day']} to {data['window']['last_day']}"
    head = data["headline"]
    volume = data["volume"]
    scored = data["sentiment"]["scored"]
    means = data["sentiment"]["mean_score"]
    weighted = sum(m * n for m, n in zip(means, scored, strict=True) if m is not None)
    mean = round(weighted / sum(scored), 2) if sum(scored) else None
    fr, res, sla = head["first_response"], head["resolution"], head["sla"]
    rec, reo = head["recovery"], head["reopen"]
    spend = ", ".join(f"{s['currency']} {s['spend']}" for s in head["spend"]) or "nothing"
    coaching = data["coaching"]
    agents = ", ".join(
        f"{a['name']} {a['window']['findings']} findings in {a['window']['replies']} replies"
        for a in coaching["agents"][:8]
    )
    return {
        "volume-channel": f"Stacked bars of incoming feedback {per} by channel, {span}: "
        f"{head['feedback']} items; {_listed(volume['by_channel']) or 'none'}.",
        "volume-category": f"Stacked bars of incoming feedback {per} by category, {span}: "
        f"{_listed(volume['by_category']) or 'none'}.",
        "sentiment": f"Line of the mean sentiment {per}, from -1 (negative) to 1 (positive), "
        f"{span}: {number(mean)} over {sum(scored)} scored items.",
        "first-response": f"Lines of the median and 90th percentile hours to the first "
        f"response {per}, {span}: median {hours(fr['median_hours'])}, 90th percentile "
        f"{hours(fr['p90_hours'])}, over {fr['cases']} cases.",
        "resolution": f"Lines of the median and 90th percentile hours to resolution {per}, "
        f"{span}: median {hours(res['median_hours'])}, 90th percentile "
        f"{hours(res['p90_hours'])}, over {res['cases']} cases.",
        "sla": f"Line of SLA attainment {per} in percent, {span}: {sla['met']} of "
        f"{sla['judged']} clocks met ({number(sla['attainment_pct'], ' %')}).",
        "rates": f"Lines of the recovery rate and the reopen rate {per} in percent, {span}: "
        f"recovery {number(rec['rate_pct'], ' %')} of {rec['answered']} survey answers, "
        f"reopened {number(reo['rate_pct'], ' %')} of {reo['resolved']} resolved cases.",
        "compensation": f"Bars of compensation spend {per}, one colour per currency, {span}: "
        f"{spend}.",
        "coaching": f"Lines of the reply checker's findings {per}, one per agent, {span}: "
        f"{agents or 'no agent sent a reply'}; all together "
        f"{coaching['total']['window']['findings']} findings in "
        f"{coaching['total']['window']['replies']} replies.",
    }


# ---- the routes ----------------------------------------------------------------------------


def _form(range_: str, from_: str, to: str, bucket: str, team: str) -> dict[str, str]:
    # Values come back into the form as typed; long ones are cut, they cannot be right anyway.
    return {
        "range": range_.strip()[:20],
        "from": from_.strip()[:20],
        "to": to.strip()[:20],
        "bucket": bucket.strip()[:20],
        "team": team.strip()[:20],
    }


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    range_: Annotated[str, Query(alias="range")] = "",
    from_: Annotated[str, Query(alias="from")] = "",
    to: str = "",
    bucket: str = "",
    team: str = "",
) -> HTMLResponse:
    now: datetime = request.app.state.clock()
    form = _form(range_, from_, to, bucket, team)
    teams = _teams(session, user)
    context: dict[str, Any] = {
        "form": form,
        "teams": teams,
        "ranges": RANGES,
        "every_team": user.team_ids is None,
        "no_team": user.team_ids is not None and not user.team_ids,
        "hours": hours,
        "number": number,
    }
    try:
        window = parse_window(form, today=now.astimezone(UTC).date())
        data = figures(session, user, window, now=now, teams=teams)
    except InvalidInput as exc:
        context |= {"error": exc.detail[:1].upper() + exc.detail[1:] + ".", "data": None}
        return render(request, "dashboard.html", context, status_code=422)
    team_name = dict(teams).get(window.team_id) if window.team_id is not None else None
    context |= {
        "form": {
            **form,
            "range": window.range,
            "from": window.first.isoformat(),
            "to": window.last.isoformat(),
            "bucket": window.bucket,
        },
        "window": window,
        "team_name": team_name,
        "data": data,
        "summaries": summaries(data),
        "query": window.query(),
    }
    return render(request, "dashboard.html", context)


def _download(
    request: Request, session: Session, user: Principal, form: dict[str, str]
) -> tuple[Window, dict[str, Any]]:
    now: datetime = request.app.state.clock()
    window = parse_window(form, today=now.astimezone(UTC).date())
    return window, figures(session, user, window, now=now)


def _filename(window: Window, suffix: str) -> str:
    return f"amends-dashboard-{window.first.isoformat()}-{window.last.isoformat()}.{suffix}"


@router.get("/dashboard.json")
def dashboard_json(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    range_: Annotated[str, Query(alias="range")] = "",
    from_: Annotated[str, Query(alias="from")] = "",
    to: str = "",
    bucket: str = "",
    team: str = "",
) -> JSONResponse:
    window, data = _download(request, session, user, _form(range_, from_, to, bucket, team))
    return JSONResponse(
        data,
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(window, "json")}"',
            "Cache-Control": "no-store",
        },
    )


# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(text: str) -> str:
    """A name or a category as a spreadsheet shows it, never as a formula it runs."""
    return "'" + text if text.startswith(_FORMULA) else text


def csv_rows(data: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(figure, key, values per bucket) for every series the dashboard holds."""
    volume, sentiment, sla = data["volume"], data["sentiment"], data["sla"]
    yield "feedback", "", volume["total"]
    for s in volume["by_channel"]:
        yield "feedback_by_channel", s["key"], s["values"]
    for s in volume["by_category"]:
        yield "feedback_by_category", s["key"], s["values"]
    yield "sentiment_scored_items", "", sentiment["scored"]
    yield "sentiment_mean", "", sentiment["mean_score"]
    for name in ("first_response", "resolution"):
        yield f"{name}_cases", "", data[name]["count"]
        yield f"{name}_median_hours", "", data[name]["median_hours"]
        yield f"{name}_p90_hours", "", data[name]["p90_hours"]
    for field in ("met", "breached", "running", "attainment_pct"):
        yield f"sla_{field}", "", sla[field]
    for field in ("answered", "good", "rate_pct"):
        yield f"recovery_{field}", "", data["recovery"][field]
    for field in ("resolved", "reopened", "rate_pct"):
        yield f"reopen_{field}", "", data["reopen"][field]
    for c in data["compensation"]:
        for field in ("offers_made", "made_amount", "accepted_amount", "spend", "fixes_amount"):
            yield f"compensation_{field}", c["currency"], c[field]
    coaching = data["coaching"]
    for agent in coaching["agents"]:
        for field in ("replies", "findings", "overridden", "findings_per_reply"):
            yield f"coaching_{field}", agent["email"], agent[field]
        for s in agent["by_rule"]:
            yield "coaching_findings_by_rule", f"{agent['email']} {s['key']}", s["values"]
    total = coaching["total"]
    for field in ("replies", "findings", "overridden", "findings_per_reply"):
        yield f"coaching_total_{field}", "", total[field]
    yield "coaching_unattributed_findings", "", coaching["unattributed_findings"]


@router.get("/dashboard.csv")
def dashboard_csv(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    range_: Annotated[str, Query(alias="range")] = "",
    from_: Annotated[str, Query(alias="from")] = "",
    to: str = "",
    bucket: str = "",
    team: str = "",
) -> Response:
    window, data = _download(request, session, user, _form(range_, from_, to, bucket, team))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("figure", "key", "bucket_start", "value"))
    for figure, key, values in csv_rows(data):
        for label, value in zip(data["labels"], values, strict=True):
            writer.writerow((figure, _text_cell(key), label, "" if value is None else value))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(window, "csv")}"',
            "Cache-Control": "no-store",
        },
    )
