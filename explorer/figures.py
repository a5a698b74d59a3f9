"""Plotly figures and PNG strips the pages show; pure functions of arrays, no Streamlit."""
from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .baselines import BaselinePoint
from .compare import Point
from .i18n import N_, tr, trn
from .images import grid, to_images, to_png
from .point_labels import label_places, short_labels

if TYPE_CHECKING:
    from PIL import ImageFont

    from .activations import UnitMarks

TRAIN_COLOR, TEST_COLOR = "#1f77b4", "#ff7f0e"
LABEL_BACKGROUND = "rgba(255, 255, 255, 0.8)"    # a reference line's label stays readable over bars
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#17becf"]
# Texts other modules hand the figures as values, shown here with tr(): the units' kinds
# (activations.UnitMarks.kind), the sparsity measures and distributions the Compare page draws
# (compare.SPARSITY_MEASURES, its choice of distribution), a baseline's method (baselines.METHOD_TITLES).
SHOWN_VALUES = (N_("dead"), N_("always on"), N_("mean L0"), N_("mean |z|₁"), N_("mean activation"),
                N_("recon MSE"), N_("firing rate"), N_("OMP dictionary learning"))


def loss_curves(history: dict, titles: dict[str, str], height: int = 300, only: tuple[str, ...] = ()) -> go.Figure:
    """One panel per loss term (those in `only`, if given), train (solid) and test (dashed) per epoch;
    titles from the variant (`term_titles()`), the term's own name for one it does not know."""
    terms = [t for t in history.get("train", {}) if not only or t in only] or ["total"]
    fig = make_subplots(rows=1, cols=len(terms), subplot_titles=[tr(titles.get(t, t)) for t in terms],
                        horizontal_spacing=0.22 / max(1, len(terms) - 1) if len(terms) > 1 else 0.0)
    epochs = history.get("epoch", [])
    for col, term in enumerate(terms, start=1):
        for split, color, dash in (("train", TRAIN_COLOR, "solid"), ("test", TEST_COLOR, "dash")):
            values = history.get(split, {}).get(term, [])
            mode = "lines+markers" if len(values) < 30 else "lines"
            fig.add_trace(go.Scatter(x=epochs[: len(values)], y=values, mode=mode,
                                     name=tr("train") if split == "train" else tr("test"), legendgroup=split,
                                     showlegend=col == 1,
                                     line=dict(color=color, dash=dash)), row=1, col=col)
        fig.update_xaxes(title_text=tr("epoch"), row=1, col=col)
    fig.update_layout(height=height, margin=dict(l=40, r=10, t=60, b=40),
                      legend=dict(orientation="h", y=1.22, x=0, xanchor="left", yanchor="bottom"))
    return fig


def waiting_curves(titles: dict[str, str], terms: tuple[str, ...], epochs: int, height: int = 300) -> go.Figure:
    """loss_curves' panels for these terms with no epoch yet: where the curves of a run of `epochs` will be."""
    empty = {"epoch": [], "train": {t: [] for t in terms}, "test": {t: [] for t in terms}}
    fig = loss_curves(empty, titles, height, only=terms)
    fig.update_xaxes(range=[0, max(1, epochs)])
    fig.update_yaxes(showticklabels=False)
    fig.add_annotation(text=tr("the curves start after the first epoch"), xref="paper", yref="paper", x=0.5, y=0.5,
                       showarrow=False, font=dict(color="#888"))
    return fig


def per_class_bar(per_class: dict[str, float], title: str = N_("Reconstruction error by class")) -> go.Figure:
    names = list(per_class)
    values = [per_class[n] for n in names]
    fig = go.Figure(go.Bar(x=names, y=values, marker_color=TRAIN_COLOR,
                           hovertemplate=tr("class %{x}<br>MSE %{y:.4f}<extra></extra>")))
    fig.update_layout(title=tr(title), xaxis_title=tr("class"), yaxis_title=tr("mean squared error per pixel"),
                      height=320, margin=dict(l=50, r=10, t=50, b=40), xaxis_type="category")
    return fig


# Inferno, but for its first colour: Streamlit's Plotly wrapper uses "#000001"… "#0000xx" as placeholders for
# its theme's colours and replaces them in every figure it draws, and Inferno starts at "#000004" (a lavender
# low end, measured). The same black, written so that nothing replaces it.
INFERNO = [[0.0, "rgb(0, 0, 4)"], *[[position, colour] for position, colour in
                                    go.Heatmap(colorscale="Inferno").colorscale[1:]]]


def heatmap(image: np.ndarray, title: str, colorbar_title: str = "MSE") -> go.Figure:
    """A (H, W) map drawn as square pixels with hover values."""
    fig = go.Figure(go.Heatmap(z=image[::-1], colorscale=INFERNO, colorbar=dict(title=colorbar_title),
                               hovertemplate=tr("row %{customdata[0]}, col %{x}<br>%{z:.4f}<extra></extra>"),
                               customdata=np.stack(np.meshgrid(np.arange(image.shape[1]),
                                                               np.arange(image.shape[0])[::-1]), -1)[..., ::-1]))
    fig.update_layout(title=title, height=360, margin=dict(l=20, r=20, t=50, b=20),
                      xaxis=dict(visible=False, constrain="domain"),
                      yaxis=dict(visible=False, scaleanchor="x"))
    return fig


