"""Learning, storing and applying company taxonomies; agents' corrections as new examples.

Services flush; callers commit. Training imports scikit-learn and takes seconds to a minute.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from amends.errors import InvalidInput, NotFound
from amends.feedback.models import Feedback
from amends.feedback.triage import CompanyTaxonomy
from amends.taxonomy.models import DEFAULT_TAXONOMY, Taxonomy, TaxonomyExample

if TYPE_CHECKING:
    from amends.analysis import TaxonomyModel

MAX_NAME = 100


@dataclass(frozen=True)
class LearnResult:
    taxonomy: Taxonomy
    examples: int
    labels: dict[str, int]
    warnings: list[str]


def get_taxonomy(session: Session, name: str) -> Taxonomy:
    row = session.scalar(select(Taxonomy).where(Taxonomy.name == name))
    if row is None:
        raise NotFound("taxonomy", name)
    return row


def list_taxonomies(session: Session) -> list[Taxonomy]:
    return list(session.scalars(select(Taxonomy).order_by(Taxonomy.name)))


def learn_taxonomy(
    session: Session,
    name: str,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    now: datetime,
    activate: bool = True,
    replace: bool = True,
) -> LearnResult:
    """Learn (or relearn) taxonomy `name` from examples, keep the examples, and store the model.

    With `replace`, imported examples from an earlier learn are replaced; agents' corrections
    are always kept and trained on.
    """
    from amends.analysis import check_examples

    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"a taxonomy needs a name of 1 to {MAX_NAME} characters")
    if name == DEFAULT_TAXONOMY:
        raise InvalidInput(f"{DEFAULT_TAXONOMY!r} is the built-in taxonomy; choose another name")
    pairs = [(t.strip(), lab.strip()) for t, lab in zip(texts, labels, strict=True)]
    pairs = [(t, lab) for t, lab in pairs if t and lab]
    check_examples([t for t, _ in pairs], [lab for _, lab in pairs])
    row = session.scalar(select(Taxonomy).where(Taxonomy.name == name))
    if row is None:
        row = Taxonomy(name=name, labels=[], created_at=now)
        session.add(row)
        session.flush()
    elif replace:
        session.execute(
            delete(TaxonomyExample).where(
                TaxonomyExample.taxonomy_id == row.id, TaxonomyExample.origin == "import"
            )
        )
    session.add_all(
        TaxonomyExample(taxonomy_id=row.id, text=t, label=lab, origin="import", created_at=now)
        for t, lab in pairs
    )
    session.flush()
    warnings = _train(session, row, now=now)
    if activate:
        activate_taxonomy(session, name)
    return LearnResult(row, row.examples_count, label_counts(session, row), warnings)


def retrain_taxonomy(session: Session, name: str, *, now: datetime) -> LearnResult:
    """Train again on every stored example, corrections included."""
    row = get_taxonomy(session, name)
    warnings = _train(session, row, now=now)
    return LearnResult(row, row.examples_count, label_counts(session, row), warnings)


def _train(session: Session, row: Taxonomy, *, now: datetime) -> list[str]:
    from amends.analysis import check_examples, train_taxonomy

    examples = session.execute(
        select(TaxonomyExample.text, TaxonomyExample.label)
        .where(TaxonomyExample.taxonomy_id == row.id)
        .order_by(TaxonomyExample.id)
    ).all()
    texts = [t for t, _ in examples]
    labels = [lab for _, lab in examples]
    warnings = check_examples(texts, labels)
    model = train_taxonomy(texts, labels)
    row.model = model.to_bytes()
    row.labels = list(model.labels)
    row.examples_count = len(texts)
    row.trained_at = now
    session.flush()
    return warnings


def label_counts(session: Session, row: Taxonomy) -> dict[str, int]:
    """How many examples each label of the taxonomy has."""
    rows = session.execute(
        select(TaxonomyExample.label, func.count())
        .where(TaxonomyExample.taxonomy_id == row.id)
        .group_by(TaxonomyExample.label)
        .order_by(TaxonomyExample.label)
    )
    return {label: int(n) for label, n in rows}


def activate_taxonomy(session: Session, name: str) -> Taxonomy:
    """Make `name` the taxonomy whose label analysis reports beside the default category."""
    row = get_taxonomy(session, name)
    session.execute(update(Taxonomy).values(active=False))
    row.active = True
    session.flush()
    return row


def delete_taxonomy(session: Session, name: str) -> None:
    row = get_taxonomy(session, name)
    session.execute(delete(TaxonomyExample).where(TaxonomyExample.taxonomy_id == row.id))
    session.delete(row)
    session.flush()


def model_of(row: Taxonomy) -> TaxonomyModel:
    from amends.analysis import TaxonomyModel

    if row.model is None:
        raise InvalidInput(f"taxonomy {row.name!r} has not been trained yet")
    return TaxonomyModel.from_bytes(row.model)


def active_taxonomy(session: Session) -> CompanyTaxonomy | None:
    """The active company taxonomy; its model is deserialised once per distinct model."""
    found = session.execute(
        select(Taxonomy.name, Taxonomy.model).where(
            Taxonomy.active.is_(True), Taxonomy.model.is_not(None)
        )
    ).first()
    if found is None or found.model is None:
        return None
    key = (found.name, hashlib.sha256(found.model).hexdigest())
    if _loaded.get("key") != key:
        from amends.analysis import TaxonomyModel

        _loaded.clear()
        _loaded.update(
            key=key, value=CompanyTaxonomy(found.name, TaxonomyModel.from_bytes(found.model))
        )
    value: CompanyTaxonomy = _loaded["value"]
    return value


# The last active taxonomy loaded, keyed by its name and the hash of its model bytes.
_loaded: dict[str, Any] = {}


def classify(model: TaxonomyModel, texts: Sequence[str]) -> list[tuple[str, float]]:
    return [(label, float(conf)) for label, conf in model.predict(list(texts))]


def correct_category(
    session: Session,
    feedback_id: int,
    label: str,
    *,
    now: datetime,
    taxonomy: str | None = None,
) -> Feedback:
    """An agent says what a complaint is about; the desk takes it, and learns from it.

    Without `taxonomy`, `label` is one of the default categories. The correction becomes an
    example of that taxonomy (the built-in one keeps its corrections under "default"), used the
    next time it is trained.
    """
    from amends.analysis import Category

    item = session.get(Feedback, feedback_id)
    if item is None:
        raise NotFound("feedback", feedback_id)
    label = label.strip()
    if taxonomy is None:
        known = {c.value for c in Category}
        if label not in known:
            raise InvalidInput(f"unknown category {label!r}; one of: {', '.join(sorted(known))}")
        row = session.scalar(select(Taxonomy).where(Taxonomy.name == DEFAULT_TAXONOMY))
        if row is None:
            row = Taxonomy(name=DEFAULT_TAXONOMY, labels=sorted(known), created_at=now)
            session.add(row)
            session.flush()
        item.category = label
        item.category_confidence = 1.0
        item.category_source = "agent"
    else:
        row = get_taxonomy(session, taxonomy)
        if label not in row.labels:
            raise InvalidInput(
                f"taxonomy {taxonomy!r} has no label {label!r}; known: {', '.join(row.labels)}"
            )
        item.company_label = label
        item.company_confidence = 1.0
    session.add(
        TaxonomyExample(
            taxonomy_id=row.id,
            text=item.text,
            label=label,
            origin="correction",
            feedback_id=item.id,
            created_at=now,
        )
    )
    row.examples_count += 1
    session.flush()
    return item
