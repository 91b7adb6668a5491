"""Complaint-text analysis: pure functions over text and plain context, frozen results.

Models are committed with the package (see `models/NOTE.md`) and loaded on first use; nothing
is downloaded and torch is never imported.
"""

from amends.analysis.language import detect_language
from amends.analysis.pipeline import (
    CATEGORY_TITLES,
    MODEL_VERSION,
    Analysis,
    Category,
    CategoryGuess,
    Emotions,
    RemedyAsked,
    Severity,
    SeverityFactor,
    analyze,
    analyze_many,
    default_category_model,
)
from amends.analysis.priority import (
    DEFAULT_RULES,
    AnalysisContext,
    Priority,
    PriorityRules,
    format_count,
)
from amends.analysis.rules import Factor, Remedy, ResponseReason
from amends.analysis.taxonomy import TaxonomyModel, check_examples, train_taxonomy

__all__ = [
    "CATEGORY_TITLES",
    "DEFAULT_RULES",
    "MODEL_VERSION",
    "Analysis",
    "AnalysisContext",
    "Category",
    "CategoryGuess",
    "Emotions",
    "Factor",
    "Priority",
    "PriorityRules",
    "Remedy",
    "RemedyAsked",
    "ResponseReason",
    "Severity",
    "SeverityFactor",
    "TaxonomyModel",
    "analyze",
    "analyze_many",
    "check_examples",
    "default_category_model",
    "detect_language",
    "format_count",
    "train_taxonomy",
]
