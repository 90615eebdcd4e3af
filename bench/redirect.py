"""Short-link redirect benchmark: ``GET /g/{code}`` of the real collector against a bare Starlette
endpoint that answers a 302, in the same run, under the same uvicorn command line.

The collector (SQLite, WAL) is the app `clicktrail serve` runs (``create_app`` of the settings),
with a brand made by the CLI and a link made through the API; it answers each redirect only
once the click is committed by the group-commit writer. The bare endpoint answers a
``RedirectResponse`` to the same destination. Both run as ``python -m uvicorn`` with the flags
of :data:`UVICORN`: the same loop, HTTP implementation, log level, no access log, one worker.
The collector trusts loopback as its proxy, so every request (``bench/redirect_load.py``) is a
new visitor, named by ``X-Forwarded-For``.

1. Rate: closed-loop rounds, alternating bare, collector, bare, collector...; each collector
   round against the bare round before it; the median ratio against the goal (0.6).
2. Latency at a fixed 1,000 requests/s (open loop, from each request's scheduled time): p50 and
   p99 against the goal (p99 < 25 ms), the bare endpoint alongside.
3. Every answered redirect is stored: the clicks the API counts afterwards against the 302s the
   client received from the collector, in all phases (warm-up included).

    python bench/redirect.py            # full run (5 pairs of 10 s rounds, 20 s at 1,000/s)
    python bench/redirect.py --smoke    # a few seconds, to prove it runs (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import redirect_load
from redirect_load import Tally, closed_loop, open_loop

ROOT = Path(__file__).resolve().parents[1]
OPEN_LOOP_CONNECTIONS = 64
RATIO_GOAL = 0.6
P99_GOAL_MS = 25.0
DESTINATION = "https://shop.example/winter-sale?ref=go"
# What `clicktrail serve` gives uvicorn (collector/cli/serve.py), with the loop and the HTTP
# implementation named rather than left to "auto".
UVICORN = (
    *("--loop", "uvloop", "--http", "httptools", "--workers", "1"),
    *("--log-level", "info", "--no-access-log", "--no-proxy-headers"),
)
BARE_APP = f"""
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route

async def go(request):
    return RedirectResponse({DESTINATION!r}, status_code=302)

app = Starlette(routes=[Route("/g/{{code}}", go)])
"""
# The collector as `clicktrail serve` builds it; settings from CLICKTRAIL_* variables.
COLLECTOR_APP = """
from collector.app import create_app
from collector.config import load_settings

app = create_app(load_settings())
"""


class Server:
    """One app under ``python -m uvicorn`` with :data:`UVICORN`, on a port of its own."""

    def __init__(self, work: Path, module: str, port: int, env: dict[str, str]) -> None:
        self.port = port
        self.log = work / f"{module}.log"
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "uvicorn", *UVICORN, "--port", str(port)),
                    *("--app-dir", str(work), f"{module}:app"),
                ],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/g/-", timeout=1)
                return
            except httpx.HTTPError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        self.process.kill()
        raise RuntimeError(self.log.read_text()[-2000:])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_brand(database: str) -> dict:
    """A brand, made by the CLI (with its admin key)."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "collector", "brands", "create", "redirect-bench"),
            *("--domain", "shop.example", "--database", database),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def create_link(collector: Server, brand: dict) -> str:
    """A short link to :data:`DESTINATION`, made through the API: its code."""
    answer = httpx.post(
        f"{collector.url}/api/brands/{brand['id']}/short-links/generate",
        headers={"X-Api-Key": brand["api_key"]},
        json={"destination_url": DESTINATION},
    )
    answer.raise_for_status()
    return answer.json()["code"]


def stored_clicks(collector: Server, brand: dict, code: str) -> tuple[int, int]:
    """(clicks of the brand, clicks of the link), as the API counts them."""
    headers = {"X-Api-Key": brand["api_key"]}
    api = f"{collector.url}/api/brands/{brand['id']}"
    total = httpx.get(f"{api}/clicks?per_page=1", headers=headers).raise_for_status().json()
    link = httpx.get(f"{api}/short-links/{code}", headers=headers).raise_for_status().json()
    return total["total"], link["clicks"]


class Load:
    """Runs loads on ``path`` in a child process (so on the other core), every request a new
    visitor across runs, counting the 302s the collector answers."""

    def __init__(self, path: str, collector: Server) -> None:
        self._pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
        self._path = path
        self._collector = collector
        self._visitor = 1
        self.collector_302s = 0

    def _run(self, server: Server, function, *args) -> Tally:
        tally: Tally = self._pool.submit(
            redirect_load.run, function, server.port, self._path, self._visitor, *args
        ).result()
        self._visitor += tally.answered
        if server is self._collector:
            self.collector_302s += tally.statuses[302]
        return tally

    def rate(self, server: Server, seconds: float, connections: int) -> Tally:
        return self._run(server, closed_loop, seconds, connections)

    def fixed_rate(self, server: Server, seconds: float, rate: int) -> Tally:
        return self._run(server, open_loop, seconds, rate, OPEN_LOOP_CONNECTIONS)

    def close(self) -> None:
        self._pool.shutdown()


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def _failures(tally: Tally) -> int:
    """Answers that are not the 302 both servers should give."""
    return tally.answered - tally.statuses[302]


