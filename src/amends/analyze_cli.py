"""`amends analyze`: the analysis of texts given on the command line or in a file.

It needs no database, so it imports none: `amends.entry` runs it without loading the rest of the
command line, which keeps its cold start short (the models load in about half a second).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from amends.errors import DomainError, InvalidInput, UsageError

BATCH = 1000
EXIT_ERROR = 1
EXIT_USAGE = 2

app = typer.Typer(add_completion=False)


def _read_texts(text: str | None, file: Path | None) -> list[str]:
    if (text is None) == (file is None):
        raise UsageError("give a TEXT or --file, not both and not neither")
    if text is not None:
        return [text]
    assert file is not None
    if not file.is_file():
        raise InvalidInput(f"no such file: {file}")
    out: list[str] = []
    with file.open("r", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n")
            if line.lstrip().startswith("{"):
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    raise InvalidInput(f"{file}:{number}: not valid JSON: {exc}") from exc
                if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                    raise InvalidInput(f'{file}:{number}: a JSON line needs a "text" string')
                line = obj["text"]
            out.append(line)
    return out


@app.command()
def analyze(
    text: Annotated[str | None, typer.Argument(help="The text to analyse.")] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help='One text per line, or JSONL with a "text" field.'),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per text.")] = False,
    channel: Annotated[
        str | None, typer.Option(help="Where it was said: email, x, review...")
    ] = None,
    public: Annotated[bool, typer.Option(help="Said in public.")] = False,
    reach: Annotated[int | None, typer.Option(min=0, help="Followers of the author.")] = None,
) -> None:
    """Analyse complaint texts: feeling, severity, category, remedy, priority and why."""
    from amends.analysis import AnalysisContext, analyze_many

    try:
        texts = _read_texts(text, file)
        context = AnalysisContext(channel=channel, public=public, reach=reach)
        for start in range(0, len(texts), BATCH):
            chunk = texts[start : start + BATCH]
            for result in analyze_many(chunk, [context] * len(chunk)):
                if as_json:
                    sys.stdout.write(
                        json.dumps(result.to_dict(), ensure_ascii=False, default=str) + "\n"
                    )
                else:
                    _print_analysis(result.to_dict())
    except DomainError as exc:
        typer.echo(f"Error: {exc.detail}", err=True)
        raise typer.Exit(EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ERROR) from exc


def _print_analysis(found: dict[str, Any]) -> None:
    e = found["emotions"]
    typer.echo(f"{found['priority']}  {'; '.join(found['reasons']) or 'no particular urgency'}")
    typer.echo(
        f"  sentiment {found['sentiment']:+.2f} · anger {e['anger']:.2f} · frustration "
        f"{e['frustration']:.2f} · sadness {e['sadness']:.2f} · fear {e['fear']:.2f} · "
        f"joy {e['joy']:.2f} · intensity {e['intensity']:.2f}"
    )
    factors = ", ".join(f"{f['factor']} ({f['evidence']})" for f in found["severity"]["factors"])
    typer.echo(f"  severity {found['severity']['level']}{': ' + factors if factors else ''}")
    cat = found["category"]
    typer.echo(f"  category {cat['label']} ({cat['confidence']:.0%})")
    typer.echo(
        f"  asks for {found['remedy']['asked']} · "
        f"{'needs a response' if found['needs_response'] else 'needs no response'} "
        f"({found['response_reason']}) · language {found['language']}"
    )
