"""The spec audit: every answer the test suite's API calls get is checked against the generated
OpenAPI document, so the spec cannot drift from what the collector answers.

As a pytest plugin (named in ``tests/conftest.py``) it sets ``CLICKTRAIL_API_AUDIT`` to a fresh
file before any test runs: every app the tests create, and every collector process they start
(which inherits the environment), then appends its answers there (``collector/http/audit.py``).
``tests/test_openapi_audit.py`` runs last and fails with the list of :func:`problems`: an
answer from a route the spec does not document, a status its operation does not list, a media
type it does not declare, or a JSON body that does not validate against its schema (jsonschema,
draft 2020-12, as OpenAPI 3.1 says).
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest

from collector.http.audit import ENVIRONMENT, Answer
from collector.http.routing import spec_path

AUDIT_TEST_FILE = "test_openapi_audit.py"
_STASH = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(ENVIRONMENT):
        return  # set by whoever runs the suite: record there, and keep the file
    descriptor, path = tempfile.mkstemp(prefix="clicktrail-audit-", suffix=".jsonl")
    os.close(descriptor)
    os.environ[ENVIRONMENT] = path
    config.stash[_STASH] = path


def pytest_unconfigure(config: pytest.Config) -> None:
    path = config.stash.get(_STASH, None)
    if path is not None:
        os.environ.pop(ENVIRONMENT, None)
        Path(path).unlink(missing_ok=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The audit runs after every other test (a stable sort keeps the rest in order)."""
    items.sort(key=lambda item: item.path.name == AUDIT_TEST_FILE)


def answers(path: Path) -> Iterator[Answer]:
    decode = msgspec.json.Decoder(Answer).decode
    with path.open("rb") as lines:
        for line in lines:
            yield decode(line)


class SpecAudit:
    """Checks answers against one spec; a validator per operation and status, made once."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self._components = _closed(spec["components"])
        self._validators: dict[tuple[str, str, str], jsonschema.Draft202012Validator] = {}

    def problem(self, answer: Answer) -> str | None:
        """What is wrong with an answer, if anything."""
        label = f"{answer.method} {answer.route or answer.path} -> {answer.status}"
        if answer.route is None:  # no route took the path: the router's 404
            if answer.status != 404:
                return f"{label}: answered without a route"
            return self._body(label, answer, "/", "", "404", {"$ref": _ERROR})
        path = spec_path(answer.route)
        item = self.spec["paths"].get(path)
        if item is None:
            return f"{label}: the route {answer.route} is served but not in the spec"
        method = "get" if answer.method == "HEAD" else answer.method.lower()
        operation = item.get(method)
        if operation is None:
            if answer.status == 405:  # the path takes other methods
                return self._body(label, answer, path, method, "405", {"$ref": _ERROR})
            return f"{label}: {answer.method} {path} is served but not in the spec"
        response = operation["responses"].get(str(answer.status))
        if response is None:
            listed = ", ".join(operation["responses"])
            return f"{label}: {answer.method} {path} lists only {listed}"
        return self._content(label, answer, path, method, response)

    def _content(
        self, label: str, answer: Answer, path: str, method: str, response: dict[str, Any]
    ) -> str | None:
        content = response.get("content", {})
        if answer.method == "HEAD" or not content:
            return None
        media = answer.content_type.split(";")[0].strip()
        if media not in content and "*/*" not in content:
            return f"{label}: answered {media}, the spec says {', '.join(content)}"
        schema = content.get(media, {}).get("schema")
        if schema is None or "json" not in media:
            return None
        return self._body(label, answer, path, method, str(answer.status), schema)

    def _body(
        self, label: str, answer: Answer, path: str, method: str, status: str, schema: dict
    ) -> str | None:
        if answer.body is None:
            return None  # not JSON, or too large to record
        raw = answer.body.encode("latin-1")
        if answer.encoding == "gzip":
            raw = gzip.decompress(raw)
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            return f"{label}: the body is not JSON ({exc})"
        validator = self._validator(path, method, status, schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(body))
        if error is None:
            return None
        # items of a list as *, and the rule rather than the value: one line per kind of problem
        where = "/".join("*" if isinstance(p, int) else str(p) for p in error.absolute_path)
        if error.validator in ("additionalProperties", "required"):
            return f"{label}: {error.message[:200]} (at {where or 'the body'})"
        rule = json.dumps(error.validator_value)[:120]
        return f"{label}: {where or 'the body'} breaks {error.validator} {rule}"

    def _validator(
        self, path: str, method: str, status: str, schema: dict
    ) -> jsonschema.Draft202012Validator:
        key = (path, method, status)
        if key not in self._validators:
            document = {**_closed(schema), "components": self._components}
            self._validators[key] = jsonschema.Draft202012Validator(document)
        return self._validators[key]


_ERROR = "#/components/schemas/Error"


def _closed(schema: Any) -> Any:
    """A copy in which every object that lists its properties allows no others: an answer's
    key the spec does not declare is a problem too."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: _closed(value) for key, value in schema.items()}
    if isinstance(schema.get("properties"), dict):
        copy.setdefault("additionalProperties", False)
    return copy


def problems(recorded: Iterable[Answer], spec: dict[str, Any]) -> tuple[int, list[str]]:
    """(how many distinct answers were checked, what is wrong, each with its count)."""
    audit = SpecAudit(spec)
    distinct = Counter(recorded)
    found: Counter[str] = Counter()
    for answer, times in distinct.items():
        problem = audit.problem(answer)
        if problem is not None:
            found[problem] += times
    return len(distinct), [f"{p} ({n}x)" if n > 1 else p for p, n in found.most_common()]
