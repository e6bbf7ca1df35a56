"""Custom fields (SPEC §5), shared by customers, orders and locations: a JSON object merged key by key on update."""

import json
from typing import Any

from patronage.bodies import to_plain_json
from patronage.errors import field_error

MAX_BYTES = 8192

# How deep they may nest is the one body limit, bodies.MAX_DEPTH (checked before any model sees the body).
CustomFields = dict[str, Any]


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
