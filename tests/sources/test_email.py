"""Email: .eml, mbox and Maildir through `amends ingest`, and the message parser on its own."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from amends.cli import app
from amends.feedback.rules import Channel, Direction
from amends.sources.base import Item, ParseOptions, Rejected, Source
from amends.sources.email import html_to_text, message_to_item, parse_mbox, sniff

DATE = "Mon, 02 Nov 2026 09:00:00 +0000"


def message(
    *,
    subject: str = "My order never arrived",
    body: str = "I paid for order 1234 three weeks ago and nothing came. Please help.",
    sender: str = "Ann Lee <ann@example.com>",
    to: str = "Acme Support <support@acme.test>",
    msgid: str | None = "<m1@example.com>",
    date: str | None = DATE,
    headers: dict[str, str] | None = None,
    html: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = date
    if msgid is not None:
        msg["Message-ID"] = msgid
    for name, value in (headers or {}).items():
        msg[name] = value
    if html is None:
        msg.set_content(body)
    else:
        msg.set_content(html, subtype="html")
    return msg.as_bytes(policy=policy.SMTP)


def item_of(raw: bytes, **options: Any) -> Item:
    result = message_to_item(raw, location="message", options=ParseOptions(**options))
    assert isinstance(result, Item), result
    return result


def ingest(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["ingest", *args, "--json"])
    assert result.exit_code in (0, 3), result.output
    return result.exit_code, json.loads(result.stdout)


def lines_of(*args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def mbox(*messages: bytes) -> bytes:
    out = b""
    for number, raw in enumerate(messages, start=1):
        body = raw.replace(b"\r\n", b"\n")
        out += f"From sender{number}@example.com Mon Nov  2 09:0{number}:00 2026\n".encode()
        out += body if body.endswith(b"\n") else body + b"\n"
        out += b"\n"
    return out


def maildir(parent: Path) -> Path:
    box = parent / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    return box


# ---- through the CLI ------------------------------------------------------------------------


def test_eml_is_ingested_once(cli_env: Callable[[], Engine], tmp_path: Path) -> None:
    path = tmp_path / "complaint.eml"
    path.write_bytes(message())

    code, summary = ingest(str(path))
    assert code == 0
    assert (summary["read"], summary["new"], summary["quarantined"]) == (1, 1, 0)
    assert summary["files"][0]["format"] == "eml"
    code, again = ingest(str(path))
    assert (again["new"], again["duplicates"]) == (0, 1)

    [row] = lines_of("export", "feedback")
    assert row["channel"] == "email"
    assert row["direction"] == "in"
    assert row["source_id"] == "m1@example.com"
    assert row["subject"] == "My order never arrived"
    assert row["author_name"] == "Ann Lee"
    assert row["public"] is False
    assert row["text"].startswith("I paid for order 1234")
    [case] = lines_of("cases", "list", "--json")
    assert case["channel"] == "email"


def test_mbox_keeps_going_past_a_broken_message(
    cli_env: Callable[[], Engine], tmp_path: Path
) -> None:
    broken = b"this line is no header\nand no message either\n"
    data = mbox(
        message(msgid="<a@example.com>"),
        broken,
        message(msgid="<c@example.com>", sender="Bo <bo@example.com>"),
    )
    path = tmp_path / "archive"  # no extension: detected from content
    path.write_bytes(data)

    code, summary = ingest(str(path))
    assert code == 3
    assert summary["files"][0]["format"] == "mbox"
    assert (summary["read"], summary["new"], summary["quarantined"]) == (3, 2, 1)
    offset = data.index(b"From sender2@")
    [bad] = lines_of("quarantine", "list", "--json")
    assert bad["location"] == f"message 2 (byte {offset})"
    assert "no email headers" in bad["reason"]
    assert bad["format"] == "mbox"

    code, again = ingest(str(path))
    assert (again["new"], again["duplicates"]) == (0, 2)
    assert len(lines_of("quarantine", "list", "--json")) == 1  # kept once


def test_mbox_unescapes_from_lines_and_does_not_split_on_them(
    cli_env: Callable[[], Engine], tmp_path: Path
) -> None:
    body = (
        b"Hello,\n\n>From the moment I opened the box it was broken.\n\n"
        b"From what I can tell it was dropped in 2026.\n"
    )
    first = message(msgid="<x1@example.com>").replace(b"\r\n", b"\n")
    head, _, _ = first.partition(b"\n\n")
    path = tmp_path / "mail.mbox"
    path.write_bytes(mbox(head + b"\n\n" + body, message(msgid="<x2@example.com>")))

    _, summary = ingest(str(path))
    assert summary["new"] == 2
    texts = {row["source_id"]: row["text"] for row in lines_of("export", "feedback")}
    assert "\nFrom the moment I opened the box" in texts["x1@example.com"]
    assert ">From" not in texts["x1@example.com"]
    assert "From what I can tell" in texts["x1@example.com"]


def test_maildir_reads_cur_and_new(cli_env: Callable[[], Engine], tmp_path: Path) -> None:
    box = maildir(tmp_path)
    (box / "cur" / "1700000000.1.host:2,S").write_bytes(message(msgid="<d1@example.com>"))
    (box / "new" / "1700000001.2.host").write_bytes(
        message(msgid="<d2@example.com>", sender="cy@example.com")
    )
    (box / "new" / "1700000002.3.host").write_bytes(b"\x00\x01\x02" * 100)
    (box / "tmp" / "partial").write_bytes(b"half written")

    code, summary = ingest(str(box))
    assert code == 3
    assert summary["files"][0]["format"] == "maildir"
    assert (summary["read"], summary["new"], summary["quarantined"]) == (3, 2, 1)
    [bad] = lines_of("quarantine", "list", "--json")
    assert bad["location"] == "new/1700000002.3.host"
    assert "binary" in bad["reason"]


def test_binary_file_named_eml_is_quarantined(
    cli_env: Callable[[], Engine], tmp_path: Path
) -> None:
    path = tmp_path / "photo.eml"
    path.write_bytes(bytes(range(256)) * 40)

    code, summary = ingest(str(path))
    assert code == 3
    assert (summary["new"], summary["quarantined"]) == (0, 1)
    assert "binary data" in summary["errors"][0]


def test_text_file_named_mbox_is_one_reject(cli_env: Callable[[], Engine], tmp_path: Path) -> None:
    path = tmp_path / "notes.mbox"
    path.write_bytes(b"just some notes\nnot mail at all\n")

    code, summary = ingest(str(path))
    assert code == 3
    assert (summary["read"], summary["quarantined"]) == (1, 1)
    assert "not an mbox" in summary["errors"][0]


AUTOMATED = [
    {"Auto-Submitted": "auto-replied"},
    {"Precedence": "bulk"},
    {"Precedence": "auto_reply"},
    {"X-Autoreply": "yes"},
    {"X-Autorespond": "Out of office"},
    {"X-Auto-Response-Suppress": "All"},
    {"List-Unsubscribe": "<mailto:leave@lists.example.com>"},
    {"List-Id": "Deals <deals.example.com>"},
    {"Subject": "Out of Office: back on Monday"},
    {"Subject": "Automatic reply: your order"},
    {"Subject": "Auto: away"},
    {"Subject": "Autoreply: thank you for writing"},
]


def test_auto_replies_and_bulk_mail_open_no_case(
    cli_env: Callable[[], Engine], tmp_path: Path
) -> None:
    folder = maildir(tmp_path)
    for number, headers in enumerate(AUTOMATED):
        extra = dict(headers)
        subject = extra.pop("Subject", "Re: your order")
        (folder / "new" / f"auto{number:02}").write_bytes(
            message(
                subject=subject,
                sender=f"robot{number}@example.org",
                msgid=f"<auto{number}@example.org>",
                headers=extra,
            )
        )
    (folder / "new" / "person").write_bytes(message(sender="Real Person <real@example.com>"))

    _, summary = ingest(str(folder))
    assert summary["new"] == len(AUTOMATED) + 1
    assert summary["automated"] == len(AUTOMATED)
    assert summary["cases_opened"] == 1
    rows = lines_of("export", "feedback")
    assert sum(row["automated"] for row in rows) == len(AUTOMATED)
    assert [c["subject"] for c in lines_of("cases", "list", "--json")] == ["My order never arrived"]


def test_bounce_is_automated() -> None:
    raw = (
        b"Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        b"To: support@acme.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Date: " + DATE.encode() + b"\r\nMessage-ID: <bounce1@mx.example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; x@y.z\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n"
        b"--B--\r\n"
    )
    item = item_of(raw)
    assert item.automated
    assert "bounce" in item.meta["automated_reason"]
    assert item.text == "Your message could not be delivered."


def test_brand_address_makes_a_reply(cli_env: Callable[[], Engine], tmp_path: Path) -> None:
    complaint = message(msgid="<q1@example.com>")
    reply = message(
        subject="Re: My order never arrived",
        body="We are sorry, Ann. A replacement ships today.",
        sender="Acme Support <Support+Cases@Acme.test>",
        to="Ann Lee <ann@example.com>",
        msgid="<r1@acme.test>",
        headers={"In-Reply-To": "<q1@example.com>", "References": "<q1@example.com>"},
    )
    folder = maildir(tmp_path)
    (folder / "cur" / "1").write_bytes(complaint)
    (folder / "cur" / "2").write_bytes(reply)

    _, summary = ingest(str(folder), "--brand", "support@acme.test")
    assert (summary["new"], summary["cases_opened"], summary["customers_created"]) == (2, 1, 1)
    rows = {row["source_id"]: row for row in lines_of("export", "feedback")}
    assert rows["r1@acme.test"]["direction"] == "out"
    assert rows["r1@acme.test"]["customer_id"] == rows["q1@example.com"]["customer_id"]
    assert rows["r1@acme.test"]["case_id"] == rows["q1@example.com"]["case_id"]
    assert rows["r1@acme.test"]["thread_key"] == "q1@example.com"


# ---- the parser -----------------------------------------------------------------------------


def test_html_only_mail_becomes_safe_text() -> None:
    html = (
        "<html><head><title>Title here</title><style>p {color: red}</style></head><body>"
        "<script>alert('steal cookies')</script><p>Hello,</p><p>The <b>blender</b> broke."
        "<br>It smokes.</p><!-- tracking comment --><ul><li>order 55</li></ul>"
        "<p>&lt;not a tag&gt;</p></body></html>"
    )
    item = item_of(message(html=html))
    assert "alert" not in item.text
    assert "color" not in item.text
    assert "Title here" not in item.text
    assert "tracking" not in item.text
    assert "<b>" not in item.text
    assert "Hello,\n" in item.text
    assert "The blender broke.\nIt smokes." in item.text
    assert "- order 55" in item.text
    assert "<not a tag>" in item.text  # text that looks like markup is kept as text
    assert item.meta["html_only"] is True


def test_plain_part_preferred_and_attachments_recorded() -> None:
    msg = EmailMessage()
    msg["From"] = "ann@example.com"
    msg["Subject"] = "Broken"
    msg["Date"] = DATE
    msg.set_content("Plain words.")
    msg.add_alternative("<p>HTML words.</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.4 ...", maintype="application", subtype="pdf", filename="rcpt.pdf")
    item = item_of(msg.as_bytes())
    assert item.text == "Plain words."
    assert item.meta["attachments"] == ["rcpt.pdf"]


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("iso-8859-1", "Le café était froid, très déçu."),
        ("windows-1252", "It\u2019s \u201cbroken\u201d and cost 40\u20ac."),
        ("shift_jis", "商品が届きません。返金してください。"),
        ("koi8-r", "Заказ не доставлен."),
        ("utf-8", "Zamówienie nie dotarło 😞"),
    ],
)
def test_declared_charsets(charset: str, text: str) -> None:
    raw = (
        b"From: a@example.com\r\nDate: " + DATE.encode() + b"\r\nSubject: x\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=" + charset.encode() + b"\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + text.encode(charset) + b"\r\n"
    )
    assert item_of(raw).text == text


@pytest.mark.parametrize(
    ("declared", "text", "encoding"),
    [
        ("x-unknown-charset", "Très déçu par la qualité du produit.", "utf-8"),
        ("us-ascii", "Très déçu par la qualité du produit.", "utf-8"),
        (None, "商品が届きません。返金してください。注文番号は1234です。", "shift_jis"),
        ("utf-8", "Заказ не доставлен, прошу вернуть деньги.", "cp1251"),
    ],
)
def test_wrong_or_missing_charset_falls_back(
    declared: str | None, text: str, encoding: str
) -> None:
    content_type = b"text/plain" + (b"; charset=" + declared.encode() if declared else b"")
    raw = (
        b"From: a@example.com\r\nDate: " + DATE.encode() + b"\r\nSubject: Re\xc3\xa7u\r\n"
        b"Content-Type: " + content_type + b"\r\n\r\n" + text.encode(encoding)
    )
    item = item_of(raw)
    assert item.text == text
    assert item.subject == "Reçu"  # undeclared 8-bit in a header


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?iso-8859-1?q?Caf=E9_froid?=", "Café froid"),
        ("=?utf-8?b?5ZWG5ZOB44GM5bGK44GN44G+44Gb44KT?=", "商品が届きません"),
        ("=?shift_jis?b?j6SVaYKqk82Cq4LcgrmC8Q==?=", "商品が届きません"),
        ("=?windows-1252?q?=93Broken=94_again?=", "\u201cBroken\u201d again"),
    ],
)
def test_rfc2047_subjects(header: str, expected: str) -> None:
    raw = b"From: a@example.com\r\nSubject: " + header.encode() + b"\r\n\r\nbody\r\n"
    assert item_of(raw).subject == expected


def test_thread_of_three_shares_one_thread_id() -> None:
    first = item_of(message(msgid="<t1@example.com>"))
    second = item_of(
        message(
            msgid="<t2@acme.test>",
            headers={"In-Reply-To": "<t1@example.com>", "References": "<t1@example.com>"},
        )
    )
    third = item_of(
        message(
            msgid="<t3@example.com>",
            headers={
                "In-Reply-To": "<t2@acme.test>",
                "References": "<t1@example.com> <t2@acme.test>",
            },
        )
    )
    assert first.thread_id == second.thread_id == third.thread_id == "t1@example.com"
    assert third.in_reply_to == "t2@acme.test"
    assert first.in_reply_to is None


def test_quoted_history_and_signature_are_cut() -> None:
    body = (
        "Still broken after the repair.\n\n"
        "On Mon, 2 Nov 2026 at 09:00, Acme Support <support@acme.test>\nwrote:\n\n"
        "> We have repaired your kettle.\n> Regards\n\n"
        "Please call me.\n\n-- \nAnn Lee\nSent from my phone\n"
    )
    assert item_of(message(body=body)).text == "Still broken after the repair.\n\nPlease call me."


def test_a_lone_quote_is_kept() -> None:
    body = "On Monday I wrote to you about this.\n> not after an attribution\n"
    assert "> not after an attribution" in item_of(message(body=body)).text


def test_brand_sender_is_outgoing_to_the_first_recipient() -> None:
    raw = message(sender="support@acme.test", to="Ann <ann@example.com>, cc@example.com")
    item = item_of(raw, brand_handles=frozenset({"acme.test"}))
    assert item.direction is Direction.OUT
    assert [i.value for i in item.identities] == ["ann@example.com"]
    assert item_of(raw).direction is Direction.IN


ADDRESSES = [
    # (From, To, author name, recipients)
    ('"Lee, Ann" <ann@example.com>', "a@acme.test,\r\n\tBo  Ray <bo@acme.test>", "Lee, Ann",
     ["a@acme.test", "bo@acme.test"]),
    ("Ann   Lee\t<ann@example.com>", "<a@acme.test>", "Ann Lee", ["a@acme.test"]),
    ("=?utf-8?q?Chlo=C3=A9_L=C3=B3pez?= <ann@example.com>", "undisclosed-recipients:;",
     "Chloé López", []),
    # Undeclared 8-bit in the name, as some clients send it.
    ("Chloé López <ann@example.com>", "Acme (desk) <a@acme.test>", "Chloé López", ["a@acme.test"]),
    # A comment is no display name; an empty address is skipped.
    ("ann@example.com (Ann Lee)", "a@acme.test, Bo <>", None, ["a@acme.test"]),
]  # fmt: skip


@pytest.mark.parametrize(("sender", "to", "name", "recipients"), ADDRESSES)
def test_address_headers(sender: str, to: str, name: str | None, recipients: list[str]) -> None:
    head = f"From: {sender}\r\nTo: {to}\r\nSubject: Late\r\nDate: {DATE}\r\n"
    item = item_of(head.encode() + b"\r\nWhere is it?\r\n")
    assert (item.author_name, item.author_handle) == (name, "ann@example.com")
    assert item.meta.get("to", []) == recipients


def test_date_that_is_no_rfc_2822_date() -> None:
    raw = b"From: a@example.com\r\nDate: 2026-11-02T09:00:00+01:00\r\n\r\nStill late.\r\n"
    item = item_of(raw)
    assert item.received_at.isoformat() == "2026-11-02T08:00:00+00:00"
    assert "time_assumed" not in item.meta


def test_mbox_message_without_date_takes_the_from_line_time(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    path.write_bytes(mbox(message(date=None), message(msgid="<m2@example.com>")))
    first, second = parse_mbox(Source("mail", path=path), ParseOptions())
    assert isinstance(first, Item)
    assert isinstance(second, Item)
    assert first.received_at.isoformat() == "2026-11-02T09:01:00+00:00"
    assert "time_assumed" not in first.meta
    assert second.received_at.isoformat() == "2026-11-02T09:00:00+00:00"  # its own Date


def test_time_from_received_then_assumed() -> None:
    received = "from mx.example.com by mail.acme.test; Tue, 03 Nov 2026 10:30:00 +0100 (CET)"
    item = item_of(message(date=None, headers={"Received": received}))
    assert item.received_at.isoformat() == "2026-11-03T09:30:00+00:00"
    item = item_of(message(date=None))
    assert item.meta["time_assumed"] is True
    assert item.channel is Channel.EMAIL


def test_message_without_id_gets_a_stable_one() -> None:
    raw = message(msgid=None)
    first, second = item_of(raw), item_of(raw)
    assert first.source_id == second.source_id
    assert str(first.source_id).startswith("sha256:")
    assert first.thread_id == first.source_id


def test_subject_only_message_keeps_the_subject_as_text() -> None:
    assert item_of(message(subject="Refund not received!", body="")).text == (
        "Refund not received!"
    )


def test_message_with_nothing_to_read_is_rejected() -> None:
    raw = b"From: a@example.com\r\nDate: " + DATE.encode() + b"\r\n\r\n"
    result = message_to_item(raw, location="message 4 (byte 10)", options=ParseOptions())
    assert isinstance(result, Rejected)
    assert result.location == "message 4 (byte 10)"
    assert result.raw == raw


def test_html_to_text_keeps_table_cells_apart() -> None:
    text = html_to_text("<table><tr><td>Order</td><td>55</td></tr><tr><td>Paid</td></tr></table>")
    assert text.split("\n") == ["Order 55", "Paid"]


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b"From ann@example.com Mon Nov  2 09:00:00 2026\nFrom: ann@example.com\n", "x", "mbox"),
        (b"Received: from a by b; " + DATE.encode() + b"\nFrom: a@b.c\nSubject: hi\n", "x", "eml"),
        (b"anything", "message.eml", "eml"),
        (b"anything", "Archive.MBOX", "mbox"),
    ],
)
def test_sniff(head: bytes, name: str, expected: str) -> None:
    scores = sniff(head, name)
    assert max(scores, key=lambda k: scores[k]) == expected
    assert scores[expected] >= 40


def test_sniff_ignores_other_text() -> None:
    assert sniff(b"id,text\n1,hello\n", "data.csv") == {}
    assert sniff(b'{"text": "From: me"}', "data.json") == {}


def test_mbox_is_streamed(tmp_path: Path) -> None:
    # Memory must not grow with the file: four times the messages, about the same peak.
    one = message(body="The parcel was left in the rain.\n" * 1200)

    def peak_for(count: int) -> int:
        path = tmp_path / f"{count}.mbox"
        with path.open("wb") as out:
            for number in range(count):
                out.write(mbox(one.replace(b"<m1@", f"<big{number}@".encode())))
        tracemalloc.start()
        try:
            read = sum(1 for _ in parse_mbox(Source("big", path=path), ParseOptions()))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert read == count
        return peak

    small, large = peak_for(10), peak_for(40)  # 0.4 MB and 1.6 MB
    assert large < small * 1.5 + 200_000
