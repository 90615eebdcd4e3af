"""Short links API (seed 01's generate, plus list, get, update, delete, QR codes and the codes
nobody answers) and the documented redirects ``/g/{code}`` and ``/q/{code}`` (``app.py`` sends
those two prefixes straight to :class:`~collector.links.redirect.Redirector`)."""

from __future__ import annotations

import time

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope

from collector.http.auth import authorize
from collector.http.body import decode_body, query_struct
from collector.http.errors import ApiError
from collector.http.params import JSON, iso
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import public_base, runtime
from collector.links import examples, service
from collector.links.qr import qr_image
from collector.links.schema import (
    CodePath,
    LinkCreate,
    LinkJson,
    LinkListQuery,
    LinkMiss,
    LinkPage,
    LinkPath,
    LinkUpdate,
    QrQuery,
)
from collector.storage.base import LinkQuery, Scope, ShortLink, Store

MAX_BODY = 16_384
_create = msgspec.json.Decoder(LinkCreate)
_update = msgspec.json.Decoder(LinkUpdate)


def link_json(link: ShortLink, counts: tuple[int, int] = (0, 0)) -> LinkJson:
    return LinkJson(
        code=link.code,
        url=service.link_url(link),
        id=link.id,
        domain=service.shown_domain(link),
        destination_url=link.destination_url,
        qr_url=service.qr_url(link),
        tags=[str(tag) for tag in link.tags] if isinstance(link.tags, list) else [],
        folder=link.folder,
        external_id=link.external_id,
        tenant_id=link.tenant_id,
        group_id=link.group_id,
        partner_id=link.partner_id,
        expires_at=iso(link.expires_at) if link.expires_at is not None else None,
        created_at=iso(link.created_at),
        updated_at=iso(link.updated_at),
        clicks=counts[0],
        qr_scans=counts[1],
    )


def _store(request: Request) -> Store:
    return runtime(request).store


def _now() -> int:
    return time.time_ns() // 1_000_000


def _forget(request: Request, link: ShortLink) -> None:
    runtime(request).redirector.cache.forget(link.code)


def _with_counts(store: Store, link: ShortLink) -> LinkJson:
    return link_json(link, store.link_clicks(link.brand_id, [link.id]).get(link.id, (0, 0)))


async def generate(request: Request) -> Response:
    brand_id = authorize(request, "write")
    body: LinkCreate = await decode_body(request, _create, "short link", MAX_BODY)
    base = public_base(request)

    def create() -> ShortLink:
        brand = runtime(request).brands.by_id(brand_id)
        if brand is None:
            raise ApiError(404, f"no brand {brand_id}")
        return service.create_link(_store(request), brand, body, base, _now())

    link = await anyio.to_thread.run_sync(create)
    _forget(request, link)
    return JSON(link_json(link), status_code=201)


