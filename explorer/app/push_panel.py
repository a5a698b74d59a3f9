"""The Activations page's "Push the code" panel: sliders for one image's most active units, units switched
*off* (set to 0) or *held* (kept at their values for the next image), and the decoder's picture redrawn as
they move — in a fragment, so a slider reruns the panel alone."""
from __future__ import annotations

import numpy as np
import streamlit as st

from .. import code_push
from ..figures import tiles_png
from ..i18n import tr
from ..variants.base import Autoencoder
from . import keys
from .page import in_rows

HELD = keys.PUSH_HELD


def _held(model_key: str) -> dict[int, float]:
    return st.session_state.setdefault(HELD, {}).setdefault(model_key, {})


@st.fragment
def panel(model_key: str, model: Autoencoder, codes: np.ndarray, image_index: int, original: np.ndarray,
          image_shape: tuple[int, int]) -> None:
    """codes (N, K): the test images' codes; the panel pushes image_index's; original (D,): that image."""
    held = _held(model_key)
    code = codes[image_index]
    units = code_push.units_to_push(codes, code, also=tuple(held))
    sliders, picture = st.columns([3, 2], gap="medium")
    values: dict[int, float] = {}
    shown = [u.unit for u in units]
    with sliders:
        st.caption(tr("The {count} most active units of test image #{image} (then the held ones), "
                      "each from its lowest to its highest value over the test images.",
                      count=code_push.SLIDERS, image=image_index))
        off = set(st.pills(tr("Switch off these units (set to 0)"), shown, selection_mode="multi", format_func=str,
                           key=f"push_off_{model_key}_{image_index}",
                           help=tr("What does the picture lose without these units?")))
        holding = st.pills(tr("Hold these units for the next image"), shown, selection_mode="multi", format_func=str,
                           default=[u for u in shown if u in held], key=f"push_hold_{model_key}_{image_index}",
                           help=tr("Keep these units at their values when you pick another image: put a unit's "
                                   "feature into another digit."))
        for column, unit in in_rows(units, 2):          # two to a row: all eight on one screen
            start = held.get(unit.unit, unit.value)
            values[unit.unit] = column.slider(tr("unit {unit}", unit=unit.unit), unit.low, unit.high,
                                          float(np.clip(start, unit.low, unit.high)),
                                          key=f"push_{model_key}_{image_index}_{unit.unit}", format="%.3g",
                                          disabled=unit.unit in off,
                                          help=tr("Its value in this image's code: {value:.3g}.", value=unit.value))
    held.clear()
    held.update({u: values[u] for u in holding})
    pushed = code_push.pushed_code(code, values, frozenset(off))
    changed = [u for u in values if u in off or abs(values[u] - float(code[u])) > 1e-9]
    with picture:
        images = np.stack([original, code_push.decode(model, code), code_push.decode(model, pushed)])   # (3, D)
        st.image(tiles_png(images, image_shape, ncols=3, scale=5), width="stretch",
                 caption=tr("The image · its reconstruction · the decoder's picture of the pushed code"))
        moved = [tr("unit {unit} off", unit=u) if u in off else tr("unit {unit} = {value:.3g}", unit=u, value=values[u])
                 for u in changed]
        st.caption(tr("Pushed: {units}", units=tr(", ").join(moved)) if changed else
                   tr("Nothing pushed yet: move a slider."))
