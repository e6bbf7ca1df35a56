"""Where an export goes: stdout, or a file that appears only once complete.

A file is written under a temporary name in its directory and renamed over ``--output`` at the end, so an export
that fails or is interrupted never leaves a truncated file looking like a whole one (nor replaces a good one).
A path that is not a regular file (``/dev/stdout``, a named pipe) is written in place.
"""

import contextlib
import os
import secrets
import sys
from pathlib import Path
from typing import BinaryIO

BUFFER = 1 << 20


class Output:
    """A binary stream for :func:`patronage.transfer.exporter.export`: ``open()`` first, then ``write``s, then
    ``commit()`` (or ``discard()`` on failure)."""

    def __init__(self, path: Path | None):
        self.path = path
        self.partial: Path | None = None
        self.file: BinaryIO | None = None

    def open(self) -> None:
        if self.path is None:
            self.file = sys.stdout.buffer
            return
        if self.path.exists() and not self.path.is_file():
            self.file = open(self.path, "wb", buffering=BUFFER)  # noqa: SIM115 - closed by commit/discard
            return
        self.partial = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.partial")
        descriptor = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        self.file = os.fdopen(descriptor, "wb", buffering=BUFFER)

    def write(self, data: bytes) -> int:
        assert self.file is not None
        return self.file.write(data)

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()

    def commit(self) -> None:
        if self.file is None:
            return
        self.file.flush()
        if self.path is not None:
            self.file.close()
        if self.partial is not None:
            os.replace(self.partial, self.path)  # type: ignore[arg-type]
            self.partial = None
        self.file = None

    def discard(self) -> None:
        if self.file is not None and self.path is not None:
            with contextlib.suppress(OSError):
                self.file.close()
        self.file = None
        if self.partial is not None:
            self.partial.unlink(missing_ok=True)
            self.partial = None
