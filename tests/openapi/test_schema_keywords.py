"""Every schema in the document speaks JSON Schema: a keyword no reader knows (pydantic once wrote ``ge`` and
``le`` for ``count`` instead of ``minimum`` and ``maximum``) is a rule that schema checkers and client generators
silently drop."""

from typing import Any

import httpx

# JSON Schema 2020-12 (core, applicator, validation, format, content, meta-data) and OpenAPI 3.1's additions.
KEYWORDS = {
    *("$ref", "$defs", "$schema", "$id", "$comment", "$anchor", "$dynamicRef", "$dynamicAnchor"),
    *("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems", "items"),
    *("contains", "properties", "patternProperties", "additionalProperties", "propertyNames"),
    *("unevaluatedItems", "unevaluatedProperties", "type", "enum", "const", "multipleOf", "maximum"),
    *("exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems"),
    *("minItems", "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required"),
    *("dependentRequired", "format", "contentEncoding", "contentMediaType", "contentSchema", "title"),
    *("description", "default", "deprecated", "readOnly", "writeOnly", "examples"),
    *("discriminator", "xml", "externalDocs", "example"),
}
_SUBSCHEMA = ("items", "not", "if", "then", "else", "additionalProperties", "propertyNames", "contains")
_SUBSCHEMAS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")


def _schemas(spec: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every schema of the document with where it is: components, parameters, bodies, responses, headers."""
    found: list[tuple[str, Any]] = [
        (f"components/{name}", schema) for name, schema in spec["components"]["schemas"].items()
    ]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            found += [(f"{where} ?{p['name']}", p["schema"]) for p in operation.get("parameters", [])]
            bodies = operation.get("requestBody", {}).get("content", {}).values()
            found += [(f"{where} body", content["schema"]) for content in bodies]
            for status, response in operation["responses"].items():
                found += [
                    (f"{where} {status}", c["schema"]) for c in response.get("content", {}).values() if "schema" in c
                ]
                found += [(f"{where} {status} {h}", head["schema"]) for h, head in response.get("headers", {}).items()]
    return found


def _unknown_keywords(where: str, schema: Any) -> list[str]:
    if not isinstance(schema, dict):
        return []
    unknown = [f"{where}: {key}" for key in schema if key not in KEYWORDS and not key.startswith("x-")]
    for key in _SUBSCHEMA:
        unknown += _unknown_keywords(f"{where}/{key}", schema.get(key))
    for key in _SUBSCHEMAS:
        for index, sub in enumerate(schema.get(key, [])):
            unknown += _unknown_keywords(f"{where}/{key}/{index}", sub)
    for key in _SCHEMA_MAPS:
        for name, sub in schema.get(key, {}).items():
            unknown += _unknown_keywords(f"{where}/{key}/{name}", sub)
    return unknown


async def test_every_schema_keyword_is_a_json_schema_keyword(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = _schemas(spec)
    assert len(schemas) > 200
    unknown = [problem for where, schema in schemas for problem in _unknown_keywords(where, schema)]
    assert unknown == []
