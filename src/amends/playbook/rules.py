"""The playbook as plain data that the clocks, the assigner and the escalations read. No IO."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from amends.cases.rules import CaseStatus, Clock
from amends.feedback.rules import Channel
from amends.incidents.rules import IncidentPolicy, Threshold, Tier
from amends.offers.rules import Compensation
from amends.playbook.schemas import (
    DAYS,
    CalendarDoc,
    CheckerDoc,
    CompensationDoc,
    IncidentsDoc,
    PlaybookDoc,
    ProblemsDoc,
    TargetsDoc,
)
from amends.problems.rules import ProblemPolicy
from amends.replies.rules import DEFAULT_RULES, CheckerRules, RuleText, Severity
from amends.sla.holidays import public_holidays
from amends.sla.rules import BusinessCalendar, parse_duration, parse_hours

# Public holidays are expanded for these years around today when a playbook is loaded.
HOLIDAY_YEARS = range(date.today().year - 1, date.today().year + 4)  # noqa: DTZ011


@dataclass(frozen=True)
class Targets:
    first_response: timedelta
    next_response: timedelta
    resolution: timedelta
    calendar: str

    def of(self, clock: Clock) -> timedelta:
        return {
            Clock.FIRST_RESPONSE: self.first_response,
            Clock.NEXT_RESPONSE: self.next_response,
            Clock.RESOLUTION: self.resolution,
        }[clock]


@dataclass(frozen=True)
class EscalationLevel:
    level: int
    after: timedelta
    notify: tuple[str, ...]
    reassign_to: str | None
    raise_priority: bool


@dataclass(frozen=True)
class TeamRule:
    name: str
    calendar: str
    lead: str | None
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    """What one playbook version decides. `version` 0 is the built-in default."""

    version: int
    calendars: Mapping[str, BusinessCalendar]
    sla_calendar: str
    warn_at: float
    pause_on: frozenset[CaseStatus]
    targets: Mapping[str, Targets]
    public_targets: Mapping[str, Targets]
    channel_targets: Mapping[tuple[Channel, str], Targets]
    teams: Mapping[str, TeamRule]  # by lower-case name
    owners: Mapping[str, str]  # category -> team name
    default_team: str | None
    escalation: tuple[EscalationLevel, ...]
    auto_assign: bool
    respect_hours: bool
    followup_delay: timedelta
    survey: str
    survey_expires: timedelta
    close_without_answer: bool
    guidance: Mapping[str, str] = field(default_factory=dict)
    checker: CheckerRules = field(default_factory=CheckerRules)
    compensation: Compensation = field(default_factory=Compensation)
    incidents: IncidentPolicy = field(default_factory=IncidentPolicy)
    problems: ProblemPolicy = field(default_factory=ProblemPolicy)

    def targets_for(self, priority: str | None, channel: Channel, public: bool) -> Targets:
        """The most specific targets: this channel's, else public ones, else the priority's."""
        p = priority if priority is not None and priority in self.targets else "P3"
        return (
            self.channel_targets.get((channel, p))
            or (self.public_targets.get(p) if public else None)
            or self.targets[p]
        )

    def calendar(self, name: str | None) -> BusinessCalendar:
        return self.calendars.get(name or self.sla_calendar) or self.calendars[self.sla_calendar]

    def owner(self, category: str | None) -> str | None:
        return self.owners.get(category or "") or self.default_team


def _calendar(name: str, doc: CalendarDoc) -> BusinessCalendar:
    if doc.hours == "24/7":
        hours = BusinessCalendar.always().hours
    else:
        hours = tuple(parse_hours(doc.hours.get(day, "closed")) for day in DAYS)
    closed = set(doc.holidays.dates)
    if doc.holidays.country:
        closed |= public_holidays(
            doc.holidays.country, subdivision=doc.holidays.subdivision, years=HOLIDAY_YEARS
        )
    return BusinessCalendar(name=name, tz=doc.timezone, hours=hours, holidays=frozenset(closed))


def _targets(doc: TargetsDoc, base: Targets | None, default_calendar: str) -> Targets:
    """A partial table entry filled in from the priority's base targets."""

    def pick(value: str | int | float | None, fallback: timedelta | None) -> timedelta:
        if value is not None:
            return parse_duration(value)
        assert fallback is not None  # the schema demands full base targets
        return fallback

    return Targets(
        first_response=pick(doc.first_response, base.first_response if base else None),
        next_response=pick(doc.next_response, base.next_response if base else None),
        resolution=pick(doc.resolution, base.resolution if base else None),
        calendar=doc.calendar or (base.calendar if base else default_calendar),
    )


