"""The bodies of the keys and users API."""

from __future__ import annotations

from typing import Annotated

import msgspec

from collector.http.schema import BrandPath, Time
from collector.storage.base import Role, Scope

KEY_ID = Annotated[
    str,
    msgspec.Meta(
        pattern="^[0-9a-f]{1,64}$",
        description="The key's id: the hex between `ct_` and the second `_` of the key.",
    ),
]


class KeyPath(BrandPath, kw_only=True):
    key_id: KEY_ID


KEY_LABEL = Annotated[
    str, msgspec.Meta(max_length=64, description="What the key is for; `demo`: made by the demo.")
]


class KeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    """The new key's scope: read < write < admin."""

    scope: Scope
    label: KEY_LABEL = ""


class KeyJson(msgspec.Struct):
    """An API key of the brand: never its secret (shown once, when made) nor its hash."""

    id: str
    prefix: Annotated[str, msgspec.Meta(description="How the key starts: `ct_<id>_`.")]
    scope: Scope
    createdAt: Time
    lastUsedAt: Annotated[
        Time, msgspec.Meta(description="Its last use, to the minute; null when never used.")
    ]
    label: KEY_LABEL = ""


class NewKeyJson(msgspec.Struct):
    """A key just made. `key` is shown this once: only a hash of its secret is kept."""

    id: str
    key: str
    scope: Scope
    createdAt: Time


class UserJson(msgspec.Struct):
    """A dashboard user who sees the brand."""

    email: str
    role: Role
