"""Figures of the dictionary: tiles numbered by unit (a PNG, and the same sheet clickable), and one unit's
activation histogram with its quantile bins marked; pure functions, no Streamlit."""
from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .claim_figures import class_profile
from .features import QuantileBin
from .figures import CLASS_COLORS, unit_histogram
from .i18n import tr
from .images import to_images, upscale

LABEL_BAND = 14       # CSS pixels above each tile for its number
GAP = 4               # CSS pixels between tiles
BIN_COLOURS = ("#d62728", "#ff7f0e", "#2ca02c", "#1f77b4")     # the feature page's quantile bins, strongest first


@dataclass(frozen=True)
class TileSheet:
    """Tiles drawn in a grid under their labels: the PNG, its size in CSS pixels, and each tile's centre."""

    png: bytes
    width: int
    height: int
    centres: np.ndarray       # (N, 2) x, y of each tile's centre, in CSS pixels from the top left


def balanced_columns(n: int, most: int) -> int:
    """Columns for n tiles, at most `most`, with the rows as full as they can be (8 tiles at most 7: 4 + 4,
    not 7 + 1)."""
    rows = max(1, -(-n // most))
    return max(1, -(-n // rows))


def numbered_tiles(images: np.ndarray, image_shape: tuple[int, int], labels: Sequence[str], ncols: int,
                   scale: int = 2, pixel_ratio: int = 2) -> TileSheet:
    """(N, D) images in [0, 1] as a grid of ncols, each under its label (e.g. its unit's number), white
    between; `scale` CSS pixels per image pixel, drawn at `pixel_ratio` pixels per CSS pixel (sharp
    text on a laptop's screen)."""
    from PIL import Image, ImageDraw, ImageFont

    h, w = image_shape
    ncols = max(1, min(ncols, len(images)))
    nrows = -(-len(images) // ncols)
    px = scale * pixel_ratio                                                  # pixels per image pixel
    tile_w, tile_h = w * scale + GAP, h * scale + LABEL_BAND + GAP           # CSS pixels per cell
    sheet = Image.new("L", (ncols * tile_w * pixel_ratio, nrows * tile_h * pixel_ratio), 255)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=11 * pixel_ratio)
    tiles = (to_images(images, image_shape) * 255).round().astype(np.uint8)  # (N, H, W)
    centres = np.zeros((len(images), 2))
    for i, (tile, label) in enumerate(zip(tiles, labels, strict=True)):
        row, col = divmod(i, ncols)
        left, top = col * tile_w, row * tile_h
        sheet.paste(Image.fromarray(upscale(tile, px)), (left * pixel_ratio, (top + LABEL_BAND) * pixel_ratio))
        draw.text(((left + w * scale / 2) * pixel_ratio, (top + LABEL_BAND - 2) * pixel_ratio), label, fill=40,
                  font=font, anchor="ms")
        centres[i] = left + w * scale / 2, top + LABEL_BAND + h * scale / 2
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return TileSheet(buffer.getvalue(), ncols * tile_w, nrows * tile_h, centres)


def clickable_sheet(sheet: TileSheet, units: Sequence[int], hover: Sequence[str]) -> go.Figure:
    """The sheet as a chart at its own size, with an invisible marker on each tile: a click selects that
    tile (its customdata is the unit), hovering says what it is."""
    source = "data:image/png;base64," + base64.b64encode(sheet.png).decode()
    fig = go.Figure(go.Image(source=source, dx=sheet.width / _png_width(sheet.png),
                             dy=sheet.width / _png_width(sheet.png), hoverinfo="skip",
                             zsmooth="fast"))      # smooth: a 2× sheet shrinks by averaging, its labels stay legible
    fig.add_trace(go.Scatter(x=sheet.centres[:, 0], y=sheet.centres[:, 1], mode="markers",
                             marker=dict(size=26, opacity=0.01, symbol="square"), customdata=list(units),
                             text=list(hover), hovertemplate=tr("%{text}<extra>click for its feature page</extra>")))
    fig.update_layout(width=sheet.width, height=sheet.height, margin=dict(l=0, r=0, t=0, b=0), showlegend=False,
                      dragmode=False, xaxis=dict(visible=False, range=[0, sheet.width], fixedrange=True),
                      yaxis=dict(visible=False, range=[sheet.height, 0], fixedrange=True))
    return fig


def _png_width(png: bytes) -> int:
    return int.from_bytes(png[16:20], "big")        # the IHDR chunk's width, right after the signature


def feature_histogram(counts: np.ndarray, edges: np.ndarray, unit: int, log_counts: bool,
                      threshold: float | None, bins: Sequence[QuantileBin]) -> go.Figure:
    """The unit's activation histogram (figures.unit_histogram) with the range of activations of each
    quantile bin shaded in its colour and named above the bars (staggered, so narrow bins stay legible)."""
    fig = unit_histogram(counts, edges, unit, log_counts, threshold)
    for i, (shown, colour) in enumerate(zip(bins, BIN_COLOURS, strict=False)):
        if not shown.count:
            continue
        width = max(shown.z_high - shown.z_low, (edges[-1] - edges[0]) / 200)      # a bin of one value still shows
        fig.add_vrect(x0=shown.z_low, x1=shown.z_low + width, fillcolor=colour, opacity=0.18, line_width=0)
        fig.add_annotation(x=(shown.z_low + shown.z_high) / 2, y=1.0 - 0.09 * i, yref="paper", showarrow=False,
                           text=shown.label, font=dict(size=11, color=colour), bgcolor="rgba(255, 255, 255, 0.8)")
    fig.update_layout(title=tr("Unit {unit}'s activations (test split)", unit=unit))
    return fig


def class_panels(rates: np.ndarray | None, means: np.ndarray | None, class_names: Sequence[str],
                 selectivity: float | None) -> go.Figure:
    """Which classes a unit fires for, side by side (each where given): P(active | class c), the fraction of
    each class's test images on which it is active, and its mean activity μ_c per class with its
    selectivity, the bars of claim_figures.class_profile. A panel's largest bar is orange."""
    mean_title = tr("Mean activity μ_c, not live") if selectivity is None else \
        tr("Mean activity μ_c, SI {si:.2f}", si=selectivity)
    titles = [t for t, shown in ((tr("How often it fires, per class"), rates), (mean_title, means))
              if shown is not None]
    fig = make_subplots(rows=1, cols=len(titles), horizontal_spacing=0.14, subplot_titles=titles)
    col = 1
    if rates is not None:
        top = int(np.argmax(rates))
        fig.add_trace(go.Bar(x=list(class_names), y=rates * 100,
                             marker_color=[CLASS_COLORS[1] if c == top else CLASS_COLORS[0] for c in range(len(rates))],
                             hovertemplate=tr("class %{x}<br>active on %{y:.1f} % of its images<extra></extra>")),
                      row=1, col=col)
        fig.update_yaxes(title_text=tr("% of the class's images"), row=1, col=col)
        col += 1
    if means is not None:
        fig.add_trace(class_profile(means, class_names, 0, selectivity).data[0], row=1, col=col)
        fig.update_yaxes(title_text=tr("mean activity μ_c"), row=1, col=col)
    fig.update_xaxes(title_text=tr("class"), type="category")
    fig.update_layout(height=300, showlegend=False, margin=dict(l=50, r=10, t=40, b=40))
    return fig
