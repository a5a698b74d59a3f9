"""Plotly figures and PNG strips the pages show; pure functions of arrays, no Streamlit."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .images import grid, to_images, to_png

TRAIN_COLOR, TEST_COLOR = "#1f77b4", "#ff7f0e"
TERM_TITLES = {"total": "total loss", "recon": "reconstruction (MSE)", "l1": "‖z‖₁ (L1 term)",
               "kl_sparsity": "Σ KL(ρ‖ρ̂ⱼ)", "contractive": "‖∂z/∂x‖²_F", "recon_bce": "reconstruction (BCE)",
               "kl": "KL(q‖N(0,I))"}


def loss_curves(history: dict, height: int = 300) -> go.Figure:
    """One panel per loss term, train (solid) and test (dashed) per epoch."""
    terms = list(history.get("train", {})) or ["total"]
    fig = make_subplots(rows=1, cols=len(terms), subplot_titles=[TERM_TITLES.get(t, t) for t in terms],
                        horizontal_spacing=0.22 / max(1, len(terms) - 1) if len(terms) > 1 else 0.0)
    epochs = history.get("epoch", [])
    for col, term in enumerate(terms, start=1):
        for split, color, dash in (("train", TRAIN_COLOR, "solid"), ("test", TEST_COLOR, "dash")):
            values = history.get(split, {}).get(term, [])
            fig.add_trace(go.Scatter(x=epochs[: len(values)], y=values, mode="lines+markers" if len(values) < 30 else "lines",
                                     name=split, legendgroup=split, showlegend=col == 1,
                                     line=dict(color=color, dash=dash)), row=1, col=col)
        fig.update_xaxes(title_text="epoch", row=1, col=col)
    fig.update_layout(height=height, margin=dict(l=40, r=10, t=60, b=40),
                      legend=dict(orientation="h", y=1.22, x=0, xanchor="left", yanchor="bottom"))
    return fig


def per_class_bar(per_class: dict[str, float], title: str = "Reconstruction error by class") -> go.Figure:
    names = list(per_class)
    values = [per_class[n] for n in names]
    fig = go.Figure(go.Bar(x=names, y=values, marker_color=TRAIN_COLOR,
                           hovertemplate="class %{x}<br>MSE %{y:.4f}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="class", yaxis_title="mean squared error per pixel",
                      height=320, margin=dict(l=50, r=10, t=50, b=40), xaxis_type="category")
    return fig


def heatmap(image: np.ndarray, title: str, colorbar_title: str = "MSE") -> go.Figure:
    """A (H, W) map drawn as square pixels with hover values."""
    fig = go.Figure(go.Heatmap(z=image[::-1], colorscale="Inferno", colorbar=dict(title=colorbar_title),
                               hovertemplate="row %{customdata[0]}, col %{x}<br>%{z:.4f}<extra></extra>",
                               customdata=np.stack(np.meshgrid(np.arange(image.shape[1]),
                                                               np.arange(image.shape[0])[::-1]), -1)[..., ::-1]))
    fig.update_layout(title=title, height=360, margin=dict(l=20, r=20, t=50, b=20),
                      xaxis=dict(visible=False, constrain="domain"),
                      yaxis=dict(visible=False, scaleanchor="x"))
    return fig


def rows_png(rows: list[np.ndarray], image_shape: tuple[int, int], scale: int = 3) -> bytes:
    """Stack equal-length rows of flat images (each (n, D)) into one crisp PNG, one row each."""
    n = len(rows[0])
    images = to_images(np.concatenate(rows), image_shape)
    return to_png(grid(images, ncols=n, pad=2), scale=scale)


def tiles_png(images: np.ndarray, image_shape: tuple[int, int], ncols: int, scale: int = 3) -> bytes:
    return to_png(grid(to_images(images, image_shape), ncols=ncols, pad=2), scale=scale)


PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
