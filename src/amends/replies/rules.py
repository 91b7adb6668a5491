"""The reply checker's closed sets: rule ids, severities, default wording, channel limits. No IO."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class RuleId(StrEnum):
    DEFENSIVE = "defensive"
    BLAME_SHIFTING = "blame_shifting"
    BLAMES_CUSTOMER = "blames_customer"
    OVER_EXPLAINING = "over_explaining"
    NON_APOLOGY = "non_apology"
    MISSING_APOLOGY = "missing_apology"
    MISSING_ACKNOWLEDGEMENT = "missing_acknowledgement"
    MISSING_OWNERSHIP = "missing_ownership"
    MISSING_THANKS = "missing_thanks"
    VAGUE_PROMISE = "vague_promise"
    FORM_LETTER = "form_letter"
    NAME_MISSPELLED = "name_misspelled"
    NAME_MISSING = "name_missing"
    PERK_WITHOUT_APOLOGY = "perk_without_apology"
    HOSTILE_TONE = "hostile_tone"
    GROVELLING = "grovelling"
    PRIVATE_DETAILS_IN_PUBLIC = "private_details_in_public"
    TOO_LONG_FOR_CHANNEL = "too_long_for_channel"


class Severity(StrEnum):
    BLOCK = "block"  # stops sending unless a person overrides it with a reason
    WARN = "warn"
    INFO = "info"
    OFF = "off"  # the rule does not run


@dataclass(frozen=True)
class RuleText:
    severity: Severity
    message: str
    suggestion: str


DEFAULT_RULES: Mapping[RuleId, RuleText] = {
    RuleId.DEFENSIVE: RuleText(
        Severity.BLOCK,
        "Defensive: this argues with the customer instead of owning what happened.",
        "Drop the defence; say what went wrong and what you are doing about it.",
    ),
    RuleId.BLAME_SHIFTING: RuleText(
        Severity.BLOCK,
        "Blame shifting: the customer dealt with us, not with our partners or circumstances.",
        'Own it as ours: "we let you down", then say how we will put it right.',
    ),
    RuleId.BLAMES_CUSTOMER: RuleText(
        Severity.BLOCK,
        "This puts the fault on the customer.",
        "Leave out what they should have done; explain the next step kindly instead.",
    ),
    RuleId.OVER_EXPLAINING: RuleText(
        Severity.WARN,
        "Over-explaining: a long account of why reads as an excuse.",
        "Keep one sentence of explanation at most; spend the words on the fix.",
    ),
    RuleId.NON_APOLOGY: RuleText(
        Severity.BLOCK,
        "A non-apology: it is sorry for their feelings, not for what we did.",
        'Apologise for the mistake itself: "I\'m sorry we charged you twice."',
    ),
    RuleId.MISSING_APOLOGY: RuleText(
        Severity.WARN,
        "There is no apology.",
        "Say sorry plainly, for the specific thing that went wrong.",
    ),
    RuleId.MISSING_ACKNOWLEDGEMENT: RuleText(
        Severity.WARN,
        "The customer's problem is not named.",
        "Name their problem in their own words, so they know we read it.",
    ),
    RuleId.MISSING_OWNERSHIP: RuleText(
        Severity.WARN,
        "Nobody takes ownership of the mistake.",
        'Say it was ours: "we got this wrong", "that\'s on us".',
    ),
    RuleId.MISSING_THANKS: RuleText(
        Severity.INFO,
        "No thanks for telling us.",
        "Thank them: a complaint is a chance to put things right.",
    ),
    RuleId.VAGUE_PROMISE: RuleText(
        Severity.WARN,
        "A vague promise with no next step or time.",
        'Say what happens next and when: "I\'ll call you by 3pm tomorrow."',
    ),
    RuleId.FORM_LETTER: RuleText(
        Severity.WARN,
        "Reads like a form letter.",
        "Write it for this customer: their name, their problem, your own words.",
    ),
    RuleId.NAME_MISSPELLED: RuleText(
        Severity.BLOCK,
        "The customer's name is misspelled.",
        "Spell the name exactly as the customer does.",
    ),
    RuleId.NAME_MISSING: RuleText(
        Severity.WARN,
        "A private reply that never uses the customer's name.",
        "Greet them by name.",
    ),
    RuleId.PERK_WITHOUT_APOLOGY: RuleText(
        Severity.BLOCK,
        "A perk without an apology: compensation never replaces saying sorry.",
        "Apologise first; offer the gesture as a sign of the apology.",
    ),
    RuleId.HOSTILE_TONE: RuleText(
        Severity.BLOCK,
        "Hostile tone: shouting, sarcasm or a raised voice.",
        "Write calmly: no capitals for emphasis, no sarcasm, one exclamation mark at most.",
    ),
    RuleId.GROVELLING: RuleText(
        Severity.WARN,
        "Grovelling: too many apologies sound insincere.",
        "Apologise once, sincerely, and move on to the fix.",
    ),
    RuleId.PRIVATE_DETAILS_IN_PUBLIC: RuleText(
        Severity.BLOCK,
        "Private details in a public reply.",
        "Remove them and move the conversation to a private channel.",
    ),
    RuleId.TOO_LONG_FOR_CHANNEL: RuleText(
        Severity.BLOCK,
        "Too long for this channel.",
        "Shorten it, or move the details to a private reply.",
    ),
}

# Characters a reply may have, by channel, or by "review:<platform>" for review sites.
DEFAULT_CHANNEL_LIMITS: Mapping[str, int] = {
    "x": 280,
    "review:google-play": 350,
    "review:play": 350,
    "review:app-store": 5970,
    "review:google": 4096,
    "review:trustpilot": 2500,
}


@dataclass(frozen=True)
class CheckerRules:
    """What a playbook sets for the checker; the defaults stand for what it leaves out."""

    rules: Mapping[RuleId, RuleText] = field(default_factory=lambda: dict(DEFAULT_RULES))
    channel_limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_CHANNEL_LIMITS))
    stock_phrases: tuple[str, ...] = ()  # the team's own, added to the built-in list
    near_copy: float = 0.9  # similarity to a reply sent to someone else that counts as a copy

    def text(self, rule: RuleId) -> RuleText:
        return self.rules.get(rule) or DEFAULT_RULES[rule]
