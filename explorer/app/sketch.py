"""Draw your own digit: a canvas (a components-v2 snippet: mouse, pen or finger) or an uploaded picture,
prepared as the dataset's digits were, and shown going through the active model."""
from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np
import streamlit as st
import torch

from ..activations import describe
from ..drawing import EmptyDrawingError, ink_from_image, prepare
from ..figures import PLOTLY_CONFIG, code_bars, tiles_png
from ..i18n import tr
from ..latent import nearest
from ..noise import NoiseSetting
from ..views import reconstruction_rows
from . import caches, keys
from .page import PageContext

SIZE = 280           # canvas pixels; strokes about a tenth of it wide, as a pen on a 28-pixel digit

_canvas = st.components.v2.component(
    "ae_explorer_sketch",
    html="""<div class="sketch"><canvas width="280" height="280"></canvas>
<div class="row"><button type="button" class="clear">Clear</button>
<span class="hint">Draw one digit, large, with the mouse or a finger</span></div></div>""",
    css="""
.sketch canvas { width: 100%; max-width: 280px; height: auto; aspect-ratio: 1; background: #000; border-radius: 8px;
                 touch-action: none; cursor: crosshair; display: block; }
.sketch .row { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; margin-top: 6px;
               font: 14px sans-serif; }
.sketch button { font: inherit; padding: 4px 14px; border-radius: 8px; border: 1px solid #ccc; background: #fff;
                 cursor: pointer; }
.sketch .hint { color: #808495; }
""",
    js="""
export default function(component) {
  const { data, parentElement, setStateValue, setTriggerValue } = component;
  const canvas = parentElement.querySelector('canvas');
  const ctx = canvas.getContext('2d');
  if (data && data.labels) {                 // the pad's words, in the reader's language
    parentElement.querySelector('.clear').textContent = data.labels.clear;
    parentElement.querySelector('.hint').textContent = data.labels.hint; }
  const blank = () => { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, 280, 280); };
  if (!canvas.dataset.ready) {               // once per canvas: the handlers, and any earlier drawing
    canvas.dataset.ready = '1';
    blank();
    if (data && data.image) {
      const img = new Image(); img.onload = () => ctx.drawImage(img, 0, 0); img.src = data.image; }
    ctx.lineWidth = 22; ctx.lineCap = 'round'; ctx.lineJoin = 'round'; ctx.strokeStyle = '#fff';
    let last = null;
    const at = (e) => { const r = canvas.getBoundingClientRect();
                        return [(e.clientX - r.left) * 280 / r.width, (e.clientY - r.top) * 280 / r.height]; };
    canvas.addEventListener('pointerdown', (e) => {
      last = at(e); canvas.setPointerCapture(e.pointerId);
      ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(last[0] + 0.1, last[1]); ctx.stroke(); });
    canvas.addEventListener('pointermove', (e) => {
      if (!last) return; const p = at(e);
      ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke(); last = p; });
    const done = () => { if (!last) return; last = null; setStateValue('image', canvas.toDataURL('image/png')); };
    canvas.addEventListener('pointerup', done);
    canvas.addEventListener('pointercancel', done);
    parentElement.querySelector('.clear').addEventListener('click', () => {
      blank(); setStateValue('image', null); setTriggerValue('cleared', true); });
  }
}
""")


