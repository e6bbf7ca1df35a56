"""TEMPORARY: the old request path, kept only until every feature uses patronage.deps (issue 10). Delete me."""

import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse

from patronage.auth.principal import Principal, get_db
from patronage.db import utcnow
from patronage.errors import field_error
from patronage.idempotency import HEADER, MAX_KEY_LENGTH, TTL, IdempotencyKey, fingerprint

Work = Callable[[AsyncSession], Awaitable[Any]]


class _KeyTaken(Exception):
    pass


async def run_write(
    request: Request, principal: Principal, data: dict[str, Any], work: Work, *, status_code: int = 200
) -> JSONResponse:
    """Runs ``work(session)`` in one write transaction and renders its result as JSON.

    With an ``Idempotency-Key`` header, a retry of the same request replays the first response.
    """
    db = get_db(request)
    key = request.headers.get(HEADER)
    if key is None:
        async with db.session(write=True) as session:
            result = await work(session)
        return JSONResponse(result, status_code=status_code)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise field_error(HEADER, f"must be 1 to {MAX_KEY_LENGTH} characters")
    print_ = fingerprint(request, data)
    for _ in range(3):
        try:
            async with db.session(write=True) as session:
                stored = await _lookup(session, principal.connection_id, key)
                if stored is not None:
                    return _replay(stored, print_)
                row = await _reserve(session, principal.connection_id, key, print_)
                result = await work(session)
                await _store(session, row, status_code, result)
            return JSONResponse(result, status_code=status_code)
        except _KeyTaken:
            continue  # a concurrent request with this key committed first: replay it
    raise field_error(HEADER, "is being used by a concurrent request; retry later")


async def _lookup(session: AsyncSession, connection_id: str, key: str) -> IdempotencyKey | None:
    row = await session.get(IdempotencyKey, (connection_id, key))
    if row is None:
        return None
    if row.created_at < utcnow() - TTL or row.status_code is None:
        await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.connection_id == connection_id, IdempotencyKey.key == key)
        )
        await session.flush()
        session.expunge(row)
        return None
    return row


def _replay(stored: IdempotencyKey, print_: str) -> JSONResponse:
    if stored.fingerprint != print_:
        raise field_error(HEADER, "was already used with a different request")
    response = JSONResponse(json.loads(stored.body or "null"), status_code=stored.status_code or 200)
    response.headers["Idempotent-Replayed"] = "true"
    return response


async def _reserve(session: AsyncSession, connection_id: str, key: str, print_: str) -> IdempotencyKey:
    row = IdempotencyKey(connection_id=connection_id, key=key, fingerprint=print_, created_at=utcnow())
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        raise _KeyTaken() from None
    return row


async def _store(session: AsyncSession, row: IdempotencyKey, status_code: int, result: Any) -> None:
    row.status_code = status_code
    row.body = json.dumps(result, separators=(",", ":"))
    await session.flush()


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
