"""Recording real pages in Chromium and watching them in the viewer (e2e tests and bench).

Pages come from ``../shared/testdata/pages/<name>/source.html``; each is copied with the
Clicktrail tag (``data-replay="1"``) added at the top of its ``<head>``. Requests to anything but
loopback are aborted, so a page never waits on the internet (there is none here) and the
original and its replay miss the same third-party files.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

_HEAD = re.compile(rb"<head[^>]*>", re.IGNORECASE)
LOCAL_HOSTS = {"localhost", "127.0.0.1"}


def tagged_page(source: Path, collector: str, site_key: str) -> bytes:
    """The page's HTML with the tracker tag first in its head."""
    html = source.read_bytes()
    tag = (
        f'<script defer src="{collector}/t.js" data-site="{site_key}" data-replay="1"></script>'
    ).encode()
    found = _HEAD.search(html)
    if found is None:
        return tag + html
    return html[: found.end()] + tag + html[found.end() :]


def write_tagged_pages(pages_dir: Path, dest: Path, collector: str, site_key: str) -> list[str]:
    """Copies every test page, tagged, to ``dest/<name>.html``; returns the names."""
    names = sorted(p.name for p in pages_dir.iterdir() if (p / "source.html").is_file())
    for name in names:
        (dest / f"{name}.html").write_bytes(
            tagged_page(pages_dir / name / "source.html", collector, site_key)
        )
    return names


EMPTY_FRAME = "<!doctype html><title>third party</title>"


def local_only(context) -> None:
    """Abort every request that does not go to loopback. A third-party frame (an ad, a video
    player) gets an empty page instead: aborted, Chromium would paint its grey error page
    there, which is neither the site's content nor anything a replay could show (rrweb does
    not record into cross-origin frames)."""

    def route(route) -> None:
        request = route.request
        host = urlsplit(request.url).hostname or ""
        if host in LOCAL_HOSTS or request.url.startswith(("data:", "blob:")):
            route.continue_()
        elif request.resource_type == "document" and request.frame.parent_frame is not None:
            route.fulfill(status=200, content_type="text/html", body=EMPTY_FRAME)
        else:
            route.abort()

    context.route("**/*", route)


def wait_for(fetch, ready, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if ready(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def replay_of_page(api: httpx.Client, page_session_id: str, timeout: float = 20.0) -> dict:
    """The replay of a page session once the collector has it (via its click's session)."""

    def fetch():
        click = api.get(f"/clicks/{page_session_id}")
        if click.status_code != 200:
            return None
        rows = api.get("/replays", params={"session_id": click.json()["session_id"]}).json()
        return next((r for r in rows if r["page_session_id"] == page_session_id), None)

    found = wait_for(fetch, lambda r: r is not None, timeout)
    if found is None:
        raise AssertionError(f"no replay arrived for page session {page_session_id}")
    return found


def open_viewer(browser, url: str, viewport: dict[str, int]):
    """A new page showing the viewer at ``url``, once it has loaded its replay."""
    context = browser.new_context(viewport=viewport)
    local_only(context)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => window.viewer && window.viewer.readyState === 'ready'")
    return context, page
