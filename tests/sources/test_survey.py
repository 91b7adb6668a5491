"""Survey answers (NPS 0-10, CSAT 1-5) as CSV, through `amends ingest` and the parser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.helpers import counts, exported, ingest

from amends import sources
from amends.errors import UsageError
from amends.feedback.rules import ScoreScale
from amends.sources.base import Item, ParseOptions, Rejected, Source
from amends.sources.survey import SCALE_SAMPLE_ROWS, parse_survey


def parsed(path: Path, **options: Any) -> list[Item | Rejected]:
    return list(parse_survey(Source(name=path.name, path=path), ParseOptions(**options)))


@pytest.fixture
def desk(cli_env: Callable[[], Engine]) -> Callable[[], Engine]:
    return cli_env


NPS_EXPORT = (
    "Response ID,Submitted At,Email,"
    '"How likely are you to recommend Acme to a friend? (0-10)",'
    '"Why did you give that score?",Plan\n'
    'R_1a,2024-03-04 09:12:00,noor@example.com,2,"Billing charged me twice, support '
    'never replied.",Pro\n'
    "R_1b,2024-03-04 10:40:00,li@example.com,10,Love the new dashboard,Free\n"
    "R_1c,2024-03-05 08:00:00,,eleven,typo in the score,Pro\n"
    "R_1d,2024-03-05 09:30:00,ade@example.com,11,Off the scale,Pro\n"
    "R_1e,2024-03-05 11:00:00,ade@example.com,4,,Pro\n"
    "R_1f,2024-03-06 11:00:00,,,,Pro\n"
    "R_1g,2024-03-06 12:00:00,kim@example.com,,The export button does nothing,Team\n"
)


def test_nps_survey_through_the_cli(desk: Any, tmp_path: Path) -> None:
    path = tmp_path / "nps_march.csv"
    path.write_text(NPS_EXPORT, encoding="utf-8")
    assert sources.detect(Source(name=path.name, path=path)) == "survey"
    first = ingest(path, code=3)
    assert first["files"][0]["format"] == "survey"
    assert counts(first) == (7, 4, 0, 3)
    errors = " | ".join(first["errors"])
    assert "line 4: NPS score 'eleven' in column" in errors
    assert "line 5: NPS score 11 is outside 0-10" in errors
    assert "line 7: no score and no comment" in errors
    assert counts(ingest(path, code=3)) == (7, 0, 4, 3)

    rows = {r["source_id"]: r for r in exported()}
    detractor = rows["R_1a"]
    assert (detractor["channel"], detractor["public"], detractor["direction"]) == (
        "survey",
        False,
        "in",
    )
    assert (detractor["score"], detractor["score_scale"]) == (2.0, "nps")
    assert detractor["text"] == "Billing charged me twice, support never replied."
    assert detractor["received_at"].startswith("2024-03-04T09:12:00")
    assert detractor["reach"] is None
    assert detractor["case_id"] is not None
    # A promoter is praise: kept, no case.
    assert rows["R_1b"]["case_id"] is None
    assert rows["R_1e"]["text"] == "NPS 4, no comment"
    # A comment without a score still counts, without a score.
    assert (rows["R_1g"]["score"], rows["R_1g"]["score_scale"]) == (None, None)
    assert rows["R_1e"]["customer_id"] != rows["R_1a"]["customer_id"]


def test_csat_from_the_column_name(tmp_path: Path) -> None:
    path = tmp_path / "csat.csv"
    path.write_text(
        "ticket,customer_email,CSAT (1-5),feedback,date\n"
        "T-1,a@example.com,1,Nobody called back,2024-01-02\n"
        "T-2,b@example.com,0,zero is not CSAT,2024-01-02\n"
        "T-3,c@example.com,5,,2024-01-03\n",
        encoding="utf-8",
    )
    records = parsed(path)
    assert [type(r) for r in records] == [Item, Rejected, Item]
    low, bad, top = records
    assert isinstance(low, Item)
    assert (low.score, low.score_scale, low.public) == (1.0, ScoreScale.CSAT, False)
    assert [i.value for i in low.identities] == ["a@example.com"]
    assert isinstance(bad, Rejected)
    assert (bad.location, bad.reason) == ("line 3", "CSAT score 0 is outside 1-5")
    assert b"zero is not CSAT" in bad.raw
    assert isinstance(top, Item)
    assert top.text == "CSAT 5, no comment"
    assert top.meta["no_comment"] is True


def test_plain_score_column_is_nps_when_a_value_says_so(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(
        "id,score,comment\n1,3,meh\n2,4,ok\n3,9,great\n4,0,awful\n",
        encoding="utf-8",
    )
    records = parsed(path)
    assert all(isinstance(r, Item) and r.score_scale is ScoreScale.NPS for r in records)
    assert [r.source_id for r in records if isinstance(r, Item)] == ["1", "2", "3", "4"]


def test_plain_score_column_is_csat_when_values_stay_within_five(tmp_path: Path) -> None:
    rows = [f"{n},{n % 5 + 1},comment {n}" for n in range(SCALE_SAMPLE_ROWS)]
    # Past the sample the scale is settled: a 9 is now out of range, not a sign of NPS.
    rows.append(f"{SCALE_SAMPLE_ROWS},9,late nine")
    path = tmp_path / "answers.csv"
    path.write_text("id,rating,comment\n" + "\n".join(rows) + "\n", encoding="utf-8")
    records = parsed(path)
    assert len(records) == SCALE_SAMPLE_ROWS + 1
    assert {r.score_scale for r in records if isinstance(r, Item)} == {ScoreScale.CSAT}
    last = records[-1]
    assert isinstance(last, Rejected)
    assert (last.location, last.reason) == (
        f"line {SCALE_SAMPLE_ROWS + 2}",
        "CSAT score 9 is outside 1-5",
    )


def test_survey_without_a_score_column_is_refused_once(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("Response ID,Comment\n1,hello\n2,again\n", encoding="utf-8")
    # Not bad data but the wrong format or a missing option: the user is told, nothing kept.
    with pytest.raises(UsageError, match="no score column"):
        parsed(path)


def test_customer_and_order_references_identify_the_respondent(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "Respondent ID,Customer ID,Order ID,NPS,Reason\nx1,C-0042,O-9,1,Late again\n",
        encoding="utf-8",
    )
    (item,) = parsed(path)
    assert isinstance(item, Item)
    assert [(i.kind.value, i.value) for i in item.identities] == [
        ("customer_ref", "C-0042"),
        ("order_ref", "O-9"),
    ]
    assert item.source_id == "x1"
