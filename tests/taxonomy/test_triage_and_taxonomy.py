"""Understanding complaints as the desk stores them: triage at ingest, company taxonomies,
corrections, and the `analyze` / `classify` commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from amends.cli import app

runner = CliRunner()

LABELLED = {
    "shipping": [
        "my parcel never arrived", "the delivery is two weeks late", "courier lost my package",
        "tracking has not moved in days", "order still not delivered", "where is my shipment",
        "package delivered to the wrong address", "delivery van never came",
        "parcel stuck at the depot", "the box has not shown up yet",
    ],
    "payments": [
        "I was charged twice", "refund has not reached my card", "double payment on my account",
        "you billed me after I cancelled", "wrong amount taken from my bank",
        "the invoice total is wrong", "card charged for an order I never made",
        "still waiting for my money back", "overcharged on my last bill",
        "payment taken twice this month",
    ],
    "login": [
        "cannot log in to my account", "password reset email never comes",
        "account locked after one try", "two factor code does not arrive",
        "the app logs me out constantly", "forgot my username and cannot recover it",
        "login page shows an error", "my account was hacked", "cannot sign in on the website",
        "verification link has expired",
    ],
}  # fmt: skip


def write_labelled(path: Path) -> None:
    lines = ["Complaint,Team"]
    lines += [f'"{text}",{label}' for label, texts in LABELLED.items() for text in texts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def post(client: TestClient, body: Any) -> Any:
    r = client.post("/api/v1/feedback", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def feedback(client: TestClient, fid: int) -> dict[str, Any]:
    return client.get(f"/api/v1/feedback/{fid}").json()  # type: ignore[no-any-return]


def test_ingest_stores_priority_with_its_reasons(client: TestClient) -> None:
    body = post(client, {
        "text": "@brand you charged me twice and nobody answers. Reporting you to the ombudsman!",
        "channel": "x", "handle": "@loud", "reach": 48_000,
    })  # fmt: skip
    item = feedback(client, body["feedback_ids"][0])
    assert item["priority"] == "P1"
    assert item["severity"] == 4
    reasons = " | ".join(item["analysis"]["reasons"])
    assert "charged twice" in reasons
    assert "48k followers" in reasons
    case = client.get(f"/api/v1/cases/{item['case_id']}").json()
    assert (case["priority"], case["category"]) == ("P1", item["category"])


def test_thanks_needs_no_response_and_opens_no_case(client: TestClient) -> None:
    body = post(client, {"text": "Thank you so much, all sorted now!", "email": "a@example.com"})
    item = feedback(client, body["feedback_ids"][0])
    assert item["needs_response"] is False
    assert item["case_id"] is None


def test_a_more_urgent_complaint_raises_the_case_priority(client: TestClient) -> None:
    first = post(client, {"text": "the app is a bit slow today", "email": "b@example.com"})
    case_id = feedback(client, first["feedback_ids"][0])["case_id"]
    before = client.get(f"/api/v1/cases/{case_id}").json()["priority"]
    post(client, {
        "text": "The charger caught fire and burned my hand. My lawyer will hear about this.",
        "email": "b@example.com",
    })  # fmt: skip
    after = client.get(f"/api/v1/cases/{case_id}").json()["priority"]
    assert before > after == "P1"


def test_history_counts_a_complaint_left_unanswered(client: TestClient) -> None:
    post(client, {"text": "my parcel is late", "email": "c@example.com",
                  "received_at": "2026-10-20T10:00:00Z"})  # fmt: skip
    body = post(client, {"text": "still no parcel", "email": "c@example.com",
                         "received_at": "2026-10-25T10:00:00Z"})  # fmt: skip
    found = feedback(client, body["feedback_ids"][0])["analysis"]
    assert "ignored" in [f["factor"] for f in found["severity"]["factors"]]


def test_analyze_endpoint(client: TestClient) -> None:
    r = client.post("/api/v1/analyze", json={"texts": ["I want a refund now", "thanks!"]})
    assert r.status_code == 200
    first, second = r.json()["results"]
    assert first["remedy"]["asked"] == "refund"
    assert second["needs_response"] is False
    assert client.post("/api/v1/analyze", json={}).status_code == 422


def test_taxonomy_learned_over_the_api_labels_new_feedback(client: TestClient) -> None:
    examples = [{"text": t, "label": lab} for lab, texts in LABELLED.items() for t in texts]
    r = client.put("/api/v1/taxonomies/teams", json={"examples": examples})
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True
    assert sorted(r.json()["labels"]) == ["login", "payments", "shipping"]
    labels = client.post(
        "/api/v1/taxonomies/teams/classify",
        json={"texts": ["my package is lost", "charged two times"]},
    ).json()
    assert [x["label"] for x in labels] == ["shipping", "payments"]
    body = post(client, {"text": "I cannot sign in, the reset mail never comes",
                         "email": "d@example.com"})  # fmt: skip
    item = feedback(client, body["feedback_ids"][0])
    assert item["company_label"] == "login"
    assert item["category"] == "account_access"  # the default category stays beside it


def test_a_correction_is_applied_and_kept_as_an_example(client: TestClient) -> None:
    body = post(client, {"text": "they sent me a flyer every day", "email": "e@example.com"})
    fid = body["feedback_ids"][0]
    r = client.put(f"/api/v1/feedback/{fid}/category", json={"label": "unwanted_marketing"})
    assert r.status_code == 200, r.text
    assert (r.json()["category"], r.json()["category_source"]) == ("unwanted_marketing", "agent")
    bad = client.put(f"/api/v1/feedback/{fid}/category", json={"label": "nonsense"})
    assert bad.status_code == 422
    assert "unknown category" in bad.json()["detail"]
    default = client.get("/api/v1/taxonomies/default").json()
    assert default["examples_count"] == 1


@pytest.fixture
def desk(cli_env: Callable[[], Engine]) -> Callable[[], Engine]:
    return cli_env


def test_cli_learn_classify_and_correct(desk: Any, tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    write_labelled(train)
    learned = runner.invoke(app, ["taxonomy", "learn", str(train), "--name", "teams",
                                  "--text-column", "Complaint", "--label-column", "Team",
                                  "--json"])  # fmt: skip
    assert learned.exit_code == 0, learned.output
    assert json.loads(learned.stdout)["labels"] == {"login": 10, "payments": 10, "shipping": 10}
    todo = tmp_path / "todo.csv"
    todo.write_text("id,text\n1,my parcel never came\n2,\n3,locked out of my account\n", "utf-8")
    out = runner.invoke(app, ["classify", str(todo), "--taxonomy", "teams", "--text-column",
                              "text", "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["line"], r["label"]) for r in rows] == [(2, "shipping"), (3, None), (4, "login")]
    assert 0 < rows[0]["confidence"] <= 1
    missing = runner.invoke(app, ["classify", str(todo), "--taxonomy", "nope",
                                  "--text-column", "text"])  # fmt: skip
    assert missing.exit_code == 1
    assert "taxonomy nope not found" in missing.stderr
    wrong_col = runner.invoke(app, ["classify", str(todo), "--taxonomy", "teams",
                                    "--text-column", "body"])  # fmt: skip
    assert wrong_col.exit_code == 2
    feed = tmp_path / "f.jsonl"
    feed.write_text('{"text": "password reset never arrives", "source_id": "1"}\n', "utf-8")
    assert runner.invoke(app, ["ingest", str(feed)]).exit_code == 0
    fixed = runner.invoke(app, ["feedback", "correct", "1", "payments", "--taxonomy", "teams"])
    assert fixed.exit_code == 0, fixed.output
    retrained = runner.invoke(app, ["taxonomy", "retrain", "teams"])
    assert "31 examples" in retrained.stdout
    listed = runner.invoke(app, ["taxonomy", "list", "--json"]).stdout
    assert json.loads(listed)["examples"] == 31


def test_cli_analyze_text_file_and_json(tmp_path: Path) -> None:
    path = tmp_path / "texts.jsonl"
    path.write_text('{"text": "I want my money back"}\n{"text": "lovely, thanks"}\n', "utf-8")
    out = runner.invoke(app, ["analyze", "--file", str(path), "--json"])
    assert out.exit_code == 0, out.output
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["remedy"]["asked"] for r in results] == ["refund", "none"]
    plain = runner.invoke(app, ["analyze", "It caught fire!", "--channel", "x", "--public"])
    assert plain.exit_code == 0
    assert "safety" in plain.stdout
    assert runner.invoke(app, ["analyze"]).exit_code == 2
