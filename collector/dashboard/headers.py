"""The security headers of the dashboard's HTML answers."""

from __future__ import annotations

import html

from starlette.responses import HTMLResponse

# The shell loads only its own built script and stylesheet; the JSON in #ct-boot is data, not
# script, so it needs no 'unsafe-inline'. Inline styles are allowed (the charts and the UI set
# style attributes). frame-ancestors 'self': nobody else may frame it (clickjacking); frame-src
# 'self': it embeds the replay viewer (/replay/{id}).
SHELL_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self'",
        "frame-ancestors 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
# The sign-in form: no script at all, its own inline stylesheet, posts only to itself.
LOGIN_CSP = "; ".join(
    [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)


def html_headers(csp: str, frame: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Frame-Options": frame,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


SHELL_HEADERS = html_headers(SHELL_CSP, "SAMEORIGIN")
LOGIN_HEADERS = html_headers(LOGIN_CSP, "DENY")


def see_other(location: str) -> HTMLResponse:
    """A 303 to ``location`` (a path of this site), with a link for whoever does not follow
    it, so the answer has a media type like every other."""
    link = html.escape(location)
    body = f'<!doctype html><title>See other</title><a href="{link}">{link}</a>'
    return HTMLResponse(
        body, status_code=303, headers={"Location": location, "Cache-Control": "no-store"}
    )
