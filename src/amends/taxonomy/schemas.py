"""Pydantic shapes for analysis, taxonomies and corrections at the edges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_TEXTS = 1000


class AnalysisContextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str | None = Field(default=None, max_length=40)
    public: bool = False
    reach: int | None = Field(default=None, ge=0)
    score: float | None = None
    score_scale: int = Field(default=5, description="5 for stars or CSAT, 10 for NPS")


class AnalyzeIn(BaseModel):
    """One text or up to 1,000, with optional context shared by all."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, min_length=1)
    texts: list[str] | None = Field(default=None, min_length=1, max_length=MAX_TEXTS)
    context: AnalysisContextIn | None = None

    @model_validator(mode="after")
    def _one_of(self) -> AnalyzeIn:
        if (self.text is None) == (self.texts is None):
            raise ValueError("send either text or texts")
        return self


class AnalyzeOut(BaseModel):
    results: list[dict[str, Any]]


class TaxonomyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    labels: list[str]
    examples_count: int
    active: bool
    created_at: datetime
    trained_at: datetime | None


class Example(BaseModel):
    text: str = Field(min_length=1)
    label: str = Field(min_length=1, max_length=200)


class TaxonomyLearnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    examples: list[Example] = Field(min_length=2, max_length=100_000)
    activate: bool = True


class ClassifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(min_length=1, max_length=MAX_TEXTS)


class Label(BaseModel):
    label: str
    confidence: float


class CategoryCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=200)
    taxonomy: str | None = Field(default=None, description="omit for the built-in categories")
