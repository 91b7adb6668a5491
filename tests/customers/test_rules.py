"""Identity normalisation: the same person is recognised however a channel writes them."""

from __future__ import annotations

import pytest

from amends.customers.rules import (
    IdentityKind,
    IdentityRef,
    InvalidIdentity,
    link_groups,
    normalise,
)

K = IdentityKind


@pytest.mark.parametrize(
    ("ref", "key"),
    [
        (IdentityRef(K.EMAIL, "Ana.Lopez@Example.COM"), "email:ana.lopez@example.com"),
        (IdentityRef(K.EMAIL, "  bram@example.org "), "email:bram@example.org"),
        (IdentityRef(K.HANDLE, "@AnaLopez", "x"), "handle:x:analopez"),
        (IdentityRef(K.HANDLE, "AnaLopez", "X"), "handle:x:analopez"),
        (IdentityRef(K.HANDLE, "ana.lopez", "instagram"), "handle:instagram:ana.lopez"),
        (IdentityRef(K.PHONE, "+44 20 7946 0958"), "phone:+442079460958"),
        (IdentityRef(K.PHONE, "(415) 555-0132"), "phone:+14155550132"),
        (IdentityRef(K.PHONE, "+1-415-555-0132"), "phone:+14155550132"),
        (IdentityRef(K.ORDER_REF, " ord-1234 "), "order_ref:ORD-1234"),
        (IdentityRef(K.CUSTOMER_REF, "c  77"), "customer_ref:C 77"),
    ],
)
def test_normalise(ref: IdentityRef, key: str) -> None:
    assert normalise(ref, default_region="US").key == key


def test_email_display_keeps_the_spelling() -> None:
    assert (
        normalise(IdentityRef(K.EMAIL, "Ana.Lopez@Example.com")).display == "Ana.Lopez@Example.com"
    )


@pytest.mark.parametrize(
    "ref",
    [
        IdentityRef(K.EMAIL, "not-an-address"),
        IdentityRef(K.EMAIL, ""),
        IdentityRef(K.HANDLE, "has space", "x"),
        IdentityRef(K.PHONE, "call me"),
        IdentityRef(K.PHONE, "12"),
    ],
)
def test_invalid_identities_are_refused(ref: IdentityRef) -> None:
    with pytest.raises(InvalidIdentity):
        normalise(ref)


def test_identities_seen_together_link_transitively() -> None:
    roots = link_groups([["a", "b"], ["c"], ["b", "d"], ["e", "c"]])
    assert roots["a"] == roots["b"] == roots["d"]
    assert roots["c"] == roots["e"]
    assert roots["a"] != roots["c"]
