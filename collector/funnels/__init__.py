"""Funnels (issue 12): ``GET /api/brands/{brand}/funnel``, the visitors who took ordered steps
(page views by URL pattern, custom events, leads, sales, short-link clicks), with conversion
and drop-off per step, under the filters and time parameters of ``analytics``."""
