"""What the authorisation server's endpoints take and answer, for the OpenAPI document (SPEC §10).

Documentation only: the pages read their forms and the token endpoints their parameters themselves
(:mod:`patronage.oauth.params`), and the answers are built by the services.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from patronage.routing import ERROR_SCHEMA

_CLIENT_ID = "Unless sent by HTTP Basic (Authorization: Basic base64(client_id:client_secret))"


class TokenRequest(BaseModel):
    grant_type: Literal["authorization_code"] | None = Field(None, description="The only grant type; may be omitted")
    code: str = Field(description="The authorisation code the redirect brought")
    redirect_uri: str | None = Field(None, description="If sent, the one the code was issued for")
    client_id: str | None = Field(None, description=_CLIENT_ID)
    client_secret: str | None = Field(None, description=_CLIENT_ID)


class RevokeRequest(BaseModel):
    token: str = Field(description="An access token of one of the client's connections")
    client_id: str | None = Field(None, description=_CLIENT_ID)
    client_secret: str | None = Field(None, description=_CLIENT_ID)


class TokenAnswer(BaseModel):
    """The connection's token and what it grants (``auth.service.token_answer``): HubRise's fields, then
    ``user_id`` and ``app_instance_id`` (read by HubRise's Ruby client), then Patronage's own."""

    access_token: str = Field(examples=["b9a5c4bc0e8f1c52ed5a8b2a2c2e0e10"])
    token_type: Literal["Bearer"]
    account_id: str = Field(examples=["3r4s3"])
    location_id: str | None = Field(examples=["3r4s3-1"], description="Null for an account-level connection")
    catalog_id: None = Field(description="Patronage has no catalogs: always null")
    customer_list_id: str | None = Field(examples=["xab66"], description="The list a customer_list.* scope is bound to")
    account_name: str = Field(examples=["Bella Pizza"])
    location_name: str | None = Field(examples=["Paris"])
    catalog_name: None = Field(description="Always null")
    customer_list_name: str | None = Field(examples=["Bella Pizza"])
    user_id: str = Field(examples=["v6ap7"], description="The user who granted the connection (GET /v1/user's id)")
    app_instance_id: str = Field(description="The connection's id (HubRise's app instance): connection_id")
    connection_id: str = Field(description="Beyond HubRise: the connection's id")
    scope: str = Field(examples=["location[orders.read]"], description="Beyond HubRise: the scope granted")


class Revoked(BaseModel):
    """An empty object, whether or not the token was live."""

    model_config = ConfigDict(extra="forbid")


class OAuthErrorBody(BaseModel):
    """The contract's error JSON with RFC 6749's ``error`` code."""

    message: str
    error_type: Literal["unprocessable_entity", "unauthorized"]
    error: Literal["invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type"]


class LoginForm(BaseModel):
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None = None
    device_id: str | None = None
    csrf_token: str = Field(description="The value the login page holds (and its cookie)")
    email: str
    password: str


class ConsentForm(BaseModel):
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None = None
    device_id: str | None = None
    csrf_token: str = Field(description="The value the consent page holds")
    decision: Literal["allow", "deny"]
    account_id: str | None = Field(None, description="For an account[...] scope: one of the user's accounts")
    location_id: str | None = Field(None, description="For a location[...] scope: one of the user's locations")
    customer_list_id: str | None = Field(None, description="For a customer_list.* scope: the list to bind")


# --- the answers, as the OpenAPI document describes them -------------------------------------------------------


def html_answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def redirect_answer(description: str) -> dict[str, Any]:
    return {"description": description, "headers": {"Location": {"schema": {"type": "string"}}}}


def _json(description: str, schema: Any = ERROR_SCHEMA) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def request_body(model: type[BaseModel], *media_types: str) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {media: {"schema": schema} for media in media_types}}}


EDGE_ERRORS = {
    413: _json("The body is over 1 MiB"),
    422: _json("A query parameter holds a NUL character"),
}
FORM_ERRORS = {
    **EDGE_ERRORS,
    400: html_answer("An unknown client, an unregistered redirect_uri or a form that cannot be read: an error page"),
    403: html_answer("The form's CSRF token does not match: an error page"),
    415: html_answer("The form is not application/x-www-form-urlencoded: an error page"),
}


def client_errors(invalid_request: str) -> dict[int | str, dict[str, Any]]:
    """The error answers of the token and revoke endpoints: RFC 6749's, in the contract's error JSON."""
    return {
        **EDGE_ERRORS,
        400: {"description": invalid_request, "model": OAuthErrorBody},
        401: {
            "description": "invalid_client: the client credentials are missing or wrong",
            "model": OAuthErrorBody,
            "headers": {
                "WWW-Authenticate": {"description": "When they were sent by HTTP Basic", "schema": {"type": "string"}}
            },
        },
        415: _json("The body is neither a form nor JSON"),
    }


PARAMETERS_NOTE = "Parameters may also be sent in the query string (as HubRise's examples do)."
