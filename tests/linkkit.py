"""Helpers for the short-link and conversion tests: make links, follow them, land, convert."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.appkit import CHROME_UA, Kit

LANDING = "https://shop.example/offer?plan=pro"


def write(kit: Kit, path: str, body: Any, key: str | None = None) -> httpx.Response:
    headers = {"EF-Access-Key": key or kit.admin_key}
    if isinstance(body, bytes | str):
        return kit.http.post(f"/api/brands/{kit.brand.id}{path}", content=body, headers=headers)
    return kit.http.post(f"/api/brands/{kit.brand.id}{path}", json=body, headers=headers)


def make_link(kit: Kit, destination: str = LANDING, **fields: Any) -> dict[str, Any]:
    answer = write(kit, "/short-links/generate", {"destination_url": destination, **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


def follow(
    kit: Kit, path: str, ua: str = CHROME_UA, ip: str = "81.2.69.160", **headers: str
) -> httpx.Response:
    """A browser following a short URL (path and query), not following the redirect."""
    return kit.http.get(
        path, headers={"user-agent": ua, "x-forwarded-for": ip, **headers}, follow_redirects=False
    )


def click_id_of(answer: httpx.Response) -> str:
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)["ct_id"][0]


def clicks(kit: Kit, **query: Any) -> list[dict[str, Any]]:
    answer = kit.api("/clicks", **query)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def lead(kit: Kit, click_id: str, customer: str = "cus-1", **fields: Any) -> httpx.Response:
    body = {"clickId": click_id, "eventName": "Sign up", "customerExternalId": customer}
    return write(kit, "/track/lead", {**body, **fields})


def sale(kit: Kit, customer: str = "cus-1", **fields: Any) -> httpx.Response:
    body = {"customerExternalId": customer, "amount": 4900, "currency": "eur"}
    return write(kit, "/track/sale", {**body, **fields})
