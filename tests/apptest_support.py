"""AppTest helpers shared by the app tests and the page-time benchmark."""
from __future__ import annotations

import contextlib


@contextlib.contextmanager
def server_like_pages():
    """AppTest resets Streamlit's legacy `pages/`-folder flag before every run, as if each run were
    a fresh server's first; the app then reruns once (explorer.app.legacy_pages) and that
    rerun drops the click being tested. A real server clears the flag once, for good: do the same."""
    import streamlit.testing.v1.app_test as app_test
    from streamlit.runtime.pages_manager import PagesManager

    class ServerLikePagesManager(PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    original = app_test.PagesManager
    app_test.PagesManager = ServerLikePagesManager
    try:
        yield
    finally:
        app_test.PagesManager = original
