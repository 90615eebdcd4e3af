"""The rig of bench/ingest.py: stores, servers, wrk, the collector's /metrics and its stored rows.

- :func:`new_store`: a fresh SQLite database with its brands (one site key each).
- :func:`start_server` / :func:`collector_command` / :func:`bare_command`: the collector or the
  bare Starlette endpoint under uvicorn, one worker, its log in a file.
- :func:`write_script`: wrk's Lua, either a new page load per request (a new visitor every
  fifth, its id minted at that moment, as the tracker does) or one body replayed for ever.
- :class:`Wrk`: one wrk run in the background (``-t1``), its figures parsed when it ends.
- :func:`scrape`: the collector's inbox gauges and answered-beacon counters.
- :func:`stored_rows`: clicks and events in a stopped collector's database.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collector.ids import ALPHABET, new_id  # noqa: E402

METRICS_TOKEN = "bench-ingest-metrics"

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def collect(request):
    await request.body()
    return Response(status_code=204)

app = Starlette(routes=[Route("/collect", collect, methods=["POST"])])
"""

UNIQUE_LUA = r"""
local alphabet = "%(alphabet)s"
local counter = 0
local visitor = ""
local function enc(n, length)
  local s = {}
  for i = length, 1, -1 do
    local d = n %% 32
    s[i] = alphabet:sub(d + 1, d + 1)
    n = math.floor(n / 32)
  end
  return table.concat(s)
end
local template = [==[%(template)s]==]
local prefix = "%(prefix)s"
request = function()
  counter = counter + 1
  if counter %% 5 == 1 then
    -- a new visitor, its id minted now, as the tracker does on a first visit
    visitor = enc(os.time() * 1000, 10) .. enc(counter, 16)
  end
  local body = template:gsub("PAGE_ID", prefix .. enc(counter, 16)):gsub("VISITOR_ID", visitor)
  return wrk.format("POST", "/collect", {["Content-Type"] = "text/plain"}, body)
end
"""

REPLAY_LUA = r"""
local body = [==[%(body)s]==]
local req = wrk.format("POST", "/collect", {["Content-Type"] = "text/plain"}, body)
request = function()
  return req
end
"""


def beacon_template(site_key: str, events: int) -> str:
    """A beacon of ``events`` events (a page view, then clicks) with ``PAGE_ID`` and
    ``VISITOR_ID`` left to fill in."""
    now = time.time_ns() // 1_000_000
    body = {
        "k": site_key,
        "v": "VISITOR_ID",
        "s": new_id(now),
        "p": "PAGE_ID",
        "n": 1,
        "u": "https://shop.example/landing?utm_source=newsletter&sub1=abc",
        "r": "https://www.google.com/",
        "l": "en-GB",
        "w": 1440,
        "h": 900,
        "e": [{"t": "page_view", "ts": now}]
        + [
            {"t": "click", "ts": now + i, "d": {"s": "button#buy", "x": 10, "y": i, "tx": "Buy"}}
            for i in range(1, events)
        ],
    }
    return json.dumps(body)


_PREFIXES = itertools.count()


