"""Every input format the desk reads, and detection of a file's format from content and name."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from amends.sources.base import Item, ParseOptions, Rejected, Source


@dataclass(frozen=True)
class Format:
    name: str
    module: str
    summary: str


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("eml", "amends.sources.email", "one email message (.eml)"),
        Format("mbox", "amends.sources.email", "a mailbox file of many messages (mbox)"),
        Format("maildir", "amends.sources.email", "a Maildir folder (cur/ and new/)"),
        Format("x", "amends.sources.social", "X API v2 tweet objects (JSON or JSONL)"),
        Format(
            "conversations",
            "amends.sources.social",
            "customer-care conversation exports (dialogHeader / dialogContent JSON)",
        ),
        Format("reviews", "amends.sources.reviews", "reviews with a 1-5 rating (CSV or JSON)"),
        Format("survey", "amends.sources.survey", "survey answers with NPS or CSAT (CSV)"),
        Format(
            "transcript",
            "amends.sources.transcript",
            "chat or call transcripts (Speaker: text turns, or JSON segments)",
        ),
        Format("csv", "amends.sources.csvfile", "any CSV, with --text-column and friends"),
        Format(
            "feedback", "amends.sources.feedback_json", "the API's feedback objects (JSON/JSONL)"
        ),
    )
}


class UnknownFormat(ValueError):
    pass


def _module(fmt: Format) -> object:
    return importlib.import_module(fmt.module)


def parse(source: Source, fmt: str, options: ParseOptions) -> Iterator[Item | Rejected]:
    """Read `source` as format `fmt`, yielding items and rejects in input order."""
    if fmt not in FORMATS:
        raise UnknownFormat(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    module = _module(FORMATS[fmt])
    parser = getattr(module, f"parse_{fmt}")
    result: Iterator[Item | Rejected] = parser(source, options)
    return result


def detect(source: Source) -> str:
    """Name the format of `source` from its content and name, or raise UnknownFormat."""
    path = source.path
    if path is not None and path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            return "maildir"
        raise UnknownFormat(f"{path} is a folder but not a Maildir (no cur/ or new/)")
    head = source.head()
    best, best_score = "", 0
    seen: set[str] = set()
    for fmt in FORMATS.values():
        if fmt.module in seen:
            continue
        seen.add(fmt.module)
        sniff = getattr(_module(fmt), "sniff", None)
        if sniff is None:
            continue
        for name, score in sniff(head, source.name).items():
            if score > best_score:
                best, best_score = name, score
    if not best:
        raise UnknownFormat(
            f"{source.name}: cannot tell the format from its content; name one with --format "
            f"({', '.join(FORMATS)})"
        )
    return best


def expand(paths: list[Path]) -> Iterator[Path]:
    """Files to read: each path itself, a Maildir as one, other folders' files in name order."""
    for path in paths:
        if path.is_dir() and not ((path / "cur").is_dir() or (path / "new").is_dir()):
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
            )
        else:
            yield path
