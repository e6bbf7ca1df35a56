from patronage.deps import Body, Caller, ReadSession, WriteSession
from patronage.routing import ApiRouter
from patronage.tenancy import service
from patronage.tenancy.access import (
    ChangeableConnectedLocation,
    ChangeableLocation,
    ConnectedAccount,
    ConnectedLocation,
    OwnAccount,
    VisibleAccount,
    VisibleLocation,
)
from patronage.tenancy.schemas import AccountOut, LocationOut, LocationUpdate, UserOut

router = ApiRouter(prefix="/v1", tags=["tenancy"])


@router.get("/location", summary="The connected location", response_model=LocationOut)
async def connected_location(location: ConnectedLocation, session: ReadSession):
    return await service.location_answer(session, location)


@router.get("/locations/{location_id}", summary="Retrieve a location", response_model=LocationOut)
async def retrieve_location(location: VisibleLocation, session: ReadSession):
    return await service.location_answer(session, location)


@router.patch("/location", summary="Update the connected location", response_model=LocationOut)
@router.put("/location", summary="Update the connected location (alias of PATCH)", response_model=LocationOut)
async def update_connected_location(
    fields: Body[LocationUpdate], location: ChangeableConnectedLocation, session: WriteSession
):
    return await service.update_location(session, location, fields)


@router.patch("/locations/{location_id}", summary="Update a location", response_model=LocationOut)
@router.put("/locations/{location_id}", summary="Update a location (alias of PATCH)", response_model=LocationOut)
async def update_location(fields: Body[LocationUpdate], location: ChangeableLocation, session: WriteSession):
    return await service.update_location(session, location, fields)


@router.get("/account", summary="The connected account", response_model=AccountOut)
async def connected_account(account: ConnectedAccount):
    return service.render_account(account)


@router.get("/accounts/{account_id}", summary="Retrieve an account", response_model=AccountOut)
async def retrieve_account(account: VisibleAccount):
    return service.render_account(account)


@router.get("/locations", summary="The locations the connection may address", response_model=list[LocationOut])
async def index_locations(session: ReadSession, principal: Caller):
    return [await service.location_answer(session, loc) for loc in await service.visible_locations(session, principal)]


@router.get("/accounts", summary="The accounts the connection may address (its own)", response_model=list[AccountOut])
async def index_accounts(account: OwnAccount):
    return [service.render_account(account)]


@router.get(
    "/user",
    summary="The user who granted the connection (needs the profile scope)",
    response_model=UserOut,
)
async def connected_user(session: ReadSession, principal: Caller):
    return await service.connected_user(session, principal)
