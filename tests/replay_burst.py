"""A burst of replay chunks that inflate to the chunk limit, sent to a real `clicktrail serve`
process, with its resident memory read from /proc before, during and after (the memory test
and bench/replay_burst.py)."""

from __future__ import annotations

import gzip
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from collector.ids import new_id
from tests.servers import CollectorProcess, clicktrail_cli, start_collector

CHUNK_LIMIT = 16 * 1024 * 1024


@dataclass
class Burst:
    statuses: list[int]
    retry_after: set[str]
    baseline_kb: int
    peak_kb: int
    after_kb: int


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def bomb(site_key: str, inflated: int = CHUNK_LIMIT - 1024) -> bytes:
    """A valid chunk of one event whose JSON is ``inflated`` bytes, gzip-compressed (~55 KB)."""
    now = time.time_ns() // 1_000_000
    envelope = {"k": site_key, "r": new_id(), "p": new_id(), "q": 0, "u": "https://shop.example/"}
    head = json.dumps(envelope).encode()[:-1] + b',"e":[{"type":5,"timestamp":%d,' % now
    head += b'"data":{"tag":"'
    tail = b'"}}]}'
    return gzip.compress(head + b"x" * (inflated - len(head) - len(tail)) + tail, 9)


def start(workdir: Path, database: str, *flags: str) -> tuple[CollectorProcess, str]:
    """`clicktrail serve` on ``database`` with a brand for shop.example; (process, site key)."""
    brand = clicktrail_cli(
        "brands", "create", "Burst", "--domain", "shop.example", database=database
    )
    process = start_collector("serve", database, workdir / "collector.log", *flags)
    return process, brand["site_key"]


class _PeakSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, rss_kb(pid), threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            self.peak = max(self.peak, rss_kb(self.pid))


def burst(url: str, pid: int, site_key: str, uploads: int = 32, settle_s: float = 3.0) -> Burst:
    """Send ``uploads`` bombs at once; RSS before, at the peak and ``settle_s`` after."""
    bodies = [bomb(site_key) for _ in range(uploads)]
    with httpx.Client(base_url=url, timeout=120) as http:
        warm = http.post("/collect/replay", content=bomb(site_key, 4096))  # code paths loaded
        assert warm.status_code == 204, warm.text
        time.sleep(0.5)
        baseline = rss_kb(pid)
        sampler = _PeakSampler(pid)
        sampler.start()
        with ThreadPoolExecutor(uploads) as pool:
            answers = list(pool.map(lambda b: http.post("/collect/replay", content=b), bodies))
        time.sleep(settle_s)
        sampler.done.set()
        sampler.join()
    return Burst(
        statuses=[a.status_code for a in answers],
        retry_after={a.headers.get("retry-after", "") for a in answers if a.status_code == 503},
        baseline_kb=baseline,
        peak_kb=sampler.peak,
        after_kb=rss_kb(pid),
    )
