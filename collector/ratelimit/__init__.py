"""Rate limits: per site key and per IP on ``/collect``, ``/collect/replay`` and ``/g/``, per API
key on the API (docs/DEPLOY.md, "Rate limits")."""
