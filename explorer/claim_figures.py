"""Plotly figures of the claims: a measure against mean L0 with its intervals, noise curves per model, and one
unit's mean activity per class; pure functions, no Streamlit."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .claims import Entry
from .figures import CLASS_COLORS
from .i18n import N_, tr
from .measures import ModelMeasures
from .noise import noise_label

HEIGHT = 380
MARGIN = dict(l=60, r=20, t=50, b=50)


def _error_bars(values: Sequence[float], lows: Sequence[float], highs: Sequence[float]) -> dict:
    return dict(type="data", symmetric=False, array=np.subtract(highs, values), arrayminus=np.subtract(values, lows),
                thickness=1.5, width=4)


def measure_against_l0(entries: Sequence[Entry], title: str, y_title: str, zero_line: str | None = None,
                       log_x: bool = False) -> go.Figure:
    """Each model a point at (mean L0, the measure) with its 95 % interval as an error bar; the models of one
    group (a sweep, a variant) joined in order of L0. zero_line: a label for y = 0 (e.g. the null)."""
    fig = go.Figure()
    groups = list(dict.fromkeys(e.group for e in entries))
    for c, group in enumerate(groups):
        members = sorted((e for e in entries if e.group == group), key=lambda e: e.mean_l0)
        values = [e.value.value for e in members]
        fig.add_trace(go.Scatter(
            x=[e.mean_l0 for e in members], y=values, mode="lines+markers", name=group,
            text=[e.label for e in members], marker=dict(size=9, color=CLASS_COLORS[c % 10]),
            line=dict(color=CLASS_COLORS[c % 10], width=2),
            error_y=_error_bars(values, [e.value.low for e in members], [e.value.high for e in members]),
            customdata=[[e.value.low, e.value.high] for e in members],
            hovertemplate="%{text}<br>" + tr("mean L0") + " %{x:.2f}<br>" + y_title + " %{y:.3f}<br>"
                          + tr("95 % interval") + " %{customdata[0]:.3f} – %{customdata[1]:.3f}<extra></extra>"))
    if zero_line:
        fig.add_hline(y=0, line=dict(color="#888", dash="dash", width=1), annotation_text=zero_line,
                      annotation_position="bottom right")
    fig.update_layout(title=title, xaxis_title=tr("mean L0 (active units per image; sparser to the left)")
                      + (tr(", log scale") if log_x else ""), yaxis_title=y_title,
                      xaxis_type="log" if log_x else "linear",
                      height=HEIGHT, margin=MARGIN, legend=dict(orientation="h", y=-0.25, x=0))
    return fig


def compared_at(entries: Sequence[Entry], title: str, x_title: str) -> go.Figure:
    """Each line's model at one sparsity, as a horizontal bar with its 95 % interval, the best on top."""
    ordered = sorted(entries, key=lambda e: e.value.value)
    values = [e.value.value for e in ordered]
    fig = go.Figure(go.Bar(
        y=[f"{e.group}<br><sub>{e.label}, L0 {e.mean_l0:.1f}</sub>" for e in ordered], x=values, orientation="h",
        marker_color=CLASS_COLORS[0], text=[e.label for e in ordered], textposition="none",
        error_x=_error_bars(values, [e.value.low for e in ordered], [e.value.high for e in ordered]),
        customdata=[[e.value.low, e.value.high] for e in ordered],
        hovertemplate="%{text}<br>" + x_title + " %{x:.3f} (" + tr("95 % interval")
                      + " %{customdata[0]:.3f} – %{customdata[1]:.3f})<extra></extra>"))
    low = min(e.value.low for e in ordered)
    fig.update_layout(title=title, xaxis_title=x_title, xaxis_range=[max(0.0, low - 0.05), 1.0],
                      height=max(240, 80 + 55 * len(ordered)), margin=dict(l=20, r=20, t=50, b=50))
    fig.update_yaxes(automargin=True)
    return fig


NOISE_MEASURES = {"code_cosine": N_("cosine of clean and noisy codes"),       # English keys, shown with tr()
                  "probe_dense": N_("dense probe's balanced accuracy"), "recon_mse": N_("MSE against the clean image")}


def noise_curves(models: Sequence[ModelMeasures], labels: Sequence[str], measure: str, kind: str) -> go.Figure:
    """measure (a NOISE_MEASURES key) against the level of one kind of noise, a line per model with its
    intervals; the clean images' value at level 0 where there is one (probe_dense; cosine 1 by definition)."""
    fig = go.Figure()
    for c, (m, label) in enumerate(zip(models, labels, strict=True)):
        points = sorted((p for p in m.noise if p.kind == kind), key=lambda p: p.level)
        estimates = [getattr(p, measure) for p in points]
        levels = [p.level for p in points]
        if measure == "probe_dense":
            levels, estimates = [0.0, *levels], [m.probe_dense, *estimates]
        values = [e.value for e in estimates]
        fig.add_trace(go.Scatter(
            x=levels, y=values, mode="lines+markers", name=label, marker=dict(color=CLASS_COLORS[c % 10]),
            line=dict(color=CLASS_COLORS[c % 10]), customdata=[[e.low, e.high] for e in estimates],
            error_y=_error_bars(values, [e.low for e in estimates], [e.high for e in estimates]),
            hovertemplate=label + "<br>" + tr("level") + " %{x:g}<br>%{y:.4f} (" + tr("95 % interval")
                          + " %{customdata[0]:.4f} – %{customdata[1]:.4f})<extra></extra>"))
    what = tr("σ of the Gaussian noise") if kind == "gaussian" else tr("fraction of pixels masked to 0")
    name = tr(NOISE_MEASURES[measure])
    # English capitalises its first letter as it always has ('Mse against…'); a translation is shown as it is.
    title_name = name.capitalize() if name == NOISE_MEASURES[measure] else name
    fig.update_layout(title=tr("{measure}, against {kind} noise", measure=title_name, kind=noise_label(kind)),
                      xaxis_title=what, yaxis_title=name, height=HEIGHT, margin=MARGIN,
                      legend=dict(orientation="h", y=-0.25, x=0))
    return fig


def class_profile(means: np.ndarray, class_names: Sequence[str], unit: int, selectivity: float | None) -> go.Figure:
    """One unit's mean activity over each class's test images (μ_c), the largest highlighted."""
    top = int(np.argmax(means))
    colours = [CLASS_COLORS[1] if c == top else CLASS_COLORS[0] for c in range(len(means))]
    fig = go.Figure(go.Bar(x=list(class_names), y=means, marker_color=colours,
                           hovertemplate=tr("class %{x}<br>mean activity %{y:.4g}<extra></extra>")))
    si = tr("not live") if selectivity is None else f"SI = {selectivity:.2f}"
    fig.update_layout(title=tr("Unit {unit}: mean activity per class ({si})", unit=unit, si=si),
                      xaxis_title=tr("class"), yaxis_title=tr("mean activity μ_c"), xaxis_type="category", height=300,
                      margin=dict(l=50, r=10, t=50, b=40))
    return fig
