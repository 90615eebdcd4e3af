"""``POST /api/brands/{brand}/clicks/stream``: the raw clicks stream (seed 04)."""

from __future__ import annotations

import anyio
import msgspec
from starlette.requests import Request

from collector.http.auth import authorize
from collector.http.body import decode_body
from collector.http.params import JSON
from collector.http.routing import Endpoint, Example, Reply, routes_of
from collector.http.schema import BrandPath
from collector.http.state import runtime

from . import examples, service
from .schema import StreamAnswer, StreamRequest

MAX_BODY = 65_536
_request = msgspec.json.Decoder(StreamRequest)


async def click_stream(request: Request) -> JSON:
    brand = authorize(request, "read")
    body = await decode_body(request, _request, "stream request", MAX_BODY)
    store = runtime(request).store
    answer = await anyio.to_thread.run_sync(service.stream, store, brand, body)
    return JSON(answer)


endpoints = [
    Endpoint(
        "POST",
        "/api/brands/{brand}/clicks/stream",
        click_stream,
        summary="Stream raw clicks of up to 14 days in a time zone (Everflow's clicks stream)",
        area="Clicks",
        auth="read",
        description="Every click of `from` to `to` (`YYYY-MM-DD HH:mm:SS` in the time zone of "
        "`timezone_id`, Everflow's ids, or of `timezone`, an IANA name), oldest first, each in "
        "Everflow's row shape. Filters of one `resource_type` are OR-ed, of different types "
        "AND-ed. At most 5,000 rows: when more match, `truncated` is true and `next_from`, "
        "sent back with the same body, continues after the last row. A range over 14 days, "
        "`to` before `from` or an unknown time zone is a 422 naming the field.",
        path_params=BrandPath,
        body=StreamRequest,
        replies=(Reply(200, "One page of the stream", StreamAnswer, example=examples.ANSWER),),
        errors=(400, 401, 403, 404, 413, 422),
        example=Example(path={"brand": examples.BRAND_ID}, body=examples.REQUEST),
    ),
]
routes = routes_of(endpoints)
