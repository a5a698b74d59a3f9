"""Activation statistics: the page's numbers are evaluate's numbers; orders, top images, filters."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT

from explorer import evaluate, load_checkpoint
from explorer.activations import (
    activation_report,
    encoder_filters,
    filters_as_images,
    middle_of_range,
    top_activating,
    unit_order,
)


@pytest.mark.parametrize("variant", ["ae", "sparse_kl", "vae", "topk", "jumprelu"])
@pytest.mark.parametrize("threshold", [None, 1e-3])
def test_report_numbers_are_evaluates_numbers(trained_digits_models, digits, variant, threshold):
    model, _ = trained_digits_models[variant]
    report = activation_report(model, digits, threshold=threshold, rho=0.05)
    metrics = evaluate(model, digits, threshold=threshold, rho=0.05)
    assert report.stats == metrics.code
    assert report.codes.shape == (360, model.config.latent_dim)
    assert (report.hist_counts.sum(axis=1) == 360).all()
    assert report.l0.mean() == pytest.approx(metrics.code.mean_l0, rel=1e-6)
    assert report.active.sum(axis=0).tolist() == [round(r * 360) for r in metrics.code.unit_firing_rate]
    per_unit = [m for m in model.extra_metrics if m.per_unit]
    assert [report.per_unit_extras[m.title].tolist() for m in per_unit] == [metrics.extras[m.name] for m in per_unit]


def test_kl_view_uses_mean_for_sigmoid_codes_and_firing_rate_otherwise(trained_digits_models, digits):
    kl = activation_report(trained_digits_models["sparse_kl"][0], digits)
    assert kl.stats.kl_on == "mean_activation" and kl.rho == 0.05
    relu = activation_report(trained_digits_models["ae"][0], digits, rho=0.1)
    assert relu.stats.kl_on == "firing_rate" and relu.stats.threshold == 0.0
    rate = relu.firing_rate
    expected = (0.1 * np.log(0.1 / np.clip(rate, 1e-6, 1 - 1e-6))
                + 0.9 * np.log(0.9 / (1 - np.clip(rate, 1e-6, 1 - 1e-6))))
    assert np.allclose(relu.unit_kl, expected, rtol=2e-3)   # float32 clamp at 1 − 1e-6
    assert relu.stats.kl_sum < 1000        # finite and sane even with ReLU means above 1
    assert activation_report(trained_digits_models["ae"][0], digits).rho == 0.05   # no target: the seed's ρ
    assert activation_report(trained_digits_models["topk"][0], digits).rho == 3 / 8  # k / units


def test_threshold_changes_firing(trained_digits_models, digits):
    model = trained_digits_models["sparse_kl"][0]
    low, high = activation_report(model, digits, threshold=1e-3), activation_report(model, digits, threshold=0.9)
    assert (high.firing_rate <= low.firing_rate).all() and high.l0.mean() < low.l0.mean()
    assert activation_report(model, digits).stats.threshold == 0.5          # a sigmoid code's default


def test_orders_top_images_and_typical_images():
    codes = np.array([[0.0, 5.0], [3.0, 1.0], [1.0, 0.0], [2.0, 4.0], [4.0, 0.0]])
    assert list(top_activating(codes, 0, 3)) == [4, 1, 3]
    assert list(middle_of_range(codes, codes > 0, 0, 2)) == [3, 1]     # active values 1,2,3,4 → middle 2,3
    assert list(middle_of_range(codes, codes > 2.5, 0, 2)) == [1, 4]   # the mask decides: active 3,4 only
    assert len(middle_of_range(np.zeros((5, 1)), np.zeros((5, 1), bool), 0, 2)) == 0

    class Report:
        mean_activation = np.array([0.1, 0.5, 0.3])
        firing_rate = np.array([0.9, 0.2, 0.5])
        unit_kl = np.array([1.0, 3.0, 2.0])
        n_units = 3

    assert list(unit_order(Report, "unit")) == [0, 1, 2]
    assert list(unit_order(Report, "mean")) == [1, 2, 0]
    assert list(unit_order(Report, "firing")) == [0, 2, 1]
    assert list(unit_order(Report, "kl")) == [1, 2, 0]
    with pytest.raises(ValueError, match="order must be one of"):
        unit_order(Report, "colour")


def test_encoder_filters(trained_digits_models):
    kl = trained_digits_models["sparse_kl"][0]          # one layer: the filter is W itself
    assert np.allclose(encoder_filters(kl), kl.encoder[0].weight.detach().numpy())
    ae = trained_digits_models["ae"][0]                 # 64-32-8: the product W2 W1
    w1, w2 = ae.encoder[0].weight.detach(), ae.encoder[2].weight.detach()
    assert np.allclose(encoder_filters(ae), (w2 @ w1).numpy(), atol=1e-6)
    vae = trained_digits_models["vae"][0]
    assert encoder_filters(vae).shape == (8, 64)
    images = filters_as_images(np.array([[-2.0, 0.0, 1.0], [0.0, 0.0, 0.0]]))
    assert images[0].tolist() == [0.0, 0.5, 0.75] and images[1].tolist() == [0.5, 0.5, 0.5]


def test_shipped_sparse_kl_clusters_near_rho_and_matches_the_cli(mnist5k):
    path = ROOT / "checkpoints" / "sparse_kl.pt"
    report = activation_report(load_checkpoint(path), mnist5k)
    rho_hat = report.mean_activation
    assert report.rho == 0.05 and 0.03 < np.median(rho_hat) < 0.12 and (rho_hat < 0.25).all()
    proc = subprocess.run([sys.executable, "-m", "explorer", "evaluate", "--checkpoint", str(path), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    cli = json.loads(proc.stdout)
    assert cli["kl_sum"] == pytest.approx(report.stats.kl_sum, rel=1e-6)
    assert cli["unit_kl"] == pytest.approx(report.stats.unit_kl, rel=1e-6)
    assert cli["mean_l0"] == pytest.approx(report.stats.mean_l0, rel=1e-9)


def test_shipped_ae_has_dead_units(mnist5k):
    report = activation_report(load_checkpoint(ROOT / "checkpoints" / "ae.pt"), mnist5k)
    dead = report.stats.dead_units
    assert len(dead) >= 3 and all((report.hist_counts[u] > 0).sum() == 1 for u in dead)   # one spike at 0
    assert torch.tensor(report.codes[:, dead]).abs().max() == 0


def test_shipped_topk_never_exceeds_k_and_batch_topk_averages_about_k(mnist5k):
    topk = activation_report(load_checkpoint(ROOT / "checkpoints" / "topk.pt"), mnist5k)
    assert topk.l0.max() <= 10 and topk.stats.mean_l0 > 9.5
    batch = activation_report(load_checkpoint(ROOT / "checkpoints" / "batch_topk.pt"), mnist5k)
    assert batch.l0.min() < batch.l0.max()                 # an image's L0 varies …
    assert 7.5 < batch.stats.mean_l0 < 12.5                # … and averages about k = 10


def test_shipped_jumprelu_sweep_gets_sparser_as_lambda_grows(mnist5k):
    folder = ROOT / "checkpoints" / "sweeps" / "jumprelu-lam"
    l0 = [evaluate(load_checkpoint(folder / f"jumprelu-lam={lam}.pt"), mnist5k).code.mean_l0
          for lam in ("1e-4", "3e-4", "1e-3", "3e-3", "1e-2")]
    assert l0 == sorted(l0, reverse=True) and l0[0] > 3 * l0[-1]


def test_learned_thresholds_are_reported_per_unit_and_nothing_below_them_fires(trained_digits_models, digits):
    jump = activation_report(trained_digits_models["jumprelu"][0], digits)
    assert jump.unit_thresholds.shape == (8,)
    for j, theta in enumerate(jump.unit_thresholds):
        on = jump.codes[:, j][jump.codes[:, j] != 0]
        assert (on > theta).all()                                       # the jump: no value in (0, θ_j]
    assert activation_report(trained_digits_models["ae"][0], digits).unit_thresholds is None
    batch = activation_report(trained_digits_models["batch_topk"][0], digits).unit_thresholds
    assert len(set(batch.tolist())) == 1 and batch[0] > 0                # one learned θ for every unit
