"""The arrays and figures behind the pages: picks, noisy rows, error summaries, PNG strips, curves."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.figures import (
    TEST_COLOR,
    UnitPanel,
    error_views,
    heatmap,
    loss_curves,
    per_class_bar,
    rows_png,
    sparsity_distributions,
    unit_histograms,
    unit_panels,
)
from explorer.images import grid, to_png, upscale
from explorer.noise import NoiseSetting
from explorer.params import log_grid
from explorer.registry import get_variant
from explorer.views import error_summary, pick_indices, reconstruction_rows


def test_pick_indices_is_seeded_distinct_and_filters_classes(digits):
    a, b = pick_indices(digits.test_y, 12, 3), pick_indices(digits.test_y, 12, 3)
    assert np.array_equal(a, b) and len(set(a.tolist())) == 12
    assert not np.array_equal(a, pick_indices(digits.test_y, 12, 4))
    only = pick_indices(digits.test_y, 500, 0, classes=[1, 7])
    assert set(digits.test_y[only].tolist()) == {1, 7}
    assert len(only) == int(((digits.test_y == 1) | (digits.test_y == 7)).sum())


def test_reconstruction_rows_with_and_without_noise(trained_digits_models, digits):
    model, _ = trained_digits_models["denoising"]
    x = digits.test_x[:6]
    clean = reconstruction_rows(model, x)
    assert clean.noisy is None and clean.original.shape == clean.reconstruction.shape == (6, 64)
    noisy = reconstruction_rows(model, x, NoiseSetting("masking", 0.5), seed=1)
    again = reconstruction_rows(model, x, NoiseSetting("masking", 0.5), seed=1)
    assert np.array_equal(noisy.noisy, again.noisy)                     # same seed, same noise
    assert (noisy.noisy == 0).mean() > (clean.original == 0).mean()    # half the pixels masked
    assert noisy.mse.mean() > clean.mse.mean()


def test_error_summary_is_consistent(trained_digits_models, digits):
    model, _ = trained_digits_models["ae"]
    s = error_summary(model, digits, n_worst=5)
    with torch.no_grad():
        per_image = ((model(digits.test_x) - digits.test_x) ** 2).mean(1).numpy()
    assert np.allclose(s.per_image, per_image, atol=1e-6)
    assert s.pixel_map.shape == (8, 8) and s.pixel_map.mean() == pytest.approx(per_image.mean(), rel=1e-5)
    assert list(s.worst) == list(np.argsort(-per_image)[:5])
    assert s.worst_inputs.shape == (5, 64) and np.allclose(s.worst_inputs, digits.test_x[s.worst].numpy())
    assert s.per_class["0"] == pytest.approx(per_image[digits.test_y.numpy() == 0].mean(), rel=1e-5)


def test_grids_are_crisp_and_padded():
    images = np.arange(2 * 2 * 3, dtype=np.float32).reshape(3, 2, 2) / 12
    g = grid(images, ncols=2, pad=1)
    assert g.shape == (2 * 3 - 1, 2 * 3 - 1) and g[0, 2] == 1.0 and g[3, 0] == images[2, 0, 0]
    big = upscale(np.array([[0.0, 1.0]]), 3)
    assert big.shape == (3, 6) and set(np.unique(big[:, :3])) == {0.0} and set(np.unique(big[:, 3:])) == {1.0}
    png = Image.open(io.BytesIO(to_png(g, scale=4)))
    assert png.size == (5 * 4, 5 * 4) and png.mode == "L"


def test_rows_png_stacks_rows():
    rows = [np.zeros((4, 64)), np.ones((4, 64))]
    png = Image.open(io.BytesIO(rows_png(rows, (8, 8), scale=2)))
    assert png.size == ((4 * 8 + 3 * 2) * 2, (2 * 8 + 2) * 2)
    pixels = np.asarray(png)
    assert pixels[0, 0] == 0 and pixels[-1, 0] == 255


def test_figures_carry_every_term_and_value():
    history = {"epoch": [1, 2], "train": {"total": [1.0, 0.5], "recon_mse": [0.9, 0.4], "kl_sparsity": [3.0, 2.0]},
               "test": {"total": [1.1, 0.6], "recon_mse": [1.0, 0.5], "kl_sparsity": [3.1, 2.1]}}
    fig = loss_curves(history, get_variant("sparse_kl").term_titles())
    assert len(fig.data) == 6 and [a.text for a in fig.layout.annotations] == [
        "total loss", "reconstruction MSE", "Σⱼ KL(ρ‖ρ̂ⱼ)"]
    assert list(fig.data[5].y) == [3.1, 2.1] and fig.data[5].line.dash == "dash"
    unknown = loss_curves({"epoch": [1], "train": {"recon": [0.1]}, "test": {"recon": [0.2]}}, {})
    assert [a.text for a in unknown.layout.annotations] == ["recon"]      # an old history: its own names
    bar = per_class_bar({"0": 0.1, "1": 0.2})
    assert list(bar.data[0].x) == ["0", "1"] and list(bar.data[0].y) == [0.1, 0.2]
    hm = heatmap(np.array([[0.0, 1.0], [2.0, 3.0]]), "t")
    assert hm.data[0].z[0][0] == 2.0   # drawn bottom-up so row 0 is at the top


def test_log_grid_spans_the_suggested_range_with_zero_and_default():
    spec = get_variant("sparse_l1").config_class.field_specs()["lam"]
    values = log_grid(spec)
    assert values[0] == 0.0 and 1e-4 in values and values[1] == 1e-5 and values[-1] == 1e-2
    assert values == sorted(values)
    rho = log_grid(get_variant("sparse_kl").config_class.field_specs()["rho"])
    assert 0.0 not in rho and 0.05 in rho      # ρ = 0 is not allowed, so not offered


def test_describe_setting_and_the_table_row(trained_digits_models, digits):
    from explorer import build_model, evaluate
    from explorer.app.catalog import sweep_value
    from explorer.compare import ComparedModel, describe_setting, describe_settings

    assert describe_setting(build_model("ae")) == "ae (defaults)"
    assert describe_setting(build_model("sparse_l1", {"lam": 1e-3})) == "sparse_l1 λ=0.001"
    assert describe_setting(build_model("sparse_kl", {"beta": 0.1, "rho": 0.02})) == "sparse_kl ρ=0.02 β=0.1"
    assert describe_setting(build_model("ae", {"hidden": "256,128"})) == "ae hidden=256,128"
    assert describe_setting(build_model("topk", {"k": 5})) == "topk k=5"
    assert describe_setting(build_model("jumprelu", {"bandwidth": 1.0})) == "jumprelu ε=1"
    sweep = [build_model("sparse_l1", {"lam": v}) for v in (0.0, 1e-4, 1e-3)] + [build_model("ae")]
    assert describe_settings(sweep) == ["sparse_l1 λ=0", "sparse_l1 λ=0.0001", "sparse_l1 λ=0.001", "ae (defaults)"]
    assert sweep_value("sparse_l1-lam=3e-4") == 3e-4 and sweep_value("ae") == float("inf")
    model = trained_digits_models["sparse_kl"][0]
    ev = evaluate(model, digits)
    row = ComparedModel("k", "x.pt", "sparse_kl (defaults)", "sparse_kl", model, ev,
                        train={"seconds": 3.2, "epochs_run": 7}).table_row()
    assert row["FVU"] == ev.fvu and row["explained variance"] == pytest.approx(1 - ev.fvu)
    assert row["mean activation"] == pytest.approx(float(np.mean(ev.code.unit_mean_activation)))
    assert row["Σ KL(ρ‖ρ̂)"] == ev.code.kl_sum and row["active when"] == "|z_j| > 0.5"
    assert row["train seconds"] == 3.2 and row["epochs"] == 7 and row["learned nothing"] in ("", "yes")


def _points():
    from explorer.compare import Point

    return [Point("sparse_l1-lam", "sparse_l1 λ=0.001", 4.0, 0.45, False),
            Point("sparse_l1-lam", "sparse_l1 λ=0", 20.0, 0.25, False),
            Point("sparse_l1-lam", "sparse_l1 λ=0.0001", 15.0, 0.26, False),
            Point("sparse_l1-lam", "sparse_l1 λ=0.003", 0.0, 1.0, True),
            Point("topk-k", "topk k=5", 5.0, 0.39, False),
            Point("topk-k", "topk k=10", 10.0, 0.29, False),
            Point("topk-k", "topk k=20", 20.0, 0.20, False),
            Point("ae", "ae (defaults)", 21.0, 0.21, False)]


def test_tradeoff_joins_a_sweep_in_sparsity_order_and_crosses_out_what_learned_nothing():
    from explorer.figures import tradeoff

    fig = tradeoff(_points(), "mean L0", "FVU")
    assert [t.name for t in fig.data] == ["sparse_l1-lam", "topk-k", "ae", "learned nothing"]
    assert list(fig.data[0].x) == [0.0, 4.0, 15.0, 20.0] and list(fig.data[0].hovertext)[1] == "sparse_l1 λ=0.001"
    assert list(fig.data[3].text) == ["sparse_l1 λ=0.003"] and fig.data[3].marker.symbol == "x-thin"


def test_pareto_front_and_who_holds_the_frontier():
    from explorer.compare import frontier_at, pareto_front
    from explorer.figures import frontier

    pts = _points()
    front = pareto_front(pts)
    # sparsest first; the learned-nothing point at L0 0 is no part of it; λ=0 (20, 0.25) is beaten by topk k=20
    assert [pts[i].setting for i in front] == ["sparse_l1 λ=0.001", "topk k=5", "topk k=10", "sparse_l1 λ=0.0001",
                                               "topk k=20"]
    assert frontier_at(pts, 10.0) == ("topk-k", pytest.approx(0.29))
    l1_at_10 = 0.45 + (0.26 - 0.45) * (10 - 4) / (15 - 4)
    l1_only = [p for p in pts if p.group == "sparse_l1-lam"]
    assert frontier_at(l1_only, 10.0) == ("sparse_l1-lam", pytest.approx(l1_at_10))
    assert frontier_at(pts, 30.0) is None                         # no line reaches that far
    fig = frontier(pts, front)
    names = [t.name for t in fig.data]
    assert names == ["sparse_l1-lam", "topk-k", "ae", "Pareto front", "learned nothing"]
    assert list(fig.data[3].x) == [4.0, 5.0, 10.0, 15.0, 20.0] and fig.layout.yaxis.title.text.startswith("FVU")


@pytest.mark.parametrize("log_counts", [False, True])
def test_small_multiples_are_one_trace_holding_every_units_histogram(log_counts):
    """One Bar trace on one pair of axes (no subplot per unit); each unit's 30 bars carry its own counts
    and bin edges, its heights are its counts over its tallest bar, cells never overlap."""
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 400, size=(10, 30))
    counts[4] = 0
    counts[4, 15] = 1000                                  # a dead unit: everything in one bin
    edges = np.sort(rng.normal(size=(10, 31)), axis=1)
    units = np.array([3, 0, 7, 9, 4])
    fig = unit_histograms(counts, edges, units, log_counts, cols=2, highlight=7)
    assert [t.type for t in fig.data] == ["bar", "scatter", "scatter"]          # bars, baselines, labels
    assert [k for k in fig.layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))] == ["xaxis", "yaxis"]
    bars = fig.data[0]
    custom = np.asarray(bars.customdata, dtype=float).reshape(5, 30, 4)       # [unit, z from, z to, images]
    assert (custom[..., 0] == units[:, None]).all()
    assert (custom[..., 3] == counts[units]).all()
    assert np.allclose(custom[..., 1], edges[units, :-1]) and np.allclose(custom[..., 2], edges[units, 1:])
    shown = np.log10(1 + counts[units]) if log_counts else counts[units]
    heights = np.asarray(bars.y, dtype=float).reshape(5, 30)
    assert np.allclose(heights, shown / shown.max(axis=1, keepdims=True))
    assert heights[4, 15] == 1 and heights[4].sum() == 1
    x = np.asarray(bars.x, dtype=float).reshape(5, 30)
    base = np.asarray(bars.base, dtype=float).reshape(5, 30)
    assert (np.diff(x, axis=1) == 1).all()                                    # a cell's bins side by side
    cells = sorted((b[0], xs[0], xs[-1]) for b, xs in zip(base, x, strict=True))
    for (row_a, _, hi_a), (row_b, lo_b, _) in zip(cells, cells[1:], strict=False):
        assert row_a != row_b or hi_a < lo_b                                  # cells in a row apart
    assert len(set(base[:, 0])) == 3 and (base == base[:, :1]).all()          # 5 cells, 2 per row: 3 rows
    colours = np.asarray(bars.marker.color).reshape(5, 30)
    assert (colours[2] == TEST_COLOR).all() and not (colours[[0, 1, 3, 4]] == TEST_COLOR).any()
    assert list(fig.data[2].text) == ["unit 3", "unit 0", "unit 7", "unit 9", "unit 4"]


def test_unit_panels_line_up_each_units_numbers_and_the_distributions_hold_firing_and_l0():
    values = np.array([0.1, 0.4, 0.2])
    kl = np.array([0.01, 0.3, 0.02])
    order = np.array([1, 2, 0])
    fig = unit_panels([UnitPanel("Mean activation ρ̂ⱼ", "ρ̂ⱼ", values, 0.05, "target ρ = 0.05"),
                       UnitPanel("KL(ρ‖ρ̂ⱼ), sum = 0.330", "KL", kl)], order)
    assert [list(t.x) for t in fig.data] == [["1", "2", "0"]] * 2
    assert list(fig.data[0].y) == [0.4, 0.2, 0.1] and list(fig.data[1].y) == [0.3, 0.02, 0.01]
    assert [a.text for a in fig.layout.annotations] == ["Mean activation ρ̂ⱼ", "KL(ρ‖ρ̂ⱼ), sum = 0.330",
                                                        "target ρ = 0.05"]
    assert fig.layout.shapes[0].y0 == 0.05 and fig.layout.shapes[0].yref == "y"   # the target on the ρ̂ panel
    firing = np.array([0.0, 0.01, 0.1, 1.0])
    l0 = np.array([0, 1, 1, 3])
    dist = sparsity_distributions(firing, l0, 4)
    assert np.allclose(dist.data[0].x, [-2, -1, 0])                          # log₁₀ rates; dead units left out
    assert list(dist.data[1].x) == [0, 1, 1, 3] and dist.data[1].xaxis == "x2"
    assert "mean 1.2" in [a.text for a in dist.layout.annotations]


def test_error_views_hold_the_per_class_error_and_the_pixel_map_in_one_chart(trained_digits_models, digits):
    summary = error_summary(trained_digits_models["ae"][0], digits)
    fig = error_views(summary.per_class, summary.pixel_map)
    bars, pixels = fig.data
    assert list(bars.x) == list(summary.per_class) and np.allclose(bars.y, list(summary.per_class.values()))
    assert np.allclose(np.asarray(pixels.z)[::-1], summary.pixel_map) and pixels.xaxis == "x2"
    assert [a.text for a in fig.layout.annotations] == ["Reconstruction error by class",
                                                        "Where the error is: mean squared error per pixel"]
    # Streamlit replaces "#000001"…"#0000ff" with its theme's colours in any figure it draws
    assert not any(colour.lower().startswith("#0000") for _, colour in pixels.colorscale)


def test_one_setting_from_several_seeds_is_told_apart_by_its_seed():
    from explorer import build_model
    from explorer.checkpoint import ModelRecord
    from explorer.compare import describe_settings

    models = [build_model("topk", {"k": 5}) for _ in range(3)]
    for model, seed in zip(models, (0, 1, 0), strict=True):
        model.meta = ModelRecord("mnist-5k", train={"seed": seed})
    assert describe_settings(models) == ["topk k=5 seed=0", "topk k=5 seed=1", "topk k=5 seed=0"]
    alike = [build_model("ae"), build_model("ae")]                    # no seed known: left as they are
    assert describe_settings(alike) == ["ae (defaults)", "ae (defaults)"]
