"""docs/DEPLOY.md stays true: every ``clicktrail`` command in its shell blocks parses with the
real command line (a renamed flag or command fails here), and the ClickHouse cluster mode it
describes (``?replicated=true``) makes every table of every migration replicated."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from collector.cli.main import build_parser
from collector.storage.clickhouse.connection import (
    replicated_engines,
    split_url,
    wants_replicated,
)
from collector.storage.clickhouse.schema import MIGRATIONS

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "DEPLOY.md"
_SHELL_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def guide_commands() -> list[str]:
    commands = []
    for block in _SHELL_BLOCK.findall(GUIDE.read_text()):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith("clicktrail "):
                commands.append(line)
    return commands


def test_the_guide_gives_its_commands():
    verbs = {" ".join(shlex.split(c)[1:3]) for c in guide_commands()}
    assert {"brands create", "keys create", "keys list", "users create"} <= verbs
    assert any(c.startswith("clicktrail serve") for c in guide_commands())
    assert any(c.startswith("clicktrail backup") for c in guide_commands())
    assert any(c.startswith("clicktrail restore") for c in guide_commands())


@pytest.mark.parametrize("command", guide_commands())
def test_each_command_of_the_guide_parses(command):
    argv = [a for a in shlex.split(command)[1:] if not a.startswith("$(")]
    args = build_parser().parse_args(argv)
    assert callable(args.run)


def test_replicated_mode_makes_every_migrated_table_replicated():
    statements = [s for migration in MIGRATIONS for s in migration()]
    engines = [s for s in statements if "ENGINE = " in s]
    assert engines, "the migrations create tables"
    for statement in engines:
        made = replicated_engines(statement)
        assert re.search(r"ENGINE = Replicated\w*MergeTree", made), made
        assert made.replace("Replicated", "", 1) == statement  # nothing else changes
    assert replicated_engines("ENGINE = ReplacingMergeTree(version) ORDER BY id") == (
        "ENGINE = ReplicatedReplacingMergeTree(version) ORDER BY id"
    )


def test_replicated_is_a_store_option_not_a_connection_parameter():
    url = "clickhouse://u:p@ch-1.internal:8123/clicktrail?replicated=true&secure=false"
    assert wants_replicated(url)
    assert split_url(url) == ("clickhouse://u:p@ch-1.internal:8123?secure=false", "clicktrail")
    assert not wants_replicated("clickhouse://u:p@ch-1.internal:8123/clicktrail")
    assert not wants_replicated("clickhouse://h:8123/db?replicated=false")
    with pytest.raises(ValueError, match="need a ClickHouse server"):
        wants_replicated("chdb:///var/lib/ch?replicated=true")
