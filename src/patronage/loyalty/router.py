from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.customer_lists.access import ReadableList, WritableList, row_in_visible_list, with_list
from patronage.deps import Body, Caller, ReadSession, WriteSession
from patronage.idempotency import Idempotent
from patronage.loyalty import ledger, service
from patronage.loyalty.models import LoyaltyCard
from patronage.loyalty.schemas import (
    CardCreate,
    CardUpdate,
    LedgerOut,
    LoyaltyCardOut,
    LoyaltyOperationOut,
    OperationCreate,
)
from patronage.pagination import PageRequest, page_request, page_response
from patronage.routing import ApiRouter
from patronage.validators import QueryTime

router = ApiRouter(prefix="/v1/customer_lists/{customer_list_id}/loyalty_cards", tags=["loyalty"])


# What a route under /loyalty_cards/{loyalty_card_id} needs: the card of a list the caller sees (404
# otherwise), in the request's transaction, read with its list in one statement (a route declares the card
# before the list: the list is then answered from the session). A rename reads the card's ref and then writes
# it: it takes the card locked until commit. An operation needs no lock beforehand: the UPDATE that moves the
# balance takes the row lock itself, so concurrent operations on one card wait only for its last statements.


async def _load_card(
    session: AsyncSession, principal: Principal, customer_list_id: str, card_id: str, *, write: bool, lock: bool = False
) -> LoyaltyCard:
    stmt = with_list(
        select(LoyaltyCard).where(LoyaltyCard.id == card_id), LoyaltyCard.customer_list_id, customer_list_id
    )
    if lock:
        stmt = stmt.with_for_update(of=LoyaltyCard)
    row = await row_in_visible_list(
        session, principal, customer_list_id, stmt, write=write, missing="Loyalty card not found"
    )
    return row[0]


async def _readable_card(
    loyalty_card_id: str, customer_list_id: str, principal: Caller, session: ReadSession
) -> LoyaltyCard:
    return await _load_card(session, principal, customer_list_id, loyalty_card_id, write=False)


async def _writable_card(
    loyalty_card_id: str, customer_list_id: str, principal: Caller, session: WriteSession
) -> LoyaltyCard:
    return await _load_card(session, principal, customer_list_id, loyalty_card_id, write=True)


async def _locked_card(
    loyalty_card_id: str, customer_list_id: str, principal: Caller, session: WriteSession
) -> LoyaltyCard:
    return await _load_card(session, principal, customer_list_id, loyalty_card_id, write=True, lock=True)


ReadableCard = Annotated[LoyaltyCard, Depends(_readable_card)]
WritableCard = Annotated[LoyaltyCard, Depends(_writable_card)]
LockedCard = Annotated[LoyaltyCard, Depends(_locked_card)]


async def card_filters(
    customer_id: str | None = Query(None, description="Cards of this customer"),
    name: str | None = Query(None, description="Exact name"),
    ref: str | None = Query(None, description="Exact ref"),
) -> service.CardFilters:
    return service.CardFilters(customer_id=customer_id, name=name, ref=ref)


@router.get("", summary="List loyalty cards", response_model=list[LoyaltyCardOut])
async def index_cards(
    customer_list: ReadableList,
    session: ReadSession,
    page: PageRequest = Depends(page_request),
    filters: service.CardFilters = Depends(card_filters),
):
    result = await service.index_cards(session, customer_list, filters, page)
    return page_response(result.items, result.next_cursor)


@router.get("/{loyalty_card_id}", summary="Retrieve a loyalty card", response_model=LoyaltyCardOut)
async def retrieve_card(
    card: ReadableCard,
    customer_list: ReadableList,
    session: ReadSession,
    as_of: QueryTime | None = Query(
        None, description="Patronage extension: the balance at this ISO 8601 time (without offset: the list's zone)"
    ),
):
    if as_of is not None:
        return await service.card_as_of(session, customer_list, card, as_of)
    return (await service.render_cards(session, customer_list, [card]))[0]


@router.get(
    "/{loyalty_card_id}/ledger",
    summary="Export a card's ledger with its hash chain (Patronage extension)",
    response_model=LedgerOut,
)
async def export_ledger(card: ReadableCard, session: ReadSession):
    return await ledger.export(session, card)


@router.post("", status_code=201, summary="Create a loyalty card", response_model=LoyaltyCardOut)
async def create_card(
    fields: Body[CardCreate],
    idempotency: Idempotent,
    customer_list: WritableList,
    session: WriteSession,
):
    return idempotency.respond(await service.create_card(session, customer_list, fields), 201)


@router.patch("/{loyalty_card_id}", summary="Update a loyalty card", response_model=LoyaltyCardOut)
@router.put("/{loyalty_card_id}", summary="Update a loyalty card (alias of PATCH)", response_model=LoyaltyCardOut)
async def update_card(fields: Body[CardUpdate], card: LockedCard, customer_list: WritableList, session: WriteSession):
    return await service.update_card(session, customer_list, card, fields)


@router.get(
    "/{loyalty_card_id}/operations",
    summary="List a card's operations, newest first",
    response_model=list[LoyaltyOperationOut],
)
async def index_operations(
    card: ReadableCard,
    customer_list: ReadableList,
    session: ReadSession,
    page: PageRequest = Depends(page_request),
):
    result = await service.index_operations(session, customer_list, card, page)
    return page_response(result.items, result.next_cursor)


@router.get(
    "/{loyalty_card_id}/operations/{operation_id}",
    summary="Retrieve a loyalty operation",
    response_model=LoyaltyOperationOut,
)
async def retrieve_operation(operation_id: str, card: ReadableCard, customer_list: ReadableList, session: ReadSession):
    return await service.retrieve_operation(session, customer_list, card, operation_id)


@router.post(
    "/{loyalty_card_id}/operations",
    status_code=201,
    summary="Create a loyalty operation (moves the balance)",
    response_model=LoyaltyOperationOut,
)
async def create_operation(
    fields: Body[OperationCreate],
    idempotency: Idempotent,
    card: WritableCard,
    customer_list: WritableList,
    session: WriteSession,
    principal: Caller,
):
    return idempotency.respond(await service.create_operation(session, principal, customer_list, card, fields), 201)
