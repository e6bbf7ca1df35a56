"""An update's changes to an order's elements (items, charges, discounts, payments), as HubRise documents them:
new elements are added; an existing element, named by its ``id``, may be deleted (irreversibly: it stays in the
order, marked ``deleted``, out of the totals) and may get the caller's private ref. Elements are never modified.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.bodies import same_value
from patronage.errors import ValidationFailed
from patronage.orders.models import Order, OrderElementPrivateRef
from patronage.orders.pricing import Priced, check_total, order_total, price_elements
from patronage.orders.schemas import ELEMENT_LISTS, ElementChange, OrderUpdate

_UNCHANGEABLE = "cannot be changed: delete the element and add a new one"


@dataclass
class ElementChanges:
    """What an update does to the elements, checked in full before anything is written."""

    private_refs: dict[str, str | None] = field(default_factory=dict)
    # The element lists and the total as they will be.
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    total_minor: int = 0


def _check_change(
    change: ElementChange, at: str, element: dict[str, Any] | None, kind: str, errors: list[dict[str, str]]
) -> None:
    if element is None:
        errors.append({"field": f"{at}.id", "message": f"is not the id of one of this order's {kind}"})
        return
    if change.deleted is False and element["deleted"]:
        errors.append({"field": f"{at}.deleted", "message": "cannot be reverted: the element is deleted"})
    # Any other field may only echo the element's current value.
    for name, value in (change.model_extra or {}).items():
        if name not in element or not same_value(value, element[name]):
            errors.append({"field": f"{at}.{name}", "message": _UNCHANGEABLE})


def plan_element_changes(order: Order, current: dict[str, Any], fields: OrderUpdate) -> ElementChanges:
    """The update's element changes against ``current``, the order as the caller reads it. A change naming an
    element this order's list does not hold (another order's, another list's, an unknown id), a field that is
    not an echo, an un-deletion, or a new element that fails pricing: one 422 naming every field."""
    changes = ElementChanges()
    deleted: set[str] = set()
    added = Priced()
    errors: list[dict[str, str]] = []
    new: dict[str, list[tuple[str, Any]]] = {kind: [] for kind in ELEMENT_LISTS}
    for kind in ELEMENT_LISTS:
        existing = {element["id"]: element for element in current[kind]}
        for index, entry in enumerate(getattr(fields, kind) or []):
            at = f"{kind}.{index}"
            if not isinstance(entry, ElementChange):
                new[kind].append((at, entry))
                continue
            element = existing.get(entry.id)
            _check_change(entry, at, element, kind, errors)
            if element is None:
                continue
            if entry.deleted:
                deleted.add(entry.id)
            if "private_ref" in entry.model_fields_set:
                changes.private_refs[entry.id] = entry.private_ref
    try:
        added = price_elements(
            order.currency,
            new["items"],
            new["charges"],
            new["discounts"],
            new["payments"],
            {key: key for key in order.deals or {}},
        )
    except ValidationFailed as exc:
        errors.extend(exc.errors or [])
    if errors:
        raise ValidationFailed(errors)
    for kind in ELEMENT_LISTS:
        changes.lists[kind] = _changed(getattr(order, kind) or [], deleted, getattr(added, kind))
    changes.private_refs.update(added.private_refs)
    changes.total_minor = order_total(changes.lists["items"], changes.lists["charges"], changes.lists["discounts"])
    check_total(changes.total_minor)
    return changes


def _changed(elements: list[dict[str, Any]], deleted: set[str], added: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # New lists and dicts: the JSON columns are only written when they are assigned a new value.
    return [{**element, "deleted": True} if element["id"] in deleted else element for element in elements] + added


async def set_element_private_ref(
    session: AsyncSession, order_id: str, client_id: str, element_id: str, ref: str | None
) -> None:
    await session.execute(
        delete(OrderElementPrivateRef).where(
            OrderElementPrivateRef.order_id == order_id,
            OrderElementPrivateRef.client_id == client_id,
            OrderElementPrivateRef.element_id == element_id,
        )
    )
    if ref is not None:
        session.add(OrderElementPrivateRef(order_id=order_id, client_id=client_id, element_id=element_id, ref=ref))


async def apply_element_changes(
    session: AsyncSession, client_id: str, order: Order, changes: ElementChanges, refs: dict[str, str]
) -> dict[str, str]:
    """Writes the planned changes and the new total; returns the caller's element refs as they now are."""
    for kind, elements in changes.lists.items():
        setattr(order, kind, elements)
    order.total_minor = changes.total_minor
    refs = dict(refs)
    for element_id, ref in changes.private_refs.items():
        if refs.get(element_id) == ref:
            continue
        await set_element_private_ref(session, order.id, client_id, element_id, ref)
        if ref is None:
            refs.pop(element_id, None)
        else:
            refs[element_id] = ref
    return refs
