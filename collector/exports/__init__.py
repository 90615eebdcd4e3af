"""CSV export jobs of clicks (issue 14, seed 01's ``POST clicks/export``): :mod:`.routes` queues
a job and answers its status and download, :mod:`.runner` writes the file in the background
(a thread worker of the runtime), :mod:`.csvfile` says what a safe CSV cell is (each store's
statement writes the lines: ``export_csv``) and writes the gzip file. See docs/API.md, "CSV
exports"."""
