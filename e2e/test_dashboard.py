"""The dashboard in real Chromium over a fresh database with traffic of known composition
(e2e/dashboard_kit.py): sign in, the overview's figures equal what was sent, a country row
narrows everything, a session's lead opens its replay at that second, a short link's QR code,
an API key made and revoked, sign-out, and a viewer kept out of admin pages and actions.
Screenshots of every page at 1280 and 375 px go to e2e/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from e2e.conftest import static_site
from e2e.dashboard_kit import World, sign_in, start_world

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WIDTHS = (1280, 375)


@pytest.fixture(scope="module")
def world(tmp_path_factory, browser) -> Iterator[World]:
    yield from start_world(tmp_path_factory.mktemp("dashboard"), browser)


@pytest.fixture
def admin(world: World, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, world.url, world.admin["email"], world.admin["password"])
    yield page
    context.close()
    assert not errors, errors


def figure(page, label: str) -> str:
    item = page.locator(
        ".figure", has=page.locator(".figure-label", has_text=re.compile(f"^{label}$"))
    )
    return item.locator(".figure-value").inner_text().strip()


def overview_ready(page) -> None:
    page.wait_for_selector(".figures")
    page.wait_for_function("() => !document.querySelector('[aria-busy=true]')")


def shoot(page, name: str) -> None:
    """Screenshots of the current page at each width (full page)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(400)
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_overview_shows_what_was_sent_and_a_country_narrows_it(world: World, admin) -> None:
    admin.goto(f"{world.url}/?interval=24h")
    overview_ready(admin)
    sent = world.expected
    assert figure(admin, "Visitors") == str(sent.visitors)
    assert figure(admin, "Page views") == str(sent.pageviews)
    assert figure(admin, "Sessions") == str(sent.visitors)
    assert figure(admin, "Bounce rate") == f"{round(100 * sent.bounces / sent.visitors)}%"
    assert figure(admin, "Leads") == str(sent.leads)
    assert figure(admin, "Sales") == str(sent.sales)
    assert figure(admin, "Revenue") == f"{sent.revenue_minor / 100:.2f}"
    assert admin.locator(".chart-canvas canvas").count() == 1
    admin.get_by_role("button", name="Show as table").click()
    assert admin.get_by_role("table", name="Page views and visitors").count() == 1
    shoot(admin, "overview")

    countries = admin.get_by_role("region", name="Countries")
    with admin.expect_download() as download:
        countries.get_by_role("button", name="Download Countries as CSV").click()
    csv = Path(download.value.path()).read_text().splitlines()
    assert csv[0] == "Countries,views,leads,sales,revenue"
    shown = {row.split(",")[0]: int(row.split(",")[1]) for row in csv[1:]}
    assert shown == {code: row["pageviews"] for code, row in sent.by_country.items()}

    admin.get_by_role("button", name=re.compile("visitors in the last 30 min")).click()
    realtime = admin.locator("#realtime-list")
    realtime.get_by_role("link", name=world.replay_session).wait_for()
    assert realtime.get_by_role("link").count() == sent.visitors

    countries.get_by_role("button", name="United Kingdom").click()
    admin.wait_for_url(re.compile(r"country=GB"))
    overview_ready(admin)
    gb = sent.by_country["GB"]
    assert figure(admin, "Visitors") == str(gb["visitors"])
    assert figure(admin, "Page views") == str(gb["pageviews"])
    assert countries.get_by_role("button", name="United States").count() == 0
    assert admin.get_by_role("button", name=re.compile("Remove filter Country GB")).count() == 1
    shoot(admin, "overview-filtered")
    admin.get_by_role("button", name=re.compile("Remove filter Country")).click()
    admin.wait_for_url(lambda url: "country=" not in url)
    overview_ready(admin)
    assert figure(admin, "Visitors") == str(sent.visitors)


def test_a_custom_range_and_the_bot_switch_are_in_the_url(world: World, admin) -> None:
    admin.goto(f"{world.url}/")
    overview_ready(admin)
    admin.get_by_label("Date range").select_option("custom")
    today = date.today()
    admin.get_by_role("textbox", name="From").fill((today - timedelta(days=1)).isoformat())
    admin.get_by_role("textbox", name="To").fill(today.isoformat())
    admin.get_by_role("button", name="Apply").click()
    admin.wait_for_url(re.compile(r"start=\d{4}-\d\d-\d\d&end=\d{4}-\d\d-\d\d"))
    overview_ready(admin)
    assert figure(admin, "Visitors") == str(world.expected.visitors)
    admin.get_by_role("switch", name="Include bots").check()
    admin.wait_for_url(re.compile("bots=include"))
    overview_ready(admin)
    assert int(figure(admin, "Visitors")) >= world.expected.visitors


