"""Custom fields (SPEC §5), shared by customers, orders and locations: a JSON object merged key by key on update."""

import json
from typing import Annotated, Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from patronage.bodies import to_plain_json
from patronage.errors import field_error

MAX_BYTES = 8192

# JSON parses nesting up to about a thousand levels, but the code that copies, measures and renders custom
# fields recurses per level: a few hundred levels (well under 8 KiB) were a RecursionError, a 500.
CUSTOM_FIELDS_MAX_DEPTH = 32


def _not_too_deep(value: dict[str, Any]) -> dict[str, Any]:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:  # iterative: the check itself must not recurse
        item, depth = stack.pop()
        if depth > CUSTOM_FIELDS_MAX_DEPTH:
            raise PydanticCustomError("invalid", f"may not be nested more than {CUSTOM_FIELDS_MAX_DEPTH} levels deep")
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return value


CustomFields = Annotated[dict[str, Any], AfterValidator(_not_too_deep)]


def merge(current: dict[str, Any], sent: dict[str, Any] | None, *, reset: bool) -> dict[str, Any]:
    """Keys sent are set, keys sent as null removed, others kept; ``null`` for the whole object clears it."""
    merged = {} if reset or sent is None else dict(current)
    for key, value in to_plain_json(sent or {}, "custom_fields").items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    size = len(json.dumps(merged, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_BYTES:
        raise field_error("custom_fields", f"is too large ({size} bytes, maximum {MAX_BYTES})")
    return merged
