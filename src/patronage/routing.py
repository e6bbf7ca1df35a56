"""How every API route is declared: ``ApiRouter`` documents a route from what it depends on.

A route's body (:class:`patronage.deps.Body`), its caller, its path and query parameters and its paging tell
which request body and which error answers (the contract's error JSON) it has; nobody writes them by hand.
What a route returns is sent as JSON as it is: its ``response_model`` documents the shape and is not
validated again on every request.
"""

import functools
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.responses import Response
from starlette.routing import Match

from patronage.auth.principal import current_principal
from patronage.pagination import page_request
from patronage.responses import JsonResponse

ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}

ERROR_DESCRIPTIONS = {
    400: "Malformed JSON, or an X-Http-Method-Override this server does not honour",
    401: "Missing, invalid or revoked access token",
    403: "The connection's access level or scope does not allow this",
    404: "Not found (or not visible to this connection)",
    413: "The body is over 1 MiB",
    415: "The body is not JSON",
    422: "A field, a query parameter or a header is not valid",
    429: "Rate limit exceeded (Retry-After says for how long)",
}


class FieldError(BaseModel):
    field: str
    message: str


class Error(BaseModel):
    """The contract's error JSON (SPEC §2)."""

    message: str
    error_type: str
    errors: list[FieldError] | None = None


def _walk(dependant: Dependant) -> list[Dependant]:
    found, stack = [], [dependant]
    while stack:
        item = stack.pop()
        found.append(item)
        stack.extend(item.dependencies)
    return found


