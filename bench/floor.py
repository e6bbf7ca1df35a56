"""The framework floor: a minimal Starlette + asyncpg app running the statements Patronage runs.

    BENCH_FLOOR_PLAN=plan.pickle BENCH_FLOOR_DSN=postgresql://... uvicorn floor:app --app-dir bench --workers 2

``bench/harness.py`` captures, per endpoint, the SQL one request sends (``capture.Step``s) and starts this app
with the same worker count and pool size as ``patronage serve``. ``GET|POST|PATCH /{endpoint}?customer=&card=
&ref=`` parses the JSON body if there is one, runs the endpoint's statements in one transaction with the
request's ids (fresh ids and times where Patronage made new ones, values returned by an earlier statement
where Patronage used them), and answers the last rows as JSON. No authentication, validation or rendering:
what is left is the HTTP server, the driver and the database, the least any framework would cost.
"""

import contextlib
import json
import os
import pickle
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
PLAN: dict[str, list[dict[str, Any]]] = {}
pool: asyncpg.Pool | None = None


def _new_id() -> str:
    return "".join(random.choices(_ALPHABET, k=10))


def _value(param: dict[str, Any], request_ids: dict[str, str], fresh: dict[Any, str], rows: list) -> Any:
    kind = param["kind"]
    if kind in ("customer", "card", "ref"):
        return request_ids[kind]
    if kind == "new_id":
        return fresh.setdefault(param["value"], _new_id())
    if kind == "now":
        return datetime.now(UTC).replace(tzinfo=None)
    if kind == "returned":
        return rows[param["step"]][0][param["column"]]
    return param["value"]


async def handle(request: Request) -> Response:
    steps = PLAN.get(request.path_params["endpoint"])
    if steps is None:
        return Response(status_code=404)
    if request.method != "GET":
        json.loads(await request.body())
    request_ids = {kind: request.query_params.get(kind, "") for kind in ("customer", "card", "ref")}
    fresh: dict[Any, str] = {}
    rows: list = []
    assert pool is not None
    async with pool.acquire() as conn, conn.transaction():
        for step in steps:
            args = [_value(param, request_ids, fresh, rows) for param in step["params"]]
            rows.append(await conn.fetch(step["sql"], *args))
    last = next((result for result in reversed(rows) if result), [])
    body = json.dumps([dict(row) for row in last], default=str)
    return Response(body, status_code=201 if request.method == "POST" else 200, media_type="application/json")


@contextlib.asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global pool
    PLAN.update(pickle.loads(Path(os.environ["BENCH_FLOOR_PLAN"]).read_bytes()))  # noqa: ASYNC240 - at start
    size = int(os.environ.get("BENCH_FLOOR_POOL", "10"))
    pool = await asyncpg.create_pool(os.environ["BENCH_FLOOR_DSN"], min_size=1, max_size=size)
    yield
    await pool.close()


async def health(_: Request) -> Response:
    return Response("ok")


app = Starlette(
    routes=[Route("/health", health), Route("/{endpoint}", handle, methods=["GET", "POST", "PATCH"])],
    lifespan=lifespan,
)
