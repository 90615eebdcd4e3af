"""Schemathesis over ``/openapi.json`` against a real collector on loopback (SQLite) with a brand,
sample clicks, events and a replay, and an admin key.

Every operation runs in three ways: valid inputs on the brand's own resources, valid inputs
anywhere, and inputs that break the schema (schemathesis' negative mode). It fails on any 5xx,
on a 4xx outside the JSON error shape, and on a JSON answer that is not strict UTF-8 JSON.

``make test`` runs a few dozen cases per operation and way (deterministic). ``make fuzz`` sets
``CLICKTRAIL_FUZZ_EXAMPLES`` for the long, randomised run and prints the figures.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from collector.http.openapi import SPEC
from collector.ids import new_id
from collector.replay.codec import compress_chunk
from collector.storage import open_store
from collector.storage.base import ReplayChunk
from tests.appkit import Kit, geoip_settings, now_ms, run_kit

LONG_RUN = "CLICKTRAIL_FUZZ_EXAMPLES" in os.environ
_KEY_HEADERS = {"ef-access-key", "x-api-key", "authorization"}
# Headers that frame the HTTP message itself: a made-up value (an empty Transfer-Encoding) makes
# the request invalid HTTP, which the server's HTTP parser answers before any route can (400,
# plain text). That tests the HTTP library, not the API: such headers are not sent.
_FRAMING_HEADERS = {"transfer-encoding", "content-length", "connection", "host", "te", "upgrade"}
EXAMPLES = int(os.environ.get("CLICKTRAIL_FUZZ_EXAMPLES", "16"))  # per operation and way (x3)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, testdata_dir: Path) -> Iterator[Kit]:
    tmp = tmp_path_factory.mktemp("fuzz")
    store = open_store(f"sqlite:///{tmp}/fuzz.db")
    settings_ = geoip_settings(testdata_dir, replay_assets_dir=str(tmp / "assets"))
    try:
        yield from run_kit(store, settings_)
    finally:
        store.close()


def _sample_data(kit: Kit) -> dict[str, str]:
    """A page view with a custom event and a replay; the ids the paths can use."""
    beacon = kit.beacon()
    beacon["e"].append({"t": "add_to_cart", "ts": now_ms(), "d": {"product_id": 3}})
    assert kit.collect(beacon).status_code == 204
    click = kit.api("/clicks").json()["data"][0]
    replay_id = new_id()
    events = b'[{"type":4,"timestamp":1,"data":{"href":"https://shop.example/","width":9}}]'
    chunk = ReplayChunk(
        brand_id=kit.brand.id,
        replay_id=replay_id,
        seq=0,
        session_id=click["session_id"],
        page_session_id=click["id"],
        visitor_id=click["visitor_id"],
        url=click["url"],
        received_at=now_ms(),
        first_ts=1,
        last_ts=1,
        event_count=1,
        raw_bytes=len(events),
        body=compress_chunk(events),
    )
    kit.store.write_batch([], [], [chunk])
    return {
        "brand": str(kit.brand.id),
        "click_code": click["id"],
        "session_id": click["session_id"],
        "replay_id": replay_id,
        "site_key": kit.brand.site_key,
    }


def _problem(status: int, content_type: str, body: bytes) -> str | None:
    """What is wrong with an answer, if anything."""
    if status >= 500:
        return f"server error {status}"
    if status == 400 and body == _PARSER_REFUSAL:
        return None  # uvicorn's HTTP parser refused the request (a URL of ~64 KB) before the app
    if "json" not in content_type:
        return None if status < 400 else f"{status} without a JSON body"
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        return f"{status} body is not strict UTF-8 JSON: {exc}"
    if status < 400:
        return None
    error = decoded.get("error") if isinstance(decoded, dict) else None
    if set(decoded) != {"error"} or not isinstance(error, dict):
        return f"{status} outside the error shape: {body[:200]!r}"
    if error.get("status") != status or not all(
        isinstance(error.get(k), str) for k in ("code", "message")
    ):
        return f"{status} with a malformed error: {body[:200]!r}"
    return None


# Public paths a person's browser follows: their 404 is a small HTML page unless the client
# accepts JSON and not HTML. The dashboard's sign-in form answers its errors (a missing CSRF
# token, a wrong password) as the form again, for the person at it.
_PAGES_FOR_PEOPLE = {"/g/{code}", "/q/{code}", "/login", "/logout"}
# What uvicorn answers, as text, to a request its HTTP parser cannot take (no app code runs).
_PARSER_REFUSAL = b"Invalid HTTP request received."


class Run:
    """Counts what was sent and collects what went wrong."""

    def __init__(self, kit: Kit, headers: dict[str, str]) -> None:
        self.kit = kit
        self.headers = headers
        self.cases = 0
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []

    def send(self, case: Any, with_key: bool) -> None:
        """Send the case; ``with_key``: instead of the key headers schemathesis made up (from
        the security schemes), the admin key."""
        self.cases += 1
        if case.headers:
            case.headers = {
                k: v for k, v in case.headers.items() if k.lower() not in _FRAMING_HEADERS
            }
        if with_key and case.headers:
            case.headers = {k: v for k, v in case.headers.items() if k.lower() not in _KEY_HEADERS}
        headers = self.headers if with_key else None
        response = case.call(base_url=self.kit.url, headers=headers, timeout=30)
        self.statuses[response.status_code] += 1
        content_type = response.headers.get("content-type", [""])
        if isinstance(content_type, list):
            content_type = content_type[0] if content_type else ""
        problem = _problem(response.status_code, content_type, response.content)
        if problem and case.path in _PAGES_FOR_PEOPLE and "html" in content_type:
            problem = None  # a 404 page for a browser; JSON for a tool (test_links_api.py)
        assert problem is None, f"{problem}\n{case.as_curl_command()}"


def _fuzz(run: Run, operation: Any, mode: GenerationMode, known: dict[str, str] | None) -> None:
    path_parameters = None
    if known is not None:
        names = {p.name for p in operation.path_parameters}
        path_parameters = {name: known[name] for name in names if name in known}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not LONG_RUN,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        # the free valid run keeps the made-up keys: answers without a good key are checked too
        run.send(case, with_key=known is not None or mode == GenerationMode.NEGATIVE)

    try:
        check()
    except Unsatisfiable:
        pass  # nothing to break in this operation's inputs (negative mode)
    except Exception as exc:  # one failing operation must not hide the others
        run.failures.append(f"{operation.label} [{mode.value}]: {exc}")


def test_no_answer_is_a_server_error_or_outside_the_error_shape(live: Kit) -> None:
    known = _sample_data(live)
    run = Run(live, {"X-Api-Key": live.admin_key})
    schema = schemathesis.openapi.from_dict(SPEC)
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        _fuzz(run, operation, GenerationMode.POSITIVE, known)
        _fuzz(run, operation, GenerationMode.POSITIVE, None)
        _fuzz(run, operation, GenerationMode.NEGATIVE, None)
    seconds = time.monotonic() - started
    print(
        f"\nschemathesis: {run.cases} cases over {len(operations)} operations in {seconds:.0f} s;"
        f" statuses {dict(sorted(run.statuses.items()))}; {len(run.failures)} failing"
    )
    assert not run.failures, "\n\n".join(run.failures)
