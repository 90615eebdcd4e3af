"""Examples for the documentation of the sessions API."""

from __future__ import annotations

from collector.clicks import examples as clicks

from .schema import PageRow, SessionRow, SessionTotals, Signals

BRAND_ID = clicks.BRAND_ID

TOTALS = SessionTotals(
    visitors=1180, sessions=1422, pageviews=3977, bounceRate=0.4128, visitDuration=96.4
)
ENTRY_PAGES = [
    PageRow(url="https://shop.example/", sessions=802, visitors=690),
    PageRow(url="https://shop.example/pricing", sessions=311, visitors=288),
]
SESSION = SessionRow(
    sessionId=clicks.CLICK.session_id,
    visitorId=clicks.CLICK.visitor_id,
    startedAt="2024-12-10T09:00:01.500Z",
    endedAt="2024-12-10T09:03:41.000Z",
    duration=219,
    pageviews=4,
    clicks=7,
    signals=Signals(rage=1, dead=0, error=0),
    entryPage="https://shop.example/?utm_source=newsletter",
    exitPage="https://shop.example/checkout/done",
    country="GB",
    city="London",
    device="desktop",
    browser="Chrome",
    os="Mac OS X",
    referer="news.ycombinator.com",
    refererType="referral",
    utm_source="newsletter",
    utm_medium="email",
    utm_campaign="spring",
    linkId=None,
    leads=1,
    sales=1,
    saleAmount=4900,
    replayIds=["01jexamplereplay0000000000"],
    bot=False,
)