def test_a_failed_panel_says_so_and_retries(world: World, admin) -> None:
    """An answer that never comes is an error with a Retry button, not an endless skeleton."""
    countries_call = re.compile(r"/api/brands/\d+/analytics\?.*groupBy=countries")
    admin.route(countries_call, lambda route: route.abort("connectionrefused"))
    admin.goto(f"{world.url}/?interval=24h")
    countries = admin.get_by_role("region", name="Countries")
    countries.get_by_role("alert").wait_for()
    assert "could not be reached" in countries.get_by_role("alert").inner_text()
    admin.unroute(countries_call)
    countries.get_by_role("button", name="Retry").click()
    countries.get_by_role("button", name="United Kingdom").wait_for()


def test_the_keyboard_alone_reaches_a_row_and_filters_by_it(world: World, admin) -> None:
    """Tab from the top of the page to the United Kingdom row (its focus ring drawn), Enter."""
    admin.goto(f"{world.url}/?interval=24h")
    overview_ready(admin)
    for _ in range(120):
        admin.keyboard.press("Tab")
        if admin.evaluate("() => document.activeElement.textContent.trim()") == "United Kingdom":
            break
    focused = admin.evaluate(
        "() => [document.activeElement.textContent.trim(),"
        " getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused == ["United Kingdom", "solid"], focused
    admin.keyboard.press("Enter")
    admin.wait_for_url(re.compile(r"country=GB"))


def test_a_sessions_lead_opens_the_replay_at_that_second(world: World, admin) -> None:
    admin.goto(f"{world.url}/sessions?interval=24h")
    admin.wait_for_selector("table")
    rows = admin.locator("tbody tr")
    assert rows.count() == world.expected.visitors
    shoot(admin, "sessions")
    admin.get_by_role("link", name=world.replay_session).click()
    admin.wait_for_url(re.compile(f"/sessions/{world.replay_session}"))
    admin.wait_for_function("() => window.dashboard && window.dashboard.opened === 1")
    admin.get_by_role("button", name=re.compile("^Lead at")).click()
    admin.wait_for_function("() => window.dashboard.opened === 2")
    frame = admin.frame_locator("iframe[title='Session replay']")
    assert frame.locator("body").count() == 1
    with world.api() as api:
        events = api.get(f"/clicks/session/{world.replay_session}").json()
        lead_at = next(e for e in events["events"] if e["type"] == "lead")["timestamp"]
        replay_id = admin.evaluate("() => window.dashboard.replayId")
        first_ms = api.get(f"/replays/{replay_id}/index").json()["first_event_ms"]
    expected_ms = _epoch_ms(lead_at) - first_ms
    # a lead past the recording's end (a seed whose replay lost its tail) is said, not shown
    expect(admin.locator(".replay [role=status]")).to_have_text(re.compile("^Replay at"))
    viewer_frame = next(f for f in admin.frames if "/replay/" in f.url)
    # the viewer seeks once the replay's window has loaded: on a busy machine, a moment later
    viewer_frame.wait_for_function(
        "expected => window.viewer && Math.abs(window.viewer.currentMs() - expected) < 1000",
        arg=expected_ms,
        timeout=15_000,
    )
    at = viewer_frame.evaluate("() => window.viewer.currentMs()")
    assert abs(at - expected_ms) < 1000, (at, expected_ms)
    admin.wait_for_timeout(500)
    shoot(admin, "session")
    # the pricing page's view is in the same replay: the open viewer seeks back, no reload
    admin.get_by_role("button", name=re.compile("^Page view at")).last.click()
    admin.wait_for_function("() => window.dashboard.opened === 3")
    assert admin.evaluate("() => window.dashboard.replayId") == replay_id
    assert viewer_frame.evaluate("() => window.viewer.currentMs()") < at


def test_a_short_link_is_made_and_its_qr_code_downloaded(world: World, admin) -> None:
    admin.goto(f"{world.url}/links")
    admin.get_by_label("Destination URL").fill("https://beans.example/spring")
    admin.get_by_role("button", name="Create").click()
    admin.wait_for_selector("text=Created")
    row = admin.locator("tbody tr", has_text="https://beans.example/spring")
    row.wait_for()
    with admin.expect_download() as download:
        row.get_by_role("button", name=re.compile("Download the QR code")).click()
    path = download.value.path()
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shoot(admin, "links")


def test_an_api_key_is_made_shown_once_and_revoked(world: World, admin) -> None:
    admin.goto(f"{world.url}/settings")
    admin.get_by_role("button", name="Create a key").click()
    key = admin.locator("#new-key").inner_text().strip()
    url = f"{world.url}/api/brands/{world.brand['id']}"
    assert httpx.get(url, headers={"EF-Access-Key": key}).status_code == 200
    admin.wait_for_selector("text=Revoke")
    shoot(admin, "settings")
    admin.once("dialog", lambda dialog: dialog.accept())
    keys = admin.get_by_role("region", name="API keys").locator("tbody tr td:first-child")
    prefixes = [text.rstrip("…") for text in keys.all_inner_texts()]
    prefix = next(p for p in prefixes if key.startswith(p))
    admin.get_by_role("button", name=f"Revoke key {prefix}").click()
    admin.wait_for_function(
        "p => ![...document.querySelectorAll('td')].some(td => td.textContent.startsWith(p))",
        arg=prefix,
    )
    assert httpx.get(url, headers={"EF-Access-Key": key}).status_code == 401


def test_other_pages_render(world: World, admin) -> None:
    for path, name, ready in (
        ("/replays?interval=24h", "replays", "tbody tr"),
        ("/conversions?interval=24h&step=page:/pricing*&step=lead", "conversions", "table"),
    ):
        admin.goto(world.url + path)
        admin.wait_for_selector(ready)
        admin.wait_for_function("() => !document.querySelector('[aria-busy=true]')")
        shoot(admin, name)


def test_a_cross_site_form_post_is_refused(world: World, admin, tmp_path) -> None:
    """A page of another site posts a form to /logout in the signed-in browser: refused, and
    the session goes on."""
    form = f"""<!doctype html><form method="post" action="{world.url}/logout">
    <input type="hidden" name="csrf_token" value="guess"></form>
    <script>document.forms[0].submit()</script>"""
    (tmp_path / "evil.html").write_text(form)
    with static_site(tmp_path) as site:
        answer = admin.goto(f"{site}/evil.html")
        admin.wait_for_load_state("load")
        admin.wait_for_timeout(500)
    assert answer is not None
    admin.goto(world.url + "/")
    assert "/login" not in admin.url
    overview_ready(admin)


def test_sign_out_goes_back_to_the_sign_in_page(world: World, admin) -> None:
    admin.set_viewport_size({"width": 390, "height": 844})
    admin.goto(world.url + "/")
    admin.get_by_role("button", name="Sign out").click()
    admin.wait_for_url(re.compile("/login"))
    admin.goto(world.url + "/")
    assert "/login" in admin.url


def test_a_viewer_cannot_reach_admin_pages_or_actions(world: World, browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, world.url, world.viewer["email"], world.viewer["password"])
    assert (
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").count()
        == 0
    )
    page.goto(world.url + "/settings")
    page.wait_for_selector("text=Settings are for admins")
    page.goto(world.url + "/links")
    page.wait_for_selector("table, .empty")
    assert page.get_by_role("button", name="Create").count() == 0
    status = page.evaluate(
        """async (brand) => {
          const token = document.querySelector('meta[name="csrf-token"]').content;
          const answer = await fetch(`/api/brands/${brand}/keys`, {method: 'POST',
            headers: {'X-CSRF-Token': token, 'Content-Type': 'application/json'},
            body: JSON.stringify({scope: 'admin'})});
          const patch = await fetch(`/api/brands/${brand}`, {method: 'PATCH',
            headers: {'X-CSRF-Token': token, 'Content-Type': 'application/json'},
            body: JSON.stringify({name: 'Mine'})});
          return [answer.status, patch.status];
        }""",
        world.brand["id"],
    )
    assert status == [403, 403]
    context.close()


def _epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
