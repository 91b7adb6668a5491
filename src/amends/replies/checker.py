"""The reply checker: what a reply does wrong, where, and how to fix it. Pure functions, no IO.

`check_reply(text, context, rules)` runs every rule that is not switched off and returns its
findings with character spans into `text`. A finding about something missing (no apology, no
thanks) has the empty span 0..0: there is no place to point at, only a thing to add.
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from rapidfuzz import fuzz, process

from amends.replies.rules import CheckerRules, RuleId, Severity

# Quotes as people type them; replaced one for one so that spans stay true.
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


@dataclass(frozen=True)
class ReplyContext:
    """What the checker knows besides the reply. Every field is optional."""

    public: bool = False
    channel: str | None = None  # "x", "email", "review:google-play", ...
    customer_name: str | None = None  # as the customer writes it
    customer_handle: str | None = None  # "@AnaLopez": people spell their names in handles too
    complaint: str | None = None  # what the customer wrote
    # Whether the customer's message reports something that went wrong. None: assume so, since
    # the desk answers complaints; a thank-you or a question needs no apology.
    is_complaint: bool | None = None
    sent_to_others: Sequence[str] = ()  # recent replies to other customers, for near-copies

    @property
    def answers_complaint(self) -> bool:
        return self.is_complaint if self.is_complaint is not None else True


@dataclass(frozen=True)
class Finding:
    rule: RuleId
    severity: Severity
    start: int
    end: int
    message: str
    suggestion: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.value,
            "severity": self.severity.value,
            "start": self.start,
            "end": self.end,
            "message": self.message,
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True)
class CheckResult:
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def blocking(self) -> bool:
        return any(f.severity is Severity.BLOCK for f in self.findings)

    def rules(self) -> frozenset[RuleId]:
        return frozenset(f.rule for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"blocking": self.blocking, "findings": [f.to_dict() for f in self.findings]}


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    detail: str | None = None  # added to the rule's message: what exactly was found


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


def _hits(pattern: re.Pattern[str], text: str) -> list[_Hit]:
    return [_Hit(m.start(), m.end()) for m in pattern.finditer(text)]


_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")


def _sentences(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _SENTENCE.finditer(text):
        chunk = m.group()
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            spans.append((m.start() + lead, m.end()))
    return spans


def _sentence_of(spans: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for start, end in spans:
        if start <= pos < end:
            return start, end
    return pos, pos


# ---- apologies --------------------------------------------------------------------------------

_APOLOGY = _rx(
    r"\bsorry\b",
    r"\bapologi[sz](?:e[sd]?|ing)\b",
    r"\bapolog(?:y|ies)\b",
    r"\bregret (?:that we|the|our|we|this|any|to)\b",
    r"\bforgive (?:us|me)\b",
    r"\bmy bad\b",
)
_NON_APOLOGY = _rx(
    r"\b(?:sorry|apologi[sz]e|regret)(?: (?:that|to hear|if))? (?:you|anyone) (?:feel|felt|are feeling|were feeling|feels|may feel|might feel)\b",
    r"\b(?:sorry|apologi[sz]e|apologies) if (?:you|anyone|this|that|it|we|our|there)\b[^.!?\n]{0,80}",
    r"\bif (?:you were|anyone was|you felt|you have been|you've been) (?:offended|upset|hurt|inconvenienced|disappointed|misled)\b",
    r"\bregret that you (?:are|were|feel|felt|found|have been) (?:unhappy|dissatisfied|upset|disappointed|not happy|displeased)\b",
    r"\b(?:sorry|apologi[sz]e) (?:that )?you (?:are|were|feel|felt)(?: so)? (?:unhappy|upset|dissatisfied|displeased)\b",
    r"\bmistakes were made\b",
    r"\b(?:sorry|apologi[sz]e|apologies) (?:for|about) (?:the|your|any|all the) (?:frustration|confusion|upset|disappointment|annoyance)\b",
    r"\b(?:sorry|apologi[sz]e) (?:that )?you(?:'re| are| were|'ve been| have been)(?: so| feeling)? (?:frustrated|disappointed|upset|unhappy|annoyed|displeased|dissatisfied)\b",
    r"\b(?:sorry|apologi[sz]e) (?:that )?you (?:didn't|did not) (?:enjoy|like|love)\b",
    r"\bnever the way we want you to feel\b",
    r"\bsorry for any (?:confusion|misunderstanding) (?:on your part|you may have)\b",
)


def _apologies(text: str) -> tuple[list[_Hit], list[_Hit]]:
    """Real apologies and non-apologies; an apology word inside a non-apology does not count."""
    non = _hits(_NON_APOLOGY, text)
    real = [h for h in _hits(_APOLOGY, text) if not any(n.start <= h.start < n.end for n in non)]
    return real, non


# ---- the rules --------------------------------------------------------------------------------

_DEFENSIVE = _rx(
    r"\bour records (?:show|indicate|confirm|state)\b",
    r"\bwe (?:have|had|would|will) never\b",
    r"\b(?:this|that|it) (?:is|was|isn't|wasn't)(?: not)? (?:in any way )?our fault\b",
    r"\bnot our fault\b",
    r"\b(?:we|i) (?:did|have done|had done) nothing wrong\b",
    r"\bas (?:we|i) (?:have )?(?:already|previously|clearly) (?:explained|said|mentioned|stated|told you|advised)\b",
    r"\b(?:our|the) (?:policy|terms) (?:clearly )?(?:states?|says|is clear|are clear)\b",
    r"\bthere(?:'s| is| was) (?:nothing|no (?:fault|error|issue|problem)) (?:wrong )?(?:on|at|with|from) our (?:end|side|part)\b",
    r"\bno (?:fault|error|issue|problem) (?:on|at|from) our (?:end|side|part)\b",
    r"\bwith (?:all )?due respect\b",
    r"\bto be fair\b",
    r"\b(?:that|this) is (?:simply |just )?(?:not|untrue|incorrect|false)(?: true| the case| what happened)\b",
    r"\bwe (?:cannot|can't|can not) be held (?:responsible|accountable|liable)\b",
    r"\bwe (?:are|were|aren't|weren't)(?: not)? (?:responsible|liable|to blame|at fault) for\b",
    r"\bwe followed (?:the|our|all) (?:correct )?(?:procedures?|process(?:es)?|polic(?:y|ies)|rules)\b",
    r"\bwe (?:did|do) (?:everything|all) (?:we could|correctly|right|by the book)\b",
    r"(?:^|[.!?]\s+)actually,? (?:we|our|the|that|this|you)\b",
    r"\bwe stand by (?:our|the)\b",
    r"\bthere is no (?:evidence|record) (?:that|of)\b",
    r"\bour (?:\w+ )?records (?:show|indicate|confirm|state)\b",
    r"\b(?:this|that|it|which) is (?:actually |perfectly |completely |totally )?(?:normal|expected|standard|by design|intended|working as intended)\b",
    r"\b(?:doesn't|does not) sound like a (?:bug|fault|problem)\b",
    r"\b(?:readings|charges|bills|figures|results) are (?:accurate|correct)\b",
    r"\bas (?:we|i) (?:shared|mentioned|said|stated|noted|explained)(?: in| earlier| before| previously| our)",
    r"\b(?:according to|as per) the information (?:previously )?(?:provided|given|shared)\b",
    r"\ball (?:that )?we can do\b",
    r"\bmisinformation\b",
    r"\bour (?:team|technicians|staff|agents|drivers|engineers) (?:always|follow|followed|are trained)\b",
    r"\bwe (?:did not|didn't|do not|don't) (?:lose|cause|make|break|damage|charge)\b",
    r"\bwe (?:are|were) required to\b",
    r"\bwe have never had (?:a|any) (?:complaint|problem|issue|bug)\b",
    r"\bwe(?:'re| are) doing all we can\b",
    r"\baccording to our (?:records|system|logs|data)\b",
    r"\bour (?:system|systems|logs|data) (?:shows?|indicates?|confirms?)\b",
    r"\bthere(?:'s| is) nothing (?:more |else |further )?(?:we|that we|i) can do\b",
)

_THIRD_PARTY = (
    r"(?:the |our |your )?(?:courier|carrier|delivery (?:partner|company|driver|service)|"
    r"postal service|post office|royal mail|usps|ups|fedex|dhl|hermes|evri|bank|card issuer|"
    r"payment (?:provider|processor|partner)|supplier|manufacturer|warehouse|third[- ]party|"
    r"contractor|partner|vendor|airport|isp|internet provider|(?:local )?network provider|app store|"
    r"apple|google|the system|our system|the software|weather|airline|promoter|seller|merchant|"
    r"developer|map provider|copyright owner|android|ios|gp surgery|wholesaler|your bank)"
)
_BLAME_SHIFTING = _rx(
    r"\b(?:circumstances|factors|events|reasons) (?:beyond|outside(?: of)?) our control\b",
    r"\bout of our (?:hands|control)\b",
    r"\bnot (?:in|within|under) our control\b",
    r"\bbeyond our control\b",
    r"\b(?:due to|because of|owing to) (?:an? )?(?:high|unprecedented|increased|heavy|unusually high|large) (?:volumes?|demand|number)",
    rf"\b(?:due to|because of|caused by|owing to|the fault of|down to|blame(?:d)? (?:on|lies with)|responsibility of|an? (?:issue|error|problem|delay|mistake) (?:with|by|from|at)) {_THIRD_PARTY}\b",
    rf"\b{_THIRD_PARTY} (?:is|are|was|were|has been|have been) (?:responsible|to blame|at fault|the (?:cause|problem|reason))\b",
    rf"\b{_THIRD_PARTY} (?:lost|delayed|damaged|mishandled|misplaced|failed to deliver|made (?:a|an) (?:mistake|error)|(?:has|have|had) (?:lost|delayed|damaged|failed))\b",
    r"\b(?:this|that|it|the (?:issue|problem|delay|error|charge)) (?:is|was|lies) (?:on|with) (?:their|the) (?:end|side)\b",
    rf"\bon (?:their|the {_THIRD_PARTY}'s) (?:end|side)\b",
    rf"\b(?:is|are|was|were) (?:decided|administered|maintained|developed|handled|managed|run|operated|controlled|set|owned|issued|declined|refused|blocked|held|delayed) by {_THIRD_PARTY}",
    r"\bnot (?:administered|developed|managed|run|handled|controlled|maintained|made|sold|operated) by us\b",
    r"\b(?:is|was|are|were) (?:not |n't )?(?:down to|up to) (?:us|them|the \w+)\b",
    r"\bisn't down to us\b|\bnot down to us\b",
    r"\b(?:contact|check with|reach out to|speak to|get in touch with|you would have to reach)(?: out to)? (?:your bank|the bank|the developer|the manufacturer|the promoter|the seller|the merchant|apple|google|at&(?:amp;)?t|your provider|your carrier|them directly)",
    r"\b(?:high|heavy|unusual|unprecedented|increased|huge) (?:demand|volumes?|traffic|number of (?:requests|calls|contacts))\b",
    r"\bthings have been (?:quite |very |really )?(?:hectic|busy|crazy)\b",
    r"\b(?:the|our) system (?:is|was|has been) (?:having|experiencing) (?:issues|problems)\b",
    r"\brather than (?:from )?(?:us|our (?:app|site|service))\b",
    r"\b(?:copyright owner|promoter|seller|merchant|developer|manufacturer|network)'s (?:discretion|responsibility|decision|policy)\b",
    rf"\b(?:because of|caused by|due to|pushed by|works by|made by) [^.!?\n]{{0,60}}\b{_THIRD_PARTY}",
    r"\bdue to contractual\b",
    r"\b(?:the )?(?:coronavirus|covid(?:-19)?|pandemic) (?:on|has affected|affected) our\b",
)

_BLAMES_CUSTOMER = _rx(
    r"\byou (?:should|ought to)(?: have|'ve)\b(?! (?:received|got|gotten|been sent|seen (?:an?|our) (?:email|notification|message)))",
    r"\byou (?:could|would) have (?:avoided|prevented|checked|read|known|noticed)\b",
    r"\byou should (?:back up|know|read|check your|make sure|be aware|have known)\b",
    r"\b(?:stated|agreed to|accepted|confirmed)(?: and agreed to)? (?:during|at|when you)\b",
    r"\bas (?:stated|set out|explained) in your (?:agreement|contract|terms)\b",
    r"\b(?:the )?(?:account holder|customer|user|cardholder|passenger|guest)'s (?:responsibility|duty)\b",
    r"\byour own (?:habits|fault|doing|settings|choice)\b",
    r"\byou (?:didn't|did not|never) (?:save|ask|select|tap|press|click|back up|declare|report)\b",
    r"\bif you didn't\b",
    r"\b(?:please )?read our (?:previous|earlier|last|other) (?:emails?|messages?|replies|posts?)\b",
    r"\bhave you tried (?:turning|reading|switching)\b",
    r"\byou selected (?:size|the|a|an)\b",
    r"\bas (?:clearly )?(?:stated|outlined|explained|mentioned|set out|written|specified|detailed|noted) (?:in|on) (?:our|the) (?:terms|t&cs|t&c|policy|conditions|faq|website|confirmation|email|order)",
    r"\b(?:per|according to|under) (?:our|the) (?:terms|t&cs|t&c|terms and conditions|terms of (?:service|use)|returns policy|policy)\b",
    r"\byou (?:failed|neglected|forgot|omitted) to\b",
    r"\byou (?:did not|didn't|never|have not|haven't) (?:read|check(?:ed)?|follow(?:ed)?|provide[d]?|contact(?:ed)?|tell|told|inform(?:ed)?|notice[d]?|bother(?:ed)?|update[d]?|cancel(?:led)?|select(?:ed)?)\b",
    r"\bif you had (?:read|checked|followed|contacted|told|provided|selected|updated|noticed)\b",
    r"\b(?:it|this|that) (?:is|was) your (?:own )?(?:responsibility|fault|mistake|error|choice)\b",
    r"\buser error\b",
    r"\byou (?:entered|typed|selected|chose|gave|provided|used) (?:the |an? )?(?:wrong|incorrect|invalid)\b",
    r"\byour (?:own )?(?:mistake|fault|error)\b",
    r"\bthe onus (?:is|was) on you\b",
)

_EXPLANATION = _rx(
    r"\bbecause\b",
    r"\bdue to\b",
    r"\bas a result\b",
    r"\bthe reason\b",
    r"\bcaused by\b",
    r"\bthis (?:happened|occurred|was caused|was due|is due|is because|was because)\b",
    r"\bour (?:systems?|process(?:es)?|procedures?|warehouse|team|policy|policies|software|records)\b",
    r"\binternal(?:ly)?\b",
    r"\btechnical(?:ly)?\b",
    r"\bwhich (?:means|meant)\b",
    r"\bat the time\b",
    r"\bin order to\b",
    r"\b(?:was|were) (?:triggered|processed|flagged|routed|queued|batched)\b",
    r"\bbackend\b|\bupstream\b|\bmigration\b|\bupgrade\b|\boutage\b",
)

_STEPS = _rx(
    r"\bthen\b",
    r"\bfirst\b",
    r"\bafter (?:that|which)\b",
    r"\bwhich (?:then|meant|means|allocates|routes|groups|checks)\b",
    r"\bautomatically\b",
    r"\bnormally\b",
    r"\bevery (?:night|evening|morning|\d+ minutes)\b",
    r"\bso (?:the|it|your|our)\b",
    r"\bthe (?:algorithm|software|platform|script|converter|engine|scheduler|robot)\b",
)
_SPEAKS_TO_THEM = _rx(
    r"\byou(?:r|'re|'ll|'ve)?\b",
    r"\bsorry\b",
    r"\bapologi",
    r"\bthank",
    r"\bwe(?:'ll| will)\b",
    r"\bi(?:'ll| will|'m| am|'ve)\b",
)
_OWNERSHIP = _rx(
    r"(?<!not )(?<!n't )(?<!no )\b(?:our|my) (?:mistake|fault|error|responsibility|bad|doing|failure|oversight)\b",
    r"\b(?:that's|that is|this is|it's|it is|that was|this was|it was) (?:entirely |all |completely )?on (?:us|me)\b",
    r"\b(?:we|i) (?:got|get|have got|had got) (?:it|this|that|things|your \w+(?: \w+)?) (?:badly |completely |very |so )?wrong\b",
    r"\b(?:we|i) (?:let|have let|'ve let) you down\b",
    r"\bwe've let you down\b",
    r"\b(?:we|i) should(?:n't| not)? have\b",
    r"\b(?:we|i) (?:messed|screwed|slipped|fouled) up\b",
    r"\b(?:we|i) (?:take|accept|will take|'ll take|own) (?:full |complete |total )?(?:responsibility|ownership|the blame)\b",
    r"\b(?:we|i) (?:made|have made|'ve made) (?:a|an|the|two|several) (?:\w+ )?(?:mistakes?|errors?)\b",
    r"\bwe (?:fell|have fallen|'ve fallen) short\b",
    r"\bdropped the ball\b",
    r"\b(?:we|i)(?:'ll| will| are going to| am going to|'m going to|'re going to) (?:put|make|set) (?:it|this|that|things) right\b",
    r"\b(?:we|i) own (?:this|that|it|the mistake)\b",
    r"\b(?:that|this|it) (?:should(?:n't| not)|never should) have happened\b",
    r"\bnot the (?:service|standard|experience|care|level of service) (?:you|we|anyone)\b",
    r"\b(?:we|i) (?:failed|have failed|'ve failed) (?:you|to)\b",
    r"\bwe(?:'re| are) (?:responsible|accountable|to blame)\b",
    r"\bour (?:side|end)\b(?! is fine)",
)

_THANKS = _rx(
    r"\bthank(?:s|ing| you)?\b",
    r"\bthx\b",
    r"\bappreciat(?:e|ed|ing)\b",
    r"\bgrateful\b",
    r"\bcheers\b",
)

_PROMISE = _rx(
    r"\b(?:we|i)(?:'ll| will| are going to|'re going to| am going to|'m going to| shall| would like to|'d like to) (?:be )?(?:look(?:ing)? into|investigat\w*|check(?:ing)? (?:into|on)|get(?:ting)? back|be in touch|follow(?:ing)? up|see what|pass(?:ing)? (?:this|it|that|your \w+) (?:on|along)|escalat\w*|review(?:ing)?|look(?:ing)? at|reach(?:ing)? out|update you|sort (?:this|it)|work on|do (?:our|my) best|try (?:our|my) best|keep you (?:posted|updated|informed)|let you know|take a (?:closer )?look)\b",
    r"\b(?:we're|we are|i'm|i am) (?:looking into|investigating|checking (?:into|on)|working on|reviewing)\b",
    r"\bsomeone (?:will|should|'ll) (?:be in touch|contact you|get back|reach out|call you|be with you)\b",
    r"\b(?:will|'ll) be (?:in touch|looked into|investigated|reviewed|passed on|escalated)\b",
    r"\bwe(?:'ll| will) see what (?:we|can)\b",
    r"\b(?:we|i)(?:'ll| will|'d like to| would like to)(?: be sure to)? (?:pass|forward|share|send|let)(?: on| along)? (?:your|this|these|the|our|them)\b",
    r"\b(?:we're|we are) (?:actively |currently |closely )?(?:reviewing|monitoring|working to|working on|looking at)\b",
    r"\brest assured (?:we're|we are|that|our)\b",
    r"\b(?:they|our (?:\w+ )?team)(?:'ll| will) (?:look into|follow up|reply|get back|improve|review)\b",
    r"\bwe(?:'ll| will) (?:continue|keep) (?:to )?(?:share|sharing|monitor|monitoring|pass|passing|follow|following)\b",
    r"\bas soon as (?:possible|they(?:'re| are) available|we can)\b",
)
# The customer's own next step makes the promise concrete: "create a ticket and we'll look".
_NEXT_STEP = _rx(
    r"\bplease (?:create|send|share|submit|fill|file|dm|message|reply|call|email|use)\b",
    r"\bif you (?:think|feel|believe|still|can|send|share|reply)\b",
    r"\bonce you\b",
    r"\byou can (?:file|submit|request|create|appeal|send|share)\b",
    r"\b(?:send|share|dm) us\b",
    r"\bcreate a (?:ticket|case|request)\b",
    r"\bget back to us\b",
)
_DAYS = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_TIME = _rx(
    r"\b(?:today|tonight|tomorrow|this (?:morning|afternoon|evening|week)|next week)\b",
    rf"\b(?:by|on|before|until|this|next) (?:{_DAYS}|noon|midday|the end of|end of|close of|\d)",
    r"\bwithin (?:the next )?(?:\d+|an?|one|two|three|four|five|24|48|72)\b",
    r"\bin (?:the next )?(?:\d+|an?|one|two|three|a few|a couple of) (?:minutes?|mins?|hours?|hrs?|days?|working days?|business days?)\b",
    r"\b\d+ ?(?:minutes?|mins?|hours?|hrs?|h|days?|working days?|business days?)\b",
    r"\b\d{1,2}(?::\d\d)? ?(?:am|pm)\b",
    r"\b\d{1,2}:\d\d\b",
    r"\bend of (?:the )?(?:day|week)\b",
    rf"\b{_DAYS}\b",
    r"\b(?:right away|straight away|immediately|now)\b",
    r"\b(?:i've|we've|i have|we have) (?:already )?(?:issued|refunded|sent|cancelled|credited|booked|arranged|reset|fixed|processed|escalated|raised|passed)\b",
)

_STOCK = (
    r"\bdear (?:valued )?(?:customer|client|guest|member|user|sir(?:/| or )madam|sir|madam)\b",
    r"\bto whom it may concern\b",
    r"\bvalued (?:customer|client|guest|member)\b",
    r"\b(?:we |i )?(?:sincerely )?(?:apologi[sz]e|are sorry|am sorry|regret)(?: for| about)? any inconvenience(?: (?:this|that|it) (?:may have |might have |has |may )?caused(?: you)?)?",
    r"\b(?:sorry|apologies) for (?:any|the) inconvenience(?: caused)?\b",
    r"\bsorry for any trouble (?:this|it) (?:may have )?caused\b",
    r"\byour (?:call|business|feedback|custom|satisfaction|patience|opinion|comments?) (?:is|are) (?:very |extremely |really )?important to us\b",
    r"\bthank(?:s| you) for (?:your|the) (?:patience|understanding)(?: and (?:understanding|patience))?(?: with us)?\b",
    r"\bwe take (?:\w+ )?(?:very |extremely )?seriously\b",
    r"\bwe value (?:your|all) (?:feedback|custom|business|comments)\b",
    r"\bplease be assured\b",
    r"\brest assured\b",
    r"\bwe (?:always )?strive to\b",
    r"\bthank you for bringing (?:this|it) to our attention\b",
    r"\bwe appreciate your (?:business|custom|patience)\b",
    r"\b(?:please )?(?:do not|don't) hesitate to (?:contact|get in touch|reach out)\b",
    r"\bwe take (?:your |all |such |customer )?(?:concerns|complaints|feedback|matters|this) (?:very |extremely )?seriously\b",
    r"\bwe pride ourselves\b",
    r"\bat (?:this|the present) time\b",
)

_PERK = _rx(
    r"\bvouchers?\b",
    r"\bcoupons?\b",
    r"\bdiscount(?:s|ed)?\b",
    r"\bpromo(?:tional)? codes?\b",
    r"\bgift ?cards?\b",
    r"\bgifts?\b",
    r"\b(?:store |account )?credit(?!\s*card)(?:ed)?\b",
    r"\bgoodwill\b",
    r"\bcomplimentary\b",
    r"\bfree (?:months?|upgrades?|delivery|shipping|gifts?|drinks?|meals?|nights?|coffees?|tickets?|subscription|trial|service|of charge)\b",
    r"\b(?:one|two|three|\d+) (?:months?|weeks?) free\b",
    r"\d+ ?% off\b",
    r"[£$€]\s?\d+(?:[.,]\d\d)? off\b",
    r"\b(?:loyalty |bonus |reward )points\b",
    r"\bfreebies?\b",
    r"\bon the house\b",
    r"\bcompensation\b",
    r"\bas a (?:small )?(?:token|gesture)\b",
)

_SHOUT_OK = frozenset(
    """URL URLS FAQ FAQS DM DMS PIN NHS USA UK EU US OS GPU CPU RAM PC HTML PDF API SMS ID
    VPN ISP IMEI USB TV DVD CEO UTC GMT BST EST PST CET ASAP OK AM PM IOS MAC SIM ATM IBAN BIC
    COVID COVID-19 DVR GTA GTAV HBO NBA NFL FIFA PSN EA UHD SD OTP SSO MFA 2FA 2SV TOS
    SWIFT VAT ETA RMA GDPR CCPA HR IT IP DNS SSL WIFI LTE 4G 5G AI APP APPS RSVP PS NB FYI
    BBC CNN NYC LA SF LOL UPS DHL USPS TNT DPD GLS FEDEX EVRI HMRC IRS DVLA NASA BMW AT&T
    XL XXL SKU QR NFC HD UHD HDR HDMI PS4 PS5 XBOX CD CDS LED LCD BBQ DIY PST GST""".split()
)
_CAPS_WORD = re.compile(r"\b[A-Z][A-Z'&]{1,}\b")
# Words people put in capitals to raise their voice; other single capitalised words are
# mostly names of things (COVID, GTAV, SITESEARCH).
_EMPHATIC = frozenset(
    """NOT NEVER ALWAYS ALREADY NOW MUST DID DO DOES READ STOP YOUR YOU NO WILL CANNOT CAN'T
    DON'T DIDN'T WON'T ISN'T WASN'T ANY EVERY ALL AGAIN ONLY ONCE PLEASE CLEARLY OBVIOUSLY
    REALLY VERY TWICE WRONG RIGHT LISTEN UNDERSTAND NOTHING EVERYTHING ANYTHING THIS THAT
    WHAT WHY""".split()
)
_SARCASM = _rx(
    r"\bcalm down\b",
    r"\bobviously\b",
    r"\bas (?:anyone|everyone|any fool|you well) (?:knows|can see|know)\b",
    r"\bgood luck (?:with that|finding|getting)\b",
    r"\boh (?:great|wonderful|brilliant|joy|dear)\b",
    r"\banother (?:\w+ )?expert\b",
    r"\brelax\b",
    r"\bdid you (?:actually|even|really)\b",
    r"\bnobody (?:said|promised|told you)\b",
    r"\bit's an? \w+(?: \w+)?, not an?\b",
    r"\btry again more carefully\b",
    r"\bcongratulations\b",
    r"\bclearly you\b",
    r"\bif you (?:had|would|could) (?:bother(?:ed)?|take|taken) (?:to|the time)\b",
    r"\bno offen[cs]e,? but\b",
    r"\bseriously\?",
    r"\bfor the (?:last|third|second|hundredth|fifth) time\b",
    r"\blearn (?:to|how to) read\b",
    r"\b(?:it's|this is|it is) not (?:rocket science|that hard|difficult)\b",
    r"\bsimple as that\b",
    r"\bwhatever\b",
    r"\blol\b|\blmao\b|\bsmh\b|\bduh\b|\bsigh\b",
    r"\byeah,? right\b",
    r"\bsure you did\b",
    r"\bnice try\b",
    r"\bnewsflash\b",
    r"\bwow,? just wow\b",
    r"\bnot our problem\b",
    r"\bdeal with it\b",
    r"\bwe get it\b",
    r"\bif you don't like it\b",
)
_BANG = re.compile(r"[!?]*![!?]*!+[!?]*|\?!|!\?")

_GROVEL = _rx(
    r"\bso+ so+ sorry\b",
    r"\b(?:deeply|truly|sincerely|terribly|profoundly|incredibly|extremely|so|very|really|humbly)(?:,? (?:and )?(?:deeply|truly|sincerely|terribly|profoundly|incredibly|extremely|so|very|really|humbly))+ (?:sorry|apologi[sz]e|apologetic|regret)",
    r"\bplease,? (?:please,? )?forgive (?:us|me)\b",
    r"\b(?:we|i) (?:don't|do not|didn't|did not) deserve\b",
    r"\bbeg(?:ging)? (?:for )?your (?:forgiveness|pardon|mercy)\b",
    r"\b(?:we|i) (?:humbly )?beg\b",
    r"\b(?:not )?worthy of you\b",
    r"\bgrovel",
    r"\bon (?:our|my|bended) knees?\b",
    r"\b(?:we are|we're|i am|i'm) (?:so |deeply |utterly )?ashamed\b",
    r"\b(?:we|i) (?:can't|cannot|can never) apologi[sz]e enough\b",
    r"\b(?:a )?thousand apologies\b",
    r"\bwords cannot (?:express|describe) how sorry\b",
)

_EMAIL = re.compile(r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b")
_COMPANY_MAILBOX = re.compile(
    r"^(?:support|help|helpdesk|care|customercare|customer\.?care|customerservices?|"
    r"customer\.?service|service|contact|info|hello|team|complaints|feedback|privacy|press|"
    r"noreply|no-reply|orders|billing|accounts|sales|enquiries|inquiries|social|dm|cs|abuse|"
    r"security|fraud|spoof|phish\w*|report\w*)$",
    re.IGNORECASE,
)
_REFERENCE = _rx(
    r"\b(?:order|booking|reservation|account|acct|ticket|case|ref(?:erence)?|tracking|confirmation|invoice|policy|membership|claim|parcel|consignment|pnr)(?: (?:no\.?|number|nr\.?|#|id|ref|code))?[:#\s]\s*(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,}\b",
    r"#[A-Z0-9-]*\d[A-Z0-9-]{3,}\b",
    r"\b(?:ending|ends)(?: (?:in|with))? \d{4}\b",
    r"\b(?:\d[ -]?){13,19}\b",
)
_ADDRESS = re.compile(
    r"\b\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][a-z]+\s){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|"
    r"Dr|Close|Court|Ct|Boulevard|Blvd|Way|Place|Pl|Crescent|Terrace|Gardens|Square|Sq|Grove|Hill|"
    r"Parkway|Row|Mews)\b\.?"
    r"|\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b"
    r"|\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|"
    r"NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY) \d{5}(?:-\d{4})?\b"
)
_FREEPHONE = re.compile(
    r"^\+?(?:1[ -]?)?(?:\(?8(?:00|33|44|55|66|77|88)\)?)|^(?:\+44 ?|0)(?:800|808|300|345)"
)

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MASKED = re.compile(r"https?://\S+|www\.\S+|(?<![\w.])@\w+", re.IGNORECASE)
_LEADING_MENTIONS = re.compile(r"^(?:\s*@\w+)+\s*")


# ---- helpers on names and words ---------------------------------------------------------------

_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did didn't do
    does doesn't doing don't down during each even ever every few for from further get gets
    getting got had hadn't has hasn't have haven't having he her here hers herself him himself his
    how i i'm i've if in into is isn't it it's its itself just let's like me more most much must
    my myself need no nor not now of off on once one only or other ought our ours ourselves out
    over own please really same she should shouldn't so some still such than that that's the
    their theirs them themselves then there there's these they they're this those through to too
    under until up us very was wasn't we we're we've were weren't what what's when where which
    while who whom why will with won't would wouldn't you you'd you'll you're you've your yours
    yourself yourselves hi hello hey dear thanks thank sorry help issue issues problem problems
    trouble team guys anyone someone something anything nothing everything thing things today
    yesterday tomorrow day days week time times know want wanted think make made going way back
    well yes yeah okay ok said say tell told ask asked let keep kept since already always never
    able unable try tried trying see seen look looking hope else many lot lots little right
    wrong good great bad new old first last next another around though although however via
    etc""".split()
)
_WORD = re.compile(r"[a-z][a-z']{2,}")


