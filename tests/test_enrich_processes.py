"""``--enrich-processes 2`` gives the product behaviour of enrichment in the collector's own
process, through a real ``clicktrail serve``: a page view is built in a child (user agent,
referrer, session), a brand setting changed through the API reaches the children before their
brand cache would expire, and a webhook destination made through the API gets the clickstream
item of a page view built in a child. While enrichment keeps up, the children yield the CPU to
the door (``SCHED_IDLE``), and the door's process keeps its priority.

Beacons are sent one at a time, each read back before the next: each is then a batch of its own,
and the batches go to the two children in turn, so two warm-up beacons give both children a
cache to keep (or drop)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.brands.cache import _TTL_SECONDS
from collector.inbox.process import BEHIND_S, CAUGHT_UP_S, yields_cpu
from collector.ops.tuning import may_yield_cpu
from collector.webhooks.feed import REFRESH_SECONDS
from tests.appkit import make_beacon
from tests.servers import CollectorProcess, clicktrail_cli, start_collector
from tests.webhook_receiver import receiving

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
RECEIVER_HOST = "127.0.0.2"  # the only loopback address the collector may deliver to


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CollectorProcess, str]]:
    workdir = tmp_path_factory.mktemp("enrich-processes")
    database = f"sqlite:///{workdir / 'clicktrail.db'}"
    clicktrail_cli("brands", "create", "warm-up", "--domain", "shop.example", database=database)
    flags = ("--enrich-processes", "2", "--webhook-networks", f"{RECEIVER_HOST}/32")
    started = start_collector("serve", database, workdir / "collector.log", *flags)
    try:
        yield started, database
    finally:
        started.stop()


class Site:
    """A fresh brand of the running collector: its beacons and its API."""

    def __init__(self, collector: tuple[CollectorProcess, str], name: str) -> None:
        process, database = collector
        brand = clicktrail_cli(
            "brands", "create", name, "--domain", "shop.example", database=database
        )
        self.url, self.site_key = process.url, brand["site_key"]
        self.brand_url = f"{process.url}/api/brands/{brand['id']}"
        self.api = httpx.Client(
            base_url=self.brand_url,
            headers={"EF-Access-Key": brand["api_key"]},
            timeout=5,
        )

    def page_view(self, **overrides: Any) -> dict[str, Any]:
        """Send a page view from Chrome; the beacon sent (``p``: the click id)."""
        beacon = make_beacon(self.site_key, **overrides)
        sent = httpx.post(
            self.url + "/collect",
            content=json.dumps(beacon),
            headers={"user-agent": CHROME, "accept-language": "en-GB"},
        )
        assert sent.status_code == 204, sent.text
        return beacon

    def click(self, click_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The stored click (each read waits for enrichment; polled in case it is slower)."""
        deadline = time.monotonic() + timeout
        while (found := self.api.get(f"/clicks/{click_id}")).status_code == 404:
            assert time.monotonic() < deadline, f"click {click_id} never stored"
            time.sleep(0.05)
        assert found.status_code == 200, found.text
        return found.json()

    def stored_page_view(self, **overrides: Any) -> dict[str, Any]:
        return self.click(self.page_view(**overrides)["p"])


def test_a_page_view_is_enriched_in_a_child(collector: tuple[CollectorProcess, str]) -> None:
    site = Site(collector, "enriched")
    beacon = site.page_view()
    click = site.click(beacon["p"])
    assert click["browser"]["name"] == "Chrome" and click["browser"]["version"].startswith("124.")
    assert click["os"]["name"] == "Windows"
    assert click["referrer"]["type"] == "search" and click["referrer"]["name"] == "Google"
    assert click["ip_address"] == "127.0.0.1" and click["session_id"] == beacon["s"]
    # The next page of the same visit: placed in the same session, whichever child builds it.
    next_page = site.stored_page_view(v=beacon["v"], s=beacon["s"], u="https://shop.example/b")
    assert next_page["session_id"] == beacon["s"] and next_page["url"] == "https://shop.example/b"


