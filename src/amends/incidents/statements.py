"""Public statements for an incident, one per tier, drafted from the same facts. No IO.

Every statement says what happened, who is affected, what we are doing, the apology, what will
change and how to reach us, in the register of its medium: a social post within X's length, a
blog post under headings, a press release in the third person. They are drafted from one set of
facts, so they never contradict each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from amends.incidents.rules import TIER_ORDER, Tier
from amends.replies.checker import x_length

SOCIAL_LIMIT = 280

_TOPICS = {
    "billing": "payments and charges",
    "refunds": "refunds",
    "delivery_delay": "deliveries",
    "wrong_or_damaged_item": "orders that arrived wrong or damaged",
    "product_defect": "a product fault",
    "app_or_website_fault": "our app and website",
    "account_access": "signing in to accounts",
    "waiting_no_response": "getting an answer from us",
    "staff_behaviour": "how customers were treated",
    "unwanted_marketing": "messages customers did not ask for",
    "cancellation": "cancellations",
}


@dataclass(frozen=True)
class IncidentFacts:
    title: str
    customers: int
    opened_at: datetime
    contact: str
    category: str | None = None
    what_happened: str | None = None
    who_is_affected: str | None = None
    what_we_are_doing: str | None = None
    what_will_change: str | None = None
    resolved: bool = False
    brand: str = "we"  # the company's name for the press release; "we" elsewhere


def _sentence(text: str) -> str:
    text = " ".join(text.split()).rstrip(".")
    return text[:1].upper() + text[1:] + "."


def _parts(f: IncidentFacts) -> dict[str, str]:
    topic = _TOPICS.get(f.category or "", "our service")
    return {
        "happened": _sentence(
            f.what_happened
            or f"Since {f.opened_at:%H:%M UTC on %-d %B}, many of you have had trouble with {topic}"
        ),
        "affected": _sentence(
            f.who_is_affected
            or f"{f.customers} customer{'s have' if f.customers != 1 else ' has'} told us so far"
        ),
        "doing": _sentence(
            f.what_we_are_doing
            or (
                "The fix is in place and we are writing to each of you personally"
                if f.resolved
                else "We are on it, with an update here within 2 hours"
            )
        ),
        "change": _sentence(f.what_will_change) if f.what_will_change else "",
        "contact": _sentence(f"To reach us, {f.contact}"),
        "topic": topic,
    }


def social_post(f: IncidentFacts) -> str:
    """A short post: within X's 280 characters, dropping the least needed parts to fit."""
    p = _parts(f)
    opening = "We're sorry. That's on us."
    candidates = [
        [
            p["happened"],
            opening,
            p["doing"],
            p["change"],
            p["contact"],
            "Thank you for telling us.",
        ],
        [p["happened"], opening, p["doing"], p["contact"], "Thank you for telling us."],
        [p["happened"], opening, p["doing"], p["contact"]],
        [
            f"We're sorry about the trouble with {p['topic']}; that's on us.",
            p["doing"],
            p["contact"],
        ],
    ]
    for parts in candidates:
        text = " ".join(x for x in parts if x)
        if x_length(text) <= SOCIAL_LIMIT:
            return text
    return text[: SOCIAL_LIMIT - 1].rsplit(" ", 1)[0] + "…"


def blog_post(f: IncidentFacts) -> str:
    p = _parts(f)
    sections = [
        f"# {f.title}",
        f"## What happened\n\n{p['happened']}",
        f"## Who is affected\n\n{p['affected']}",
        f"## What we are doing\n\n{p['doing']}",
        "## Our apology\n\nWe're sorry. This was our failure, not yours, and we let you down. "
        "Thank you to everyone who told us; it is how we found it so quickly.",
    ]
    if p["change"]:
        sections.append(f"## What will change\n\n{p['change']}")
    sections.append(f"## How to reach us\n\n{p['contact']}")
    return "\n\n".join(sections)


def press_release(f: IncidentFacts) -> str:
    p = _parts(f)
    who = f.brand if f.brand != "we" else "The company"
    paragraphs = [
        f"{f.title}",
        f"{f.opened_at:%-d %B %Y}. {who} apologises to its customers for problems with "
        f"{p['topic']}. {p['happened']}",
        p["affected"],
        p["doing"],
        '"We\'re sorry. We got this wrong, and it is ours to put right," said a spokesperson. '
        '"Thank you to every customer who told us."',
    ]
    if p["change"]:
        paragraphs.append(p["change"])
    paragraphs.append(p["contact"])
    return "\n\n".join(paragraphs)


_BY_TIER = {
    Tier.SOCIAL_POST: social_post,
    Tier.BLOG_POST: blog_post,
    Tier.PRESS_RELEASE: press_release,
}


def statements(facts: IncidentFacts, tier: Tier) -> dict[Tier, str]:
    """Every statement the tier calls for: a press release comes with a blog post and a social
    post, a blog post with a social post; individual replies need none."""
    upto = TIER_ORDER[1 : TIER_ORDER.index(tier) + 1]
    return {t: _BY_TIER[t](facts) for t in upto}
