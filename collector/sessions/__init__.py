"""Sessions for people and tools: ``GET /api/brands/{brand}/sessions`` (a filterable list) and
``.../sessions/analytics`` (visitors, sessions, page views, bounce rate, visit duration, entry
and exit pages), on the query compiler's sessions (``collector/query/sessions.py``)."""
