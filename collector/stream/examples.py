"""Examples for the documentation of the raw clicks stream."""

from __future__ import annotations

from collector.clicks import examples as clicks

from .schema import (
    StreamAnswer,
    StreamDevice,
    StreamFilter,
    StreamGeolocation,
    StreamOffer,
    StreamQuery,
    StreamRelationship,
    StreamRequest,
    StreamRow,
)

BRAND_ID = clicks.BRAND_ID
REQUEST = StreamRequest(
    from_="2026-03-01 00:00:00",
    to="2026-03-14 23:59:59",
    timezone_id=90,
    query=StreamQuery(filters=[StreamFilter(resource_type="offer", filter_id_value="7")]),
)
ROW = StreamRow(
    transaction_id="01jnq2c4x8d0a7kq5m3s9v1w2e",
    is_unique=1,
    unix_timestamp=1772409600,
    tracking_url="https://shop.example/landing?sub1=abc&utm_source=newsletter",
    source_id="newsletter",
    sub1="abc",
    sub2=None,
    sub3=None,
    sub4=None,
    sub5=None,
    revenue_type=None,
    revenue=None,
    referer="https://www.google.com/",
    error_code=None,
    user_ip="81.2.69.160",
    error_message=None,
    currency_id=None,
    coupon_code=None,
    idfa=None,
    idfa_md5=None,
    idfa_sha1=None,
    google_ad_id=None,
    google_ad_id_md5=None,
    google_ad_id_sha1=None,
    android_id=None,
    android_id_md5=None,
    android_id_sha1=None,
    relationship=StreamRelationship(
        offer=StreamOffer(
            network_offer_id=7,
            network_id=BRAND_ID,
            network_tracking_domain_id=1,
            name=None,
            offer_status=None,
        ),
        geolocation=StreamGeolocation(
            country_code="GB",
            country_name=None,
            region_code="ENG",
            region_name=None,
            city_name="London",
            dma=None,
            dma_name=None,
            carrier_name=None,
            carrier_code=None,
            isp_name="Andrews & Arnold Ltd",
            organization="STONEHOUSE office network",
            postal_code=None,
            timezone="Europe/London",
            is_mobile=False,
            is_proxy=False,
        ),
        device_information=StreamDevice(
            is_mobile=False,
            platform_name="Windows",
            os_version="10",
            brand=None,
            model=None,
            is_tablet=False,
            browser_name="Chrome",
            browser_version="124.0.0",
            device_type="desktop",
            language="en-GB",
            http_accept_language="en-GB,en;q=0.9",
            is_robot=False,
            is_filter=False,
        ),
        query_parameters={"sub1": "abc", "utm_source": "newsletter"},
    ),
)
ANSWER = StreamAnswer(
    table=[ROW], truncated=False, next_from=None, timezone_id=90, timezone="America/Los_Angeles"
)
