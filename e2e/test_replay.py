"""Session replay end to end in real Chromium: a visitor on a page with `data-replay="1"` moves,
scrolls, types and clicks; the API returns the replay in the seed's shape, the typed text is
stored nowhere, and the viewer opened from a share link shows the page as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import zstandard

from e2e.conftest import DESKTOP_UA, TESTDATA, static_site
from e2e.pixels import similarity
from e2e.recording import open_viewer, replay_of_page, wait_for

pytestmark = pytest.mark.e2e

SECRET = "hunter2-typed-secret"
VIEWPORT = {"width": 1000, "height": 700}
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Checkout</title>
<style>
  body {{ font: 16px/1.5 sans-serif; margin: 0; background: #f6f3ee; color: #222; }}
  header {{ background: #1f3a5f; color: #fff; padding: 24px 40px; }}
  main {{ padding: 24px 40px; }}
  .card {{ background: #fff; border-radius: 8px; padding: 20px; margin-bottom: 24px;
           box-shadow: 0 1px 3px rgba(0,0,0,.15); }}
  button {{ background: #c8502b; color: #fff; border: 0; padding: 12px 28px; font-size: 18px; }}
  .tall {{ height: 1600px; background: linear-gradient(#f6f3ee, #d9cbb8); }}
</style>
<script defer src="{collector}/t.js" data-site="{site_key}" data-replay="1"></script>
</head><body>
<header><h1>Spring offer checkout</h1></header>
<main>
  <div class="card"><label>Email <input id="email" name="email" type="text"></label></div>
  <div class="card"><button id="buy-now">Buy now</button></div>
  <div class="tall"></div>
</main>
</body></html>
"""


def _record_visit(context, site: str) -> bytes:
    """Visit, act, close the tab; returns a screenshot of the page as first shown."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with page.expect_response(lambda r: r.url.endswith("/collect/replay"), timeout=20_000):
        page.goto(f"{site}/checkout.html")
        page.wait_for_load_state("load")
        original = page.screenshot()
        page.mouse.move(200, 150)
        page.mouse.move(420, 260, steps=8)
    page.type("#email", SECRET, delay=20)
    page.click("#buy-now")
    page.mouse.wheel(0, 600)
    page.wait_for_timeout(600)
    page.close()  # pagehide: the recorder flushes its last chunk
    assert errors == []
    return original


def _stored_bytes(database: str) -> list[bytes]:
    """Every replay body the database holds, decompressed, plus every text cell of events."""
    path = database.removeprefix("sqlite:///")
    db = sqlite3.connect(path)
    blobs: list[bytes] = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for row in db.execute(f'SELECT * FROM "{table}"'):
            for cell in row:
                if isinstance(cell, bytes):
                    blobs.append(_maybe_zstd(cell))
                elif isinstance(cell, str):
                    blobs.append(cell.encode())
    db.close()
    return blobs


def _maybe_zstd(blob: bytes) -> bytes:
    if blob[:4] != b"\x28\xb5\x2f\xfd":
        return blob
    try:
        return zstandard.ZstdDecompressor().decompress(blob, max_output_size=1 << 28)
    except zstandard.ZstdError:
        return blob  # compressed with a dictionary: checked through the API instead


def test_a_recorded_visit_replays_from_a_share_link_and_keeps_no_typed_text(
    collector, browser, tmp_path
):
    brand = collector.cli("brands", "create", "Replay shop", "--domain", "localhost")
    html = PAGE.format(collector=collector.url, site_key=brand["site_key"])
    (tmp_path / "checkout.html").write_text(html)
    api = collector.api(brand)
    # The browser stays open while the tab closes, as for a visitor: its last beacons go out.
    visitor = browser.new_context(user_agent=DESKTOP_UA, viewport=VIEWPORT)
    with static_site(tmp_path) as site:
        original = _record_visit(visitor, site)

    clicks = wait_for(lambda: api.get("/clicks").json(), lambda b: b["total"] >= 1)
    session_id = clicks["data"][0]["session_id"]
    replays = wait_for(
        lambda: api.get("/replays", params={"session_id": session_id}).json(),
        lambda rows: len(rows) == 1,
    )
    replay_id = replays[0]["id"]
    replay = wait_for(
        lambda: api.get(f"/replays/{replay_id}").json(),
        lambda r: {"click", "scroll"} <= {e["type"] for e in r["events"]},
    )
    kinds = {e["type"] for e in replay["events"]}
    assert {"mousemove", "click", "scroll"} <= kinds
    click = next(e for e in replay["events"] if e["type"] == "click")
    assert click["target"] == "button#buy-now"
    assert max(e["scrollY"] for e in replay["events"] if e["type"] == "scroll") > 0
    assert (replay["viewport_width"], replay["viewport_height"]) == (1000, 700)
    assert replay["page_session_id"] == clicks["data"][0]["id"]
    visitor.close()

    # The typed text is stored nowhere: not in the raw stream, not in any table.
    raw = api.get(f"/replays/{replay_id}", params={"format": "rrweb"}).content
    assert SECRET.encode() not in raw
    assert not [blob for blob in _stored_bytes(collector.database) if SECRET.encode() in blob]

    link = api.post(f"/replays/{replay_id}/share").json()["url"]
    _check_viewer(browser, link, original, replay["duration_ms"])


def _check_viewer(browser, link: str, original: bytes, duration_ms: int) -> None:
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(link)
    page.wait_for_function("() => window.viewer && window.viewer.readyState === 'ready'")
    page.evaluate("() => window.viewer.seek(0)")
    page.wait_for_timeout(500)
    frame = page.locator("iframe").first
    assert "allow-scripts" not in (frame.get_attribute("sandbox") or "allow-scripts")
    replayed = frame.screenshot()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "replay-original.png").write_bytes(original)
    (ARTIFACTS / "replay-viewer-frame.png").write_bytes(replayed)
    page.screenshot(path=str(ARTIFACTS / "replay-viewer.png"))
    score = similarity(original, replayed)
    print(f"viewer frame vs original page: {score:.3f} of pixels alike")
    assert score > 0.9

    page.evaluate(f"() => window.viewer.seek({duration_ms})")
    page.wait_for_timeout(500)
    at = page.evaluate("() => window.viewer.currentTime()")
    assert at >= duration_ms - 50
    assert errors == []
    context.close()


STYLED_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Styled</title>
<link rel="stylesheet" href="{css_origin}/brand.css">
<script defer src="{collector}/t.js" data-site="{site_key}" data-replay="1"></script>
</head><body><header id="banner">Autumn sale</header><p>Everything must go.</p></body></html>
"""
BRAND_CSS = "#banner { background: rgb(10, 120, 60); color: #fff; height: 300px; }"


