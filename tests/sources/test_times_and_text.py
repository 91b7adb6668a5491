"""Pure readers shared by every format: times and text decoding."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from amends.sources.text import UndecodableText, clean, decode
from amends.sources.times import BadTime, parse_time


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-04-01T17:31:32.000Z", datetime(2020, 4, 1, 17, 31, 32, tzinfo=UTC)),
        ("2026-11-02T10:00:00+01:00", datetime(2026, 11, 2, 9, 0, tzinfo=UTC)),
        ("2026-11-02", datetime(2026, 11, 2, tzinfo=UTC)),
        ("2019/9/24", datetime(2019, 9, 24, tzinfo=UTC)),
        ("09/26/2019", datetime(2019, 9, 26, tzinfo=UTC)),
        ("Tue Oct 31 22:10:47 +0000 2017", datetime(2017, 10, 31, 22, 10, 47, tzinfo=UTC)),
        ("Mon, 2 Nov 2026 10:00:00 +0100", datetime(2026, 11, 2, 9, 0, tzinfo=UTC)),
        (1_700_000_000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("1700000000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
    ],
)
def test_parse_time(value: str | int, expected: datetime) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize("value", ["", None, "not a date", "2026-13-45", "   "])
def test_bad_times_are_refused_with_the_field(value: str | None) -> None:
    with pytest.raises(BadTime, match="when"):
        parse_time(value, field="when")


@pytest.mark.parametrize(
    ("raw", "declared", "expected"),
    [
        ("Très déçu".encode(), None, "Très déçu"),
        ("Très déçu du délai".encode("cp1252"), None, "Très déçu du délai"),
        ("Заказ не доставлен, верните деньги".encode("cp1251"), "cp1251",
         "Заказ не доставлен, верните деньги"),
        (b"\xef\xbb\xbfbom first", None, "bom first"),
        ("déclaré".encode("latin-1"), "no-such-charset", "déclaré"),
    ],
)  # fmt: skip
def test_decode(raw: bytes, declared: str | None, expected: str) -> None:
    assert decode(raw, declared) == expected


def test_binary_is_not_text() -> None:
    with pytest.raises(UndecodableText):
        decode(b"\x00\x01\x02\x03\xff\xfe\x00\x00" * 50)


def test_clean_tidies_without_losing_words() -> None:
    assert clean("  a\r\nb\x00c\n\n\n\nd  \n") == "a\nbc\n\nd"
