"""ClickHouse: dashboard users, their sign-in sessions, and API keys as their admins manage them.

``users``: ReplacingMergeTree by id, read with ``FINAL``; the email's uniqueness
(``email_key``, the lower-cased email) and the next id are decided under the store's lock, as
for brands. ``login_sessions``: one row per session, removed with a lightweight ``DELETE`` that
is waited for, so a sign-out holds for every collector on the database once it returns.
A revoked API key is deleted the same way. A key's last use is a row of ``api_key_uses``
(ReplacingMergeTree keeping the latest time), so recording a use never rewrites the key and
cannot bring a revoked one back.
"""

from __future__ import annotations

from typing import Any

from ..model import KeyInfo, LoginSession, Role, User, email_key
from .connection import ClickHouseBase

_USER_COLUMNS = ("id", "email", "email_key", "password_hash", "role", "brands", "created_at")
_USER_COLUMNS_SQL = "id, email, password_hash, role, brands, created_at"
_SESSION_COLUMNS = ("token_hash", "user_id", "csrf_token", "created_at", "expires_at")


def _to_user(row: tuple[Any, ...]) -> User:
    id_, email, password_hash, role, brands, created_at = row
    return User(
        id=id_,
        email=email,
        password_hash=password_hash,
        role=role,
        brands=[int(b) for b in brands],
        created_at=created_at,
    )


class UsersMixin(ClickHouseBase):
    """:class:`~collector.storage.base.UserStore` on ClickHouse."""

    # users -------------------------------------------------------------------------------
    def _users(self, where: str = "", params: dict[str, Any] | None = None) -> list[User]:
        rows = self._rows(
            f"SELECT {_USER_COLUMNS_SQL} FROM {{db}}.users FINAL {where} ORDER BY id", params
        )
        return [_to_user(r) for r in rows]

    def create_user(
        self, email: str, password_hash: str, role: Role, brands: list[int], now: int
    ) -> User:
        email = email.strip()
        with self._lock:
            if self.user_by_email(email) is not None:
                raise ValueError(f"a user with the email {email!r} exists")
            rows = self._rows("SELECT max(id) FROM {db}.users")
            user = User(
                id=int(rows[0][0] or 0) + 1,
                email=email,
                password_hash=password_hash,
                role=role,
                brands=list(brands),
                created_at=now,
            )
            row = (user.id, email, email_key(email), password_hash, role, user.brands, now)
            self._insert("users", _USER_COLUMNS, [row])
        return user

    def user_by_email(self, email: str) -> User | None:
        found = self._users("WHERE email_key = {key:String}", {"key": email_key(email)})
        return found[0] if found else None

    def get_user(self, user_id: int) -> User | None:
        found = self._users("WHERE id = {id:UInt64}", {"id": user_id})
        return found[0] if found else None

    def list_users(self) -> list[User]:
        return self._users()

    # sign-in sessions --------------------------------------------------------------------
    def add_login_session(self, session: LoginSession) -> None:
        row = (
            session.token_hash,
            session.user_id,
            session.csrf_token,
            session.created_at,
            session.expires_at,
        )
        self._insert("login_sessions", _SESSION_COLUMNS, [row])

    def login_session(self, token_hash: str) -> LoginSession | None:
        rows = self._rows(
            f"SELECT {', '.join(_SESSION_COLUMNS)} FROM {{db}}.login_sessions"
            " WHERE token_hash = {hash:String} LIMIT 1",
            {"hash": token_hash},
        )
        if not rows:
            return None
        token, user_id, csrf_token, created_at, expires_at = rows[0]
        return LoginSession(
            token_hash=token,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=created_at,
            expires_at=expires_at,
        )

    def delete_login_session(self, token_hash: str) -> None:
        self._command(
            "DELETE FROM {db}.login_sessions WHERE token_hash = {hash:String}",
            {"hash": token_hash},
        )

    def delete_expired_login_sessions(self, now: int) -> None:
        where = " WHERE expires_at <= fromUnixTimestamp64Milli({now:Int64}, 'UTC')"
        rows = self._rows("SELECT count() FROM {db}.login_sessions" + where, {"now": now})
        if rows and rows[0][0]:  # a DELETE rewrites parts: only when there is something to drop
            self._command("DELETE FROM {db}.login_sessions" + where, {"now": now})

    # API keys ----------------------------------------------------------------------------
    def api_keys_of_brand(self, brand_id: int) -> list[KeyInfo]:
        rows = self._rows(
            "SELECT k.id, k.brand_id, k.scope, k.created_at, u.last_used, k.label"
            " FROM {db}.api_keys AS k FINAL"
            " LEFT JOIN (SELECT key_id, max(last_used_at) AS last_used"
            "  FROM {db}.api_key_uses GROUP BY key_id) AS u ON u.key_id = k.id"
            " WHERE k.brand_id = {brand:UInt64} ORDER BY k.created_at, k.id",
            {"brand": brand_id},
        )
        return [
            KeyInfo(
                id=r[0],
                brand_id=r[1],
                scope=r[2],
                created_at=r[3],
                last_used_at=r[4] or None,  # the join's default for a key never used is 0
                label=r[5],
            )
            for r in rows
        ]

    def revoke_api_key(self, brand_id: int, key_id: str) -> bool:
        params = {"id": key_id, "brand": brand_id}
        with self._lock:
            rows = self._rows(
                "SELECT count() FROM {db}.api_keys FINAL"
                " WHERE id = {id:String} AND brand_id = {brand:UInt64}",
                params,
            )
            if not rows or not rows[0][0]:
                return False
            self._command(
                "DELETE FROM {db}.api_keys WHERE id = {id:String} AND brand_id = {brand:UInt64}",
                params,
            )
            self._command("DELETE FROM {db}.api_key_uses WHERE key_id = {id:String}", params)
        return True

    def touch_api_key(self, key_id: str, now: int) -> None:
        self._insert("api_key_uses", ("key_id", "last_used_at"), [(key_id, now)])
