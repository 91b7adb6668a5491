"""Explainable rules over complaint text: severity factors, the remedy asked for, whether to reply.

Every rule is a table of patterns; a match keeps the words that triggered it as evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Factor(StrEnum):
    MONEY = "money"
    SAFETY = "safety"
    LEGAL = "legal"
    REPEATED = "repeated"
    IGNORED = "ignored"
    CHURN = "churn"
    VULNERABLE = "vulnerable"


class Remedy(StrEnum):
    REFUND = "refund"
    REPLACEMENT = "replacement"
    CANCELLATION = "cancellation"
    APOLOGY = "apology"
    EXPLANATION = "explanation"
    NONE = "none"


@dataclass(frozen=True)
class Match:
    """A rule that fired, with the words of the text that made it fire."""

    name: str
    evidence: str


def _rx(*alternatives: str) -> re.Pattern[str]:
    # matched against lowercased text: case-insensitive matching is three times slower
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")")


_MONEY_WORDS = r"(?:usd|eur|gbp|dollars?|pounds?|euros?|bucks)"
# "£45", "$1,200": a currency sign is not a word character, so these have no leading \b
_AMOUNT = re.compile(r"[£$€]\s?\d[\d,.]*(?:k\b)?")
FACTOR_PATTERNS: dict[Factor, re.Pattern[str]] = {
    Factor.MONEY: _rx(
        r"(?:charged|billed|debited|paid|taken|deducted)\s+(?:me\s+)?(?:twice|two times|double|"
        r"three times|again)",
        r"double[- ]?(?:charged|charge|billed|billing|payment)",
        r"(?:took|taken|take|debited|charged|billed|deducted|collected) (?:the |my |a |your )?"
        r"(?:payment|money|fee|charge|amount|subscription)s? (?:twice|two times|double|again)",
        r"charged (?:me )?(?:for|without)",
        r"(?:card|account|bank) (?:got|was|has been|been|is being) (?:charged|debited|billed)",
        r"over[- ]?charg\w*",
        r"unauthori[sz]ed (?:charge|payment|transaction|debit|withdrawal)s?",
        r"(?:charge|payment|transaction|debit)s? (?:that )?I (?:did not|didn't|never) (?:make|"
        r"authori[sz]e|recogni[sz]e)",
        r"lost (?:my |all my |the )?(?:money|savings|deposit)",
        r"(?:stole|stolen|took|taken|missing) (?:my |all my )?(?:money|funds|savings|deposit)",
        r"(?:money|funds|payment|deposit) (?:is |has |have )?(?:gone|missing|disappeared|vanished)",
        r"hidden (?:fee|charge)s?",
        r"fraud\w*",
        r"(?:out of pocket|still (?:been )?charg\w+|keep(?:s)? charging|wrong amount)",
        r"\d[\d,.]*\s?" + _MONEY_WORDS,
        _MONEY_WORDS + r"\s?\d[\d,.]*(?:k\b)?",
    ),
    Factor.SAFETY: _rx(
        r"caught (?:on )?fire",
        r"(?:burst|bursting) into flames",
        r"on fire",
        r"smok(?:e|ing|ed) (?:came|coming|from|pouring)",
        r"explod\w*",
        r"electric(?:al)? shock",
        r"electrocut\w*",
        r"allergic reaction",
        r"anaphyla\w*",
        r"food poisoning",
        r"(?:got|made me|made us|left me|was|been) (?:violently |really |very )?(?:sick|ill)",
        r"(?:in|to|went to|ended up in) (?:the )?(?:hospital|a&e|er\b|emergency room)",
        r"injur\w*",
        r"(?:cut|burn(?:ed|t)) (?:my|his|her|their) (?:hand|finger|arm|leg|face|mouth|skin)",
        r"chok(?:e|ed|ing) (?:on|hazard)",
        r"(?:glass|metal|plastic|bug|insect|hair) (?:shards? )?in (?:my|the) (?:food|meal|drink)",
        r"mou?ld(?:y)? (?:in|on|food)",
        r"(?:unsafe|dangerous|hazard(?:ous)?|safety (?:issue|risk|hazard))",
        r"gas leak",
        r"carbon monoxide",
        r"fire (?:risk|hazard)",
        r"overheat\w*",
        r"(?:got|gets|getting|became|becomes|runs) (?:very |really |extremely )?(?:hot|scorching)",
    ),
    Factor.LEGAL: _rx(
        r"(?:my |a |an |contact(?:ing)? (?:my |a )?|speak(?:ing)? to (?:my |a )?)"
        r"(?:lawyer|attorney|solicitor|legal team)s?",
        r"(?:sue|suing|lawsuit|legal action|take (?:you|this|them) to court|small claims|"
        r"class action)",
        r"(?:report(?:ing)?|complain(?:ing)?|escalat\w+) (?:you |this |it |them )?to (?:the )?"
        r"(?:fca|ombudsman|bbb|better business bureau|cfpb|ftc|trading standards|regulator|"
        r"attorney general|ofcom|ofgem|ofwat|citizens advice|consumer protection|police)",
        r"(?:fca|ombudsman|bbb|better business bureau|cfpb|ftc|trading standards|ofcom|ofgem)\b",
        r"(?:breach of contract|consumer rights act|fair credit reporting act|fcra|fdcpa|"
        r"violat\w+ (?:of )?(?:the )?(?:law|my rights))",
    ),
    Factor.REPEATED: _rx(
        r"(?:third|fourth|fifth|3rd|4th|5th|second|2nd|umpteenth|nth|\d+(?:st|nd|rd|th)) time",
        r"(?:yet )?again",
        r"(?:every|each) (?:single )?time",
        r"keeps? (?:on )?(?:happening|failing|breaking|crashing|doing this|charging|sending|"
        r"calling|cancel+ing)",
        r"(?:still|continues to|continuing to) (?:not|no|broken|happening|failing|charging|"
        r"waiting)",
        r"(?:once|twice|three times|several times|multiple times|many times|countless times|"
        r"repeatedly) (?:already|now|before|this (?:week|month|year))",
        r"(?:multiple|several|many|countless|numerous) times",
        r"repeatedly",
        r"same (?:problem|issue|thing) (?:again|as before|as last)",
        r"(?:happened|broke|failed) (?:before|last time)",
    ),
    Factor.IGNORED: _rx(
        r"(?:no one|nobody|no-one) (?:has )?(?:got(?:ten)? back|responded|replied|answer\w*|"
        r"called (?:me )?back|listens|cares|helped)",
        r"(?:never|haven't|have not|hasn't|has not|didn't|did not) (?:\w+ )?(?:heard back|"
        r"got(?:ten)? (?:a )?(?:reply|response|answer|call back)|respond\w*|repl\w+|"
        r"called (?:me )?back|got back to me)",
        r"(?:no|still no|without (?:a|any)) (?:reply|response|answer|call ?back|word)",
        r"ignor\w+",
        r"(?:still )?waiting (?:for|on) (?:a |your |an )?(?:reply|response|answer|call ?back)",
        r"(?:emailed|called|messaged|contacted|written|wrote|rang|phoned) (?:you )?(?:\w+ )?"
        r"(?:times|twice|three times|several times|repeatedly)",
        r"left on read",
    ),
    Factor.CHURN: _rx(
        r"(?:cancel+(?:ing)?|close|closing|terminate|terminating|end|ending|delete|deleting) "
        r"(?:my |our )(?:account|subscription|membership|contract|service|plan|card|policy)",
        r"(?:switch(?:ing)?|mov(?:e|ing)|go(?:ing)?|changing) (?:over )?to (?:a |an )?"
        r"(?:another|different|competitor|new (?:provider|bank|supplier))",
        r"never (?:use|buy|order|shop|fly|book|bank|stay|eat|come|deal)\w* (?:\w+ )?"
        r"(?:again|with you)",
        r"(?:take|taking) my (?:business|money|custom) (?:elsewhere|somewhere else)",
        r"(?:done|finished) with (?:you|this company|your company)",
        r"(?:last|final) (?:time|order|straw)",
        r"(?:i'm|i am|we're|we are) (?:leaving|out|gone)",
        r"lost (?:a|my|our) (?:customer|business)",
        r"(?:won't|will not|wont) be (?:back|returning|renewing|ordering|using)",
    ),
    Factor.VULNERABLE: _rx(
        r"elderly",
        r"(?:my )?(?:disab\w+|wheelchair|blind|deaf|dementia|alzheimer\w*)",
        r"pregnan\w+",
        r"chemo\w*",
        r"cancer",
        r"terminal(?:ly)? ill",
        r"(?:my )?(?:newborn|new-born|baby|infant)",
        r"(?:carer|caregiver)",
        r"(?:bereave\w+|passed away|funeral|(?:husband|wife|mother|father|mum|mom|dad|son|"
        r"daughter|partner) (?:just )?died)",
        r"(?:lost my job|unemployed|on benefits|can't afford|cannot afford|no money left|"
        r"can't pay (?:my )?rent|food bank)",
        r"(?:no heating|no heat|no hot water|no electricity|no power) (?:\w+ )?(?:with|and|for)",
        r"(?:mental health|anxiety attack|panic attack|depress\w+|suicid\w+)",
        r"vulnerable",
        r"(?:years? old|aged) (?:[89]\d|1[01]\d)",
    ),
}

# "switching to Vodafone": a capitalised name after the verb, so this one sees the original case
_CHURN_BRAND = re.compile(
    r"\b(?i:switch(?:ing)?|mov(?:e|ing)|changing) (?i:over )?to (?!The\b|I\b)[A-Z]\w+"
)

# severity: the floor each factor sets, then one step up for every further factor
FACTOR_FLOOR: dict[Factor, int] = {
    Factor.SAFETY: 4,
    Factor.LEGAL: 3,
    Factor.MONEY: 2,
    Factor.VULNERABLE: 2,
    Factor.REPEATED: 2,
    Factor.IGNORED: 2,
    Factor.CHURN: 2,
}

REMEDY_PATTERNS: dict[Remedy, re.Pattern[str]] = {
    Remedy.REFUND: _rx(
        r"refund\w*",
        r"(?:my |our |the )?money back",
        r"reimburs\w+",
        r"charge ?back",
        r"(?:pay|paid) (?:me|us) back",
        r"return (?:my|the) (?:money|payment|deposit|funds)",
        r"(?:credit|compensat\w+) (?:me|my account|us)",
        r"(?:reverse|revers\w+) (?:the |this |these )?(?:charge|payment|transaction|fee)s?",
        r"(?:remove|waive|drop) (?:the |this |these )?(?:charge|fee|late fee)s?",
    ),
    Remedy.REPLACEMENT: _rx(
        r"replac\w+",
        r"(?:send|ship|give) (?:me |us )?(?:a |another |the )?(?:new|another|correct|right|"
        r"working) (?:one|item|unit|order|\w+)",
        r"(?:resend|re-send|re-ship|reship)",
        r"exchange (?:it|this|the|for)",
        r"swap (?:it|this)",
    ),
    Remedy.CANCELLATION: _rx(
        r"cancel\w*",
        r"(?:close|terminate|end|delete) (?:my |our |the )?(?:account|subscription|membership|"
        r"contract|plan|order|policy)",
        r"unsubscribe",
        r"(?:remove|take) me (?:off|from) (?:your|the|this) (?:list|mailing)",
    ),
    Remedy.APOLOGY: _rx(
        r"(?:an|some|a proper|a real|a sincere|a formal|public) apolog\w+",
        r"apologi[sz]e",
        r"say(?:ing)? sorry",
        r"(?:owe|owes) (?:me|us) (?:an |a )?(?:apolog\w+|sorry)",
    ),
    Remedy.EXPLANATION: _rx(
        r"explain\w*",
        r"explanation",
        r"(?:want|need|like|demand) to know (?:why|what|how|when|where)",
        r"(?:tell|let) me (?:know )?(?:why|what|how|when|where)",
        r"what (?:happened|is going on|'s going on|is happening)",
        r"why (?:did|does|do|is|are|was|were|has|have|hasn't|haven't|can't|won't|would|isn't)",
        r"where (?:is|are) my",
        r"when (?:will|can|do|does|is|are) (?:i|my|it|we|you)",
    ),
}
# when several remedies are asked for, the first in this order is "the" remedy
REMEDY_ORDER: tuple[Remedy, ...] = (
    Remedy.REFUND,
    Remedy.REPLACEMENT,
    Remedy.CANCELLATION,
    Remedy.APOLOGY,
    Remedy.EXPLANATION,
)

_NEVER = re.compile(r"\b(?:never|won't|will not|wont)\b[^.!?]*$")
_NEGATED = re.compile(r"\b(?:not|no|never|don't|do not|didn't|without)\s+(?:\w+\s+){0,2}$")


def find_factors(text: str) -> list[Match]:
    """Severity factors found in the text, each with its first matching words (lowercased)."""
    low = text.lower()
    found: list[Match] = []
    for factor, pattern in FACTOR_PATTERNS.items():
        matches = list(pattern.finditer(low))
        if factor is Factor.MONEY:
            matches += list(_AMOUNT.finditer(low))
        elif factor is Factor.CHURN:
            matches += list(_CHURN_BRAND.finditer(text))
        for m in sorted(matches, key=lambda m: m.start()):
            before = low[max(0, m.start() - 40) : m.start()]
            if factor is not Factor.IGNORED and _NEGATED.search(before[-20:]):
                continue
            # "never again" is a threat to leave, not a repeated failure
            if factor is Factor.REPEATED and _NEVER.search(before):
                continue
            found.append(Match(factor.value, m.group(0).strip().lower()))
            break
    return found


def severity_level(factors: list[str], *, floors: dict[Factor, int] | None = None) -> int:
    """1 (minor) .. 4 (critical): the highest floor of the factors, one step up per extra factor."""
    if not factors:
        return 1
    table = FACTOR_FLOOR if floors is None else floors
    distinct = sorted(set(factors))
    level = max(table.get(Factor(f), 2) for f in distinct) + len(distinct) - 1
    return min(4, level)


def find_remedies(text: str) -> list[Match]:
    """Remedies the customer asks for, in `REMEDY_ORDER`, each with its evidence (lowercased)."""
    low = text.lower()
    found: list[Match] = []
    for remedy in REMEDY_ORDER:
        for m in REMEDY_PATTERNS[remedy].finditer(low):
            if _NEGATED.search(low[max(0, m.start() - 20) : m.start()]):
                continue
            found.append(Match(remedy.value, m.group(0).strip()))
            break
    return found


class ResponseReason(StrEnum):
    COMPLAINT = "complaint"
    QUESTION = "question"
    REQUEST = "request"
    NEGATIVE = "negative"
    THANKS = "thanks"
    SPAM = "spam"
    CHITCHAT = "chit-chat"
    EMPTY = "empty"


_THANKS = _rx(
    r"thanks?",
    r"thank you",
    r"thx",
    r"ty\b",
    r"cheers",
    r"appreciate",
    r"grateful",
    r"(?:great|excellent|amazing|awesome|fantastic|brilliant|wonderful|perfect|superb) "
    r"(?:service|job|work|help|support|experience|team)",
    r"(?:love|loving) (?:it|this|you|the)",
    r"well done",
    r"kudos",
    r"shout ?out",
)
_SPAM = _rx(
    r"(?:click|visit|check out) (?:here|my|this link|the link)",
    r"(?:follow|sub(?:scribe)?) (?:me|back|my channel)",
    r"(?:earn|make) \$?\d+\w* (?:a|per) (?:day|week|hour)",
    r"(?:crypto|bitcoin|forex|nft) (?:giveaway|investment|signals|opportunity)",
    r"free (?:gift card|iphone|followers|money)",
    r"(?:dm|message) me for (?:promo|collab|business|deals)",
    r"(?:buy|cheap) (?:followers|likes|viagra|cialis)",
    r"(?:casino|porn|xxx|onlyfans)\b",  # not "XXXX", how redacted complaints hide names
    r"limited time offer",
    r"work from home (?:and (?:earn|make)|opportunit|jobs?\b)",
)
# "thanks, but ...": a complaint wrapped in politeness
_BUT = _rx(
    r"but", r"yet", r"however", r"although", r"still", r"problem", r"issue", r"not", r"\w+n't"
)
_URL = re.compile(r"\b(?:https?://|www\.)\S+")
_REQUEST = _rx(
    r"(?:please|pls|plz|kindly)",
    r"(?:can|could|would|will) you",
    r"i (?:want|need|demand|expect|would like|'d like)",
    r"(?:help|fix|sort (?:this|it) out|look into)",
    r"(?:dm|message|call|email|contact) me",
)
_CHITCHAT = _rx(
    r"(?:hi|hello|hey|good (?:morning|afternoon|evening|night)|lol|lmao|haha\w*|ok(?:ay)?|"
    r"nice|cool|happy (?:friday|monday|holidays|new year|birthday)|have a (?:nice|good|great) "
    r"(?:day|weekend))",
)


@dataclass(frozen=True)
class ResponseNeed:
    needed: bool
    reason: ResponseReason


def needs_response(
    text: str,
    *,
    sentiment: float,
    factors: list[str],
    remedies: list[str],
    negative_emotion: float,
) -> ResponseNeed:
    """Whether a reply is owed: complaints, questions and requests need one; thanks, spam and
    chit-chat do not. Anything unclear that is negative counts as a complaint."""
    stripped = text.strip().lower()
    if not re.search(r"\w", stripped):
        return ResponseNeed(False, ResponseReason.EMPTY)
    urls = len(_URL.findall(stripped))
    if _SPAM.search(stripped) or (urls >= 2 and sentiment >= 0 and not factors):
        return ResponseNeed(False, ResponseReason.SPAM)
    if factors:
        return ResponseNeed(True, ResponseReason.COMPLAINT)
    if remedies:
        return ResponseNeed(True, ResponseReason.REQUEST)
    if sentiment <= -0.25 or negative_emotion >= 0.5:
        return ResponseNeed(True, ResponseReason.NEGATIVE)
    if "?" in stripped:
        return ResponseNeed(True, ResponseReason.QUESTION)
    if _THANKS.search(stripped) and sentiment >= 0 and not _BUT.search(stripped):
        return ResponseNeed(False, ResponseReason.THANKS)
    if _REQUEST.search(stripped):
        return ResponseNeed(True, ResponseReason.REQUEST)
    words = len(stripped.split())
    if words <= 12 and not _BUT.search(stripped) and (_CHITCHAT.search(stripped) or sentiment >= 0):
        return ResponseNeed(False, ResponseReason.CHITCHAT)
    # a longer message that is neither clearly negative nor a question: a person should read it
    return ResponseNeed(True, ResponseReason.COMPLAINT if sentiment < 0 else ResponseReason.REQUEST)
