"""The composer: a public reply and a private apology drafted from a case's facts. No IO.

A draft is built from parts (greeting, the problem in the customer's words, apology, ownership,
empathy, the fix or two options, a sign of apology, what will change, thanks), and each part has
several wordings. Which wording a draft takes is decided by the case and an attempt number, so
two customers with the same problem read different letters, and the same case drafts the same
way twice. The service checks each draft and asks for the next attempt if the checker blocks it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from amends.offers.rules import RemedyKind

ATTEMPTS = 8  # wordings the service tries before it falls back to the plainest one


@dataclass(frozen=True)
class Perk:
    kind: RemedyKind
    amount: Decimal | None
    currency: str


@dataclass(frozen=True)
class DraftFacts:
    """What the composer may say. Everything comes from the case, the customer and the playbook."""

    case_id: int
    complaint: str  # what the customer wrote, newest message last
    public: bool
    channel: str  # the channel key the checker's limits use: "x", "email", "review:google-play"
    customer_name: str | None = None  # as the customer writes it
    customer_handle: str | None = None  # "@AnaLopez", for a public reply on a social network
    category: str | None = None
    evidence: Sequence[str] = ()  # the words that raised the severity: "charged twice"
    emotion: str | None = None  # the strongest of anger, frustration, sadness, fear
    severity: int = 2
    fix: RemedyKind | None = None  # the one remedy that puts it right, if there is one
    options: Sequence[RemedyKind] = ()  # two or more when there is no single fix
    perk: Perk | None = None  # a sign of apology, when the policy gives one
    change: str | None = None  # what will change, when the root cause is known
    customer_since: int | None = None  # the year, for a loyal customer
    earlier_complaints: int = 0
    agent_name: str | None = None
    team_name: str | None = None
    private_route: str = "a direct message"  # where the public reply invites the customer
    public_limit: int | None = None  # characters the public channel allows


@dataclass(frozen=True)
class Draft:
    public: str | None
    private: str


def _pick(options: Sequence[str], facts: DraftFacts, slot: str, attempt: int) -> str:
    seed = f"{facts.case_id}|{facts.customer_name or facts.customer_handle or ''}|{slot}|{attempt}"
    digest = hashlib.blake2b(seed.encode(), digest_size=8).digest()
    return options[int.from_bytes(digest, "big") % len(options)]


# ---- the problem in the customer's own words --------------------------------------------------

_FLIP = {
    "i": "you",
    "i'm": "you're",
    "im": "you're",
    "i've": "you've",
    "ive": "you've",
    "i'd": "you'd",
    "i'll": "you'll",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "am": "are",
    "was": "were",
    "you": "we",
    "you're": "we're",
    "youre": "we're",
    "you've": "we've",
    "you'd": "we'd",
    "you'll": "we'll",
    "your": "our",
    "yours": "ours",
    "yourself": "ourselves",
    "u": "we",
    "ur": "our",
}
_OBJECT_AFTER = re.compile(
    r"^(?:to|for|with|at|from|by|about|of|on|told|gave|sent|charged|asked|called|emailed|"
    r"promised|owe|owed|contacted|let|left|made|cost|ignored|helped|paid)$"
)
_TOKEN = re.compile(r"[A-Za-z']+|[^A-Za-z']+")
_GREETING = re.compile(
    r"^\s*(?:(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b[^,.!?\n]*[,.!]?\s*)",
    re.IGNORECASE,
)
# Handles, links and word hashtags go; "#NW-55123" is an order number and stays whole.
_MENTION_OR_LINK = re.compile(r"@\w+|https?://\S+|www\.\S+|#[A-Za-z_]+\b(?![\d-])")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_COMPLAINT_WORDS = re.compile(
    r"\b(?:not|never|no|nobody|still|again|twice|wrong|broken|damaged|late|missing|charged|"
    r"refund|cancel\w*|crash\w*|fail\w*|error|waiting|waited|lost|stuck|can't|cannot|won't|"
    r"doesn't|didn't|haven't|hasn't|isn't|wasn't|rude|overcharged|delayed|locked|unable)\b",
    re.IGNORECASE,
)
_TAIL = re.compile(
    r"(?:[,;-]\s*|\s+)(?:please|pls|plz|help|can you|could you|thanks|thank you|asap|smh|"
    r"wtf|ugh|fix (?:it|this|that)|sort (?:it|this)|sort it out|now)\b.*$",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|my|me|we|our|us)\b", re.IGNORECASE)
# A clause that can follow "You told us that": it starts with its subject.
_SUBJECT = re.compile(
    r"^(?:we|you|your|our|the|it|this|that|there|my|his|her|their|a|an|nobody|no one|"
    r"someone|everyone|[A-Z]\w+)\b"
)
# Customers often leave the subject out: "Still waiting for my refund", "Been charged twice".
_SUBJECTLESS = (
    (re.compile(r"^(?:still|\w+ing)\b"), "you're"),
    (re.compile(r"^been\b"), "you've"),
    (
        re.compile(
            r"^(?:have|had|can't|cannot|couldn't|didn't|never|got|received|ordered|paid|bought|"
            r"returned|tried|called|waited|sent|asked)\b"
        ),
        "you",
    ),
)
_SHOUTED = re.compile(r"\b[A-Z]{4,}\b")
_PRIVATE = re.compile(r"\S+@\S+|\d{4,}|#\w+")


def _flip(clause: str) -> str:
    """First person to second and back: "you charged me twice" -> "we charged you twice"."""
    out: list[str] = []
    previous = ""
    for token in _TOKEN.findall(clause):
        low = token.lower()
        if low in _FLIP:
            word = _FLIP[low]
            if low in ("you", "u") and _OBJECT_AFTER.match(previous):
                word = "us"
            if low == "was" and previous not in ("i", "you"):
                word = token  # "the parcel was late" keeps its verb
            if low == "am" and previous != "i":
                word = token
            out.append(word)
        else:
            out.append(token)
        if token.strip():
            previous = low
    return "".join(out)


def _calm(text: str) -> str:
    """Their words without shouting, links, handles or repeated punctuation."""
    text = _MENTION_OR_LINK.sub("", text)
    text = _SHOUTED.sub(lambda m: m.group().lower(), text)
    text = re.sub(r"([!?.])[!?.]+", r"\1", text)
    return " ".join(text.split())


def problem_in_their_words(complaint: str, evidence: Sequence[str] = (), limit: int = 160) -> str:
    """The sentence of the complaint that says what went wrong, turned towards them ("you")."""
    text = _calm(complaint)
    sentences = [s.strip(" ,;:-") for s in _SENTENCE.findall(text)]
    sentences = [_GREETING.sub("", s).strip(" ,;:-") for s in sentences]
    sentences = [s for s in sentences if len(s.split()) >= 3 and not s.endswith("?")]
    if not sentences:
        return ""

    def substance(sentence: str) -> int:
        low = sentence.lower()
        return sum(e.lower() in low for e in evidence) * 3 + len(_COMPLAINT_WORDS.findall(sentence))

    def score(sentence: str) -> float:
        mine = 1 if _FIRST_PERSON.search(sentence) else 0
        return substance(sentence) + mine - len(sentence) / 400

    sentences = [s for s in sentences if substance(s) > 0 and len(s.split()) >= 4]
    if not sentences:
        return ""  # nothing that says what went wrong: better their topic than a vague line
    best = max(sentences, key=score)
    best = _TAIL.sub("", best.rstrip(".!"))
    if len(best) > limit:
        cut = best[:limit]
        at = max(cut.rfind(","), cut.rfind(" and "), cut.rfind(" but "), cut.rfind(";"))
        if at < 15:
            return ""
        best = cut[:at]
    flipped = _flip(best).strip(" ,;:-")
    flipped = flipped[:1].lower() + flipped[1:]
    if _SUBJECT.match(flipped):
        return flipped
    for pattern, subject in _SUBJECTLESS:
        if pattern.match(flipped):
            return f"{subject} {flipped}"
    return ""


_TOPIC: dict[str, str] = {
    "billing": "the charge on your account",
    "refunds": "your refund",
    "delivery_delay": "your late delivery",
    "wrong_or_damaged_item": "the item that reached you",
    "product_defect": "the fault with your product",
    "app_or_website_fault": "the trouble with our app and website",
    "account_access": "getting into your account",
    "waiting_no_response": "being kept waiting for an answer",
    "staff_behaviour": "the way you were treated",
    "unwanted_marketing": "the messages you did not want",
    "cancellation": "your cancellation",
}


_MY_THING = re.compile(
    r"\bmy ((?:new |old )?[a-z]{3,20}(?: (?:account|order|card|app|bill|plan))?)\b"
)
_NOT_THINGS = frozenset(
    [
        "own",
        "self",
        "name",
        "fault",
        "mind",
        "life",
        "god",
        "goodness",
        "word",
        "husband",
        "wife",
        "son",
        "daughter",
        "friend",
        "kids",
    ]
)


def topic(facts: DraftFacts) -> str:
    """A few words for what went wrong: the thing they call "my ...", else the category's."""
    for m in _MY_THING.finditer(_calm(facts.complaint).lower()):
        thing = m.group(1)
        if thing.split()[-1] not in _NOT_THINGS and not _PRIVATE.search(thing):
            return f"the trouble with your {thing}"
    return _TOPIC.get(facts.category or "", "what happened")


