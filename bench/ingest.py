"""Ingest benchmark: /collect against a bare Starlette endpoint, same server settings, same run.

Both servers run as `uvicorn` subprocesses with one worker; `wrk` (Debian package) drives them
from the other core with POST bodies made unique per request: each request is a new page load,
and every fifth comes from a new visitor whose id was minted at that moment, as the tracker
does on a first visit.
The collector answers only after its group commit, so every answered beacon is durable.

    python bench/ingest.py            # full run (20 s per case)
    python bench/ingest.py --smoke    # a 2-second check that it all still runs (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collector.ids import ALPHABET, new_id  # noqa: E402

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def collect(request):
    await request.body()
    return Response(status_code=204)

app = Starlette(routes=[Route("/collect", collect, methods=["POST"])])
"""

LUA = r"""
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


def beacon_template(site_key: str, events: int) -> str:
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


def start_server(args: list[str], port: int, env: dict[str, str] | None = None):
    """The server, its log (a line per request) in a file: a pipe nobody reads would fill up
    under wrk and block the server's writes."""
    log = tempfile.NamedTemporaryFile(prefix=f"bench-{port}-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=log,
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
    process.wait(timeout=30)


def run_wrk(port: int, script: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/collect",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": _latency(out, "50%"),
        "p99_ms": _latency(out, "99%"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def _latency(out: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def write_script(path: Path, template: str) -> Path:
    prefix = new_id()[:10]
    path.write_text(LUA % {"alphabet": ALPHABET, "template": template, "prefix": prefix})
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="2-second runs, for CI")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=64)
    options = parser.parse_args()
    seconds = 2 if options.smoke else options.seconds
    if shutil.which("wrk") is None:
        sys.exit("bench/ingest.py needs wrk: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="clicktrail-bench-"))
    database = f"sqlite:///{work}/bench.db"
    brand = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "collector",
                "brands",
                "create",
                "bench",
                "--database",
                database,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    (work / "bare_app.py").write_text(BARE_APP)
    uvicorn = [sys.executable, "-m", "uvicorn", "--no-access-log", "--log-level", "warning"]

    results = {}
    for name, events in (("single", 1), ("batch20", 20)):
        script = write_script(work / f"{name}.lua", beacon_template(brand["site_key"], events))
        port = 18_700 + events
        bare = start_server(
            [*uvicorn, "--app-dir", str(work), "--port", str(port), "bare_app:app"], port
        )
        base = run_wrk(port, script, seconds, options.connections)
        stop(bare)
        ours = start_server(
            [
                sys.executable,
                "-m",
                "collector",
                "serve",
                "--port",
                str(port + 100),
                "--database",
                database,
            ],
            port + 100,
        )
        mine = run_wrk(port + 100, script, seconds, options.connections)
        stop(ours)
        results[name] = (events, base, mine)

    print(f"ingest benchmark ({seconds}s per case, {options.connections} connections, wrk -t1)")
    print(
        f"{'case':<10}{'server':<12}{'req/s':>10}{'events/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}"
    )
    for name, (events, base, mine) in results.items():
        for label, r in (("bare", base), ("clicktrail", mine)):
            print(
                f"{name:<10}{label:<12}{r['rps']:>10.0f}{r['rps'] * events:>11.0f}"
                f"{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['errors']:>8}"
            )
        print(f"{name:<10}{'ratio':<12}{mine['rps'] / base['rps']:>10.2f}")
    single_ratio = results["single"][2]["rps"] / results["single"][1]["rps"]
    batch_events = results["batch20"][2]["rps"] * 20
    print(f"goal single-event ratio >= 0.70: {single_ratio:.2f}")
    print(f"goal batched events/s >= 50,000: {batch_events:,.0f}")
    shutil.rmtree(work, ignore_errors=True)
    if any(r[2]["errors"] for r in results.values()):
        sys.exit("the collector answered some beacons with an error")


if __name__ == "__main__":
    main()
