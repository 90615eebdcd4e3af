"""Short links: codes, redirects that record clicks, QR codes, and the landing page's join to
the link click's session (``visits.py``)."""
