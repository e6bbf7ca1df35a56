"""Structured logs: one JSON object per line (structlog), never a token or a request body."""

import logging
import sys

import structlog


class _StdoutLogger:
    """Writes to whatever sys.stdout is at the time (it may be replaced, e.g. by a test runner)."""

    def msg(self, message: str) -> None:
        sys.stdout.write(message + "\n")
        sys.stdout.flush()

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def configure(level: str = "info") -> None:
    """Every line the process logs is one JSON object: ours, and the stdlib's (uvicorn, SQLAlchemy...) too."""
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
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
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
        processors=[*shared, structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=lambda *_: _StdoutLogger(),
        cache_logger_on_first_use=True,
    )
