"""Social posts: X API v2 tweets and direct messages, and customer-care conversation exports.

`x` reads what the X API v2 returns: a response document (`{"data": ..., "includes": {"users":
...}}`), a JSONL file of such responses (one page a line), a JSONL file or JSON array of bare
tweet objects, and direct-message events (`event_type: MessageCreate`), which are private. Names,
handles and follower counts come from `includes.users`, or from an `author` object embedded in the
tweet (as flattening tools write it).

- A tweet by one of the brand's handles (`ParseOptions.brand_handles`) is an outgoing reply; its
  customer is the user it replies to, else the first user it @mentions.
- A retweet is kept, with `meta["retweet"] = True`, because it tells how far a complaint spread;
  but it repeats someone else's words, so it is stored like an automated message and opens no
  case of its own.
- Other DM events (participants joining or leaving) carry no message and are passed over.
- A user is known by their handle ("x") and by their numeric id ("x-id"), which outlives a
  change of handle; a tweet read without `includes` still finds its author through the id.

`conversations` reads exports shaped as `[{"dialogHeader": {"company", "sessionID", ...},
"dialogContent": [{"client"|"client1"|"agent": handle, "datetime", "message", "tweet_ID"}],
"agentURL": {...}}]`: customer turns are incoming, brand turns outgoing, all in one thread. The
`agentURL` entry, when present, holds the brand's final reply and is read as one more turn.

A tweet's id is its `source_id` in both formats, so a tweet read twice, through either, is stored
once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from amends.customers.rules import IdentityKind, IdentityRef
from amends.feedback.rules import Channel, Direction
from amends.sources.base import Item, ParseOptions, Rejected, Source
from amends.sources.jsonio import iter_json_records
from amends.sources.times import BadTime, parse_time

# X ids are "snowflakes": the upper bits count milliseconds since this moment (2010-11-04).
_SNOWFLAKE_EPOCH_MS = 1_288_834_974_657
# Ids below this predate snowflakes and carry no time.
_FIRST_SNOWFLAKE = 30_000_000_000_000_000
_MENTION = re.compile(r"(?<![\w@])@(\w{1,50})")
_CLIENT_KEY = re.compile(r"^client\d*$")
# A user id as an identity: it survives a change of username, which the handle does not.
X_ID_PLATFORM = "x-id"


def sniff(head: bytes, name: str) -> dict[str, int]:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:65536]
    if text[:1] not in (b"{", b"["):
        return {}
    if b'"dialogContent"' in text or b'"dialogHeader"' in text:
        return {"conversations": 60}
    tweet_keys = (
        b'"author_id"',
        b'"edit_history_tweet_ids"',
        b'"referenced_tweets"',
        b'"in_reply_to_user_id"',
        b'"dm_conversation_id"',
    )
    if any(key in text for key in tweet_keys):
        return {"x": 55}
    if b'"includes"' in text and b'"users"' in text:
        return {"x": 50}
    return {}


def snowflake_time(tweet_id: object) -> datetime | None:
    """The moment an X id was minted, or None for an id that is no snowflake."""
    text = str(tweet_id or "").strip()
    if not text.isdigit() or int(text) < _FIRST_SNOWFLAKE:
        return None
    return datetime.fromtimestamp(((int(text) >> 22) + _SNOWFLAKE_EPOCH_MS) / 1000, UTC)


def _when(value: object, fallback_id: object, *, field: str) -> datetime:
    """The given time, else the id's own time; raises BadTime when neither is usable."""
    if value not in (None, ""):
        if not isinstance(value, str | int | float):
            raise BadTime(f"{field} is not a date: {value!r:.60}")
        return parse_time(value, field=field)
    minted = snowflake_time(fallback_id)
    if minted is None:
        raise BadTime(f"{field} is missing")
    return minted


def _str(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).strip()


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# ---- X API v2 -------------------------------------------------------------------------------


def parse_x(source: Source, options: ParseOptions) -> Iterator[Item | Rejected]:
    brands = options.brand_handles
    for record in _x_records(source):
        if isinstance(record, Rejected):
            yield record
            continue
        location, obj, raw = record
        if not isinstance(obj, dict):
            yield Rejected(location, "not a JSON object: expected a tweet or an API response", raw)
            continue
        if "data" in obj or "includes" in obj or "errors" in obj or "meta" in obj:
            yield from _response(obj, location, raw, options, brands)
            continue
        post = _post(obj, {}, location, raw, options, brands)
        if post is not None:
            yield post


