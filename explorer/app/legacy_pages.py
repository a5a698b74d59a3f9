"""Leaving Streamlit's legacy pages/-folder mode: the one place that knows about it.

The product fixes the folder name `pages/`, and Streamlit starts a fresh server in its legacy mode
for such a folder (a class flag, cleared once st.navigation has been called): a run begun in that
mode shows the folder's own file-name navigation, skips our sidebar, and may run a page file
directly, without the entry script. Every script calls `leave_legacy_pages_mode` first."""
from __future__ import annotations

import sys
from types import FrameType

import streamlit as st

LEGACY_RUNNER = "_mpa_v1"   # Streamlit's legacy runner; a test checks Streamlit still has it


def leave_legacy_pages_mode() -> None:
    """Make sure this run is an st.navigation run. Call first in the entry script and every page.

    Every session that opened the app before the first st.navigation call is in a legacy run, so
    the class flag alone does not tell (the first session clears it for all): look for the legacy
    runner in the call stack too. Clear the flag and rerun once."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory or in_legacy_pages_run():
        PagesManager.uses_pages_directory = False
        st.rerun()


def in_legacy_pages_run() -> bool:
    """Whether Streamlit's legacy `pages/` runner (script_runner._mpa_v1) is running this script."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == LEGACY_RUNNER and frame.f_globals.get("__name__", "").startswith("streamlit."):
            return True
        frame = frame.f_back
    return False
