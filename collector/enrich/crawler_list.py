"""The crawler patterns of the ``crawler-user-agents`` package (monperrus/crawler-user-agents on
PyPI, pinned in pyproject.toml), grouped by the reason label their tags give.

The package's JSON is read as data (each entry: a case-sensitive ``pattern``, ``tags``,
``instances``); its own Python helpers are not used. The version is pinned in pyproject.toml; a
bump is checked by tests/test_bot_corpus.py (recall and false positives on public corpora).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata, resources
from typing import Any

PACKAGE = "crawler-user-agents"

# Entries whose pattern also matches real browsers of uap-core's test cases, left out:
DROPPED_PATTERNS = frozenset(
    {
        r"008\/",  # Opera Mini's build number "4.4.39008/..."
        r"RED\/",  # WIRED's iPad app ("WIRED/3.2")
        r"AP3A\.240617\.008",  # an Android build id, shared by every phone on that build
    }
)

# The label of an entry, from the first of its tags found here; any other tag: "crawler".
_KIND_OF_TAG = {
    "browser-automation": "headless",
    "http-library": "library",
    "social-preview": "preview",
}


@dataclass(frozen=True, slots=True)
class CrawlerList:
    version: str
    patterns: dict[str, list[str]]  # kind ("headless", "library", "preview", "crawler") -> regexes
    instances: list[str]  # the example user agents the list ships, deduplicated, sorted


def _kind(tags: list[str]) -> str:
    return next((_KIND_OF_TAG[tag] for tag in tags if tag in _KIND_OF_TAG), "crawler")


def entries() -> list[dict[str, Any]]:
    """The package's entries, as its JSON has them."""
    text = (resources.files("crawleruseragents") / "crawler-user-agents.json").read_text("utf-8")
    data: list[dict[str, Any]] = json.loads(text)
    return data


def load() -> CrawlerList:
    """The list, grouped by kind, without :data:`DROPPED_PATTERNS`."""
    patterns: dict[str, list[str]] = {"headless": [], "library": [], "preview": [], "crawler": []}
    instances: set[str] = set()
    for entry in entries():
        instances.update(entry.get("instances", ()))
        if entry["pattern"] not in DROPPED_PATTERNS:
            patterns[_kind(entry.get("tags", []))].append(entry["pattern"])
    return CrawlerList(metadata.version(PACKAGE), patterns, sorted(instances))
