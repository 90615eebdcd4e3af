"""SQLite: dashboard users, their sign-in sessions, and API keys as their admins manage them.

A user's email is unique by ``email_key`` (the lower-cased email, a UNIQUE column); the brands a
user sees are a JSON list of ids. A revoked API key is deleted; ``last_used_at`` is a column of
``api_keys``, written at most once a minute per key (``collector/http/auth.py``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from ..model import KeyInfo, LoginSession, Role, User, email_key
from ..rows import json_text
from .connection import SQLiteBase

_decode_brands = msgspec.json.Decoder(list[int]).decode

_USER_COLUMNS_SQL = "id, email, password_hash, role, brands, created_at"
_SESSION_COLUMNS_SQL = "token_hash, user_id, csrf_token, created_at, expires_at"


def _to_user(row: tuple[Any, ...]) -> User:
    id_, email, password_hash, role, brands, created_at = row
    return User(
        id=id_,
        email=email,
        password_hash=password_hash,
        role=role,
        brands=_decode_brands(brands),
        created_at=created_at,
    )


class UsersMixin(SQLiteBase):
    """:class:`~collector.storage.base.UserStore` on SQLite."""

    # users -------------------------------------------------------------------------------
    def create_user(
        self, email: str, password_hash: str, role: Role, brands: list[int], now: int
    ) -> User:
        email = email.strip()
        try:
            with self._write() as conn:
                cursor = conn.execute(
                    "INSERT INTO users (email, email_key, password_hash, role, brands, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (email, email_key(email), password_hash, role, json_text(list(brands)), now),
                )
                user_id = cursor.lastrowid
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"a user with the email {email!r} exists") from exc
        assert user_id is not None
        return User(
            id=user_id,
            email=email,
            password_hash=password_hash,
            role=role,
            brands=list(brands),
            created_at=now,
        )

    def user_by_email(self, email: str) -> User | None:
        row = self._one(
            f"SELECT {_USER_COLUMNS_SQL} FROM users WHERE email_key = ?", (email_key(email),)
        )
        return _to_user(row) if row else None

    def get_user(self, user_id: int) -> User | None:
        row = self._one(f"SELECT {_USER_COLUMNS_SQL} FROM users WHERE id = ?", (user_id,))
        return _to_user(row) if row else None

    def list_users(self) -> list[User]:
        return [
            _to_user(r) for r in self._all(f"SELECT {_USER_COLUMNS_SQL} FROM users ORDER BY id")
        ]

    # sign-in sessions --------------------------------------------------------------------
    def add_login_session(self, session: LoginSession) -> None:
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO login_sessions ({_SESSION_COLUMNS_SQL}) VALUES (?, ?, ?, ?, ?)",
                (
                    session.token_hash,
                    session.user_id,
                    session.csrf_token,
                    session.created_at,
                    session.expires_at,
                ),
            )

    def login_session(self, token_hash: str) -> LoginSession | None:
        row = self._one(
            f"SELECT {_SESSION_COLUMNS_SQL} FROM login_sessions WHERE token_hash = ?",
            (token_hash,),
        )
        if row is None:
            return None
        token, user_id, csrf_token, created_at, expires_at = row
        return LoginSession(
            token_hash=token,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=created_at,
            expires_at=expires_at,
        )

    def delete_login_session(self, token_hash: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM login_sessions WHERE token_hash = ?", (token_hash,))

    def delete_expired_login_sessions(self, now: int) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM login_sessions WHERE expires_at <= ?", (now,))

    # API keys ----------------------------------------------------------------------------
    def api_keys_of_brand(self, brand_id: int) -> list[KeyInfo]:
        rows = self._all(
            "SELECT id, brand_id, scope, created_at, last_used_at, label FROM api_keys"
            " WHERE brand_id = ? ORDER BY created_at, id",
            (brand_id,),
        )
        return [
            KeyInfo(
                id=r[0], brand_id=r[1], scope=r[2], created_at=r[3], last_used_at=r[4], label=r[5]
            )
            for r in rows
        ]

    def revoke_api_key(self, brand_id: int, key_id: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM api_keys WHERE id = ? AND brand_id = ?", (key_id, brand_id)
            )
            return cursor.rowcount > 0

    def touch_api_key(self, key_id: str, now: int) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE api_keys SET last_used_at = ? WHERE id = ?"
                " AND (last_used_at IS NULL OR last_used_at < ?)",
                (now, key_id, now),
            )
