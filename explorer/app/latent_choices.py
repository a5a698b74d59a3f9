"""The images the Latent page is about: the one whose neighbours it shows and the two ends of its walk.

A click on a map point chooses that image: its neighbours are shown, and the walk goes from the image
clicked before to it. A number box beside each chooses a test image by its number instead (left empty,
its placeholder naming the image, while a training image chosen on the map plays that part). What was
chosen lives in the session, per dataset (keys "_lat_<role>_<dataset>"; the boxes "lat_<role>_<dataset>")."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from ..datasets import Dataset
from ..latent import CodeSample, ImageRef, default_walk, names_an_image, sample_ref

CHOSEN, START, END = "chosen", "start", "end"        # the parts an image plays on the page


def _key(role: str, data: Dataset) -> str:
    return f"_lat_{role}_{data.name}"


def box_key(role: str, data: Dataset) -> str:
    """The key of the number box for `role`'s image."""
    return f"lat_{role}_{data.name}"


def start(data: Dataset) -> None:
    """The defaults, once per session and dataset: a walk from the first test image of one class to the
    first of the next (a 0 to a 1), and the neighbours of its start."""
    a, b = default_walk(data.test_y.cpu().numpy())
    for role, index in ((START, a), (END, b), (CHOSEN, a)):
        if not names_an_image(data, st.session_state.get(_key(role, data))):
            st.session_state[_key(role, data)] = ImageRef("test", index)


def chosen(role: str, data: Dataset) -> ImageRef:
    """The image playing `role` (after start)."""
    ref: ImageRef = st.session_state[_key(role, data)]
    return ref


def clicked_rows(selection: Mapping[str, Any] | None) -> list[int]:
    """The sample rows of the points clicked on the map, in the order selected; none for a box or
    lasso selection (many images at once: the page shows them, it chooses none)."""
    if not selection or selection.get("box") or selection.get("lasso"):
        return []
    return [row for point in selection.get("points", []) if (row := _row(point)) is not None]


def _row(point: Mapping[str, Any]) -> int | None:
    data = point.get("customdata")
    if isinstance(data, list):             # Plotly hands a 3-D point's customdata as a list
        data = data[0] if data else None
    return int(data) if isinstance(data, int | float) and not isinstance(data, bool) else None


def follow_clicks(selection: Mapping[str, Any] | None, sample: CodeSample, data: Dataset,
                  map_key: str) -> ImageRef | None:
    """Take a point clicked since the last run: its image becomes the chosen one and the walk's end,
    and the end before becomes the walk's start. The clicked image, or None when nothing new was clicked
    (a selection lives on from run to run: only a point not selected at the last run is a click)."""
    rows = [row for row in clicked_rows(selection) if 0 <= row < len(sample)]
    seen_key = f"_lat_seen_{map_key}"
    new = [row for row in rows if row not in st.session_state.get(seen_key, ())]
    st.session_state[seen_key] = tuple(rows)
    if not new:
        return None
    ref = sample_ref(sample, new[-1])
    if ref != chosen(END, data):
        st.session_state[_key(START, data)] = chosen(END, data)
        st.session_state[_key(END, data)] = ref
    st.session_state[_key(CHOSEN, data)] = ref
    return ref


def number_box(where: Any, label: str, role: str, data: Dataset, help: str) -> ImageRef:
    """A box in `where` for the number of the test image playing `role`; the image playing it."""
    ref_key, key = _key(role, data), box_key(role, data)

    def typed() -> None:
        if (number := st.session_state[key]) is not None:
            st.session_state[ref_key] = ImageRef("test", int(number))

    ref = chosen(role, data)
    st.session_state[key] = ref.index if ref.split == "test" else None     # the box shows what was chosen
    where.number_input(label, 0, len(data.test_x) - 1, key=key, on_change=typed, placeholder=str(ref), help=help)
    return chosen(role, data)
