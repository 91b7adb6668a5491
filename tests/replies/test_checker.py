"""The reply checker, rule by rule: what each flags, where, and what it leaves alone."""

from __future__ import annotations

import pytest

from amends.errors import InvalidInput
from amends.playbook.rules import build_policy
from amends.playbook.service import parse_document
from amends.replies.checker import ReplyContext, check_reply
from amends.replies.rules import CheckerRules, RuleId, Severity

GOOD = (
    "Hi Ana, I'm sorry we charged you twice for your order - that was our mistake. I've "
    "refunded the second payment today and you'll see it within 3 working days. Thank you "
    "for telling us."
)
COMPLAINT = "You charged me twice for my order! I want the second payment back."
PRIVATE = ReplyContext(public=False, customer_name="Ana López", complaint=COMPLAINT)
PUBLIC_X = ReplyContext(public=True, channel="x", complaint=COMPLAINT)


def rules_of(text: str, ctx: ReplyContext = PRIVATE) -> set[str]:
    return {f.rule.value for f in check_reply(text, ctx).findings}


def test_a_good_personal_apology_has_no_findings() -> None:
    result = check_reply(GOOD, PRIVATE)
    assert result.findings == ()
    assert result.blocking is False


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ("defensive", "Our records show the payment was taken once."),
        ("defensive", "As we already explained, this is not our fault."),
        ("defensive", "With all due respect, we followed our procedures."),
        ("blame_shifting", "The courier lost your parcel, not us."),
        ("blame_shifting", "The delay was due to circumstances beyond our control."),
        ("blame_shifting", "This was caused by the bank, which delayed the payment."),
        ("blames_customer", "You should have read the delivery instructions."),
        ("blames_customer", "As stated in our terms, returns take 30 days."),
        ("blames_customer", "You entered the wrong address at checkout."),
        ("non_apology", "We're sorry you feel that way."),
        ("non_apology", "We apologise if you were offended by the message."),
        ("non_apology", "Sorry if this caused any upset."),
        ("form_letter", "Dear valued customer, thank you for your email."),
        ("form_letter", "We apologise for any inconvenience this may have caused."),
        ("form_letter", "Your call is important to us."),
        ("vague_promise", "We'll look into it and get back to you."),
        ("vague_promise", "Someone will be in touch."),
        ("hostile_tone", "We have ALREADY told you this."),
        ("hostile_tone", "Please read the email!!!"),
        ("hostile_tone", "Calm down, it is only a parcel."),
        ("grovelling", "We are so so sorry, please forgive us, we don't deserve you."),
        ("grovelling", "Sorry. We apologise. Apologies again, sorry."),
        ("perk_without_apology", "Here is a 20% off voucher for your next order, Ana."),
    ],
)
def test_each_rule_flags_its_phrases(rule: str, text: str) -> None:
    assert rule in rules_of(text)


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ("blame_shifting", "We chose the courier, so the lost parcel is on us, Ana. Sorry."),
        ("non_apology", "I'm sorry you had to wait so long for the refund, Ana."),
        ("perk_without_apology", "I'm sorry, Ana. As a sign of our apology, here is a voucher."),
        ("hostile_tone", "Thanks, Ana! I've reset your PIN and sent the UK URL by SMS."),
        ("vague_promise", "I'll look into it and call you by 3pm tomorrow, Ana."),
        ("vague_promise", "We'll update you within 24 hours, Ana."),
        ("defensive", "I'm sorry, Ana, we got this wrong."),
        ("grovelling", "I'm sorry we charged you twice, Ana."),
    ],
)
def test_each_rule_leaves_the_near_misses_alone(rule: str, text: str) -> None:
    assert rule not in rules_of(text)


def test_findings_carry_the_span_message_and_fix() -> None:
    text = "Hi Ana, our records show one payment. Sorry for any inconvenience."
    found = {f.rule: f for f in check_reply(text, PRIVATE).findings}
    defensive = found[RuleId.DEFENSIVE]
    assert text[defensive.start : defensive.end] == "our records show"
    assert defensive.severity is Severity.BLOCK
    assert defensive.suggestion
    letter = found[RuleId.FORM_LETTER]
    assert text[letter.start : letter.end].lower().startswith("sorry for any inconvenience")
    assert check_reply(text, PRIVATE).blocking


