"""One error hierarchy, rendered as the contract's error JSON (SPEC §2) by :mod:`patronage.error_handlers`.

No web framework here: services and the CLI raise these without importing one.
"""

from typing import Any


class AppError(Exception):
    status_code = 500
    error_type = "internal_error"
    default_message = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.message = message or self.default_message
        self.errors = errors
        self.headers = headers
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "error_type": self.error_type}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class BadRequest(AppError):
    status_code = 400
    error_type = "unprocessable_entity"
    default_message = "Bad request"


class Unauthorized(AppError):
    status_code = 401
    error_type = "unauthorized"
    default_message = "The access token is invalid or the connection has been revoked"


class Forbidden(AppError):
    status_code = 403
    error_type = "forbidden"
    default_message = "This access token is not allowed to perform this request"


class NotFound(AppError):
    status_code = 404
    error_type = "not_found"
    default_message = "Resource not found"


class RoutingError(AppError):
    status_code = 404
    error_type = "routing_error"
    default_message = "No route matches this request"


class MethodNotAllowed(RoutingError):
    status_code = 405
    default_message = "This method is not allowed on this route"


class UnsupportedMediaType(AppError):
    status_code = 415
    error_type = "unsupported_media_type"
    default_message = "The request body must be JSON (Content-Type: application/json)"


class PayloadTooLarge(AppError):
    status_code = 413
    error_type = "unprocessable_entity"
    default_message = "The request body is too large (maximum 1 MiB)"


class TooManyRequests(AppError):
    status_code = 429
    error_type = "too_many_requests"
    default_message = "Rate limit exceeded"


class ServiceUnavailable(AppError):
    """Every database connection of the process stayed busy for the pool's timeout: overload, not a bug.
    SPEC §2 has no error type for it; ``internal_error`` with a 503 and Retry-After tells a client to retry."""

    status_code = 503
    error_type = "internal_error"
    default_message = "The server is busy; retry later"

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "1"})


class ValidationFailed(AppError):
    status_code = 422
    error_type = "unprocessable_entity"
    default_message = "Validation failed"

    def __init__(self, errors: list[dict[str, str]], message: str | None = None):
        super().__init__(message, errors)


def field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "message": message}])


# Where pydantic says an error is ("body", "query" and "path" are FastAPI's prefixes, not field names).
_LOCATIONS = ("body", "query", "path", "header")
# Tags of a tagged union's members (pydantic puts the tag in an error's location): not field names either.
UNION_TAG = "\x00"
UNION_TAG_OTHER = "\x00\x00"


def validation_failed(errors: list[Any]) -> ValidationFailed:
    """Pydantic's (or FastAPI's) validation errors as the contract's: one ``{field, message}`` each."""
    rendered = []
    for error in errors:
        loc = list(error["loc"])
        if loc and loc[0] in _LOCATIONS:
            loc = loc[1:]
        field = ".".join(str(part) for part in loc if part not in (UNION_TAG, UNION_TAG_OTHER)) or "body"
        message = "is not a known field" if error["type"] == "extra_forbidden" else error["msg"]
        rendered.append({"field": field, "message": message})
    return ValidationFailed(rendered)
