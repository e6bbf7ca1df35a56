"""A local webhook receiver and a real callback worker process, for tests of active callbacks."""

import asyncio
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from live import PATRONAGE

FAST = {
    "PATRONAGE_CALLBACK_ALLOW_PRIVATE": "true",
    "PATRONAGE_CALLBACK_POLL_SECONDS": "0.1",
    "PATRONAGE_CALLBACK_RETRY_BASE_SECONDS": "0.5",
    "PATRONAGE_CALLBACK_TIMEOUT_SECONDS": "2",
}


@dataclass
class Delivery:
    at: float
    body: bytes
    headers: dict[str, str]

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local HTTP endpoint; ``answer(delivery)`` picks each status (and may sleep)."""

    answer: Callable[[Delivery], int] = lambda _: 200
    deliveries: list[Delivery] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def wait_for(self, condition: Callable[[list[Delivery]], bool], within: float = 20) -> list[Delivery]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with self.lock:
                seen = list(self.deliveries)
            if condition(seen):
                return seen
            await asyncio.sleep(0.05)
        raise AssertionError(f"not delivered in {within} s; got {[d.event['id'] for d in self.deliveries]}")


@contextmanager
def receiver(answer: Callable[[Delivery], int] = lambda _: 200) -> Iterator[Receiver]:
    state = Receiver(answer)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            delivery = Delivery(time.monotonic(), body, {k.lower(): v for k, v in self.headers.items()})
            with state.lock:
                state.deliveries.append(delivery)
            status = state.answer(delivery)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def worker(database_url: str, **env: str) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(
        [str(PATRONAGE), "worker"],
        env={**os.environ, "PATRONAGE_DATABASE_URL": database_url, **FAST, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
