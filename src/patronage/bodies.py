"""Request bodies: JSON objects only, numbers kept exact (SPEC §1, §5)."""

import json
import math
import sys
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError
from starlette.requests import Request

from patronage.errors import BadRequest, UnsupportedMediaType, ValidationFailed, validation_failed

# The one nesting limit: a field's value may nest this many levels of objects and arrays (the value's own object or
# array is level 1), custom fields included. The contract's resources nest a few levels; deeper bodies are refused
# before any recursive code (copying, measuring, rendering custom fields) walks them: a RecursionError is a 500.
MAX_DEPTH = 32


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _OutOfRange:
    """Stands in for a number no field can hold (an exponent beyond Decimal's range, an integer of more than
    4,300 digits), so that the 422 can say where it was sent."""


OUT_OF_RANGE = _OutOfRange()


def _decimal(text: str) -> Decimal | _OutOfRange:
    try:
        return Decimal(text)
    except InvalidOperation:
        return OUT_OF_RANGE


def _integer(text: str) -> int | _OutOfRange:
    try:
        return int(text)
    except ValueError:
        return OUT_OF_RANGE


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
        data = parse_json(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"Malformed JSON body: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationFailed([{"field": "body", "message": "must be a JSON object"}])
    check_object(data)
    return data


def parse_json(raw: str | bytes) -> Any:
    """JSON as a body is read: decimals stay ``Decimal``, ``NaN`` and ``Infinity`` are refused (``ValueError``;
    ``RecursionError`` for absurd nesting). Also for JSON that comes another way (the import's NDJSON lines)."""
    return json.loads(raw, parse_float=_decimal, parse_int=_integer, parse_constant=_reject_constant)


def check_object(data: dict[str, Any]) -> None:
    """What a body's fields may not hold, whatever the model: nesting beyond :data:`MAX_DEPTH`, strings no
    database can store, numbers no field can hold. A ``ValidationFailed`` naming the field otherwise."""
    for key, value in data.items():
        if _depth(value) > MAX_DEPTH:
            raise ValidationFailed([{"field": key, "message": f"may not nest more than {MAX_DEPTH} levels deep"}])
    bad = _bad_text(data)
    if bad is not None:
        raise ValidationFailed([{"field": bad[0], "message": bad[1]}])


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


def _unstorable(text: str) -> str | None:
    """Why a string cannot be stored: PostgreSQL refuses NUL in text, and a lone surrogate ("\\ud800", valid
    JSON) is no Unicode character at all: neither database driver can encode it (a 500)."""
    if "\x00" in text:
        return "must not hold a NUL character"
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            return "must be valid Unicode text (it holds a lone surrogate escape)"
    return None


def _bad_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """Where a string that cannot be stored (keys included), or a number no field can hold, hides in a body,
    and why, if anywhere."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if item is OUT_OF_RANGE:
            return where or "body", "is out of range"
        if isinstance(item, str):
            reason = _unstorable(item)
            if reason is not None:
                return where or "body", reason
        elif isinstance(item, dict):
            for key, child in item.items():
                reason = _unstorable(key)
                child_path = f"{where}.{key}" if where else key
                if reason is not None:
                    return child_path.replace("\x00", "").encode("utf-8", "replace").decode(), reason
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{where}.{index}" if where else str(index)) for index, child in enumerate(item))
    return None


class BodyModel(BaseModel):
    """A request body. Unknown fields are refused. ``read_only`` fields are computed by the server: on a
    create (``echo_read_only`` false) sending one is a 422; on an update it may be echoed with its current
    value, which the service checks with :meth:`check_echoed` once it has the resource."""

    model_config = ConfigDict(extra="forbid")
    read_only: ClassVar[tuple[str, ...]] = ()
    echo_read_only: ClassVar[bool] = False
    _echoed: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def echoes_read_only(self) -> bool:
        """Whether the body repeated read-only fields (then :meth:`check_echoed` needs the current resource)."""
        return bool(self._echoed)

    def check_echoed(self, current: dict[str, Any]) -> None:
        """``current`` is the resource as rendered: an echoed read-only field must hold its value."""
        errors = [
            {"field": name, "message": "is read-only and cannot be changed"}
            for name, value in self._echoed.items()
            if not same_value(value, current.get(name))
        ]
        if errors:
            raise ValidationFailed(errors)


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], data: dict[str, Any], context: dict[str, Any] | None = None) -> M:
    """``data`` validated as ``model``; read-only fields of a :class:`BodyModel` set aside first. ``context``
    reaches validators that depend on a setting (``{"settings": ...}``)."""
    read_only = getattr(model, "read_only", ())
    sent = [name for name in read_only if name in data]
    if sent and not getattr(model, "echo_read_only", False):
        raise ValidationFailed([{"field": name, "message": "is read-only"} for name in sent])
    try:
        fields = model.model_validate({key: value for key, value in data.items() if key not in sent}, context=context)
    except ValidationError as exc:
        raise validation_failed(exc.errors(include_url=False)) from None
    if sent:
        fields._echoed = {name: data[name] for name in sent}
    return fields


def same_value(sent: Any, current: Any) -> bool:
    """Whether an echoed value is the current one. In Python 0 == False: a boolean only matches a boolean."""
    if isinstance(sent, bool) or isinstance(current, bool):
        return type(sent) is type(current) and sent == current
    if sent == current:
        return True
    # Decimal-valued fields are rendered as strings but may be echoed as JSON numbers.
    if not isinstance(current, str) or not isinstance(sent, int | Decimal | str):
        return False
    try:
        return Decimal(str(sent)) == Decimal(current.split(" ")[0])
    except InvalidOperation:
        return False


def to_plain_json(value: Any, field: str) -> Any:
    """Decimals parsed from a body back to JSON numbers (floats), for free-form data such as custom fields.

    Every number must be one a float holds: ``1e400`` would become infinity (which no JSON can render, and
    SQLite would store as ``Infinity``), ``1e-400`` zero. Either is a 422 naming its path in ``field``.
    """
    if isinstance(value, Decimal):
        number = float(value)
        if not math.isfinite(number) or (number == 0 and not value.is_zero()):
            raise ValidationFailed([{"field": field, "message": "is out of range"}])
        return number
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max:
        raise ValidationFailed([{"field": field, "message": "is out of range"}])
    if isinstance(value, dict):
        return {key: to_plain_json(item, f"{field}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [to_plain_json(item, f"{field}.{index}") for index, item in enumerate(value)]
    return value
