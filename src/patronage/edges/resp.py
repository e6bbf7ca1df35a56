"""A minimal Redis client for the one call the rate limiter makes on every request.

redis-py costs 60-100 µs of CPU per call (connection pool, command objects, response callbacks); on a light
request that was more than 10% of its cost (bench/RESULTS.md). This client keeps one connection per process,
pipelines concurrent calls on it (Redis answers in order: a queue of futures matches the answers), and only
speaks what the limiter needs: commands out, integers / arrays / strings / errors back.
"""

import asyncio
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit


class RedisError(Exception):
    """An error answer (``-ERR ...``)."""


class RedisUnavailable(ConnectionError):
    """No connection to Redis, or it broke."""


def encode(*parts: bytes | str | int) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


_INCOMPLETE = object()


def parse(buffer: bytearray, start: int = 0) -> tuple[Any, int]:
    """One answer from ``buffer[start:]``: (value, end), or (_INCOMPLETE, start) when more bytes are needed."""
    line_end = buffer.find(b"\r\n", start)
    if line_end < 0:
        return _INCOMPLETE, start
    kind, line = buffer[start : start + 1], bytes(buffer[start + 1 : line_end])
    end = line_end + 2
    if kind == b":":
        return int(line), end
    if kind == b"+":
        return line.decode(), end
    if kind == b"-":
        return RedisError(line.decode()), end
    if kind == b"$":
        length = int(line)
        if length < 0:
            return None, end
        if len(buffer) < end + length + 2:
            return _INCOMPLETE, start
        return bytes(buffer[end : end + length]), end + length + 2
    if kind == b"*":
        items = []
        for _ in range(max(int(line), 0)):
            item, end = parse(buffer, end)
            if item is _INCOMPLETE:
                return _INCOMPLETE, start
            items.append(item)
        return items, end
    raise RedisUnavailable(f"unexpected answer from Redis: {bytes(buffer[start:line_end])!r}")


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiting: deque[asyncio.Future] = deque()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        start = 0
        while self.waiting:
            try:
                value, end = parse(self.buffer, start)
            except (RedisUnavailable, ValueError) as exc:
                self._fail(RedisUnavailable(str(exc)))
                return
            if value is _INCOMPLETE:
                break
            start = end
            future = self.waiting.popleft()
            if not future.done():
                future.set_result(value)
        del self.buffer[:start]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(RedisUnavailable(f"the connection to Redis was lost: {exc or 'closed'}"))

    def _fail(self, error: Exception) -> None:
        self.closed = True
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)
        if self.transport is not None:
            self.transport.close()


class Redis:
    """``await redis.call("EVALSHA", ...)``; connects (again) on demand."""

    def __init__(self, url: str, timeout: float = 1.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError("only redis:// URLs are supported")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.password = unquote(parts.password) if parts.password else None
        self.username = unquote(parts.username) if parts.username else None
        self.db = int(parts.path.lstrip("/") or 0)
        self.timeout = timeout
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def _connection(self) -> _Protocol:
        if self._protocol is not None and not self._protocol.closed:
            return self._protocol
        self._connecting = self._connecting or asyncio.Lock()
        async with self._connecting:
            if self._protocol is None or self._protocol.closed:
                loop = asyncio.get_running_loop()
                try:
                    _, protocol = await asyncio.wait_for(
                        loop.create_connection(_Protocol, self.host, self.port), self.timeout
                    )
                except (OSError, TimeoutError) as exc:
                    raise RedisUnavailable(f"cannot connect to Redis at {self.host}:{self.port}: {exc}") from None
                self._protocol = protocol
                if self.password:
                    auth = (self.username, self.password) if self.username else (self.password,)
                    await self._send(protocol, ("AUTH", *auth))
                if self.db:
                    await self._send(protocol, ("SELECT", self.db))
        return self._protocol

    async def _send(self, protocol: _Protocol, parts: tuple[Any, ...]) -> Any:
        future = asyncio.get_running_loop().create_future()
        protocol.waiting.append(future)
        assert protocol.transport is not None
        protocol.transport.write(encode(*parts))
        try:
            async with asyncio.timeout(self.timeout):
                value = await future
        except TimeoutError:
            # The answers are no longer in step with the queue: start over on a new connection.
            protocol._fail(RedisUnavailable("Redis did not answer in time"))
            raise RedisUnavailable("Redis did not answer in time") from None
        if isinstance(value, RedisError):
            raise value
        return value

    async def call(self, *parts: Any) -> Any:
        return await self._send(await self._connection(), parts)

    async def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None
