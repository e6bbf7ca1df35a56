"""Index pages (SPEC §3): ``count`` and an opaque keyset ``cursor``; ``X-Cursor-Next`` when more exist."""

import base64
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from fastapi import Query
from fastapi.responses import JSONResponse
from sqlalchemy import Select, tuple_

from patronage.errors import field_error

MAX_COUNT = 100
_CURSOR_VALUE_MAX = 128


@dataclass(frozen=True)
class PageRequest:
    count: int
    # The sort key of the last row of the previous page: (created_at, id), or another keyset.
    after: tuple[Any, ...] | None


def _checksum(payload: str) -> str:
    # Not a secret: it only tells a cursor we issued from a string someone typed.
    return hashlib.sha256(b"patronage-cursor:" + payload.encode()).hexdigest()[:8]


def _encode_value(value: Any) -> Any:
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
        return datetime.fromisoformat(value["t"])
    if isinstance(value, bool) or not isinstance(value, str | int) or len(str(value)) > _CURSOR_VALUE_MAX:
        raise ValueError("not a cursor value")
    return value


def encode_cursor(*values: Any) -> str:
    payload = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(f"{payload}|{_checksum(payload)}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, ...]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        payload, _, checksum = text.rpartition("|")
        values = json.loads(payload)
        if checksum != _checksum(payload) or not isinstance(values, list) or not values:
            raise ValueError
        return tuple(_decode_value(v) for v in values)
    except (ValueError, UnicodeDecodeError):
        raise field_error("cursor", "is not a cursor this server issued") from None


def page_request(
    count: str | None = Query(None, description="Results per page, 1 to 100 (default 100)"),
    cursor: str | None = Query(None, description="The X-Cursor-Next value of the previous page"),
) -> PageRequest:
    if count is None:
        size = MAX_COUNT
    elif not re.fullmatch(r"[0-9]{1,4}", count) or not 1 <= int(count) <= MAX_COUNT:
        raise field_error("count", f"must be an integer between 1 and {MAX_COUNT}")
    else:
        size = int(count)
    return PageRequest(size, decode_cursor(cursor) if cursor is not None else None)


def keyset(stmt: Select, created_col: Any, id_col: Any, page: PageRequest) -> Select:
    """Newest first, ties broken by id; one extra row tells whether another page exists."""
    return keyset_on(stmt, (created_col, id_col), page)


def _fits(values: tuple[Any, ...], columns: Sequence[Any]) -> bool:
    """A cursor of another shape (another index's, or forged: its checksum is no secret) would be compared
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
            raise field_error("cursor", "is not a cursor this server issued")
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
    return Page(items, encode_cursor(*key(items[-1])))


def page_response(body: list[Any], next_cursor: str | None) -> JSONResponse:
    headers = {"X-Cursor-Next": next_cursor} if next_cursor else None
    return JSONResponse(body, headers=headers)
