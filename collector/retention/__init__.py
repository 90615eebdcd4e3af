"""Retention: each brand's ``retention_days`` enforced by the purger service (``purger.py``),
the stored assets no replay links any more swept from disk (``assets.py``)."""
