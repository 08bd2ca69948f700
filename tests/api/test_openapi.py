"""/api/docs documents the API as it answers: bodies, statuses, and how to authenticate."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.test_access import PROTECTED, PUBLIC

# Operations that take no body (or a raw one: the signed upload PUT).
NO_BODY = {
    ("POST", "/api/tasks/{task_id}/cancel"),
    ("POST", "/api/generations/{generation_id}/regenerate"),
    ("POST", "/auth/v1/logout"),
    ("PUT", "/api/storage/{key}"),
}


async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): op
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
    }


async def test_every_body_is_documented_and_no_blanket_422(client: httpx.AsyncClient) -> None:
    doc = await openapi(client)
    missing, blanket = [], []
    for (method, path), op in operations(doc).items():
        if method in ("POST", "PATCH", "PUT") and (method, path) not in NO_BODY:
            if "requestBody" not in op:
                missing.append((method, path))
        if "422" in op.get("responses", {}) and not path.startswith("/auth/v1"):
            blanket.append((method, path))
    assert missing == [] and blanket == []
    generate = operations(doc)[("POST", "/api/generate")]
    ref = generate["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert doc["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["voice_id"]
    assert set(generate["responses"]) >= {"200", "400", "401", "404", "409", "429", "502", "503"}


async def test_protected_operations_name_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    doc = await openapi(client)
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    ops = operations(doc)
    secured = {key for key, op in ops.items() if op.get("security") == [{"bearer": []}]}
    for method, path in PROTECTED:
        documented = path.replace("{voice}", "{voice_id}").replace("{task}", "{task_id}")
        documented = documented.replace("{generation}", "{generation_id}")
        documented = documented.replace("{api_key}", "{key_id}")
        assert (method, documented) in secured, (method, documented)
    assert ("GET", "/api/health") not in secured and all((m, p) not in secured for m, p in PUBLIC)


async def test_the_docs_page_answers(client: httpx.AsyncClient) -> None:
    page = await client.get("/api/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()
