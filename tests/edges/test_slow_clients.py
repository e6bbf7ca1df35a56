"""Slow and oversized clients against a real ``patronage serve`` (patronage.edges.server)."""

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from helpers import Tenant
from live import live_server

LIMITS = {
    "PATRONAGE_HEADER_TIMEOUT_SECONDS": "1",
    "PATRONAGE_BODY_TIMEOUT_SECONDS": "1",
    "PATRONAGE_KEEP_ALIVE_SECONDS": "1",
    "PATRONAGE_MAX_HEADER_BYTES": "16384",
    "PATRONAGE_MAX_HEADERS": "100",
}


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[tuple[str, int]]:
    with live_server(database_url, workers=1, env=LIMITS) as base:
        host, port = base.removeprefix("http://").split(":")
        yield host, int(port)


def _connect(server: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(server, timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _status_and_json(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"application/json" in head.lower(), head
    return status, json.loads(body)


def test_headers_that_never_end_get_a_408_and_the_connection_closes(server: tuple[str, int]) -> None:
    sock = _connect(server)
    started = time.monotonic()
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: a")
    raw = _read_all(sock)
    assert time.monotonic() - started < 5
    status, body = _status_and_json(raw)
    assert status == 408
    assert body["error_type"] == "unprocessable_entity" and "headers" in body["message"]


def test_a_connection_that_sends_nothing_is_closed(server: tuple[str, int]) -> None:
    sock = _connect(server)
    started = time.monotonic()
    raw = _read_all(sock)
    assert time.monotonic() - started < 5
    assert raw == b"" or raw.startswith(b"HTTP/1.1 408")


async def test_a_body_that_trickles_gets_a_408(server: tuple[str, int], tenant: Tenant) -> None:
    token = (await tenant.token("location[all_customer_lists.write]")).encode()
    sock = _connect(server)
    sock.sendall(
        b"POST /v1/location/customer_lists HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"X-Access-Token: " + token + b"\r\nContent-Length: 100\r\n\r\n{"
    )
    started = time.monotonic()
    raw = _read_all(sock)
    assert time.monotonic() - started < 5
    status, _ = _status_and_json(raw)
    assert status == 408


@pytest.mark.parametrize(
    "headers",
    [
        b"X-Big: " + b"a" * 100_000 + b"\r\n",
        b"".join(b"X-H%d: v\r\n" % i for i in range(1000)),
    ],
    ids=["100 kB header", "1000 headers"],
)
def test_oversized_headers_get_a_431(server: tuple[str, int], headers: bytes) -> None:
    sock = _connect(server)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    status, body = _status_and_json(_read_all(sock))
    assert status == 431
    assert "headers" in body["message"]


def test_megabytes_of_headers_are_cut_off_early(server: tuple[str, int]) -> None:
    sock = _connect(server)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    sent = 0
    try:
        while sent < 8 * 1024 * 1024:
            sock.sendall(b"X-Flood: " + b"f" * 1000 + b"\r\n")
            sent += 1011
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert sent < 8 * 1024 * 1024, "the server read 8 MB of headers"
    sock.close()


def test_garbage_gets_json_400(server: tuple[str, int]) -> None:
    sock = _connect(server)
    sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    status, body = _status_and_json(_read_all(sock))
    assert status == 400
    assert body["error_type"] == "unprocessable_entity"


def test_normal_requests_and_keep_alive_still_work(server: tuple[str, int]) -> None:
    host, port = server
    with httpx.Client(base_url=f"http://{host}:{port}") as http:
        for _ in range(3):
            response = http.get("/health", headers={"X-Ok": "b" * 8000})
            assert response.status_code == 200
        time.sleep(1.5)  # the keep-alive connection is closed by the server; httpx reconnects
        assert http.get("/health").status_code == 200
