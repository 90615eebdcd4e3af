"""`clicktrail demo`, as a newcomer meets it: start it, see the dashboard URL, the demo sign-in and
the sample data's progress, click around the demo page, and read their own visit in the panel
within seconds, with a link into the dashboard. Screenshots of the panel at 1280 and 375 px go
to e2e/artifacts/."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from e2e.conftest import DESKTOP_UA
from tests.servers import ROOT, start_collector

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
GEO_DB = ROOT.parent / "shared" / "testdata" / "geoip" / "GeoIP2-City-Test.mmdb"
LONDON = "81.2.69.160"  # London, GB in MaxMind's test database (and in DB-IP's)
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _visit(browser, url: str, width: int, user_agent: str) -> dict:
    """Click around the demo page as a visitor from London; what the panel then shows."""
    context = browser.new_context(
        user_agent=user_agent,
        viewport={"width": width, "height": 900},
        extra_http_headers={"X-Forwarded-For": LONDON},
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url}/demo?utm_source=newsletter&utm_medium=email")
    # The link into the dashboard shows once it points at this visit's session, not before.
    hidden_until_known = page.evaluate(
        "() => getComputedStyle(document.querySelector('#actions')).display === 'none'"
    )
    page.click("#buy-now")
    page.click("#add-to-cart")
    page.click("#nav-pricing")
    page.wait_for_function(
        "() => document.querySelector('#timeline').textContent.includes('add_to_cart')"
        " && document.querySelector('#timeline').textContent.includes('/demo/pricing')",
        timeout=15_000,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#panel").screenshot(path=str(ARTIFACTS / f"demo-session-{width}.png"))
    seen = {
        "hidden_until_known": hidden_until_known,
        "errors": errors,
        "summary": page.inner_text("#summary"),
        "facts": page.inner_text("#visitor"),
        "rows": page.locator("#timeline li").all_inner_texts(),
        "dashboard": page.get_attribute("#open-dashboard", "href"),
        "raw": page.text_content("#session") or "",
    }
    context.close()
    return seen


def _wait_for_sample(url: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        status = httpx.get(f"{url}/demo/status").json()
        if status["state"] in ("done", "failed") or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_demo_page_shows_the_visitors_own_session(browser, tmp_path):
    demo = start_collector(
        "demo",
        f"sqlite:///{tmp_path}/demo.db",
        tmp_path / "demo.log",
        "--geoip-db",
        str(GEO_DB),
        "--trusted-proxies",
        "127.0.0.1",
    )
    url = demo.url
    try:
        desktop = _visit(browser, url, 1280, DESKTOP_UA)
        phone = _visit(browser, url, 375, PHONE_UA)
        status = _wait_for_sample(url)
        log = demo.log_path.read_text()
    finally:
        demo.stop()
    assert "API key        ct_" in log
    assert f"dashboard      {url}/" in log
    assert re.search(r"sign in +demo@example\.com +password [A-Za-z0-9_-]{20}\n", log)
    assert "sample data: done, 3,000 visits" in log
    assert status == {"state": "done", "done": 3000, "total": 3000}
    for seen in (desktop, phone):
        assert seen["errors"] == []
        assert seen["hidden_until_known"]
        assert "referrer: email" in seen["summary"]
        assert "London, GB" in seen["facts"] and "email" in seen["facts"]
        session_id = seen["summary"].split()[1]
        assert seen["dashboard"] == f"/sessions/{session_id}?brand=1"
        assert any("PAGE VIEW" in row.upper() for row in seen["rows"])
        assert any("“Start my subscription”" in row for row in seen["rows"])
        assert any("add_to_cart" in row for row in seen["rows"])
        assert '"type": "click"' in seen["raw"] and "/demo/pricing" in seen["raw"]
    assert "Chrome on Linux" in desktop["summary"] and "desktop" in desktop["facts"]
    assert "Mobile Safari on iOS" in phone["summary"] and "mobile" in phone["facts"]
    assert desktop["summary"].split()[1] != phone["summary"].split()[1]  # each their own
