"""One delivery attempt: the body, the Standard Webhooks signature (checked with the
`standardwebhooks` package), the headers, what each answer means, and the outbound guard's
rules (public addresses only unless allowed, no redirects) over real loopback HTTP."""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import time
from email.utils import formatdate

import pytest
from standardwebhooks.webhooks import Webhook

from collector.net import vet_destination
from collector.storage.model import OutboxItem, WebhookDestination
from collector.webhooks.delivery import Sender, batch_body, parse_retry_after
from collector.webhooks.settle import retry_delay_s
from tests.webhook_receiver import DROP, Answer, receiving

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


def destination(url: str, **changes: object) -> WebhookDestination:
    fields: dict = {
        "id": "dest1",
        "brand_id": 1,
        "url": url,
        "secret": "whsec_" + base64.b64encode(os.urandom(24)).decode(),
        "public_key": "pk_test",
        "events": ["click", "pageview"],
        "created_at": 0,
        "updated_at": 0,
    }
    fields.update(changes)
    return WebhookDestination(**fields)


def items(*kinds: str) -> list[OutboxItem]:
    return [
        OutboxItem(
            item_id=f"item{n}",
            brand_id=1,
            kind=kind,
            created_at=0,
            body=json.dumps({"id": f"item{n}", "type": kind}).encode(),
            seq=n + 1,
        )
        for n, kind in enumerate(kinds)
    ]


def send(url: str, **changes: object):
    dest = destination(url, **changes)
    return dest, Sender(LOOPBACK, timeout_s=1.0).send(
        dest, "msg_1", items("pageview", "click", "pageview"), int(time.time())
    )


def test_the_signature_verifies_with_standardwebhooks_and_headers_are_sent() -> None:
    with receiving() as got:
        dest, result = send(
            got.url + "/hook?x=1", header_key="Authorization", header_value="Bearer s3cret"
        )
    assert result.verdict == "delivered" and result.status == 200 and result.response == "ok"
    [request] = got.requests
    assert request.method == "POST" and request.path == "/hook?x=1"
    Webhook(dest.secret).verify(request.body, request.headers)  # raises when it does not match
    assert request.headers["webhook-id"] == "msg_1"
    assert request.headers["authorization"] == "Bearer s3cret"
    assert request.headers["webhook-event-types"] == "click,pageview"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "data": [
            {"id": "item0", "type": "pageview"},
            {"id": "item1", "type": "click"},
            {"id": "item2", "type": "pageview"},
        ],
        "key": "pk_test",
    }


def test_a_tampered_body_does_not_verify() -> None:
    with receiving() as got:
        dest, _ = send(got.url)
    request = got.requests[0]
    with pytest.raises(Exception, match="ignature"):
        Webhook(dest.secret).verify(request.body.replace(b"item0", b"item9"), request.headers)


def test_the_destination_method_is_used() -> None:
    with receiving() as got:
        send(got.url, method="PUT")
    assert got.requests[0].method == "PUT"


def test_batch_body_is_the_seed_envelope() -> None:
    body = batch_body(items("click"), 'k"ey')
    assert json.loads(body) == {"data": [{"id": "item0", "type": "click"}], "key": 'k"ey'}


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        (Answer(204), "delivered"),
        (Answer(500), "retry"),
        (Answer(503), "retry"),
        (Answer(429), "retry"),
        (Answer(408), "retry"),
        (Answer(410), "gone"),
        (Answer(400), "failed"),
        (Answer(404), "failed"),
        (DROP, "retry"),
    ],
)
def test_what_each_answer_means(answer: Answer, verdict: str) -> None:
    with receiving([answer]) as got:
        _, result = send(got.url)
    assert result.verdict == verdict
    assert result.status == (None if answer.drop else answer.status)
    if answer.drop:
        assert result.error


def test_a_slow_receiver_times_out_and_is_retried() -> None:
    with receiving([Answer(delay_s=2.0)]) as got:
        started = time.monotonic()
        _, result = send(got.url)
    assert result.verdict == "retry" and result.error == "timed out"
    assert time.monotonic() - started < 1.9
    assert 900 <= result.latency_ms < 1900


