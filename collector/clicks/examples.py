"""Example rows for the documentation: the examples in ``/openapi.json`` and ``/docs`` are these,
shown by the same code that shows real ones, so they always have the answer's shape."""

from __future__ import annotations

from collector.storage.base import Click, Event

BRAND_ID = 1
CLICK_CODE = "01jeyg5v00a7m3q8c2xw4d9fbr"
SESSION_ID = "01jeyg5v00kq2n6d4w8t1c3vxs"
VISITOR_ID = "01jeyc0ge0h5r7m2x9b4f6k8td"
DOMAINS = {7: "checkout.mybrand.com"}
AT = 1_733_821_200_000  # 2024-12-10T09:00:00Z

CLICK = Click(
    id=CLICK_CODE,
    brand_id=BRAND_ID,
    session_id=SESSION_ID,
    visitor_id=VISITOR_ID,
    created_at=AT,
    ip_address="203.0.113.50",
    url="https://checkout.mybrand.com/checkout?utm_source=newsletter&sub1=spring",
    domain_id=7,
    funnel_id=5,
    sub1="spring",
    utm_source="newsletter",
    query={"utm_source": "newsletter", "sub1": "spring"},
    referrer="https://www.google.com/",
    referrer_host="www.google.com",
    referrer_type="search",
    referrer_name="Google",
    country="US",
    region="CA",
    city="Los Angeles",
    zip="90001",
    lat=34.052,
    lon=-118.244,
    time_zone="America/Los_Angeles",
    continent="NA",
    asn=64500,
    isp="Example Telecom",
    device_type="desktop",
    os="Windows",
    os_version="10",
    browser="Chrome",
    browser_version="124.0.0.0",
    language="en-US",
    viewport_width=1440,
    viewport_height=900,
)

EVENTS = [
    Event(
        brand_id=BRAND_ID,
        click_id=CLICK_CODE,
        session_id=SESSION_ID,
        type="page_view",
        url="https://checkout.mybrand.com/checkout",
        timestamp=AT,
        data={},
    ),
    Event(
        brand_id=BRAND_ID,
        click_id=CLICK_CODE,
        session_id=SESSION_ID,
        type="add_to_cart",
        timestamp=AT + 90_000,
        data={"product_id": 3},
    ),
]