def error_views(per_class: dict[str, float], pixel_map: np.ndarray) -> go.Figure:
    """Reconstruction error by class (bars) beside the mean squared error per pixel (a heat map of
    square pixels), one chart: the two figures above as its two panels."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.08,
                        subplot_titles=[tr("Reconstruction error by class"),
                                        tr("Where the error is: mean squared error per pixel")])
    fig.add_trace(per_class_bar(per_class).data[0], row=1, col=1)
    fig.add_trace(heatmap(pixel_map, "").data[0].update(colorbar=dict(title="MSE", x=1.0, len=0.9)), row=1, col=2)
    fig.update_xaxes(title_text=tr("class"), type="category", row=1, col=1)
    fig.update_yaxes(title_text=tr("mean squared error per pixel"), row=1, col=1)
    fig.update_xaxes(visible=False, constrain="domain", row=1, col=2)
    fig.update_yaxes(visible=False, scaleanchor="x2", row=1, col=2)
    fig.update_layout(height=380, showlegend=False, margin=dict(l=50, r=20, t=50, b=40))
    return fig


def rows_png(rows: list[np.ndarray], image_shape: tuple[int, int], scale: int = 3) -> bytes:
    """Stack equal-length rows of flat images (each (n, D)) into one crisp PNG, one row each."""
    n = len(rows[0])
    images = to_images(np.concatenate(rows), image_shape)
    return to_png(grid(images, ncols=n, pad=2), scale=scale)


def tiles_png(images: np.ndarray, image_shape: tuple[int, int], ncols: int, scale: int = 3) -> bytes:
    return to_png(grid(to_images(images, image_shape), ncols=ncols, pad=2), scale=scale)


PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
DEAD_COLOR, ALWAYS_ON_COLOR = "#d62728", "#9467bd"    # dead and always-on units, in every per-unit chart
LEGEND_ROOM = 28                                        # CSS pixels above a chart for one row of its legend


def unit_colours(units: Iterable[int], marks: UnitMarks | None, live: str = TRAIN_COLOR) -> list[str]:
    """Each unit's colour: the dead and always-on units' own, `live` for the others."""
    dead, always = (set(), set()) if marks is None else (set(marks.dead), set(marks.always_on))
    return [DEAD_COLOR if int(u) in dead else ALWAYS_ON_COLOR if int(u) in always else live for u in units]


def mark_legend(fig: go.Figure, marks: UnitMarks | None, shown: Iterable[int], dead_note: str = "",
                **where: int) -> bool:
    """A legend entry (a coloured square) for the dead and for the always-on units among those shown, each
    naming its rule for this code and how many there are, at the top of the chart; every other trace
    leaves the legend. `dead_note` ends the dead units' entry (e.g. where a chart leaves them out); `where`
    is the subplot (row, col) to put the entries in. False, and no legend, when no shown unit is marked."""
    fig.update_traces(showlegend=False)
    on_chart = {int(u) for u in shown}
    added = False
    for colour, name, units, rule in ((DEAD_COLOR, tr("dead"), marks.dead, str(marks.dead_rule) + dead_note),
                                      (ALWAYS_ON_COLOR, tr("always on"), marks.always_on, str(marks.always_on_rule))) \
            if marks is not None else ():
        n = len(on_chart.intersection(units))
        if n:
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", hoverinfo="skip", showlegend=True,
                                     name=trn("{name} ({count} unit): {rule}", "{name} ({count} units): {rule}",
                                              n, name=name, rule=rule),
                                     marker=dict(symbol="square", size=12, color=colour)), **where)
            added = True
    fig.update_layout(showlegend=added, legend=dict(orientation="h", yref="container", y=1, yanchor="top", x=0,
                                                    xanchor="left", itemclick=False, itemdoubleclick=False))
    return added


def dead_markers(units: Iterable[int], marks: UnitMarks | None, labels: Iterable[str | int]) -> go.Scatter | None:
    """A cross on the axis under each dead unit among `units` (drawn at `labels`): a bar of height 0 shows
    no colour, and a ReLU unit's dead is exactly 0. None when no unit shown is dead."""
    dead = set() if marks is None else set(marks.dead)
    at = [label for u, label in zip(units, labels, strict=True) if int(u) in dead]
    if not at:
        return None
    return go.Scatter(x=at, y=[0] * len(at), mode="markers", cliponaxis=False, showlegend=False,
                      marker=dict(symbol="x-thin", size=9, line=dict(width=2, color=DEAD_COLOR)),
                      hovertemplate=tr("unit %{x} (dead)<extra></extra>"))


def log_count_axis(most: float) -> dict:
    """A log axis's settings for counts from 1 to `most`: a tick at each power of ten (1, 10, 100, …) and
    none between (Plotly labels its minor log ticks otherwise: "2, 100, 5, 2, 10"), over one decade at
    least, so that there are always two labelled ticks."""
    return dict(type="log", dtick=1, exponentformat="none", range=[-0.05, max(1.0, math.log10(max(most, 1))) + 0.15])


