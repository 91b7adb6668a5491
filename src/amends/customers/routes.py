"""/api/v1/customers."""

from __future__ import annotations

from fastapi import APIRouter

from amends.api.deps import IdPath, PageDep, SessionDep
from amends.api.paging import PageOf
from amends.customers import service
from amends.customers.schemas import CustomerDetail, CustomerRead
from amends.offers import service as offers_service
from amends.offers.schemas import OfferRead

router = APIRouter(tags=["customers"])


@router.get("/customers", summary="List customers, newest first")
def list_customers(session: SessionDep, page: PageDep) -> PageOf[CustomerRead]:
    rows, total = service.list_customers(session, limit=page.limit, offset=page.offset)
    return PageOf[CustomerRead](
        items=[CustomerRead.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/customers/{customer_id}", summary="One customer with identities and offers")
def get_customer(customer_id: IdPath, session: SessionDep) -> CustomerDetail:
    customer = service.get_customer(session, customer_id)
    offers, _total = offers_service.list_offers(session, customer_id=customer.id, limit=100)
    return CustomerDetail.model_validate(
        {
            **CustomerRead.model_validate(customer).model_dump(),
            "offers": [OfferRead.model_validate(o) for o in offers],
        }
    )
