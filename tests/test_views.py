"""The arrays and figures behind the pages: picks, noisy rows, error summaries, PNG strips, curves."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.figures import heatmap, loss_curves, per_class_bar, rows_png
from explorer.images import grid, to_png, upscale
from explorer.params import log_grid
from explorer.registry import get_variant
from explorer.views import error_summary, pick_indices, reconstruction_rows


def test_pick_indices_is_seeded_distinct_and_filters_classes(digits):
    a, b = pick_indices(digits.test_y, 12, 3), pick_indices(digits.test_y, 12, 3)
    assert np.array_equal(a, b) and len(set(a.tolist())) == 12
    assert not np.array_equal(a, pick_indices(digits.test_y, 12, 4))
    only = pick_indices(digits.test_y, 500, 0, classes=[1, 7])
    assert set(digits.test_y[only].tolist()) == {1, 7} and len(only) == int(((digits.test_y == 1) | (digits.test_y == 7)).sum())


def test_reconstruction_rows_with_and_without_noise(trained_digits_models, digits):
    model, _ = trained_digits_models["denoising"]
    x = digits.test_x[:6]
    clean = reconstruction_rows(model, x)
    assert clean.noisy is None and clean.original.shape == clean.reconstruction.shape == (6, 64)
    noisy = reconstruction_rows(model, x, "masking", 0.5, seed=1)
    again = reconstruction_rows(model, x, "masking", 0.5, seed=1)
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
    history = {"epoch": [1, 2], "train": {"total": [1.0, 0.5], "recon": [0.9, 0.4], "kl_sparsity": [3.0, 2.0]},
               "test": {"total": [1.1, 0.6], "recon": [1.0, 0.5], "kl_sparsity": [3.1, 2.1]}}
    fig = loss_curves(history)
    assert len(fig.data) == 6 and [a.text for a in fig.layout.annotations] == ["total loss", "reconstruction (MSE)", "Σ KL(ρ‖ρ̂ⱼ)"]
    assert list(fig.data[5].y) == [3.1, 2.1] and fig.data[5].line.dash == "dash"
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