def test_a_cross_origin_stylesheet_still_styles_the_replay_after_the_site_deletes_it(
    collector, browser, tmp_path
):
    brand = collector.cli("brands", "create", "Styled shop", "--domain", "localhost")
    api = collector.api(brand)
    pages, styles = tmp_path / "pages", tmp_path / "styles"
    pages.mkdir()
    styles.mkdir()
    (styles / "brand.css").write_text(BRAND_CSS)
    with static_site(styles, host="127.0.0.1") as css_origin, static_site(pages) as site:
        (pages / "styled.html").write_text(
            STYLED_PAGE.format(
                css_origin=css_origin, collector=collector.url, site_key=brand["site_key"]
            )
        )
        visitor = browser.new_context(user_agent=DESKTOP_UA, viewport=VIEWPORT)
        page = visitor.new_page()
        with page.expect_response(lambda r: r.url.endswith("/collect/replay"), timeout=20_000):
            page.goto(f"{site}/styled.html")
        page_session = page.evaluate("window.clicktrail._r.p()")
        page.close()
        replay = replay_of_page(api, page_session)
        stored = wait_for(
            lambda: (
                api.get(
                    f"/replays/{replay['id']}", params={"format": "rrweb", "assets": "stored"}
                ).text
            ),
            lambda body: "asset%3A" in body,  # a signed link to the stored copy
        )
        assert "asset%3A" in stored
        visitor.close()
    (styles / "brand.css").unlink()  # the site changes: its stylesheet is gone

    link = api.post(f"/replays/{replay['id']}/share").json()["url"]
    context, viewer = open_viewer(browser, link, {"width": 1500, "height": 1000})
    viewer.wait_for_timeout(300)
    shot = viewer.locator("iframe").first.screenshot()
    context.close()
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(shot)).convert("RGB")
    r, g, b = image.getpixel((image.width // 2, 40))
    assert abs(r - 10) < 12 and abs(g - 120) < 12 and abs(b - 60) < 12, (r, g, b)


def test_a_click_right_before_the_tab_closes_is_in_the_replay(collector, browser, tmp_path):
    brand = collector.cli("brands", "create", "Hasty shop", "--domain", "localhost")
    (tmp_path / "checkout.html").write_text(
        PAGE.format(collector=collector.url, site_key=brand["site_key"])
    )
    api = collector.api(brand)
    with static_site(tmp_path) as site:
        context = browser.new_context(user_agent=DESKTOP_UA, viewport=VIEWPORT)
        page = context.new_page()
        with page.expect_response(lambda r: r.url.endswith("/collect/replay"), timeout=20_000):
            page.goto(f"{site}/checkout.html")
        page_session = page.evaluate("window.clicktrail._r.p()")
        page.click("#buy-now")
        page.close()  # at once: the click is only in the recorder's buffer
        replay = replay_of_page(api, page_session)
        found = wait_for(
            lambda: api.get(f"/replays/{replay['id']}").json()["events"],
            lambda events: any(e["type"] == "click" for e in events),
        )
        context.close()
    assert [e["target"] for e in found if e["type"] == "click"] == ["button#buy-now"]


def test_the_viewer_opens_with_a_pasted_key_kept_only_for_the_tab(collector, browser):
    brand = collector.cli("brands", "create", "Keyed shop")
    recording = TESTDATA / "recordings" / "demoit-react-hooks.json"
    replay_id = collector.cli("replays", "import", str(recording), "--brand", str(brand["id"]))[
        "id"
    ]
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{collector.url}/replay/{replay_id}?brand={brand['id']}")
    page.fill("#auth-key", "ct_wrong_key")
    page.press("#auth-key", "Enter")
    page.wait_for_selector("#auth-error:not([hidden])")
    assert "not valid" in page.inner_text("#auth-error")
    page.fill("#auth-key", brand["api_key"])
    page.press("#auth-key", "Enter")
    page.wait_for_function("() => window.viewer && window.viewer.readyState === 'ready'")
    stored = page.evaluate(
        "() => [JSON.stringify(sessionStorage), JSON.stringify(localStorage), document.cookie]"
    )
    assert brand["api_key"] in stored[0]
    assert brand["api_key"] not in stored[1] and brand["api_key"] not in stored[2]
    page.keyboard.press("End")
    page.wait_for_timeout(300)
    assert (
        page.evaluate("() => window.viewer.currentTime()")
        >= page.evaluate("() => window.viewer.durationMs") - 50
    )
    context.close()


PRIVATE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Account</title>
<script defer src="{collector}/t.js" data-site="{site_key}" data-replay="1"></script>
</head><body>
<div data-ct-block><h2>Card on file</h2><p>4111-blocked-card-number</p></div>
<p data-ct-mask>Jane masked-customer-name</p>
<label>Password <input type="password" id="password"></label>
<p>Public text stays visible.</p>
</body></html>
"""


def test_blocked_elements_masked_text_and_passwords_never_leave_the_page(
    collector, browser, tmp_path
):
    brand = collector.cli("brands", "create", "Private shop", "--domain", "localhost")
    (tmp_path / "account.html").write_text(
        PRIVATE_PAGE.format(collector=collector.url, site_key=brand["site_key"])
    )
    api = collector.api(brand)
    visitor = browser.new_context(user_agent=DESKTOP_UA, viewport=VIEWPORT)
    with static_site(tmp_path) as site:
        page = visitor.new_page()
        with page.expect_response(lambda r: r.url.endswith("/collect/replay"), timeout=20_000):
            page.goto(f"{site}/account.html")
        page_session = page.evaluate("window.clicktrail._r.p()")
        page.type("#password", "pw-typed-secret", delay=10)
        page.close()
        replay = replay_of_page(api, page_session)
        raw = wait_for(
            lambda: api.get(f"/replays/{replay['id']}", params={"format": "rrweb"}).text,
            lambda text: '"source":5' in text,  # the masked input event has arrived
        )
    visitor.close()
    assert '"source":5' in raw, "the typing was recorded (masked)"
    assert "Public text stays visible." in raw
    for secret in ("4111-blocked-card-number", "Card on file", "masked-customer-name"):
        assert secret not in raw
    assert "pw-typed-secret" not in raw
