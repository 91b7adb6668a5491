"""Survey answers as CSV: an NPS (0-10) or CSAT (1-5) score and a comment per respondent.

The scale comes from the score column's name ("NPS", "How likely are you to recommend...",
"CSAT", "Satisfaction", "(0-10)"). A plain "score" or "rating" column is judged by its values in
the first 200 rows: a 0 or anything above 5 means NPS, else CSAT. Those rows are held back only
until the scale is known, so a file of any size is streamed.

- A score that is not a number or is outside its scale quarantines the row.
- A score with no comment is kept with the text "NPS 3, no comment" and `meta["no_comment"]`.
- A comment with no score is kept without a score; a row with neither is quarantined.
- Answers are private. The respondent's email, and a customer or order reference when a column
  carries one, identify the customer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from amends.customers.rules import IdentityKind, IdentityRef
from amends.errors import UsageError
from amends.feedback.rules import Channel, ScoreScale, content_source_id
from amends.sources.base import Item, ParseOptions, Rejected, Source
from amends.sources.csvfile import csv_header, find_column, row_raw, rows
from amends.sources.times import BadTime, parse_time

NPS_WORDS = ("nps", "net promoter", "recommend", "how likely", "likelihood", "0-10", "0 - 10")
CSAT_WORDS = ("csat", "satisf", "1-5", "1 - 5")
GENERIC_SCORE_NAMES = ("score", "rating", "overall", "overall score", "overall rating", "answer")
COMMENT_NAMES = (
    "comment",
    "comments",
    "feedback",
    "reason",
    "why",
    "text",
    "verbatim",
    "open_text",
    "open text",
    "response",
)
COMMENT_WORDS = ("comment", "feedback", "reason", "why", "tell us", "improve", "anything else")
EMAIL_NAMES = (
    "email",
    "e-mail",
    "email address",
    "email_address",
    "respondent email",
    "respondent_email",
    "customer email",
    "customer_email",
)
ID_NAMES = (
    "response id",
    "response_id",
    "responseid",
    "respondent id",
    "respondent_id",
    "respondentid",
    "submission id",
    "submission_id",
    "token",
    "id",
)
TIME_NAMES = (
    "submitted_at",
    "submitted at",
    "submitted",
    "submission date",
    "date submitted",
    "response date",
    "completed",
    "completed at",
    "end date",
    "enddate",
    "recorded date",
    "recordeddate",
    "created_at",
    "timestamp",
    "date",
    "time",
    "start date",
)
NAME_NAMES = ("name", "full name", "respondent", "respondent name", "customer name")
CUSTOMER_REF_NAMES = ("customer id", "customer_id", "customer ref", "account id", "account_id")
ORDER_REF_NAMES = ("order id", "order_id", "order number", "order", "order ref")
# How many rows may be read before the scale of a plain "score" column is settled.
SCALE_SAMPLE_ROWS = 200


def _scale_of_name(name: str) -> ScoreScale | None:
    folded = name.lower()
    if any(word in folded for word in NPS_WORDS):
        return ScoreScale.NPS
    if any(word in folded for word in CSAT_WORDS):
        return ScoreScale.CSAT
    return None


def _score_column(header: Sequence[str]) -> tuple[str | None, ScoreScale | None]:
    """The score column and, when its name tells, its scale."""
    for name in header:
        scale = _scale_of_name(name)
        if scale is not None and not _is_comment_name(name):
            return name, scale
    return find_column(header, None, GENERIC_SCORE_NAMES), None


def _is_comment_name(name: str) -> bool:
    folded = name.strip().lower()
    return folded in COMMENT_NAMES or any(word in folded for word in COMMENT_WORDS)


def _comment_column(header: Sequence[str], score: str | None, wanted: str | None) -> str | None:
    if wanted is not None:
        return find_column(header, wanted, ())
    exact = find_column([h for h in header if h != score], None, COMMENT_NAMES)
    if exact is not None:
        return exact
    return next((h for h in header if h != score and _is_comment_name(h)), None)


def sniff(head: bytes, name: str) -> dict[str, int]:
    header = csv_header(head, name)
    if header is None:
        return {}
    scored = [h for h in header if _scale_of_name(h) is not None and not _is_comment_name(h)]
    if scored:
        return {"survey": 55}
    # "text" alone does not make a survey: "id,score,text" is any CSV.
    has_comment = any(_is_comment_name(h) and h not in ("text", "response") for h in header)
    has_score = any(h in GENERIC_SCORE_NAMES for h in header)
    surveyish = any(word in h for h in header for word in ("respondent", "survey", "response id"))
    if has_score and (has_comment or surveyish) and not {"review", "title", "stars"} & set(header):
        return {"survey": 42}
    return {}


def _number(value: str) -> float:
    return float(value.strip().replace(",", "."))


def parse_survey(source: Source, options: ParseOptions) -> Iterator[Item | Rejected]:
    columns: dict[str, str | None] | None = None
    scale: ScoreScale | None = None
    held: list[tuple[int, list[str], dict[str, str]]] = []
    now = options.reading_time()
    for record in rows(source, options):
        if isinstance(record, Rejected):
            yield Rejected(record.location, record.reason, record.raw, options.to_stored())
            continue
        header = record[1]
        if columns is None:
            columns, scale = _columns(header, options)
            if columns["score"] is None:
                raise UsageError(
                    f"{source.name}: "
                    + "no score column (NPS, CSAT, score, rating); header: "
                    + ", ".join(header)
                )
        if scale is None:
            held.append(record)
            scale = _settle([row.get(columns["score"] or "", "") for _, _, row in held])
            if scale is None and len(held) < SCALE_SAMPLE_ROWS:
                continue
            scale = scale or ScoreScale.CSAT
            for waiting in held:
                yield _answer(waiting, columns, scale, options, now=now)
            held.clear()
            continue
        yield _answer(record, columns, scale, options, now=now)
    if held and columns is not None:
        # Fewer rows than the sample, and all within 1-5: a CSAT survey.
        for waiting in held:
            yield _answer(waiting, columns, ScoreScale.CSAT, options, now=now)


def _settle(values: list[str]) -> ScoreScale | None:
    """NPS as soon as a value shows it (0, or 6 to 10); None while every value fits 1-5."""
    for value in values:
        try:
            number = _number(value)
        except ValueError:
            continue
        if number == 0 or 5 < number <= 10:
            return ScoreScale.NPS
    return None


def _columns(
    header: Sequence[str], options: ParseOptions
) -> tuple[dict[str, str | None], ScoreScale | None]:
    score, scale = _score_column(header)
    return {
        "score": score,
        "comment": _comment_column(header, score, options.text_column),
        "email": find_column(header, options.email_column, EMAIL_NAMES),
        "id": find_column(header, options.id_column, ID_NAMES),
        "time": find_column(header, options.time_column, TIME_NAMES),
        "name": find_column(header, options.author_column, NAME_NAMES),
        "customer_ref": find_column(header, None, CUSTOMER_REF_NAMES),
        "order_ref": find_column(header, None, ORDER_REF_NAMES),
    }, scale


def _answer(
    record: tuple[int, list[str], dict[str, str]],
    columns: dict[str, str | None],
    scale: ScoreScale,
    options: ParseOptions,
    *,
    now: datetime,
) -> Item | Rejected:
    line, header, row = record

    def cell(role: str) -> str:
        column = columns.get(role)
        return (row.get(column) or "").strip() if column else ""

    where = f"line {line}"
    raw = row_raw(header, [row.get(h, "") for h in header])
    label = "NPS" if scale is ScoreScale.NPS else "CSAT"
    low, high = (0, 10) if scale is ScoreScale.NPS else (1, 5)
    score: float | None = None
    if cell("score"):
        try:
            score = _number(cell("score"))
        except ValueError:
            return Rejected(
                where,
                f"{label} score {cell('score')[:40]!r} in column {columns['score']!r} "
                "is not a number",
                raw,
                options.to_stored(),
            )
        if not low <= score <= high:
            return Rejected(
                where, f"{label} score {score:g} is outside {low}-{high}", raw, options.to_stored()
            )
    text = cell("comment")
    meta: dict[str, Any] = {}
    if not text:
        if score is None:
            return Rejected(
                where, "no score and no comment: nothing to record", raw, options.to_stored()
            )
        text = f"{label} {score:g}, no comment"
        meta["no_comment"] = True
    try:
        when = parse_time(cell("time"), field=columns["time"] or "") if columns["time"] else now
    except BadTime as exc:
        return Rejected(where, str(exc), raw, options.to_stored())
    identities: list[IdentityRef] = []
    if cell("email"):
        identities.append(IdentityRef(IdentityKind.EMAIL, cell("email")))
    if cell("customer_ref"):
        identities.append(IdentityRef(IdentityKind.CUSTOMER_REF, cell("customer_ref")))
    if cell("order_ref"):
        identities.append(IdentityRef(IdentityKind.ORDER_REF, cell("order_ref")))
    used = {c for c in columns.values() if c}
    extra = {k: v for k, v in row.items() if k not in used and v and v.strip()}
    if extra:
        meta["answers"] = extra
    return Item(
        channel=options.channel or Channel.SURVEY,
        text=text,
        received_at=when,
        source_id=cell("id") or content_source_id(*(row.get(h, "") for h in header)),
        author_name=cell("name") or None,
        identities=tuple(identities),
        public=False,
        score=score,
        score_scale=scale if score is not None else None,
        meta=meta,
    )
