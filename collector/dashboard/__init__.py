"""The dashboard's server side (issue 12): the sign-in form (``login.py``), the shell page
every dashboard path answers once signed in, and the built files it loads (``shell.py``), and
their rows of the route table (``routes.py``). The pages are a client of the brand API, which
takes the session cookie in place of a key (``collector/http/auth.py``)."""
