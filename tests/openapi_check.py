"""Every response the suite receives, checked against the server's own /openapi.json.

The suite's HTTP client runs :meth:`OpenApiCheck.check` on each response: the status must be one the document
declares for that operation, and a JSON body must match the declared schema. So the document cannot drift
from what the server sends. Requests to paths the document does not describe (unknown routes, /metrics) are
not checked; :attr:`seen` records which operations and statuses the run exercised.
"""

import json
import re
from collections import defaultdict
from typing import Any

import httpx
from jsonschema import Draft202012Validator

_PARAMETER = re.compile(r"\{[^/{}]+\}")


class OpenApiMismatch(AssertionError):
    pass


class OpenApiCheck:
    def __init__(self, document: dict[str, Any]):
        self.document = document
        self.seen: dict[tuple[str, str], set[int]] = defaultdict(set)
        self._validators: dict[int, Draft202012Validator] = {}
        # Literal segments win over parameters: /v1/location/orders before /v1/locations/{location_id}/orders.
        templates = sorted(document["paths"], key=lambda path: (len(_PARAMETER.findall(path)), path))
        self._paths = [
            (
                re.compile(
                    "^" + _PARAMETER.sub("[^/]+", re.escape(path).replace(r"\{", "{").replace(r"\}", "}")) + "$"
                ),
                path,
            )
            for path in templates
        ]

    def template_of(self, path: str) -> str | None:
        return next((template for pattern, template in self._paths if pattern.match(path)), None)

    def _validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        key = id(schema)
        if key not in self._validators:
            # References are "#/components/...": resolve them against the whole document.
            root = {**schema, "components": self.document.get("components", {})}
            self._validators[key] = Draft202012Validator(root)
        return self._validators[key]

    def check(self, method: str, path: str, status: int, content_type: str, body: bytes) -> None:
        template = self.template_of(path)
        if template is None:
            return
        operation = self.document["paths"][template].get(method.lower())
        if operation is None:
            return  # a 405: the document describes the methods a path has, not the others
        self.seen[(method.upper(), template)].add(status)
        responses = operation.get("responses", {})
        declared = responses.get(str(status))
        if declared is None:
            raise OpenApiMismatch(
                f"{method} {template} answered {status}, which the document does not declare "
                f"(declared: {', '.join(sorted(responses))}); body: {body[:300]!r}"
            )
        schema = declared.get("content", {}).get("application/json", {}).get("schema")
        if schema is None or "json" not in content_type or not body:
            return
        errors = sorted(self._validator(schema).iter_errors(json.loads(body)), key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            where = "/".join(str(part) for part in first.absolute_path) or "(body)"
            raise OpenApiMismatch(f"{method} {template} {status}: {where}: {first.message}")

    async def on_response(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        override = request.headers.get("x-http-method-override", "").strip().upper() if request.method == "POST" else ""
        method = override or request.method
        self.check(
            method, request.url.path, response.status_code, response.headers.get("content-type", ""), response.content
        )


def request_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """An operation's JSON body schema, its reference to a component followed ({} if it takes no body)."""
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    return document["components"]["schemas"][ref.removeprefix("#/components/schemas/")] if ref else schema
