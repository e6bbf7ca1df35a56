"""The source side of ``patronage import hubrise``: a HubRise-compatible API read through its public routes only.

Pagination is the API's (``count=100``, ``cursor``, ``X-Cursor-Next``); a ``429`` waits for its ``Retry-After``;
a ``5xx`` or a connection error is tried again with a doubling wait. Nothing here touches the local database.
"""

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

PAGE = 100
RETRIES = 8  # transient failures (5xx, connection errors) tried again this many times
MAX_WAIT = 120.0  # seconds: the longest Retry-After honoured at once (a longer one is waited in steps)


class SourceError(Exception):
    """The source refused or cannot be reached: reported on stderr, exit 1 (a follow cycle tries again later,
    unless ``fatal``: the token is refused)."""

    def __init__(self, message: str, *, fatal: bool = False):
        super().__init__(message)
        self.fatal = fatal


class Stopped(Exception):
    """The operator asked to stop (SIGINT/SIGTERM) while a wait was in progress."""


class SourceApi:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        log: Callable[[str], None],
        stopping: Callable[[], bool] = lambda: False,
        page_size: int = PAGE,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        root = base_url.rstrip("/")
        if not root.endswith("/v1"):
            root += "/v1"
        self.root = root
        self.page_size = page_size
        self.log = log
        self.stopping = stopping
        self.requests = 0
        self.rate_limited = 0
        self.retried = 0
        self.retries = RETRIES
        self.http = httpx.AsyncClient(
            base_url=root,
            headers={"X-Access-Token": token, "Accept": "application/json"},
            timeout=httpx.Timeout(30.0),
            transport=transport,
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def _sleep(self, seconds: float) -> None:
        """Waits, checking for a stop request every half second."""
        end = asyncio.get_running_loop().time() + seconds
        while (left := end - asyncio.get_running_loop().time()) > 0:
            if self.stopping():
                raise Stopped
            await asyncio.sleep(min(left, 0.5))

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call, with 429 waits and retries of transient failures; 4xx other than 404/422 is a SourceError."""
        attempt = 0
        while True:
            self.requests += 1
            try:
                response = await self.http.request(method, path, **kwargs)
            except httpx.InvalidURL as exc:
                raise SourceError(f"bad source URL {self.root!r}: {exc}") from None
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.UnsupportedProtocol):
                    raise SourceError(f"bad source URL {self.root!r}: {exc}") from None
                attempt += 1
                if attempt > self.retries:
                    raise SourceError(f"source {self.root} unreachable: {exc!r}") from None
                await self._backoff(attempt, f"{method} {path}: {type(exc).__name__}")
                continue
            if response.status_code == 429:
                self.rate_limited += 1
                wait = _retry_after(response)
                self.log(f"rate limited by the source: waiting {wait:.0f} s")
                await self._sleep(min(wait, MAX_WAIT))
                continue
            if response.status_code >= 500:
                attempt += 1
                if attempt > self.retries:
                    raise SourceError(f"source {method} {path}: {response.status_code} {response.text[:200]}")
                await self._backoff(attempt, f"{method} {path}: {response.status_code}")
                continue
            if response.status_code == 401:
                raise SourceError(f"the source refused the token (401 on {method} {path})", fatal=True)
            return response

    async def _backoff(self, attempt: int, why: str) -> None:
        self.retried += 1
        wait = min(30.0, 0.5 * 2 ** (attempt - 1)) * (0.75 + random.random() / 2)
        self.log(f"{why}; trying again in {wait:.1f} s")
        await self._sleep(wait)

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """The JSON of a GET; ``None`` for a 404 (the resource is gone, or this token may not see it)."""
        response = await self.request("GET", path, params=params)
        if response.status_code == 404:
            return None
        _expect_ok(response, "GET", path)
        return response.json()

    async def pages(
        self, path: str, params: dict[str, Any] | None = None, *, count: int | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Each page of an index, following ``X-Cursor-Next`` (a 404 index yields nothing)."""
        query = {**(params or {}), "count": count or self.page_size}
        while True:
            response = await self.request("GET", path, params=query)
            if response.status_code == 404:
                return
            _expect_ok(response, "GET", path)
            yield response.json()
            cursor = response.headers.get("X-Cursor-Next")
            if not cursor:
                return
            query = {**query, "cursor": cursor}

    async def all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [item async for page in self.pages(path, params) for item in page]

    async def send(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.request(method, path, json=body)
        if response.status_code == 404 and method == "DELETE":
            return None  # already gone (an event acknowledged twice)
        _expect_ok(response, method, path)
        return response.json() if response.content else None


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(1.0, float(response.headers.get("Retry-After", "5")))
    except ValueError:
        return 5.0


def _expect_ok(response: httpx.Response, method: str, path: str) -> None:
    if response.status_code >= 400:
        try:
            message = response.json().get("message") or response.text
        except ValueError:
            message = response.text
        raise SourceError(f"source {method} {path}: {response.status_code} {str(message)[:200]}")
