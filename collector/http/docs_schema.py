"""JSON Schemas of the spec as words and field lists for the ``/docs`` page: a type's name
(``integer``, ``array of Click``, ``string or null``), its allowed values (enums, ranges,
lengths, defaults), and the fields of a body with the objects nested in it."""

from __future__ import annotations

import html
import json
import re
from typing import Any

_REF = "#/components/schemas/"
_CODE = re.compile(r"``(.+?)``|`([^`]+)`")


def text(value: str) -> str:
    """Plain text with inline code (`x` or ``x``, the only Markdown the spec uses) as HTML:
    escaped, whitespace collapsed."""
    out, last = [], 0
    value = " ".join(value.split())
    for match in _CODE.finditer(value):
        out.append(html.escape(value[last : match.start()]))
        out.append(f"<code>{html.escape(match.group(1) or match.group(2))}</code>")
        last = match.end()
    out.append(html.escape(value[last:]))
    return "".join(out)


def _value(value: Any) -> str:
    return f"<code>{html.escape(json.dumps(value, ensure_ascii=False))}</code>"


def _options(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of a union, or the schema itself."""
    return schema.get("anyOf") or schema.get("oneOf") or [schema]


class SchemaText:
    """Words for the schemas of one spec (``components`` resolves ``$ref``)."""

    def __init__(self, components: dict[str, Any]) -> None:
        self.components = components

    def type_name(self, schema: dict[str, Any]) -> str:
        if "$ref" in schema:
            return schema["$ref"].removeprefix(_REF)
        if "anyOf" in schema or "oneOf" in schema:
            return " or ".join(self.type_name(option) for option in _options(schema))
        if "enum" in schema:
            return "string" if all(isinstance(v, str) for v in schema["enum"]) else "value"
        kind = schema.get("type")
        if kind == "array":
            return f"array of {self.type_name(schema.get('items', {}))}"
        if kind == "object":
            extra = schema.get("additionalProperties")
            return f"object of {self.type_name(extra)}" if isinstance(extra, dict) else "object"
        if kind is None:
            return "any JSON"
        if "format" in schema:
            return f"{kind} ({schema['format']})"
        return str(kind)

    def details(self, schema: dict[str, Any], description: str = "") -> str:
        """The description, then the allowed values, as HTML."""
        parts = [text(description)] if description else []
        for option in _options(schema):
            parts.extend(self._constraints(option))
        if schema.get("default") is not None:
            parts.append(f"Default: {_value(schema['default'])}.")
        return " ".join(parts)

    def _constraints(self, schema: dict[str, Any]) -> list[str]:
        out = []
        if "description" in schema:
            out.append(text(schema["description"]))
        if "enum" in schema:
            out.append("One of " + ", ".join(_value(v) for v in schema["enum"]) + ".")
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            out.append(f"From {_value(low)} to {_value(high)}.")
        elif low is not None or high is not None:
            out.append(f"At least {_value(low)}." if high is None else f"At most {_value(high)}.")
        short, long = schema.get("minLength"), schema.get("maxLength")
        if long is not None:
            out.append(
                f"{short or 0} to {long} characters." if short else f"At most {long} characters."
            )
        elif short:
            out.append(f"At least {short} characters.")
        fewest, most = schema.get("minItems"), schema.get("maxItems")
        if fewest is not None or most is not None:
            out.append(f"{fewest or 0} to {most} items." if most else f"At least {fewest} items.")
        if schema.get("examples"):
            out.append("For example " + ", ".join(_value(v) for v in schema["examples"]) + ".")
        return out

    def _nested(self, schema: dict[str, Any], seen: list[str]) -> None:
        """The names of the components ``schema`` refers to, depth first, into ``seen``."""
        if "$ref" in schema:
            name = schema["$ref"].removeprefix(_REF)
            if name not in seen:
                seen.append(name)
                self._nested(self.components[name], seen)
            return
        for key in ("anyOf", "oneOf"):
            for option in schema.get(key, []):
                self._nested(option, seen)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                self._nested(schema[key], seen)
        for child in schema.get("properties", {}).values():
            self._nested(child, seen)

    def tables(self, *names: str) -> str:
        """The field lists of these components and of every object nested in them."""
        seen: list[str] = []
        for name in names:
            self._nested({"$ref": _REF + name}, seen)
        return "".join(self._table(name) for name in seen)

    def fields_of(self, schema: dict[str, Any], title: str) -> str:
        """A closed ``<details>`` with the fields of the objects ``schema`` holds."""
        seen: list[str] = []
        self._nested(schema, seen)
        tables = "".join(self._table(name) for name in seen)
        if not tables:
            return ""
        return f'<details class="schema"><summary>{html.escape(title)}</summary>{tables}</details>'

    def _table(self, name: str) -> str:
        schema = self.components[name]
        if "properties" not in schema:
            return self._union(name, schema)
        required = set(schema.get("required", []))
        rows = "".join(
            self._row(key, child, key in required) for key, child in schema["properties"].items()
        )
        about = text(schema.get("description", ""))
        return f'<h5>{html.escape(name)}</h5><p>{about}</p><dl class="fields">{rows}</dl>'

    def _row(self, key: str, schema: dict[str, Any], required: bool) -> str:
        head = (
            f"<code>{html.escape(key)}</code> "
            f'<span class="type">{html.escape(self.type_name(schema))}</span>'
            + ("" if required else ' <span class="where">optional</span>')
        )
        details = self.details(schema)
        if not details:
            return f'<dt class="bare">{head}</dt>'
        return f"<dt>{head}</dt><dd>{details}</dd>"

    def _union(self, name: str, schema: dict[str, Any]) -> str:
        about = text(schema.get("description", ""))
        return f"<h5>{html.escape(name)}</h5><p>{html.escape(self.type_name(schema))}. {about}</p>"
