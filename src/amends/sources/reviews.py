"""Reviews with a 1-5 star rating, as CSV or JSON.

Shapes read: the Google Business Profile API (`{"reviews": [{"reviewId", "reviewer":
{"displayName"}, "starRating": "FOUR", "comment", "createTime", "reviewReply": {...}}]}`), App
Store Connect (`{"data": [{"attributes": {"rating", "title", "body", "reviewerNickname",
"createdDate"}}]}`), Google Play scrapes (`reviewId, userName, content, score, at, replyContent`),
Trustpilot (`stars, title, text, consumer: {id, displayName}, companyReply`), and any CSV or JSON
with a rating column (rating, stars, ...) and a text column (review, text, comment, ...).

- A rating that is missing, not a number or outside 1-5 quarantines the review.
- A review with a rating but no words is kept with the text "N-star review with no comment" and
  `meta["no_comment"] = True`: a bare one-star rating is still a complaint.
- The business's public answer (`reviewReply`, `replyContent`, `companyReply`) becomes an outgoing
  item in the review's thread.
- Reviewers have no email. A reviewer id that the platform keeps stable becomes a handle on that
  platform. Otherwise the review gets an identity of its own ("<platform>-review"), so that its
  reply, read now or in a later import, joins the reviewer's case instead of starting a stranger.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from amends.customers.rules import IdentityKind, IdentityRef
from amends.errors import UsageError
from amends.feedback.rules import Channel, Direction, ScoreScale, content_source_id
from amends.sources.base import Item, ParseOptions, Rejected, Source
from amends.sources.csvfile import csv_header, find_column, row_raw, rows
from amends.sources.jsonio import iter_json_records
from amends.sources.times import BadTime, parse_time

RATING_NAMES = (
    "rating",
    "stars",
    "star rating",
    "star_rating",
    "starrating",
    "review rating",
    "review_rating",
    "rating value",
    "ratingvalue",
    "score",
)
TEXT_NAMES = (
    "review",
    "review text",
    "review_text",
    "reviewtext",
    "review body",
    "text",
    "comment",
    "content",
    "body",
    "review_body",
    "message",
)
TITLE_NAMES = ("title", "review title", "review_title", "headline", "subject", "summary")
AUTHOR_NAMES = (
    "author",
    "reviewer",
    "reviewer name",
    "reviewer_name",
    "reviewernickname",
    "author name",
    "author_name",
    "username",
    "user name",
    "user_name",
    "displayname",
    "display name",
    "name",
)
TIME_NAMES = (
    "date",
    "created_at",
    "createtime",
    "createdat",
    "createddate",
    "review date",
    "review_date",
    "at",
    "time",
    "timestamp",
    "date published",
    "datepublished",
    "submitted_at",
    "updated",
)
ID_NAMES = ("review_id", "reviewid", "review id", "id")
REVIEWER_ID_NAMES = (
    "reviewer_id",
    "reviewer id",
    "reviewerid",
    "author_id",
    "author id",
    "user_id",
    "user id",
    "userid",
    "consumer_id",
)
PLATFORM_NAMES = ("platform", "source", "store", "site")
REPLY_NAMES = (
    "reply",
    "reply text",
    "reply_text",
    "replycontent",
    "developer reply",
    "developer_reply",
    "response",
    "owner response",
    "owner_response",
    "business response",
)
REPLY_TIME_NAMES = ("replied_at", "repliedat", "reply date", "reply_date", "response date")
# Columns whose presence says "these are reviews" even when the rating column is just "score".
_REVIEWISH = {"review", "review_id", "reviewid", "reviewer", "review title", "thumbsupcount"}
_WORDS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:/\s*5|stars?|out of 5)?\s*$", re.IGNORECASE)


def sniff(head: bytes, name: str) -> dict[str, int]:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:65536]
    if text[:1] in (b"{", b"["):
        if b'"starRating"' in text or b'"reviewId"' in text or b'"customerReviews"' in text:
            return {"reviews": 60}
        if (b'"rating"' in text or b'"stars"' in text) and b'"dialogContent"' not in text:
            return {"reviews": 45}
        return {}
    header = csv_header(head, name)
    if header is None:
        return {}
    names = set(header)
    has_text = bool(names & set(TEXT_NAMES))
    if has_text and names & (set(RATING_NAMES) - {"score"}):
        return {"reviews": 45}
    if has_text and "score" in names and names & _REVIEWISH:
        return {"reviews": 45}
    return {}


def parse_reviews(source: Source, options: ParseOptions) -> Iterator[Item | Rejected]:
    head = source.head(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        yield from _json_reviews(source, options)
    else:
        yield from _csv_reviews(source, options)


# ---- the fields of one review, whatever its shape --------------------------------------------


def _pick(fields: Mapping[str, Any], names: Sequence[str]) -> Any:
    for key in names:
        value = fields.get(key)
        if value not in (None, ""):
            return value
    return None


def _flatten(obj: Mapping[str, Any]) -> dict[str, Any]:
    """One level of keys, lowercased: App Store "attributes" and nested reviewer objects lifted."""
    fields: dict[str, Any] = {}
    attributes = obj.get("attributes")
    for source in (obj, attributes if isinstance(attributes, dict) else {}):
        for key, value in source.items():
            fields.setdefault(key.lower(), value)
    for nested in ("reviewer", "consumer", "author", "user"):
        who = fields.get(nested)
        if isinstance(who, dict):
            fields[nested] = who.get("displayName") or who.get("name") or who.get("username")
            if who.get("id") not in (None, ""):
                fields.setdefault("reviewer_id", who["id"])
            if who.get("isAnonymous") is True:
                fields["anonymous"] = True
    for nested in ("reviewreply", "companyreply", "reply", "response", "developerresponse"):
        answer = fields.get(nested)
        if isinstance(answer, dict):
            fields[nested] = answer.get("comment") or answer.get("text") or answer.get("body")
            when = answer.get("updateTime") or answer.get("createdAt") or answer.get("lastModified")
            fields.setdefault("replied_at", when)
    if "reviewreply" in fields:
        fields.setdefault("reply", fields["reviewreply"])
    if "companyreply" in fields:
        fields.setdefault("reply", fields["companyreply"])
    if "developerresponse" in fields:
        fields.setdefault("reply", fields["developerresponse"])
    if "/" in str(fields.get("name") or ""):
        # Google's resource name ("accounts/1/locations/2/reviews/3"), not a person's.
        fields["resource_name"] = fields.pop("name")
    if "starrating" in fields:
        fields.setdefault("platform", "google")
    if fields.get("type") == "customerReviews":
        fields.setdefault("platform", "app-store")
    return fields


def rating_of(value: object) -> float:
    """A 1-5 star rating from a number, "4", "4.5", "4/5", "FOUR" or "★★★★"; else ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"rating {value!r} is not a number")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value or "").strip()
        if not text:
            raise ValueError("no rating")
        if text.upper() in _WORDS:
            number = float(_WORDS[text.upper()])
        elif text and set(text) <= {"★", "☆"}:
            number = float(text.count("★"))
        else:
            match = _NUMBER.match(text)
            if match is None:
                raise ValueError(f"rating {text[:40]!r} is not a number from 1 to 5")
            number = float(match.group(1).replace(",", "."))
    if not 1 <= number <= 5:
        raise ValueError(f"rating {number:g} is outside 1-5")
    return number


