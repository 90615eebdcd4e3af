"""Build collector/replay/base.zdict, the zstd dictionary of a brand's first replays.

The corpus is synthetic and made here, from rrweb's own structure and the web's vocabulary, not
from any recorded page: rrweb events as the recorder writes them (Meta, FullSnapshot of a
generated document, mutations, mouse moves, clicks, scrolls, inputs), HTML tag and attribute
names, CSS properties with their common values as Chromium serializes them (``rgb(...)``,
``0px``), generic framework-like class names and common English words. Documents are random but
seeded: running the script again gives the same bytes (for the same zstandard version).

Every synthetic recording is packed as segments are (``collector/replay/packing.py``), cut into
samples and a dictionary is trained on them with zstd's COVER trainer.

    python bench/build_replay_dictionary.py            # writes collector/replay/base.zdict
    python bench/build_replay_dictionary.py --check    # fails if the file differs from a build
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collector.replay.base_dictionary import DICTIONARY_FILE  # noqa: E402
from collector.replay.packing import pack  # noqa: E402

SEED = 9
RECORDINGS = 240
DICT_SIZE = 192 * 1024
SAMPLE_BYTES = 16 * 1024
COVER_K, COVER_D = 1024, 8


def _split(text: str) -> list[str]:
    return text.split()


WORDS = _split("""
the of and to in is you that it he was for on are as with his they at be this have from or one
had by word but not what all were we when your can said there use an each which she do how
their if will up other about out many then them these so some her would make like him into time
has look two more write go see number no way could people my than first water been call who oil
its now find long down day did get come made may part page home search menu about contact news
blog docs guide api reference help sign in log out account settings privacy terms cookies
copyright all rights reserved next previous back top more read share follow subscribe download
install version release notes getting started overview introduction example examples usage
options return value type string number boolean object array function class method property
event error default true false null see also note warning since deprecated added updated
""")

TAGS_BLOCK = "div section article aside header footer nav main ul ol li p h1 h2 h3 h4 form"
TAGS_INLINE = "a span strong em code b i small label button img svg input"
CLASSES = _split("""
container wrapper content main header footer nav navbar nav-link nav-item menu menu-item
sidebar toc title subtitle heading lead text link btn btn-primary btn-secondary btn-sm btn-lg
icon logo brand active selected open hidden visible disabled show fade collapse dropdown
dropdown-menu dropdown-item card card-body card-title card-header list list-item list-group
list-group-item row col col-12 col-md-6 col-lg-4 d-flex d-none d-block flex-column
justify-content-between align-items-center text-center text-muted text-right mt-2 mb-3 ml-auto
mr-2 px-3 py-2 p-4 m-0 w-100 h-100 badge alert alert-info table table-striped form-group
form-control input-group modal modal-dialog tooltip popover breadcrumb pagination page-item
page-link tab tabs tab-content tab-pane grid grid-item item items section block inner outer
is-active is-open has-children js-toggle sr-only visually-hidden clearfix pull-right float-left
""")
ATTRIBUTE_NAMES = _split("""
id class style href src alt title type name value placeholder role aria-label aria-hidden
aria-expanded aria-controls data-id data-toggle data-target tabindex rel target width height
viewBox fill stroke d xmlns loading lang dir content charset for method action autocomplete
""")

COLORS = [
    "rgb(0, 0, 0)", "rgb(255, 255, 255)", "rgb(51, 51, 51)", "rgb(102, 102, 102)",
    "rgb(153, 153, 153)", "rgb(204, 204, 204)", "rgb(221, 221, 221)", "rgb(238, 238, 238)",
    "rgb(245, 245, 245)", "rgb(248, 249, 250)", "rgb(33, 37, 41)", "rgb(0, 123, 255)",
    "rgb(220, 53, 69)", "rgb(40, 167, 69)", "rgb(255, 193, 7)", "rgb(23, 162, 184)",
    "rgba(0, 0, 0, 0.5)", "rgba(0, 0, 0, 0.1)", "rgba(255, 255, 255, 0.8)", "transparent",
    "inherit", "currentcolor", "black", "white", "red", "blue", "gray",
]  # fmt: skip
LENGTHS = [
    "0px", "1px", "2px", "3px", "4px", "5px", "6px", "8px", "10px", "12px", "14px", "15px",
    "16px", "18px", "20px", "24px", "30px", "32px", "40px", "48px", "50px", "100px", "0.5em",
    "1em", "1.5em", "2em", "0.25rem", "0.5rem", "1rem", "1.5rem", "2rem", "50%", "100%", "auto",
]  # fmt: skip
PROPERTIES: dict[str, list[str]] = {
    "display": ["block", "inline-block", "inline", "flex", "inline-flex", "grid", "none",
                "table", "table-cell", "list-item", "contents"],
    "position": ["relative", "absolute", "fixed", "sticky", "static"],
    "top": LENGTHS, "right": LENGTHS, "bottom": LENGTHS, "left": LENGTHS,
    "z-index": ["0", "1", "2", "3", "10", "100", "999", "1000", "-1"],
    "width": LENGTHS, "height": LENGTHS, "min-width": LENGTHS, "max-width": LENGTHS,
    "min-height": LENGTHS, "max-height": LENGTHS, "margin": [*LENGTHS, "0px auto"],
    "margin-top": LENGTHS, "margin-right": LENGTHS, "margin-bottom": LENGTHS,
    "margin-left": LENGTHS, "padding": [*LENGTHS, "4px 8px", "0px 15px", "10px 20px"],
    "padding-top": LENGTHS, "padding-right": LENGTHS, "padding-bottom": LENGTHS,
    "padding-left": LENGTHS, "color": COLORS, "background-color": COLORS,
    "background": [*COLORS, "none"], "border": ["0px", "none", "1px solid", "1px solid " +
                                               COLORS[6], "1px solid transparent"],
    "border-top": ["1px solid " + c for c in COLORS[4:8]],
    "border-bottom": ["1px solid " + c for c in COLORS[4:8]],
    "border-left": ["1px solid " + c for c in COLORS[4:8]],
    "border-right": ["1px solid " + c for c in COLORS[4:8]],
    "border-radius": ["0px", "2px", "3px", "4px", "5px", "6px", "8px", "50%", "0.25rem"],
    "border-color": COLORS, "border-width": LENGTHS[:6], "border-style": ["solid", "none"],
    "font-family": ['-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue",'
                    ' Arial, sans-serif', "Helvetica, Arial, sans-serif", "monospace",
                    'Menlo, Monaco, Consolas, "Courier New", monospace', "inherit",
                    "Georgia, serif", "sans-serif"],
    "font-size": [*LENGTHS[5:20], "smaller", "larger", "inherit", "0.875em", "0.875rem"],
    "font-weight": ["400", "500", "600", "700", "bold", "normal", "bolder", "300"],
    "font-style": ["normal", "italic"], "line-height": ["1", "1.2", "1.4", "1.5", "1.6",
                                                     "normal", "20px", "24px", "inherit"],
    "text-align": ["left", "center", "right", "justify", "start"],
    "text-decoration": ["none", "underline"], "text-transform": ["uppercase", "none"],
    "white-space": ["nowrap", "pre", "normal", "pre-wrap"], "vertical-align": ["middle",
                                                                               "top", "baseline"],
    "overflow": ["hidden", "auto", "visible", "scroll"], "overflow-x": ["auto", "hidden"],
    "overflow-y": ["auto", "hidden", "scroll"], "opacity": ["0", "0.5", "0.8", "1"],
    "cursor": ["pointer", "default", "text", "not-allowed"], "visibility": ["hidden", "visible"],
    "box-sizing": ["border-box", "content-box"], "float": ["left", "right", "none"],
    "clear": ["both"], "content": ['""', "none", '"→"'], "list-style": ["none"],
    "list-style-type": ["none", "disc", "decimal"], "outline": ["none", "0px"],
    "box-shadow": ["none", "rgba(0, 0, 0, 0.1) 0px 1px 3px", "rgba(0, 0, 0, 0.15) 0px 2px 4px"],
    "transition": ["all 0.2s ease", "opacity 0.15s linear", "color 0.2s ease-in-out 0s"],
    "transform": ["none", "translateX(-50%)", "translateY(-50%)", "rotate(180deg)",
                  "scale(1.05)", "translate(-50%, -50%)"],
    "flex": ["1 1 0%", "1 1 auto", "0 0 auto", "1"], "flex-direction": ["column", "row"],
    "flex-wrap": ["wrap", "nowrap"], "align-items": ["center", "flex-start", "stretch"],
    "justify-content": ["space-between", "center", "flex-end", "flex-start"],
    "gap": LENGTHS[:12], "grid-template-columns": ["repeat(3, 1fr)", "1fr 1fr", "auto 1fr"],
    "user-select": ["none"], "pointer-events": ["none", "auto"],
    "word-break": ["break-word", "break-all"], "overflow-wrap": ["break-word", "anywhere"],
    "text-overflow": ["ellipsis"], "letter-spacing": ["normal", "0.5px", "0.05em"],
    "-webkit-font-smoothing": ["antialiased"], "fill": ["currentcolor", "none"],
}  # fmt: skip


class Synthetic:
    """A seeded maker of rrweb events of made-up pages."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.next_id = 1
        self.ts = 1_700_000_000_000 + self.rng.randrange(10**9)

    def pick(self, items: list[str]) -> str:
        return items[min(int(self.rng.expovariate(4 / len(items))), len(items) - 1)]

    def words(self, low: int, high: int) -> str:
        text = " ".join(self.pick(WORDS) for _ in range(self.rng.randint(low, high)))
        return text[:1].upper() + text[1:]

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    # --- CSS --------------------------------------------------------------------------------

    def selector(self) -> str:
        roll = self.rng.random()
        if roll < 0.4:
            return "." + self.pick(CLASSES)
        if roll < 0.6:
            return f".{self.pick(CLASSES)} {self.rng.choice(TAGS_INLINE.split())}"
        if roll < 0.75:
            return f".{self.pick(CLASSES)}:{self.rng.choice(['hover', 'focus', 'active'])}"
        if roll < 0.85:
            return self.rng.choice((TAGS_BLOCK + " " + TAGS_INLINE).split())
        return f".{self.pick(CLASSES)}::{self.rng.choice(['before', 'after'])}"

    def declarations(self) -> str:
        names = list(PROPERTIES)
        chosen = dict.fromkeys(self.pick(names) for _ in range(self.rng.randint(1, 6)))
        return " ".join(f"{n}: {self.pick(PROPERTIES[n])};" for n in chosen)

    def stylesheet(self, rules: int) -> str:
        parts = []
        for _ in range(rules):
            roll = self.rng.random()
            body = f"{self.selector()} {{ {self.declarations()} }}"
            if roll < 0.08:
                width = self.rng.choice(["576px", "768px", "992px", "1200px"])
                body = f"@media (max-width: {width}) {{\n  {body}\n}}"
            elif roll < 0.1:
                body = (
                    f'@font-face {{ font-family: "{self.words(1, 1)}"; font-style: normal;'
                    f' font-weight: 400; font-display: swap; src: url("/fonts/{self.pick(WORDS)}'
                    f'.woff2") format("woff2"); }}'
                )
            parts.append(body)
        return "".join(parts)

    # --- DOM ----------------------------------------------------------------------------------

    def attributes(self, tag: str) -> dict[str, str]:
        attrs: dict[str, str] = {}
        if self.rng.random() < 0.6:
            attrs["class"] = " ".join(self.pick(CLASSES) for _ in range(self.rng.randint(1, 3)))
        if tag == "a":
            attrs["href"] = f"/{self.pick(WORDS)}/{self.pick(WORDS)}.html"
        elif tag == "img":
            attrs.update(src=f"/images/{self.pick(WORDS)}.png", alt=self.words(1, 3))
        elif tag == "input":
            attrs.update(type=self.rng.choice(["text", "search", "email"]), name=self.pick(WORDS))
        elif tag == "svg":
            attrs.update(width="16", height="16", viewBox="0 0 16 16", fill="currentColor")
        if self.rng.random() < 0.15:
            name = self.rng.choice(ATTRIBUTE_NAMES[7:22])
            attrs[name] = self.pick(WORDS)
        if self.rng.random() < 0.1:
            attrs["style"] = self.declarations()
        return attrs

    def element(self, depth: int) -> dict:
        tag = self.rng.choice((TAGS_BLOCK if depth < 5 else TAGS_INLINE).split())
        node: dict = {"type": 2, "tagName": tag, "attributes": self.attributes(tag)}
        if tag == "svg":
            node["childNodes"] = [self.svg_path()]
            node["isSVG"] = True
        elif tag in ("img", "input"):
            node["childNodes"] = []
        else:
            node["childNodes"] = self.children(depth + 1)
        node["id"] = self.new_id()
        return node

    def svg_path(self) -> dict:
        d = "M" + " ".join(f"{self.rng.randint(0, 16)}.{self.rng.randint(0, 99)}" for _ in range(8))
        return {
            "type": 2,
            "tagName": "path",
            "attributes": {"d": d},
            "childNodes": [],
            "isSVG": True,
            "id": self.new_id(),
        }

    def text(self, content: str) -> dict:
        return {"type": 3, "textContent": content, "id": self.new_id()}

    def children(self, depth: int) -> list[dict]:
        nodes: list[dict] = []
        for _ in range(self.rng.randint(0, 4 if depth < 6 else 1)):
            if self.rng.random() < 0.4:
                nodes.append(self.text("\n" + "  " * depth))
            if depth >= 3 and self.rng.random() < 0.5:
                nodes.append(self.text(self.words(1, 12)))
            else:
                nodes.append(self.element(depth))
        return nodes

    def document(self) -> dict:
        html_id = self.new_id()
        head_id = self.new_id()
        head = [
            {"type": 2, "tagName": "meta", "attributes": {"charset": "utf-8"}, "childNodes": [],
             "id": self.new_id()},
            {"type": 2, "tagName": "meta", "attributes": {
                "name": "viewport", "content": "width=device-width, initial-scale=1"},
             "childNodes": [], "id": self.new_id()},
            {"type": 2, "tagName": "title", "attributes": {},
             "childNodes": [self.text(self.words(2, 5))], "id": self.new_id()},
            {"type": 2, "tagName": "link", "attributes": {
                "rel": "stylesheet", "href": f"/css/{self.pick(WORDS)}.css",
                "_cssText": self.stylesheet(self.rng.randint(20, 120))},
             "childNodes": [], "id": self.new_id()},
            {"type": 2, "tagName": "script", "attributes": {"src": "/js/main.js"},
             "childNodes": [], "id": self.new_id()},
        ]  # fmt: skip
        body_id = self.new_id()
        body = {
            "type": 2,
            "tagName": "body",
            "attributes": {"class": self.pick(CLASSES)},
            "childNodes": self.children(1),
            "id": body_id,
        }
        html = {
            "type": 2,
            "tagName": "html",
            "attributes": {"lang": "en"},
            "childNodes": [
                {"type": 2, "tagName": "head", "attributes": {}, "childNodes": head, "id": head_id},
                self.text("\n"),
                body,
            ],
            "id": html_id,
        }
        doctype = {"type": 1, "name": "html", "publicId": "", "systemId": "", "id": self.new_id()}
        return {"type": 0, "childNodes": [doctype, html], "id": 1}

    # --- events ---------------------------------------------------------------------------------

    def event(self, type_: int, data: dict) -> dict:
        self.ts += self.rng.choice([1, 2, 16, 33, 50, 100, 250, 500, 1000])
        return {"type": type_, "data": data, "timestamp": self.ts}

    def incremental(self, known: list[int]) -> dict:
        roll = self.rng.random()
        target = self.rng.choice(known)
        x, y = self.rng.randrange(1280), self.rng.randrange(800)
        if roll < 0.35:
            positions = [
                {"x": x + i * 7, "y": y + i * 3, "id": target, "timeOffset": -500 + i * 50}
                for i in range(self.rng.randint(1, 10))
            ]
            return self.event(3, {"source": 1, "positions": positions})
        if roll < 0.5:
            kind = self.rng.choice([0, 1, 2, 5, 6])
            data = {"source": 2, "type": kind, "id": target, "x": x, "y": y}
            if kind == 2:
                data["pointerType"] = 0
            return self.event(3, data)
        if roll < 0.62:
            return self.event(3, {"source": 3, "id": 1, "x": 0, "y": self.rng.randrange(9000)})
        if roll < 0.67:
            data = {"source": 5, "text": self.words(1, 3).lower(), "isChecked": False}
            return self.event(3, {**data, "id": target})
        return self.event(3, self.mutation(known))

    def mutation(self, known: list[int]) -> dict:
        adds = []
        parent = self.rng.choice(known)
        previous = None
        for _ in range(self.rng.choice([0, 0, 1, 2, 5, 12])):
            node = self.element(5) if self.rng.random() < 0.6 else self.text(self.words(1, 6))
            node_id = node["id"]
            adds.append({"parentId": parent, "previousId": previous, "nextId": None, "node": node})
            known.append(node_id)
            previous = node_id
        attributes = [
            {"id": self.rng.choice(known), "attributes": self.rng.choice([
                {"class": " ".join(self.pick(CLASSES) for _ in range(2))},
                {"style": self.declarations()},
                {"aria-expanded": self.rng.choice(["true", "false"])},
            ])}
            for _ in range(self.rng.choice([0, 1, 1, 2]))
        ]  # fmt: skip
        texts = [
            {"id": self.rng.choice(known), "value": self.words(1, 4)}
            for _ in range(self.rng.choice([0, 0, 1]))
        ]
        removes = [
            {"parentId": parent, "id": self.rng.choice(known)}
            for _ in range(self.rng.choice([0, 0, 1, 3]))
        ]
        return {
            "source": 0,
            "texts": texts,
            "attributes": attributes,
            "removes": removes,
            "adds": adds,
        }

    def recording(self, events: int) -> list[dict]:
        meta = {"href": f"https://example.com/{self.pick(WORDS)}/", "width": 1280, "height": 800}
        stream = [self.event(4, meta)]
        snapshot = {"node": self.document(), "initialOffset": {"left": 0, "top": 0}}
        stream.append(self.event(2, snapshot))
        known = list(range(2, self.next_id + 1))
        stream.extend(self.incremental(known) for _ in range(events))
        return stream


