"""Pure ASGI middleware for the edges of the API (SPEC §1): request ids, access logs and metrics,
method override, body size limit, CORS for the API, and ETags."""

import hashlib
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patronage.edges import metrics
from patronage.errors import AppError, BadRequest, NotFound, PayloadTooLarge, field_error

MAX_BODY_BYTES = 1024 * 1024
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_OVERRIDABLE = {"PUT", "PATCH", "DELETE"}

log = structlog.get_logger("patronage.access")


async def _send_error(send: Send, error: AppError, extra_headers: list[tuple[bytes, bytes]] = ()) -> None:
    import json

    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers + list(extra_headers)})
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Outermost: gives every response an X-Request-Id, logs one JSON line and records metrics."""

    def __init__(self, app: ASGIApp, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            route = scope.get("route")
            # FastAPI routes name their template; Starlette's own (/docs, /openapi.json) have fixed paths.
            template = getattr(route, "path", None) or (scope["path"] if "endpoint" in scope else "unmatched")
            state = scope.get("state", {})
            principal = state.get("principal")
            metrics.observe(scope["method"], template, status, duration)
            if self.access_log:
                log.info(
                    "request",
                    request_id=request_id,
                    method=scope["method"],
                    path=template,
                    status=status,
                    duration_ms=round(duration * 1000, 2),
                    connection_id=getattr(principal, "connection_id", None),
                )


class MethodOverrideMiddleware:
    """``X-Http-Method-Override: PUT|PATCH|DELETE`` on a POST; refused on any other method."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            override = Headers(scope=scope).get("x-http-method-override")
            if override is not None:
                wanted = override.strip().upper()
                if scope["method"] != "POST":
                    await _send_error(send, BadRequest("X-Http-Method-Override is only honoured on POST requests"))
                    return
                if wanted not in _OVERRIDABLE:
                    await _send_error(send, BadRequest("X-Http-Method-Override must be PUT, PATCH or DELETE"))
                    return
                scope["method"] = wanted
        await self.app(scope, receive, send)


class NulGuardMiddleware:
    """NUL characters in a path or query parameter: no id or filter holds one, and PostgreSQL refuses to even
    compare a string with one (a 500). A path is then unknown (404); a parameter is invalid (422)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if "\x00" in scope["path"]:
                await _send_error(send, NotFound("Not found"))
                return
            query = scope.get("query_string", b"")
            if b"%00" in query or b"\x00" in query:
                for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                    if "\x00" in name or "\x00" in value:
                        await _send_error(send, field_error(name.replace("\x00", ""), "must not hold a NUL character"))
                        return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuses bodies over 1 MiB with a 413, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _send_error(send, PayloadTooLarge() if length.isdigit() else BadRequest("Bad Content-Length"))
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge()
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_error(send, PayloadTooLarge())


class _TooLarge(Exception):
    pass


class ApiCorsMiddleware:
    """CORS for the API only (``/v1``): any origin, our headers allowed, paging headers exposed."""

    def __init__(self, app: ASGIApp) -> None:
        from starlette.middleware.cors import CORSMiddleware

        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=[
                "X-Access-Token",
                "Idempotency-Key",
                "Content-Type",
                "X-Http-Method-Override",
                "If-None-Match",
                "X-Request-Id",
            ],
            expose_headers=["X-Cursor-Next", "X-Request-Id", "ETag", "Retry-After", "Idempotent-Replayed"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class ETagMiddleware:
    """A strong ETag on successful GETs (single resources and index pages); If-None-Match -> 304."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []

        async def buffering_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                if message["status"] != 200:
                    await send(message)
                return
            if start is None or start["status"] != 200:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = MutableHeaders(scope=start)
            cursor = headers.get("x-cursor-next", "")
            etag = '"' + hashlib.sha256(body + cursor.encode()).hexdigest()[:32] + '"'
            headers["ETag"] = etag
            if _matches(Headers(scope=scope).get("if-none-match"), etag):
                start["status"] = 304
                del headers["content-length"]
                if "content-type" in headers:
                    del headers["content-type"]
                await send(start)
                await send({"type": "http.response.body", "body": b""})
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffering_send)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in candidates or etag in candidates or f"W/{etag}" in candidates