def _slug(value: object) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-")[:40]


def _review(
    fields: Mapping[str, Any],
    where: str,
    raw: bytes,
    options: ParseOptions,
    *,
    columns: Mapping[str, str | None] | None = None,
    now: datetime,
) -> Iterator[Item | Rejected]:
    def get(role: str, names: Sequence[str]) -> Any:
        if columns is not None:
            column = columns.get(role)
            return fields.get(column.lower()) if column else None
        return _pick(fields, names)

    try:
        stars = rating_of(get("rating", RATING_NAMES))
    except ValueError as exc:
        yield Rejected(where, str(exc), raw, options.to_stored())
        return
    time_value = get("time", TIME_NAMES)
    try:
        if time_value in (None, "") and (columns is None or columns.get("time") is None):
            when = now
        else:
            when = parse_time(time_value, field="review date")
    except BadTime as exc:
        yield Rejected(where, str(exc), raw, options.to_stored())
        return
    platform = _slug(get("platform", PLATFORM_NAMES) or "") or "review"
    text = str(get("text", TEXT_NAMES) or "").strip()
    title = str(get("title", TITLE_NAMES) or "").strip() or None
    author = str(get("author", AUTHOR_NAMES) or "").strip() or None
    reviewer_id = str(get("reviewer_id", REVIEWER_ID_NAMES) or "").strip()
    review_id = str(get("id", ID_NAMES) or "").strip()
    meta: dict[str, Any] = {"platform": platform}
    if not text and title:
        text, title = title, None
    if not text:
        text = f"{stars:g}-star review with no comment"
        meta["no_comment"] = True
    if review_id:
        source_id = f"{platform}:{review_id}"
    else:
        source_id = content_source_id(
            platform, author or "", str(time_value or ""), f"{stars:g}", title or "", text
        )
    identity = (
        IdentityRef(IdentityKind.HANDLE, reviewer_id, platform)
        if reviewer_id
        else IdentityRef(IdentityKind.HANDLE, _own_id(source_id), f"{platform}-review")
    )
    channel = options.channel or Channel.REVIEW
    yield Item(
        channel=channel,
        text=text,
        received_at=when,
        source_id=source_id,
        author_name=None if fields.get("anonymous") else author,
        identities=(identity,),
        public=True,
        subject=title,
        thread_id=source_id,
        score=stars,
        score_scale=ScoreScale.STARS,
        meta=meta,
    )
    reply = str(get("reply", REPLY_NAMES) or "").strip()
    if not reply:
        return
    reply_value = get("reply_time", REPLY_TIME_NAMES)
    try:
        replied = parse_time(reply_value, field="reply date") if reply_value else when
    except BadTime as exc:
        yield Rejected(f"{where} (reply)", str(exc), raw, options.to_stored())
        return
    yield Item(
        channel=channel,
        text=reply,
        received_at=replied,
        direction=Direction.OUT,
        source_id=f"{source_id}:reply",
        identities=(identity,),
        public=True,
        thread_id=source_id,
        in_reply_to=source_id,
        meta={"platform": platform},
    )


