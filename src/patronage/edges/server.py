"""The HTTP layer's own limits: slow and oversized clients cannot hold the server (issue 15, point 6).

uvicorn bounds neither the size nor the count of a request's headers, nor the time a client may take to send
them or its body: twenty connections trickling a byte a second are held for as long as they like, and
megabytes of headers are parsed and kept. :class:`GuardedHttpToolsProtocol` is uvicorn's httptools protocol
with those bounds added; over one, the client gets the contract's error JSON and the connection is closed:

- headers not complete within ``header_timeout_seconds`` of the connection (or of the previous response): 408;
- a body not complete within ``body_timeout_seconds`` of its headers: 408;
- more than ``max_header_bytes`` of request line and headers, or more than ``max_headers`` headers: 431;
- a request the parser cannot read: 400 (uvicorn answers it in plain text).

Idle keep-alive connections are closed after ``keep_alive_seconds`` (uvicorn's own ``timeout_keep_alive``).
"""

import json
from asyncio import TimerHandle
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from patronage.settings import get_settings

_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


def error_bytes(status: int, message: str, error_type: str = "unprocessable_entity") -> bytes:
    body = json.dumps({"message": message, "error_type": error_type}).encode()
    head = b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % (
        status,
        _REASONS[status],
        len(body),
    )
    return head + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.header_timeout = settings.header_timeout_seconds
        self.body_timeout = settings.body_timeout_seconds
        self.max_header_bytes = settings.max_header_bytes
        self.max_headers = settings.max_headers
        self._deadline: TimerHandle | None = None
        self._reading_headers = True
        self._header_bytes = 0
        self._header_count = 0
        self._refused = False

    # --- timers -------------------------------------------------------------------------------------------

    def _arm(self, seconds: float, message: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._refuse, 408, message)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse(self, status: int, message: str) -> None:
        self._disarm()
        self._refused = True
        if self.transport.is_closing():
            return
        self.logger.warning("refused a request: %d %s", status, message)  # the reason only, no request data
        # Once the application has started answering, a second status line would corrupt the stream.
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(error_bytes(status, message))
        if self.cycle is not None:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()

    def _expect_headers(self) -> None:
        self._reading_headers = True
        self._header_bytes = 0
        self._header_count = 0
        self._arm(self.header_timeout, f"The request headers did not arrive within {self.header_timeout:g} s")

    # --- uvicorn's protocol, with the bounds -------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._expect_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._reading_headers:
            self._header_bytes += len(data)
            # A whole body may arrive with the headers: only what exceeds the limit by more than a body could
            # is refused here; on_headers_complete measures exactly.
            if self._header_bytes > self.max_header_bytes and b"\r\n\r\n" not in data:
                self._refuse(431, f"The request headers are over {self.max_header_bytes} bytes")
                return
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "The request is not valid HTTP/1.1")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._head_bytes += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        if self._header_count > self.max_headers:
            self._refuse(431, f"A request may have at most {self.max_headers} headers")
            return
        if self._head_bytes > self.max_header_bytes:
            self._refuse(431, f"The request line and headers are over {self.max_header_bytes} bytes")
            return
        self._arm(self.body_timeout, f"The request body did not arrive within {self.body_timeout:g} s")
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._expect_headers()
