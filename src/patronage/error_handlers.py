"""The handlers that render every failure as the contract's error JSON (SPEC §2)."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from patronage import logs
from patronage.errors import AppError, MethodNotAllowed, RoutingError, ServiceUnavailable, validation_failed
from patronage.idempotency import Replayed
from patronage.routing import allowed_methods

log = logging.getLogger("patronage.errors")


def error_response(error: AppError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status_code, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return error_response(exc, headers=exc.headers)

    @app.exception_handler(Replayed)
    async def replayed(_: Request, exc: Replayed) -> JSONResponse:
        return exc.response

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_failed(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(RoutingError())
        if exc.status_code == 405:
            allow = ", ".join(sorted(allowed_methods(request.app, request.scope)))
            return error_response(MethodNotAllowed(), headers={**(exc.headers or {}), "Allow": allow})
        error = AppError(str(exc.detail))
        error.status_code = exc.status_code
        return error_response(error, headers=exc.headers)

    @app.exception_handler(PoolTimeout)
    async def overloaded(request: Request, _: PoolTimeout) -> JSONResponse:
        route = getattr(request.scope.get("route"), "path", None) or "unmatched"
        log.warning("database pool exhausted on %s %s: answered 503", request.method, route)
        error = ServiceUnavailable()
        return error_response(error, headers=error.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The route's template, not its path (which may hold a private ref), and the exception's types and
        # frames, not its message (a database error's quotes the values): see patronage.logs.
        route = getattr(request.scope.get("route"), "path", None) or "unmatched"
        settings = getattr(request.app.state, "settings", None)
        if getattr(settings, "log_request_values", False):
            log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        else:
            log.error("unhandled error on %s %s\n%s", request.method, route, logs.describe_exception(exc))
        return error_response(AppError())