def _own_id(source_id: str) -> str:
    """A review-scoped identity value: handles allow only letters, digits, ".", "-" and "_"."""
    value = re.sub(r"[^\w.\-]", "-", source_id.split(":", 1)[-1])
    return value[-100:] if value.strip("-") else content_source_id(source_id)[7:]


# ---- JSON ------------------------------------------------------------------------------------


def _json_reviews(source: Source, options: ParseOptions) -> Iterator[Item | Rejected]:
    now = options.reading_time()
    for record in iter_json_records(source, list_keys=("reviews", "data", "items", "results")):
        if isinstance(record, Rejected):
            yield record
            continue
        location, obj, raw = record
        for where, review, piece in _expand(location, obj, raw):
            if not isinstance(review, dict):
                yield Rejected(where, "not a review object", piece, options.to_stored())
                continue
            yield from _review(_flatten(review), where, piece, options, now=now)


def _expand(location: str, obj: Any, raw: bytes) -> Iterator[tuple[str, Any, bytes]]:
    """Reviews in a record: itself, or the list of a page (`reviews`, `data`) read as one line."""
    if isinstance(obj, dict):
        for key in ("reviews", "data", "items", "results"):
            if isinstance(obj.get(key), list):
                for index, review in enumerate(obj[key], start=1):
                    piece = _dump(review)
                    yield f"{location}, {key}[{index}]", review, piece
                return
    yield location, obj, raw


def _dump(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, default=str).encode()


# ---- CSV -------------------------------------------------------------------------------------


def _csv_reviews(source: Source, options: ParseOptions) -> Iterator[Item | Rejected]:
    now = options.reading_time()
    columns: dict[str, str | None] | None = None
    for record in rows(source, options):
        if isinstance(record, Rejected):
            yield Rejected(record.location, record.reason, record.raw, options.to_stored())
            continue
        line, header, row = record
        if columns is None:
            columns = _columns(header, options)
            if columns["rating"] is None:
                raise UsageError(
                    f"{source.name}: "
                    + "no rating column (rating, stars, score); header: "
                    + ", ".join(header)
                )
        fields = {k.strip().lower(): v for k, v in row.items()}
        raw = row_raw(header, [row.get(h, "") for h in header])
        yield from _review(fields, f"line {line}", raw, options, columns=columns, now=now)


def _columns(header: Sequence[str], options: ParseOptions) -> dict[str, str | None]:
    return {
        "rating": find_column(header, None, RATING_NAMES),
        "text": find_column(header, options.text_column, TEXT_NAMES),
        "title": find_column(header, None, TITLE_NAMES),
        "author": find_column(header, options.author_column, AUTHOR_NAMES),
        "time": find_column(header, options.time_column, TIME_NAMES),
        "id": find_column(header, options.id_column, ID_NAMES),
        "reviewer_id": find_column(header, None, REVIEWER_ID_NAMES),
        "platform": find_column(header, None, PLATFORM_NAMES),
        "reply": find_column(header, None, REPLY_NAMES),
        "reply_time": find_column(header, None, REPLY_TIME_NAMES),
    }
