"""The shell page and the dashboard's built files.

Every page path of the dashboard (``/``, ``/sessions``, ...) answers the same shell, the UI's
built ``index.html`` with the session's CSRF token and the signed-in user (``#ct-boot``)
filled in; the script reads the path itself. Not signed in: 303 to ``/login?next=PATH``. The
built files (``collector/static/dashboard/``, made by ``dashboard/``'s build) are served under
``/dashboard/{file}`` with an ETag; a name that is not a plain file of that directory is 404.
Both are read from disk again when they change, so a rebuild shows without a restart. The
dashboard not built: 503 with a plain-text note.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from collector.http.errors import ApiError
from collector.http.state import runtime
from collector.site.routes import STATIC
from collector.users.sessions import SESSION_COOKIE, SignedIn

from .headers import SHELL_HEADERS, see_other
from .login import login_url, safe_next

BUILD_DIR = Path(str(STATIC / "dashboard"))
NOT_BUILT = "The dashboard is not built: run `make build` (it builds dashboard/ into "
NOT_BUILT += "collector/static/dashboard/)."
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_MEDIA_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".mjs": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}


class _File:
    """A built file in memory, with the modification time it was read at and its ETag."""

    def __init__(self, path: Path, mtime: float) -> None:
        self.body = path.read_bytes()
        self.mtime = mtime
        self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class BuiltFiles:
    """The files of a build directory, read again when their modification time changes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files: dict[str, _File] = {}

    def get(self, name: str) -> _File | None:
        path = self.directory / name
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        known = self._files.get(name)
        if known is None or known.mtime != mtime:
            if not path.is_file():
                return None
            known = _File(path, mtime)
            self._files[name] = known
        return known


def boot_json(request: Request, signed_in: SignedIn) -> str:
    """The signed-in user as the shell's #ct-boot holds it (``<`` escaped, so the text can
    never close the script element)."""
    store = runtime(request).store
    brands = [b for b in (store.get_brand(i) for i in signed_in.user.brands) if b is not None]
    geoip_db = runtime(request).settings.geoip_db or ""
    boot = {
        "email": signed_in.user.email,
        "role": signed_in.user.role,
        "brands": [
            {
                "id": b.id,
                "name": b.name,
                "site_key": b.site_key,
                "domains": b.domains,
                "settings": b.settings,
            }
            for b in brands
        ],
        # DB-IP's licence (CC BY 4.0) asks for the attribution the footer shows
        "geoAttribution": "dbip" in Path(geoip_db).name.lower().replace("-", ""),
    }
    text = msgspec.json.encode(boot).decode()
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class Shell:
    """Serves the shell page and the built files of ``directory``."""

    def __init__(self, directory: Path = BUILD_DIR) -> None:
        self.files = BuiltFiles(directory)

    async def page(self, request: Request) -> Response:
        keys = runtime(request).keys
        token = request.cookies.get(SESSION_COOKIE)
        signed_in = await anyio.to_thread.run_sync(keys.sessions.find, token) if token else None
        if signed_in is None:
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return see_other(login_url(safe_next(here)))
        index = self.files.get("index.html")
        if index is None:
            return PlainTextResponse(
                NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"}
            )
        boot = await anyio.to_thread.run_sync(boot_json, request, signed_in)
        html = (
            index.body.decode()
            .replace("{{CSRF_TOKEN}}", signed_in.session.csrf_token)
            .replace("{{BOOT_JSON}}", boot)
        )
        return Response(html, media_type="text/html; charset=utf-8", headers=SHELL_HEADERS)

    async def asset(self, request: Request) -> Response:
        name = request.path_params["file"]
        media_type = _MEDIA_TYPES.get(Path(name).suffix.lower())
        if not _NAME.match(name) or name == "index.html" or media_type is None:
            raise ApiError(404, f"no such path: {request.url.path}")
        built = self.files.get(name)
        if built is None:
            if self.files.get("index.html") is None:
                raise ApiError(503, NOT_BUILT)
            raise ApiError(404, f"no such path: {request.url.path}")
        headers = {
            "ETag": built.etag,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("if-none-match") == built.etag:
            return Response(status_code=304, headers=headers)
        return Response(built.body, media_type=media_type, headers=headers)
