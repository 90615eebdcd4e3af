"""Events and analytics (seed 02): clicks, leads and sales listed and counted with the seed's
filters, on the query compiler (``collector/query/``), the same on both engines.

- ``schema.py``: the query-string structs (every parameter, for the spec) and the answers
- ``filters.py``: the advanced filter syntax, and which filter goes to which table
- ``metadata.py``: the grammar of ``query``, a search of the metadata of leads and sales
- ``timerange.py``: ``interval``, ``start``, ``end``, ``timezone``
- ``service.py``: the queries, run on the store, shaped as the seed shows them
- ``routes.py``: the two endpoints
"""
