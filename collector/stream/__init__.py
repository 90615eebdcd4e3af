"""The raw clicks stream (seed 04, Everflow's ``/affiliates/reporting/clicks/stream``):
``POST /api/brands/{brand}/clicks/stream`` answers every click of a window of up to 14 days in
a time zone, 5,000 at a time with a ``next_from`` to continue, each row in Everflow's shape.

- ``timezones.py``: Everflow's ``timezone_id`` numbering, and an IANA ``timezone``;
- ``window.py``: ``from`` / ``to`` in the zone as a window of ms, the ``next_from`` cursor;
- ``filters.py``: ``query.filters`` (``resource_type`` onto Clicktrail's fields) as compiler
  filters, same type OR, different types AND;
- ``rows.py``: a click as a row (``is_unique``, ``relationship``);
- ``service.py``: the request run on the store (``storage/*/stream.py``).
"""
