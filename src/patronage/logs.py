"""Structured logs: one JSON object per line (structlog), never a token, a query string or a request value.

Request values reach a log through exceptions (a database error's message quotes the statement's parameters
and the database's own words, such as ``Key (email)=(ada@example.com) already exists``), through libraries'
debug lines (aiosqlite logs the calls it runs, with their parameters; uvicorn's trace level logs headers),
and through free text. Unless ``PATRONAGE_LOG_REQUEST_VALUES`` is on (debugging only), every line goes
through :func:`_without_request_values`: exceptions keep their types and stack frames but lose their
messages, other libraries' lines keep their first line only, and their lines below WARNING are dropped.
"""

import logging
import sys
import traceback
from typing import Any

import structlog

# Loggers whose lines below WARNING carry no request values: ours, uvicorn's (lifecycle), SQLAlchemy's (SQL
# echo, whose parameters the engine hides). ``uvicorn.asgi`` is uvicorn's trace of every ASGI message.
_QUIET_BELOW_WARNING_EXCEPT = ("patronage", "uvicorn", "sqlalchemy")
_NEVER = ("uvicorn.asgi",)


class _StdoutLogger:
    """Writes to whatever sys.stdout is at the time (it may be replaced, e.g. by a test runner)."""

    def msg(self, message: str) -> None:
        sys.stdout.write(message + "\n")
        sys.stdout.flush()

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def _is_under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


class _NoRequestValues(logging.Filter):
    """Drops the lines that are request data by nature (other libraries' debug and trace lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _is_under(record.name, _NEVER):
            return False
        return record.levelno >= logging.WARNING or _is_under(record.name, _QUIET_BELOW_WARNING_EXCEPT)


def describe_exception(error: BaseException) -> str:
    """An exception's chain as types and stack frames (code, not values): what a traceback says without the
    messages, which quote the values that failed."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.StackSummary.extract(traceback.walk_tb(current.__traceback__)).format())
        parts.append(f"{frames}{type(current).__module__}.{type(current).__qualname__}")
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "\n-- caused by / raised while handling:\n".join(parts) + "\n(messages hidden: PATRONAGE_LOG_REQUEST_VALUES)"


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if exc_info is True:
        exc_info = sys.exc_info()
    if isinstance(exc_info, tuple) and len(exc_info) == 3 and isinstance(exc_info[1], BaseException):
        return exc_info[1]
    return None


def _without_request_values(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    exc_info = event_dict.pop("exc_info", None)
    error = _exception_of(exc_info) if exc_info else None
    if error is not None:
        event_dict["exception"] = describe_exception(error)
    event_dict.pop("stack_info", None)
    record = event_dict.get("_record")
    if record is not None and not event_dict.get("_from_structlog") and not _is_under(record.name, ("patronage",)):
        # Another library's free text: its first line says what happened; the lines after it are reprs.
        event_dict["event"] = str(event_dict.get("event", "")).strip().split("\n", 1)[0]
    return event_dict


def configure(level: str = "info", request_values: bool | None = None) -> None:
    """Every line the process logs is one JSON object: ours, and the stdlib's (uvicorn, SQLAlchemy...) too.

    ``request_values`` (default: the ``PATRONAGE_LOG_REQUEST_VALUES`` setting) lets exception messages and
    libraries' debug lines through.
    """
    if request_values is None:
        from patronage.settings import get_settings

        request_values = get_settings().log_request_values
    scrub = [] if request_values else [_without_request_values]
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                *scrub,
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    if not request_values:
        handler.addFilter(_NoRequestValues())
    logging.basicConfig(handlers=[handler], level=level.upper(), force=True)
    # Client libraries log every call, and migrations every step, at INFO: too chatty for a server's log.
    for noisy in ("httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # uvicorn's messages go through the root handler above (``serve`` gives uvicorn no logging config); its
    # access lines are off: the app logs each request itself, with the route template and the connection.
    for name, propagate in (("uvicorn", True), ("uvicorn.error", True), ("uvicorn.access", False)):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = propagate
    structlog.configure(
        processors=[*shared, *scrub, structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=lambda *_: _StdoutLogger(),
        cache_logger_on_first_use=True,
    )