def test_missing_parts_are_found_only_on_a_reply_to_a_complaint() -> None:
    bare = "Hi Ana, the parcel is with you tomorrow."
    found = rules_of(bare)
    assert {"missing_apology", "missing_ownership", "missing_thanks"} <= found
    assert "missing_acknowledgement" in found  # nothing of the double charge is named
    calm = ReplyContext(customer_name="Ana López", complaint="Thanks!", is_complaint=False)
    assert not {"missing_apology", "missing_ownership", "missing_thanks"} & rules_of(bare, calm)


def test_the_name_as_the_customer_spells_it() -> None:
    assert "name_misspelled" in rules_of("Hi Anna, " + GOOD.removeprefix("Hi Ana, "))
    assert "name_misspelled" in rules_of(
        "Sorry about the crash, Mathew. That's on us; thanks for telling us.",
        ReplyContext(public=True, channel="x", customer_handle="@ImagesMatthew"),
    )
    accents = ReplyContext(customer_name="Chloé Martin")
    assert "name_misspelled" in rules_of("Hi Chloe, sorry, that was our mistake. Thanks.", accents)
    assert "name_misspelled" not in rules_of("Hi Chloé, sorry, that was our mistake.", accents)
    # A private reply that never names them; a public one need not.
    nameless = GOOD.removeprefix("Hi Ana, ")
    assert "name_missing" in rules_of(nameless)
    assert "name_missing" not in rules_of(nameless, PUBLIC_X)


def test_private_details_only_matter_in_public() -> None:
    text = (
        "Sorry Ana, that's on us. Your order #884512 to ana.lopez@gmail.com at 12 Baker Street "
        "is on its way; call 07700 900123. Thanks."
    )
    found = list(check_reply(text, PUBLIC_X).findings)
    spans = {text[f.start : f.end] for f in found if f.rule is RuleId.PRIVATE_DETAILS_IN_PUBLIC}
    assert {"#884512", "ana.lopez@gmail.com", "12 Baker Street", "07700 900123"} <= spans
    assert "private_details_in_public" not in rules_of(text, PRIVATE)
    helpline = "Sorry, that's on us: write to support@example.com or call 0800 123 4567. Thanks."
    assert "private_details_in_public" not in rules_of(helpline, PUBLIC_X)


def test_length_is_counted_as_the_channel_counts_it() -> None:
    link = "https://example.com/" + "a" * 200
    reply = f"@ana @shop Sorry, that's on us - the fix is here: {link} Thanks!"
    assert "too_long_for_channel" not in rules_of(reply, PUBLIC_X)  # a link counts 23 on X
    long = "Sorry, that's on us. " + "We will fix the charge on your order today. " * 8
    assert "too_long_for_channel" in rules_of(long, PUBLIC_X)
    play = ReplyContext(public=True, channel="review:google-play", complaint=COMPLAINT)
    assert "too_long_for_channel" in rules_of("Sorry. " + "x" * 350, play)
    assert "too_long_for_channel" not in rules_of("Sorry. " + "x" * 300, play)


def test_near_copies_of_replies_to_others_read_as_form_letters() -> None:
    sent = ["@bob Please let us know what platform you are playing on so we may assist. *SR"]
    copy = "@ana Please let us know what platform you are playing on so we may assist. *TB"
    ctx = ReplyContext(public=True, channel="x", sent_to_others=sent, is_complaint=False)
    assert "form_letter" in rules_of(copy, ctx)
    own = "@ana Which console were you playing on when the save was lost? We'll check it today."
    assert "form_letter" not in rules_of(own, ctx)