def _as_components(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """Pydantic's ``#/$defs/...`` references are not valid inside an OpenAPI document: each nested model becomes a
    component of its own, referred to as ``#/components/schemas/...`` (a client generator makes one class of it,
    and can name an optional nested object, which it cannot when the object is written out in a union)."""

    def refer(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return {**node, "$ref": "#/components/schemas/" + ref.removeprefix("#/$defs/")}
            return {key: refer(value) for key, value in node.items()}
        if isinstance(node, list):
            return [refer(item) for item in node]
        return node

    for name, definition in schema.pop("$defs", {}).items():
        definition = refer(definition)
        say_no_nul(definition)
        assert schemas.setdefault(name, definition) == definition, f"two schemas named {name}"
    schema = refer(schema)
    say_no_nul(schema)
    return schema


# The edge refuses a NUL character in any string a request holds (bodies.check_object, NulGuardMiddleware): the
# request side of the document says so on each string without a pattern of its own, and on free-form keys.
NO_NUL = "^[^\\u0000]*$"
_NOT_SCHEMAS = ("examples", "example", "default", "const", "enum", "description", "title")


def say_no_nul(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            say_no_nul(item)
        return
    if not isinstance(node, dict):
        return
    types = node.get("type")
    string = types == "string" or (isinstance(types, list) and "string" in types)
    if string and not {"pattern", "enum", "const"} & set(node):
        node["pattern"] = NO_NUL
    if types == "object" and node.get("additionalProperties", True) is not False:
        node.setdefault("propertyNames", {"pattern": NO_NUL})
    for key, value in node.items():
        if key == "properties":  # field names, any of which may be "title" or "default"
            say_no_nul(list(value.values()))
        elif key not in _NOT_SCHEMAS:
            say_no_nul(value)


def _as_json(endpoint: Any, status_code: int | None) -> Any:
    @functools.wraps(endpoint)
    async def respond(*args: Any, **kwargs: Any) -> Response:
        result = await endpoint(*args, **kwargs)
        if isinstance(result, Response):
            return result
        return JsonResponse(result, status_code=status_code or 200)

    return respond


class ApiRoute(APIRoute):
    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        super().__init__(path, _as_json(endpoint, kwargs.get("status_code")), **kwargs)
        dependants = _walk(self.dependant)
        calls = {item.call for item in dependants}
        body_model = next((item.call.body_model for item in dependants if hasattr(item.call, "body_model")), None)
        # Any request may carry a query parameter the edge refuses (a NUL, 422) or a bad method override (400).
        statuses: set[int] = {400, 422}
        if current_principal in calls:
            statuses |= {401, 403, 429}
        if any(item.path_params for item in dependants):
            statuses.add(404)
        if body_model is not None:
            statuses |= {413, 415}
            # The body model is a component of its own (install_openapi), so that the routes sharing it share one
            # schema (one class in a generated client). An empty body is read as {}: it may be left out unless the
            # model has required fields.
            required = bool(body_model.model_json_schema().get("required"))
            schema = {"$ref": f"#/components/schemas/{body_model.__name__}"}
            self.openapi_extra = {
                "requestBody": {"required": required, "content": {"application/json": {"schema": schema}}},
                **(self.openapi_extra or {}),
            }
        self.body_model = body_model
        for status in sorted(statuses):
            self.responses.setdefault(
                status,
                {"description": ERROR_DESCRIPTIONS[status], "content": {"application/json": {"schema": ERROR_SCHEMA}}},
            )
        if "GET" in self.methods:
            self.responses.setdefault(304, {"description": "Not modified: the If-None-Match ETag is still current"})
        if page_request in calls:
            success = self.responses.setdefault(self.status_code or 200, {})
            success.setdefault("headers", {})["X-Cursor-Next"] = {
                "description": "The cursor of the next page; absent on the last page",
                "schema": {"type": "string"},
            }


def all_routes(routes: list[Any]) -> Iterator[Any]:
    """Every route, those of included routers too (FastAPI keeps an included router as one route of its own)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from all_routes(route.original_router.routes)
        else:
            yield route


def allowed_methods(app: Any, scope: dict[str, Any]) -> set[str]:
    """The methods of every route whose path matches (a 405's ``Allow``: Starlette names only the first route's)."""
    return {
        method
        for route in all_routes(app.router.routes)
        if getattr(route, "methods", None) and route.matches(scope)[0] != Match.NONE
        for method in route.methods
    }


def operation_id(route: APIRoute) -> str:
    """``customers_update_patch``: readable method names in generated clients."""
    tag = str(route.tags[0]).replace(" ", "_") if route.tags else "api"
    return f"{tag}_{route.name}_{sorted(route.methods)[0].lower()}"


class ApiRouter(APIRouter):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(route_class=ApiRoute, generate_unique_id_function=operation_id, **kwargs)


def install_openapi(app: FastAPI) -> None:
    """The document once, with the error schema and the two ways to authenticate."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = document.setdefault("components", {})
            schemas = components.setdefault("schemas", {})
            schemas["Error"] = _as_components(Error.model_json_schema(), schemas)
            for route in all_routes(app.routes):
                model = getattr(route, "body_model", None)
                if model is not None:
                    schema = _as_components(model.model_json_schema(), schemas)
                    assert schemas.setdefault(model.__name__, schema) == schema, f"two schemas named {model.__name__}"
            for item in document["paths"].values():
                for operation in item.values():
                    say_no_nul([parameter["schema"] for parameter in operation.get("parameters", [])])
                    # The OAuth forms are described in place (the API's bodies are components, above).
                    for content in operation.get("requestBody", {}).get("content", {}).values():
                        if "$ref" not in content["schema"]:
                            say_no_nul(content["schema"])
            # Tokens come from HubRise's OAuth 2.0 flow (SPEC §10) and are sent in X-Access-Token.
            components.setdefault("securitySchemes", {})["OAuth2"] = {
                "type": "oauth2",
                "description": "Obtains the access token sent in X-Access-Token",
                "flows": {
                    "authorizationCode": {
                        "authorizationUrl": "/oauth2/v1/authorize",
                        "tokenUrl": "/oauth2/v1/token",
                        "scopes": {},
                    }
                },
            }
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
