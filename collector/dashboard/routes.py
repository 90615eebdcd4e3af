"""The dashboard's rows of the route table: the sign-in form, sign-out, the page paths that
answer the shell, and the built files (area "Dashboard")."""

from __future__ import annotations

from typing import Annotated

import msgspec

from collector.http.routing import Endpoint, Example, Reply, routes_of

from .login import login, login_form, logout
from .shell import Shell

HTML = "text/html"
PAGES = (
    "/",
    "/sessions",
    "/replays",
    "/conversions",
    "/funnels",
    "/links",
    "/settings",
    "/heatmaps",
)
_SIGNED_IN = (
    "Signed in (the `ct_session` cookie), the dashboard's shell page; its script shows the "
    "view of the path. Not signed in: 303 to `/login?next=` this path and query."
)


class LoginQuery(msgspec.Struct, kw_only=True):
    next: (
        Annotated[str, msgspec.Meta(description="Where to go once signed in: a path of this site.")]
        | None
    ) = None


class LoginForm(msgspec.Struct, kw_only=True):
    """The sign-in form's fields (form-encoded)."""

    email: str
    password: str
    csrf_token: Annotated[
        str, msgspec.Meta(description="The value of the `ct_csrf` cookie `GET /login` set.")
    ]


class LogoutForm(msgspec.Struct, kw_only=True):
    """The session's CSRF token (the shell's `csrf-token` meta), or the `X-CSRF-Token` header."""

    csrf_token: str | None = None


class SessionPagePath(msgspec.Struct, kw_only=True):
    session_id: Annotated[str, msgspec.Meta(max_length=200, description="A visitor session.")]


class FilePath(msgspec.Struct, kw_only=True):
    file: Annotated[str, msgspec.Meta(description="A file of the build, e.g. `app.js`.")]


_SHELL_REPLIES = (
    Reply(200, "The shell page", media_type=HTML),
    Reply(303, "Not signed in: to the sign-in form", media_type=HTML),
    Reply(503, "The dashboard is not built", media_type="text/plain"),
)
_FORM_URLENCODED = "application/x-www-form-urlencoded"


def _page(path: str, shell: Shell) -> Endpoint:
    return Endpoint(
        "GET",
        path,
        shell.page,
        summary=f"Dashboard page {path}",
        area="Dashboard",
        auth="public",
        description=_SIGNED_IN,
        replies=_SHELL_REPLIES,
    )


def make_endpoints(shell: Shell) -> list[Endpoint]:
    return [
        Endpoint(
            "GET",
            "/login",
            login_form,
            summary="The sign-in form",
            area="Dashboard",
            auth="public",
            description="Sets the `ct_csrf` cookie its form sends back. Signed in already: "
            "303 to `next`.",
            query=LoginQuery,
            replies=(
                Reply(200, "The form", media_type=HTML),
                Reply(303, "Signed in already: to `next`", media_type=HTML),
            ),
        ),
        Endpoint(
            "POST",
            "/login",
            login,
            summary="Sign in",
            area="Dashboard",
            auth="public",
            description="Sets the session cookie `ct_session` (HttpOnly, SameSite=Lax, Secure "
            "under https) and goes to `next`. Refused from another site. After 5 wrong "
            "passwords for an email (or 20 from an address) in 15 minutes: 429 for a while.",
            query=LoginQuery,
            body=LoginForm,
            body_media_type=_FORM_URLENCODED,
            replies=(
                Reply(303, "Signed in: to `next` (a path of this site) or `/`", media_type=HTML),
                Reply(401, "Wrong email or password: the form again", media_type=HTML),
                Reply(403, "Sent from another site, or without the form's token", media_type=HTML),
                Reply(429, "Too many wrong passwords; see Retry-After", media_type=HTML),
            ),
            errors=(400, 413),
        ),
        Endpoint(
            "POST",
            "/logout",
            logout,
            summary="Sign out",
            area="Dashboard",
            auth="public",
            description="Deletes the session and clears its cookie. Needs the session's CSRF "
            "token (form field `csrf_token` or header `X-CSRF-Token`); refused from another site.",
            body=LogoutForm,
            body_media_type=_FORM_URLENCODED,
            body_required=False,
            replies=(Reply(303, "Signed out: to /login", media_type=HTML),),
            errors=(400, 403, 413),
        ),
        *(_page(path, shell) for path in PAGES[:2]),
        Endpoint(
            "GET",
            "/sessions/{session_id}",
            shell.page,
            summary="Dashboard page of one session",
            area="Dashboard",
            auth="public",
            description=_SIGNED_IN,
            path_params=SessionPagePath,
            replies=_SHELL_REPLIES,
            example=Example(path={"session_id": "01jd0x4a5b6c7d8e9f0g1h2j3k"}),
        ),
        *(_page(path, shell) for path in PAGES[2:]),
        Endpoint(
            "GET",
            "/dashboard/{file}",
            shell.asset,
            summary="The dashboard's built script, stylesheet and other files",
            area="Dashboard",
            auth="public",
            path_params=FilePath,
            replies=(Reply(200, "The file", media_type="*/*"), Reply(304, "Not modified")),
            errors=(404, 503),
            example=Example(path={"file": "app.js"}),
        ),
    ]


endpoints = make_endpoints(Shell())
routes = routes_of(endpoints)
