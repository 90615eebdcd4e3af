"""The Settings page's clickstream webhooks panel in real Chromium (issue 13): an admin is told
why a loopback URL is refused, adds a destination at a real receiver on 127.0.0.2 (allowed by
this collector's ``--webhook-networks``) from the keyboard, sees its signing secret once (the
receiver's batch verifies with it), sees it listed and its delivery after a short-link click,
disables it and deletes it. Screenshots at 1280 and 375 px go to e2e/artifacts/."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from e2e.conftest import Collector
from e2e.dashboard_kit import sign_in
from tests.servers import start_collector
from tests.webhook_receiver import receiving

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
HOST = "127.0.0.2"  # the receiver's address: the one private network destinations may use


@pytest.fixture(scope="module")
def hooked(tmp_path_factory) -> Iterator[Collector]:
    workdir = tmp_path_factory.mktemp("dashboard-webhooks")
    database = f"sqlite:///{workdir}/clicktrail.db"
    running = start_collector(
        "serve", database, workdir / "collector.log", "--webhook-networks", f"{HOST}/32"
    )
    yield Collector(running.url, database)
    running.stop()


@pytest.fixture
def admin(hooked: Collector, browser):
    brand = hooked.cli("brands", "create", "Hooks", "--domain", "localhost")
    user = hooked.cli(
        "users", "create", "ada@example.com", "--brand", str(brand["id"]), "--role", "admin"
    )  # fmt: skip
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, hooked.url, user["email"], user["password"])
    yield page, hooked.api(brand)
    context.close()
    assert not errors, errors


def shoot(page, name: str) -> None:
    """Full-page screenshots at 1280 and 375 px; nothing may stick out sideways at 375."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(400)
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= width, f"the page is {overflow} px wide at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_destination_is_added_shown_once_disabled_and_deleted(admin) -> None:
    page, api = admin
    panel = page.get_by_role("region", name="Clickstream webhooks")
    page.goto(_origin(page) + "/settings")
    panel.get_by_text("No destination yet.").wait_for()

    # a loopback address other than the allowed one: refused next to the form, naming the URL
    page.get_by_label("URL", exact=True).fill("http://127.0.0.1:9/hook")
    panel.get_by_role("button", name="Add destination").click()
    refusal = panel.get_by_role("alert")
    refusal.wait_for()
    assert refusal.inner_text().startswith("URL: "), refusal.inner_text()
    url_field = page.get_by_label("URL", exact=True)
    assert url_field.get_attribute("aria-invalid") == "true"
    assert page.evaluate("() => document.activeElement.id") == "wh-url"
    shoot(page, "settings-webhooks-refused")

    with receiving(host=HOST) as got:
        hook_url = got.url + "/hook"
        # from the keyboard: type the URL, Tab to the method, the events, the header; Enter
        url_field.fill("")
        page.keyboard.type(hook_url)
        page.get_by_label("Method").select_option("PUT")
        panel.get_by_role("checkbox", name="Leads").uncheck()
        page.get_by_label("Auth header name (optional)").focus()
        page.keyboard.type("X-Hook-Auth")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.id") == "wh-header-value"
        page.keyboard.type("s3cret-value")
        page.keyboard.press("Enter")

        secret_box = page.locator("#new-webhook-secret")
        secret_box.wait_for()
        secret = secret_box.inner_text().strip()
        assert secret.startswith("whsec_")
        assert panel.get_by_text("It will not be shown again").count() == 1
        assert panel.get_by_role("alert").count() == 0
        item = panel.locator("li.webhook", has_text=hook_url)
        item.wait_for()
        assert "PUT" in item.inner_text()
        assert "click, pageview, sale" in item.inner_text()
        assert "Enabled" in item.inner_text()
        [listed] = api.get("/webhooks").json()
        assert listed["key"] in item.inner_text()
        assert listed["events"] == ["click", "pageview", "sale"]

        # a short-link click reaches the receiver, signed with the secret the page showed
        link = api.post("/short-links/generate", json={"destination_url": "https://example.com/"})
        code = link.json()["code"]
        assert httpx.get(f"{_origin(page)}/g/{code}").status_code == 302
        assert got.wait_for(lambda: len(got.delivered()) >= 1, 30)
        arrival = got.delivered()[0]
        Webhook(secret).verify(arrival.body, arrival.headers)
        assert arrival.headers["x-hook-auth"] == "s3cret-value"

        # its attempt in the Deliveries disclosure, opened from the keyboard
        item.locator("summary").focus()
        page.keyboard.press("Enter")
        deliveries = item.get_by_role("region", name=re.compile("delivery attempts"))
        _until(page, item, lambda: deliveries.count() == 1 and "Delivered" in item.inner_text())
        row = deliveries.locator("tbody tr").first.inner_text()
        assert "200" in row and "Delivered" in row, row
        shoot(page, "settings-webhooks")

    # the secret is gone once kept, and not shown again after a reload
    panel.get_by_role("button", name="I have kept it").click()
    assert page.locator("#new-webhook-secret").count() == 0
    page.reload()
    item.wait_for()
    assert page.locator("#new-webhook-secret").count() == 0

    # disable it: the panel and the API agree
    panel.get_by_role("button", name=f"Disable the destination {hook_url}").focus()
    page.keyboard.press("Enter")
    panel.get_by_role("button", name=f"Enable the destination {hook_url}").wait_for()
    assert "Disabled" in item.inner_text()
    assert api.get("/webhooks").json()[0]["enabled"] is False
    shoot(page, "settings-webhooks-disabled")

    # delete it, after the confirm
    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name=f"Delete the destination {hook_url}").click()
    panel.get_by_text("No destination yet.").wait_for()
    assert api.get("/webhooks").json() == []


def _origin(page) -> str:
    return re.match(r"https?://[^/]+", page.url).group(0)  # type: ignore[union-attr]


def _until(page, item, condition, timeout_s: float = 15) -> None:
    """Press the item's Refresh button until ``condition()`` holds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, item.inner_text()
        page.wait_for_timeout(300)
        item.get_by_role("button", name=re.compile("^Refresh the deliveries")).click()
