"""Evaluation numbers: sparsity statistics by hand, and `evaluate` on real trained models."""
from __future__ import annotations

import math

import pytest
import torch

from explorer import build_model, evaluate
from explorer.metrics import code_statistics


def test_code_statistics_by_hand():
    codes = torch.tensor([[0.0, 0.5, 2.0, 0.0],
                          [0.0, 0.0, 1.0, 0.0005],
                          [0.0, 0.5, 3.0, 0.0]])
    s = code_statistics(codes, threshold=1e-3, rho=0.5)
    assert s["unit_firing_rate"] == pytest.approx([0.0, 2 / 3, 1.0, 0.0])
    assert s["dead_units"] == [0, 3] and s["dead_fraction"] == 0.5 and s["always_on_units"] == [2]
    assert s["mean_l0"] == pytest.approx((2 + 1 + 2) / 3)
    assert s["mean_l1"] == pytest.approx((2.5 + 1.0005 + 3.5) / 3)
    assert s["unit_mean_activation"] == pytest.approx([0.0, 1 / 3, 2.0, 0.0005 / 3])
    rho_hat = 1 / 3
    kl_unit1 = 0.5 * math.log(0.5 / rho_hat) + 0.5 * math.log(0.5 / (1 - rho_hat))
    assert s["unit_kl"][1] == pytest.approx(kl_unit1, rel=1e-5)
    assert s["kl_sum"] == pytest.approx(sum(s["unit_kl"]), rel=1e-6)


def test_evaluate_keys_and_values(trained_digits_models, digits):
    model, _ = trained_digits_models["ae"]
    m = evaluate(model, digits)
    with torch.no_grad():
        mse = ((model(digits.test_x) - digits.test_x) ** 2).mean().item()
    assert m["n_test"] == 360 and m["recon_mse"] == pytest.approx(mse, rel=1e-5)
    assert set(m["per_class_mse"]) == set("0123456789")
    assert len(m["unit_mean_activation"]) == len(m["unit_firing_rate"]) == 8
    assert 0 <= m["dead_fraction"] <= 1 and 0 <= m["mean_l0"] <= 8
    per_class_weighted = sum(v * (digits.test_y == int(k)).sum().item() for k, v in m["per_class_mse"].items()) / 360
    assert per_class_weighted == pytest.approx(m["recon_mse"], rel=1e-5)
    assert "rho" not in m and "kl_per_dim" not in m


def test_evaluate_sparse_kl_and_vae_extras(trained_digits_models, digits):
    kl_model, _ = trained_digits_models["sparse_kl"]
    m = evaluate(kl_model, digits)
    assert m["rho"] == 0.05 and len(m["unit_kl"]) == 16
    assert m["kl_sum"] == pytest.approx(sum(m["unit_kl"]), rel=1e-6)
    assert evaluate(kl_model, digits, rho=0.2)["rho"] == 0.2       # a chosen ρ for the page
    vae, _ = trained_digits_models["vae"]
    v = evaluate(vae, digits)
    assert len(v["kl_per_dim"]) == 8 and all(k >= 0 for k in v["kl_per_dim"])
    dn, _ = trained_digits_models["denoising"]
    d = evaluate(dn, digits)
    assert d["denoise_mse"] < d["noisy_input_mse"]   # it removes some of the noise


def test_dead_units_are_found(digits):
    model = build_model("ae", {"latent_dim": 4, "hidden": "8"}, input_dim=64)
    with torch.no_grad():
        model.encoder[2].bias[:2] = -100.0   # ReLU units 0 and 1 can never fire
    m = evaluate(model, digits)
    assert m["dead_units"][:2] == [0, 1] and m["dead_fraction"] >= 0.5


def test_a_model_no_better_than_the_average_image_is_called_out(mnist5k):
    from conftest import ROOT
    from explorer import load_checkpoint
    from explorer.metrics import learned_nothing

    sweep = ROOT / "checkpoints" / "sweeps" / "sparse_l1-lam"
    useful = evaluate(load_checkpoint(ROOT / "checkpoints" / "ae.pt"), mnist5k)
    all_dead = evaluate(load_checkpoint(sweep / "sparse_l1-lam=3e-3.pt"), mnist5k)
    baseline = ((mnist5k.test_x - mnist5k.train_x.mean(dim=0)) ** 2).mean().item()
    assert useful["mean_image_mse"] == all_dead["mean_image_mse"] == pytest.approx(baseline, rel=1e-5)
    assert useful["recon_mse"] < 0.3 * baseline and learned_nothing(useful, lr=1e-3) is None
    warning = learned_nothing(all_dead, lr=1e-3)
    assert all_dead["dead_fraction"] == 1.0 and "the sparsity penalty is probably too strong" in warning
    assert f"{all_dead['mean_image_mse']:.4f}" in warning
    assert learned_nothing({k: v for k, v in all_dead.items() if k != "mean_image_mse"}) is None   # old metrics
