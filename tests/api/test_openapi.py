"""The OpenAPI 3.1 document is generated from the endpoint declarations and is valid."""

from __future__ import annotations

import re

from openapi_spec_validator import validate


def test_the_document_is_valid_openapi_3_1(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.content_type.startswith("application/json")
    document = response.json
    assert document["openapi"].startswith("3.1")
    assert document["info"]["version"] == "0.1.0"
    validate(document)


def test_every_api_route_is_documented_with_a_unique_operation_id(app, client):
    document = client.get("/api/openapi.json").json
    documented = {
        (method.upper(), path) for path, ops in document["paths"].items() for method in ops
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in documented, f"{method} {path} is not documented"
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_operations_carry_schemas_security_and_errors(client):
    document = client.get("/api/openapi.json").json
    sign_in = document["paths"]["/api/auth/sign-in/email"]["post"]
    assert sign_in["security"] == []
    body = sign_in["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/SignInBody")
    assert set(document["components"]["schemas"]["SignInBody"]["required"]) == {
        "email",
        "password",
    }
    assert "429" in sign_in["responses"]
    change = document["paths"]["/api/auth/change-password"]["post"]
    assert "security" not in change
    assert change["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    schemes = document["components"]["securitySchemes"]
    assert schemes["sessionCookie"]["name"] == "cognova.session_token"
    assert schemes["apiToken"]["name"] == "X-API-Token"
    assert schemes["bearerToken"]["scheme"] == "bearer"
