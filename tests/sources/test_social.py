"""X API v2 tweets and DMs, and customer-care conversation exports, through `amends ingest`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.conftest import needs_data
from tests.helpers import counts, exported, ingest

from amends import sources
from amends.feedback.rules import Channel, Direction
from amends.sources.base import Item, ParseOptions, Rejected, Source
from amends.sources.social import parse_conversations, parse_x, snowflake_time


def read(path: Path, parser: Callable[..., Any], **options: Any) -> list[Item | Rejected]:
    return list(parser(Source(name=path.name, path=path), ParseOptions(**options)))


USERS = [
    {
        "id": "2244994945",
        "name": "Dana Whitfield",
        "username": "danaw",
        "public_metrics": {"followers_count": 15230, "following_count": 310},
    },
    {
        "id": "783214",
        "name": "Acme Support",
        "username": "AcmeSupport",
        "public_metrics": {"followers_count": 880000},
    },
    {
        "id": "99",
        "name": "Sam Ortiz",
        "username": "samo",
        "public_metrics": {"followers_count": 42},
    },
]
COMPLAINT = {
    "id": "1790000000000000001",
    "text": "@AcmeSupport my order #A-5521 arrived smashed and nobody answers email. Third time!",
    "author_id": "2244994945",
    "created_at": "2024-04-23T09:14:02.000Z",
    "conversation_id": "1790000000000000001",
    "lang": "en",
    "public_metrics": {"retweet_count": 12, "reply_count": 3, "like_count": 40},
    "edit_history_tweet_ids": ["1790000000000000001"],
}
BRAND_REPLY = {
    "id": "1790000000000000077",
    "text": "@danaw We're sorry, Dana. Please DM us your order number and we'll sort it today.",
    "author_id": "783214",
    "created_at": "2024-04-23T09:31:40.000Z",
    "conversation_id": "1790000000000000001",
    "in_reply_to_user_id": "2244994945",
    "referenced_tweets": [{"type": "replied_to", "id": "1790000000000000001"}],
}
RETWEET = {
    "id": "1790000000000000099",
    "text": "RT @danaw: @AcmeSupport my order #A-5521 arrived smashed and nobody answers email.",
    "author_id": "99",
    "created_at": "2024-04-23T10:02:00.000Z",
    "referenced_tweets": [{"type": "retweeted", "id": "1790000000000000001"}],
}


@pytest.fixture
def desk(cli_env: Callable[[], Engine]) -> Callable[[], Engine]:
    return cli_env


def test_x_response_complaint_reply_and_retweet(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "search.json"
    doc = {
        "data": [COMPLAINT, BRAND_REPLY, RETWEET],
        "includes": {"users": USERS},
        "meta": {"result_count": 3, "newest_id": "1790000000000000099"},
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    first = ingest(path, "--brand", "@AcmeSupport")
    assert counts(first) == (3, 3, 0, 0)
    assert first["files"][0]["format"] == "x"
    assert counts(ingest(path, "--brand", "AcmeSupport")) == (3, 0, 3, 0)

    rows = {r["source_id"]: r for r in exported()}
    complaint, reply, retweet = (rows[t["id"]] for t in (COMPLAINT, BRAND_REPLY, RETWEET))
    assert complaint["direction"] == "in"
    assert complaint["channel"] == "x"
    assert complaint["public"] is True
    assert complaint["reach"] == 15230
    assert complaint["author_handle"] == "danaw"
    assert complaint["author_name"] == "Dana Whitfield"
    assert complaint["thread_key"] == "1790000000000000001"
    assert complaint["received_at"].startswith("2024-04-23T09:14:02")
    # The brand's answer is outgoing, about Dana, and joins her case.
    assert reply["direction"] == "out"
    assert reply["author_handle"] == "AcmeSupport"
    assert reply["in_reply_to"] == COMPLAINT["id"]
    assert reply["customer_id"] == complaint["customer_id"]
    assert reply["case_id"] == complaint["case_id"] is not None
    # A retweet is kept (it spreads the complaint) but opens no case of its own.
    assert retweet["automated"] is True
    assert retweet["case_id"] is None
    assert retweet["customer_id"] != complaint["customer_id"]


def test_x_jsonl_pages_and_bare_tweets_with_a_broken_line(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "stream.jsonl"
    page = {"data": COMPLAINT, "includes": {"users": USERS[:1]}}
    bare = {**BRAND_REPLY, "author_id": "99", "id": "1790000000000000100"}
    path.write_text(
        json.dumps(page) + "\n" + json.dumps(bare) + "\n" + '{"id": "17900000000000001\n',
        encoding="utf-8",
    )
    summary = ingest(path, code=3)
    assert counts(summary) == (3, 2, 0, 1)
    assert "line 3" in summary["errors"][0]
    rows = {r["source_id"]: r for r in exported()}
    # Without includes, the author is known by id only; it is still a stable customer.
    assert rows["1790000000000000100"]["author_handle"] is None
    assert rows["1790000000000000100"]["customer_id"] is not None
    assert rows[COMPLAINT["id"]]["reach"] == 15230


def test_x_truncated_array_keeps_tweets_before_the_break(tmp_path: Path) -> None:
    path = tmp_path / "tweets.json"
    text = json.dumps([COMPLAINT, BRAND_REPLY, RETWEET])
    path.write_text(text[: text.index('"id": "1790000000000000099"') + 10], encoding="utf-8")
    records = read(path, parse_x)
    assert [type(r) for r in records] == [Item, Item, Rejected]
    rejected = records[-1]
    assert isinstance(rejected, Rejected)
    assert rejected.location == "after item 2"
    assert "items before it were read" in rejected.reason


def test_x_truncated_response_document_salvages_its_tweets(tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    text = json.dumps({"data": [COMPLAINT, BRAND_REPLY], "includes": {"users": USERS}})
    path.write_text(text[:-40], encoding="utf-8")
    records = read(path, parse_x)
    items = [r for r in records if isinstance(r, Item)]
    assert [i.source_id for i in items] == [COMPLAINT["id"], BRAND_REPLY["id"]]
    assert sum(isinstance(r, Rejected) for r in records) == 1


def test_x_record_problems_are_located(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text(
        json.dumps(
            [
                {"id": "1790000000000000200", "author_id": "99", "text": ""},
                {"text": "no id here", "author_id": "99"},
                {"id": "12", "text": "old and undated", "author_id": "99"},
                {"id": "1790000000000000201", "text": "undated but a snowflake", "author_id": "9"},
                [1, 2],
            ]
        ),
        encoding="utf-8",
    )
    records = read(path, parse_x)
    assert [(r.location, r.reason) for r in records if isinstance(r, Rejected)] == [
        ("item 1", "tweet 1790000000000000200 has no text"),
        ("item 2", "a tweet with no id"),
        ("item 3", "tweet 12: created_at is missing"),
        ("item 5", "not a JSON object: expected a tweet or an API response"),
    ]
    dated = next(r for r in records if isinstance(r, Item))
    assert dated.received_at == snowflake_time("1790000000000000201")


def test_x_brand_reply_without_includes_finds_the_customer_by_mention(tmp_path: Path) -> None:
    path = tmp_path / "reply.json"
    tweet = {**BRAND_REPLY, "author": {"id": "783214", "username": "AcmeSupport"}}
    tweet.pop("in_reply_to_user_id")
    path.write_text(json.dumps(tweet), encoding="utf-8")
    (item,) = read(path, parse_x, brand_handles=frozenset({"acmesupport"}))
    assert isinstance(item, Item)
    assert item.direction is Direction.OUT
    assert [(r.value, r.platform) for r in item.identities] == [("danaw", "x")]


def test_x_direct_messages_are_private(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "dm_events.json"
    doc = {
        "data": [
            {
                "id": "1790000000000000300",
                "event_type": "MessageCreate",
                "text": "Order A-5521: the replacement never shipped either.",
                "sender_id": "2244994945",
                "dm_conversation_id": "783214-2244994945",
                "created_at": "2024-04-23T11:00:00.000Z",
            },
            {
                "id": "1790000000000000301",
                "event_type": "MessageCreate",
                "text": "Thanks Dana, a new one ships today with express delivery.",
                "sender_id": "783214",
                "dm_conversation_id": "783214-2244994945",
                "created_at": "2024-04-23T11:20:00.000Z",
            },
            {
                "id": "1790000000000000302",
                "event_type": "ParticipantsJoin",
                "dm_conversation_id": "783214-2244994945",
            },
        ],
        "includes": {"users": USERS},
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert sources.detect(Source(name=path.name, path=path)) == "x"
    assert counts(ingest(path, "--brand", "acmesupport")) == (2, 2, 0, 0)
    message, answer = exported()
    assert (message["direction"], message["public"], message["channel"]) == ("in", False, "x")
    assert (answer["direction"], answer["public"]) == ("out", False)
    assert answer["customer_id"] == message["customer_id"]
    assert message["thread_key"] == answer["thread_key"] == "dm:783214-2244994945"
    assert message["source_id"] == "dm:1790000000000000300"


CONVERSATIONS = [
    {
        "agentURL": {
            "doc_id": "88",
            "turn": "4",
            "tweet_ID": "1245108243017015297",
            "url": "https://example.com/help/online-missions",
            "url_utterance": "@mara_k Thanks! This guide should fix it: https://example.com/help",
        },
        "dialogContent": [
            {
                "client": "mara_k",
                "datetime": "2020-03-20T18:34:50.000Z",
                "message": "@RockstarSupport Hi, I can't accept stranger missions online.",
                "tweet_ID": "1241070712351264769",
            },
            {
                "agent": "RockstarSupport",
                "datetime": "2020-03-20T18:43:36.000Z",
                "message": "@mara_k Which platform are you playing on? *MS",
                "tweet_ID": "1241072917489881101",
            },
            {
                "client": "mara_k",
                "datetime": "2020-03-20T20:57:34.000Z",
                "message": "@RockstarSupport PS4",
                "tweet_ID": "1241106633775878146",
            },
        ],
        "dialogHeader": {
            "company": "RockstarSupport",
            "conversationDateTime": "2020-03-20T18:34:50.000Z",
            "duration": "02:29:08.0",
            "messageCount": "4",
            "sessionID": "Qt4M3sXkR71V9CT9Xr5U",
        },
    },
    {
        "agentURL": {
            "tweet_ID": "1245450925218484224",
            "url": "https://example.com/merger",
            "url_utterance": "@Hedgehog91x Details are here: https://example.com/merger",
        },
        "dialogContent": [
            {
                "client": "TMobile",
                "datetime": "2020-04-01T13:30:04.000Z",
                "message": "It's official: Sprint is part of the family.",
                "tweet_ID": "1245342671700258816",
            },
            {
                "client1": "Hedgehog91x",
                "datetime": "2020-04-01T20:35:04.000Z",
                "message": "@TMobile So what happens to all the Sprint customers?",
                "tweet_ID": "1245449622971133952",
            },
        ],
        "dialogHeader": {"company": "TMobileHelp", "sessionID": "6kHxCxC6yB7Dd4DdaAoa"},
    },
]


def test_conversations_customer_and_brand_turns_share_a_case(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "care.json"
    path.write_text(json.dumps(CONVERSATIONS, indent=2), encoding="utf-8")
    first = ingest(path, "--brand", "TMobile")
    assert first["files"][0]["format"] == "conversations"
    assert counts(first) == (7, 7, 0, 0)
    assert counts(ingest(path, "--brand", "TMobile")) == (7, 0, 7, 0)

    rows = exported()
    rockstar = [r for r in rows if r["thread_key"] == "Qt4M3sXkR71V9CT9Xr5U"]
    assert [r["direction"] for r in rockstar] == ["in", "out", "in", "out"]
    assert {r["channel"] for r in rockstar} == {"x"}
    assert all(r["public"] for r in rockstar)
    assert len({r["customer_id"] for r in rockstar}) == 1
    assert len({r["case_id"] for r in rockstar}) == 1
    assert rockstar[0]["case_id"] is not None
    assert rockstar[1]["author_handle"] == "RockstarSupport"
    assert rockstar[1]["in_reply_to"] == "1241070712351264769"
    # The final reply, kept under agentURL, carries the time its tweet id was minted.
    assert rockstar[3]["source_id"] == "1245108243017015297"
    assert rockstar[3]["received_at"].startswith("2020-03-31T21:58:32")
    # A brand account in the client slot (here named with --brand) speaks for the company, and
    # the reply is about the customer it @mentions.
    tmobile = [r for r in rows if r["thread_key"] == "6kHxCxC6yB7Dd4DdaAoa"]
    assert [r["direction"] for r in tmobile] == ["out", "in", "out"]
    assert tmobile[2]["customer_id"] == tmobile[1]["customer_id"]
    assert tmobile[2]["case_id"] == tmobile[1]["case_id"] is not None


def test_conversation_turn_problems_are_located(tmp_path: Path) -> None:
    path = tmp_path / "care.json"
    broken = json.loads(json.dumps(CONVERSATIONS[0]))
    broken["dialogContent"][1] = {"datetime": "2020-03-20T18:43:36.000Z", "message": "hi"}
    broken["dialogContent"][2]["message"] = "  "
    path.write_text(json.dumps([broken, {"dialogHeader": {}}]), encoding="utf-8")
    records = read(path, parse_conversations)
    assert [(r.location, r.reason) for r in records if isinstance(r, Rejected)] == [
        ("conversation 1, turn 2", "a turn with no client or agent handle"),
        ("conversation 1, turn 2", "a turn with no message"),
        ("conversation 2", "a conversation with no dialogContent list"),
    ]
    assert sum(isinstance(r, Item) for r in records) == 2


def test_conversations_truncated_export_keeps_whole_conversations(tmp_path: Path) -> None:
    path = tmp_path / "care.json"
    text = json.dumps(CONVERSATIONS)
    path.write_text(text[: text.index("TMobileHelp")], encoding="utf-8")
    records = read(path, parse_conversations)
    assert sum(isinstance(r, Item) for r in records) == 4
    assert [r.location for r in records if isinstance(r, Rejected)] == ["after item 1"]


def test_snowflake_time() -> None:
    # The export wrote this tweet's time as 2020-03-20T18:34:50.000Z.
    minted = snowflake_time("1241070712351264769")
    assert minted is not None
    assert minted.replace(microsecond=0) == datetime(2020, 3, 20, 18, 34, 50, tzinfo=UTC)
    assert snowflake_time("12") is None
    assert snowflake_time("abc") is None


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (json.dumps(CONVERSATIONS), "export.json", "conversations"),
        (json.dumps({"data": [COMPLAINT], "includes": {"users": USERS}}), "a.json", "x"),
        (json.dumps(COMPLAINT) + "\n" + json.dumps(BRAND_REPLY) + "\n", "t.jsonl", "x"),
        (json.dumps({"text": "plain feedback", "channel": "web"}), "f.json", "feedback"),
    ],
)
def test_detection(tmp_path: Path, content: str, name: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert sources.detect(Source(name=path.name, path=path)) == expected


def test_real_customer_care_conversations(desk: Any) -> None:
    path = needs_data("twitter_customer_care", "dev.json")
    parsed = read(path, parse_conversations)
    assert not [r for r in parsed if isinstance(r, Rejected)]
    assert len({r.thread_id for r in parsed if isinstance(r, Item)}) == 525
    summary = ingest(path)
    assert summary["files"][0]["format"] == "conversations"
    # 686 turns and 525 final brand replies. Two conversations hold the same four tweets, and
    # a tweet is stored once: six duplicates, and one thread fewer on the desk.
    assert counts(summary) == (1211, 1205, 6, 0)
    rows = exported()
    assert len({r["thread_key"] for r in rows}) == 524
    assert {r["channel"] for r in rows} == {Channel.X.value}
    assert all(r["customer_id"] is not None for r in rows)
    replies = [r for r in rows if r["direction"] == "out"]
    assert len(replies) == 583
    assert sum(r["case_id"] is not None for r in replies) >= 0.9 * len(replies)
    assert counts(ingest(path)) == (1211, 0, 1211, 0)