def _x_records(source: Source) -> Iterator[tuple[str, Any, bytes] | Rejected]:
    """Records of the file; a broken response document still gives the tweets before the break."""
    head = source.head(65536)
    for record in iter_json_records(source):
        if (
            isinstance(record, Rejected)
            and record.location == "file"
            and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"
            and b'"data"' in head
        ):
            for salvaged in iter_json_records(source, list_keys=("data",)):
                if isinstance(salvaged, Rejected):
                    yield salvaged
                else:
                    where, obj, raw = salvaged
                    yield where.replace("item", "data item"), obj, raw
            return
        yield record


def _response(
    doc: dict[str, Any],
    location: str,
    raw: bytes,
    options: ParseOptions,
    brands: frozenset[str],
) -> Iterator[Item | Rejected]:
    data = doc.get("data")
    includes = _dict(doc.get("includes"))
    users: dict[str, dict[str, Any]] = {}
    for user in includes.get("users") or ():
        if isinstance(user, dict) and _str(user.get("id")):
            users[_str(user.get("id"))] = user
    if data is None:
        errors = doc.get("errors")
        if errors and not doc.get("meta"):
            titles = sorted({_str(e.get("title")) for e in errors if isinstance(e, dict)} - {""})
            reason = "an X API error response with no tweets"
            yield Rejected(location, f"{reason}: {', '.join(titles)}" if titles else reason, raw)
        # A page with no results ("meta": {"result_count": 0}) has nothing to read.
        return
    posts = data if isinstance(data, list) else [data]
    many = len(posts) > 1 or isinstance(data, list)
    for index, post in enumerate(posts, start=1):
        where = f"{location}, data item {index}" if many else location
        if not isinstance(post, dict):
            yield Rejected(where, "not a tweet object", _dump(post))
            continue
        item = _post(post, users, where, _dump(post) if many else raw, options, brands)
        if item is not None:
            yield item


def _dump(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, default=str).encode()


def _post(
    post: dict[str, Any],
    users: Mapping[str, dict[str, Any]],
    where: str,
    raw: bytes,
    options: ParseOptions,
    brands: frozenset[str],
) -> Item | Rejected | None:
    if post.get("event_type") is not None or "dm_conversation_id" in post:
        return _dm(post, users, where, raw, options, brands)
    return _tweet(post, users, where, raw, options, brands)


def _user_of(post: dict[str, Any], users: Mapping[str, dict[str, Any]], key: str) -> dict[str, Any]:
    embedded = post.get("author")
    user_id = _str(post.get(key))
    if key == "author_id" and isinstance(embedded, dict):
        return embedded
    return users.get(user_id) or ({"id": user_id} if user_id else {})


def _refs(user: Mapping[str, Any]) -> tuple[IdentityRef, ...]:
    refs: list[IdentityRef] = []
    if _str(user.get("username")):
        refs.append(IdentityRef(IdentityKind.HANDLE, _str(user.get("username")), "x"))
    if _str(user.get("id")):
        refs.append(IdentityRef(IdentityKind.HANDLE, _str(user.get("id")), X_ID_PLATFORM))
    return tuple(refs)


def _followers(user: Mapping[str, Any]) -> int | None:
    metrics = user.get("public_metrics")
    count = metrics.get("followers_count") if isinstance(metrics, dict) else None
    return count if isinstance(count, int) and count >= 0 else None


