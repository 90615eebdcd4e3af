"""Click maps and scroll depth per page URL (issue 15): the API the dashboard's heatmap view
draws from. ``schema.py`` (parameters, answers), ``service.py`` (a request as a
:class:`~collector.storage.base.PageScope`, the answers), ``routes.py``; SQL in
``storage/*/heatmaps.py``."""
