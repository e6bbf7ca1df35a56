from typing import Any

from fastapi import APIRouter, Depends, Request

from patronage.auth.principal import Principal, current_principal, get_db
from patronage.tenancy import service

router = APIRouter(prefix="/v1", tags=["tenancy"])


@router.get("/location", summary="The connected location")
async def connected_location(request: Request, principal: Principal = Depends(current_principal)) -> Any:
    location_id = principal.require_location_level()
    async with get_db(request).session(write=False) as session:
        return service.render_location(await service.visible_location(session, principal, location_id))


@router.get("/locations/{location_id}", summary="Retrieve a location")
async def retrieve_location(
    location_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> Any:
    async with get_db(request).session(write=False) as session:
        return service.render_location(await service.visible_location(session, principal, location_id))


@router.get("/account", summary="The connected account")
async def connected_account(request: Request, principal: Principal = Depends(current_principal)) -> Any:
    account_id = principal.require_account_level()
    async with get_db(request).session(write=False) as session:
        return service.render_account(await service.visible_account(session, principal, account_id))


@router.get("/accounts/{account_id}", summary="Retrieve an account")
async def retrieve_account(account_id: str, request: Request, principal: Principal = Depends(current_principal)) -> Any:
    async with get_db(request).session(write=False) as session:
        return service.render_account(await service.visible_account(session, principal, account_id))


@router.get("/locations", summary="The locations the connection may address")
async def index_locations(request: Request, principal: Principal = Depends(current_principal)) -> Any:
    async with get_db(request).session(write=False) as session:
        return [service.render_location(location) for location in await service.visible_locations(session, principal)]


@router.get("/accounts", summary="The accounts the connection may address (its own)")
async def index_accounts(request: Request, principal: Principal = Depends(current_principal)) -> Any:
    async with get_db(request).session(write=False) as session:
        return [service.render_account(await service.visible_account(session, principal, principal.account_id))]


@router.get("/user", summary="The user who granted the connection (needs the profile scope)")
async def connected_user(request: Request, principal: Principal = Depends(current_principal)) -> Any:
    async with get_db(request).session(write=False) as session:
        return await service.connected_user(session, principal)
