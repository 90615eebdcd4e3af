"""Dashboard users (issue 12): password hashing, sign-in sessions, the sign-in rate limit,
CSRF and same-origin checks, and the brand API's users and keys routes.

- ``passwords.py``: scrypt hashes (stdlib), generated passwords
- ``sessions.py``: sign-in sessions (a cookie token, stored hashed) and their short cache
- ``limits.py``: repeated wrong passwords per email and per client address
- ``origin.py``: the CSRF token and same-origin checks of cookie-authenticated changes
- ``routes.py`` and ``schema.py``: the brand's API keys (list, make, revoke) and its users
"""
