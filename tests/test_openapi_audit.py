"""Every answer the test suite's API calls got matches the spec (``tests/spec_audit.py``).

Runs after every other test of the run and reads what they recorded; run alone, it has nothing
to check and is skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from collector.http.audit import ENVIRONMENT
from collector.http.openapi import SPEC
from tests.spec_audit import answers, problems


def test_every_answer_the_suite_saw_matches_the_spec() -> None:
    path = Path(os.environ[ENVIRONMENT])
    if not path.is_file() or path.stat().st_size == 0:
        pytest.skip("no answers recorded in this run (run it with other tests)")
    checked, found = problems(answers(path), SPEC)
    listing = "\n  ".join(found[:40])
    more = f"\n  ... and {len(found) - 40} more" if len(found) > 40 else ""
    assert not found, (
        f"{len(found)} kinds of answers out of {checked} differ from /openapi.json:\n"
        f"  {listing}{more}"
    )