def test_a_brand_setting_changed_through_the_api_reaches_the_children(
    collector: tuple[CollectorProcess, str],
) -> None:
    site = Site(collector, "private")
    started = time.monotonic()
    before = [site.stored_page_view() for _ in range(2)]  # each child now caches the brand
    changed = site.api.patch(site.brand_url, json={"settings": {"ip_mode": "truncated"}})
    assert changed.status_code == 200, changed.text
    after = [site.stored_page_view() for _ in range(2)]  # one built in each child
    # Well within the cache's life: only the change's news can explain the stored addresses.
    assert time.monotonic() - started < _TTL_SECONDS / 2
    assert [click["ip_address"] for click in before] == ["127.0.0.1", "127.0.0.1"]
    assert [click["ip_address"] for click in after] == ["127.0.0.0", "127.0.0.0"]


def test_a_new_webhook_destination_gets_a_page_view_built_in_a_child(
    collector: tuple[CollectorProcess, str],
) -> None:
    site = Site(collector, "hooked")
    with receiving(host=RECEIVER_HOST) as receiver:
        started = time.monotonic()
        for _ in range(2):  # each child now knows the brand has no destination
            site.stored_page_view()
        made = site.api.post(
            "/webhooks", json={"url": receiver.url + "/in", "events": ["pageview"]}
        )
        assert made.status_code == 201, made.text
        click_id = site.page_view()["p"]
        site.click(click_id)
        # Before the children read the destinations again on their own.
        assert time.monotonic() - started < REFRESH_SECONDS
        assert receiver.wait_for(lambda: click_id in receiver.delivered_ids(), timeout=15)
    delivered = {item["id"]: item for item in receiver.delivered_items()}
    assert delivered[click_id]["type"] == "pageview"


def _enrichment_processes(parent: int) -> list[int]:
    """The pids of ``parent``'s enrichment processes (spawned; not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            spawned = b"spawn_main" in (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and spawned:
            found.append(int(entry.name))
    return found


def _policies(pid: int) -> set[int]:
    return {os.sched_getscheduler(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


def test_the_children_yield_the_cpu_to_the_door_while_enrichment_keeps_up(
    collector: tuple[CollectorProcess, str],
) -> None:
    site = Site(collector, "quiet")
    for _ in range(2):  # a batch for each child
        site.stored_page_view()
    door = collector[0].process.pid
    children = _enrichment_processes(door)
    assert len(children) == 2
    background = os.SCHED_IDLE if may_yield_cpu() else os.SCHED_OTHER
    assert [_policies(child) for child in children] == [{background}, {background}]
    assert _policies(door) == {os.SCHED_OTHER}
    metrics = httpx.get(f"{site.url}/metrics", headers=site.api.headers).text
    assert f"clicktrail_enrichment_background {int(may_yield_cpu())}" in metrics.splitlines()


def test_the_children_take_their_priority_back_once_enrichment_falls_behind() -> None:
    behind, between, caught_up = BEHIND_S + 0.1, (BEHIND_S + CAUGHT_UP_S) / 2, CAUGHT_UP_S / 2
    assert not yields_cpu(behind, yielding=True, may_yield=True)
    assert not yields_cpu(between, yielding=False, may_yield=True)  # not until caught up
    assert yields_cpu(between, yielding=True, may_yield=True)  # not until behind
    assert yields_cpu(caught_up, yielding=False, may_yield=True)
    assert not yields_cpu(caught_up, yielding=False, may_yield=False)  # could not come back


SWITCH_THREADS = """
import os, threading
from collector.ops.tuning import run_in_background

def policies():
    return sorted({os.sched_getscheduler(int(tid)) for tid in os.listdir("/proc/self/task")})

idle = threading.Event()
threading.Thread(target=idle.wait, daemon=True).start()
assert run_in_background(True)
threading.Thread(target=idle.wait, daemon=True).start()  # started in the background: inherits
print(len(os.listdir("/proc/self/task")), policies())
assert run_in_background(False)
print(policies())
"""


@pytest.mark.skipif(not may_yield_cpu(), reason="needs root, CAP_SYS_NICE or RLIMIT_NICE 20")
def test_every_thread_of_a_process_goes_to_the_background_and_back() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", SWITCH_THREADS], capture_output=True, text=True, check=True
    )
    assert ran.stdout.split("\n")[:2] == [f"3 [{os.SCHED_IDLE}]", f"[{os.SCHED_OTHER}]"]
