"""Read-only fields (SPEC §7): echoed back with their current value they are ignored, else a 422."""

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from patronage.errors import ValidationFailed


def strip_read_only(data: dict[str, Any], fields: Iterable[str], current: dict[str, Any] | None) -> dict[str, Any]:
    """``current`` is the resource as rendered, or None on a create (where no read-only field may be sent)."""
    errors = []
    for field in fields:
        if field not in data:
            continue
        value = data[field]
        if current is None:
            errors.append({"field": field, "message": "is read-only"})
        elif not _same(value, current.get(field)):
            errors.append({"field": field, "message": "is read-only and cannot be changed"})
    if errors:
        raise ValidationFailed(errors)
    return {key: value for key, value in data.items() if key not in set(fields)}


def _same(sent: Any, current: Any) -> bool:
    # In Python 0 == False and 1 == True: a boolean only ever matches a boolean.
    if isinstance(sent, bool) or isinstance(current, bool):
        return type(sent) is type(current) and sent == current
    if sent == current:
        return True
    # Decimal-valued fields are rendered as strings but may be echoed as JSON numbers.
    if not isinstance(current, str) or not isinstance(sent, int | Decimal | str):
        return False
    try:
        return Decimal(str(sent)) == Decimal(current.split(" ")[0])
    except InvalidOperation:
        return False
