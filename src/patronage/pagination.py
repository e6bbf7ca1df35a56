"""Index pages (SPEC §3): ``count`` and an opaque keyset ``cursor``; ``X-Cursor-Next`` when more exist.

A cursor is the keyset of the previous page's last row, signed: an HMAC over the index it was issued for (the
request path: /v1/customer_lists/ID/customers...), the connection that read it, and the keyset, with a key
derived from the sealing keys (patronage.sealing), so that every process and host agrees. A cursor of another
index, list, connection or tenant, or a hand-made one, is a 422 on ``cursor``. Pages stay keyset queries: page
10,000 costs what page 1 does.
"""

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import Select, tuple_

from patronage import sealing
from patronage.deps import Caller
from patronage.errors import field_error
from patronage.responses import JsonResponse

MAX_COUNT = 100
_CURSOR_VALUE_MAX = 128
_CURSOR_MAX = 1024  # a real one is under 120 characters
_MAC_BYTES = 16


@dataclass(frozen=True)
class CursorBinding:
    """What a cursor is good for: one index read by one connection, under the server's cursor keys."""

    scope: bytes  # the request path and the connection id
    keys: tuple[bytes, ...]  # the first signs; every one is accepted (a key being rotated out)

    def _mac(self, key: bytes, payload: str) -> str:
        digest = hmac.new(key, self.scope + b"\x00" + payload.encode(), hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, payload: str) -> str:
        return self._mac(self.keys[0], payload)

    def verify(self, payload: str, mac: str) -> bool:
        return any(hmac.compare_digest(mac.encode(), self._mac(key, payload).encode()) for key in self.keys)


def binding_for(request: Request, connection_id: str) -> CursorBinding:
    keys = sealing.keyring(request.app.state.settings).cursor_keys
    return CursorBinding(f"{request.url.path}\x00{connection_id}".encode(), keys)


@dataclass(frozen=True)
class PageRequest:
    count: int
    # The sort key of the last row of the previous page: (created_at, id), or another keyset.
    after: tuple[Any, ...] | None
    # What the cursor of the next page is signed for.
    binding: CursorBinding


def _encode_value(value: Any) -> Any:
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
        return datetime.fromisoformat(value["t"])
    if isinstance(value, bool) or not isinstance(value, str | int) or len(str(value)) > _CURSOR_VALUE_MAX:
        raise ValueError("not a cursor value")
    return value


def encode_cursor(*values: Any, binding: CursorBinding | None = None) -> str:
    """The cursor after ``values``. Without a binding it is signed by no key, like a hand-made cursor: no
    request accepts it."""
    payload = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    mac = binding.sign(payload) if binding is not None else ""
    return base64.urlsafe_b64encode(f"{payload}|{mac}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, binding: CursorBinding) -> tuple[Any, ...]:
    try:
        if len(cursor) > _CURSOR_MAX:
            raise ValueError
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        payload, _, mac = text.rpartition("|")
        # The signature first: nothing of a cursor we did not issue for this index and caller is parsed.
        if not binding.verify(payload, mac):
            raise ValueError
        values = json.loads(payload)
        if not isinstance(values, list) or not values:
            raise ValueError
        return tuple(_decode_value(v) for v in values)
    except (ValueError, UnicodeDecodeError):
        raise field_error("cursor", "is not a cursor this server issued for this index") from None


def _digits(value: Any) -> Any:
    # Plain ASCII digits only: pydantic alone would also read " 5", "5.0" and "5_0" as 5.
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,4}", value):
        raise PydanticCustomError("count", f"must be an integer between 1 and {MAX_COUNT}")
    return value


# The bounds inside, the digit check outside: in the other order pydantic writes "ge"/"le" (no JSON Schema
# keywords) into the document instead of "minimum"/"maximum".
Count = Annotated[
    Annotated[int, Query(ge=1, le=MAX_COUNT, description="Results per page, 1 to 100 (default 100)")],
    BeforeValidator(_digits),
]


async def page_request(
    request: Request,
    principal: Caller,
    count: Count = MAX_COUNT,
    cursor: str | None = Query(None, description="The X-Cursor-Next value of the previous page"),
) -> PageRequest:
    binding = binding_for(request, principal.connection_id)
    return PageRequest(count, decode_cursor(cursor, binding) if cursor is not None else None, binding)


def keyset(stmt: Select, created_col: Any, id_col: Any, page: PageRequest) -> Select:
    """Newest first, ties broken by id; one extra row tells whether another page exists."""
    return keyset_on(stmt, (created_col, id_col), page)


def _fits(values: tuple[Any, ...], columns: Sequence[Any]) -> bool:
    """A signed cursor of another shape (an index whose keyset changed between versions) would be compared
    with the keyset columns as is: a 500 on PostgreSQL, a wrong page on SQLite."""
    if len(values) != len(columns):
        return False
    for value, column in zip(values, columns, strict=True):
        expected = column.type.python_type
        if isinstance(value, bool) or not isinstance(value, expected):
            return False
        if isinstance(value, str) and "\x00" in value:
            return False
        if isinstance(value, datetime) and value.tzinfo is not None:
            return False  # times are stored naive (UTC): SQLite would compare the texts
    return True


def keyset_on(stmt: Select, columns: Sequence[Any], page: PageRequest, *, ascending: bool = False) -> Select:
    """Descending (or ascending) order on ``columns``, starting after the cursor's values."""
    if page.after is not None:
        if not _fits(page.after, columns):
            raise field_error("cursor", "is not a cursor this server issued for this index")
        after = tuple_(*columns) > tuple_(*page.after) if ascending else tuple_(*columns) < tuple_(*page.after)
        stmt = stmt.where(after)
    order = [column.asc() if ascending else column.desc() for column in columns]
    return stmt.order_by(*order).limit(page.count + 1)


T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def cut_page(rows: Sequence[T], page: PageRequest, key: Any) -> Page[T]:
    """``key(row)`` is the row's sort key (``(created_at, id)``...), for the cursor of the next page."""
    if len(rows) <= page.count:
        return Page(rows, None)
    items = rows[: page.count]
    return Page(items, encode_cursor(*key(items[-1]), binding=page.binding))


def page_response(body: list[Any], next_cursor: str | None) -> JSONResponse:
    headers = {"X-Cursor-Next": next_cursor} if next_cursor else None
    return JsonResponse(body, headers=headers)
