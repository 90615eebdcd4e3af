"""The demo's dashboard user: an admin of the demo brand, created on first use, whose password
is derived from a secret kept in the database (``secrets``), so every start of
``clicktrail demo`` can print the same sign-in without the password being stored in clear."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import NamedTuple

from collector.cli.users import create_user
from collector.storage.base import Store
from collector.users.passwords import verify_password

DEMO_EMAIL = "demo@example.com"
_SECRET = "demo-user"


class DemoSignIn(NamedTuple):
    email: str
    password: str | None  # None: the user's password was changed since it was made


def demo_password(store: Store) -> str:
    """20 URL-safe characters (120 bits) derived from the database's demo secret."""
    digest = hmac.new(store.secret(_SECRET), b"demo password", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:20]


def ensure_demo_user(store: Store, brand_id: int) -> DemoSignIn:
    """The demo user (made on first use, an admin of ``brand_id``) and its password."""
    password = demo_password(store)
    user = store.user_by_email(DEMO_EMAIL)
    if user is None:
        create_user(store, DEMO_EMAIL, password, "admin", [brand_id])
        return DemoSignIn(DEMO_EMAIL, password)
    if verify_password(password, user.password_hash):
        return DemoSignIn(DEMO_EMAIL, password)
    return DemoSignIn(DEMO_EMAIL, None)