def _stem(word: str) -> str:
    word = word.strip("'")
    for suffix in ("ings", "ing", "edly", "ed", "ies", "es", "s", "ly", "er"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def _content_stems(text: str, *, ignore: Iterable[str] = ()) -> set[str]:
    text = _URL.sub(" ", text.lower())
    text = re.sub(r"@\w+", " ", text)
    skip = {w.lower() for w in ignore}
    return {
        _stem(w)
        for w in _WORD.findall(text)
        if w not in _STOPWORDS and w.strip("'") not in skip and len(w) >= 4
    }


def _fold(text: str) -> str:
    """Lower case without accents: for finding a name, not for judging its spelling."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


_CAMEL = re.compile(r"[A-Z]?[a-z\u00c0-\u024f]+|[A-Z]+(?![a-z])")


def name_parts(name: str | None, handle: str | None = None) -> list[str]:
    """The words a customer's name is spelled with, from their name and from their handle."""
    parts: list[str] = []
    if name:
        parts += [p for p in re.split(r"[\s,]+", name.strip()) if len(p) >= 2 and p[0].isalpha()]
    if handle:
        for piece in re.split(r"[_.\-\d@]+", handle):
            parts += [w for w in _CAMEL.findall(piece) if len(w) >= 3]
    return parts


_GREETING_NAME = re.compile(
    r"(?:\b(?i:hi|hello|hey|dear|morning|evening|afternoon|thanks|thank you|sorry|welcome|ok|okay)"
    r",?\s+|^\s*|,\s+)"
    r"([A-Z\u00c0-\u024f][a-z\u00c0-\u024f'\-]{1,30})(?=\s*[,.!?:;\u2013\u2014-]|\s*$)",
    re.MULTILINE,
)
# A greeting that names its reader (not a sign-off, not "..., Sam" at the end).
_SALUTATION = re.compile(
    r"\b(?i:hi|hello|hey|dear|sorry|good (?:morning|afternoon|evening)),?[ \t]+"
    r"([A-Z\u00c0-\u024f][a-z\u00c0-\u024f'\-]{1,30})\b"
)
_NOT_NAMES = frozenset(
    """Thanks Thank Sorry Hello Hi Hey Dear Please Yes No Okay Ok Also Again Team Everyone
    All Folks Friend There Here Today Tomorrow Meanwhile However Unfortunately Hmm Great Cheers
    Regards Best Welcome Sure Absolutely Indeed Apologies Understood Noted Done Of Course Got It
    Oh Ah Well So And But Or We Us You They It This That Customer Sir Madam Guys""".split()
)


def _names_used(text: str) -> list[_Hit]:
    hits = []
    for m in _GREETING_NAME.finditer(text):
        word = m.group(1)
        if word in _NOT_NAMES or word.upper() == word:
            continue
        hits.append(_Hit(m.start(1), m.end(1), word))
    return hits


def _misspelled(used: str, named: Sequence[str], handle: str | None) -> str | None:
    """The spelling the customer uses, when `used` is close to it but not the same. Their own
    name field is the surest guide; a handle is decorated ("kasidayyyy", "xTyl3r_"), so only a
    near miss of about the same length counts against it."""
    low = used.lower()
    letters = re.sub(r"[^a-z\u00e0-\u024f]", "", handle.lower()) if handle else ""
    if any(used == p or low == p.lower() for p in named):
        return None
    if not named and low in letters:
        return None
    best = process.extractOne(low, [p.lower() for p in named], scorer=fuzz.ratio, score_cutoff=75)
    if best is not None:
        return named[best[2]]
    if named or not letters:
        return None
    handle_parts = name_parts(None, handle)
    for part in handle_parts:
        if abs(len(part) - len(used)) <= 1 and fuzz.ratio(low, part.lower()) >= 85:
            return part
    n = len(used)
    for size in (n, n + 1):
        for i in range(max(0, len(letters) - size + 1)):
            piece = letters[i : i + size]
            if size >= 5 and piece[0] == low[0] and fuzz.ratio(low, piece) >= 85:
                return piece.capitalize()
    return None


_LINKISH = re.compile(
    r"https?://\S+|www\.\S+|\b(?:[a-z0-9-]+\.)+(?:com|org|net|tv|us|io|co|uk|gov|edu|me|ly|gl|be|"
    r"app|dev|info|biz)\b(?:/\S*)?",
    re.IGNORECASE,
)


def x_length(text: str) -> int:
    """Characters as X counts them: the reply's leading mentions are free, a link (with or
    without its scheme) is 23, and an entity such as &amp; is the one character it stands for."""
    body = _LEADING_MENTIONS.sub("", html.unescape(text), count=1)
    return len(_LINKISH.sub("x" * 23, body))


def normalise_for_copy(text: str) -> str:
    """A reply without its greeting particulars: mentions, links, signatures, case, spacing."""
    text = text.translate(_QUOTES).lower()
    text = _URL.sub(" ", text)
    text = re.sub(r"@\w+", " ", text)
    text = re.sub(r"(?:[\^*~]|-\s?)[a-z]{1,12}\s*(?:\d/\d)?\s*$", " ", text)  # ^SR, *TB, -Shie
    text = re.sub(r"\d/\d", " ", text)
    return " ".join(text.split())


# ---- running the rules ------------------------------------------------------------------------


@dataclass
class _Run:
    text: str
    ctx: ReplyContext
    rules: CheckerRules
    findings: list[Finding] = field(default_factory=list)

    def add(self, rule: RuleId, hits: Iterable[_Hit]) -> None:
        spec = self.rules.text(rule)
        if spec.severity is Severity.OFF:
            return
        for hit in hits:
            message = spec.message if hit.detail is None else f"{spec.message} {hit.detail}"
            self.findings.append(
                Finding(rule, spec.severity, hit.start, hit.end, message, spec.suggestion)
            )

    def on(self, rule: RuleId) -> bool:
        return self.rules.text(rule).severity is not Severity.OFF


def check_reply(
    text: str, context: ReplyContext | None = None, rules: CheckerRules | None = None
) -> CheckResult:
    """Everything that is wrong with `text` as a reply to this customer, in text order."""
    ctx = context or ReplyContext()
    run = _Run(text.translate(_QUOTES), ctx, rules or CheckerRules())
    if not run.text.strip():
        return CheckResult()
    for rule in _RULES:
        rule(run)
    order = {r: i for i, r in enumerate(RuleId)}
    findings = sorted(run.findings, key=lambda f: (f.start, f.end, order[f.rule]))
    return CheckResult(tuple(findings))


def _defensive(run: _Run) -> None:
    spans = _sentences(run.text)
    hits = []
    for hit in _hits(_DEFENSIVE, run.text):
        start, end = _sentence_of(spans, hit.start)
        following = next((e for s, e in spans if s >= end), end)
        # "Our records show it arrived on the 3rd, so the fee was our error": owned, there.
        if not _OWNERSHIP.search(run.text, start, following):
            hits.append(hit)
    run.add(RuleId.DEFENSIVE, hits)


def _blame_shifting(run: _Run) -> None:
    spans = _sentences(run.text)
    hits = []
    for hit in _hits(_BLAME_SHIFTING, run.text):
        start, end = _sentence_of(spans, hit.start)
        if not _OWNERSHIP.search(run.text, start, end):  # "we chose the courier: that's on us"
            hits.append(hit)
    run.add(RuleId.BLAME_SHIFTING, hits)


def _blames_customer(run: _Run) -> None:
    run.add(RuleId.BLAMES_CUSTOMER, _hits(_BLAMES_CUSTOMER, run.text))


def _explains(text: str, start: int, end: int) -> bool:
    """A sentence that accounts for how things happened rather than speaking to the customer."""
    if _EXPLANATION.search(text, start, end) or _STEPS.search(text, start, end):
        return True
    sentence = text[start:end]
    return len(sentence.split()) >= 8 and not _SPEAKS_TO_THEM.search(sentence)


def _over_explaining(run: _Run) -> None:
    if len(_MASKED.sub("", run.text)) < 300:
        return  # a short reply cannot say too much
    spans = _sentences(run.text)
    explaining = [(s, e) for s, e in spans if _explains(run.text, s, e)]
    steps = len(_STEPS.findall(run.text)) + len(explaining)
    long_chain = len(run.text) >= 250 and steps >= 6 and len(explaining) >= 2
    if long_chain or (len(explaining) >= 3 and len(explaining) * 2 >= len(spans)):
        start, end = explaining[0][0], explaining[-1][1]
        run.add(RuleId.OVER_EXPLAINING, [_Hit(start, end, f"({len(explaining)} sentences)")])


def _apology_rules(run: _Run) -> None:
    real, non = _apologies(run.text)
    run.add(RuleId.NON_APOLOGY, non)
    if not real and not non and run.ctx.answers_complaint:  # a non-apology is flagged as such
        run.add(RuleId.MISSING_APOLOGY, [_Hit(0, 0)])
    if len(real) >= 3:
        run.add(RuleId.GROVELLING, [_Hit(real[0].start, real[-1].end, f"({len(real)} apologies)")])
    else:
        run.add(RuleId.GROVELLING, _hits(_GROVEL, run.text)[:1])
    perks = _hits(_PERK, _MASKED.sub(lambda m: " " * len(m.group()), run.text))
    if perks and not real:
        run.add(RuleId.PERK_WITHOUT_APOLOGY, perks[:1])


def _acknowledgement(run: _Run) -> None:
    complaint = run.ctx.complaint
    if not complaint or not run.ctx.answers_complaint:
        return
    ignore = name_parts(run.ctx.customer_name, run.ctx.customer_handle)
    theirs = _content_stems(complaint, ignore=ignore)
    ours = _content_stems(run.text, ignore=ignore)
    if not theirs or theirs & ours:
        return
    # "suspended" and "suspension", "verify" and "verification": the same word, told apart
    # only by its ending.
    prefixes = {w[:5] for w in theirs if len(w) >= 5}
    if not prefixes & {w[:5] for w in ours if len(w) >= 5}:
        run.add(RuleId.MISSING_ACKNOWLEDGEMENT, [_Hit(0, 0)])


def _ownership(run: _Run) -> None:
    if run.ctx.answers_complaint and not _OWNERSHIP.search(run.text):
        run.add(RuleId.MISSING_OWNERSHIP, [_Hit(0, 0)])


def _thanks(run: _Run) -> None:
    if run.ctx.answers_complaint and not _THANKS.search(run.text):
        run.add(RuleId.MISSING_THANKS, [_Hit(0, 0)])


def _vague_promise(run: _Run) -> None:
    spans = _sentences(run.text)
    hits = []
    for hit in _hits(_PROMISE, run.text):
        start, end = _sentence_of(spans, hit.start)
        following = next((e for s, e in spans if s >= end), end)  # and the sentence after
        if not _TIME.search(run.text, start, following) and not _NEXT_STEP.search(
            run.text, start, following
        ):
            hits.append(_Hit(hit.start, end))
    run.add(RuleId.VAGUE_PROMISE, hits[:1])


def _form_letter(run: _Run) -> None:
    own = tuple(re.escape(p) for p in run.rules.stock_phrases)
    pattern = _rx(*_STOCK, *own)
    hits = _hits(pattern, run.text)
    others = run.ctx.sent_to_others
    mine = normalise_for_copy(run.text)
    if others and len(mine) >= 25:
        match = process.extractOne(
            mine,
            [normalise_for_copy(o) for o in others],
            scorer=fuzz.ratio,
            score_cutoff=run.rules.near_copy * 100,
        )
        if match is not None:
            hits.append(
                _Hit(0, len(run.text), f"({match[1]:.0f}% like a reply sent to someone else)")
            )
    run.add(RuleId.FORM_LETTER, hits)


def _names(run: _Run) -> None:
    parts = name_parts(run.ctx.customer_name, run.ctx.customer_handle)
    named = name_parts(run.ctx.customer_name)
    used = _names_used(run.text)
    salutations = {m.start(1) for m in _SALUTATION.finditer(run.text)}
    wrong = []
    if parts:
        for hit in used:
            assert hit.detail is not None
            theirs = _misspelled(hit.detail, named, run.ctx.customer_handle)
            if theirs is not None:
                wrong.append(_Hit(hit.start, hit.end, f'They write it "{theirs}".'))
            elif (
                named
                and hit.start in salutations
                and not any(_fold(hit.detail) == _fold(p) for p in named)
            ):
                # Greeted by another name altogether: "Hi Jon" for Matthew.
                wrong.append(_Hit(hit.start, hit.end, f'Their name is "{named[0]}".'))
    if run.ctx.customer_name:
        # A close spelling anywhere, not only in the greeting: "Mathew" for "Matthew".
        own = name_parts(run.ctx.customer_name)
        seen = {(h.start, h.end) for h in wrong}
        for m in re.finditer(r"\b[A-Z\u00c0-\u024f][a-z\u00c0-\u024f'\-]{2,30}\b", run.text):
            word = m.group()
            if (m.start(), m.end()) in seen or word in _NOT_NAMES or word in own:
                continue
            close = [p for p in own if len(p) >= 3 and fuzz.ratio(word.lower(), p.lower()) >= 80]
            if close and all(word != p for p in own):
                wrong.append(_Hit(m.start(), m.end(), f'They write it "{close[0]}".'))
    run.add(RuleId.NAME_MISSPELLED, wrong)
    if not run.ctx.public and run.ctx.customer_name and run.on(RuleId.NAME_MISSING):
        folded = _fold(run.text)
        if not any(re.search(rf"\b{re.escape(_fold(p))}\b", folded) for p in parts) and not wrong:
            run.add(RuleId.NAME_MISSING, [_Hit(0, 0)])


def _hostile(run: _Run) -> None:
    text = _MASKED.sub(lambda m: " " * len(m.group()), run.text)  # "UPDATE" in a link is not
    hits = _hits(_SARCASM, text) + _hits(_BANG, text)
    letters = [c for c in text if c.isalpha()]
    uppers = sum(c.isupper() for c in letters)
    if len(letters) >= 20 and uppers * 2 > len(letters):
        hits.append(_Hit(0, len(text), "(mostly capitals)"))
    else:
        words = [
            m
            for m in _CAPS_WORD.finditer(text)
            if m.group().replace("'", "") not in _SHOUT_OK and len(m.group()) >= 2
        ]
        hits += [_Hit(m.start(), m.end()) for m in words if m.group() in _EMPHATIC]
        runs = [
            (a, b)
            for a, b in itertools.pairwise(words)
            if text[a.end() : b.start()].strip(" ,") == ""
            and max(len(a.group()), len(b.group())) >= 3
        ]
        hits += [_Hit(a.start(), b.end()) for a, b in runs]
    unique = {(h.start, h.end): h for h in reversed(hits)}
    run.add(RuleId.HOSTILE_TONE, sorted(unique.values(), key=lambda h: h.start))


def _private_details(run: _Run) -> None:
    if not run.ctx.public:
        return
    # Handles and links are not the customer's private details; blank them, keeping spans.
    text = _MASKED.sub(lambda m: " " * len(m.group()), run.text)
    hits = [
        _Hit(m.start(), m.end(), "(an email address)")
        for m in _EMAIL.finditer(text)
        if not _COMPANY_MAILBOX.match(m.group().split("@", 1)[0])
    ]
    hits += [_Hit(h.start, h.end, "(a reference or card number)") for h in _hits(_REFERENCE, text)]
    hits += [_Hit(m.start(), m.end(), "(an address)") for m in _ADDRESS.finditer(text)]
    for region in ("US", "GB"):
        for match in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.POSSIBLE
        ):
            digits = sum(c.isdigit() for c in match.raw_string)
            if digits < 7 or _FREEPHONE.match(match.raw_string.strip()):
                continue  # too short to be a number, or the company's own helpline
            hits.append(_Hit(match.start, match.end, "(a phone number)"))
    taken: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        if not any(t.start <= hit.start < t.end for t in taken):
            taken.append(hit)
    run.add(RuleId.PRIVATE_DETAILS_IN_PUBLIC, taken)


def _length(run: _Run) -> None:
    channel = run.ctx.channel
    limit = run.rules.channel_limits.get(channel) if channel else None
    if limit is None:
        return
    size = x_length(run.text) if channel == "x" else len(run.text)
    if size > limit:
        run.add(
            RuleId.TOO_LONG_FOR_CHANNEL,
            [_Hit(min(limit, len(run.text)), len(run.text), f"({size} of {limit} characters)")],
        )


_RULES: tuple[Callable[[_Run], None], ...] = (
    _defensive,
    _blame_shifting,
    _blames_customer,
    _over_explaining,
    _apology_rules,
    _acknowledgement,
    _ownership,
    _thanks,
    _vague_promise,
    _form_letter,
    _names,
    _hostile,
    _private_details,
    _length,
)


def channel_key(channel: str, platform: str | None = None) -> str:
    """The key the channel limits use: "x", "email", or "review:<platform>"."""
    return f"{channel}:{platform}" if channel == "review" and platform else channel
