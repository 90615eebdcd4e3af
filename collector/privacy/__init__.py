"""Privacy (issue 16): deleting a visitor on request, by visitor id, external id or customer.

``routes.py`` (``DELETE visitors/{visitor_id}``, ``DELETE visitors?externalId=|customerId=``),
``schema.py`` (the parameters and the answer), ``service.py`` (finding the visitors, the store's
deletion, then the files: export files that could hold them, replay assets no replay uses any
more). The SQL is in ``storage/*/deletion.py``; docs/PRIVACY.md says what goes and when.
"""
