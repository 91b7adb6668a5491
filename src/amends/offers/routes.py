"""/api/v1: offer suggestions, offers and their decisions, vouchers, the abusive flag."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from amends.api.auth import ActingDep
from amends.api.deps import ClockDep, IdPath, IdQuery, PageDep, SessionDep
from amends.api.paging import PageOf
from amends.offers import service
from amends.offers.rules import OfferStatus
from amends.offers.schemas import (
    ApproveIn,
    DecisionIn,
    FlagIn,
    FlagRead,
    OfferIn,
    OfferRead,
    RedeemIn,
    SuggestionAnswer,
    VoucherState,
)
from amends.playbook.service import active_policy

router = APIRouter(tags=["offers"])

Code = Annotated[str, Path(min_length=1, max_length=64, description="a voucher code")]


@router.get(
    "/cases/{case_id}/offer-suggestion", summary="What to offer on a case, with the reasons"
)
def offer_suggestion(
    case_id: IdPath,
    session: SessionDep,
    clock: ClockDep,
    role: Annotated[Literal["agent", "lead"], Query(description="whose cap applies")] = "agent",
) -> SuggestionAnswer:
    suggestion = service.suggest_for_case(
        session, case_id, policy=active_policy(session), role=role, now=clock()
    )
    return SuggestionAnswer.model_validate(
        {"case_id": case_id, "suggestion": suggestion.to_dict() if suggestion else None}
    )


@router.post("/cases/{case_id}/offers", status_code=201, summary="Make an offer on a case")
def make_offer(
    case_id: IdPath, body: OfferIn, session: SessionDep, clock: ClockDep, acting: ActingDep
) -> OfferRead:
    """Above the agent's cap, over the month's budget, or more than a refused offer, the offer
    waits for a lead's approval (status pending_approval) and the lead is notified."""
    offer = service.make_offer(
        session,
        case_id,
        kind=body.kind,
        amount=body.amount,
        by=acting.named(body.agent),
        now=clock(),
        policy=active_policy(session),
        note=body.note,
    )
    return OfferRead.model_validate(offer)


@router.get("/offers", summary="Offers, newest first")
def list_offers(
    session: SessionDep,
    page: PageDep,
    case_id: IdQuery = None,
    customer_id: IdQuery = None,
    status: OfferStatus | None = None,
) -> PageOf[OfferRead]:
    rows, total = service.list_offers(
        session,
        limit=page.limit,
        offset=page.offset,
        case_id=case_id,
        customer_id=customer_id,
        status=status,
    )
    return PageOf[OfferRead](
        items=[OfferRead.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/offers/{offer_id}", summary="One offer")
def get_offer(offer_id: IdPath, session: SessionDep) -> OfferRead:
    return OfferRead.model_validate(service.get_offer(session, offer_id))


@router.post("/offers/{offer_id}/approve", summary="A team lead approves a pending offer")
def approve(
    offer_id: IdPath, body: ApproveIn, session: SessionDep, clock: ClockDep, acting: ActingDep
) -> OfferRead:
    offer = service.approve(
        session, offer_id, by=acting.named(body.agent), now=clock(), policy=active_policy(session)
    )
    return OfferRead.model_validate(offer)


@router.post("/offers/{offer_id}/accept", summary="The customer accepted")
def accept(
    offer_id: IdPath,
    session: SessionDep,
    clock: ClockDep,
    acting: ActingDep,
    body: DecisionIn | None = None,
) -> OfferRead:
    by = acting(body.agent if body else None)
    return OfferRead.model_validate(service.accept(session, offer_id, now=clock(), by=by))


@router.post("/offers/{offer_id}/refuse", summary="The customer refused")
def refuse(
    offer_id: IdPath,
    session: SessionDep,
    clock: ClockDep,
    acting: ActingDep,
    body: DecisionIn | None = None,
) -> OfferRead:
    offer = service.refuse(
        session,
        offer_id,
        now=clock(),
        reason=body.reason if body else None,
        by=acting(body.agent if body else None),
    )
    return OfferRead.model_validate(offer)


@router.post("/offers/{offer_id}/withdraw", summary="Take an offer back")
def withdraw(
    offer_id: IdPath,
    session: SessionDep,
    clock: ClockDep,
    acting: ActingDep,
    body: DecisionIn | None = None,
) -> OfferRead:
    offer = service.withdraw(
        session,
        offer_id,
        now=clock(),
        reason=body.reason if body else None,
        by=acting(body.agent if body else None),
    )
    return OfferRead.model_validate(offer)


@router.get("/vouchers/{code}", summary="A voucher's state")
def show_voucher(code: Code, session: SessionDep, clock: ClockDep) -> VoucherState:
    voucher = service.get_voucher(session, code)
    return VoucherState.model_validate(service.voucher_summary(voucher, now=clock()))


@router.post(
    "/vouchers/{code}/redeem",
    summary="Use a voucher, once",
    responses={
        404: {"description": "no such voucher"},
        409: {"description": "already redeemed"},
        410: {"description": "expired, or its offer was withdrawn"},
    },
)
def redeem(
    code: Code, session: SessionDep, clock: ClockDep, body: RedeemIn | None = None
) -> VoucherState:
    """The code is read in any case, with or without dashes and spaces."""
    now = clock()
    voucher = service.redeem_voucher(session, code, now=now, ref=body.ref if body else None)
    return VoucherState.model_validate(service.voucher_summary(voucher, now=now))


@router.post("/customers/{customer_id}/flag", summary="Flag or clear a customer as abusive")
def flag(
    customer_id: IdPath, body: FlagIn, session: SessionDep, clock: ClockDep, acting: ActingDep
) -> FlagRead:
    customer = service.flag_customer(
        session,
        customer_id,
        abusive=body.abusive,
        reason=body.reason,
        now=clock(),
        by=acting(body.agent),
    )
    return FlagRead.model_validate(customer)
