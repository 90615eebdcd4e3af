"""``clicktrail users create`` and ``clicktrail users list``: dashboard users.

``create`` prints one JSON object, ``{"email", "password", "role", "brands"}``. The password is
generated (shown this once, never stored in clear), or read from the first line of stdin with
``--password-stdin`` (then printed as null: whoever piped it has it). Without ``--brand`` the
user is given every brand that exists at that moment (docs/DECISIONS.md, issue 12). An unknown
brand, a taken email or an unusable password exits with 2 and a message on stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, get_args

from collector.cli.common import add_settings, now_ms
from collector.config import Settings, SettingsError
from collector.storage import open_store
from collector.storage.base import Role, Store, User
from collector.users.passwords import generate_password, hash_password

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254


def register(commands: argparse._SubParsersAction) -> None:
    users = commands.add_parser("users", help="manage dashboard users").add_subparsers(
        dest="action", required=True
    )
    create = users.add_parser(
        "create", help="create a dashboard user; prints it with its password, once"
    )
    create.add_argument("email")
    create.add_argument(
        "--brand",
        type=int,
        action="append",
        default=[],
        help="id of a brand the user sees (repeat); default: every brand there is now",
    )
    create.add_argument("--role", choices=get_args(Role), default="viewer")
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin's first line instead of generating one",
    )
    add_settings(create, ["database"])
    create.set_defaults(run=users_create)

    listing = users.add_parser("list", help="list dashboard users (never their passwords)")
    add_settings(listing, ["database"])
    listing.set_defaults(run=users_list)


def checked_email(email: str) -> str:
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or len(email) > MAX_EMAIL_LENGTH:
        raise SettingsError(f"{email!r} is not an email address")
    if any(c.isspace() or ord(c) < 32 for c in email):
        raise SettingsError(f"{email!r} is not an email address (no spaces or control characters)")
    return email


def password_from_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise SettingsError(
            f"--password-stdin: the password must have {MIN_PASSWORD_LENGTH} to "
            f"{MAX_PASSWORD_LENGTH} characters"
        )
    return password


def given_brands(store: Store, wanted: list[int]) -> list[int]:
    """The brands to give: those named (each must exist), or every brand there is."""
    known = {brand.id for brand in store.list_brands()}
    if not wanted:
        return sorted(known)
    for brand_id in wanted:
        if brand_id not in known:
            raise SettingsError(f"--brand: no brand {brand_id}")
    return list(dict.fromkeys(wanted))


def create_user(
    store: Store, email: str, password: str, role: Role, brands: list[int] | None = None
) -> User:
    """A new user of ``store`` (brands: see :func:`given_brands`); SettingsError when the email
    is taken or a brand is unknown."""
    try:
        return store.create_user(
            checked_email(email),
            hash_password(password),
            role,
            given_brands(store, brands or []),
            now_ms(),
        )
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def users_create(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    typed = password_from_stdin() if args.password_stdin else None
    password = typed or generate_password()
    store = open_store(settings.database)
    try:
        user = create_user(store, args.email, password, args.role, args.brand)
    finally:
        store.close()
    return {
        "email": user.email,
        "password": None if typed else password,
        "role": user.role,
        "brands": user.brands,
    }


def users_list(args: argparse.Namespace, settings: Settings) -> list[dict[str, Any]]:
    store = open_store(settings.database)
    try:
        users = store.list_users()
    finally:
        store.close()
    return [
        {
            "id": u.id,
            "email": u.email,
            "role": u.role,
            "brands": u.brands,
            "created_at": u.created_at,
        }
        for u in users
    ]
