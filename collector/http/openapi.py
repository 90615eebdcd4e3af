"""The OpenAPI description of every route, and a human-readable page rendered from it."""

from __future__ import annotations

import html
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from collector.brands.routes import MAX_SELECTOR_LENGTH
from collector.clicks.routes import MAX_PAGE
from collector.http.params import INT64_MAX, INT64_MIN, LAST_SHOWN_MS
from collector.replay.share import MAX_SECONDS
from collector.storage.base import SORT_COLUMNS

_ERROR = {"$ref": "#/components/schemas/Error"}


def _param(name: str, description: str, schema: dict[str, Any], where: str = "query") -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


_STR = {"type": "string"}
_INT = {"type": "integer"}
_NULLABLE_STR = {"type": "string", "nullable": True}
_NULLABLE_INT = {"type": "integer", "nullable": True}
_INT64 = {"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX}
# Times outside years 1..9999 (stored by an older version or another writer) show as null.
_TIME = {"type": "string", "format": "date-time", "nullable": True}
_BRAND = _param(
    "brand",
    "Brand id (ASCII digits).",
    {"type": "integer", "minimum": 1, "maximum": INT64_MAX},
    "path",
)


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Malformed request",
        401: "No or bad API key",
        403: "Scope too low, or domain not allowed",
        404: "Unknown, or another brand's",
        413: "Body too large",
        422: "Invalid parameter",
    }
    return {
        str(code): {
            "description": text[code],
            "content": {"application/json": {"schema": _ERROR}},
        }
        for code in codes
    }


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description}
    if schema is not None:
        body["content"] = {"application/json": {"schema": schema}}
    return body


_CLICK_FILTERS = [
    _param("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
    _param(
        "per_page",
        "Ignored: the page size is always 30.",
        {"type": "integer", "minimum": 0, "maximum": INT64_MAX},
    ),
    _param("funnel_id", "Only clicks of this funnel.", _INT64),
    _param("url", "Partial, case-insensitive match on the page URL.", _STR),
    _param("sub1", "Sub ID 1 (the sub1 tracking parameter).", _STR),
    _param("visit_id", "The visit tracking id (visitor id).", _STR),
    _param(
        "click_id",
        "A click code or session id; results collapse to one row per session.",
        _STR,
    ),
    _param("exclude_bots", "true to leave out bot traffic.", {"type": "boolean"}),
    _param("start", "Range start, ISO 8601 date or date-time (inclusive).", _STR),
    _param("end", "Range end, ISO 8601 date or date-time (inclusive).", _STR),
    _param("sort", "Column to sort by.", {"type": "string", "enum": list(SORT_COLUMNS)}),
    _param("direction", "Sort direction.", {"type": "string", "enum": ["asc", "desc"]}),
]

_EVENT = {
    "type": "object",
    "properties": {
        "type": _STR,
        "url": _NULLABLE_STR,
        "timestamp": _TIME,
        "data": {
            "nullable": True,
            "description": "as sent; null when the stored data cannot be shown",
        },
    },
}

_CLICK = {
    "type": "object",
    "properties": {
        "id": _STR,
        "session_id": _STR,
        "ip_address": {"type": "string", "nullable": True},
        "url": _STR,
        "funnel_id": {"type": "integer", "nullable": True},
        "domain": {
            "type": "object",
            "nullable": True,
            "properties": {"id": _INT, "domain": _STR},
        },
        "affiliate": {"type": "string", "nullable": True},
        "merchant": {"type": "object", "nullable": True},
        "events": {"type": "array", "items": _EVENT},
        "created_at": _TIME,
        "visitor_id": _STR,
        "trigger": _STR,
        "external_id": _NULLABLE_STR,
        **{f"sub{n}": _NULLABLE_STR for n in range(1, 6)},
        "utm": {
            "type": "object",
            "properties": {
                k: _NULLABLE_STR for k in ("source", "medium", "campaign", "term", "content")
            },
        },
        "ad_click": {
            "type": "object",
            "nullable": True,
            "properties": {"network": _NULLABLE_STR, "id": _STR},
        },
        "query": {"type": "object", "additionalProperties": _STR},
        "referrer": {"type": "object"},
        "geo": {"type": "object"},
        "device": {"type": "object"},
        "os": {"type": "object"},
        "browser": {"type": "object"},
        "language": _NULLABLE_STR,
        "viewport": {
            "type": "object",
            "properties": {"width": _NULLABLE_INT, "height": _NULLABLE_INT},
        },
        "is_bot": {"type": "boolean"},
    },
}
_SELECTOR = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_SELECTOR_LENGTH,
    "description": "a CSS selector list element.matches() accepts",
}