def _tweet(
    tweet: dict[str, Any],
    users: Mapping[str, dict[str, Any]],
    where: str,
    raw: bytes,
    options: ParseOptions,
    brands: frozenset[str],
) -> Item | Rejected:
    tweet_id = _str(tweet.get("id"))
    note = tweet.get("note_tweet")
    # Long posts come whole in note_tweet; `text` holds only their first 280 characters.
    text = note.get("text") if isinstance(note, dict) and note.get("text") else tweet.get("text")
    if not tweet_id:
        return Rejected(where, "a tweet with no id", raw)
    if not isinstance(text, str) or not text.strip():
        return Rejected(where, f"tweet {tweet_id} has no text", raw)
    try:
        when = _when(tweet.get("created_at"), tweet_id, field="created_at")
    except BadTime as exc:
        return Rejected(where, f"tweet {tweet_id}: {exc}", raw)
    author = _user_of(tweet, users, "author_id")
    username = _str(author.get("username")) or None
    refs = {r.get("type"): _str(r.get("id")) for r in _list(tweet.get("referenced_tweets"))}
    outgoing = username is not None and username.lower() in brands
    if outgoing:
        customer = _user_of(tweet, users, "in_reply_to_user_id")
        if not customer.get("username"):
            customer = _mentioned(tweet, text, users, brands) or customer
        identities = _refs(customer)
    else:
        identities = _refs(author)
    meta: dict[str, Any] = {}
    for key in ("lang", "conversation_id", "possibly_sensitive", "source"):
        if tweet.get(key) not in (None, ""):
            meta[key] = tweet[key]
    if isinstance(tweet.get("public_metrics"), dict):
        meta["public_metrics"] = tweet["public_metrics"]
    if refs.get("quoted"):
        meta["quoted"] = refs["quoted"]
    retweet = bool(refs.get("retweeted"))
    if retweet:
        meta["retweet"] = True
        meta["retweeted"] = refs["retweeted"]
    return Item(
        channel=options.channel or Channel.X,
        text=text,
        received_at=when,
        direction=Direction.OUT if outgoing else Direction.IN,
        source_id=tweet_id,
        author_name=_str(author.get("name")) or None,
        author_handle=username,
        identities=identities,
        public=True,
        reach=_followers(author),
        thread_id=_str(tweet.get("conversation_id")) or None,
        in_reply_to=refs.get("replied_to") or None,
        automated=retweet,
        meta=meta,
    )


