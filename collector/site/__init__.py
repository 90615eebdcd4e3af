"""The collector's own pages beside the API: liveness (``/healthz``), the icon, and the demo shop
that ``clicktrail demo`` serves at ``/demo`` (``routes.py``). The API's documentation
(``/openapi.json``, ``/docs``) is made by ``http/openapi.py``."""
