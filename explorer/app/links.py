"""Links that name a view: the active model, the dataset and each page's main choices live in the URL
(`…/activations?model=sparse_kl&unit=17`), so a link opens that view in a fresh browser.

A link's values are applied to the page's widgets once per session (the student's later changes
stick); a bad or unknown value falls back to the default with a small notice, never an exception;
the URL follows the view as it changes. A student's own models (trained, uploaded) are never put in a
link: another browser could not open them."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import streamlit as st

from ..i18n import tr
from . import catalog, keys, language
from .catalog import FileEntry, ModelEntry
from .navigation import PAGES, page_named

T = TypeVar("T")
MODEL, DATASET = "model", "dataset"       # the parameters every page carries


# -- parsing: each raises ValueError with what was wrong ------------------------------------------------
def quoted(text: str, limit: int = 40) -> str:
    """A link's value as a notice quotes it: cut short, since anyone can paste anything into a link."""
    return repr(text) if len(text) <= limit else repr(text[:limit - 1] + "…")


def one_of(options: Sequence[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(tr("{value} is not one of {options}", value=quoted(text), options=", ".join(options)))
        return text
    return parse


N = TypeVar("N", int, float)


def _number_in(kind: type[N], low: N, high: N) -> Callable[[str], N]:
    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(tr("{value} is not a whole number", value=quoted(text)) if kind is int
                             else tr("{value} is not a number", value=quoted(text))) from None
        if not low <= value <= high:
            raise ValueError(tr("{value:g} is not between {low:g} and {high:g}", value=value, low=low, high=high))
        return value
    return parse


def int_in(low: int, high: int) -> Callable[[str], int]:
    return _number_in(int, low, high)


def float_in(low: float, high: float) -> Callable[[str], float]:
    return _number_in(float, low, high)


def list_of(item: Callable[[str], T]) -> Callable[[str], list[T]]:
    """Comma-separated items, each parsed; one named twice is kept once (a widget cannot show it twice)."""
    def parse(text: str) -> list[T]:
        parts = [part for part in text.split(",") if part != ""]
        if len(set(parts)) < len(parts):
            twice = next(p for i, p in enumerate(parts) if p in parts[:i])
            notice(tr("The link names {value} more than once; it is shown once.", value=quoted(twice)))
        return list(dict.fromkeys(item(part) for part in dict.fromkeys(parts)))
    return parse


# -- models by name --------------------------------------------------------------------------------------
def model_id(entry: ModelEntry) -> str | None:
    """How a link names a model: 'sparse_kl', 'sweeps/topk-k/topk-k=5', 'saved/my-model'; None for a
    browser's own models, which no link carries."""
    if not isinstance(entry, FileEntry) or entry.own:
        return None
    path = Path(entry.path)
    if entry.origin == "saved" or not path.is_relative_to(catalog.CHECKPOINT_DIR):
        return f"saved/{path.stem}" if entry.origin == "saved" else path.stem
    return str(path.relative_to(catalog.CHECKPOINT_DIR).with_suffix(""))


def model_key(name: str, entries: dict[str, ModelEntry]) -> str:
    """The model-list key of the model a link names; ValueError if there is none."""
    for key, entry in entries.items():
        if model_id(entry) == name:
            return key
    raise ValueError(tr("there is no shipped or saved model {name}", name=quoted(name)))


# -- reading a link ---------------------------------------------------------------------------------------
def value(name: str, parse: Callable[[str], T], what: str = "") -> T | None:
    """The link's value of parameter `name`, parsed — once per session and value (None afterwards, so
    the student's own changes stick), None when absent, and None with a notice when it is bad. what: how
    the notice names the value (a key marked N_("…"), shown with tr; the parameter's name if none)."""
    raw = st.query_params.get(name)
    if raw is None:
        return None
    applied: set[str] = st.session_state.setdefault(keys.LINK_APPLIED, set())
    if f"{name}={raw}" in applied:
        return None
    applied.add(f"{name}={raw}")
    try:
        return parse(raw)
    except ValueError as exc:
        notice(tr("The link's {what} is not usable ({why}); showing the default instead.",
                  what=tr(what) if what else name, why=exc))
        return None


def preset(widget_key: str, name: str, parse: Callable[[str], Any], what: str = "") -> None:
    """Set a widget's value from the link, before the widget is drawn."""
    found = value(name, parse, what)
    if found is not None:
        st.session_state[widget_key] = found


def notice(message: str) -> None:
    st.session_state.setdefault(keys.LINK_NOTICES, []).append(message)


def show_notices() -> None:
    """The notices about the link's unusable values, as small toasts (publish shows them)."""
    for message in st.session_state.pop(keys.LINK_NOTICES, []):
        st.toast(message, icon=":material/link_off:")


# -- writing the view into the URL -----------------------------------------------------------------------
def publish(page: str, params: dict[str, Any], slot: Any | None = None) -> str:
    """Put this page's choices (with the model and dataset) in the address bar, mark them as applied,
    and, given a slot, draw "Link to this view" there; returns the link."""
    entries_model = st.session_state.get(keys.LINK_MODEL_ID)
    values: dict[str, str] = {}
    if entries_model:
        values[MODEL] = entries_model
    if st.session_state.get(keys.DATASET):
        values[DATASET] = str(st.session_state[keys.DATASET])
    values.update(language.link_values())
    for name, raw in params.items():
        text = _text(raw)
        if text is not None:
            values[name] = text
    applied: set[str] = st.session_state.setdefault(keys.LINK_APPLIED, set())
    applied.update(f"{name}={text}" for name, text in values.items())
    if dict(st.query_params) != values:
        st.query_params.from_dict(values)
    link = _address(page, values)
    show_notices()
    if slot is not None:
        with slot.popover(tr("Copy link"), icon=":material/link:", help=tr("A link to this page, model and settings")):
            st.code(link, language=None, wrap_lines=True)
            if st.session_state.get(keys.LINK_MODEL_OWN):
                st.caption(tr("The active model is your own (trained or uploaded here), so the link opens the "
                              "default model instead: other browsers cannot see yours."))
            else:
                st.caption(tr("Anyone with this link opens this page with this model and these settings."))
    return link


def _text(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, (list, tuple)):
        return ",".join(_text(r) or "" for r in raw) if raw else None
    if isinstance(raw, float):
        return f"{raw:g}"
    return str(raw)


def _address(page: str, values: dict[str, str]) -> str:
    """The full address of page with values: this server's, as the browser sees it."""
    base = (st.context.url or "").rstrip("/")
    for other in PAGES:                   # the address of the page being shown, less its own path
        if other.url_path and base.endswith("/" + other.url_path):
            base = base[: -len(other.url_path) - 1]
            break
    query = urlencode(values, safe=",/=")
    return f"{base}/{page_named(page).url_path}" + (f"?{query}" if query else "")


def joined(items: Iterable[Any]) -> str:
    return ",".join(str(i) for i in items)
