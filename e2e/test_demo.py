"""`clicktrail demo`, as a newcomer meets it: start it, click around the demo page, and see
their own session in the panel within seconds."""

from __future__ import annotations

import subprocess
import sys

import pytest

from e2e.conftest import DESKTOP_UA, ROOT, free_port, wait_until_up

pytestmark = pytest.mark.e2e


def test_demo_page_shows_the_visitors_own_session(browser, tmp_path):
    port = free_port()
    log_path = tmp_path / "demo.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "collector",
                "demo",
                "--port",
                str(port),
                "--database",
                f"sqlite:///{tmp_path}/demo.db",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log_path)
        assert "API key        ct_" in log_path.read_text()
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
        process.terminate()
        process.wait(timeout=20)
    assert errors == []
    assert "Chrome on Linux" in summary and "referrer: email" in summary
    assert '"type": "click"' in panel and "/demo/pricing" in panel
