"""Short links on both engines: generate, list, change, delete, QR codes, and the redirects
that record each click before answering."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import msgspec
import pytest
import zxingcpp
from PIL import Image

from tests.appkit import CHROME_UA, Kit
from tests.linkkit import LANDING, click_id_of, clicks, follow, make_link, write

BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def test_generate_answers_the_seeds_code_and_url_on_the_collectors_url(kit: Kit) -> None:
    link = make_link(kit, tags=["spring", "spring"], folder="mail", external_id="crm-1")
    assert list(link)[:2] == ["code", "url"]
    assert len(link["code"]) == 7 and link["code"].isalnum()
    assert link["url"] == f"{kit.url}/g/{link['code']}"
    assert link["qr_url"] == f"{kit.url}/q/{link['code']}"
    assert link["tags"] == ["spring"] and link["folder"] == "mail"
    assert link["destination_url"] == LANDING and link["clicks"] == 0


def test_generate_uses_the_brands_short_domain(kit: Kit) -> None:
    patched = kit.http.patch(
        f"/api/brands/{kit.brand.id}",
        json={"settings": {"short_domain": "https://Go.Mybrand.com/"}},
        headers={"EF-Access-Key": kit.admin_key},
    )
    assert patched.json()["settings"]["short_domain"] == "https://go.mybrand.com"
    link = make_link(kit)
    assert link["url"] == f"https://go.mybrand.com/g/{link['code']}"
    assert link["domain"] == "go.mybrand.com"


@pytest.mark.parametrize(
    "bad", ["ftp://x.example/a", "https://x.example/path", "go.mybrand.com/x", "https://"]
)
def test_a_short_domain_that_is_not_an_origin_is_refused(kit: Kit, bad: str) -> None:
    answer = kit.http.patch(
        f"/api/brands/{kit.brand.id}",
        json={"settings": {"short_domain": bad}},
        headers={"EF-Access-Key": kit.admin_key},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["param"] == "settings.short_domain"


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "data:text/html,hi",
        "/relative/path",
        "not a url",
        "ftp://example.com/x",
        "https://",
        "https://user:pw@example.com/",
        "https://exa mple.com/",
    ],
)
def test_a_destination_that_is_not_an_absolute_http_url_is_refused(kit: Kit, bad: str) -> None:
    answer = write(kit, "/short-links/generate", {"destination_url": bad})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["param"] == "destination_url" and "destination_url" in error["message"]
    assert kit.api("/short-links").json()["total"] == 0  # nothing half-stored


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        (b"", 400, None),
        (b"{not json", 400, None),
        (b'{"destination_url": 5}', 422, "destination_url"),
        (b'{"destination_url": "https://x.example/", "colour": "red"}', 422, None),
        (b'{"destination_url": "https://x.example/", "key": "no spaces"}', 422, "key"),
        (b'{"destination_url": "https://x.example/", "tags": [""]}', 422, "tags"),
        (b'{"destination_url": "https://x.example/", "expires_at": "soon"}', 422, "expires_at"),
        (
            b'{"destination_url": "https://x.example/", "expires_at": "2001-01-01"}',
            422,
            "expires_at",
        ),
    ],
)
def test_bad_link_bodies_say_what_to_fix(kit: Kit, body: bytes, status: int, param: str) -> None:
    answer = write(kit, "/short-links/generate", body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["message"]
    if param:
        assert error["param"] == param
    assert kit.api("/short-links").json()["total"] == 0


def test_only_a_write_key_makes_links(kit: Kit) -> None:
    answer = write(kit, "/short-links/generate", {"destination_url": LANDING}, kit.read_key)
    assert answer.status_code == 403
    _other, other_key = kit.new_brand()
    link = make_link(kit)
    seen = kit.http.get(
        f"/api/brands/{kit.brand.id}/short-links/{link['id']}",
        headers={"EF-Access-Key": other_key},
    )
    assert seen.status_code == 404


def test_a_custom_key_is_unique_and_a_deleted_links_code_is_never_reused(kit: Kit) -> None:
    make_link(kit, key="spring-sale")
    taken = write(kit, "/short-links/generate", {"destination_url": LANDING, "key": "spring-sale"})
    assert taken.status_code == 409 and taken.json()["error"]["param"] == "key"
    gone = kit.http.delete(
        f"/api/brands/{kit.brand.id}/short-links/spring-sale",
        headers={"EF-Access-Key": kit.admin_key},
    )
    assert gone.status_code == 204
    assert follow(kit, "/g/spring-sale").status_code == 404
    again = write(kit, "/short-links/generate", {"destination_url": LANDING, "key": "spring-sale"})
    assert again.status_code == 409


def test_the_redirect_forwards_the_query_adds_the_click_id_and_stores_the_click(kit: Kit) -> None:
    link = make_link(kit, "https://shop.example/offer?plan=pro&utm_source=site")
    answer = follow(kit, f"/g/{link['code']}?utm_source=newsletter&ct_id=forged&x=1")
    assert answer.status_code == 302
    assert answer.headers["cache-control"] == "no-store"
    target = urlsplit(answer.headers["location"])
    query = parse_qs(target.query)
    assert target.netloc == "shop.example" and target.path == "/offer"
    assert query["plan"] == ["pro"] and query["utm_source"] == ["newsletter"]
    assert query["x"] == ["1"] and query["ct_id"] != ["forged"] and len(query["ct_id"]) == 1
    (click,) = clicks(kit)
    assert click["id"] == query["ct_id"][0]
    assert click["trigger"] == "link" and click["link_id"] == link["id"]
    assert click["utm"]["source"] == "newsletter" and "ct_id" not in click["url"]
    assert click["geo"]["country"] == "GB" and click["is_bot"] is False


def test_bots_and_repeat_clicks_are_stored_and_flagged(kit: Kit) -> None:
    link = make_link(kit)
    for _ in range(2):
        assert follow(kit, f"/g/{link['code']}").status_code == 302
    assert follow(kit, f"/g/{link['code']}", ua=BOT_UA).status_code == 302
    rows = clicks(kit, sort="created_at", direction="asc")
    assert [(r["is_bot"], r["is_repeat"]) for r in rows] == [
        (False, False),
        (False, True),
        (True, False),
    ]
    assert kit.api(f"/short-links/{link['code']}").json()["clicks"] == 3


def test_unknown_and_expired_codes_answer_a_404_page_and_are_counted(kit: Kit) -> None:
    link = make_link(kit)
    stored = kit.store.get_link(kit.brand.id, link["id"])
    assert stored is not None
    kit.store.save_link(msgspec.structs.replace(stored, expires_at=1))
    for path in ("/g/nosuchcode", "/g/nosuchcode", f"/g/{link['code']}", "/q/<script>"):
        answer = follow(kit, path)
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert "<script>" not in answer.text
    assert clicks(kit) == []
    misses = kit.api("/short-links/misses").json()
    assert {"code": link["code"], "requests": 1} in [
        {"code": m["code"], "requests": m["requests"]} for m in misses
    ]


def test_a_changed_destination_is_followed_at_once(kit: Kit) -> None:
    link = make_link(kit)
    follow(kit, f"/g/{link['code']}")
    changed = kit.http.patch(
        f"/api/brands/{kit.brand.id}/short-links/{link['id']}",
        json={"destination_url": "https://shop.example/b", "tags": ["x"]},
        headers={"EF-Access-Key": kit.admin_key},
    )
    assert changed.status_code == 200 and changed.json()["tags"] == ["x"]
    answer = follow(kit, f"/g/{link['code']}")
    assert answer.headers["location"].startswith("https://shop.example/b?ct_id=")


def test_a_links_group_and_partner_are_set_changed_cleared_and_filtered(kit: Kit) -> None:
    link = make_link(kit, group_id="grp-spring", partner_id="partner-7")
    assert (link["group_id"], link["partner_id"]) == ("grp-spring", "partner-7")
    make_link(kit, group_id="grp-autumn")
    assert kit.api(f"/short-links/{link['code']}").json()["group_id"] == "grp-spring"
    changed = kit.http.patch(
        f"/api/brands/{kit.brand.id}/short-links/{link['id']}",
        json={"group_id": "grp-summer", "partner_id": None},
        headers={"EF-Access-Key": kit.admin_key},
    ).json()
    assert (changed["group_id"], changed["partner_id"]) == ("grp-summer", None)
    assert [x["id"] for x in kit.api("/short-links", group_id="grp-summer").json()["data"]] == [
        link["id"]
    ]
    assert kit.api("/short-links", partner_id="partner-7").json()["total"] == 0
    for bad in ("", "x" * 129):
        refused = write(kit, "/short-links/generate", {"destination_url": LANDING, "group_id": bad})
        assert refused.status_code == 422 and refused.json()["error"]["param"] == "group_id"


def test_links_list_filters_and_pages(kit: Kit) -> None:
    make_link(kit, tags=["a"], folder="f1", tenant_id="t1")
    make_link(kit, tags=["b"], folder="f2")
    make_link(kit, "https://other.example/x", tags=["a", "b"])
    assert kit.api("/short-links").json()["total"] == 3
    assert kit.api("/short-links", tag="a").json()["total"] == 2
    assert kit.api("/short-links", folder="f2").json()["total"] == 1
    assert kit.api("/short-links", tenant_id="t1").json()["total"] == 1
    assert kit.api("/short-links", search="OTHER.example").json()["total"] == 1
    page = kit.api("/short-links", per_page=2).json()
    assert len(page["data"]) == 2 and page["last_page"] == 2 and page["next_page_url"]
    assert kit.api("/short-links", per_page=101).status_code == 422


def test_the_qr_code_decodes_to_the_q_url_which_records_a_scan(kit: Kit) -> None:
    link = make_link(kit)
    png = kit.api(f"/short-links/{link['code']}/qr", format="png", size=300)
    assert png.headers["content-type"] == "image/png"
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert found.text == link["qr_url"]
    svg = kit.api(f"/short-links/{link['id']}/qr")
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    assert kit.api(f"/short-links/{link['id']}/qr", size=5).status_code == 422
    assert kit.api(f"/short-links/{link['id']}/qr", format="gif").status_code == 422
    scan = follow(kit, urlsplit(found.text).path)
    assert scan.status_code == 302
    (click,) = clicks(kit)
    assert click["trigger"] == "qr" and click["id"] == click_id_of(scan)
    counted = kit.api(f"/short-links/{link['id']}").json()
    assert (counted["clicks"], counted["qr_scans"]) == (1, 1)


def test_head_requests_redirect_too(kit: Kit) -> None:
    link = make_link(kit)
    answer = kit.http.head(f"/g/{link['code']}", headers={"user-agent": CHROME_UA})
    assert answer.status_code == 302


def test_a_tool_asking_for_json_gets_the_json_error_for_an_unknown_code(kit: Kit) -> None:
    answer = follow(kit, "/g/nosuchcode", accept="application/json")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    page = follow(kit, "/g/nosuchcode", accept="text/html,application/json;q=0.9")
    assert page.headers["content-type"].startswith("text/html")
