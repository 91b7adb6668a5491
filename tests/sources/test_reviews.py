"""Reviews with a 1-5 rating (Google Business Profile, app stores, any CSV) through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.helpers import counts, exported, ingest

from amends import sources
from amends.sources.base import Item, ParseOptions, Rejected, Source
from amends.sources.reviews import parse_reviews, rating_of


@pytest.fixture
def desk(cli_env: Callable[[], Engine]) -> Callable[[], Engine]:
    return cli_env


GOOGLE = {
    "reviews": [
        {
            "name": "accounts/1098/locations/5521/reviews/AbFvOqn1-x_2",
            "reviewId": "AbFvOqn1-x_2",
            "reviewer": {
                "profilePhotoUrl": "https://lh3.googleusercontent.com/a/photo",
                "displayName": "Priya Raman",
            },
            "starRating": "ONE",
            "comment": "Waited 50 minutes for a table we had booked. Manager shrugged.",
            "createTime": "2024-05-02T19:44:10.512Z",
            "updateTime": "2024-05-02T19:44:10.512Z",
            "reviewReply": {
                "comment": "Priya, we're so sorry. Please email us so we can make this right.",
                "updateTime": "2024-05-03T08:12:00Z",
            },
        },
        {
            "name": "accounts/1098/locations/5521/reviews/Cz9",
            "reviewId": "Cz9",
            "reviewer": {"displayName": "A Google User", "isAnonymous": True},
            "starRating": "FIVE",
            "createTime": "2024-05-03T12:00:00Z",
            "updateTime": "2024-05-03T12:00:00Z",
        },
        {
            "reviewId": "Dq1",
            "reviewer": {"displayName": "Tom"},
            "starRating": "STAR_RATING_UNSPECIFIED",
            "comment": "??",
            "createTime": "2024-05-04T12:00:00Z",
        },
    ],
    "averageRating": 3,
    "totalReviewCount": 3,
}


def test_google_business_profile_reviews_and_replies(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "gbp_reviews.json"
    path.write_text(json.dumps(GOOGLE, indent=2), encoding="utf-8")
    first = ingest(path, code=3)
    assert first["files"][0]["format"] == "reviews"
    assert counts(first) == (4, 3, 0, 1)
    assert "reviews[3]" in first["errors"][0]
    assert "STAR_RATING_UNSPECIFIED" in first["errors"][0]
    assert counts(ingest(path, code=3)) == (4, 0, 3, 1)

    review, reply, praise = exported()
    assert (review["channel"], review["direction"], review["public"]) == ("review", "in", True)
    assert (review["score"], review["score_scale"]) == (1.0, "stars")
    assert review["author_name"] == "Priya Raman"
    assert review["source_id"] == "google:AbFvOqn1-x_2"
    assert review["received_at"].startswith("2024-05-02T19:44:10")
    assert review["case_id"] is not None
    # The owner's answer is an outgoing item in the review's thread and case.
    assert (reply["direction"], reply["public"]) == ("out", True)
    assert reply["thread_key"] == review["thread_key"] == review["source_id"]
    assert reply["in_reply_to"] == review["source_id"]
    assert reply["customer_id"] == review["customer_id"]
    assert reply["case_id"] == review["case_id"]
    # A bare five-star rating is kept, marked, and opens no case; its reviewer stays anonymous.
    assert praise["text"] == "5-star review with no comment"
    assert praise["author_name"] is None
    assert praise["case_id"] is None
    assert praise["customer_id"] != review["customer_id"]


def test_reply_read_in_a_later_export_joins_the_reviewers_case(desk: Any, tmp_path: Path) -> None:
    before = json.loads(json.dumps(GOOGLE["reviews"][0]))
    del before["reviewReply"]
    first, later = tmp_path / "may-02.json", tmp_path / "may-03.json"
    first.write_text(json.dumps({"reviews": [before]}), encoding="utf-8")
    later.write_text(json.dumps({"reviews": [GOOGLE["reviews"][0]]}), encoding="utf-8")
    assert counts(ingest(first)) == (1, 1, 0, 0)
    assert counts(ingest(later)) == (2, 1, 1, 0)
    review, reply = exported()
    assert reply["direction"] == "out"
    assert reply["case_id"] == review["case_id"] is not None


def test_csv_reviews_with_bad_ratings_and_bare_ratings(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "app_store_reviews.csv"
    path.write_text(
        "Review ID,Date,Rating,Title,Review,Reviewer,Platform,Developer Reply\n"
        "r-100,2024-06-01,2,Crashes on login,Every time I open it since 4.2 it crashes.,"
        "jules,App Store,Fixed in 4.2.1 - sorry!\n"
        "r-101,2024-06-02,7,Wow,Seven stars,sam,App Store,\n"
        "r-102,2024-06-02,great,,Loved it,kim,App Store,\n"
        "r-103,2024-06-03,,,No rating here,lee,App Store,\n"
        "r-104,2024-06-03,3,,,max,App Store,\n"
        "r-105,2024-06-04,4/5,Good,,ana,Google Play,\n",
        encoding="utf-8",
    )
    assert sources.detect(Source(name=path.name, path=path)) == "reviews"
    summary = ingest(path, code=3)
    assert counts(summary) == (7, 4, 0, 3)
    reasons = sorted(summary["errors"])
    assert any("line 3: rating 7 is outside 1-5" in r for r in reasons)
    assert any("line 4: rating 'great' is not a number from 1 to 5" in r for r in reasons)
    assert any("line 5: no rating" in r for r in reasons)
    assert counts(ingest(path, code=3)) == (7, 0, 4, 3)

    rows = {r["source_id"]: r for r in exported()}
    crash = rows["app-store:r-100"]
    assert (crash["subject"], crash["text"]) == (
        "Crashes on login",
        "Every time I open it since 4.2 it crashes.",
    )
    assert crash["author_name"] == "jules"
    assert rows["app-store:r-100:reply"]["direction"] == "out"
    assert rows["app-store:r-100:reply"]["case_id"] == crash["case_id"] is not None
    assert rows["app-store:r-104"]["text"] == "3-star review with no comment"
    assert rows["app-store:r-104"]["case_id"] is not None  # a bare low rating is a complaint
    # A title with no body is the review's text.
    assert rows["google-play:r-105"]["text"] == "Good"
    assert rows["google-play:r-105"]["score"] == 4.0


def test_google_play_scrape_with_reviewer_ids(tmp_path: Path) -> None:
    path = tmp_path / "play.json"
    path.write_text(
        json.dumps(
            [
                {
                    "reviewId": "gp:AOqpTOE",
                    "userName": "Marta K",
                    "user_id": "1130022",
                    "content": "Subscription charged twice this month.",
                    "score": 1,
                    "thumbsUpCount": 14,
                    "at": "2024-02-11 08:03:00",
                    "replyContent": "Hi Marta, we've refunded the second charge.",
                    "repliedAt": "2024-02-11 15:30:00",
                    "platform": "Google Play",
                }
            ]
        ),
        encoding="utf-8",
    )
    assert sources.detect(Source(name=path.name, path=path)) == "reviews"
    review, reply = parse_reviews(Source(name=path.name, path=path), ParseOptions())
    assert isinstance(review, Item)
    assert isinstance(reply, Item)
    assert [(r.kind.value, r.value, r.platform) for r in review.identities] == [
        ("handle", "1130022", "google-play")
    ]
    assert reply.identities == review.identities
    assert review.score == 1.0
    assert reply.received_at.hour == 15


def test_truncated_review_export_keeps_the_reviews_before_the_break(tmp_path: Path) -> None:
    path = tmp_path / "gbp.json"
    text = json.dumps(GOOGLE)
    path.write_text(text[: text.index('"reviewId": "Cz9"') + 5], encoding="utf-8")
    records = list(parse_reviews(Source(name=path.name, path=path), ParseOptions()))
    assert [type(r) for r in records] == [Item, Item, Rejected]
    assert records[-1].location == "after item 1"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "stars"),
    [(1, 1.0), ("5", 5.0), (" 4.5 ", 4.5), ("3,5", 3.5), ("4/5", 4.0), ("FOUR", 4.0),
     ("two", 2.0), ("★★★", 3.0), ("2 stars", 2.0), (5.0, 5.0)],
)  # fmt: skip
def test_rating_of(value: object, stars: float) -> None:
    assert rating_of(value) == stars


@pytest.mark.parametrize(
    ("value", "reason"),
    [(0, "rating 0 is outside 1-5"), ("6", "rating 6 is outside 1-5"), (None, "no rating"),
     ("", "no rating"), ("meh", "rating 'meh' is not a number from 1 to 5"),
     (True, "rating True is not a number")],
)  # fmt: skip
def test_rating_of_refuses(value: object, reason: str) -> None:
    with pytest.raises(ValueError, match="^" + reason.replace("(", r"\(") + "$"):
        rating_of(value)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("reviews.csv", "id,rating,review,author\n1,2,Slow,kim\n", "reviews"),
        ("play.csv", "reviewId,userName,content,score,at\nx,kim,Slow,2,2024-01-01\n", "reviews"),
        ("survey.csv", "Response ID,NPS,Comment\n1,3,Slow\n", "survey"),
        ("plain.csv", "id,text\n1,Slow delivery\n", "csv"),
        ("scored.csv", "id,score,text\n1,0.8,Slow delivery\n", "csv"),
        ("api.json", json.dumps([{"text": "Slow", "score": 2, "channel": "web"}]), "feedback"),
        ("trustpilot.json", json.dumps({"reviews": [{"stars": 2, "text": "Slow"}]}), "reviews"),
    ],
)
def test_detection_routes_each_shape(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert sources.detect(Source(name=path.name, path=path)) == expected
