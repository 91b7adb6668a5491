"""The playbook document: what a YAML (or JSON) playbook may say, validated field by field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from amends.cases.rules import PRIORITIES, CaseStatus
from amends.feedback.rules import Channel
from amends.offers.rules import CustomerValue, RemedyKind
from amends.replies.rules import RuleId, Severity
from amends.sla.rules import parse_duration, parse_hours

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A duration as written in YAML: "30m", "4h", "1d 4h", "PT4H"; a bare number means minutes.
Duration = Annotated[str | int | float, Field(description='a duration: "30m", "4h", "1d 4h"')]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error, not ignored


def _check_duration(value: str | int | float) -> str | int | float:
    parse_duration(value)
    return value


class HolidaysDoc(_Doc):
    country: str | None = Field(None, description="ISO country code: public holidays, e.g. GB")
    subdivision: str | None = Field(None, description="state or region code, e.g. ENG, CA")
    dates: list[date] = Field(default_factory=list, description="extra closed days")


class CalendarDoc(_Doc):
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        """A zone the clocks can count in: a misspelt one would stop every clock later."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as Europe/London"
            ) from None
        return value

    hours: dict[str, str] | Literal["24/7"] = Field(
        default_factory=lambda: dict.fromkeys(DAYS[:5], "09:00-17:00"),
        description='per day ("mon": "09:00-17:00", "sat": "closed"), or "24/7"',
    )
    holidays: HolidaysDoc = Field(default_factory=HolidaysDoc)

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, str] | str) -> dict[str, str] | str:
        if isinstance(value, str):
            return value
        for day, spec in value.items():
            if day not in DAYS:
                raise ValueError(f"unknown day {day!r}: use {', '.join(DAYS)}")
            parse_hours(spec)
        return value


class AgentDoc(_Doc):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    capacity: int = Field(10, ge=0, le=10_000, description="open cases at once")
    calendar: str | None = Field(None, description="working hours; default: the team's")
    active: bool = True


class TeamDoc(_Doc):
    name: str = Field(min_length=1, max_length=100)
    calendar: str | None = Field(None, description="working hours; default: sla.calendar")
    categories: list[str] = Field(default_factory=list, description="categories it owns")
    lead: str | None = Field(None, description="the lead's email; escalations reach them")
    agents: list[AgentDoc] = Field(default_factory=list)


class TargetsDoc(_Doc):
    first_response: Duration | None = None
    next_response: Duration | None = None
    resolution: Duration | None = None
    calendar: str | None = Field(None, description="count in this calendar (e.g. 24/7 for P1)")

    @field_validator("first_response", "next_response", "resolution")
    @classmethod
    def _durations(cls, value: str | int | float | None) -> str | int | float | None:
        return None if value is None else _check_duration(value)


