"""Which browser this session is: an id kept in a cookie, so that a browser finds its own models again
after a reload or a server restart while other browsers never see them."""
from __future__ import annotations

import uuid

import streamlit as st

from . import keys
from .store import BROWSER_ID

COOKIE = "ae_explorer_browser"
MAX_AGE = 365 * 86400      # a year; the store removes what a browser leaves unused for long

# Sets the cookie from the page (components v2 run in the app's own document, not a sandbox).
_remember = st.components.v2.component(
    "ae_explorer_remember_browser",
    js="""
export default function(component) {
  const { data } = component;
  document.cookie = `${data.name}=${data.value}; max-age=${data.max_age}; path=/; SameSite=Lax`;
}
""")


def browser_id() -> str:
    """This browser's id: from its cookie, or a new one (remember() then stores it in the cookie)."""
    known = st.session_state.get(keys.BROWSER_ID)
    if known:
        return str(known)
    cookie = st.context.cookies.get(COOKIE, "")
    cookie = cookie if isinstance(cookie, str) else ""     # (AppTest has no real request: no cookies)
    browser = cookie if BROWSER_ID.match(cookie) else uuid.uuid4().hex
    st.session_state[keys.BROWSER_ID] = browser
    st.session_state[keys.BROWSER_ID_IN_COOKIE] = browser == cookie
    return browser


def remember() -> None:
    """Put the id in the browser's cookie, once per session if it was not there yet (call in the sidebar)."""
    browser = browser_id()
    if not st.session_state.get(keys.BROWSER_ID_IN_COOKIE):
        _remember(data={"name": COOKIE, "value": browser, "max_age": MAX_AGE}, key="remember_browser")
