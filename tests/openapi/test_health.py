import httpx

from openapi_check import request_schema
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


async def test_every_reference_in_the_openapi_document_resolves(client: httpx.AsyncClient) -> None:
    """Client generators and API testers follow each ``$ref`` from the document's root."""
    spec = (await client.get("/openapi.json")).json()

    def refs(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    found = list(refs(spec))
    assert found, "the document has references (pydantic models under components)"
    for ref in found:
        target = spec
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(target, dict) and part in target, f"{ref} does not resolve"
            target = target[part]
    order_body = request_schema(spec, spec["paths"]["/v1/locations/{location_id}/orders"]["post"])
    assert "#/components/schemas/ItemIn" in str(order_body["properties"]["items"])
    assert "options" in spec["components"]["schemas"]["ItemIn"]["properties"], "nested models are described"


async def test_every_api_operation_documents_its_answers(client: httpx.AsyncClient) -> None:
    """What a client generator needs: a schema for each success, the error JSON for each failure, and how to
    authenticate (every /v1 operation takes X-Access-Token)."""
    spec = (await client.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["AccessToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Access-Token",
        "description": "A connection's access token",
    }
    assert "authorizationCode" in spec["components"]["securitySchemes"]["OAuth2"]["flows"]
    operations = [
        (method, path, operation)
        for path, item in spec["paths"].items()
        if path.startswith("/v1/")
        for method, operation in item.items()
    ]
    assert len(operations) > 40
    for method, path, operation in operations:
        where = f"{method.upper()} {path}"
        assert operation["security"] == [{"AccessToken": []}], where
        successes = [code for code in operation["responses"] if code.startswith("2")]
        assert len(successes) == 1, where
        schema = operation["responses"][successes[0]]["content"]["application/json"]["schema"]
        assert set(schema) & {"$ref", "items", "properties", "oneOf"}, f"{where}: empty success schema"
        for code in ("400", "401", "403", "422", "429"):
            error = operation["responses"][code]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}, f"{where} {code}"
        if "{" in path:
            assert "404" in operation["responses"], where
        if method in ("post", "patch", "put"):
            body = request_schema(spec, operation)
            assert body["type"] == "object" and ("properties" in body or path.endswith("/anonymise")), where
    error = spec["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"message", "error_type"}
