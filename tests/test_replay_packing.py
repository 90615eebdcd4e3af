"""Packed replay segments (collector/replay/packing.py): the exact bytes come back, whatever JSON
they were; what is not JSON is refused (pack gives None) rather than changed."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.replay.packing import pack, unpack

RECORDINGS = Path(__file__).resolve().parents[1] / "bench" / "recordings"


def round_trips(text: bytes) -> bytes:
    packed = pack(text)
    assert packed is not None, text[:200]
    assert unpack(packed) == text
    return packed


@pytest.mark.parametrize("path", sorted(RECORDINGS.glob("*.json.zst")), ids=lambda p: p.stem)
def test_recorded_replays_round_trip_exactly(path: Path):
    events_json = zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes())
    packed = round_trips(events_json)
    assert len(zstandard.compress(packed, 19)) < len(zstandard.compress(events_json, 19))


def test_the_shared_recording_round_trips_as_stored_with_its_whitespace(testdata_dir: Path):
    pretty = (testdata_dir / "recordings" / "demoit-react-hooks.json").read_bytes()
    round_trips(pretty)
    round_trips(json.dumps(json.loads(pretty), indent=2).encode())


EDGE_CASES = [
    b"[]",
    b"[ ]",
    b'[{"type":3,"data":{"source":0,"adds":[],"removes":[]},"timestamp":1}]',
    # node ids: negative, -0, floats, exponents and huge ones are kept as written
    b'[{"id":-1,"parentId":-0,"nextId":1.5,"previousId":1e3,"x":-0,"y":12345678901234567890}]',
    b'[{"timestamp":1.25},{"timestamp":-7},{"timestamp":3},{"timeOffset":0}]',
    # placeholders, keys and escapes inside strings
    b'[{"textContent":"$ # \\"id\\":5, \\\\","a\\"id":"x","id":"not a number","":""}]',
    b'[{"name":"\\u00e9\\ud83d\\ude00 \xc3\xa9 \\n\\t","class":"","style":"a: b; c: d;"}]',
    # array elements with no key, nested arrays, literals
    b'[[1,2,[3,"x",null]],{"args":[true,false,null,-1,"$"]},{"k":{"id":[4,5]}}]',
    b'{"not":"an array","id":3}',
    b'  [\n  {"type": 4, "data": {"href": "x"}, "timestamp": 10}\n]\n',
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_round_trip(text: bytes):
    round_trips(text)


@pytest.mark.parametrize(
    "text",
    [
        b'["raw\nnewline"]',  # a control character inside a string: not JSON
        b'["nul\x00"]',
        b"[1 # 2]",
        b'[{"id":01}]',
        b'["\x01"]',  # the placeholder byte
    ],
)
def test_what_is_not_json_is_refused_not_changed(text: bytes):
    packed = pack(text)
    assert packed is None or unpack(packed) == text


def test_node_ids_and_times_are_stored_as_differences():
    def added(i: int) -> dict:
        adds = [{"parentId": 10 + i, "node": {"id": 11 + i}}]
        return {"type": 3, "data": {"adds": adds}, "timestamp": 1000 + 50 * i}

    events = [added(i) for i in range(20)]
    packed = round_trips(msgspec.json.encode(events))
    sections = dict(s.split(b"\n", 1) for s in packed.split(b"\0")[1:])
    assert sections[b"Did"] == b"11" + b",1" * 19
    assert sections[b"DparentId"] == b"10" + b",1" * 19
    assert sections[b"Dtimestamp"] == b"1000" + b",50" * 19
    assert sections[b"Ntype"] == b",".join([b"3"] * 20)


def test_past_254_keys_the_rest_share_one_stream():
    events = [{f"k{i}": i, f"s{i}": f"v{i}"} for i in range(400)]
    packed = round_trips(msgspec.json.encode(events))
    assert len(packed.split(b"\0")) == 1 + 255


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.sampled_from(["id", "parentId", "nextId", "x", "timestamp", "type", "", "k$", 'q"'])
            | st.text(max_size=4),
            inner,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([None, 2]))
def test_any_json_round_trips(value, indent):
    text = json.dumps([value], indent=indent, ensure_ascii=False).encode()
    round_trips(text)
    round_trips(msgspec.json.encode([value]))