# ---- the parts --------------------------------------------------------------------------------

_REMEDY_WORDS: dict[RemedyKind, str] = {
    RemedyKind.REFUND: "a full refund",
    RemedyKind.REPLACEMENT: "a replacement, sent by express delivery at our cost",
    RemedyKind.DISCOUNT: "a discount on your next order",
    RemedyKind.VOUCHER: "a voucher",
    RemedyKind.FREE_MONTHS: "free months on your plan",
    RemedyKind.GIFT: "a gift from us",
}
_FIX_DONE: dict[RemedyKind, str] = {
    RemedyKind.REFUND: "I'm arranging a full refund today; you will see it within 5 working days.",
    RemedyKind.REPLACEMENT: (
        "I'm sending a replacement today by express delivery, at our cost; it should reach you "
        "within 2 working days."
    ),
    RemedyKind.DISCOUNT: "I'm adding a discount to your next order today.",
    RemedyKind.VOUCHER: "I'm sending you a voucher today.",
    RemedyKind.FREE_MONTHS: "I'm adding free months to your plan today.",
    RemedyKind.GIFT: "I'm sending you a gift from us today.",
}


def _money(perk: Perk) -> str:
    if perk.amount is None:
        return ""
    symbol = {"GBP": "£", "USD": "$", "EUR": "€"}.get(perk.currency)
    amount = f"{perk.amount:,.2f}".removesuffix(".00")
    return f"{symbol}{amount}" if symbol else f"{amount} {perk.currency}"