def test_over_explaining() -> None:
    text = (
        "Sorry, Ana. The charge happened because our payment system retried the request after "
        "the first attempt timed out. This was caused by a timeout in our backend, which was "
        "under maintenance that night. Our process then flagged the order as unpaid due to a "
        "technical fault in the reconciliation job. As a result the warehouse held it, and the "
        "retry went through the next morning. Thanks."
    )
    assert "over_explaining" in rules_of(text)
    assert "over_explaining" not in rules_of(GOOD)


def test_the_playbook_sets_severity_wording_and_limits() -> None:
    book = parse_document(
        """
sla:
  targets:
    P1: {first_response: 1h, next_response: 1h, resolution: 4h}
    P2: {first_response: 2h, next_response: 2h, resolution: 8h}
    P3: {first_response: 4h, next_response: 4h, resolution: 16h}
    P4: {first_response: 8h, next_response: 8h, resolution: 40h}
checker:
  rules:
    missing_apology: {severity: block, message: "Say sorry first."}
    defensive: {severity: off}
  channel_limits: {email: 100}
  stock_phrases: ["warm regards from all of us"]
"""
    )
    rules: CheckerRules = build_policy(book, version=1).checker
    ctx = ReplyContext(channel="email", complaint=COMPLAINT)
    result = check_reply("Our records show one payment.", ctx, rules)
    by_rule = {f.rule: f for f in result.findings}
    assert RuleId.DEFENSIVE not in by_rule
    assert by_rule[RuleId.MISSING_APOLOGY].severity is Severity.BLOCK
    assert by_rule[RuleId.MISSING_APOLOGY].message == "Say sorry first."
    assert result.blocking
    assert "too_long_for_channel" in {
        f.rule.value for f in check_reply("Sorry! " + "y" * 120, ctx, rules).findings
    }
    assert "form_letter" in {
        f.rule.value
        for f in check_reply("Sorry. Warm regards from all of us.", ctx, rules).findings
    }


def test_a_bad_playbook_rule_is_refused_with_its_place() -> None:
    with pytest.raises(InvalidInput, match=r"checker\.rules"):
        parse_document(
            """
sla:
  targets:
    P1: {first_response: 1h, next_response: 1h, resolution: 4h}
    P2: {first_response: 2h, next_response: 2h, resolution: 8h}
    P3: {first_response: 4h, next_response: 4h, resolution: 16h}
    P4: {first_response: 8h, next_response: 8h, resolution: 40h}
checker:
  rules:
    politeness: {severity: block}
"""
        )


def test_empty_and_hostile_input() -> None:
    assert check_reply("   ").findings == ()
    # Markup and control characters are text like any other; spans stay within the text.
    text = "<script>alert(1)</script>\x00 Sorry, that's on us. Thanks."
    for f in check_reply(text, PRIVATE).findings:
        assert 0 <= f.start <= f.end <= len(text)
    huge = "sorry " * 20_000
    assert "grovelling" in {f.rule.value for f in check_reply(huge, PRIVATE).findings}


def test_an_apology_elsewhere_does_not_excuse_a_defence() -> None:
    text = "Sorry, that's on us. Thanks for telling us. That is not our fault, though."
    assert "defensive" in rules_of(text)
    owned = "Our records show it arrived on the 3rd, so the fee was our error. Sorry, Ana."
    assert "defensive" not in rules_of(owned)


@pytest.mark.parametrize(
    "detail", ["order #NW-55123", "your order #A12345", "the card ending 4242", "ref #99812"]
)
def test_references_in_any_shape_stay_out_of_public_replies(detail: str) -> None:
    text = f"Sorry, that's on us: {detail} is refunded today. Thanks."
    assert "private_details_in_public" in rules_of(text, PUBLIC_X)


def test_a_different_name_altogether_is_wrong() -> None:
    ctx = ReplyContext(customer_name="Matthew Hale", complaint=COMPLAINT)
    found = {f.rule.value: f for f in check_reply("Sorry Jon, that's on us. Thanks.", ctx).findings}
    assert found["name_misspelled"].message.endswith('Their name is "Matthew".')
    assert "name_misspelled" not in rules_of("Dear Mr Hale, sorry, that's on us. Thanks.", ctx)
