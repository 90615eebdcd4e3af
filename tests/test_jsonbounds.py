"""The byte-level checks on JSON kept as sent: depth and text, whole or a window at a time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector import jsonbounds
from collector.jsonbounds import json_problem, nesting_depth

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.sampled_from('ab[]{}"\\é🎉')),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=20,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@given(values, st.booleans())
def test_nesting_depth_matches_the_structure_whatever_the_strings_hold(value, ascii_only):
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert nesting_depth(raw) == _depth(value)


@pytest.mark.parametrize("window", [1, 2, 3, 7])
def test_depth_and_text_are_the_same_a_few_bytes_at_a_time(monkeypatch, window):
    monkeypatch.setattr(jsonbounds, "WINDOW", window)
    raw = json.dumps({"a": ['x\\"[[{', {"b": [[["é🎉\\\\"]]]}], "c": "]]]"}).encode()
    assert nesting_depth(raw) == 6
    assert json_problem(raw, 6) is None
    assert json_problem(raw, 5) == "nests deeper than 5 levels"
    assert json_problem(b'{"a": "\xc3\xa9\xff"}', 5) == "is not valid UTF-8 (byte 9)"


def test_text_problems_are_named():
    assert json_problem(b'{"a": "\\ud800"}', 5) == (
        "holds a \\u escape that is not text (a lone UTF-16 surrogate)"
    )
    assert json_problem(b'{"a": "\\ud83c\\udf89"}', 5) is None
    assert json_problem(b'{"a": "\\\\ud800"}', 5) is None  # a backslash, then the letters


def test_a_real_recording_nests_well_within_the_replay_bound(testdata_dir):
    raw = (testdata_dir / "recordings" / "demoit-react-hooks.json").read_bytes()
    assert nesting_depth(raw) == _depth(json.loads(raw))
    assert json_problem(raw, 256) is None
