import httpx

from patronage.app import create_app
from patronage.settings import Settings


async def test_health_answers_200_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_health_answers_503_when_the_database_does_not(tmp_path) -> None:
    unreachable = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db"))
    transport = httpx.ASGITransport(app=unreachable)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/health")
    assert response.status_code == 503


async def test_openapi_and_docs_are_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/v1/customer_lists/{customer_list_id}/customers" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200