async def list_links(request: Request) -> JSON:
    brand_id = authorize(request, "read")
    parsed = query_struct(request, LinkListQuery)
    query = LinkQuery(
        tag=parsed.tag,
        folder=parsed.folder,
        tenant_id=parsed.tenant_id,
        external_id=parsed.external_id,
        group_id=parsed.group_id,
        partner_id=parsed.partner_id,
        search=parsed.search,
        limit=parsed.per_page,
        offset=(parsed.page - 1) * parsed.per_page,
    )

    def page() -> tuple[int, list[LinkJson]]:
        store = _store(request)
        total, links = store.list_links(brand_id, query)
        counts = store.link_clicks(brand_id, [link.id for link in links])
        return total, [link_json(link, counts.get(link.id, (0, 0))) for link in links]

    total, rows = await anyio.to_thread.run_sync(page)
    last_page = max(1, -(-total // parsed.per_page))
    next_url = None
    if parsed.page < last_page:
        next_url = str(request.url.include_query_params(page=parsed.page + 1))
    return JSON(LinkPage(total, last_page, parsed.page, parsed.per_page, next_url, rows))


async def one_link(request: Request) -> Response:
    """GET, PATCH and DELETE of one link (one route, so a 405 lists all three)."""
    scope: Scope = "read" if request.method == "GET" else "write"
    brand_id = authorize(request, scope)
    wanted = request.path_params["link"]
    store = _store(request)
    if request.method == "GET":
        found = await anyio.to_thread.run_sync(service.find_link, store, brand_id, wanted)
        return JSON(await anyio.to_thread.run_sync(_with_counts, store, found))
    if request.method == "DELETE":
        gone = await anyio.to_thread.run_sync(service.delete_link, store, brand_id, wanted, _now())
        _forget(request, gone)
        return Response(status_code=204)
    patch: LinkUpdate = await decode_body(request, _update, "short link update", MAX_BODY)
    updated = await anyio.to_thread.run_sync(
        service.update_link, store, brand_id, wanted, patch, _now()
    )
    _forget(request, updated)
    return JSON(await anyio.to_thread.run_sync(_with_counts, store, updated))


async def qr_code(request: Request) -> Response:
    brand_id = authorize(request, "read")
    options = query_struct(request, QrQuery)
    link = await anyio.to_thread.run_sync(
        service.find_link, _store(request), brand_id, request.path_params["link"]
    )
    image = qr_image(service.qr_url(link), options.format, options.size)
    media = "image/svg+xml" if options.format == "svg" else "image/png"
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
    return Response(image, media_type=media, headers=headers)


async def misses(request: Request) -> JSON:
    brand_id = authorize(request, "read")
    await runtime(request).link_misses.flush()  # this process's latest count too
    rows = await anyio.to_thread.run_sync(_store(request).link_misses, brand_id, 100)
    return JSON([LinkMiss(code=c, requests=n, last_requested_at=iso(at)) for c, n, at in rows])


class RedirectEndpoint:
    """Routes ``/g/`` and ``/q/`` to the app's :class:`~collector.links.redirect.Redirector`
    when the app's fast path does not (an ASGI app for the router, as ``/collect``'s is)."""

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        await scope["app"].state.runtime.redirector(scope, receive, send)


_redirect = RedirectEndpoint()


_BASE = "/api/brands/{brand}/short-links"
_PATH = {"brand": examples.BRAND_ID}
_ONE = {**_PATH, "link": examples.LINK.code}
_EXAMPLE = link_json(examples.LINK, (12, 3))
_REDIRECT_NOTE = (
    "Public. Answers 302 to the destination, with the short URL's query parameters added to the "
    "destination's (a name in both takes the short URL's value) and `ct_id` (the click id) last; "
    "`Cache-Control: no-store`. The click is stored before the answer, with the trigger of the "
    "path (`/g/`: link, `/q/`: qr), geo, device, referrer and the bot and repeat flags. An "
    "unknown, expired or deleted code answers a small HTML 404 page, counted per code. Nothing "
    "in the query changes where it goes. A client that accepts JSON but not HTML gets the JSON "
    "error instead of the page."
)
endpoints = [
    Endpoint(
        "POST",
        f"{_BASE}/generate",
        generate,
        summary="Create a short link",
        area="Short links",
        auth="write",
        description="201 with the seed's `code` and `url`, then the link's other fields. "
        "`destination_url` must be an absolute http(s) URL (422 naming it otherwise). A "
        "generated code is 7 random letters and digits; a custom `key` already taken on the "
        "short domain is 409. `url` is on the brand's `short_domain`, else the collector's "
        "public URL.",
        path_params=BrandPath,
        body=LinkCreate,
        replies=(Reply(201, "The new link", LinkJson, example=_EXAMPLE),),
        errors=(400, 401, 403, 404, 409, 413, 422),
        example=Example(path=_PATH, body=msgspec.convert(examples.CREATE_BODY, LinkCreate)),
    ),
    Endpoint(
        "GET",
        _BASE,
        list_links,
        summary="List short links, newest first",
        area="Short links",
        auth="read",
        path_params=BrandPath,
        query=LinkListQuery,
        replies=(
            Reply(
                200, "One page of links", LinkPage, example=LinkPage(1, 1, 1, 100, None, [_EXAMPLE])
            ),
        ),
        errors=(401, 403, 404, 422),
        example=Example(path=_PATH, query={"tag": "spring"}),
    ),
    Endpoint(
        "GET",
        f"{_BASE}/misses",
        misses,
        summary="Codes asked for that no link answers",
        area="Short links",
        auth="read",
        description="Unknown, expired or deleted codes of the brand's links and short domain, "
        "most requested first (at most 100). Counts are written every few seconds.",
        path_params=BrandPath,
        replies=(
            Reply(
                200,
                "The codes",
                list[LinkMiss],
                example=[LinkMiss(code="spring24", requests=7, last_requested_at=iso(examples.AT))],
            ),
        ),
        errors=(401, 403, 404),
        example=Example(path=_PATH),
    ),
    Endpoint(
        "GET",
        f"{_BASE}/{{link}}",
        one_link,
        summary="One short link, with its click counts",
        area="Short links",
        auth="read",
        path_params=LinkPath,
        replies=(Reply(200, "The link", LinkJson, example=_EXAMPLE),),
        errors=(401, 403, 404),
        example=Example(path=_ONE),
    ),
    Endpoint(
        "PATCH",
        f"{_BASE}/{{link}}",
        one_link,
        summary="Change a short link",
        area="Short links",
        auth="write",
        description="The destination and the attributes change; the code never does. Redirects "
        "follow the change at once on this collector, within seconds on others.",
        path_params=LinkPath,
        body=LinkUpdate,
        replies=(Reply(200, "The link as changed", LinkJson, example=_EXAMPLE),),
        errors=(400, 401, 403, 404, 413, 422),
        example=Example(path=_ONE, body=msgspec.convert(examples.UPDATE_BODY, LinkUpdate)),
    ),
    Endpoint(
        "DELETE",
        f"{_BASE}/{{link}}",
        one_link,
        summary="Delete a short link",
        area="Short links",
        auth="write",
        description="It answers 404 from then on; its code is never given to another link, so "
        "printed codes cannot start pointing elsewhere. Its clicks stay.",
        path_params=LinkPath,
        replies=(Reply(204, "Deleted"),),
        errors=(401, 403, 404),
        example=Example(path=_ONE),
    ),
    Endpoint(
        "GET",
        f"{_BASE}/{{link}}/qr",
        qr_code,
        summary="The link's QR code (SVG or PNG)",
        area="Short links",
        auth="read",
        description="It encodes `qr_url` (`{short base}/q/{code}`): a scan is recorded with "
        "`trigger=qr`, told apart by the path, so no query parameter is needed or can clash.",
        path_params=LinkPath,
        query=QrQuery,
        replies=(
            Reply(200, "An SVG image", media_type="image/svg+xml", example="<svg ...>"),
            Reply(200, "A PNG image", media_type="image/png"),
        ),
        errors=(401, 403, 404, 422),
        example=Example(path=_ONE, query={"format": "svg", "size": 256}),
    ),
    *(
        Endpoint(
            "GET",
            f"/{prefix}/{{code}}",
            _redirect,
            summary=summary,
            area="Short links",
            auth="public",
            description=_REDIRECT_NOTE,
            path_params=CodePath,
            replies=(
                Reply(302, "To the destination"),
                Reply(404, "No such link", media_type="text/html"),
            ),
            example=Example(path={"code": examples.LINK.code}),
        )
        for prefix, summary in (
            ("g", "Follow a short link"),
            ("q", "Follow a short link's QR code"),
        )
    ),
]
routes = routes_of(endpoints)
