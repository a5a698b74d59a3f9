"""The image under the cursor on a latent map, as TensorFlow's Embedding Projector shows sprites: a
components-v2 snippet listens to the Plotly map's hover events and shows that point's image, cut
from one sprite sheet of the sample's images. The sheet is served over HTTP like st.image's pictures
and fetched when the pointer first enters the map, not sent with the page (0.6 MB for 2,000 digits)."""
from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit import runtime

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
  // The sheet's address: the server's media path under the app's root (the folder of static/js/index.*).
  const main = document.querySelector('script[type="module"][src*="/static/js/index."]');
  const root = main ? new URL('../../', main.src) : new URL('/', window.location.href);
  parentElement.__hoverData = Object.assign({}, data, { sprite: new URL(data.sprite.replace(/^[/]/, ''), root).href });
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
    gd.addEventListener('mouseenter', () => {                // fetch the sheet before the first hover needs it
      const d = parentElement.__hoverData;
      if (d.fetched !== d.sprite) { new Image().src = d.sprite; d.fetched = d.sprite; }
    });
    gd.on('plotly_hover', (ev) => {
      const d = parentElement.__hoverData, p = ev.points && ev.points[0];
      // A map point's row in the sample; a decoded plane's grid point: its place after the sample's images.
      const offset = p && p.data && p.data.meta && p.data.meta.plane_offset;
      const row = p && (offset !== undefined && offset !== null ? offset + p.pointNumber
                        : Array.isArray(p.customdata) ? p.customdata[0] : p.customdata);
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
def _sheet(sample_key: tuple, _images: np.ndarray, image_shape: tuple[int, int]) -> tuple[bytes, int]:
    return sprite(_images, image_shape)


def attach(map_key: str, images: np.ndarray, image_shape: tuple[int, int], sample_key: tuple) -> bool:
    """Show images[i] under the cursor when it is over point i of the map drawn with key map_key;
    sample_key names the sample (for the cache). False, doing nothing, for a sample too large."""
    if len(images) > MAX_POINTS:
        return False
    png, cols = _sheet(sample_key, images, image_shape)
    # Kept by Streamlit while this session's runs name it at these coordinates, as st.image's files are.
    url = runtime.get_instance().media_file_mgr.add(png, "image/png", f"hover_images.{map_key}")
    _hover(data={"map_key": map_key, "sprite": url, "cols": cols, "n": len(images), "h": image_shape[0],
                 "w": image_shape[1], "scale": SCALE}, key=f"hover_{map_key}")
    return True
