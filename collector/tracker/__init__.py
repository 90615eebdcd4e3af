"""What a tracked site talks to: the tracker script and the session recorder (built files served
from memory, ``static.py``), the brand's tracker settings, the beacon and replay-chunk endpoints
and their CORS preflights (``routes.py``). The beacon itself is taken in by ``ingest/`` and a
chunk by ``replay/collect.py``; this package holds their rows of the route table."""