_BRAND_PATCH = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "domains": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 253}},
        "settings": {
            "type": "object",
            "properties": {
                "replay_sample_rate": {"type": "number", "minimum": 0, "maximum": 1},
                "ip_mode": {"type": "string", "enum": ["full", "truncated", "off"]},
                "cookieless": {"type": "boolean"},
                "respect_dnt": {"type": "boolean"},
                "retention_days": {"type": "integer", "minimum": 1, "maximum": 3650},
                "short_domain": {"type": "string", "maxLength": 253, "nullable": True},
                "mask_all_inputs": {"type": "boolean"},
                "block_selector": _SELECTOR,
                "mask_text_selector": _SELECTOR,
            },
        },
    },
}


_REPLAY_ID = _param("replay_id", "The replay id (from the list).", _STR, "path")
_REPLAY_EVENT = {
    "type": "object",
    "description": "mousemove {x, y, ts}, click {x, y, ts, target}, scroll {scrollY, ts}; "
    "ts in ms from the replay's start",
    "properties": {
        "type": {"type": "string", "enum": ["mousemove", "click", "scroll"]},
        "x": _INT,
        "y": _INT,
        "scrollY": _INT,
        "ts": _INT,
        "target": _STR,
    },
}
_REPLAY = {
    "type": "object",
    "properties": {
        "id": _STR,
        "session_id": _STR,
        "page_session_id": _STR,
        "url": _STR,
        "duration_ms": _NULLABLE_INT,
        "viewport_width": _NULLABLE_INT,
        "viewport_height": _NULLABLE_INT,
        "events": {"type": "array", "items": _REPLAY_EVENT},
        "size": {"type": "object", "properties": {"raw_bytes": _INT, "stored_bytes": _INT}},
        "started_at": _TIME,
        "visitor_id": _STR,
    },
}


def _replay_paths(brand: str) -> dict[str, Any]:
    return {
        f"{brand}/replays": {
            "get": {
                "summary": "A session's replays (key or share link)",
                "parameters": [
                    _BRAND,
                    {**_param("session_id", "The session id.", _STR), "required": True},
                ],
                "responses": {
                    "200": _ok("[{id, session_id, page_session_id, ...}]"),
                    **_errors(401, 403, 404, 422),
                },
            }
        },
        f"{brand}/replays/{{replay_id}}": {
            "get": {
                "summary": "A replay: seed events, or the raw rrweb stream with format=rrweb",
                "parameters": [
                    _BRAND,
                    _REPLAY_ID,
                    _param("format", "seed (default) or rrweb", {"enum": ["seed", "rrweb"]}),
                    _param(
                        "since_ms",
                        "rrweb: start at the seek point before this ms",
                        {"type": "integer", "minimum": 0, "maximum": LAST_SHOWN_MS},
                    ),
                    _param(
                        "assets",
                        "rrweb: `stored` points styles and fonts at copies",
                        {"enum": ["original", "stored"]},
                    ),
                ],
                "responses": {"200": _ok("The replay", _REPLAY), **_errors(401, 403, 404, 422)},
            }
        },
        f"{brand}/replays/{{replay_id}}/share": {
            "post": {
                "summary": "A signed, expiring viewer URL for the replay's session",
                "parameters": [_BRAND, _REPLAY_ID],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "expires_in": {
                                        "type": "integer",
                                        "minimum": 60,
                                        "maximum": MAX_SECONDS,
                                    }
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "201": _ok("{url, expires_at}"),
                    **_errors(401, 403, 404, 422),
                },
            }
        },
        "/collect/replay": {
            "post": {
                "summary": "Replay chunk from the recorder (JSON, optionally gzip; docs/REPLAY.md)",
                "security": [],
                "requestBody": {"content": {"text/plain": {"schema": {"type": "object"}}}},
                "responses": {"204": _ok("Stored durably"), **_errors(400, 403, 404, 413, 422)},
            }
        },
    }


