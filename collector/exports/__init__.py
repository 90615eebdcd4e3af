"""CSV export jobs of clicks (issue 14, seed 01's ``POST clicks/export``): :mod:`.routes` queues
a job and answers its status and download, :mod:`.runner` writes the file in the background
(a thread worker of the runtime), :mod:`.csvfile` turns click values into safe CSV cells. See
docs/API.md, "CSV exports"."""