def _bytes(data_url: str | None) -> bytes | None:
    if not data_url or "," not in data_url:
        return None
    try:
        return base64.b64decode(data_url.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return None


def drawn(image_shape: tuple[int, int], key: str) -> tuple[np.ndarray | None, str | None]:
    """Draw the canvas and the upload box; (the digit prepared for image_shape, None) or (None, why
    there is none yet). The drawing follows the student from page to page."""
    labels = {"clear": tr("Clear"), "hint": tr("Draw one digit, large, with the mouse or a finger")}
    result = _canvas(data={"image": st.session_state.get(keys.SKETCH_IMAGE), "labels": labels}, key=key,
                     on_image_change=lambda: None, on_cleared_change=lambda: None)
    # Widget state does not survive a page switch, so the drawing lives on in SKETCH_IMAGE; it changes
    # only when this canvas draws something new or is cleared, and the page then runs again so that
    # what stands above the panel (the map's marked point) shows the new drawing too.
    image, seen = getattr(result, "image", None), st.session_state.get(key + "_seen")
    st.session_state[key + "_seen"] = image
    if getattr(result, "cleared", None) or (image and image != seen):
        st.session_state[keys.SKETCH_IMAGE] = None if getattr(result, "cleared", None) else image
        st.rerun()
    upload = st.file_uploader(tr("…or upload a picture of a digit"), type=["png", "jpg", "jpeg"], key=key + "_upload",
                              help=tr("A photo or scan of one handwritten digit; dark on light or light on dark."))
    source = upload.getvalue() if upload is not None else _bytes(st.session_state.get(keys.SKETCH_IMAGE))
    if source is None:
        return None, tr("Draw a digit on the black square (or upload a picture), and see it go through the model.")
    try:
        return prepare(ink_from_image(source), image_shape), None
    except (EmptyDrawingError, ValueError) as exc:
        return None, tr("{reason}.", reason=f"{str(exc)[0].upper()}{str(exc)[1:]}")


def current_drawing(image_shape: tuple[int, int]) -> np.ndarray | None:
    """The last drawing, prepared (for a page that marks it before the panel is drawn, e.g. the map)."""
    source = _bytes(st.session_state.get(keys.SKETCH_IMAGE))
    if source is None:
        return None
    try:
        return prepare(ink_from_image(source), image_shape)
    except ValueError:
        return None


def pad_open(key: str) -> bool:
    """Whether the drawing pad of panel(…, key) is open (before it is drawn: a page lays out around it)."""
    return bool(st.session_state.get(key + "_open", st.session_state.get(keys.SKETCH_IMAGE) is not None))


def panel(ctx: PageContext, key: str, noise: NoiseSetting | None = None, beside: Any = None) -> np.ndarray | None:
    """The section "Draw your own digit": the canvas, then the digit through the active model — as the
    model saw it (corrupted by `noise`, the page's own noise setting, e.g. for a denoiser) and as it
    reconstructs it, its code as bars, and its nearest training images in code space.

    The pad opens on request (or by itself once there is a drawing to show): the canvas and the upload
    box are left out of a page's first load, which they would make slower for everyone who never draws.

    `beside`: a column beside what the digit is marked on (the Latent page's map): the toggle and the
    canvas go there, and what the model makes of the digit comes where the panel is called."""
    if beside is None:
        st.subheader(tr("Draw your own digit"))
    pad = beside if beside is not None else st.container()
    if not pad.toggle(tr("Open the drawing pad"), value=st.session_state.get(keys.SKETCH_IMAGE) is not None,
                      key=key + "_open", wrap=True,
                      help=tr("Draw a digit with the mouse, a pen or a finger, or upload a picture of one, and see it "
                              "go through the active model.")):
        return None
    data, model = ctx.data, ctx.model
    left, right = (beside, st.container()) if beside is not None else st.columns([1, 2.2], gap="large")
    with left:
        digit, why = drawn(data.image_shape, key)
    if digit is None:
        (left if beside is not None else right).info(why or "", icon=":material/draw:")
        return None
    if beside is not None:
        right.subheader(tr("Your digit, through the model"))
    x = data.test_x.new_tensor(digit)[None]                       # (1, D) on the data's device
    rows = reconstruction_rows(model, x, noise, seed=0)
    shown = [rows.original, rows.noisy, rows.reconstruction] if rows.noisy is not None else \
        [rows.original, rows.reconstruction]
    names = tr("prepared as the dataset's digits · with the noise set above · reconstructed") \
        if rows.noisy is not None else tr("prepared as the dataset's digits · reconstructed")
    code = model.encode_all(x).cpu().numpy()[0]                   # (K,)
    train_codes = caches.train_codes(ctx.key, model, data.name, ctx.device)
    active = int(model.code.active_among(torch.from_numpy(code[None]), torch.from_numpy(train_codes)).sum())
    near, distances = nearest(train_codes, code, 8)
    with right:
        c1, c2 = st.columns([1, 2])
        c1.image(tiles_png(np.concatenate(shown), data.image_shape, ncols=len(shown), scale=5),
                 caption=tr("{names} (MSE {mse:.4f})", names=names, mse=float(rows.mse[0])))
        c2.image(tiles_png(data.train_x[near].cpu().numpy(), data.image_shape, ncols=8, scale=2),
                 caption=tr("Its nearest training images in code space: {classes} (distances {low:.2f}–{high:.2f})",
                            classes=", ".join(data.class_names[int(data.train_y[j])] for j in near),
                            low=distances[0], high=distances[-1]))
        st.plotly_chart(code_bars(code, tr("Its code: {active} of {units} units active ({rule})", active=active,
                                           units=len(code), rule=describe(model.code))),
                        config=PLOTLY_CONFIG, key=key + "_code")
    return digit
