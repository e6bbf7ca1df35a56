"""A real ``patronage serve`` process (several workers) on the test database, for tests of true concurrency."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

PATRONAGE = Path(sys.executable).parent / "patronage"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    database_url: str, port: int, *, workers: int = 2, env: dict[str, str] | None = None, stdout: Any = None
) -> subprocess.Popen:
    """``patronage serve`` in a session of its own (so that :func:`kill_server` reaches every worker), ready."""
    process = subprocess.Popen(
        [str(PATRONAGE), "serve", "--no-migrate", "--port", str(port), "--workers", str(workers)],
        env={**os.environ, "PATRONAGE_DATABASE_URL": database_url, "PATRONAGE_RATE_LIMITS": "off", **(env or {})},
        stdout=stdout or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if stdout else subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60  # a loaded 2-core CI machine starts two workers slowly
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            kill_server(process)
            raise RuntimeError("server did not start in 60 s")
        time.sleep(0.2)


def kill_server(process: subprocess.Popen) -> None:
    """SIGKILL to the server and its workers at once: no shutdown code runs, as in a crash."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextmanager
def live_server(
    database_url: str, *, workers: int = 2, env: dict[str, str] | None = None, output: Path | None = None
) -> Iterator[str]:
    """Serves until the block ends; ``output`` receives everything the server writes, stdout and stderr."""
    port = free_port()
    log_file = output.open("wb") if output else None
    process = start_server(database_url, port, workers=workers, env=env, stdout=log_file)
    base = f"http://127.0.0.1:{port}"
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_file:
            log_file.close()
