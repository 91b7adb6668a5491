"""Chat and call transcripts (`Speaker: text` turns, JSON segments) through the CLI and parser."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.helpers import counts, exported, ingest

from amends import sources
from amends.feedback.rules import Channel, Direction
from amends.sources.base import Item, ParseOptions, Rejected, Source
from amends.sources.transcript import parse_transcript


def parsed(path: Path, **options: Any) -> list[Item | Rejected]:
    return list(parse_transcript(Source(name=path.name, path=path), ParseOptions(**options)))


def items(path: Path, **options: Any) -> list[Item]:
    records = parsed(path, **options)
    assert all(isinstance(r, Item) for r in records), records
    return [r for r in records if isinstance(r, Item)]


@pytest.fixture
def desk(cli_env: Callable[[], Engine]) -> Callable[[], Engine]:
    return cli_env


CHAT = """\
Conversation-ID: CH-20240611-0042
Date: 2024-06-11
Channel: chat
Customer: Noor Haddad
Email: noor.haddad@example.com
Agent: Maria

[10:02] Noor: Hi, my refund for order 88213 still hasn't arrived.
It's been three weeks and I was told 5 days.
[10:03] Maria: I'm sorry about that, Noor. Let me check the order.
Note: the refund was approved on 21 May.
[10:05] Maria: I can see it was sent to an old card. I'll reissue it now.
[10:06] Noor: Thank you. Please make sure it doesn't happen again.
[10:07] Bot: This chat has been rated by the customer.
"""


def test_chat_transcript_through_the_cli(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "chat-0042.txt"
    path.write_text(CHAT, encoding="utf-8")
    assert sources.detect(Source(name=path.name, path=path)) == "transcript"
    first = ingest(path)
    assert first["files"][0]["format"] == "transcript"
    # Maria's two lines in a row are one turn.
    assert counts(first) == (4, 4, 0, 0)
    assert counts(ingest(path)) == (4, 0, 4, 0)

    rows = exported()
    assert [r["direction"] for r in rows] == ["in", "out", "in", "out"]
    assert [r["source_id"] for r in rows] == [f"CH-20240611-0042:{n}" for n in range(1, 5)]
    assert {r["channel"] for r in rows} == {"chat"}
    assert not any(r["public"] for r in rows)
    assert {r["thread_key"] for r in rows} == {"CH-20240611-0042"}
    assert len({r["customer_id"] for r in rows}) == 1
    # The bot's line is kept, but like any automated message it joins no case.
    assert len({r["case_id"] for r in rows[:3]}) == 1
    assert rows[0]["case_id"] is not None
    assert rows[0]["text"] == (
        "Hi, my refund for order 88213 still hasn't arrived.\n"
        "It's been three weeks and I was told 5 days."
    )
    # "Note:" is not a speaker: it continues Maria's turn, with her next line.
    assert rows[1]["text"].splitlines() == [
        "I'm sorry about that, Noor. Let me check the order.",
        "Note: the refund was approved on 21 May.",
        "I can see it was sent to an old card. I'll reissue it now.",
    ]
    assert rows[0]["received_at"].startswith("2024-06-11T10:02:00")
    assert rows[2]["received_at"].startswith("2024-06-11T10:06:00")
    assert rows[1]["author_name"] == "Maria"
    assert rows[0]["author_name"] == "Noor"
    assert rows[3]["automated"] is True
    assert rows[3]["direction"] == "out"


def test_call_transcript_with_offsets_and_role_labels(tmp_path: Path) -> None:
    path = tmp_path / "call.txt"
    path.write_text(
        "Date: 2024-02-01 14:30\nChannel: phone call\nPhone: +1 415 555 0100\n\n"
        "00:00:04 Agent: Thanks for calling Acme, this is Tom.\n"
        "00:00:09 Caller: My internet has been down since Monday.\n"
        "00:01:15 Agent: I see an outage in your area; I'll credit the week.\n",
        encoding="utf-8",
    )
    turns = items(path)
    assert [t.direction for t in turns] == [Direction.OUT, Direction.IN, Direction.OUT]
    assert {t.channel for t in turns} == {Channel.CALL}
    assert [t.received_at for t in turns] == [
        datetime(2024, 2, 1, 14, 30, 4, tzinfo=UTC),
        datetime(2024, 2, 1, 14, 30, 9, tzinfo=UTC),
        datetime(2024, 2, 1, 14, 31, 15, tzinfo=UTC),
    ]
    assert [(i.kind.value, i.value) for i in turns[1].identities] == [("phone", "+1 415 555 0100")]
    assert turns[0].thread_id is not None
    assert turns[0].thread_id.startswith("transcript-")
    assert turns[1].in_reply_to == turns[0].source_id


def test_brand_names_and_untimed_turns(tmp_path: Path) -> None:
    path = tmp_path / "chat"
    path.write_text(
        "Jo: the app logs me out every hour\nAcmeBot: Have you tried updating?\n"
        "Jo: yes, twice\nAcme Care: Escalating to our engineers now.\n",
        encoding="utf-8",
    )
    turns = items(path, brand_handles=frozenset({"acme care", "acmebot"}))
    assert [t.direction for t in turns] == [
        Direction.IN,
        Direction.OUT,
        Direction.IN,
        Direction.OUT,
    ]
    assert len({t.received_at for t in turns}) == 1  # the file's time: no stamps, no date
    # Nobody named in a header: the conversation itself is the customer's identity.
    assert {t.identities for t in turns} == {turns[0].identities}
    assert turns[0].identities[0].platform == "chat-conversation"


def test_anonymous_chat_gives_one_customer_and_one_case(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "anon.txt"
    path.write_text(
        "Customer: my parcel is lost\nAgent: sorry! which order?\nCustomer: 5512\n"
        "Agent: found it, resending today\n",
        encoding="utf-8",
    )
    assert counts(ingest(path)) == (4, 4, 0, 0)
    rows = exported()
    assert len({r["customer_id"] for r in rows}) == 1
    assert len({r["case_id"] for r in rows}) == 1


def test_file_without_turns_is_one_reject(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Called the customer back.\nNo answer, left a voicemail.\n", encoding="utf-8")
    summary = ingest(path, "--format", "transcript", code=3)
    assert counts(summary) == (1, 0, 0, 1)
    assert "file: no `Speaker: text` turns found" in summary["errors"][0]


SEGMENTS = {
    "metadata": {
        "conversation_id": "call-7781",
        "started_at": "2024-07-09T16:00:00Z",
        "channel": "call",
        "customer_email": "ines@example.com",
    },
    "segments": [
        {"speaker": "Agent", "text": "Acme billing, how can I help?", "start": 0.0},
        {"speaker": "Customer", "text": "You charged me twice", "start": 3.2},
        {"speaker": "Customer", "text": "for the same month.", "start": 5.0},
        {"speaker": "Agent", "text": "", "start": 9.0},
        {"text": "who said this?", "start": 10.0},
        {"speaker": "Agent", "text": "I've refunded the duplicate charge.", "start": 21.5},
    ],
}


def test_json_segments(tmp_path: Path) -> None:
    path = tmp_path / "call-7781.json"
    path.write_text(json.dumps(SEGMENTS), encoding="utf-8")
    assert sources.detect(Source(name=path.name, path=path)) == "transcript"
    records = parsed(path)
    assert [(r.location, r.reason) for r in records if isinstance(r, Rejected)] == [
        ("segment 4", "a segment with no text"),
        ("segment 5", "a segment with no speaker"),
    ]
    turns = [r for r in records if isinstance(r, Item)]
    assert [t.direction for t in turns] == [Direction.OUT, Direction.IN, Direction.OUT]
    assert turns[1].text == "You charged me twice\nfor the same month."
    assert turns[1].received_at == datetime(2024, 7, 9, 16, 0, 3, 200000, tzinfo=UTC)
    assert {t.channel for t in turns} == {Channel.CALL}
    assert [t.source_id for t in turns] == ["call-7781:1", "call-7781:2", "call-7781:3"]
    assert [i.value for i in turns[0].identities] == ["ines@example.com"]


def test_bare_list_of_segments_and_truncation(tmp_path: Path) -> None:
    path = tmp_path / "segments.json"
    text = json.dumps(SEGMENTS["segments"][:3] + SEGMENTS["segments"][5:])
    path.write_text(text[:-30], encoding="utf-8")
    records = parsed(path)
    assert [type(r) for r in records] == [Rejected, Item, Item]
    assert records[0].location == "after item 3"  # type: ignore[union-attr]


def test_amazon_connect_chat_transcript(tmp_path: Path) -> None:
    path = tmp_path / "connect.json"
    path.write_text(
        json.dumps(
            {
                "Version": "2019-08-26",
                "ContactId": "5a1c-77",
                "Participants": [{"ParticipantId": "p-1"}, {"ParticipantId": "p-2"}],
                "Transcript": [
                    {
                        "AbsoluteTime": "2024-08-01T09:00:00.100Z",
                        "ContentType": "application/vnd.amazonaws.connect.event.participant.joined",
                        "Id": "e1",
                        "Type": "EVENT",
                        "ParticipantId": "p-1",
                        "ParticipantRole": "CUSTOMER",
                    },
                    {
                        "AbsoluteTime": "2024-08-01T09:00:05.000Z",
                        "Content": "My card was declined but I was charged.",
                        "ContentType": "text/plain",
                        "Id": "m1",
                        "Type": "MESSAGE",
                        "ParticipantId": "p-1",
                        "DisplayName": "Ola",
                        "ParticipantRole": "CUSTOMER",
                    },
                    {
                        "AbsoluteTime": "2024-08-01T09:01:00.000Z",
                        "Content": "I'll reverse that charge right away.",
                        "ContentType": "text/plain",
                        "Id": "m2",
                        "Type": "MESSAGE",
                        "ParticipantId": "p-2",
                        "DisplayName": "Sam",
                        "ParticipantRole": "AGENT",
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    assert sources.detect(Source(name=path.name, path=path)) == "transcript"
    customer, agent = items(path)
    assert (customer.direction, agent.direction) == (Direction.IN, Direction.OUT)
    assert customer.channel is Channel.CHAT
    assert customer.thread_id == "5a1c-77"
    assert agent.received_at == datetime(2024, 8, 1, 9, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("chat.txt", CHAT, "transcript"),
        ("chat.log", "Agent: hello\nCustomer: my order is late\nAgent: checking\n", "transcript"),
        ("plain.csv", "id,text\n1,Agent: hello\n", "csv"),
        ("segments.json", json.dumps(SEGMENTS), "transcript"),
    ],
)
def test_detection(tmp_path: Path, name: str, content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert sources.detect(Source(name=path.name, path=path)) == expected


def test_an_email_is_not_a_transcript() -> None:
    from amends.sources.transcript import sniff

    message = (
        b"Return-Path: <a@example.com>\nMessage-ID: <1@example.com>\nFrom: A <a@example.com>\n"
        b"To: help@acme.test\nSubject: Refund\nDate: Tue, 11 Jun 2024 10:00:00 +0000\n\nHi,\n"
    )
    assert sniff(message, "message.eml") == {}
    assert sniff(message, "message") == {}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # Header lines run straight into role-labelled turns.
        (
            "Date: 2024-01-01\nAgent: Hi, how can I help?\nCustomer: my order is late\n",
            [("out", "Hi, how can I help?"), ("in", "my order is late")],
        ),
        # "Agent: Maria" names the agent even without a blank line after the header.
        (
            "Date: 2024-01-01\nAgent: Maria\nCustomer: Jo\nMaria: Hi, how can I help?\n"
            "Jo: my order is late\n",
            [("out", "Hi, how can I help?"), ("in", "my order is late")],
        ),
        # A customer who speaks once is still a speaker when nobody else is the customer.
        (
            "Date: 2024-01-01\nAgent: Maria\n\nMaria: Hi\nJo: late order\nMaria: ok\n",
            [("out", "Hi"), ("in", "late order"), ("out", "ok")],
        ),
        # Windows line ends and a 12-hour clock.
        (
            "Date: 2024-01-01\r\n\r\n9:58 PM Customer: still waiting\r\n"
            "10:01 PM Support: refund sent\r\n",
            [("in", "still waiting"), ("out", "refund sent")],
        ),
    ],
)
def test_speaker_sides(tmp_path: Path, content: str, expected: list[tuple[str, str]]) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(content.encode())
    assert [(t.direction.value, t.text) for t in items(path)] == expected
