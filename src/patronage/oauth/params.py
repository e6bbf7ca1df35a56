"""What the authorisation server is sent: the pages' forms, and the token endpoints' parameters, from the
query string, a form or a JSON body (HubRise's clients use all three).

No NUL character gets past here (PostgreSQL cannot compare text holding one): the query string's are refused
by ``NulGuardMiddleware``, a JSON body's by :func:`patronage.bodies.json_object`, a form's by
:func:`form_pairs`.
"""

from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Header, Request

from patronage.bodies import is_json_media_type, json_object
from patronage.errors import AppError, UnsupportedMediaType, ValidationFailed
from patronage.oauth.service import ClientCredentials, OAuthError, client_credentials

FORM = "application/x-www-form-urlencoded"


class BadForm(Exception):
    """A form that cannot be read: not UTF-8, or ``field`` holds a NUL character."""

    def __init__(self, field: str | None = None):
        super().__init__(field)
        self.field = field


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def form_pairs(raw: bytes) -> list[tuple[str, str]]:
    """The fields of an urlencoded form, in order (a name may repeat); raises :class:`BadForm`."""
    try:
        pairs = parse_qsl(raw.decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        raise BadForm() from None
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            raise BadForm(name.replace("\x00", ""))
    return pairs


def _invalid_json(error: AppError) -> OAuthError:
    if isinstance(error, ValidationFailed) and error.errors:
        field, message = error.errors[0]["field"], error.errors[0]["message"]
        subject = "The JSON body" if field == "body" else f"The {field} parameter"
        return OAuthError("invalid_request", f"{subject} {message}")
    return OAuthError("invalid_request", "Malformed JSON body")


async def token_parameters(request: Request) -> dict[str, Any]:
    """Query parameters (as HubRise's examples send them), overridden by a form or JSON body."""
    params: dict[str, Any] = dict(request.query_params)
    raw = await request.body()
    if not raw.strip():
        return params
    if is_json_media_type(request.headers.get("content-type")):
        try:
            body = await json_object(request)
        except AppError as exc:
            raise _invalid_json(exc) from None
    elif media_type(request) == FORM:
        try:
            body = dict(form_pairs(raw))
        except BadForm as exc:
            message = f"The {exc.field} parameter must not hold a NUL character" if exc.field is not None else None
            raise OAuthError("invalid_request", message or "The form body is not valid UTF-8") from None
    else:
        raise UnsupportedMediaType("The body must be application/x-www-form-urlencoded or JSON")
    return {**params, **body}


Params = Annotated[dict[str, Any], Depends(token_parameters)]


async def _token_grant_parameters(params: Params) -> dict[str, Any]:
    if params.get("grant_type") not in (None, "", "authorization_code"):
        raise OAuthError("unsupported_grant_type", "Only the authorization_code grant type is supported")
    return params


# The token endpoint's parameters, its grant type checked (before the client is).
TokenParams = Annotated[dict[str, Any], Depends(_token_grant_parameters)]


async def _credentials(
    params: Params,
    authorization: str | None = Header(None, description="Basic base64(client_id:client_secret)"),
) -> ClientCredentials:
    return client_credentials(authorization, params)


# Who the client says it is (HTTP Basic, or client_id and client_secret); checked in the write transaction.
Credentials = Annotated[ClientCredentials, Depends(_credentials)]
