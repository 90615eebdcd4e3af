"""The ``/docs`` page: the OpenAPI document rendered as HTML on the server, so it shows exactly
what ``/openapi.json`` says. Endpoints are grouped by area (the spec's tags), each with its
authentication, parameters and their allowed values, its request body, an example request (as
``curl``) and an example response. Descriptions may hold inline code in backticks, the only
Markdown the spec uses; it becomes ``<code>``. No script; the stylesheet is inline, allowed by
its hash (``CSP``), so the page loads nothing but itself."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shlex
from collections.abc import Iterator
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from collector.http.docs_schema import SchemaText, text

BASE = "{{BASE}}"  # the collector's URL, filled in per request (docs_page.DocsPage.render)
STYLE = (resources.files("collector") / "static" / "docs.css").read_text()
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = "; ".join(
    [
        "default-src 'none'",
        f"style-src 'sha256-{_STYLE_HASH}'",
        "img-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
METHODS = ("get", "post", "patch", "put", "delete", "options", "head")
_AUTH = {
    "public": "None: anyone may call it.",
    "read": "An API key with the <code>read</code> scope (or higher).",
    "read_or_share": "An API key with the <code>read</code> scope, or a share link's token "
    "(then for its own session only).",
    "write": "An API key with the <code>write</code> scope (or <code>admin</code>).",
    "admin": "An API key with the <code>admin</code> scope.",
}
_KEY_HEADER = {
    "read": "EF-Access-Key",
    "read_or_share": "EF-Access-Key",
    "write": "EF-Access-Key",
    "admin": "X-Api-Key",
}


def anchor(*parts: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", " ".join(parts).lower()))


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


class DocsPage:
    """The page for one spec, rendered once; :meth:`render` fills in the collector's URL."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.schemas = SchemaText(spec["components"]["schemas"])
        self.html = self._page()

    def render(self, base_url: str) -> str:
        return self.html.replace(BASE, html.escape(base_url.rstrip("/")))

    def _page(self) -> str:
        info = self.spec["info"]
        areas = self._areas()
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(info['title'])}</title>"
            '<link rel="icon" href="/favicon.ico">'
            f"<style>{STYLE}</style></head><body>"
            '<a class="skip" href="#main">Skip to the content</a>'
            '<div class="layout">'
            f"{self._nav(areas)}"
            '<main id="main" tabindex="-1">'
            f"<header><h1>{html.escape(info['title'])}</h1>"
            f"<p>{text(info.get('description', ''))}</p>"
            '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> '
            f"(OpenAPI {html.escape(self.spec['openapi'])}). Examples call "
            f"<code>{BASE}</code>.</p></header>"
            f"{self._authentication()}{self._errors()}"
            + "".join(self._area(tag, ops) for tag, ops in areas)
            + "</main></div></body></html>"
        )

    def _areas(self) -> list[tuple[dict[str, Any], list[tuple[str, str, dict[str, Any]]]]]:
        grouped: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        for path, method, operation in operations(self.spec):
            grouped.setdefault(operation["tags"][0], []).append((path, method, operation))
        return [(tag, grouped.get(tag["name"], [])) for tag in self.spec["tags"]]

    def _nav(self, areas: list[tuple[dict[str, Any], list[Any]]]) -> str:
        items = [
            '<li><a href="#authentication">Authentication</a></li>',
            '<li><a href="#errors">Errors</a></li>',
        ]
        for tag, ops in areas:
            links = "".join(
                f'<li><a href="#{anchor(op["operationId"])}"><span class="m m-{method}">'
                f"{method.upper()}</span> <code>{_wrappable(path)}</code></a></li>"
                for path, method, op in ops
            )
            name = tag["name"]
            link = f'<a href="#{anchor("area", name)}">{html.escape(name)}</a>'
            items.append(f"<li>{link}<ul>{links}</ul></li>")
        return f'<nav aria-label="Contents"><h2>Contents</h2><ul>{"".join(items)}</ul></nav>'

    def _authentication(self) -> str:
        schemes = self.spec["components"]["securitySchemes"]
        rows = "".join(
            f"<dt>{self._scheme_header(scheme)}</dt><dd>{text(scheme.get('description', ''))}</dd>"
            for scheme in schemes.values()
        )
        return (
            '<section id="authentication"><h2>Authentication</h2>'
            "<p>API calls take a key in any one of these headers. A key belongs to one brand and "
            "has a scope: <code>read</code> &lt; <code>write</code> &lt; <code>admin</code>. A "
            "missing or bad key is 401; another brand's resources are 404 (never revealed); a "
            "scope too low is 403. Keys are made with <code>clicktrail keys create</code>.</p>"
            f'<dl class="fields">{rows}</dl>'
            "<p>Share links (<code>POST /api/brands/{brand}/replays/{replay_id}/share</code>) "
            "carry a signed token that expires. Sent as <code>Authorization: Bearer "
            "TOKEN</code>, it reads one session only: its replays, <code>clicks/session/"
            "{session_id}</code> and <code>clicks?click_id={session_id}</code>; anything else "
            "is 403, another session 404.</p>"
            "<p>The examples read the key from the shell variable <code>KEY</code>.</p>"
            "</section>"
        )

    @staticmethod
    def _scheme_header(scheme: dict[str, Any]) -> str:
        if scheme["type"] == "apiKey":
            return f"<code>{html.escape(scheme['name'])}: KEY</code>"
        token = "TOKEN" if scheme.get("bearerFormat") else "KEY"
        return f"<code>Authorization: Bearer {token}</code>"

    def _errors(self) -> str:
        statuses: dict[str, str] = {}
        for _, _, operation in operations(self.spec):
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json", {})
                if content.get("schema", {}).get("$ref", "").endswith("/Error"):
                    statuses[status] = response["description"]
        rows = "".join(
            f"<dt><code>{html.escape(s)}</code></dt><dd>{text(statuses[s])}</dd>"
            for s in sorted(statuses)
        )
        example = {"error": {"status": 422, "code": "invalid", "message": "…", "param": "sort"}}
        return (
            '<section id="errors"><h2>Errors</h2><p>Every error, on every route, has one shape; '
            "<code>param</code> is there when one parameter or field is to blame. An unknown "
            "path is 404; a method a path does not take is 405, with the methods it takes in "
            "<code>Allow</code>.</p>"
            f"<pre><code>{html.escape(json.dumps(example, indent=2))}</code></pre>"
            f'<dl class="fields">{rows}</dl>{self.schemas.tables("Error")}</section>'
        )

    def _area(self, tag: dict[str, Any], ops: list[tuple[str, str, dict[str, Any]]]) -> str:
        name = tag["name"]
        body = "".join(self._operation(path, method, op) for path, method, op in ops)
        return (
            f'<section class="area" id="{anchor("area", name)}"><h2>{html.escape(name)}</h2>'
            f"<p>{text(tag.get('description', ''))}</p>{body}</section>"
        )

    def _operation(self, path: str, method: str, op: dict[str, Any]) -> str:
        parts = [
            f'<article id="{anchor(op["operationId"])}">'
            f'<h3><span class="m m-{method}">{method.upper()}</span> '
            f"<code>{html.escape(path)}</code></h3>"
            f'<p class="summary">{text(op["summary"])}</p>'
        ]
        if op.get("description"):
            parts.append(f"<p>{text(op['description'])}</p>")
        parts.append(f'<p class="auth"><strong>Authentication:</strong> {_AUTH[op["x-auth"]]}</p>')
        parts.append(self._parameters(op.get("parameters", [])))
        parts.append(self._request_body(op.get("requestBody")))
        parts.append(
            f"<h4>Example request</h4><pre><code>{self._curl(path, method, op)}</code></pre>"
        )
        parts.append(self._responses(op["responses"]))
        parts.append('<p class="top"><a href="#main">Back to the top</a></p></article>')
        return "".join(parts)

    def _parameters(self, parameters: list[dict[str, Any]]) -> str:
        if not parameters:
            return ""
        rows = "".join(self._parameter(p) for p in parameters)
        return f'<h4>Parameters</h4><dl class="fields">{rows}</dl>'

    def _parameter(self, parameter: dict[str, Any]) -> str:
        schema = parameter["schema"]
        need = "required" if parameter.get("required") else "optional"
        head = (
            f"<code>{html.escape(parameter['name'])}</code> "
            f'<span class="where">{parameter["in"]}, {need}</span> '
            f'<span class="type">{html.escape(self.schemas.type_name(schema))}</span>'
        )
        return f"<dt>{head}</dt><dd>{self.schemas.details(schema, parameter['description'])}</dd>"

    def _request_body(self, body: dict[str, Any] | None) -> str:
        if body is None:
            return ""
        media, content = next(iter(body["content"].items()))
        need = "required" if body.get("required") else "optional (may be empty)"
        return (
            f"<h4>Request body</h4><p><code>{html.escape(media)}</code>, {need}: "
            f"{html.escape(self.schemas.type_name(content['schema']))}.</p>"
            f"{self.schemas.fields_of(content['schema'], 'Fields of the body')}"
        )

    def _curl(self, path: str, method: str, op: dict[str, Any]) -> str:
        url = path
        query = {}
        for parameter in op.get("parameters", []):
            if "example" not in parameter:
                continue
            if parameter["in"] == "path":
                value = quote(str(parameter["example"]), safe="")
                url = re.sub(r"\{" + parameter["name"] + r"\}", value, url)
            else:
                query[parameter["name"]] = parameter["example"]
        if query:
            url += "?" + urlencode(query)
        words = ["curl"] if method == "get" else ["curl", "-X", method.upper()]
        header = _KEY_HEADER.get(op["x-auth"])
        lines = [" ".join(words)]
        if header:
            lines.append(f'-H "{header}: $KEY"')
        body = op.get("requestBody")
        if body:
            media, content = next(iter(body["content"].items()))
            lines.append("-H " + shlex.quote(f"Content-Type: {media}"))
            if "example" in content:
                lines.append("--data " + shlex.quote(json.dumps(content["example"])))
        lines.append(f'"{BASE}{url}"')
        return html.escape(" \\\n  ".join(lines))

    def _responses(self, responses: dict[str, Any]) -> str:
        items = []
        example = ""
        for status, response in responses.items():
            content = response.get("content", {})
            media = next(iter(content), None)
            kind = f" <code>{html.escape(media)}</code>" if media else ""
            items.append(f"<li><code>{status}</code>{kind}: {text(response['description'])}</li>")
            body = content.get(media, {}) if media else {}
            if not example and status.startswith("2") and "example" in body:
                shown = html.escape(json.dumps(body["example"], indent=2, ensure_ascii=False))
                example = f"<h4>Example response</h4><p><code>{status}</code></p>"
                example += f"<pre><code>{shown}</code></pre>"
                example += self.schemas.fields_of(body["schema"], "Fields of the response")
        return f'<h4>Responses</h4><ul class="responses">{"".join(items)}</ul>{example}'


def _wrappable(path: str) -> str:
    """A path, escaped, that a narrow column wraps after a slash rather than inside a word."""
    return html.escape(path).replace("/", "/<wbr>")