def build_spec() -> dict[str, Any]:
    brand = "/api/brands/{brand}"
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Clicktrail API",
            "version": "0.1.0",
            "description": (
                "Self-hosted click tracking and session replay. API calls take a key in "
                "`EF-Access-Key`, `X-Api-Key` or `Authorization: Bearer`. Errors always have "
                'the shape `{"error": {"status", "code", "message", "param"?}}`.'
            ),
        },
        "components": {
            "securitySchemes": {
                "EFAccessKey": {"type": "apiKey", "in": "header", "name": "EF-Access-Key"},
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "status": _INT,
                                "code": _STR,
                                "message": _STR,
                                "param": _STR,
                            },
                        }
                    },
                },
                "Click": _CLICK,
                "Event": _EVENT,
            },
        },
        "security": [{"EFAccessKey": []}, {"ApiKey": []}, {"Bearer": []}],
        "paths": {
            brand: {
                "get": {
                    "summary": "The brand: name, site key, allowed domains, settings (read)",
                    "parameters": [_BRAND],
                    "responses": {"200": _ok("The brand"), **_errors(401, 404)},
                },
                "patch": {
                    "summary": "Change name, domains or settings (admin scope)",
                    "parameters": [_BRAND],
                    "requestBody": {"content": {"application/json": {"schema": _BRAND_PATCH}}},
                    "responses": {
                        "200": _ok("The updated brand"),
                        **_errors(400, 401, 403, 404, 413, 422),
                    },
                },
            },
            f"{brand}/clicks": {
                "get": {
                    "summary": "List clicks (30 per page)",
                    "parameters": [_BRAND, *_CLICK_FILTERS],
                    "responses": {
                        "200": _ok(
                            "One page of clicks",
                            {
                                "type": "object",
                                "properties": {
                                    "total": _INT,
                                    "last_page": _INT,
                                    "current_page": _INT,
                                    "per_page": _INT,
                                    "next_page_url": {"type": "string", "nullable": True},
                                    "data": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Click"},
                                    },
                                },
                            },
                        ),
                        **_errors(401, 403, 404, 422),
                    },
                }
            },
            f"{brand}/clicks/{{click_code}}": {
                "get": {
                    "summary": "One click with its events",
                    "parameters": [_BRAND, _param("click_code", "The click code.", _STR, "path")],
                    "responses": {
                        "200": _ok("The click", {"$ref": "#/components/schemas/Click"}),
                        **_errors(401, 403, 404),
                    },
                }
            },
            f"{brand}/clicks/session/{{session_id}}": {
                "get": {
                    "summary": "A session: geo data, its events in order, its domains",
                    "parameters": [_BRAND, _param("session_id", "The session id.", _STR, "path")],
                    "responses": {
                        "200": _ok(
                            "The session",
                            {
                                "type": "object",
                                "properties": {
                                    "geoData": {"type": "object"},
                                    "events": {"type": "array", "items": _EVENT},
                                    "domains": {
                                        "type": "object",
                                        "additionalProperties": _STR,
                                    },
                                },
                            },
                        ),
                        **_errors(401, 403, 404),
                    },
                }
            },
            **_replay_paths(brand),
            "/collect": {
                "post": {
                    "summary": "Tracker beacon (text/plain JSON; see docs/WIRE.md)",
                    "security": [],
                    "requestBody": {"content": {"text/plain": {"schema": {"type": "object"}}}},
                    "responses": {
                        "204": _ok("Stored durably"),
                        **_errors(400, 403, 404, 413, 422),
                    },
                }
            },
            "/config/{site_key}": {
                "get": {
                    "summary": "The tracker's brand config",
                    "security": [],
                    "parameters": [_param("site_key", "Public site key.", _STR, "path")],
                    "responses": {"200": _ok("Config"), **_errors(404)},
                }
            },
            "/t.js": {
                "get": {
                    "summary": "The tracker script",
                    "security": [],
                    "responses": {"200": _ok("JavaScript")},
                }
            },
            "/healthz": {
                "get": {"summary": "Liveness", "security": [], "responses": {"200": _ok("OK")}}
            },
        },
    }


SPEC = build_spec()


async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(SPEC)


def _render_operation(path: str, method: str, operation: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{html.escape(p['name'])}</code></td><td>{p['in']}</td>"
        f"<td>{html.escape(p.get('description', ''))}</td></tr>"
        for p in operation.get("parameters", [])
    )
    statuses = ", ".join(operation.get("responses", {}))
    table = f"<table><tr><th>name</th><th>in</th><th></th></tr>{rows}</table>" if rows else ""
    return (
        f"<section><h2><span class=m>{method.upper()}</span> <code>{html.escape(path)}</code>"
        f"</h2><p>{html.escape(operation.get('summary', ''))}</p>{table}"
        f"<p class=s>Answers: {statuses}</p></section>"
    )


def render_docs(spec: dict[str, Any]) -> str:
    sections = "".join(
        _render_operation(path, method, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    )
    info = spec["info"]
    return (
        "<!doctype html><meta charset=utf-8><title>Clicktrail API</title>"
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:920px;margin:2em auto;"
        "padding:0 1em;color:#1d2330}code{background:#f1f3f7;padding:1px 4px;border-radius:3px}"
        "h2{font-size:17px;margin-top:2em}.m{background:#2f6feb;color:#fff;padding:2px 6px;"
        "border-radius:3px;font-size:13px}table{border-collapse:collapse;width:100%}"
        "td,th{border-bottom:1px solid #e3e6ec;padding:4px 8px;text-align:left;font-size:14px}"
        ".s{color:#667}</style>"
        f"<h1>{html.escape(info['title'])}</h1><p>{html.escape(info['description'])}</p>"
        "<p>Machine-readable: <a href=/openapi.json>/openapi.json</a></p>"
        f"{sections}"
    )


_DOCS_HTML = render_docs(SPEC)


async def docs_page(request: Request) -> HTMLResponse:
    return HTMLResponse(_DOCS_HTML)


routes = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs_page, methods=["GET"]),
]
