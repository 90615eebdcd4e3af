"""``GET /login``, ``POST /login`` and ``POST /logout``.

The form needs no script. Its CSRF protection is a double-submit token: ``GET /login`` sets a
random ``ct_csrf`` cookie and puts the same value in a hidden field; ``POST /login`` must send
both, equal, and must not come from another site (``Sec-Fetch-Site``, ``Origin``). A wrong
email or password answers the form again with 401 and "Wrong email or password" (the same for
both, and as slow for an unknown email as for a wrong password); too many in a row, 429
(``collector/users/limits.py``). Signing in sets ``ct_session`` (HttpOnly, SameSite=Lax,
Path=/, Secure under https) and goes (303) to ``next`` when it is a path of this site, else to
``/``. ``POST /logout`` needs the session's CSRF token (the form field ``csrf_token`` or the
``X-CSRF-Token`` header), deletes the session, clears the cookie and goes to ``/login``.
"""

from __future__ import annotations

import html
import secrets
from urllib.parse import parse_qsl, quote, urlsplit

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from collector.http.auth import CSRF_HEADER
from collector.http.body import read_body
from collector.http.errors import ApiError
from collector.http.state import runtime
from collector.site.routes import STATIC
from collector.storage.base import User
from collector.users.origin import client_address, cross_site_problem, is_https, tokens_match
from collector.users.passwords import dummy_hash, verify_password
from collector.users.sessions import SESSION_COOKIE, SESSION_MS

from .headers import LOGIN_HEADERS, see_other

CSRF_COOKIE = "ct_csrf"
CSRF_FIELD = "csrf_token"
WRONG = "Wrong email or password."
_FORM_LIMIT = 16_384
_TEMPLATE = (STATIC / "login.html").read_text()


def safe_next(value: str | None) -> str:
    """``value`` when it is a path of this site (``/...``, not ``//host`` or a URL), else
    ``/``: signing in never sends anyone to another site."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 32 or c == "\\" for c in value) or len(value) > 2000:
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"


def login_url(next_path: str) -> str:
    return "/login" if next_path == "/" else f"/login?next={quote(next_path, safe='/')}"


def _form_page(
    status: int, csrf: str, next_path: str, error: str = "", email: str = ""
) -> HTMLResponse:
    query = "" if next_path == "/" else f"?next={quote(next_path, safe='/')}"
    page = (
        _TEMPLATE.replace("{{ERROR}}", html.escape(error))
        .replace("{{NEXT_QUERY}}", html.escape(query))
        .replace("{{CSRF}}", html.escape(csrf))
        .replace("{{EMAIL}}", html.escape(email))
        # the field to type in next: the password once the email is known
        .replace("{{EMAIL_FOCUS}}", "" if email else " autofocus")
        .replace("{{PASSWORD_FOCUS}}", " autofocus" if email else "")
    )
    return HTMLResponse(page, status_code=status, headers=LOGIN_HEADERS)


def _with_csrf_cookie(response: Response, request: Request, csrf: str) -> Response:
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=SESSION_MS // 1000,
        path="/login",
        secure=is_https(request, runtime(request).settings),
        httponly=True,
        samesite="strict",
    )
    return response


def _csrf_of(request: Request) -> str:
    """The browser's double-submit token, or a new one."""
    token = request.cookies.get(CSRF_COOKIE, "")
    return token if 20 <= len(token) <= 100 and token.isascii() else secrets.token_urlsafe(24)


async def login_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    keys = runtime(request).keys
    token = request.cookies.get(SESSION_COOKIE)
    if token and await anyio.to_thread.run_sync(keys.sessions.find, token) is not None:
        return see_other(next_path)
    csrf = _csrf_of(request)
    return _with_csrf_cookie(_form_page(200, csrf, next_path), request, csrf)


async def _form(request: Request) -> dict[str, str]:
    body = await read_body(request, _FORM_LIMIT)
    try:
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        return {}


def _check_password(request: Request, email: str, password: str) -> User | None:
    """The user, when the password is theirs (blocking: scrypt and the store)."""
    user = runtime(request).store.user_by_email(email) if email else None
    matches = verify_password(password, user.password_hash if user else dummy_hash())
    return user if user is not None and matches else None


async def login(request: Request) -> Response:
    settings = runtime(request).settings
    keys = runtime(request).keys
    next_path = safe_next(request.query_params.get("next"))
    form = await _form(request)
    email = form.get("email", "").strip()[:254]
    csrf = _csrf_of(request)
    problem = cross_site_problem(request, settings)
    if problem is not None or not tokens_match(form.get(CSRF_FIELD), csrf):
        error = "This form was sent from another site, or it expired. Please sign in again."
        return _with_csrf_cookie(_form_page(403, csrf, next_path, error, email), request, csrf)
    address = _address(request)
    wait = keys.logins.retry_after(email, address)
    if wait is not None:
        minutes = max(1, round(wait / 60))
        error = f"Too many wrong passwords. Try again in {minutes} minute{'s' * (minutes > 1)}."
        page = _form_page(429, csrf, next_path, error, email)
        page.headers["Retry-After"] = str(wait)
        return page
    user = await anyio.to_thread.run_sync(_check_password, request, email, form.get("password", ""))
    if user is None:
        keys.logins.failed(email, address)
        return _form_page(401, csrf, next_path, WRONG, email)
    keys.logins.succeeded(email)
    token, _ = await anyio.to_thread.run_sync(keys.sessions.start, user)
    response = see_other(next_path)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_MS // 1000,
        path="/",
        secure=is_https(request, settings),
        httponly=True,
        samesite="lax",
    )
    return response


def _address(request: Request) -> str | None:
    return client_address(request, runtime(request).settings)


async def logout(request: Request) -> Response:
    settings = runtime(request).settings
    keys = runtime(request).keys
    problem = cross_site_problem(request, settings)
    if problem is not None:
        raise ApiError(403, problem)
    token = request.cookies.get(SESSION_COOKIE)
    signed_in = await anyio.to_thread.run_sync(keys.sessions.find, token) if token else None
    if signed_in is not None and token is not None:
        given = request.headers.get(CSRF_HEADER) or (await _form(request)).get(CSRF_FIELD)
        if not tokens_match(given, signed_in.session.csrf_token):
            raise ApiError(403, f"signing out needs the page's CSRF token ({CSRF_FIELD})")
        await anyio.to_thread.run_sync(keys.sessions.end, token)
    response = see_other("/login")
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=is_https(request, settings), httponly=True, samesite="lax"
    )
    return response
