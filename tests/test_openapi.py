"""The generated OpenAPI document and the /docs page: one route table, the types the handlers
answer, and a page rendered from the same document."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import jsonschema
import msgspec
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31  # the OAI's 3.1 schema
from starlette.testclient import TestClient

from collector.app import create_app
from collector.clicks.schema import CLICK_SHAPE, HIDDEN, PLACED, ClickShape
from collector.config import Settings
from collector.http.audit import Answer
from collector.http.openapi import SPEC
from collector.http.routing import Endpoint, Reply, spec_path
from collector.http.schema import BrandPath
from collector.http.spec import build_spec
from collector.storage.base import SORT_COLUMNS, BrandSettings, Click
from collector.storage.columns import Millis
from tests.spec_audit import SpecAudit

METHODS = ("get", "post", "patch", "put", "delete", "options", "head")


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings()))


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method])
        for path, item in SPEC["paths"].items()
        for method in METHODS
        if method in item
    ]


def _validate(value: Any, schema: dict[str, Any]) -> None:
    document = {**schema, "components": SPEC["components"]}
    jsonschema.Draft202012Validator(document).validate(value)


def test_the_document_is_openapi_3_1_by_the_oai_schema(client: TestClient) -> None:
    served = client.get("/openapi.json")
    assert served.status_code == 200 and served.json() == msgspec.json.decode(
        msgspec.json.encode(SPEC)
    )
    assert SPEC["openapi"] == "3.1.0"
    jsonschema.Draft202012Validator(OPENAPI_31).validate(served.json())
    for schema in SPEC["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_the_app_serves_exactly_the_routes_the_spec_documents() -> None:
    app = create_app(Settings())
    served = {
        (method, spec_path(route.path))
        for route in app.routes
        for method in route.methods  # type: ignore[attr-defined]
        if method != "HEAD"  # Starlette answers HEAD wherever GET is
    }
    documented = {(method.upper(), path) for path, method, _ in _operations()}
    assert served == documented


def test_every_example_matches_its_schema() -> None:
    checked = 0
    for path, method, operation in _operations():
        for parameter in operation.get("parameters", []):
            if "example" in parameter:
                _validate(parameter["example"], parameter["schema"])
                checked += 1
        bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
        for body in bodies:
            for media in body.get("content", {}).values():
                if "example" in media:
                    _validate(media["example"], media["schema"])
                    checked += 1
        assert operation["responses"], f"{method} {path} answers nothing"
    assert checked > 40


def test_every_api_operation_has_an_example_request_and_response() -> None:
    for path, method, operation in _operations():
        if not path.startswith("/api/"):
            continue
        names = re.findall(r"\{(\w+)\}", path)
        examples = {p["name"] for p in operation["parameters"] if "example" in p}
        assert set(names) <= examples, f"{method} {path}: no example for a path parameter"
        ok = [r for s, r in operation["responses"].items() if s.startswith("2") and "content" in r]
        for reply in ok:  # a JSON answer has an example; an image or 204 may have none
            json_reply = reply["content"].get("application/json")
            assert json_reply is None or "example" in json_reply, path


def test_query_parameters_carry_their_allowed_values() -> None:
    clicks = SPEC["paths"]["/api/brands/{brand}/clicks"]["get"]["parameters"]
    by_name = {p["name"]: p for p in clicks}
    assert set(by_name["sort"]["schema"]["enum"]) == set(SORT_COLUMNS)
    assert by_name["direction"]["schema"] == {"enum": ["asc", "desc"], "default": "desc"}
    assert (by_name["page"]["schema"]["minimum"], by_name["page"]["schema"]["maximum"]) == (
        1,
        10_000_000,
    )
    assert by_name["brand"]["in"] == "path" and by_name["brand"]["required"]
    assert not by_name["funnel_id"]["required"] and by_name["funnel_id"]["description"]


def test_the_click_schema_shows_every_field_of_the_storage_click() -> None:
    schema = SPEC["components"]["schemas"]["Click"]
    for field in msgspec.structs.fields(Click):
        if field.name in HIDDEN:
            continue
        if field.name in PLACED:
            group, key = PLACED[field.name]
            name = "Click" + "".join(part.title() for part in group.split("_"))
            assert key in SPEC["components"]["schemas"][name]["properties"], field.name
        else:
            assert field.name in schema["properties"], field.name
    assert list(schema["properties"]) == list(CLICK_SHAPE.keys)


class _ClickWithMore(Click, kw_only=True):
    page_title: str | None = None
    converted_at: Millis | None = None


def test_a_field_added_to_click_shows_in_the_json_and_the_schema() -> None:
    shape = ClickShape(_ClickWithMore)
    assert shape.keys[-2:] == ("page_title", "converted_at")
    click = _ClickWithMore(
        id="c",
        brand_id=1,
        session_id="s",
        visitor_id="v",
        created_at=0,
        page_title="Checkout",
        converted_at=1_733_821_200_000,
    )
    shown = msgspec.json.decode(msgspec.json.encode(shape.build(click, None, [])))
    assert shown["page_title"] == "Checkout"
    assert shown["converted_at"] == "2024-12-10T09:00:00.000Z"
    assert list(shown)[:4] == ["id", "session_id", "ip_address", "url"]
    properties = msgspec.json.schema(shape.struct)["$defs"]["Click"]["properties"]
    assert "page_title" in properties and "converted_at" in properties


def test_the_click_json_keeps_the_shape_the_api_has_always_answered() -> None:
    click = Click(
        id="c",
        brand_id=1,
        session_id="s",
        visitor_id="v",
        created_at=0,
        domain_id=7,
        ad_click_id="g1",
        ad_network="google",
        user_agent="UA",
    )
    shown = msgspec.json.decode(msgspec.json.encode(CLICK_SHAPE.build(click, None, [])))
    assert list(shown) == [
        *("id", "session_id", "ip_address", "url", "funnel_id", "domain", "affiliate"),
        *("merchant", "events", "created_at", "visitor_id", "trigger", "external_id"),
        *("sub1", "sub2", "sub3", "sub4", "sub5", "utm", "ad_click", "query", "referrer"),
        *("geo", "device", "os", "browser", "language", "viewport", "is_bot"),
        *("link_id", "is_repeat"),  # issue 10: added at the end, as every new field is
        *("accept_language", "organization", "connection_type", "mobile_carrier"),  # issue 14
        *("is_proxy", "proxy_type"),
        "bot_reason",  # issue 17
    ]
    assert shown["ad_click"] == {"network": "google", "id": "g1"}
    assert list(shown["geo"]) == [
        *("country", "region", "city", "zip", "lat", "lon"),
        *("time_zone", "continent", "asn", "isp"),
    ]
    assert shown["created_at"] == "1970-01-01T00:00:00.000Z" and shown["merchant"] is None
    no_ad = msgspec.structs.replace(click, ad_click_id=None)
    assert msgspec.to_builtins(CLICK_SHAPE.build(no_ad, None, []))["ad_click"] is None


async def _handler(request: Any) -> Any:
    raise AssertionError("never called")


def test_a_path_struct_must_name_the_route_s_parameters() -> None:
    wrong = Endpoint(
        "GET",
        "/api/brands/{brand_id}",
        _handler,
        summary="s",
        area="A",
        auth="read",
        replies=(Reply(200, "ok"),),
        path_params=BrandPath,
    )
    with pytest.raises(ValueError, match="path parameters"):
        build_spec([wrong], {"A": "a"}, {"title": "t", "version": "1"})


def _answer(route: str | None, status: int, body: Any, path: str = "/api/brands/1") -> Answer:
    return Answer(
        method="GET",
        path=path,
        route=route,
        status=status,
        content_type="application/json",
        body=msgspec.json.encode(body).decode(),
    )


def test_the_audit_names_an_undeclared_key_an_unlisted_status_and_an_undocumented_route() -> None:
    audit = SpecAudit(SPEC)
    brand = {
        "id": 1,
        "name": "b",
        "site_key": "k",
        "domains": [],
        "settings": msgspec.to_builtins(BrandSettings()),
    }
    assert audit.problem(_answer("/api/brands/{brand}", 200, brand)) is None
    extra = audit.problem(_answer("/api/brands/{brand}", 200, {**brand, "secret": 1}))
    assert extra is not None and "'secret' was unexpected" in extra
    wrong = audit.problem(_answer("/api/brands/{brand}", 200, {**brand, "id": "1"}))
    assert wrong is not None and 'id breaks type "integer"' in wrong
    status = audit.problem(_answer("/api/brands/{brand}", 418, {}))
    assert status is not None and "lists only" in status
    route = audit.problem(_answer("/api/brands/{brand}/secrets", 200, {}))
    assert route is not None and "not in the spec" in route
    not_found = {"error": {"status": 404, "code": "not_found", "message": "no such path: /x"}}
    assert audit.problem(_answer(None, 404, not_found, "/x")) is None


class _Text(HTMLParser):
    """The page's text outside <code> and <pre>, and every link and source."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._code += tag in ("code", "pre")
        self.links += [v or "" for k, v in attrs if k in ("href", "src")]

    def handle_endtag(self, tag: str) -> None:
        self._code -= tag in ("code", "pre")

    def handle_data(self, data: str) -> None:
        if not self._code:
            self.text.append(data)


def test_docs_page_shows_every_operation_by_area_with_no_raw_markdown(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe" not in csp and "http" not in csp
    parsed = _Text()
    parsed.feed(page.text)
    text = " ".join(parsed.text)
    assert "`" not in text and "**" not in text and "](" not in text
    assert "script" not in parsed.tags
    assert all(link.startswith(("#", "/")) for link in parsed.links), parsed.links
    for tag in SPEC["tags"]:
        assert f"<h2>{tag['name']}</h2>" in page.text
    for path, method, operation in _operations():
        anchor = "-".join(re.findall(r"[a-z0-9]+", operation["operationId"]))
        assert f'id="{anchor}"' in page.text, (method, path)
    for header in ("EF-Access-Key: KEY", "X-Api-Key: KEY", "Authorization: Bearer KEY"):
        assert header in page.text
    assert "Authorization: Bearer TOKEN" in page.text  # share links
    assert "curl -X PATCH" in page.text and "device_type" in page.text
    assert "&quot;http://testserver/api/brands/1/clicks?page=1&amp;funnel_id=5&quot;" in page.text
