"""`clicktrail demo`, as a newcomer meets it: start it, click around the demo page, and see
their own session in the panel within seconds."""

from __future__ import annotations

import pytest

from e2e.conftest import DESKTOP_UA
from tests.servers import start_collector

pytestmark = pytest.mark.e2e


def test_demo_page_shows_the_visitors_own_session(browser, tmp_path):
    demo = start_collector("demo", f"sqlite:///{tmp_path}/demo.db", tmp_path / "demo.log")
    url = demo.url
    try:
        assert "API key        ct_" in demo.log_path.read_text()
        context = browser.new_context(user_agent=DESKTOP_UA)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{url}/demo?utm_source=newsletter&utm_medium=email")
        page.click("#buy-now")
        page.click("#add-to-cart")
        page.click("#nav-pricing")
        page.wait_for_function(
            "() => document.querySelector('#session').textContent.includes('add_to_cart')",
            timeout=15_000,
        )
        summary = page.inner_text("#summary")
        panel = page.inner_text("#session")
        context.close()
    finally:
        demo.stop()
    assert errors == []
    assert "Chrome on Linux" in summary and "referrer: email" in summary
    assert '"type": "click"' in panel and "/demo/pricing" in panel
