"""One declaration per endpoint: the route, its validation and its OpenAPI operation.

``ApiBlueprint.endpoint`` registers a Flask view and records what it accepts and returns; the
wrapper parses the body, checks path ids, validates query and body with the declared pydantic
models, and hands them to the view. ``build_openapi`` turns the same records into the
OpenAPI 3.1 document, so the document cannot drift from what the server enforces.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, current_app, jsonify
from pydantic import BaseModel

from cognova.api.errors import ApiError, reason
from cognova.api.validation import NUL_RULES, is_uuid, json_body, query_dict, validate


@dataclass
class Operation:
    method: str
    rule: str
    tag: str
    summary: str
    public: bool = False
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    errors: tuple[int, ...] = ()
    uuid_params: tuple[str, ...] = ()
    envelope: str = "data"  # data | paginated | raw
    content_type: str = "application/json"
    extra_responses: dict = field(default_factory=dict)
    operation_id: str = ""
    description: str = ""


PUBLIC_ATTR = "_cognova_public"


def public(view):
    """Mark a view as reachable without authentication (API.md §2.3)."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def ok(data: Any, status: int = 200, **top: Any) -> Response:
    response = jsonify({"data": data, **top})
    response.status_code = status
    return response


def pagination(page: int, limit: int, total: int) -> dict:
    """The ``pagination`` object of a list (API.md §1.6)."""
    pages = (total + limit - 1) // limit if total else 0
    return {"page": page, "limit": limit, "total": total, "totalPages": pages}


def paginated(items: list, page: int, limit: int, total: int) -> Response:
    return jsonify({"data": items, "pagination": pagination(page, limit, total)})


def paginated_json(data: str, page: int, limit: int, total: int) -> Response:
    """``paginated`` for items already written as a JSON array (*data*), passed through."""
    tail = orjson.dumps(pagination(page, limit, total))
    body = b'{"data":' + data.encode() + b',"pagination":' + tail + b"}\n"
    return current_app.response_class(body, mimetype="application/json")


class ApiBlueprint(Blueprint):
    def __init__(self, name: str, import_name: str, tag: str, **kwargs):
        kwargs.setdefault("url_prefix", "/api")
        super().__init__(name, import_name, **kwargs)
        self.tag = tag

    def endpoint(
        self,
        method: str,
        rule: str,
        *,
        summary: str,
        query: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        errors: tuple[int, ...] = (),
        public: bool = False,
        envelope: str = "data",
        content_type: str = "application/json",
        extra_responses: dict | None = None,
        description: str = "",
        defer_body: bool = False,
        max_body: int | None = None,
        nul: str = "refuse",
    ):
        """Register *view* for METHOD rule. ``defer_body`` leaves body parsing to the view,
        for routes whose checks must come before it (sign-up policy, sign-in throttle).
        ``max_body`` lowers the body limit (bytes) for this route below the global one.
        ``nul`` says what a NUL character in the body's text gets (``validation.json_body``).
        """
        assert nul in NUL_RULES, nul
        uuid_params = tuple(re.findall(r"<(?:uuid:)?(\w+)>", rule)) if "<" in rule else ()
        uuid_params = tuple(p for p in uuid_params if p in _UUID_PARAM_NAMES)
        flask_rule = re.sub(r"<uuid:(\w+)>", r"<\1>", rule)

        def decorator(view):
            op = Operation(
                method=method,
                rule=self.url_prefix + flask_rule,
                tag=self.tag,
                summary=summary,
                public=public,
                query=query,
                body=body,
                response=response,
                status=status,
                errors=errors,
                uuid_params=uuid_params,
                envelope=envelope,
                content_type=content_type,
                extra_responses=extra_responses or {},
                operation_id=view.__name__,
                description=description or (view.__doc__ or "").strip(),
            )

            @functools.wraps(view)
            def wrapper(**path):
                kwargs: dict[str, Any] = {}
                validate_body = body is not None and not defer_body
                raw_body = json_body(nul=nul) if validate_body else None
                for name in uuid_params:
                    if not is_uuid(path[name]):
                        raise ApiError(400, "Invalid id", {name: "must be a UUID"})
                    path[name] = path[name].lower()
                if query is not None:
                    kwargs["query"] = validate(query, query_dict(query, nul=nul))
                if validate_body:
                    kwargs["body"] = validate(body, raw_body)
                return view(**path, **kwargs)

            wrapper._cognova_operation = op
            wrapper._cognova_max_body = max_body
            if public:
                setattr(wrapper, PUBLIC_ATTR, True)
            self.add_url_rule(
                flask_rule,
                view.__name__,
                wrapper,
                methods=[method],
                provide_automatic_options=False,
            )
            return wrapper

        return decorator


_UUID_PARAM_NAMES = {"id", "runId", "jobId", "conversationId"}


