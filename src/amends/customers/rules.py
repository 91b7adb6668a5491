"""Normalising identities so that the same person is recognised on every channel. No IO."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers


class IdentityKind(StrEnum):
    EMAIL = "email"
    HANDLE = "handle"  # a social handle, stored as "platform:handle"
    PHONE = "phone"  # E.164
    CUSTOMER_REF = "customer_ref"
    ORDER_REF = "order_ref"


@dataclass(frozen=True)
class IdentityRef:
    """An identity as a source wrote it, before normalisation."""

    kind: IdentityKind
    value: str
    platform: str | None = None  # for handles: "x", "facebook", "google", ...


@dataclass(frozen=True)
class NormalIdentity:
    kind: IdentityKind
    key: str  # "kind:value", the unique key
    display: str


def new_customer_ref() -> str:
    """A fresh public customer reference: "c_" and 20 random hex digits."""
    return "c_" + secrets.token_hex(10)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HANDLE = re.compile(r"^@?([\w.\-]{1,100})$")


class InvalidIdentity(ValueError):
    pass


def normalise(ref: IdentityRef, *, default_region: str = "US") -> NormalIdentity:
    """Return the canonical form of an identity, or raise InvalidIdentity."""
    raw = ref.value.strip()
    if not raw:
        raise InvalidIdentity(f"empty {ref.kind}")
    if ref.kind is IdentityKind.EMAIL:
        if not _EMAIL.match(raw) or len(raw) > 254:
            raise InvalidIdentity(f"not an email address: {raw[:80]!r}")
        # Addresses are compared case-insensitively, as every mail system in practice does.
        return NormalIdentity(ref.kind, f"email:{raw.lower()}", raw)
    if ref.kind is IdentityKind.HANDLE:
        match = _HANDLE.match(raw)
        if not match:
            raise InvalidIdentity(f"not a social handle: {raw[:80]!r}")
        platform = (ref.platform or "social").lower()
        handle = match.group(1)
        return NormalIdentity(ref.kind, f"handle:{platform}:{handle.lower()}", f"@{handle}")
    if ref.kind is IdentityKind.PHONE:
        try:
            number = phonenumbers.parse(raw, default_region)
        except phonenumbers.NumberParseException as exc:
            raise InvalidIdentity(f"not a phone number: {raw[:40]!r}") from exc
        if not phonenumbers.is_possible_number(number):
            raise InvalidIdentity(f"not a phone number: {raw[:40]!r}")
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return NormalIdentity(ref.kind, f"phone:{e164}", e164)
    # Customer and order references: case and surrounding space do not matter.
    value = " ".join(raw.split()).upper()
    if len(value) > 200:
        raise InvalidIdentity(f"{ref.kind} longer than 200 characters")
    return NormalIdentity(ref.kind, f"{ref.kind.value}:{value}", raw)


class _Components:
    """Union-find over identity keys, to link identities that arrive together."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        parent = self.parent.setdefault(key, key)
        while parent != self.parent[parent]:
            self.parent[parent] = self.parent[self.parent[parent]]
            parent = self.parent[parent]
        self.parent[key] = parent
        return parent

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def link_groups(groups: list[list[str]]) -> dict[str, str]:
    """Map each identity key to a representative key; keys seen together share one."""
    components = _Components()
    for keys in groups:
        for key in keys:
            components.find(key)
        for other in keys[1:]:
            components.union(keys[0], other)
    return {key: components.find(key) for key in components.parent}