def test_retry_after_is_read_in_seconds_or_as_a_date() -> None:
    with receiving([Answer(503, {"Retry-After": "7"})]) as got:
        _, result = send(got.url)
    assert result.retry_after_s == 7.0
    now = time.time()
    assert parse_retry_after(formatdate(now + 120, usegmt=True), now) == pytest.approx(120, abs=1)
    assert parse_retry_after("999999", now) == 86_400.0  # capped at a day
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_redirects_are_not_followed() -> None:
    with receiving() as target:
        moved = Answer(307, {"Location": target.url + "/elsewhere"})
        with receiving([moved]) as got:
            _, result = send(got.url + "/start")
    assert result.verdict == "failed" and result.status == 307
    assert [r.path for r in got.requests] == ["/start"]
    assert target.requests == []


def test_a_loopback_receiver_is_refused_unless_allowed() -> None:
    with receiving() as got:
        refused = Sender((), timeout_s=1.0).send(destination(got.url), "msg_1", items("click"), 0)
        allowed = Sender(LOOPBACK, timeout_s=1.0).send(
            destination(got.url), "msg_1", items("click"), int(time.time())
        )
    assert refused.verdict == "retry"  # DNS can change: retried, not dropped
    assert refused.error is not None and refused.error.startswith("not allowed: ")
    assert allowed.verdict == "delivered"
    assert len(got.requests) == 1


def test_a_name_that_does_not_resolve_is_retried() -> None:
    result = Sender(()).send(destination("http://nowhere.invalid/"), "msg_1", items("click"), 0)
    assert result.verdict == "retry" and "resolve" in (result.error or "")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost:8080/hook",
        "http://100.64.0.1/",
    ],
)
def test_vetting_refuses_addresses_that_are_not_public(url: str) -> None:
    problem = vet_destination(url, (), https_only=False)
    assert problem is not None and "destinations must be public" in problem


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "http://user:pw@example.com/", "http:///nohost", "not a url"]
)
def test_vetting_refuses_what_is_not_an_http_url(url: str) -> None:
    problem = vet_destination(url, (), https_only=False)
    assert problem is not None and "http(s)" in problem


def test_vetting_names_the_kind_of_address() -> None:
    problem = vet_destination("http://localhost/", (), https_only=False) or ""
    assert "a loopback address" in problem
    assert "a link-local address" in (vet_destination("http://169.254.169.254/", (), False) or "")
    assert "a private address" in (vet_destination("http://10.0.0.1/", (), False) or "")


def test_vetting_allows_the_named_networks_and_public_addresses() -> None:
    ten = (ipaddress.ip_network("10.0.0.0/8"),)
    assert vet_destination("http://10.0.0.1/hook", ten, https_only=False) is None
    assert vet_destination("http://127.0.0.1:9/hook", LOOPBACK, https_only=False) is None
    assert vet_destination("http://localhost:9/hook", LOOPBACK + _v6_loopback(), False) is None
    assert vet_destination("https://93.184.216.34/hook", (), https_only=True) is None


def test_vetting_of_an_https_only_brand() -> None:
    problem = vet_destination("http://93.184.216.34/hook", (), https_only=True)
    assert problem is not None and "https" in problem


def _v6_loopback() -> tuple:
    return (ipaddress.ip_network("::1/128"),)


def test_retry_delays_follow_the_schedule_with_jitter_and_retry_after() -> None:
    schedule = (5.0, 300.0)
    assert retry_delay_s(schedule, 1, None, jitter=lambda: 0.0) == pytest.approx(4.5)
    assert retry_delay_s(schedule, 1, None, jitter=lambda: 1.0) == pytest.approx(5.5)
    assert retry_delay_s(schedule, 2, None, jitter=lambda: 0.5) == pytest.approx(300)
    assert retry_delay_s(schedule, 1, 60.0, jitter=lambda: 0.5) == 60.0  # later: it wins
    assert retry_delay_s(schedule, 2, 60.0, jitter=lambda: 0.5) == pytest.approx(300)
    assert retry_delay_s(schedule, 3, None) is None  # used up