def _list(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _mentioned(
    tweet: dict[str, Any], text: str, users: Mapping[str, dict[str, Any]], brands: frozenset[str]
) -> dict[str, Any] | None:
    """The first @mentioned user who is not the brand, from entities or else from the text."""
    entities = tweet.get("entities")
    named = [
        (_str(m.get("username")), _str(m.get("id")))
        for m in _list(entities.get("mentions") if isinstance(entities, dict) else None)
    ]
    named += [(handle, "") for handle in _MENTION.findall(text)]
    by_name = {_str(u.get("username")).lower(): u for u in users.values()}
    for handle, user_id in named:
        if handle and handle.lower() not in brands:
            return by_name.get(handle.lower()) or {"username": handle, "id": user_id}
    return None


def _dm(
    event: dict[str, Any],
    users: Mapping[str, dict[str, Any]],
    where: str,
    raw: bytes,
    options: ParseOptions,
    brands: frozenset[str],
) -> Item | Rejected | None:
    event_id = _str(event.get("id"))
    kind = event.get("event_type", "MessageCreate")
    if kind != "MessageCreate":
        return None
    text = event.get("text")
    if not event_id:
        return Rejected(where, "a direct message with no id", raw)
    if not isinstance(text, str) or not text.strip():
        return Rejected(where, f"direct message {event_id} has no text", raw)
    try:
        when = _when(event.get("created_at"), event_id, field="created_at")
    except BadTime as exc:
        return Rejected(where, f"direct message {event_id}: {exc}", raw)
    sender = users.get(_str(event.get("sender_id"))) or {"id": _str(event.get("sender_id"))}
    username = _str(sender.get("username")) or None
    outgoing = username is not None and username.lower() in brands
    conversation = _str(event.get("dm_conversation_id"))
    identities = _refs(sender)
    if outgoing:
        # One-to-one conversation ids are the two user ids joined by "-".
        others = [
            p
            for p in (_str(p) for p in event.get("participant_ids") or conversation.split("-"))
            if p and p != _str(sender.get("id"))
        ]
        identities = _refs(users.get(others[0]) or {"id": others[0]}) if others else ()
    return Item(
        channel=options.channel or Channel.X,
        text=text,
        received_at=when,
        direction=Direction.OUT if outgoing else Direction.IN,
        source_id=f"dm:{event_id}",
        author_name=_str(sender.get("name")) or None,
        author_handle=username,
        identities=identities,
        public=False,
        thread_id=f"dm:{conversation}" if conversation else None,
        meta={"direct_message": True},
    )


# ---- conversation exports -------------------------------------------------------------------


def parse_conversations(source: Source, options: ParseOptions) -> Iterator[Item | Rejected]:
    for record in iter_json_records(source, list_keys=("conversations", "dialogs", "data")):
        if isinstance(record, Rejected):
            yield record
            continue
        location, obj, raw = record
        location = location.replace("item", "conversation")
        if isinstance(obj, dict) and "dialogContent" not in obj:
            nested = obj.get("conversations") or obj.get("dialogs")
            if isinstance(nested, list):
                for index, conv in enumerate(nested, start=1):
                    yield from _conversation(conv, f"{location}, conversation {index}", options)
                continue
        if not isinstance(obj, dict):
            yield Rejected(location, "not a conversation object", raw)
            continue
        yield from _conversation(obj, location, options, raw)


def _conversation(
    conv: object, location: str, options: ParseOptions, raw: bytes | None = None
) -> Iterator[Item | Rejected]:
    if not isinstance(conv, dict):
        yield Rejected(location, "not a conversation object", _dump(conv))
        return
    header = _dict(conv.get("dialogHeader"))
    content = conv.get("dialogContent")
    if not isinstance(content, list):
        yield Rejected(location, "a conversation with no dialogContent list", raw or _dump(conv))
        return
    company = _str(header.get("company"))
    session = _str(header.get("sessionID")) or None
    brands = options.brand_handles | ({company.lower()} if company else frozenset())
    channel = options.channel or Channel.X
    platform = "x" if channel is Channel.X else channel.value
    turns: list[tuple[str, str, dict[str, Any]]] = []  # (role, handle, turn)
    for index, turn in enumerate(content, start=1):
        where = f"{location}, turn {index}"
        if not isinstance(turn, dict):
            yield Rejected(where, "a turn that is not a JSON object", _dump(turn))
            continue
        role = next((k for k in turn if k == "agent" or _CLIENT_KEY.match(k)), None)
        handle = _str(turn.get(role)) if role else ""
        if role is None or not handle:
            yield Rejected(where, "a turn with no client or agent handle", _dump(turn))
            continue
        is_brand = role == "agent" or handle.lower().lstrip("@") in brands
        turns.append(("agent" if is_brand else "client", handle.lstrip("@"), turn))
    final = conv.get("agentURL")
    if isinstance(final, dict) and _str(final.get("url_utterance")):
        reply = {
            "message": final.get("url_utterance"),
            "tweet_ID": final.get("tweet_ID"),
            "url": final.get("url"),
        }
        turns.append(("agent", company, reply))
    clients = [h for role, h, _ in turns if role == "client"]
    previous: str | None = None
    for index, (role, handle, turn) in enumerate(turns, start=1):
        where = f"{location}, turn {index}"
        text = turn.get("message")
        tweet_id = _str(turn.get("tweet_ID"))
        if not isinstance(text, str) or not text.strip():
            yield Rejected(where, "a turn with no message", _dump(turn))
            continue
        try:
            when = _when(turn.get("datetime"), tweet_id, field="datetime")
        except BadTime as exc:
            yield Rejected(where, str(exc), _dump(turn))
            continue
        if role == "client":
            customer: str | None = handle
        else:
            customer = _customer_for_reply(text, clients, turns[: index - 1], brands)
        meta: dict[str, Any] = {"company": company} if company else {}
        if turn.get("url"):
            meta["url"] = turn["url"]
        yield Item(
            channel=channel,
            text=text,
            received_at=when,
            direction=Direction.OUT if role == "agent" else Direction.IN,
            source_id=tweet_id or (f"{session}:{index}" if session else None),
            author_handle=handle or company or None,
            identities=(IdentityRef(IdentityKind.HANDLE, customer, platform),) if customer else (),
            public=True,
            thread_id=session,
            in_reply_to=previous,
            meta=meta,
        )
        previous = tweet_id or previous


def _customer_for_reply(
    text: str,
    clients: list[str],
    before: list[tuple[str, str, dict[str, Any]]],
    brands: frozenset[str],
) -> str | None:
    """Whom a brand turn answers: a client it @mentions, else the last client, else the first."""
    known: dict[str, str] = {c.lower(): c for c in clients}
    mentions: list[str] = [m for m in _MENTION.findall(text) if m.lower() not in brands]
    for handle in mentions:
        if handle.lower() in known:
            return known[handle.lower()]
    earlier = [speaker for role, speaker, _turn in before if role == "client"]
    if earlier:
        return earlier[-1]
    if clients:
        return clients[0]
    return mentions[0] if mentions else None
