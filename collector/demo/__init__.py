"""The demo's sample data: 30 days of traffic through the real ingest path (``sample.py`` runs
it once in the background, ``plan.py`` draws it from a seed, ``drive.py`` sends it, ``catalog.py``
holds its tables, ``recording.py`` makes its replays)."""
