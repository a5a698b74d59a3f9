"""The image under the cursor on a latent map, as TensorFlow's Embedding Projector shows sprites: a
components-v2 snippet listens to the Plotly map's hover events and shows that point's image, cut
from one sprite sheet of the sample's images sent once per sample."""
from __future__ import annotations

import base64

import numpy as np
import streamlit as st

from ..images import sprite

MAX_POINTS = 5000          # a sheet of 5,000 digits is about 0.8 MB; beyond that the map goes without
SCALE = 3                  # screen pixels per image pixel in the thumbnail

_hover = st.components.v2.component(
    "ae_explorer_hover_images",
    css=""".hover-image { position: fixed; display: none; z-index: 1000; pointer-events: none;
 image-rendering: pixelated; background-repeat: no-repeat; border: 2px solid #fff; border-radius: 4px;
 box-shadow: 0 2px 8px rgba(0,0,0,.45); background-color: #000; }""",
    js="""
export default function(component) {
  const { data, parentElement } = component;
  parentElement.__hoverData = data;                         // the newest sheet and map, for every hover
  if (parentElement.__hoverTimer) return;
  const tip = document.createElement('div');
  tip.className = 'hover-image';
  parentElement.appendChild(tip);
  let mouse = [0, 0];
  const bind = () => {
    if (!parentElement.isConnected) { clearInterval(parentElement.__hoverTimer); tip.remove(); return; }
    const d = parentElement.__hoverData;
    const gd = document.querySelector(`.st-key-${d.map_key} .js-plotly-plot`);
    if (!gd || !gd.on || gd.__hoverImages) return;
    gd.__hoverImages = true;
    gd.addEventListener('mousemove', (e) => { mouse = [e.clientX, e.clientY]; });
    gd.on('plotly_hover', (ev) => {
      const d = parentElement.__hoverData, p = ev.points && ev.points[0];
      const row = p && (Array.isArray(p.customdata) ? p.customdata[0] : p.customdata);
      if (row === undefined || row === null || row >= d.n) { tip.style.display = 'none'; return; }
      const s = d.scale, col = row % d.cols, line = Math.floor(row / d.cols);
      const at = ev.event ? [ev.event.clientX, ev.event.clientY] : mouse;
      Object.assign(tip.style, {
        backgroundImage: `url(${d.sprite})`, backgroundSize: `${d.cols * d.w * s}px auto`,
        backgroundPosition: `-${col * d.w * s}px -${line * d.h * s}px`,
        width: `${d.w * s}px`, height: `${d.h * s}px`,
        left: `${Math.min(at[0] + 18, window.innerWidth - d.w * s - 8)}px`,
        top: `${Math.min(at[1] + 18, window.innerHeight - d.h * s - 8)}px`, display: 'block' });
    });
    gd.on('plotly_unhover', () => { tip.style.display = 'none'; });
  };
  bind();
  parentElement.__hoverTimer = setInterval(bind, 400);      // Streamlit draws the map anew after reruns
}
""")


@st.cache_data(show_spinner=False, max_entries=32)
def _sheet(sample_key: tuple, _images: np.ndarray, image_shape: tuple[int, int]) -> tuple[str, int]:
    png, cols = sprite(_images, image_shape)
    return "data:image/png;base64," + base64.b64encode(png).decode(), cols


def attach(map_key: str, images: np.ndarray, image_shape: tuple[int, int], sample_key: tuple) -> bool:
    """Show images[i] under the cursor when it is over point i of the map drawn with key map_key;
    sample_key names the sample (for the cache). False, doing nothing, for a sample too large."""
    if len(images) > MAX_POINTS:
        return False
    url, cols = _sheet(sample_key, images, image_shape)
    _hover(data={"map_key": map_key, "sprite": url, "cols": cols, "n": len(images), "h": image_shape[0],
                 "w": image_shape[1], "scale": SCALE}, key=f"hover_{map_key}")
    return True
