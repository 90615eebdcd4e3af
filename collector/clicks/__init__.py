"""The clicks and sessions API of seed 01 (:mod:`.routes`); a click's JSON is derived from the
``Click`` struct in :mod:`.schema`. See docs/API.md."""
