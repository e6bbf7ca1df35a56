"""Overload is not a crash: when every database connection of a process stays busy, a request waits the pool's
timeout and is answered 503 with Retry-After in the contract's error JSON, and writes nothing."""

import asyncio

import httpx
import pytest

from helpers import make_tenant
from patronage.app import create_app
from patronage.settings import Settings


async def test_an_exhausted_pool_answers_503_and_writes_nothing(settings: Settings) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite has no connection pool to exhaust")
    app = create_app(settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout": 0.3}))
    db = app.state.db
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://patronage.test") as http:
            tenant = await make_tenant(db, http)
            api = await tenant.api("location[all_customer_lists.write]")
            list_id = await tenant.customer_list()
            path = f"/v1/customer_lists/{list_id}/customers"
            # The only connection is held by another transaction meanwhile.
            async with db.session(write=True) as busy:
                await busy.connection()
                answer = await api.post(path, json={"first_name": "Ann"})
            assert answer.status_code == 503
            assert answer.headers["Retry-After"] == "1"
            assert answer.json() == {"message": "The server is busy; retry later", "error_type": "internal_error"}
            await asyncio.sleep(0)
            assert (await api.get(path)).json() == []
    finally:
        await db.dispose()
