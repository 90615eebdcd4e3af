"""Short-link clicks as the landing page meets them: the click id a redirect hands to the
landing page (``ct_id``) and what the collector needs to join the two.

A redirect remembers its click here (in memory, bounded); a beacon carrying the id (the
tracker's ``c``) finds it here, or in the store when another process made it or this one
restarted. Whether the page view joins the click's session is decided by :func:`same_browser`
and the session's activity (``ingest/collect.py``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace

from collector.enrich.netaddr import anonymize_ip
from collector.storage.base import Click, IpMode

REMEMBERED = 100_000
JOIN_WINDOW_MS = 30 * 60 * 1000  # a landing page joins a link click's session this soon after


@dataclass(frozen=True, slots=True)
class LinkVisit:
    """A short-link click, as a landing page's beacon needs it."""

    brand_id: int
    click_id: str
    link_id: str | None
    visitor_id: str
    session_id: str
    created_at: int
    ip: str | None  # as the request had it (in memory) or as stored (ip_mode applied)
    user_agent: str | None
    # Its session has ended: no later page view joins it (the tracker keeps sending the id for
    # the attribution window, and this spares each of those beacons a session read).
    session_over: bool = False

    @classmethod
    def of(cls, click: Click, ip: str | None = None) -> LinkVisit:
        return cls(
            click.brand_id,
            click.id,
            click.link_id,
            click.visitor_id,
            click.session_id,
            click.created_at,
            ip if ip is not None else click.ip_address,
            click.user_agent,
        )


def same_browser(visit: LinkVisit, ip: str | None, user_agent: str | None, ip_mode: IpMode) -> bool:
    """True when a request with this IP and user agent could come from the browser that made
    the link click: the same user agent, and the same address as far as the brand keeps it
    (whole, truncated, or not at all)."""
    if not user_agent or user_agent != visit.user_agent:
        return False
    if visit.ip is None or ip is None:
        return visit.ip is None and ip_mode == "off"
    if visit.ip == ip:
        return True
    return anonymize_ip(visit.ip, ip_mode) == anonymize_ip(ip, ip_mode)


class RecentLinkClicks:
    """The newest link clicks of this process, by (brand, click id)."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._size = size
        self._visits: OrderedDict[tuple[int, str], LinkVisit] = OrderedDict()

    def remember(self, visit: LinkVisit) -> None:
        key = (visit.brand_id, visit.click_id)
        self._visits[key] = visit
        self._visits.move_to_end(key)
        if len(self._visits) > self._size:
            self._visits.popitem(last=False)

    def end_session(self, visit: LinkVisit) -> None:
        """Remember that the visit's session has ended (a session never starts again)."""
        self.remember(replace(visit, session_over=True))

    def get(self, brand_id: int, click_id: str) -> LinkVisit | None:
        return self._visits.get((brand_id, click_id))
