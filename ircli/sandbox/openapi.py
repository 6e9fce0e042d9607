"""The OpenAPI 3.1 document served at ``GET /openapi.json``, generated from the route table."""

from __future__ import annotations

import functools
import json
from typing import Any

from ircli import __version__
from ircli.sandbox.routes import ROUTES
from ircli.sandbox.views import ACCOUNT_FILTERS, REPORT_FILTERS, STREAM_FILTERS

__all__ = ["openapi_document"]

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
_ACTION_RESULT = {
    "type": "object",
    "required": ["id", "ok", "result", "changed", "status"],
    "properties": {
        "id": {"type": "string"},
        "ok": {"type": "boolean"},
        "result": {"type": "string"},
        "changed": {"type": "boolean"},
        "status": {"type": ["string", "null"]},
    },
}
_BATCH_REQUEST = {
    "type": "object",
    "required": ["ids"],
    "properties": {"ids": {"type": "array", "items": {"type": "string"}, "maxItems": 500}},
}
_BATCH_RESULT = {
    "type": "object",
    "properties": {
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/ActionResult"}},
        "summary": {"type": "object"},
    },
}
_PAGE = {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {"items": {"type": "array"}, "next_cursor": {"type": ["string", "null"]}},
}
_LIST_PARAMS = {
    "/api/v1/streams": STREAM_FILTERS,
    "/api/v1/accounts": ACCOUNT_FILTERS,
    "/api/v1/reports": REPORT_FILTERS,
}


def _operation(method: str, path: str, summary: str, scope: str | None) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary}
    parameters: list[dict[str, Any]] = [
        {"name": s[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for s in path.split("/")
        if s.startswith("{")
    ]
    if path in _LIST_PARAMS:
        for name in ["limit", "cursor", *_LIST_PARAMS[path]]:
            parameters.append({"name": name, "in": "query", "schema": {"type": "string"}})
    if method != "GET" and path.startswith("/api/"):
        parameters.append({"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}})
    if parameters:
        operation["parameters"] = parameters
    responses: dict[str, Any] = {"200": {"description": "OK"}}
    if "/batch/" in path:
        operation["requestBody"] = {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"}}
            }
        }
        responses["200"]["content"] = {
            "application/json": {"schema": {"$ref": "#/components/schemas/BatchResult"}}
        }
    elif method == "POST" and "{id}" in path:
        responses["200"]["content"] = {
            "application/json": {"schema": {"$ref": "#/components/schemas/ActionResult"}}
        }
    elif path in _LIST_PARAMS:
        responses["200"]["content"] = {
            "application/json": {"schema": {"$ref": "#/components/schemas/Page"}}
        }
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if scope is not None:
        operation["security"] = [{"bearer": [scope]}]
        responses["401"] = {"description": "Missing or unknown token.", **error}
        responses["403"] = {"description": f"The token lacks the {scope} scope.", **error}
    if "{" in path:
        responses["404"] = {"description": "No such object.", **error}
    if method != "GET" or path in _LIST_PARAMS:
        responses["422"] = {"description": "Invalid request or reused key.", **error}
    if path.startswith("/api/"):
        responses["429"] = {"description": "Rate limited; see Retry-After.", **error}
        responses["503"] = {"description": "Injected failure; retry.", **error}
    operation["responses"] = responses
    return operation


@functools.cache
def openapi_document() -> bytes:
    """The document as JSON bytes (built once)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(
            route.method, route.path, route.summary, route.scope
        )
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "ircli sandbox platform admin API",
            "version": __version__,
            "description": "A simulated live-streaming platform under attack; see docs/sandbox.md.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": _ERROR,
                "ActionResult": _ACTION_RESULT,
                "BatchRequest": _BATCH_REQUEST,
                "BatchResult": _BATCH_RESULT,
                "Page": _PAGE,
            },
        },
    }
    return json.dumps(document, separators=(",", ":")).encode()
