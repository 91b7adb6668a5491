"""/api/v1/analyze, /api/v1/taxonomies and category corrections."""

from __future__ import annotations

from fastapi import APIRouter

from amends.api.deps import ClockDep, IdPath, SessionDep
from amends.feedback.schemas import FeedbackRead
from amends.taxonomy import service
from amends.taxonomy.schemas import (
    AnalyzeIn,
    AnalyzeOut,
    CategoryCorrection,
    ClassifyIn,
    Label,
    TaxonomyLearnIn,
    TaxonomyRead,
)

router = APIRouter(tags=["analysis"])


@router.post("/analyze", summary="Analyse one text or a batch")
def analyze(data: AnalyzeIn) -> AnalyzeOut:
    from amends.analysis import AnalysisContext, analyze_many

    texts = [data.text] if data.text is not None else list(data.texts or [])
    ctx = data.context
    context = AnalysisContext(**ctx.model_dump()) if ctx is not None else AnalysisContext()
    results = analyze_many(texts, [context] * len(texts))
    return AnalyzeOut(results=[r.to_dict() for r in results])


@router.get("/taxonomies", summary="The company's taxonomies")
def list_taxonomies(session: SessionDep) -> list[TaxonomyRead]:
    return [TaxonomyRead.model_validate(t) for t in service.list_taxonomies(session)]


@router.get("/taxonomies/{name}", summary="One taxonomy")
def get_taxonomy(name: str, session: SessionDep) -> TaxonomyRead:
    return TaxonomyRead.model_validate(service.get_taxonomy(session, name))


@router.put("/taxonomies/{name}", summary="Learn (or relearn) a taxonomy from examples")
def learn_taxonomy(
    name: str, data: TaxonomyLearnIn, session: SessionDep, clock: ClockDep
) -> TaxonomyRead:
    result = service.learn_taxonomy(
        session,
        name,
        [e.text for e in data.examples],
        [e.label for e in data.examples],
        now=clock(),
        activate=data.activate,
    )
    return TaxonomyRead.model_validate(result.taxonomy)


@router.post("/taxonomies/{name}/classify", summary="Label texts with a taxonomy, in order")
def classify(name: str, data: ClassifyIn, session: SessionDep) -> list[Label]:
    model = service.model_of(service.get_taxonomy(session, name))
    return [Label(label=lab, confidence=conf) for lab, conf in service.classify(model, data.texts)]


@router.put("/feedback/{feedback_id}/category", summary="Correct what a complaint is about")
def correct_category(
    feedback_id: IdPath, data: CategoryCorrection, session: SessionDep, clock: ClockDep
) -> FeedbackRead:
    item = service.correct_category(
        session, feedback_id, data.label, now=clock(), taxonomy=data.taxonomy
    )
    return FeedbackRead.model_validate(item)
