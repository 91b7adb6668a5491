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
    for charset in (declared, wide_encoding(raw), "utf-8"):
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


_WESTERN_PUNCTUATION = frozenset(
    "\u20ac\u2018\u2019\u201a\u201c\u201d\u201e\u2026\u2013\u2014\u2022\u00ab\u00bb\u00b0\u00a3\u00a5\u00a7\u00a9\u00ae\u00b1\u00b7\u00bf\u00a1\u00ba\u00aa"
)  # curly quotes, dashes, currency and such


def _reads_as_western(raw: bytes) -> bool:
    """True when Windows-1252 turns every non-ASCII byte into a letter or common punctuation.

    Detectors are unreliable on a few words ("déclaré" came back as Urdu); a text whose every
    accented character is a Latin letter is almost surely Western European.
    """
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        return False
    odd = [ch for ch in text if not ch.isascii()]
    letters = sum(1 for ch in text if ch.isalpha())
    # In Western text accented letters are a minority; Cyrillic read as 1252 is all accents.
    return (
        bool(odd)
        and len(odd) < 0.3 * max(1, letters)
        and all(
            ("\u00c0" <= ch <= "\u017f" and ch.isalpha()) or ch in _WESTERN_PUNCTUATION
            for ch in odd
        )
    )


def guess_encoding(raw: bytes) -> str:
    """The most likely charset of non-UTF-8 bytes; Windows-1252 when any Latin page fits.

    Detectors often pick a Baltic or Central European page for a short French or Spanish text
    ("Trčs" for "Très"); Windows-1252 is by far the most common legacy encoding in practice.
    """
    if _reads_as_western(raw[:200_000]):
        return "cp1252"
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


# Bytes below 0x20 other than tab, line feed, vertical tab, form feed and carriage return.
_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])


def looks_binary(raw: bytes) -> bool:
    """True for data that is no text in any encoding (many NULs or control bytes).

    UTF-16 and UTF-32 text (with a byte-order mark) is text; a stray NUL in a text is damage to
    one record, not a sign of a binary file.
    """
    sample = raw[:8192]
    if not sample or sample.startswith(_WIDE_BOMS):
        return False
    if sample.count(0) > max(2, len(sample) // 100):
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls / len(sample) > 0.1


_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def wide_encoding(raw: bytes) -> str | None:
    """The encoding named by a UTF-16 or UTF-32 byte-order mark, if there is one."""
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return None


def clean(text: str) -> str:
    """Normalise a text for storage: NFC, no control characters, tidy line ends and blank runs."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()
