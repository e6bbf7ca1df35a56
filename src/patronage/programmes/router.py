"""Loyalty programmes, a Patronage extension (not HubRise): one per card scheme (the list, a card ``ref``; the
``~`` segment is the null ref, see programmes.service). Reading needs read access to the list; PUT and DELETE
change the list's own rules, as renaming it does (a location-level connection may not change its account's)."""

from typing import Annotated

from fastapi import Depends, Path

from patronage.customer_lists.access import ChangeableList, ReadableList
from patronage.deps import Body, ReadSession, WriteSession
from patronage.pagination import PageRequest, page_request, page_response
from patronage.programmes import service
from patronage.programmes.schemas import LoyaltyProgrammeOut, ProgrammeIn
from patronage.routing import ApiRouter

router = ApiRouter(prefix="/v1/customer_lists/{customer_list_id}/loyalty_programmes", tags=["loyalty programmes"])

EXTENSION = " (Patronage extension, not HubRise)"


async def _scheme(
    ref: str = Path(
        description="The card ref the programme governs; `~` for the cards without ref, `~~` before a ref that is"
        " empty or starts with `~`",
        max_length=1000,
        # A ref has at most 255 characters (a longer one is a 422 on PUT, not found otherwise).
        json_schema_extra={"maxLength": 257, "pattern": r"^(~|~~[^\u0000]{0,255}|[^~\u0000][^\u0000]{0,254})$"},
    ),
) -> str | None:
    return service.ref_from_segment(ref)


Scheme = Annotated[str | None, Depends(_scheme)]


@router.get(
    "", summary="List the loyalty programmes of a customer list" + EXTENSION, response_model=list[LoyaltyProgrammeOut]
)
async def index(customer_list: ReadableList, session: ReadSession, page: PageRequest = Depends(page_request)):
    result = await service.index(session, customer_list, page)
    return page_response(result.items, result.next_cursor)


@router.get("/{ref}", summary="Retrieve a loyalty programme" + EXTENSION, response_model=LoyaltyProgrammeOut)
async def retrieve(scheme: Scheme, customer_list: ReadableList, session: ReadSession):
    return await service.retrieve(session, customer_list, scheme)


@router.put("/{ref}", summary="Create or replace a loyalty programme" + EXTENSION, response_model=LoyaltyProgrammeOut)
async def put(fields: Body[ProgrammeIn], scheme: Scheme, customer_list: ChangeableList, session: WriteSession):
    return await service.put(session, customer_list, scheme, fields)


@router.delete(
    "/{ref}",
    summary="Delete a loyalty programme (cards and operations stay)" + EXTENSION,
    response_model=LoyaltyProgrammeOut,
)
async def delete(scheme: Scheme, customer_list: ChangeableList, session: WriteSession):
    return await service.delete(session, customer_list, scheme)
