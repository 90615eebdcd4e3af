"""The Sessions page's "Export clicks (CSV)" button in real Chromium (issue 14): a viewer queues
an export of the range, sees it follow to done, and the browser saves the CSV, which is opened
and read: the header, one row per click sent, a formula cell neutralised. Screenshots at 1280
and 375 px go to e2e/artifacts/."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from collector.exports.csvfile import safe_text
from e2e.conftest import Collector
from e2e.dashboard_kit import sign_in
from e2e.test_dashboard_webhooks import shoot
from tests.appkit import CHROME_UA, make_beacon
from tests.servers import start_collector

pytestmark = pytest.mark.e2e
FORMULA = '=HYPERLINK("http://x")'


@pytest.fixture(scope="module")
def exporting(tmp_path_factory) -> Iterator[Collector]:
    workdir = tmp_path_factory.mktemp("dashboard-exports")
    database = f"sqlite:///{workdir}/clicktrail.db"
    running = start_collector(
        "serve", database, workdir / "collector.log", "--export-dir", str(workdir / "exports")
    )
    yield Collector(running.url, database)
    running.stop()


def _send_clicks(collector: Collector, site_key: str) -> list[str]:
    ids = []
    for sub1 in (FORMULA, "spring", "summer"):
        url = f"http://localhost/landing?{urlencode({'sub1': sub1})}"
        beacon = make_beacon(site_key, u=url)
        answer = httpx.post(
            f"{collector.url}/collect",
            json=beacon,
            headers={"user-agent": CHROME_UA, "content-type": "text/plain;charset=UTF-8"},
        )
        assert answer.status_code == 204, answer.text
        ids.append(beacon["p"])
    return ids


def test_the_sessions_page_exports_the_range_as_csv(exporting: Collector, browser, tmp_path: Path):
    brand = exporting.cli("brands", "create", "Exports", "--domain", "localhost")
    user = exporting.cli(
        "users", "create", "vi@example.com", "--brand", str(brand["id"]), "--role", "viewer"
    )  # fmt: skip
    sent = _send_clicks(exporting, brand["site_key"])
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, exporting.url, user["email"], user["password"])
    page.goto(f"{exporting.url}/sessions?brand={brand['id']}&interval=24h")
    button = page.get_by_role("button", name="Export clicks (CSV)")
    with page.expect_download(timeout=30_000) as saving:
        button.click()
    saved = tmp_path / saving.value.suggested_filename
    saving.value.save_as(saved)
    assert saved.name.startswith("clicks-") and saved.suffix == ".csv"
    status = page.get_by_role("status")
    status.filter(has_text="Exported 3 clicks.").wait_for()
    shoot(page, "sessions-export")
    table = list(csv.reader(io.StringIO(saved.read_text("utf-8"))))
    header = table[0]
    assert header[:3] == ["created_at", "id", "session_id"]
    assert sorted(row[1] for row in table[1:]) == sorted(sent)
    sub1 = sorted(row[header.index("sub1")] for row in table[1:])
    assert sub1 == sorted([safe_text(FORMULA), "spring", "summer"])
    assert safe_text(FORMULA) == "'" + FORMULA
    context.close()
    assert not errors, errors