def _perk_words(perk: Perk) -> str:
    money = _money(perk)
    kind = {
        RemedyKind.VOUCHER: f"a {money} voucher" if money else "a voucher",
        RemedyKind.DISCOUNT: f"{money} off your next order" if money else "a discount",
        RemedyKind.FREE_MONTHS: f"free months on your plan worth {money}"
        if money
        else "free months",
        RemedyKind.GIFT: f"a gift worth {money}" if money else "a small gift",
        RemedyKind.REFUND: f"a {money} credit" if money else "a credit",
        RemedyKind.REPLACEMENT: "a replacement",
    }
    return kind[perk.kind]


_GREET = ("Hi {n},", "Hello {n},", "Dear {n},", "{n}, hello.", "Hi {n} -")
_GREET_NO_NAME = ("Hello,", "Hi there,", "Good day,")
_ACK = (
    "You told us that {p}.",
    "I've read your message: {p}.",
    "I understand that {p}.",
    "Thank you for writing to tell us that {p}.",
    "From your message I can see that {p}.",
)
_ACK_TOPIC = (
    "I've read your message about {t}.",
    "Thank you for writing to us about {t}.",
    "Your message about {t} reached me, and I've read it carefully.",
)
_APOLOGY = (
    "I'm sorry.",
    "I am truly sorry for this.",
    "Please accept my apology.",
    "I apologise for this.",
    "I'm very sorry about this.",
)
_OWN = (
    "That's on us, and I'm taking care of it myself.",
    "We got this wrong.",
    "This was our mistake, not yours.",
    "We let you down here, and I want to put it right.",
    "That should not have happened, and it was our doing.",
)
_EMPATHY: dict[str, tuple[str, ...]] = {
    "anger": (
        "You have every reason to be angry.",
        "I understand why you're angry.",
        "Anyone would be angry after this.",
    ),
    "frustration": (
        "I can see how frustrating this has been.",
        "It must have been maddening to deal with.",
        "I know how frustrating this is.",
    ),
    "sadness": (
        "I can hear how disappointing this has been for you.",
        "I know this spoiled something that mattered to you.",
    ),
    "fear": (
        "I understand how worrying this must have been.",
        "I know this will have been a worry, and I want to settle it quickly.",
    ),
}
_EMPATHY_PLAIN = (
    "I understand how this must have felt.",
    "I know this is not what you expected from us.",
    "I can see why this upset you.",
)
_OPTIONS = (
    "There are two ways I can put this right: {a}. Which would you prefer?",
    "I'd like you to choose how we put this right: {a}. Just tell me which suits you.",
    "I can offer you {a}. Let me know which you would like.",
)
_OPTIONS_AFTER = (
    "Reply to this message and I'll set it up today.",
    "As soon as you reply I'll arrange it, the same day.",
    "Once you tell me, I'll have it done within one working day.",
)
_PERK = (
    "I'd also like to offer you {k}, as a token of goodwill.",
    "I'd also like you to have {k}, however you choose to go on.",
    "With this letter comes {k}; it is yours either way.",
)
_LOYAL = (
    "You've been with us since {y}, and you deserve better than this.",
    "You have trusted us since {y}; I don't take that lightly.",
)
_REPEAT = (
    "I know this is not the first time you've had to contact us, and that makes it worse.",
    "I can see you've had to write to us before, which should never be necessary.",
)
_CHANGE = (
    "So that it does not happen again, {c}.",
    "We are also fixing the cause: {c}.",
    "What will change: {c}.",
)
_THANKS = (
    "Thank you for telling us; it helps us put this right for other customers too.",
    "Thank you for taking the time to write to us.",
    "Thank you for letting us know; I'll see this through myself.",
    "Thanks for raising this with us; I'm glad you did.",
)
_SIGN = ("Best wishes,", "Kind regards,", "Yours,", "Warm regards,", "All the best,")


