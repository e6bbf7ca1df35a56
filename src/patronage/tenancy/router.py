from patronage.deps import Caller, ReadSession
from patronage.routing import ApiRouter
from patronage.tenancy import service
from patronage.tenancy.access import ConnectedAccount, ConnectedLocation, OwnAccount, VisibleAccount, VisibleLocation
from patronage.tenancy.schemas import AccountOut, LocationOut, UserOut

router = ApiRouter(prefix="/v1", tags=["tenancy"])


@router.get("/location", summary="The connected location", response_model=LocationOut)
async def connected_location(location: ConnectedLocation):
    return service.render_location(location)


@router.get("/locations/{location_id}", summary="Retrieve a location", response_model=LocationOut)
async def retrieve_location(location: VisibleLocation):
    return service.render_location(location)


@router.get("/account", summary="The connected account", response_model=AccountOut)
async def connected_account(account: ConnectedAccount):
    return service.render_account(account)


@router.get("/accounts/{account_id}", summary="Retrieve an account", response_model=AccountOut)
async def retrieve_account(account: VisibleAccount):
    return service.render_account(account)


@router.get("/locations", summary="The locations the connection may address", response_model=list[LocationOut])
async def index_locations(session: ReadSession, principal: Caller):
    return [service.render_location(location) for location in await service.visible_locations(session, principal)]


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
