"""Request bodies: JSON objects only, numbers kept exact (SPEC §1, §5)."""

import json
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from patronage.errors import BadRequest, UnsupportedMediaType, ValidationFailed

# Deeper bodies are refused before any recursive code walks them (the contract's resources nest a few levels).
MAX_DEPTH = 64


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def is_json_media_type(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a dict; an empty body is ``{}``. Decimals stay ``Decimal`` (never float)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    if not is_json_media_type(request.headers.get("content-type")):
        raise UnsupportedMediaType()
    try:
        data = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"Malformed JSON body: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationFailed([{"field": "body", "message": "must be a JSON object"}])
    for key, value in data.items():
        if 1 + _depth(value) > MAX_DEPTH:
            raise ValidationFailed([{"field": key, "message": f"may not nest more than {MAX_DEPTH} levels deep"}])
    nul = _nul_path(data)
    if nul is not None:
        raise ValidationFailed([{"field": nul or "body", "message": "must not hold a NUL character"}])
    return data


def _depth(value: Any) -> int:
    """How deeply objects and arrays nest (iteratively: the point is to protect recursive code)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def _nul_path(value: Any, path: str = "") -> str | None:
    """Where a NUL character hides in a body, if anywhere: PostgreSQL cannot store one in text (a 500)."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if "\x00" in key:
                return where.replace("\x00", "")
            found = _nul_path(item, where)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_path(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


def validation_errors(exc: ValidationError) -> ValidationFailed:
    errors = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or "body"
        message = "is not a known field" if error["type"] == "extra_forbidden" else error["msg"]
        errors.append({"field": field, "message": message})
    return ValidationFailed(errors)


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_errors(exc) from None


def to_plain_json(value: Any) -> Any:
    """Decimals parsed from a body back to JSON numbers, for free-form data such as custom fields."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: to_plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_plain_json(item) for item in value]
    return value


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body read by hand (through :func:`json_object`).

    Pydantic puts nested models under the schema's own ``$defs``; a ``#/$defs/...`` reference is not valid
    inside an OpenAPI document, so they are inlined (the contract's bodies are not recursive).
    """
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(definitions[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inline(schema)}}}}
