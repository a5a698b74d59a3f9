"""The sidebar's model menu: every model in groups (shipped, saved, this browser's own, sweeps), a filter by
group, search by typing, and the active model's full label under the menu (the menu itself cuts long ones)."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ..i18n import N_, tr
from . import keys
from .catalog import FileEntry, ModelEntry, group_sweeps

# Group → its title in the filter, in menu order (shown with tr()).
GROUPS = {"shipped": N_("Shipped"), "saved": N_("Saved"), "mine": N_("This browser's"), "sweeps": N_("Sweeps")}
FITS_IN_MENU = 32        # characters of a label the closed menu shows whole at the sidebar's width


def group_of(entry: ModelEntry) -> str:
    """Which group lists a model: a sweep's trial under sweeps (shipped or run here), else by who may see it."""
    if isinstance(entry, FileEntry) and entry.sweep:
        return "sweeps"
    if entry.own:
        return "mine"
    return "saved" if entry.source == "saved" else "shipped"


def grouped(entries: dict[str, ModelEntry]) -> dict[str, list[str]]:
    """Each group that has models → their keys, in the order model_entries lists them."""
    groups: dict[str, list[str]] = {}
    # Sweeps one after another, each in the order of its swept value (k=2 before k=10), as Compare lists them.
    ordered = [key for members in group_sweeps(entries).values() for key in members]
    for key in [*ordered, *(k for k in entries if k not in ordered)]:
        groups.setdefault(group_of(entries[key]), []).append(key)
    return {group: groups[group] for group in GROUPS if group in groups}


def menu_options(entries: dict[str, ModelEntry], group: str | None, active: str | None) -> list[str]:
    """The menu's keys: the chosen group's (every group's, in group order, when none is chosen), with the
    active model first when the filter hides it — a filter never changes what is shown."""
    groups = grouped(entries)
    shown = groups.get(group, []) if group else [key for keys_ in groups.values() for key in keys_]
    return ([active] if active in entries and active not in shown else []) + shown


def draw(entries: dict[str, ModelEntry], on_change: Callable[[], None]) -> None:
    """The filter, the menu (bound to keys.ACTIVE_MODEL) and the active model's full label."""
    # The same elements on every run, whatever is listed: a sidebar element that comes and goes would move the
    # ones below it, and Streamlit redraws a moved expander closed (the upload's, with its message in it).
    groups = grouped(entries)
    if st.session_state.get(keys.MODEL_GROUP) not in groups:
        st.session_state[keys.MODEL_GROUP] = None
    st.pills(tr("Models"), list(groups), key=keys.MODEL_GROUP,
             format_func=lambda g: f"{tr(GROUPS[g])} {len(groups[g])}",
             help=tr("Show one group in the menu below (click again for all): the shipped checkpoints, those "
                     "saved on this server (every browser sees them), this browser's own (trained or uploaded "
                     "here; no other browser sees them), and the trials of each sweep."))
    active = st.session_state.get(keys.ACTIVE_MODEL)
    options = menu_options(entries, st.session_state.get(keys.MODEL_GROUP), active)
    st.selectbox(tr("Active model"), options=options, key=keys.ACTIVE_MODEL,
                 format_func=lambda key: entries[key].label if key in entries else key,
                 on_change=on_change, placeholder=tr("no model yet — train one"),
                 help=tr("The model every page shows. Type to search the list (a variant, a dataset, a sweep's "
                         "value)."))
    entry, whole = entries.get(active or ""), st.empty()
    if entry is not None and len(entry.label) > FITS_IN_MENU:      # the menu cuts it: here it wraps
        whole.caption(tr("{group}: **{label}**", group=tr(GROUPS[group_of(entry)]), label=entry.label))
