"""The reply checker against labelled replies: precision and recall per rule.

Two labelled sets (evals/data/checker/, see its README):
- every brand reply in ../shared/data/twitter_customer_care/dev.json, labelled by rule (the
  tweets are read from the shared data; only ids and labels are stored here). Each is checked
  as a public reply on X, with the customer's earlier tweets as the complaint, their handle, and
  the other brand replies to other customers as what the team already sent;
- replies written for the rarer rules and as hard negatives, each with its own context.

Whether the reply answers a complaint (which the missing_* rules need) is decided the way the
desk decides it, not read from the labels: the first answer in a conversation does when the
customer's message needs a response (so opens a case); a later one when their newest words are
unhappy (sentiment below -0.2).

Usage: .venv/bin/python evals/checker.py [--data ../shared/data]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from evals._common import REPO, data_dir, emit

LABELS = REPO / "evals" / "data" / "checker"


def _reply(
    turns: list[dict[str, Any]], position: int, text: str, handle: str | None
) -> dict[str, Any]:
    """A brand reply at `position` with the customer's words before it, and since our last."""
    before = turns[:position]
    answered = [i for i, t in enumerate(before) if "agent" in t]
    since = before[answered[-1] + 1 :] if answered else before
    return {
        "text": text,
        "complaint": "\n".join(t["message"] for t in before if "agent" not in t),
        "latest": "\n".join(t["message"] for t in since if "agent" not in t),
        "first": not answered,
        "handle": handle,
    }


def _twitter_replies(data: Path) -> list[dict[str, Any]]:
    """Every brand reply with what the checker may know: complaint, handle, replies to others."""
    conversations = json.loads((data / "twitter_customer_care" / "dev.json").read_text("utf-8"))
    replies: dict[str, dict[str, Any]] = {}
    for conv in conversations:
        turns = conv["dialogContent"]
        handle = next(
            (t.get("client") or t.get("client1") for t in turns if "agent" not in t), None
        )

        for i, turn in enumerate(turns):
            if "agent" in turn:
                replies.setdefault(str(turn["tweet_ID"]), _reply(turns, i, turn["message"], handle))
        url = conv.get("agentURL") or {}
        if url.get("tweet_ID") and url.get("url_utterance"):
            position = int(url.get("turn") or len(turns) + 1) - 1
            replies.setdefault(
                str(url["tweet_ID"]), _reply(turns, position, url["url_utterance"], handle)
            )
    return [{"id": k, **v} for k, v in replies.items()]


def _is_complaint(latest: str, *, first: bool) -> bool:
    """As the desk decides (amends.replies.service): the first answer on a case answers a
    complaint; a later one when the customer's newest words are unhappy."""
    from amends.analysis import analyze

    if not latest.strip():
        return False
    found = analyze(latest)
    return found.needs_response if first else found.sentiment < -0.2


def _score(pairs: list[tuple[set[str], set[str]]], rules: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rule in rules:
        tp = sum(rule in want and rule in got for want, got in pairs)
        fp = sum(rule not in want and rule in got for want, got in pairs)
        fn = sum(rule in want and rule not in got for want, got in pairs)
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall
            else None
        )
        out[rule] = {
            "support": tp + fn,
            "flagged": tp + fp,
            "precision": None if precision is None else round(precision, 3),
            "recall": None if recall is None else round(recall, 3),
            "f1": None if f1 is None else round(f1, 3),
        }
    return out


def main() -> None:
    data, _args = data_dir(__doc__.splitlines()[0], "twitter_customer_care/dev.json")
    from amends.replies.checker import ReplyContext, check_reply
    from amends.replies.rules import RuleId

    rules = [r.value for r in RuleId]
    labels = {
        row["tweet_id"]: row
        for row in map(
            json.loads, (LABELS / "twitter_labels.jsonl").read_text("utf-8").splitlines()
        )
    }
    replies = [r for r in _twitter_replies(data) if r["id"] in labels]
    t0 = time.perf_counter()
    twitter: list[tuple[set[str], set[str]]] = []
    agree = 0
    for reply in replies:
        others = [
            o["text"] for o in replies if o["handle"] != reply["handle"] and o["id"] != reply["id"]
        ]
        complaint = _is_complaint(reply["latest"], first=reply["first"])
        agree += complaint == bool(labels[reply["id"]].get("complaint"))
        ctx = ReplyContext(
            public=True,
            channel="x",
            customer_handle=f"@{reply['handle']}" if reply["handle"] else None,
            complaint=reply["complaint"] or None,
            is_complaint=complaint,
            sent_to_others=others,
        )
        got = {f.rule.value for f in check_reply(reply["text"], ctx).findings}
        twitter.append((set(labels[reply["id"]]["rules"]), got))
    written: list[tuple[set[str], set[str]]] = []
    misses: list[dict[str, Any]] = []
    for row in map(json.loads, (LABELS / "written.jsonl").read_text("utf-8").splitlines()):
        c = row.get("context", {})
        ctx = ReplyContext(
            public=bool(c.get("public")),
            channel=c.get("channel"),
            customer_name=c.get("customer_name"),
            complaint=c.get("complaint"),
            is_complaint=_is_complaint(c["complaint"], first=True) if c.get("complaint") else None,
            sent_to_others=tuple(c.get("sent_to_others", ())),
        )
        got = {f.rule.value for f in check_reply(row["text"], ctx).findings}
        want = set(row["rules"])
        written.append((want, got))
        if want != got:
            misses.append(
                {"id": row["id"], "missed": sorted(want - got), "extra": sorted(got - want)}
            )
    seconds = time.perf_counter() - t0
    emit(
        {
            "twitter_replies": len(twitter),
            "written_replies": len(written),
            "complaint_context_agreement": round(agree / max(1, len(replies)), 3),
            "all": _score(twitter + written, rules),
            "twitter": _score(twitter, rules),
            "written": _score(written, rules),
            "written_exact_match": round(1 - len(misses) / max(1, len(written)), 3),
            "ms_per_reply": round(1000 * seconds / max(1, len(twitter) + len(written)), 2),
        }
    )
    for miss in misses:  # for whoever tunes the rules: what each written reply got wrong
        print(json.dumps(miss), file=sys.stderr)


if __name__ == "__main__":
    main()