# ------------------------------------------------------------------- OpenAPI


def _drop_false_defaults(node: Any) -> Any:
    """Partial-update fields default to "absent", which pydantic writes as ``default: null``
    even where null is not allowed; that default is not part of the contract."""
    if isinstance(node, dict):
        if node.get("default", 0) is None and "anyOf" not in node and node.get("type") != "null":
            types = node.get("type")
            if not (isinstance(types, list) and "null" in types):
                node = {k: v for k, v in node.items() if k != "default"}
        return {k: _drop_false_defaults(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_drop_false_defaults(v) for v in node]
    return node


def _schema(model: Any, mode: str, components: dict) -> dict:
    if model is None:
        return {}
    if isinstance(model, dict):
        return model
    if isinstance(model, list):
        return {"type": "array", "items": _schema(model[0], mode, components)}
    schema = model.model_json_schema(
        by_alias=True, mode=mode, ref_template="#/components/schemas/{model}"
    )
    schema = _drop_false_defaults(schema)
    for name, sub in schema.pop("$defs", {}).items():
        components.setdefault(name, sub)
    name = model.__name__
    components.setdefault(name, schema)
    return {"$ref": f"#/components/schemas/{name}"}


ERROR_SCHEMA = {
    "type": "object",
    "required": ["statusCode", "statusMessage", "message"],
    "properties": {
        "statusCode": {"type": "integer"},
        "statusMessage": {"type": "string"},
        "message": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}

PAGINATION_SCHEMA = {
    "type": "object",
    "required": ["page", "limit", "total", "totalPages"],
    "properties": {k: {"type": "integer"} for k in ("page", "limit", "total", "totalPages")},
}


def _parameters(op: Operation, path_names: list[str], components: dict) -> list[dict]:
    params = []
    for name in path_names:
        schema = {"type": "string"}
        if name in op.uuid_params:
            schema["format"] = "uuid"
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    if op.query is not None:
        full = _drop_false_defaults(op.query.model_json_schema(by_alias=True, mode="validation"))
        defs = full.get("$defs", {})
        for prop, schema in full.get("properties", {}).items():
            schema = dict(schema)
            schema.pop("title", None)
            if "$ref" in schema:
                schema = defs.get(schema["$ref"].rsplit("/", 1)[-1], {"type": "string"})
            params.append(
                {
                    "name": prop,
                    "in": "query",
                    "required": prop in full.get("required", []),
                    "schema": schema,
                }
            )
    return params


def _success(op: Operation, components: dict) -> dict:
    if op.content_type != "application/json":
        return {"description": reason(op.status), "content": {op.content_type: {"schema": {}}}}
    inner = _schema(op.response, "serialization", components) if op.response is not None else {}
    if op.envelope == "raw":
        schema = inner or {"type": "object"}
    elif op.envelope == "paginated":
        schema = {
            "type": "object",
            "required": ["data", "pagination"],
            "properties": {
                "data": {"type": "array", "items": inner} if inner else {"type": "array"},
                "pagination": {"$ref": "#/components/schemas/Pagination"},
            },
        }
    else:
        schema = {
            "type": "object",
            "required": ["data"],
            "properties": {"data": inner or {}},
        }
    return {"description": reason(op.status), "content": {"application/json": {"schema": schema}}}


def build_openapi(app: Flask) -> dict:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA, "Pagination": PAGINATION_SCHEMA}
    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        op: Operation | None = getattr(view, "_cognova_operation", None)
        if op is None:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        path_names = re.findall(r"{(\w+)}", path)
        operation: dict[str, Any] = {
            "operationId": op.operation_id,
            "tags": [op.tag],
            "summary": op.summary,
            "parameters": _parameters(op, path_names, components),
            "responses": {str(op.status): _success(op, components)},
        }
        if op.description:
            operation["description"] = op.description
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": _schema(op.body, "validation", components)}
                },
            }
        for status, spec in op.extra_responses.items():
            operation["responses"][str(status)] = spec
        codes = set(op.errors)
        if not op.public:
            codes.add(401)
        if op.body is not None or op.query is not None or op.uuid_params:
            codes.add(400)
        if op.body is not None:
            codes.add(413)
        for code in sorted(codes):
            operation["responses"].setdefault(
                str(code),
                {
                    "description": reason(code),
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            )
        if op.public:
            operation["security"] = []
        paths.setdefault(path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cognova API",
            "version": app.config["VERSION"],
            "description": "The HTTP API of Cognova, a self-hosted second brain.",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": components,
            "securitySchemes": {
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "cognova.session_token",
                },
                "apiToken": {"type": "apiKey", "in": "header", "name": "X-API-Token"},
                "bearerToken": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"sessionCookie": []}, {"apiToken": []}, {"bearerToken": []}],
    }
