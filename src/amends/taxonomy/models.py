"""Company taxonomies (learned classifiers stored in the database) and their examples."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from amends.db import Base

# The built-in recovery taxonomy; corrections to it are stored as its examples.
DEFAULT_TAXONOMY = "default"


class Taxonomy(Base):
    __tablename__ = "taxonomies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    labels: Mapped[list[str]]
    # The serialised model (numpy arrays and JSON, never a pickle); None until trained.
    model: Mapped[bytes | None] = mapped_column(LargeBinary)
    examples_count: Mapped[int] = mapped_column(default=0)
    # The taxonomy whose label analysis reports beside the default category.
    active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    trained_at: Mapped[datetime | None]


class TaxonomyExample(Base):
    __tablename__ = "taxonomy_examples"
    __table_args__ = (Index("ix_taxonomy_examples_taxonomy", "taxonomy_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    taxonomy_id: Mapped[int] = mapped_column(ForeignKey("taxonomies.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(20))  # "import" or "correction"
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id"), index=True)
    created_at: Mapped[datetime]