def _join_options(options: Sequence[RemedyKind]) -> str:
    words = [_REMEDY_WORDS[o] for o in options]
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]


def private_apology(facts: DraftFacts, attempt: int = 0, *, plain: bool = False) -> str:
    """The personal apology. `plain` leaves out the customer's own words (a fallback)."""

    def pick(options: Sequence[str], slot: str) -> str:
        if facts.agent_name is None:  # signed by a team: no "I'll see this through myself"
            options = [o for o in options if "myself" not in o] or list(options)
        return _pick(options, facts, slot, attempt)

    first = (facts.customer_name or "").split()[0] if facts.customer_name else None
    greeting = pick(_GREET, "greet").format(n=first) if first else pick(_GREET_NO_NAME, "greet")
    problem = "" if plain else problem_in_their_words(facts.complaint, facts.evidence)
    if problem:
        ack = pick(_ACK, "ack").format(p=problem)
    else:
        ack = pick(_ACK_TOPIC, "ack").format(t=topic(facts))
    empathy = pick(_EMPATHY.get(facts.emotion or "", _EMPATHY_PLAIN), "empathy")
    body = [ack, pick(_APOLOGY, "apology"), pick(_OWN, "own"), empathy]
    if facts.customer_since is not None:
        body.append(pick(_LOYAL, "loyal").format(y=facts.customer_since))
    elif facts.earlier_complaints:
        body.append(pick(_REPEAT, "repeat"))
    fix_lines: list[str] = []
    if facts.fix is not None:
        fix_lines.append(_FIX_DONE[facts.fix])
    elif len(facts.options) >= 2:
        fix_lines.append(pick(_OPTIONS, "options").format(a=_join_options(facts.options[:3])))
        fix_lines.append(pick(_OPTIONS_AFTER, "options_after"))
    else:
        fix_lines.append(
            "I'll call or write to you within one working day with what I have done about it."
        )
    if facts.perk is not None:
        fix_lines.append(pick(_PERK, "perk").format(k=_perk_words(facts.perk)))
    if facts.change:
        fix_lines.append(pick(_CHANGE, "change").format(c=facts.change.rstrip(".")))
    sign = pick(_SIGN, "sign")
    signer = facts.agent_name or (f"The {facts.team_name} team" if facts.team_name else None)
    paragraphs = [
        greeting,
        " ".join(body),
        " ".join(fix_lines),
        pick(_THANKS, "thanks"),
        f"{sign}\n{signer}" if signer else sign,
    ]
    return "\n\n".join(paragraphs)


