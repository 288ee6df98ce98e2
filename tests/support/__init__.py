"""What tests share, one module per concern (tests import from here, never from a test module).

- ``databases``: throwaway databases, templates, settings, snapshots of the tables
- ``accounts``: actors (organisation, user, token) and their managers
- ``floor``: the floor's steps through the API (collect, ship, receive, dismantle)
- ``world``: the API tests' world of organisations and devices in every state
- ``ledger``: anchoring, verifying and counting against a ledger
- ``web``: signing in to the HTML pages with Flask's test client
- ``live``: the real app served over HTTP
- ``browser``: headless Chromium and the handheld app in it
- ``waiting``: polling for what another thread or process does

Moving a test never breaks another: nothing here imports a test module or a conftest.
"""
