"""A real ``patronage serve`` process (several workers) on the test database, for tests of true concurrency."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PATRONAGE = Path(sys.executable).parent / "patronage"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(
    database_url: str, *, workers: int = 2, env: dict[str, str] | None = None, output: Path | None = None
) -> Iterator[str]:
    """Serves until the block ends; ``output`` receives everything the server writes, stdout and stderr."""
    port = free_port()
    log_file = output.open("wb") if output else None
    process = subprocess.Popen(
        [str(PATRONAGE), "serve", "--no-migrate", "--port", str(port), "--workers", str(workers)],
        env={**os.environ, "PATRONAGE_DATABASE_URL": database_url, "PATRONAGE_RATE_LIMITS": "off", **(env or {})},
        stdout=log_file or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log_file else subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in 30 s")
            time.sleep(0.2)
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