_PUBLIC_OPEN = (
    "{h}{n}we're sorry {p}. That's on us.",
    "{h}{n}I'm sorry {p}; we got this wrong.",
    "{h}{n}sorry {p}. This was our mistake.",
    "{h}{n}we're so sorry {p} - that's our fault.",
)
_PUBLIC_MOVE = (
    "Please send us {r} so we can put it right today.",
    "Could you send us {r}? We'll sort it out with you there today.",
    "Please reach us by {r} and we'll fix this with you today.",
)
_PUBLIC_THANKS = (
    "Thanks for telling us.",
    "Thank you for flagging this.",
    "Thanks for raising it.",
)


def public_reply(facts: DraftFacts, attempt: int = 0, *, plain: bool = False) -> str:
    """A short public answer: acknowledge, apologise, own it, move to a private channel."""
    handle = f"{facts.customer_handle} " if facts.customer_handle else ""
    first = (facts.customer_name or "").split()[0] if facts.customer_name else None
    name = f"{first}, " if first else ""
    if not handle and not first:
        name = ""
    clause = "" if plain else _short_problem(facts)
    about = f"that {clause}" if clause else f"about {topic(facts)}"
    opening = _pick(_PUBLIC_OPEN, facts, "public_open", attempt)
    text = opening.format(h=handle, n=name, p=about)
    text = text[0].upper() + text[1:] if not handle else text
    move = _pick(_PUBLIC_MOVE, facts, "public_move", attempt).format(r=facts.private_route)
    thanks = _pick(_PUBLIC_THANKS, facts, "public_thanks", attempt)
    limit = facts.public_limit
    for parts in ([text, move, thanks], [text, move]):
        candidate = " ".join(parts)
        if limit is None or len(candidate) <= limit:
            return candidate
    if clause:
        return public_reply(facts, attempt, plain=True)
    return " ".join([text, move])


def _short_problem(facts: DraftFacts) -> str:
    """A few of their words for a public reply, never with anything private in them."""
    phrase = problem_in_their_words(facts.complaint, facts.evidence, limit=90)
    if not phrase or _PRIVATE.search(phrase):
        return ""
    if not re.match(r"^(?:we|you|your|our|the|it|this)\b", phrase):
        return ""  # it must read as a clause after "sorry that"
    return phrase


def compose(facts: DraftFacts, attempt: int = 0, *, plain: bool = False) -> Draft:
    return Draft(
        public=public_reply(facts, attempt, plain=plain) if facts.public else None,
        private=private_apology(facts, attempt, plain=plain),
    )
