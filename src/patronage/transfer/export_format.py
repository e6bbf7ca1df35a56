"""How an export writes a value: NDJSON as the API sends JSON, CSV cells, RFC 4180 records (docs/import-export.md)."""

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """JSON as the API sends it (compact, UTF-8); what orjson cannot encode (an integer beyond 64 bits, which
    custom fields may hold) goes through the standard encoder, as in ``patronage.responses``."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def cell(value: Any) -> str:
    """A CSV cell: null is empty, booleans ``true``/``false``, objects and arrays JSON text."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return dumps(value).decode()
    return str(value)


def cells(resource: dict[str, Any], columns: tuple[str, ...]) -> list[str]:
    """:func:`cell` of each column's value, with the common cases (text, null) inline: a million rows call it
    thirty million times."""
    return [
        value if value.__class__ is str else "" if value is None else cell(value)
        for value in map(resource.__getitem__, columns)
    ]


class CsvChunks:
    """RFC 4180 CSV (CRLF line ends, quotes where needed), encoded a batch at a time."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")

    def encode(self, rows: Iterable[list[str]]) -> bytes:
        self.writer.writerows(rows)
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text.encode()
