"""`amends taxonomy ...`, `amends classify` and category corrections (`amends analyze` is in
`amends.analyze_cli`, which loads no database code)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from amends import cliutil
from amends.sources.base import ParseOptions, Rejected, Source
from amends.sources.csvfile import find_column, rows
from amends.taxonomy import service

taxonomy = typer.Typer(no_args_is_help=True, help="The company's own ways of filing complaints.")

BATCH = 1000


def _csv_column(
    path: Path, text_column: str, extra: str | None
) -> Iterator[tuple[int, dict[str, str]] | Rejected]:
    """Rows of a CSV (streamed, any encoding), after checking the named columns exist."""
    checked = False
    for record in rows(Source(name=str(path), path=path), ParseOptions()):
        if isinstance(record, Rejected):
            yield record
            continue
        line, header, row = record
        if not checked:
            for wanted in (text_column, extra):
                if wanted is not None:
                    find_column(header, wanted, ())
            checked = True
        yield line, {k.strip().lower(): v for k, v in row.items()}


@taxonomy.command("learn")
def learn(
    path: Path,
    name: Annotated[str, typer.Option(help="A name for this taxonomy.")],
    text_column: Annotated[str, typer.Option(help="The column with the complaint text.")],
    label_column: Annotated[str, typer.Option(help="The column with its label.")],
    activate: Annotated[
        bool, typer.Option(help="Report this taxonomy's label on every new complaint.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Learn a taxonomy from labelled examples (from 8-10 per label to tens of thousands)."""
    if not path.is_file():
        raise typer.BadParameter(f"no such file: {path}", param_hint="PATH")
    texts: list[str] = []
    labels: list[str] = []
    skipped: list[str] = []
    with cliutil.user_errors():
        for record in _csv_column(path, text_column, label_column):
            if isinstance(record, Rejected):
                skipped.append(f"{record.location}: {record.reason}")
                continue
            line, row = record
            text = (row.get(text_column.strip().lower()) or "").strip()
            label = (row.get(label_column.strip().lower()) or "").strip()
            if not text or not label:
                skipped.append(f"line {line}: no {'text' if not text else 'label'}")
                continue
            texts.append(text)
            labels.append(label)
        with cliutil.session(write=True) as session:
            result = service.learn_taxonomy(
                session, name, texts, labels, now=cliutil.now(), activate=activate
            )
            summary = {
                "name": result.taxonomy.name,
                "examples": result.examples,
                "labels": result.labels,
                "active": result.taxonomy.active,
                "skipped": len(skipped),
                "warnings": result.warnings,
            }
    if as_json:
        cliutil.print_json(summary)
        return
    typer.echo(
        f"taxonomy {name!r} learned from {result.examples} examples of "
        f"{len(result.labels)} labels{' (active)' if summary['active'] else ''}"
    )
    for warning in [*result.warnings, *skipped[:20]]:
        typer.echo(f"note: {warning}", err=True)


@taxonomy.command("list")
def list_taxonomies(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List taxonomies."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        for row in service.list_taxonomies(session):
            data = {
                "name": row.name,
                "labels": len(row.labels),
                "examples": row.examples_count,
                "active": row.active,
                "trained_at": row.trained_at.isoformat() if row.trained_at else None,
            }
            if as_json:
                cliutil.print_json(data)
            else:
                mark = "*" if row.active else " "
                typer.echo(
                    f"{mark} {row.name:<24} {data['labels']:>4} labels  "
                    f"{row.examples_count:>7} examples"
                )


@taxonomy.command("show")
def show(name: str) -> None:
    """Show a taxonomy's labels and how many examples each has."""
    with cliutil.user_errors(), cliutil.session(write=False) as session:
        row = service.get_taxonomy(session, name)
        result = service.label_counts(session, row)
        typer.echo(f"{row.name}{' (active)' if row.active else ''}: {row.examples_count} examples")
        for label, n in result.items():
            typer.echo(f"  {n:>7}  {label}")


@taxonomy.command("use")
def use(name: str) -> None:
    """Report this taxonomy's label beside the default category on new complaints."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        service.activate_taxonomy(session, name)
        typer.echo(f"taxonomy {name!r} is now active")


@taxonomy.command("retrain")
def retrain(name: str) -> None:
    """Train again on every example, agents' corrections included."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        result = service.retrain_taxonomy(session, name, now=cliutil.now())
        typer.echo(f"taxonomy {name!r} retrained on {result.examples} examples")


@taxonomy.command("delete")
def delete(name: str) -> None:
    """Delete a taxonomy and its examples (labels already given to feedback stay)."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        service.delete_taxonomy(session, name)
        typer.echo(f"taxonomy {name!r} deleted")


def classify(
    path: Path,
    taxonomy_name: Annotated[str, typer.Option("--taxonomy", help="The taxonomy to use.")],
    text_column: Annotated[str, typer.Option(help="The column with the text.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per row.")] = False,
) -> None:
    """Label every row of a CSV with a learned taxonomy, in input order."""
    if not path.is_file():
        raise typer.BadParameter(f"no such file: {path}", param_hint="PATH")
    with cliutil.user_errors():
        with cliutil.session(write=False) as session:
            model = service.model_of(service.get_taxonomy(session, taxonomy_name))
        pending: list[tuple[int, str]] = []

        def flush() -> None:
            texts = [t for _, t in pending if t]
            found = iter(service.classify(model, texts)) if texts else iter(())
            for line, text in pending:
                if text:
                    label, confidence = next(found)
                    out: dict[str, Any] = {
                        "line": line,
                        "label": label,
                        "confidence": round(confidence, 4),
                    }
                else:
                    out = {"line": line, "label": None, "confidence": None, "error": "no text"}
                if as_json:
                    cliutil.print_json(out)
                else:
                    shown = out["label"] or f"({out.get('error')})"
                    sys.stdout.write(f"{line}\t{shown}\t{out['confidence'] or ''}\n")
            pending.clear()

        for record in _csv_column(path, text_column, None):
            if isinstance(record, Rejected):
                typer.echo(f"skipped {record.location}: {record.reason}", err=True)
                continue
            line, row = record
            pending.append((line, (row.get(text_column.strip().lower()) or "").strip()))
            if len(pending) >= BATCH:
                flush()
        flush()


def correct(
    feedback_id: int,
    label: str,
    taxonomy_name: Annotated[
        str | None,
        typer.Option("--taxonomy", help="A company taxonomy; default: the built-in categories."),
    ] = None,
) -> None:
    """Correct what a complaint is about; the correction becomes a training example."""
    with cliutil.user_errors(), cliutil.session(write=True) as session:
        item = service.correct_category(
            session, feedback_id, label, now=cliutil.now(), taxonomy=taxonomy_name
        )
        typer.echo(f"feedback {item.id}: {'label' if taxonomy_name else 'category'} is now {label}")