def rate_rounds(options: argparse.Namespace, load: Load, bare: Server, ours: Server) -> bool:
    """Alternating closed-loop rounds; prints each and the median ratio. True if all were 302."""
    print(
        f"1. rate: {options.rounds} pairs of {options.seconds:g} s rounds,"
        f" {options.connections} keep-alive connections"
    )
    print(f"{'round':<7}{'bare req/s':>12}{'redirect req/s':>16}{'ratio':>8}{'client CPU':>12}")
    load.rate(bare, min(options.seconds, 2), options.connections)  # warm-up
    load.rate(ours, min(options.seconds, 2), options.connections)
    ratios, clean = [], True
    for number in range(1, options.rounds + 1):
        base = load.rate(bare, options.seconds, options.connections)
        mine = load.rate(ours, options.seconds, options.connections)
        ratios.append(mine.rate / base.rate)
        clean = clean and not _failures(base) and not _failures(mine)
        print(
            f"{number:<7}{base.rate:>12,.0f}{mine.rate:>16,.0f}{ratios[-1]:>8.2f}"
            f"{max(base.client_cpu, mine.client_cpu) * 100:>11.0f}%"
        )
    ratio = statistics.median(ratios)
    verdict = "ok" if ratio >= RATIO_GOAL else "below"
    print(f"median ratio {ratio:.2f} (goal >= {RATIO_GOAL}): {verdict}")
    return clean


def latency(options: argparse.Namespace, load: Load, bare: Server, ours: Server) -> bool:
    """Open-loop latency at a fixed rate, bare then collector. True if all were 302."""
    print(
        f"2. latency at {options.rate:,} requests/s for {options.rate_seconds:g} s (open loop,"
        " from the scheduled send time)"
    )
    print(f"{'server':<10}{'answered':>10}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    clean = True
    for name, server in (("bare", bare), ("redirect", ours)):
        tally = load.fixed_rate(server, options.rate_seconds, options.rate)
        clean = clean and not _failures(tally)
        lat = tally.latencies
        print(
            f"{name:<10}{tally.answered:>10,}{_ms(lat, 0.5):>9.2f}{_ms(lat, 0.9):>9.2f}"
            f"{_ms(lat, 0.99):>9.2f}{_ms(lat, 1.0):>9.2f}"
        )
        if server is ours:
            p99 = _ms(lat, 0.99)
            verdict = "ok" if p99 < P99_GOAL_MS else "over"
            print(f"redirect p99 {p99:.2f} ms (goal < {P99_GOAL_MS:g} ms): {verdict}")
    return clean


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="a few seconds, for CI")
    parser.add_argument("--rounds", type=int, default=5, help="pairs of rate rounds")
    parser.add_argument("--seconds", type=float, default=10, help="per rate round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=int, default=1000, help="requests/s of the latency part")
    parser.add_argument("--rate-seconds", type=float, default=20)
    options = parser.parse_args()
    if options.smoke:
        options.rounds, options.seconds, options.rate_seconds = 1, 1.0, 1.0

    work = Path(tempfile.mkdtemp(prefix="clicktrail-redirect-"))
    database = f"sqlite:///{work}/bench.db"
    (work / "bare_app.py").write_text(BARE_APP)
    (work / "collector_app.py").write_text(COLLECTOR_APP)
    brand = make_brand(database)
    env = {
        "CLICKTRAIL_DATABASE": database,
        "CLICKTRAIL_TRUSTED_PROXIES": "127.0.0.1",
        "CLICKTRAIL_REPLAY_ASSETS_DIR": str(work / "assets"),
    }
    bare = Server(work, "bare_app", free_port(), {})
    ours = Server(work, "collector_app", free_port(), env)
    try:
        code = create_link(ours, brand)
        load = Load(f"/g/{code}", ours)
        try:
            clean = rate_rounds(options, load, bare, ours)
            clean = latency(options, load, bare, ours) and clean
        finally:
            load.close()
        stored, of_link = stored_clicks(ours, brand, code)
    finally:
        bare.stop()
        ours.stop()
    answered = load.collector_302s
    same = stored == answered == of_link
    print(
        f"3. stored clicks {stored:,} (the link's count: {of_link:,}); 302s the collector"
        f" answered {answered:,}: {'equal' if same else 'DIFFERENT'}"
    )
    shutil.rmtree(work, ignore_errors=True)
    if not same:
        sys.exit("the stored clicks differ from the redirects answered")
    if not clean:
        sys.exit("some answers were not 302")


if __name__ == "__main__":
    main()
