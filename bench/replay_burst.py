"""Resident memory of `clicktrail serve` around a burst of 32 concurrent replay chunks that each
inflate to 16 MB from ~55 KB of gzip (bench/README.md, "Replay ingest memory").

    .venv/bin/python bench/replay_burst.py [sqlite|chdb] [--inflight-bytes N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.replay_burst import burst, start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("engine", nargs="?", default="sqlite", choices=["sqlite", "chdb"])
    parser.add_argument("--inflight-bytes", type=int, default=None)
    parser.add_argument("--uploads", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        database = f"sqlite:///{work}/c.db" if args.engine == "sqlite" else f"chdb://{work}/ch"
        flags = ["--replay-assets-dir", str(work / "assets")]
        if args.inflight_bytes:
            flags += ["--replay-inflight-bytes", str(args.inflight_bytes)]
        process, site_key = start(work, database, *flags)
        try:
            result = burst(process.url, process.process.pid, site_key, args.uploads)
        finally:
            process.stop()
    counts = {s: result.statuses.count(s) for s in sorted(set(result.statuses))}
    mb = lambda kb: f"{kb / 1024:.0f} MB"  # noqa: E731
    print(
        f"{args.engine}: answers {counts}; RSS baseline {mb(result.baseline_kb)},"
        f" peak {mb(result.peak_kb)}, after {mb(result.after_kb)}"
    )


if __name__ == "__main__":
    main()
