"""The built-in zstd dictionary: what a brand's replays are compressed with before the brand has a
dictionary of its own.

``base.zdict`` is built by ``bench/build_replay_dictionary.py`` from a synthetic corpus (rrweb's
event structure, HTML and CSS vocabulary; no recorded page), packed as segments are
(``packing.py``). It never changes once segments use it: a new one would be another file and
another segment codec (``codec.py``), so that every segment still names what it was written with.
It is read once per process.
"""

from __future__ import annotations

import functools
from pathlib import Path

import zstandard

DICTIONARY_FILE = Path(__file__).with_name("base.zdict")


@functools.cache
def base_dictionary() -> zstandard.ZstdCompressionDict:
    """The built-in dictionary, loaded on first use."""
    return zstandard.ZstdCompressionDict(DICTIONARY_FILE.read_bytes())