def page_prefix() -> str:
    """The first 10 characters of a run's page ids, different for every call in this process
    (a time part a millisecond further each call): two scripts written within the same
    millisecond must not send the same pages, or the second one's clicks are dropped as
    already stored."""
    return new_id(time.time_ns() // 1_000_000 + next(_PREFIXES))[:10]


def write_script(path: Path, template: str, replay: bool = False) -> Path:
    """wrk's script: unique bodies from ``template``, or (``replay``) the first one for ever."""
    if replay:
        body = template.replace("PAGE_ID", new_id()).replace("VISITOR_ID", new_id())
        path.write_text(REPLAY_LUA % {"body": body})
    else:
        prefix = page_prefix()
        path.write_text(UNIQUE_LUA % {"alphabet": ALPHABET, "template": template, "prefix": prefix})
    return path


@dataclass(frozen=True)
class Store:
    """A fresh SQLite database and the site keys of its brands."""

    path: Path
    site_keys: list[str]

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


def new_store(work: Path, name: str, brands: int = 1) -> Store:
    path = work / f"{name}.db"
    keys = []
    for index in range(brands):
        created = subprocess.run(
            [
                *(sys.executable, "-m", "collector", "brands", "create", f"{name}-{index}"),
                *("--database", f"sqlite:///{path}"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        keys.append(json.loads(created.stdout)["site_key"])
    return Store(path, keys)


UVICORN = [sys.executable, "-m", "uvicorn", "--no-access-log", "--log-level", "warning"]


def bare_command(work: Path, port: int) -> list[str]:
    (work / "bare_app.py").write_text(BARE_APP)
    return [*UVICORN, "--app-dir", str(work), "--port", str(port), "bare_app:app"]


def collector_command(store: Store, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "collector",
        "serve",
        "--port",
        str(port),
        "--database",
        store.url,
        "--metrics-token",
        METRICS_TOKEN,
    ]


def start_server(args: list[str], port: int) -> subprocess.Popen:
    """The server, its log in a file: a pipe nobody reads would fill up under wrk and block
    the server's writes."""
    log = tempfile.NamedTemporaryFile(prefix=f"bench-{port}-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        args, cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=log
    )
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/collect", content=b"{}", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(Path(log.name).read_text()[-4000:] or "no start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=60)


class Wrk:
    """One ``wrk -t1`` run in the background; :meth:`result` waits for it and parses it."""

    def __init__(self, port: int, script: Path, seconds: float, connections: int) -> None:
        self.process = subprocess.Popen(
            [
                *("wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"),
                *("-s", str(script), f"http://127.0.0.1:{port}/collect"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def done(self) -> bool:
        return self.process.poll() is not None

    def result(self) -> dict[str, float]:
        out, err = self.process.communicate()
        if self.process.returncode:
            raise RuntimeError(f"wrk failed: {err}")
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return {
            "requests": int(_find(r"(\d+) requests in", out)),
            "rps": float(_find(r"Requests/sec:\s+([\d.]+)", out)),
            "p50_ms": _latency(out, "50%"),
            "p99_ms": _latency(out, "99%"),
            "errors": int(errors.group(1)) if errors else 0,
        }


def run_wrk(port: int, script: Path, seconds: float, connections: int) -> dict[str, float]:
    return Wrk(port, script, seconds, connections).result()


def _find(pattern: str, out: str) -> str:
    found = re.search(pattern, out)
    if found is None:
        raise RuntimeError(f"wrk's output has no {pattern!r}: {out}")
    return found.group(1)


def _latency(out: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


@dataclass(frozen=True)
class Gauges:
    """One scrape of the collector's /metrics."""

    beacons: int  # answered (durable in the inbox)
    events: int  # events of the answered beacons
    pending: int  # answered and not enriched yet
    lag_s: float


_WANTED = {
    "clicktrail_beacons_total": "beacons",
    "clicktrail_events_total": "events",
    "clicktrail_inbox_pending": "pending",
    "clicktrail_inbox_lag_seconds": "lag_s",
}


def scrape(port: int) -> Gauges:
    answer = httpx.get(
        f"http://127.0.0.1:{port}/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=30,
    )
    answer.raise_for_status()
    values = {"beacons": 0.0, "events": 0.0, "pending": 0.0, "lag_s": 0.0}
    for line in answer.text.splitlines():
        name, _, value = line.partition(" ")
        if name in _WANTED:
            values[_WANTED[name]] = float(value)
    return Gauges(
        int(values["beacons"]), int(values["events"]), int(values["pending"]), values["lag_s"]
    )


def stored_rows(database: Path) -> tuple[int, int]:
    """(clicks, events sent) in the database of a stopped collector: the events the beacons
    carried (page views and clicks), not the ones enrichment derives (rage clicks)."""
    with sqlite3.connect(database) as connection:
        clicks = connection.execute("SELECT count(*) FROM clicks").fetchone()[0]
        events = connection.execute(
            "SELECT count(*) FROM events WHERE type IN ('page_view', 'click')"
        ).fetchone()[0]
    return clicks, events
