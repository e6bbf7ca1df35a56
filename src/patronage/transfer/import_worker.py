"""The reading side of ``import customers`` in a process of its own: reading the file and validating its rows,
most of an import's work, runs on one CPU while the importer writes the batches before on another (a thread
would share one CPU with the writer: Python runs one thread at a time).

The process is forked before the importer opens its event loop or any connection (nothing to inherit but the
open file, stdin included, and the settings), sends its results through a pipe, which holds one batch or
two: memory stays flat. It dies with the importer, however that ends (a kill included), and leaves Ctrl-C to
the importer.
"""

import contextlib
import ctypes
import gc
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from typing import Any

_PR_SET_PDEATHSIG = 1


class _Failure:
    """What the reading process sends when it cannot go on: the exception, raised again by the importer."""

    def __init__(self, exception: BaseException):
        self.exception = exception


class ReadingProcess:
    """The items ``produce()`` yields, made in a child process, in order. A plain fork (not multiprocessing's
    Process, which would close stdin in the child: stdin may be the file)."""

    def __init__(self, produce: Callable[[], Iterable[Any]]):
        receive, send = os.pipe()
        parent = os.getpid()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns
            os.close(receive)
            code = 1
            try:
                _run(produce, Connection(send, readable=False), parent)
                code = 0
            finally:
                os._exit(code)
        os.close(send)  # the child's end: the pipe reports the child's death as the end of the file
        self._receive = Connection(receive, writable=False)
        self._exitcode: int | None = None

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                message = self._receive.recv()
            except EOFError:
                raise RuntimeError(f"the import's reading process stopped ({self._status()})") from None
            if message is None:
                return
            if isinstance(message, _Failure):
                raise message.exception
            yield message

    def _status(self) -> str:
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        return f"exit code {os.waitstatus_to_exitcode(status)}"

    def stop(self) -> None:
        """Ends the process (at once: it may be blocked reading stdin)."""
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = 0
        self._receive.close()


def _run(produce: Callable[[], Iterable[Any]], send: Connection, parent: int) -> None:
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C at a terminal reaches both: the importer handles it
    quiet_garbage_collector()
    try:
        for item in produce():
            send.send(item)
        send.send(None)
    except (BrokenPipeError, ConnectionResetError):
        return  # the importer is gone
    except BaseException as exc:  # handed to the importer, which reports it
        with contextlib.suppress(OSError):
            try:
                send.send(_Failure(exc))
            except Exception:  # an exception that cannot be pickled
                send.send(_Failure(RuntimeError(f"{type(exc).__name__}: {exc}")))


def quiet_garbage_collector() -> None:
    """Makes the cyclic garbage collector skip what exists now (modules, models, schemas: most of the heap) and
    run less often: a bulk import allocates millions of short-lived objects, each of which counts towards the
    next collection, and every collection walked the whole heap (15-20 % of an import's time). Reference
    counting still frees the rows, and the collector still runs, on new objects only."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _die_with(parent: int) -> None:
    """Asks Linux to kill this process when the importer dies (a SIGKILL leaves it no time to stop us)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request
        os._exit(1)
