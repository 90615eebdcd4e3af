"""Running the collector: metrics (``/metrics``), readiness (``/readyz``) and the request and
job log (``--log-format``). See ``docs/OPERATIONS.md``."""
