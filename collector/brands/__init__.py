"""Brands: the cache the hot paths read (:mod:`.cache`) and the settings API (:mod:`.routes`,
bodies in :mod:`.schema`). See docs/API.md."""