def _checker(doc: CheckerDoc) -> CheckerRules:
    rules = dict(DEFAULT_RULES)
    for rule, text in doc.rules.items():
        base = rules[rule]
        rules[rule] = RuleText(
            severity=Severity(text.severity) if text.severity else base.severity,
            message=text.message or base.message,
            suggestion=text.suggestion or base.suggestion,
        )
    defaults = CheckerRules()
    return CheckerRules(
        rules=rules,
        channel_limits={**defaults.channel_limits, **doc.channel_limits},
        stock_phrases=tuple(doc.stock_phrases),
        near_copy=doc.near_copy,
    )


def _compensation(doc: CompensationDoc) -> Compensation:
    base = Compensation()
    return Compensation(
        currency=doc.currency,
        monthly_budget=doc.monthly_budget,
        sign_of_apology_from=doc.sign_of_apology_from,
        amounts={**base.amounts, **doc.amounts},
        multipliers={**base.multipliers, **doc.multipliers},
        high_value_over=doc.high_value_over,
        caps={**base.caps, **{str(role): cap for role, cap in doc.caps.items()}},
        remedies={**base.remedies, **{c: tuple(r) for c, r in doc.remedies.items()}},
        perk=doc.perk,
        voucher_expires=parse_duration(doc.voucher_expires_after),
    )


def _incidents(doc: IncidentsDoc) -> IncidentPolicy:
    tiers = dict(IncidentPolicy().tiers)
    tiers.update({Tier(name): Threshold(t.customers, t.reach) for name, t in doc.tiers.items()})
    return IncidentPolicy(
        window=parse_duration(doc.window),
        history=parse_duration(doc.history),
        every=parse_duration(doc.every),
        min_count=doc.min_count,
        min_ratio=doc.min_ratio,
        alpha=doc.alpha,
        cooldown=parse_duration(doc.cooldown),
        keys=tuple(doc.keys),
        tiers=tiers,
        similarity=doc.similarity,
        contact=doc.contact,
    )


def _problems(doc: ProblemsDoc) -> ProblemPolicy:
    return ProblemPolicy(
        window=parse_duration(doc.window),
        recurring_window=parse_duration(doc.recurring_window),
        recurring_min=doc.recurring_min,
        alpha=doc.alpha,
    )


def build_policy(doc: PlaybookDoc, *, version: int) -> Policy:
    """Turn a validated playbook document into the rules the desk runs on."""
    calendars = {name: _calendar(name, c) for name, c in doc.calendars.items()}
    calendars.setdefault("24/7", BusinessCalendar.always())
    cal = doc.sla.calendar
    base = {p: _targets(t, None, cal) for p, t in doc.sla.targets.items()}
    public = {p: _targets(t, base[p], cal) for p, t in doc.sla.public.items()}
    by_channel = {
        (channel, p): _targets(t, base[p], cal)
        for channel, table in doc.sla.channels.items()
        for p, t in table.items()
    }
    teams = {
        t.name.lower(): TeamRule(
            name=t.name,
            calendar=t.calendar or cal,
            lead=t.lead.lower() if t.lead else None,
            categories=tuple(t.categories),
        )
        for t in doc.teams
    }
    owners = {c: t.name for t in doc.teams for c in t.categories}
    default_team = next(
        (
            t.name
            for t in doc.teams
            if doc.default_team and t.name.lower() == doc.default_team.lower()
        ),
        None,
    )
    escalation = tuple(
        EscalationLevel(
            level=i,
            after=parse_duration(e.after),
            notify=tuple(n.lower() for n in e.notify),
            reassign_to=e.reassign_to.lower() if e.reassign_to else None,
            raise_priority=e.raise_priority,
        )
        for i, e in enumerate(doc.escalation, 1)
    )
    return Policy(
        version=version,
        calendars=calendars,
        sla_calendar=cal,
        warn_at=doc.sla.warn_at,
        pause_on=frozenset(doc.sla.pause_on),
        targets=base,
        public_targets=public,
        channel_targets=by_channel,
        teams=teams,
        owners=owners,
        default_team=default_team,
        escalation=escalation,
        auto_assign=doc.assignment.auto,
        respect_hours=doc.assignment.respect_hours,
        followup_delay=parse_duration(doc.follow_up.delay),
        survey=doc.follow_up.survey,
        survey_expires=parse_duration(doc.follow_up.expires_after),
        close_without_answer=doc.follow_up.close_without_answer,
        guidance=dict(doc.guidance),
        checker=_checker(doc.checker),
        compensation=_compensation(doc.compensation),
        incidents=_incidents(doc.incidents),
        problems=_problems(doc.problems),
    )