def samples() -> list[bytes]:
    """The packed synthetic recordings, cut into pieces of about SAMPLE_BYTES."""
    pieces: list[bytes] = []
    for seed in range(RECORDINGS):
        maker = Synthetic(SEED * 100_000 + seed)
        events = maker.recording(maker.rng.randint(50, 400))
        packed = pack(json.dumps(events, separators=(",", ":"), ensure_ascii=False).encode())
        assert packed is not None
        pieces.extend(packed[i : i + SAMPLE_BYTES] for i in range(0, len(packed), SAMPLE_BYTES))
    return pieces


def build() -> bytes:
    pieces: list[bytes | bytearray | memoryview] = list(samples())
    trained = zstandard.train_dictionary(
        DICT_SIZE, pieces, k=COVER_K, d=COVER_D, level=19, threads=1
    )
    return trained.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    options = parser.parse_args()
    body = build()
    if options.check:
        same = DICTIONARY_FILE.read_bytes() == body
        print(f"{DICTIONARY_FILE.name}: {'the same' if same else 'DIFFERS from'} a fresh build")
        sys.exit(0 if same else 1)
    DICTIONARY_FILE.write_bytes(body)
    print(f"{DICTIONARY_FILE}: {len(body):,} bytes")


if __name__ == "__main__":
    main()