def unit_histograms(counts: np.ndarray, edges: np.ndarray, units: np.ndarray, log_counts: bool,
                    cols: int = 8, highlight: int | None = None, marks: UnitMarks | None = None) -> go.Figure:
    """Small multiples: one activation histogram per unit, in the order given, to scan at a glance.

    One Bar trace on one pair of axes, each unit's bars placed in a cell of a grid, not a subplot per
    unit: a browser draws dozens of subplots (an axis pair each) slowly, one trace at once. Each cell
    has its own scales, as separate panels would: x spans the unit's own bins, bar heights are its
    counts over its tallest bar (log₁₀(1 + count) when log_counts). Hovering gives the unit, the bin's
    range of z and the number of images; a bar's customdata is [unit, z from, z to, images]. Dead and
    always-on units (`marks`) are drawn and labelled in their colours, named in the legend."""
    units = np.asarray(units, dtype=int)
    n_bins = counts.shape[1]
    gap = max(3, n_bins // 6)                    # empty bins between cells
    rows = max(1, -(-len(units) // cols))
    row_step = 1.45                              # a cell's height is 1; the rest is room for its label
    shown = np.log10(1 + counts[units]) if log_counts else counts[units].astype(float)
    tallest = shown.max(axis=1, keepdims=True)
    heights = shown / np.where(tallest > 0, tallest, 1)               # (n, bins) in [0, 1]
    cell = np.arange(len(units))
    left = (cell % cols) * (n_bins + gap)                             # (n,) x of each cell's first bin
    bottom = -(cell // cols) * row_step                               # (n,) y of each cell's baseline
    x = (left[:, None] + np.arange(n_bins)[None, :] + 0.5).ravel()
    custom = np.stack([np.repeat(units, n_bins).astype(float), edges[units, :-1].ravel(),
                       edges[units, 1:].ravel(), counts[units].ravel().astype(float)], axis=1)
    colours = np.where(np.repeat(units, n_bins) == (-1 if highlight is None else highlight), TEST_COLOR,
                       np.repeat(unit_colours(units, marks), n_bins))
    fig = go.Figure(go.Bar(x=x, y=heights.ravel(), base=np.repeat(bottom, n_bins), width=1.0,
                           marker=dict(color=colours, line_width=0), customdata=custom,
                           hovertemplate=tr("unit %{customdata[0]}<br>z from %{customdata[1]:.3g} to "
                                            "%{customdata[2]:.3g}<br>%{customdata[3]} images<extra></extra>")))
    # each cell's baseline (one trace, cells apart by gaps) and its label above it
    line_x = np.stack([left, left + n_bins, np.full(len(units), np.nan)], axis=1).ravel()
    line_y = np.repeat(bottom, 3).astype(float)
    fig.add_trace(go.Scatter(x=line_x, y=line_y, mode="lines", line=dict(color="#bbb", width=1), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=left + n_bins / 2, y=bottom + 1.2, mode="text",
                             text=[tr("unit {unit}", unit=u) for u in units],
                             textfont=dict(size=10, color=unit_colours(units, marks, live="#555")),
                             hoverinfo="skip"))
    fig.update_xaxes(visible=False, range=[-gap / 2, cols * (n_bins + gap) - gap / 2])
    fig.update_yaxes(visible=False, range=[-(rows - 1) * row_step - 0.1, 1.35])
    legend = LEGEND_ROOM if mark_legend(fig, marks, units) else 0
    fig.update_layout(height=max(160, 80 * rows + 20) + legend, margin=dict(l=10, r=10, t=10 + legend, b=10))
    return fig


def unit_histogram(counts: np.ndarray, edges: np.ndarray, unit: int, log_counts: bool,
                   threshold: float | None = None) -> go.Figure:
    """One unit's activations; with the unit's learned threshold θ marked, below which it outputs 0."""
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(go.Bar(x=centres, y=counts, marker_color=TEST_COLOR, marker_line_width=0,
                           hovertemplate=tr("z ≈ %{x:.3g}<br>%{y} images<extra></extra>")))
    if threshold is not None:
        fig.add_vline(x=threshold, line_dash="dash", line_color=TRAIN_COLOR,
                      annotation_text=tr("learned θ = {threshold:.3g}", threshold=threshold),
                      annotation_position="top right")
    fig.update_layout(title=tr("Unit {unit}: activations on the test split", unit=unit), xaxis_title=tr("activation z"),
                      yaxis_title=tr("images"), bargap=0.02, height=320, margin=dict(l=50, r=10, t=50, b=40))
    if log_counts:
        fig.update_yaxes(log_count_axis(float(np.max(counts, initial=1))), title_text=tr("images (log scale)"))
    return fig


@dataclass(frozen=True)
class UnitPanel:
    """One per-unit number drawn as bars: its panel's title, what the bars measure (the y axis's title;
    empty where the panel's title says it all), a value per unit (K,), and an optional reference line
    (e.g. the target ρ)."""

    title: str
    yaxis: str
    values: np.ndarray
    reference: float | None = None
    reference_label: str = ""


def unit_panels(panels: list[UnitPanel], units: np.ndarray, marks: UnitMarks | None = None) -> go.Figure:
    """Per-unit numbers stacked on one shared axis of units in the given order, a panel each (ρ̂ⱼ
    against ρ, KL(ρ‖ρ̂ⱼ), a variant's own): one chart, so a unit's numbers line up one above the other.
    Dead and always-on units (`marks`) in their colours, named in the legend and in the hover."""
    labels = [str(int(u)) for u in units]
    fig = make_subplots(rows=len(panels), cols=1, shared_xaxes=True, subplot_titles=[tr(p.title) for p in panels],
                        vertical_spacing=0.2 / len(panels))
    colours = unit_colours(units, marks)
    kinds = ["" if marks is None or marks.kind(int(u)) == "live" else tr(" ({kind})", kind=tr(marks.kind(int(u))))
             for u in units]
    for row, panel in enumerate(panels, start=1):
        what = tr(panel.yaxis or panel.title)
        fig.add_trace(go.Bar(x=labels, y=panel.values[units], marker_color=colours, name=tr(panel.title),
                             customdata=kinds,
                             hovertemplate=tr("unit %{{x}}%{{customdata}}<br>{what} = %{{y:.4g}}<extra></extra>",
                                              what=what)),
                      row=row, col=1)
        fig.update_yaxes(title_text=tr(panel.yaxis), row=row, col=1)
        if panel.reference is not None:
            fig.add_hline(y=panel.reference, line_dash="dash", line_color=TEST_COLOR, row=row, col=1,
                          annotation_text=tr(panel.reference_label), annotation_position="top right",
                          annotation_bgcolor=LABEL_BACKGROUND)
    for row in range(1, len(panels) + 1):
        crosses = dead_markers(units, marks, labels)
        if crosses is not None:
            fig.add_trace(crosses, row=row, col=1)
    fig.update_xaxes(type="category")
    fig.update_xaxes(title_text=tr("unit"), row=len(panels), col=1)
    legend = LEGEND_ROOM if mark_legend(fig, marks, units, row=1, col=1) else 0
    fig.update_layout(height=60 + 230 * len(panels) + legend, margin=dict(l=50, r=10, t=40 + legend, b=40))
    return fig


def sparsity_distributions(firing_rate: np.ndarray, l0: np.ndarray, n_units: int,
                           marks: UnitMarks | None = None) -> go.Figure:
    """Side by side: the histogram of log₁₀(firing rate) over the units that ever fire (the SAE 'feature
    density' plot; its axis labelled in percent at each power of ten), and the histogram of active units
    per image (L0) with its mean. The always-on units (`marks`) are drawn over their bin in their colour;
    the dead ones (rate 0, nowhere on a log axis) are named and counted in the legend."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14,
                        subplot_titles=[tr("Firing rate per unit (log density; dead units left out)"),
                                        tr("Active units per image (L0)")])
    alive = np.flatnonzero(firing_rate > 0)
    log_rate = np.log10(firing_rate[alive])
    low, high = (float(log_rate.min()), float(log_rate.max())) if len(alive) else (-2.0, 0.0)
    size = max((high - low) / 30, 0.01)
    bins = dict(start=low - size / 2, end=high + size / 2, size=size)       # the same bins for the always-on
    fig.add_trace(go.Histogram(x=log_rate, xbins=bins, marker_color=TRAIN_COLOR, name=tr("units"),
                               hovertemplate=tr("log₁₀ rate %{x}<br>%{y} units<extra></extra>")), row=1, col=1)
    fig.add_trace(go.Histogram(x=l0, xbins=dict(start=-0.5, end=n_units + 0.5, size=1), marker_color=TRAIN_COLOR,
                               name=tr("images"), hovertemplate=tr("%{x} active units<br>%{y} images<extra></extra>")),
                  row=1, col=2)
    always = [u for u in (marks.always_on if marks is not None else ()) if firing_rate[u] > 0]
    if always:
        fig.add_trace(go.Histogram(x=np.log10(firing_rate[always]), xbins=bins, marker_color=ALWAYS_ON_COLOR,
                                   name=tr("always on"), hovertemplate=tr("always on<br>%{y} units<extra></extra>")),
                      row=1, col=1)
    most = float(l0.max(initial=0)) + 1.5
    fig.add_vline(x=float(l0.mean()), line_dash="dash", line_color=TEST_COLOR, row=1, col=2,
                  annotation_text=tr("mean {mean:.1f}", mean=float(l0.mean())), annotation_bgcolor=LABEL_BACKGROUND,
                  annotation_position="top left" if l0.mean() > most / 2 else "top right")   # inside the chart
    decades = np.arange(math.floor(low), math.ceil(high) + 1)
    fig.update_xaxes(title_text=tr("share of test images on which the unit fires (log scale)"), tickmode="array",
                     tickvals=decades, ticktext=[f"{100 * 10.0 ** d:g} %" for d in decades],
                     range=[min(low, float(decades[0])) - size, max(high, float(decades[-1])) + size], row=1, col=1)
    fig.update_xaxes(title_text=tr("units active"), range=[-0.5, most], row=1, col=2)
    fig.update_yaxes(title_text=tr("units"), row=1, col=1)
    fig.update_yaxes(title_text=tr("images"), row=1, col=2)
    legend = LEGEND_ROOM if mark_legend(fig, marks, range(n_units), tr(" (rate 0, not on a log axis)"),
                                        row=1, col=1) else 0
    fig.update_layout(height=340 + legend, barmode="overlay", bargap=0.05, margin=dict(l=50, r=10, t=50 + legend, b=40))
    return fig


def code_bars(code: np.ndarray, title: str, highlight: int | None = None, marks: UnitMarks | None = None) -> go.Figure:
    """The seed's bar chart of one image's hidden activations; dead and always-on units (`marks`, over
    the test split) in their colours, named in the legend."""
    units = list(range(len(code)))
    colors = [TEST_COLOR if j == highlight else c for j, c in zip(units, unit_colours(units, marks), strict=True)]
    fig = go.Figure(go.Bar(x=units, y=code, marker_color=colors,
                           hovertemplate=tr("unit %{x}<br>z = %{y:.4g}<extra></extra>")))
    crosses = dead_markers(units, marks, units)
    if crosses is not None:
        fig.add_trace(crosses)
    fig.update_layout(title=title, xaxis_title=tr("hidden unit"), yaxis_title=tr("activation"), height=300,
                      margin=dict(l=50, r=10, t=50, b=40))
    if mark_legend(fig, marks, units):          # the title at the top, the legend under it
        height = 300 + LEGEND_ROOM
        fig.update_layout(title=dict(yref="container", y=1, yanchor="top", pad=dict(t=12)), legend_y=1 - 40 / height,
                          height=height, margin_t=50 + LEGEND_ROOM)
    return fig


def unit_means_chart(means: np.ndarray, title: str, marks: UnitMarks | None = None,
                     rho: float | None = None) -> go.Figure:
    """code_bars of each unit's mean activation ρ̂ⱼ, with the target ρ as a line where there is one."""
    fig = code_bars(means, title, marks=marks)
    fig.update_yaxes(title=tr("ρ̂ⱼ (mean activation)"))
    if rho is not None:
        fig.add_hline(y=rho, line=dict(color=TEST_COLOR, dash="dash"), annotation_text=f"ρ = {rho:g}",
                      annotation_position="top right")
    return fig


def clickable_strip(images: np.ndarray, image_shape: tuple[int, int], labels: list[str]) -> go.Figure:
    """A row of images with an invisible marker on each, so a click selects that image."""
    h, w = image_shape
    pad = 2
    strip = np.ones((h, len(images) * (w + pad) - pad))
    for i, image in enumerate(images.reshape(len(images), h, w)):
        strip[:, i * (w + pad): i * (w + pad) + w] = np.clip(image, 0, 1)
    fig = go.Figure(go.Heatmap(z=strip[::-1], colorscale="gray", showscale=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[i * (w + pad) + w / 2 for i in range(len(images))], y=[h / 2] * len(images),
                             mode="markers", marker=dict(size=max(w, 28), opacity=0.01, symbol="square"),
                             customdata=list(range(len(images))), text=labels,
                             hovertemplate=tr("%{text}<extra>click to inspect</extra>")))
    fig.update_layout(height=130, margin=dict(l=0, r=0, t=0, b=0), showlegend=False, dragmode=False,
                      xaxis=dict(visible=False, constrain="domain"), yaxis=dict(visible=False, scaleanchor="x"))
    return fig


def latent_map(coords: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...], hover: list[str],
               title: str, axis_names: tuple[str, ...] = (N_("dim 1"), N_("dim 2"), N_("dim 3")),
               marked: np.ndarray | None = None, marked_hover: str = N_("your digit"),
               plane: np.ndarray | None = None) -> go.Figure:
    """Scatter of a 2-D or 3-D map, one trace per class (click the legend to hide a class);
    each point's customdata is its row in the sample, for selections; `marked` (1, dims), a drawn
    digit's place, as a large star labelled "your digit" (a legend entry too). `plane` (G, 2): a 2-D code's
    decoded grid (code_push.decoded_plane), drawn as invisible points under the map that the hover images
    show as the decoder's picture; they carry no customdata (no selection takes them) but the meta
    `plane_offset`, where their images start after the sample's."""
    three_d = coords.shape[1] == 3
    axis_names = tuple(tr(name) for name in axis_names)
    fig = go.Figure()
    if plane is not None and not three_d:
        fig.add_trace(go.Scattergl(x=plane[:, 0], y=plane[:, 1], mode="markers", name=tr("decoded plane"),
                                   showlegend=False, meta={"plane_offset": len(coords)},
                                   marker=dict(size=14, opacity=0, color="#000"),
                                   hovertemplate=tr("the decoder's picture of z = (%{x:.2f}, %{y:.2f})"
                                                    "<extra></extra>")))
    for c, name in enumerate(class_names):
        rows = np.flatnonzero(labels == c)
        if not len(rows):
            continue
        common = dict(mode="markers", name=str(name), customdata=rows, text=[hover[r] for r in rows],
                      hovertemplate="%{text}<extra></extra>",
                      marker=dict(size=3 if three_d else 6, color=CLASS_COLORS[c % len(CLASS_COLORS)], opacity=0.8))
        if three_d:
            fig.add_trace(go.Scatter3d(x=coords[rows, 0], y=coords[rows, 1], z=coords[rows, 2], **common))
        else:
            fig.add_trace(go.Scattergl(x=coords[rows, 0], y=coords[rows, 1], **common))
    if marked is not None:
        # Large, black with a white rim (it stands out from every class colour and from the white
        # background), and named on the map itself as well as in the legend.
        star = dict(mode="markers+text", name=tr("your digit"), text=[tr("your digit")], textposition="top center",
                    hovertext=[tr(marked_hover)], hovertemplate="%{hovertext}<extra></extra>",
                    marker=dict(symbol="star", size=16 if three_d else 30, color="#000",
                                line=dict(color="#fff", width=3)),
                    textfont=dict(size=15, color="#000", weight="bold")
                    | ({} if three_d else dict(shadow="0 0 3px #fff, 0 0 3px #fff")))
        if three_d:
            fig.add_trace(go.Scatter3d(x=marked[:, 0], y=marked[:, 1], z=marked[:, 2], **star))
        else:
            fig.add_trace(go.Scatter(x=marked[:, 0], y=marked[:, 1], **star))
    fig.update_layout(title=title, height=620, legend=dict(title=tr("class"), itemsizing="constant"),
                      # pan, not lasso: Streamlit makes a click select a point only outside the lasso and box
                      # tools (a click chooses an image; the tools, above the map, select many)
                      margin=dict(l=40, r=10, t=50, b=40), dragmode="pan" if not three_d else "orbit")
    if three_d:
        fig.update_scenes(xaxis_title=axis_names[0], yaxis_title=axis_names[1], zaxis_title=axis_names[2])
    else:
        fig.update_xaxes(title=axis_names[0])
        fig.update_yaxes(title=axis_names[1])
    return fig


# Fonts with Chinese glyphs, by file name (Pillow looks a bare name up in the system's font folders): Pillow's
# own font has none, and a Chinese title drawn in it is a row of boxes. The first one found is used.
CJK_FONTS = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf",
             "SourceHanSansSC-Regular.otf", "wqy-microhei.ttc", "wqy-zenhei.ttc", "msyh.ttc", "simhei.ttf",
             "PingFang.ttc", "Hiragino Sans GB.ttc", "STHeiti Light.ttc", "Arial Unicode.ttf")


def _font(text: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's own font at `size` for a text it can draw (Latin), else a system font with Chinese glyphs."""
    from PIL import ImageFont

    if all(ord(ch) < 0x2E80 for ch in text):        # below the CJK blocks
        return ImageFont.load_default(size=size)
    return _cjk_font(size)


@lru_cache(maxsize=8)
def _cjk_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The first of CJK_FONTS the system has, at `size`; Pillow's own font where it has none."""
    from PIL import ImageFont

    for name in CJK_FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def latent_map_png(coords: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...], title: str,
                   size: tuple[int, int] = (700, 620), scale: int = 2) -> bytes:
    """A map of the first two coordinates as a PNG, drawn like latent_map (the same colours, classes in
    the same order, a legend): for the maps a t-SNE passes through on its way. A new Plotly chart is
    mounted afresh in the browser for every new figure (1–1.5 s each for 2,000 WebGL points on a busy
    2-core laptop, blank meanwhile); a new picture is swapped in at once. `scale`: pixels per CSS pixel."""
    from PIL import Image, ImageDraw

    width, height = size[0] * scale, size[1] * scale
    left, right, top, bottom = 40 * scale, 90 * scale, 50 * scale, 40 * scale
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image, "RGBA")            # RGBA: fills blend, as Plotly's opacity 0.8 does
    draw.text((left, 16 * scale), title, fill="#31333f", font=_font(title, 16 * scale))
    xy = np.asarray(coords, dtype=np.float64)[:, :2]
    low, high = xy.min(axis=0), xy.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    box = np.array([width - left - right, height - top - bottom], dtype=np.float64)
    pixels = (xy - low) / span * box * 0.94 + box * 0.03          # a 3 % margin, as Plotly pads its axes
    pixels[:, 1] = box[1] - pixels[:, 1]                          # y grows upwards on a map
    pixels += [left, top]
    draw.rectangle([left, top, width - right, height - bottom], outline="#e6e9ef", width=scale)
    radius = 3 * scale
    for c, name in enumerate(class_names):
        colour = CLASS_COLORS[c % len(CLASS_COLORS)]
        rgba = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5)) + (204,)
        for x, y in pixels[labels == c]:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=rgba)
        x, y, r = width - right + 17 * scale, top + (20 + 22 * c) * scale, 5 * scale     # its legend entry
        draw.ellipse([x - r, y - r, x + r, y + r], fill=rgba)
        draw.text((width - right + 30 * scale, y), str(name), fill="#31333f", font=_font(str(name), 14 * scale),
                  anchor="lm")
    draw.text((width - right + 12 * scale, top), tr("class"), fill="#808495", font=_font(tr("class"), 14 * scale),
              anchor="lm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=1)   # speed over a few kB
    return buffer.getvalue()


def variance_bars(explained: np.ndarray, shown: int = 10) -> go.Figure:
    k = min(shown, len(explained))
    fig = go.Figure(go.Bar(x=[f"PC{i + 1}" for i in range(k)], y=explained[:k] * 100, marker_color=TRAIN_COLOR,
                           hovertemplate=tr("%{x}: %{y:.1f} % of the variance<extra></extra>")))
    fig.update_layout(title=tr("Variance per PCA component"), yaxis_title=tr("% of variance"), height=260,
                      margin=dict(l=50, r=10, t=50, b=30))
    return fig


def class_mix(labels: np.ndarray, class_names: tuple[str, ...]) -> go.Figure:
    counts = np.bincount(labels, minlength=len(class_names))
    present = np.flatnonzero(counts)
    fig = go.Figure(go.Bar(x=[str(class_names[c]) for c in present], y=counts[present],
                           marker_color=[CLASS_COLORS[c % len(CLASS_COLORS)] for c in present],
                           hovertemplate=tr("class %{x}: %{y} images<extra></extra>")))
    fig.update_layout(title=tr("Classes in the selection"), xaxis_type="category", height=260,
                      margin=dict(l=40, r=10, t=50, b=30))
    return fig


def _group_colours(pts: list[Point]) -> dict[str, str]:
    return {g: CLASS_COLORS[c % len(CLASS_COLORS)] for c, g in enumerate(dict.fromkeys(p.group for p in pts))}


def _learned_nothing_trace(pts: list[Point], x_title: str, y_title: str) -> go.Scatter:
    bad = [p for p in pts if p.learned_nothing]
    return go.Scatter(x=[p.x for p in bad], y=[p.y for p in bad], mode="markers", name=tr("learned nothing"),
                      marker=dict(symbol="x-thin", size=16, line=dict(width=3, color="#d62728")),
                      text=[p.setting for p in bad],
                      hovertemplate=tr("%{{text}}<br><b>learned nothing</b>: no better than the average image<br>"
                                       "{x_title} %{{x:.3g}}<br>{y_title} %{{y:.4f}}<extra></extra>",
                                       x_title=x_title, y_title=y_title))


def tradeoff(pts: list[Point], x_title: str, y_title: str = "recon MSE") -> go.Figure:
    """Reconstruction error against sparsity, one point per model, labelled where the label has room (every
    point names its model on hover); each group (a sweep, or a variant) joined in order of sparsity so a sweep
    reads as a curve; models that learned nothing crossed out. The titles: sparsity measures' names (keys)."""
    x_title, y_title = tr(x_title), tr(y_title)
    fig = go.Figure()
    colours = _group_colours(pts)
    labels = short_labels(pts)
    places = label_places([p.x for p in pts], [p.y for p in pts], labels)
    for group, colour in colours.items():
        members = sorted((i for i, p in enumerate(pts) if p.group == group), key=lambda i: pts[i].x)
        fig.add_trace(go.Scatter(x=[pts[i].x for i in members], y=[pts[i].y for i in members],
                                 mode="lines+markers+text", name=group,
                                 text=[labels[i] if places[i] else "" for i in members],
                                 textposition=[places[i] or "top center" for i in members],
                                 hovertext=[pts[i].setting for i in members], marker=dict(size=11, color=colour),
                                 line=dict(color=colour, dash="dot"),
                                 hovertemplate="%{hovertext}<br>" + x_title + " %{x:.3g}<br>" + y_title
                                               + " %{y:.4f}<extra></extra>"))
    if any(p.learned_nothing for p in pts):
        fig.add_trace(_learned_nothing_trace(pts, x_title, y_title))
    # The legend under the plot, in a row or two: beside it, the sweeps' names take a third of a projector's width.
    fig.update_layout(title=tr("The trade-off: {y_title} against sparsity ({x_title})", y_title=y_title,
                               x_title=x_title), xaxis_title=x_title,
                      yaxis_title=tr("{y_title} (lower is better)", y_title=y_title), height=460,
                      legend=dict(orientation="h", yanchor="top", y=-0.15, xanchor="left", x=0),
                      margin=dict(l=60, r=20, t=50, b=50))
    return fig


# The classical baselines: black, dashed, each with a dash and a marker of its own — apart from the models'
# coloured lines, and from the Pareto front's thin grey staircase.
BASELINE_STYLES = {"pca": ("#000000", "dash", "square-open"), "nmf": ("#000000", "dashdot", "diamond-open"),
                   "omp": ("#000000", "longdash", "star")}


def _baseline_traces(baselines: list[BaselinePoint]) -> list[go.Scatter]:
    traces = []
    for method, (colour, dash, symbol) in BASELINE_STYLES.items():
        line = sorted((b for b in baselines if b.method == method), key=lambda b: b.mean_l0)
        if not line:
            continue
        title = tr(line[0].title)
        text = [(tr("{title}: k = {k} non-zeros of {atoms} atoms", title=title, k=b.k, atoms=b.atoms)
                 if method == "omp" else tr("{title}: k = {k} components", title=title, k=b.k))
                + (tr("<br>dead atoms {share:.0%}", share=b.dead_fraction) if b.dead_fraction is not None else "")
                + tr("<br>fitted on the train split in {seconds:.1f} s", seconds=b.fit_seconds) for b in line]
        name = (tr("{title} ({atoms} atoms, k non-zeros; baseline)", title=title, atoms=line[0].atoms)
                if method == "omp" else tr("{title} (k components; baseline)", title=title))
        traces.append(go.Scatter(x=[b.mean_l0 for b in line], y=[b.fvu for b in line], mode="lines+markers",
                                 name=name, text=text,
                                 marker=dict(size=10, symbol=symbol, color=colour),
                                 line=dict(color=colour, width=2.5 if method == "omp" else 1.5, dash=dash),
                                 hovertemplate=tr("%{text}<br>mean L0 %{x:.2f}<br>FVU %{y:.4f}<extra></extra>")))
    return traces


def frontier(pts: list[Point], front: list[int], log_x: bool = False,
             baselines: list[BaselinePoint] | None = None) -> go.Figure:
    """The L0–FVU frontier: each group a line, each model a point (hover: its setting), the Pareto
    front as a grey staircase through the models no other model beats on both axes; the classical
    baselines, if given, as dashed lines of their own (not on the front: it ranks the models)."""
    fig = go.Figure()
    for trace in _baseline_traces(baselines or []):
        fig.add_trace(trace)
    for group, colour in _group_colours(pts).items():
        members = sorted((p for p in pts if p.group == group and not p.learned_nothing), key=lambda p: p.x)
        dense = any(p.dense for p in members)   # drawn hollow and dotted: L0 does not count what it uses
        fig.add_trace(go.Scatter(x=[p.x for p in members], y=[p.y for p in members], mode="lines+markers",
                                 name=tr("{group} (dense code)", group=group) if dense else group,
                                 text=[p.setting for p in members],
                                 marker=dict(size=9, color="white" if dense else colour,
                                             line=dict(color=colour, width=2)),
                                 line=dict(color=colour, width=2, dash="dot" if dense else "solid"),
                                 hovertemplate=tr("%{text}<br>mean L0 %{x:.2f}<br>FVU %{y:.4f}<br>dense code: every "
                                                  "unit reaches the decoder<extra></extra>") if dense
                                 else tr("%{text}<br>mean L0 %{x:.2f}<br>FVU %{y:.4f}<extra></extra>")))
    if front:
        on_front = [pts[i] for i in front]
        fig.add_trace(go.Scatter(x=[p.x for p in on_front], y=[p.y for p in on_front], mode="lines+markers",
                                 name=tr("Pareto front"), line=dict(color="#444", width=1, dash="dash", shape="hv"),
                                 marker=dict(size=17, color="rgba(0,0,0,0)", line=dict(color="#444", width=2)),
                                 text=[p.setting for p in on_front],
                                 hovertemplate=tr("%{text}<br><b>on the Pareto front</b><br>mean L0 %{x:.2f}"
                                                  "<br>FVU %{y:.4f}<extra></extra>")))
    if any(p.learned_nothing for p in pts):
        fig.add_trace(_learned_nothing_trace(pts, tr("mean L0"), "FVU"))
    fig.update_layout(title=tr("The frontier: fraction of variance unexplained against active units per image"),
                      xaxis_title=tr("mean L0 (active units per image), log scale") if log_x
                      else tr("mean L0 (active units per image)"),
                      yaxis_title=tr("FVU (lower is better)"), xaxis_type="log" if log_x else "linear",
                      height=480, margin=dict(l=60, r=20, t=50, b=50))
    return fig


def overlaid_histograms(series: dict[str, np.ndarray], title: str, xaxis: str, log_x: bool = False) -> go.Figure:
    fig = go.Figure()
    for c, (name, values) in enumerate(series.items()):
        shown = np.log10(values[values > 0]) if log_x else values
        fig.add_trace(go.Histogram(x=shown, name=name, opacity=0.55, nbinsx=30,
                                   marker_color=CLASS_COLORS[c % 10]))
    fig.update_layout(barmode="overlay", title=title, xaxis_title=("log₁₀ " if log_x else "") + tr(xaxis),
                      yaxis_title=tr("units"), height=360, margin=dict(l=50, r=10, t=50, b=40))
    return fig


def overlaid_curves(histories: dict[str, dict], term: str, title: str, split: str = "test") -> go.Figure:
    """One term's curve per model; a model whose history lacks the term is not drawn (never another
    term in its place: a chart titled MSE shows MSE)."""
    fig = go.Figure()
    for c, (name, history) in enumerate(histories.items()):
        values = history.get(split, {}).get(term)
        if not values:
            continue
        fig.add_trace(go.Scatter(x=history.get("epoch", [])[: len(values)], y=values, mode="lines", name=name,
                                 line=dict(color=CLASS_COLORS[c % 10])))
    fig.update_layout(title=tr("{split} {title} per epoch", split=tr("train") if split == "train" else tr("test"),
                               title=tr(title)), xaxis_title=tr("epoch"), yaxis_title=tr(title),
                      yaxis_type="log", height=360, margin=dict(l=50, r=10, t=50, b=40))
    return fig
