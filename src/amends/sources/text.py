"""Decoding bytes of unknown charset and cleaning text. No IO."""

from __future__ import annotations

import re
import unicodedata

from charset_normalizer import from_bytes

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n{3,}")


class UndecodableText(ValueError):
    pass


def decode(raw: bytes, declared: str | None = None) -> str:
    """Decode `raw` using the declared charset, else UTF-8, else the best detected guess."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for charset in (declared, "utf-8"):
        if not charset:
            continue
        try:
            return raw.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    if looks_binary(raw):
        raise UndecodableText("binary data, not text")
    return raw.decode(guess_encoding(raw), errors="replace")


# Latin single-byte code pages that detectors confuse on short Western European text.
_LATIN_PAGES = frozenset(
    {"cp1250", "cp1252", "cp1257", "latin_1", "iso8859_1", "iso8859_2", "iso8859_4",
     "iso8859_13", "iso8859_15", "mac_latin2", "mac_roman", "mac_iceland", "cp850", "cp437"}
)  # fmt: skip


def guess_encoding(raw: bytes) -> str:
    """The most likely charset of non-UTF-8 bytes; Windows-1252 when any Latin page fits.

    Detectors often pick a Baltic or Central European page for a short French or Spanish text
    ("Trčs" for "Très"); Windows-1252 is by far the most common legacy encoding in practice.
    """
    best = from_bytes(raw[:200_000]).best()
    if best is None or best.encoding is None:
        raise UndecodableText("unknown character encoding")
    if best.encoding.lower().replace("-", "_") in _LATIN_PAGES:
        try:
            raw.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            pass
    return best.encoding


def looks_binary(raw: bytes) -> bool:
    """True for data that is no text in any encoding (NULs, many control bytes)."""
    sample = raw[:8192]
    if not sample:
        return False
    if b"\x00" in sample and not (sample.startswith((b"\xff\xfe", b"\xfe\xff"))):
        return True
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls / len(sample) > 0.1


def clean(text: str) -> str:
    """Normalise a text for storage: NFC, no control characters, tidy line ends and blank runs."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()
