"""Right-of-access route (a Patronage extension, not in HubRise's API)."""

from patronage.customer_lists.access import ReadableList
from patronage.deps import Caller, ReadSession
from patronage.privacy import service
from patronage.privacy.schemas import CustomerExportOut
from patronage.routing import ApiRouter

router = ApiRouter(prefix="/v1/customer_lists/{customer_list_id}/customers", tags=["privacy"])


@router.get(
    "/{customer_id}/export",
    summary="Everything held about a customer (right of access; Patronage extension)",
    response_model=CustomerExportOut,
)
async def export_customer(customer_id: str, customer_list: ReadableList, session: ReadSession, principal: Caller):
    return await service.export_customer(session, principal, customer_list, customer_id)
