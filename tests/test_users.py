"""Dashboard users (issue 12): storage on both engines, password hashing, and the
``clicktrail users`` commands' JSON output."""

from __future__ import annotations

import io
import json
import time

import pytest

from collector.cli import create_brand
from collector.cli.main import main
from collector.http.auth import mint_api_key
from collector.storage import open_store
from collector.storage.base import BrandSettings, LoginSession, Store
from collector.users.passwords import N, generate_password, hash_password, verify_password


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _brand(store: Store, name: str = "shop") -> int:
    return create_brand(store, name, ["shop.example"], BrandSettings()).id


# passwords -------------------------------------------------------------------------------------
def test_a_password_hash_is_salted_scrypt_and_verifies_only_its_password() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second  # a salt per password
    scheme, n, r, p, salt, digest = first.split("$")
    assert len(salt) >= 20 and len(digest) >= 40
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", N, 8, 1)
    assert "correct horse" not in first
    assert verify_password("correct horse", first) and verify_password("correct horse", second)
    assert not verify_password("correct horsE", first)
    assert not verify_password("", first)


def test_a_malformed_stored_hash_never_verifies() -> None:
    for stored in ("", "plain", "md5$1$2$3$4$5", "scrypt$x$8$1$AAAA$AAAA", "scrypt$16384$8$1$!$!"):
        assert not verify_password("anything", stored)


def test_generated_passwords_are_long_and_different() -> None:
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(len(p) >= 20 for p in passwords)


# storage ---------------------------------------------------------------------------------------
def test_users_are_unique_by_email_whatever_its_case(store: Store) -> None:
    brand = _brand(store)
    user = store.create_user("Ana@Example.com", hash_password("pw-123456"), "admin", [brand], 5)
    assert (user.email, user.role, user.brands, user.created_at) == (
        "Ana@Example.com",
        "admin",
        [brand],
        5,
    )
    with pytest.raises(ValueError):
        store.create_user("ana@EXAMPLE.com", "x", "viewer", [], 6)
    found = store.user_by_email("  ANA@example.COM ")
    assert found is not None and found.id == user.id and found.email == "Ana@Example.com"
    assert store.get_user(user.id) == found
    assert store.user_by_email("bob@example.com") is None
    assert store.get_user(user.id + 100) is None
    other = store.create_user("bob@example.com", "y", "viewer", [], 7)
    assert other.id != user.id
    assert [u.email for u in store.list_users()] == ["Ana@Example.com", "bob@example.com"]


def test_sign_in_sessions_are_stored_by_hash_and_deleted(store: Store) -> None:
    now = now_ms()
    live = LoginSession(
        token_hash="a" * 64, user_id=1, csrf_token="c1", created_at=now, expires_at=now + 1000
    )
    old = LoginSession(
        token_hash="b" * 64, user_id=1, csrf_token="c2", created_at=now - 9, expires_at=now - 1
    )
    store.add_login_session(live)
    store.add_login_session(old)
    assert store.login_session("a" * 64) == live
    assert store.login_session("b" * 64) == old  # the caller checks the expiry
    assert store.login_session("c" * 64) is None
    store.delete_expired_login_sessions(now)
    assert store.login_session("b" * 64) is None
    assert store.login_session("a" * 64) == live
    store.delete_login_session("a" * 64)
    assert store.login_session("a" * 64) is None
    store.delete_login_session("a" * 64)  # twice is fine


def test_api_keys_are_listed_touched_and_revoked_per_brand(store: Store) -> None:
    brand, other = _brand(store, "one"), _brand(store, "two")
    _, first = mint_api_key(brand, "read", 1000)
    _, second = mint_api_key(brand, "admin", 2000)
    _, foreign = mint_api_key(other, "admin", 1500)
    for key in (first, second, foreign):
        store.add_api_key(key)
    listed = store.api_keys_of_brand(brand)
    assert [(k.id, k.scope, k.created_at, k.last_used_at) for k in listed] == [
        (first.id, "read", 1000, None),
        (second.id, "admin", 2000, None),
    ]
    store.touch_api_key(first.id, 5000)
    store.touch_api_key(first.id, 7000)
    assert store.api_keys_of_brand(brand)[0].last_used_at == 7000
    assert not store.revoke_api_key(brand, foreign.id)  # another brand's key
    assert store.api_key_by_id(foreign.id) is not None
    assert store.revoke_api_key(brand, first.id)
    assert store.api_key_by_id(first.id) is None
    assert not store.revoke_api_key(brand, first.id)
    assert [k.id for k in store.api_keys_of_brand(brand)] == [second.id]
    store.touch_api_key(first.id, 9000)  # a late use does not bring it back
    assert store.api_key_by_id(first.id) is None
    assert [k.id for k in store.api_keys_of_brand(brand)] == [second.id]


