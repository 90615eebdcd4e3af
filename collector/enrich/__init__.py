"""Facts derived from a request, one concern per module, cached where it pays: :mod:`.click`
(beacon + request into rows), :mod:`.geo`, :mod:`.useragent`, :mod:`.referrer`, :mod:`.bots`,
:mod:`.netaddr`. See docs/USER_AGENTS.md."""