class SlaDoc(_Doc):
    calendar: str = Field("office", description="the calendar clocks count in by default")
    warn_at: float = Field(0.75, gt=0, lt=1, description="share of the time before a warning")
    pause_on: list[CaseStatus] = Field(
        default_factory=lambda: [CaseStatus.WAITING_ON_CUSTOMER],
        description="statuses that stop the clocks",
    )
    targets: dict[str, TargetsDoc]
    public: dict[str, TargetsDoc] = Field(
        default_factory=dict, description="tighter targets for public complaints, by priority"
    )
    channels: dict[Channel, dict[str, TargetsDoc]] = Field(
        default_factory=dict, description="targets for one channel, by priority"
    )

    @field_validator("pause_on")
    @classmethod
    def _pausable(cls, value: list[CaseStatus]) -> list[CaseStatus]:
        bad = [s.value for s in value if s in (CaseStatus.RESOLVED, CaseStatus.CLOSED)]
        if bad:
            raise ValueError(f"a finished case has no running clock: {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _priorities(self) -> SlaDoc:
        tables = [("targets", self.targets), ("public", self.public)]
        tables += [(f"channels.{c.value}", t) for c, t in self.channels.items()]
        for where, table in tables:
            unknown = sorted(set(table) - set(PRIORITIES))
            if unknown:
                raise ValueError(f"{where}: unknown priority {unknown[0]!r}; use P1..P4")
        for p in PRIORITIES:
            base = self.targets.get(p)
            if base is None or None in (base.first_response, base.next_response, base.resolution):
                raise ValueError(f"targets.{p} needs first_response, next_response and resolution")
        return self


class EscalationDoc(_Doc):
    after: Duration = Field("0m", description="after the breach (wall-clock time)")
    notify: list[str] = Field(
        default_factory=lambda: ["assignee", "team_lead"],
        description='"assignee", "team_lead", "team:<name>" or an agent\'s email',
    )
    reassign_to: str | None = Field(
        None, description='"team_lead", "team:<name>" or an agent\'s email'
    )
    raise_priority: bool = False

    @field_validator("after")
    @classmethod
    def _after(cls, value: str | int | float) -> str | int | float:
        return _check_duration(value)


class FollowUpDoc(_Doc):
    delay: Duration = Field("2d", description="after resolution (wall-clock time)")
    survey: Literal["csat", "nps"] = "csat"
    expires_after: Duration = Field("14d", description="how long the survey link works")
    close_without_answer: bool = Field(True, description="close the case when the link expires")

    @field_validator("delay", "expires_after")
    @classmethod
    def _durations(cls, value: str | int | float) -> str | int | float:
        return _check_duration(value)


class AssignmentDoc(_Doc):
    auto: bool = Field(True, description="assign new cases within the owning team")
    respect_hours: bool = Field(True, description="only to agents on shift now")


class CheckRuleDoc(_Doc):
    severity: Severity | None = Field(None, description="block, warn, info or off")

    @field_validator("severity", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        return "off" if value is False else value  # YAML reads a bare `off` as false

    message: str | None = Field(None, min_length=1, max_length=500)
    suggestion: str | None = Field(None, min_length=1, max_length=500)


class CheckerDoc(_Doc):
    rules: dict[RuleId, CheckRuleDoc] = Field(
        default_factory=dict, description="per rule id: its severity and wording"
    )
    channel_limits: dict[str, int] = Field(
        default_factory=dict,
        description='characters a reply may have: by channel ("x") or "review:<platform>"',
    )
    stock_phrases: list[Annotated[str, Field(min_length=3, max_length=200)]] = Field(
        default_factory=list, description="the team's own canned phrases to flag"
    )
    near_copy: float = Field(
        0.9, gt=0.5, le=1.0, description="similarity to a reply sent to someone else"
    )

    @field_validator("channel_limits")
    @classmethod
    def _limits(cls, value: dict[str, int]) -> dict[str, int]:
        channels = {c.value for c in Channel}
        for key, limit in value.items():
            if key.split(":", 1)[0] not in channels:
                raise ValueError(f"unknown channel {key!r}: use a channel or review:<platform>")
            if not 20 <= limit <= 100_000:
                raise ValueError(f"{key}: a limit between 20 and 100000 characters")
        return value


Money = Annotated[Decimal, Field(ge=0, le=1_000_000, decimal_places=2)]


class CompensationDoc(_Doc):
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    monthly_budget: Money | None = Field(None, description="spend above it needs a lead")
    sign_of_apology_from: int = Field(
        3, ge=1, le=5, description="severity from which a reply carries a perk (5: never)"
    )
    amounts: dict[int, Money] = Field(
        default_factory=dict, description="value of a sign of apology by severity 1..4"
    )
    multipliers: dict[CustomerValue, Annotated[Decimal, Field(ge=0, le=10)]] = Field(
        default_factory=dict, description="by customer value: new, repeat, loyal, high_value"
    )
    high_value_over: Money | None = Field(
        Decimal(1000), description="lifetime value from which a customer is high value"
    )
    caps: dict[Literal["agent", "lead"], Money] = Field(
        default_factory=dict, description="the most each role offers without approval"
    )
    remedies: dict[str, list[RemedyKind]] = Field(
        default_factory=dict, description="per category, the fix first, then perks"
    )
    perk: RemedyKind = Field(RemedyKind.VOUCHER, description="the usual sign of apology")
    voucher_expires_after: Duration = "90d"

    @field_validator("amounts")
    @classmethod
    def _severities(cls, value: dict[int, Decimal]) -> dict[int, Decimal]:
        bad = sorted(k for k in value if k not in (1, 2, 3, 4))
        if bad:
            raise ValueError(f"unknown severity {bad[0]}: use 1..4")
        return value

    @field_validator("voucher_expires_after")
    @classmethod
    def _expiry(cls, value: str | int | float) -> str | int | float:
        return _check_duration(value)


KeyKind = Literal["category", "label", "topic", "channel"]


class ThresholdDoc(_Doc):
    customers: int | None = Field(None, ge=1, description="customers affected, at least")
    reach: int | None = Field(None, ge=1, description="or public reach (followers), at least")


class IncidentsDoc(_Doc):
    window: Duration = Field("1h", description="the window a spike is counted in")
    history: Duration = Field("28d", description="the past the baseline learns from")
    every: Duration = Field("15m", description="how often the worker looks for spikes")
    min_count: int = Field(5, ge=1, le=100_000, description="complaints in a window, at least")
    min_ratio: float = Field(3.0, ge=1, le=1000, description="times the expected count")
    alpha: float = Field(1e-4, gt=0, lt=0.5, description="Poisson tail probability")
    cooldown: Duration = Field("12h", description="before the same alarm is raised again")
    keys: list[KeyKind] = Field(
        default_factory=lambda: list(get_args(KeyKind)),
        description="what spikes are counted by",
    )
    tiers: dict[Literal["social_post", "blog_post", "press_release"], ThresholdDoc] = Field(
        default_factory=dict, description="the size from which each public response is due"
    )
    similarity: float = Field(0.6, gt=0, le=1, description="open cases this similar join")
    contact: str = Field(
        "reply to us here, or write to our support team",
        min_length=3,
        max_length=300,
        description="how people reach us, in every statement",
    )

    @field_validator("window", "history", "every", "cooldown")
    @classmethod
    def _durations(cls, value: str | int | float) -> str | int | float:
        return _check_duration(value)


class ProblemsDoc(_Doc):
    window: Duration = Field("28d", description="compared before and after a fix")
    recurring_window: Duration = Field("14d", description="recent complaints that mean a return")
    recurring_min: int = Field(3, ge=1, description="complaints in that window, at least")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="the test's significance level")

    @field_validator("window", "recurring_window")
    @classmethod
    def _durations(cls, value: str | int | float) -> str | int | float:
        return _check_duration(value)


class PlaybookDoc(_Doc):
    """The whole playbook: one document the team shares."""

    name: str = Field("playbook", max_length=200)
    calendars: dict[str, CalendarDoc] = Field(default_factory=dict)
    teams: list[TeamDoc] = Field(default_factory=list)
    default_team: str | None = Field(None, description="owns categories no team claims")
    sla: SlaDoc
    escalation: list[EscalationDoc] = Field(default_factory=list, max_length=10)
    assignment: AssignmentDoc = Field(default_factory=AssignmentDoc)
    follow_up: FollowUpDoc = Field(default_factory=FollowUpDoc)
    guidance: dict[str, str] = Field(default_factory=dict, description="per category")
    checker: CheckerDoc = Field(default_factory=CheckerDoc)
    compensation: CompensationDoc = Field(default_factory=CompensationDoc)
    incidents: IncidentsDoc = Field(default_factory=IncidentsDoc)
    problems: ProblemsDoc = Field(default_factory=ProblemsDoc)

    @model_validator(mode="after")
    def _references(self) -> PlaybookDoc:
        if self.sla.calendar == "office" and "office" not in self.calendars:
            self.calendars["office"] = CalendarDoc()  # Monday to Friday, 9 to 5, UTC
        calendars = set(self.calendars) | {"24/7"}
        named: list[tuple[str, str | None]] = [("sla.calendar", self.sla.calendar)]
        for team in self.teams:
            named.append((f"team {team.name}", team.calendar))
            named += [(f"agent {a.email}", a.calendar) for a in team.agents]
        for table in [self.sla.targets, self.sla.public, *self.sla.channels.values()]:
            named += [(f"targets {p}", t.calendar) for p, t in table.items()]
        for where, name in named:
            if name is not None and name not in calendars:
                raise ValueError(f"{where}: no calendar named {name!r}")
        teams = [t.name.lower() for t in self.teams]
        if len(set(teams)) != len(teams):
            raise ValueError("two teams with one name")
        emails = [a.email.lower() for t in self.teams for a in t.agents]
        dup = {e for e in emails if emails.count(e) > 1}
        if dup:
            raise ValueError(f"agent {sorted(dup)[0]} is listed twice")
        from amends.analysis.pipeline import Category

        known = {c.value for c in Category}
        owned: dict[str, str] = {}
        for team in self.teams:
            for category in team.categories:
                if category not in known:
                    raise ValueError(
                        f"team {team.name}: unknown category {category!r}; "
                        f"the categories are {', '.join(sorted(known))}"
                    )
                if category in owned:
                    raise ValueError(
                        f"category {category!r} is owned by {owned[category]} and {team.name}"
                    )
                owned[category] = team.name
            if team.lead and team.lead.lower() not in emails:
                raise ValueError(f"team {team.name}: lead {team.lead} is not one of the agents")
        if self.default_team and self.default_team.lower() not in teams:
            raise ValueError(f"default_team: no team named {self.default_team!r}")
        targets = [*emails, *(f"team:{t}" for t in teams), "assignee", "team_lead"]
        for i, level in enumerate(self.escalation, 1):
            for who in [*level.notify, *([level.reassign_to] if level.reassign_to else [])]:
                if who.lower() not in targets:
                    raise ValueError(f"escalation level {i}: unknown recipient {who!r}")
        return self