# the command line ------------------------------------------------------------------------------
def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def test_users_create_prints_one_object_with_a_password_that_signs_in(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(store_url)
    try:
        first, second = _brand(store, "one"), _brand(store, "two")
    finally:
        store.close()
    code, printed, _ = _run(
        capsys, "users", "create", "ana@example.com", "--brand", str(second), "--role", "admin",
        "--database", store_url,
    )  # fmt: skip
    assert code == 0
    assert isinstance(printed, dict) and set(printed) == {"email", "password", "role", "brands"}
    assert (printed["email"], printed["role"], printed["brands"]) == (
        "ana@example.com",
        "admin",
        [second],
    )
    code, everyone, _ = _run(capsys, "users", "create", "bob@example.com", "--database", store_url)
    assert code == 0 and isinstance(everyone, dict)
    assert everyone["role"] == "viewer" and everyone["brands"] == [first, second]
    store = open_store(store_url)
    try:
        user = store.user_by_email("ANA@example.com")
        assert user is not None and verify_password(str(printed["password"]), user.password_hash)
    finally:
        store.close()
    code, listed, _ = _run(capsys, "users", "list", "--database", store_url)
    assert isinstance(listed, list)
    assert [(u["email"], u["role"]) for u in listed] == [
        ("ana@example.com", "admin"),
        ("bob@example.com", "viewer"),
    ]
    assert "password" not in json.dumps(listed)


def test_users_create_refuses_an_unknown_brand_and_a_taken_email(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, printed, err = _run(
        capsys, "users", "create", "ana@example.com", "--brand", "42", "--database", store_url
    )
    assert (code, printed) == (2, None) and "no brand 42" in err
    assert _run(capsys, "users", "create", "ana@example.com", "--database", store_url)[0] == 0
    code, printed, err = _run(capsys, "users", "create", "ANA@example.com", "--database", store_url)
    assert (code, printed) == (2, None) and "exists" in err
    code, _, err = _run(capsys, "users", "create", "not-an-email", "--database", store_url)
    assert code == 2 and "not an email" in err


def test_users_create_takes_a_password_from_stdin(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-passphrase\n"))
    code, printed, _ = _run(
        capsys, "users", "create", "cy@example.com", "--password-stdin", "--database", store_url
    )
    assert code == 0 and isinstance(printed, dict) and printed["password"] is None
    store = open_store(store_url)
    try:
        user = store.user_by_email("cy@example.com")
        assert user is not None and verify_password("s3cret-passphrase", user.password_hash)
    finally:
        store.close()
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = _run(
        capsys, "users", "create", "di@example.com", "--password-stdin", "--database", store_url
    )
    assert code == 2 and "8 to" in err


# the sign-in limit and the next page -----------------------------------------------------------
def test_the_sign_in_limit_counts_per_email_and_per_address_in_a_window() -> None:
    from collector.users.limits import LoginLimiter

    limiter = LoginLimiter(per_email=3, per_address=5, window_s=0.3)
    for _ in range(3):
        assert limiter.retry_after("a@x.example", "10.0.0.1") is None
        limiter.failed("A@x.example", "10.0.0.1")
    assert limiter.retry_after("a@X.example", "10.0.0.9") == 1  # the email, from anywhere
    assert limiter.retry_after("b@x.example", "10.0.0.1") is None  # 3 of the address's 5
    limiter.failed("b@x.example", "10.0.0.1")
    limiter.failed("c@x.example", "10.0.0.1")
    assert limiter.retry_after("d@x.example", "10.0.0.1") == 1  # the address, any email
    time.sleep(0.35)
    assert limiter.retry_after("a@x.example", "10.0.0.1") is None  # the window has passed
    limiter.failed("e@x.example", None)
    limiter.failed("e@x.example", None)
    limiter.succeeded("E@x.example")
    limiter.failed("e@x.example", None)
    assert limiter.retry_after("e@x.example", None) is None  # a success cleared the count


def test_next_is_only_ever_a_path_of_this_site() -> None:
    from collector.dashboard.login import safe_next

    for kept in ("/", "/sessions?brand=1&interval=7d", "/sessions/01abc", "/links#x"):
        assert safe_next(kept) == kept
    for refused in (
        None,
        "",
        "sessions",
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "/a\nb",
        "/x\\y",
        "javascript:alert(1)",
    ):
        assert safe_next(refused) == "/", refused
