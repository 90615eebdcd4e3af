"""The ``clicktrail`` command (:mod:`.main`), one module per group of commands: :mod:`.serve`
(serve, demo), :mod:`.brands` (brands create, keys create), :mod:`.replays` (import, compact)."""

from collector.cli.brands import create_brand
from collector.cli.main import main

__all__ = ["create_brand", "main"]
