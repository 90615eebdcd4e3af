"""The route table: every endpoint the collector serves, grouped by area in the order ``/docs``
shows them. ``/openapi.json`` and ``/docs`` are generated from it (``openapi.py``).

Each capability lists its own endpoints beside its handlers (``clicks/routes.py``'s
``endpoints``) and makes its Starlette routes from them, so a route cannot be served without
being documented. A new capability adds its list here and its area below.
"""

from __future__ import annotations

from collector.analytics import routes as analytics
from collector.brands import routes as brands
from collector.clicks import routes as clicks
from collector.conversions import routes as conversions
from collector.dashboard import routes as dashboard
from collector.explorer import routes as explorer
from collector.exports import routes as exports
from collector.funnels import routes as funnels
from collector.heatmaps import routes as heatmaps
from collector.http.routing import Endpoint
from collector.links import routes as links
from collector.privacy import routes as privacy
from collector.replay import proxy_routes as replay_proxy
from collector.replay import routes as replays
from collector.replay import viewer
from collector.sessions import routes as sessions
from collector.site import routes as site
from collector.stream import routes as stream
from collector.tracker import routes as tracker
from collector.users import routes as users
from collector.webhooks import routes as webhooks

# area -> what it holds, in the order of the documentation
AREAS = {
    "Clicks": "Tracked page loads (clicks), their events and sessions (seed 01). Times are ISO "
    "8601 UTC with milliseconds; a stored time outside years 1..9999 shows as null.",
    "Short links": "Short links that redirect and record each click (seed 01), their QR codes, "
    "and the codes asked for that no link answers.",
    "Conversions": "Leads and sales your server reports, attributed to a click (seed 02), "
    "each stored once.",
    "Events and analytics": "Clicks, leads and sales listed and counted with the same filters "
    "(seed 02): totals, time series in any time zone, and breakdowns by every dimension.",
    "Sessions": "Visits made of page views: listed with their source, conversions and "
    "replays, and counted as visitors, sessions, bounce rate and visit duration.",
    "Heatmaps": "Per page URL: clicked elements by selector (a click map), how far people "
    "scroll, and the stored replay to draw them over.",
    "Explorer": "One visitor's hits, and one hit with its conversions and custom events, "
    "in FunnelFlux's explorer shape (seed 03).",
    "Replays": "Session recordings, one replay per recorded page; share links to watch one "
    "session without a key.",
    "Webhooks": "The clickstream (seed 05): clicks, page views, leads and sales sent as "
    "signed batches to your own URLs within a second, retried, and replayable by time range.",
    "Privacy": "Deleting a visitor on request (by visitor id, external id or customer): "
    "everything stored of them, on both engines (docs/PRIVACY.md).",
    "Brand": "The brand's name, allowed domains and settings.",
    "Tracker": "What the tracker on a site loads and sends. No key: the site key is public, "
    "and the brand's allowed domains decide which pages may send.",
    "Replay viewer": "The replay viewer page and what a replay loads through the collector.",
    "Service": "Health, this documentation, and the demo.",
    "Dashboard": "The dashboard's pages for people: signing in and out (a session cookie that "
    "the brand API takes in place of a key), and the pages and files of the app.",
}

ENDPOINTS: tuple[Endpoint, ...] = (
    *clicks.endpoints,
    *exports.endpoints,
    *stream.endpoints,
    *links.endpoints,
    *conversions.endpoints,
    *analytics.endpoints,
    *funnels.endpoints,
    *sessions.endpoints,
    *heatmaps.endpoints,
    *explorer.endpoints,
    *replays.endpoints,
    *webhooks.endpoints,
    *privacy.endpoints,
    *brands.endpoints,
    *users.endpoints,
    *tracker.endpoints,
    *viewer.endpoints,
    *replay_proxy.endpoints,
    *site.endpoints,
    *dashboard.endpoints,
)
