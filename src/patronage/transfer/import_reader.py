"""Reading an import file as a stream of records, each with the number of the line it starts on and its text.

The file is read as bytes, one line at a time (memory stays flat whatever its size): each line is decoded as
UTF-8 on its own, so a line that is not UTF-8 rejects its record only. CSV records may span lines (quoted
newlines); the csv module is fed line by line and each record keeps the lines it took.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from patronage.bodies import parse_json

# A line longer than this is read in pieces (a CSV field that long is an error of the csv module; an NDJSON line
# that long is refused, as the API refuses a body over 1 MiB).
MAX_LINE = 1 << 20
NOT_UTF8 = {"field": "line", "message": "is not valid UTF-8 text"}


@dataclass(slots=True)
class Record:
    """What one record of the file holds, before validation: ``cells`` (CSV) or ``data`` (NDJSON), or the
    ``problem`` that makes it unreadable."""

    line: int
    raw: str
    cells: list[str] | None = None
    data: Any = None
    problem: dict[str, str] | None = None


class _Lines:
    """A binary stream's lines, decoded, counted; remembers the lines taken since :meth:`take` was last called."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.number = 0
        self.bytes_read = 0
        self.start = 1
        self.taken: list[str] = []
        self.bad_text = False
        self.midline = False  # the last piece read ended inside an overlong line

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        raw = self.stream.readline(MAX_LINE)
        if not raw:
            raise StopIteration
        if not self.midline:
            self.number += 1
        self.midline = not raw.endswith(b"\n")
        self.bytes_read += len(raw)
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            text = raw.decode(errors="replace")
            self.bad_text = True
        if self.number == 1 and text.startswith("\ufeff"):  # a byte order mark, as some spreadsheets write
            text = text[1:]
        if not self.taken:
            self.start = self.number
        self.taken.append(text)
        return text

    def take(self) -> tuple[int, str, bool]:
        """The line number the last record started on, its text (without the final newline), and whether its
        bytes were not all UTF-8."""
        text = "".join(self.taken)
        if text.endswith("\n"):
            text = text[:-2] if text.endswith("\r\n") else text[:-1]
        start, bad = self.start, self.bad_text
        self.taken, self.bad_text = [], False
        return start, text[:MAX_LINE], bad


class CsvFile:
    """A CSV file: its header (read at once: a bad header is an error before anything is imported), then its
    records."""

    def __init__(self, stream: BinaryIO):
        self.lines = _Lines(stream)
        self.reader = csv.reader(self.lines, strict=True)
        self.header = self._header()

    def _header(self) -> list[str]:
        while True:
            try:
                cells = next(self.reader)
            except StopIteration:
                raise ValueError("the file is empty: a CSV file starts with a header") from None
            except csv.Error as exc:
                raise ValueError(f"the header cannot be read: {exc}") from None
            _, _, bad = self.lines.take()
            if bad:
                raise ValueError("the header is not valid UTF-8 text")
            if cells:
                return [name.strip() for name in cells]

    @property
    def bytes_read(self) -> int:
        return self.lines.bytes_read

    def __iter__(self) -> Iterator[Record]:
        width = len(self.header)
        while True:
            try:
                cells = next(self.reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line, raw, _ = self.lines.take()
                yield Record(line, raw, problem={"field": "line", "message": f"is not valid CSV ({exc})"})
                continue
            line, raw, bad = self.lines.take()
            if not cells:
                continue  # a blank line
            if bad:
                yield Record(line, raw, problem=NOT_UTF8)
            elif len(cells) != width:
                message = f"has {len(cells)} cell{'s' if len(cells) != 1 else ''}, the header has {width}"
                yield Record(line, raw, problem={"field": "line", "message": message})
            else:
                yield Record(line, raw, cells=cells)


class NdjsonFile:
    """An NDJSON file: one JSON object per line; blank lines are skipped."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.bytes_read = 0

    def __iter__(self) -> Iterator[Record]:
        number = 0
        while True:
            raw = self.stream.readline(MAX_LINE)
            if not raw:
                return
            number += 1
            self.bytes_read += len(raw)
            if not raw.endswith(b"\n") and len(raw) == MAX_LINE:
                while True:  # the rest of an overlong line is skipped
                    more = self.stream.readline(MAX_LINE)
                    self.bytes_read += len(more)
                    if not more or more.endswith(b"\n"):
                        break
                text = raw.decode(errors="replace")
                yield Record(number, text, problem={"field": "line", "message": f"is longer than {MAX_LINE} bytes"})
                continue
            try:
                text = raw.decode()
            except UnicodeDecodeError:
                yield Record(number, raw.decode(errors="replace").rstrip("\r\n"), problem=NOT_UTF8)
                continue
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            text = text.rstrip("\r\n")
            if not text.strip():
                continue
            try:
                data = parse_json(text)
            except (ValueError, RecursionError) as exc:
                yield Record(number, text, problem={"field": "line", "message": f"is not valid JSON ({exc})"})
                continue
            yield Record(number, text, data=data)
