"""Variant configs, shapes, loss terms against hand computations, and the contractive closed form."""
from __future__ import annotations

import math

import pytest
import torch

from explorer import build_model, get_variant, variant_names
from explorer.noise import add_noise
from explorer.variants.contractive import encoder_jacobian_sq_norm
from explorer.variants.sparse_kl import kl_divergence

ALL = ["ae", "sparse_l1", "sparse_kl", "denoising", "contractive", "vae"]


def test_registry_names_are_the_public_interface():
    assert variant_names() == ALL
    with pytest.raises(ValueError, match="unknown variant 'nope'.*ae, sparse_l1"):
        get_variant("nope")


@pytest.mark.parametrize("name", ALL)
def test_shapes_and_named_terms(name):
    model = build_model(name, input_dim=64)
    x = torch.rand(5, 64)
    z = model.encode(x)
    assert z.shape == (5, model.config.latent_dim)
    assert model.decode(z).shape == (5, 64)
    out = model(x)
    assert out.shape == (5, 64) and float(out.detach().min()) >= 0 and float(out.detach().max()) <= 1
    terms = model.loss(x)
    expected = {"ae": {"recon"}, "sparse_l1": {"recon", "l1"}, "sparse_kl": {"recon", "kl_sparsity"},
                "denoising": {"recon"}, "contractive": {"recon", "contractive"}, "vae": {"recon_bce", "kl"}}
    assert set(terms) == {"total"} | expected[name]
    assert all(t.ndim == 0 and torch.isfinite(t) for t in terms.values())


def test_seed_defaults():
    ae = build_model("ae")
    assert [m.out_features for m in ae.encoder if isinstance(m, torch.nn.Linear)] == [128, 32]
    assert [m.out_features for m in ae.decoder if isinstance(m, torch.nn.Linear)] == [128, 784]
    assert isinstance(ae.encoder[-1], torch.nn.ReLU) and isinstance(ae.decoder[-1], torch.nn.Sigmoid)
    kl = build_model("sparse_kl")
    assert (kl.config.latent_dim, kl.config.rho, kl.config.beta, kl.config.hidden) == (64, 0.05, 1e-2, ())
    assert isinstance(kl.encoder[-1], torch.nn.Sigmoid) and len(kl.encoder) == 2  # one layer, as the seed
    assert kl.default_batch_size == 256
    dn = build_model("denoising")
    assert (dn.config.noise, dn.config.noise_level) == ("gaussian", 0.3)
    assert build_model("vae").config.beta == 1.0 and build_model("vae").config.latent_dim >= 2


@pytest.mark.parametrize("variant, params, message", [
    ("sparse_kl", {"rho": 0}, r"rho must be in \(0, 1\); got 0"),
    ("sparse_kl", {"rho": 1}, r"rho must be in \(0, 1\); got 1"),
    ("sparse_kl", {"beta": -1}, r"beta must be >= 0; got -1"),
    ("sparse_l1", {"lam": -0.1}, r"lam must be >= 0; got -0.1"),
    ("contractive", {"lam": float("nan")}, r"lam must be a finite number"),
    ("denoising", {"noise_level": -0.3}, r"noise_level must be >= 0; got -0.3"),
    ("denoising", {"noise": "masking", "noise_level": 1.5}, r"noise_level .* must be in \[0, 1\]"),
    ("denoising", {"noise": "blur"}, r"noise must be one of gaussian, masking, salt_pepper; got 'blur'"),
    ("ae", {"latent_dim": 0}, r"latent_dim must be >= 1; got 0"),
    ("ae", {"hidden": "128,0"}, r"hidden must be >= 1; got 0"),
    ("ae", {"hidden": "12x"}, r"hidden must be a comma-separated list"),
    ("ae", {"latent_dim": "2.5"}, r"latent_dim must be a whole number"),
    ("vae", {"beta": "abc"}, r"beta must be a number"),
    ("ae", {"lam": 1e-3}, r"unknown parameter 'lam' for this variant; known parameters: input_dim, hidden, latent_dim"),
])
def test_invalid_hyperparameters_name_field_and_range(variant, params, message):
    with pytest.raises(ValueError, match=message):
        build_model(variant, params)


def test_hidden_accepts_strings_and_empty():
    assert build_model("ae", {"hidden": "256, 128"}).config.hidden == (256, 128)
    one_layer = build_model("ae", {"hidden": ""})
    assert [m.out_features for m in one_layer.encoder if isinstance(m, torch.nn.Linear)] == [32]


def test_config_round_trips_through_plain_dict():
    cls = get_variant("sparse_kl")
    config = cls.config_class.from_dict({"rho": "0.1", "hidden": "100"})
    again = cls.config_class.from_dict(config.to_dict())
    assert again == config and config.to_dict()["hidden"] == [100] and config.rho == 0.1


def test_kl_sparsity_matches_hand_computation():
    model = build_model("sparse_kl", {"latent_dim": 2, "rho": 0.1, "beta": 0.5}, input_dim=3)
    x = torch.rand(4, 3)
    with torch.no_grad():
        z = model.encode(x)
        rho_hat = z.mean(dim=0)
        hand = sum(0.1 * math.log(0.1 / r) + 0.9 * math.log(0.9 / (1 - r)) for r in rho_hat.tolist())
        recon = ((model.decode(z) - x) ** 2).mean()
        terms = model.loss(x)
    assert terms["kl_sparsity"].item() == pytest.approx(hand, rel=1e-5)
    assert terms["total"].item() == pytest.approx(recon.item() + 0.5 * hand, rel=1e-5)


def test_kl_divergence_is_zero_at_target_and_finite_at_extremes():
    rho_hat = torch.tensor([0.05, 0.0, 1.0, 0.5])
    kl = kl_divergence(0.05, rho_hat)
    assert kl[0].item() == pytest.approx(0.0, abs=1e-7)
    assert torch.isfinite(kl).all() and kl[1] > 0 and kl[2] > kl[3] > 0


def test_l1_term_is_batch_mean_of_code_l1_norm():
    model = build_model("sparse_l1", {"lam": 0.01}, input_dim=10)
    x = torch.rand(6, 10)
    with torch.no_grad():
        z = model.encode(x)
        terms = model.loss(x)
    assert terms["l1"].item() == pytest.approx(z.abs().sum(1).mean().item(), rel=1e-6)
    assert terms["total"].item() == pytest.approx(terms["recon"].item() + 0.01 * terms["l1"].item(), rel=1e-6)


@pytest.mark.parametrize("hidden, activation", [("", "sigmoid"), ("7", "relu"), ("7,5", "relu")])
def test_contractive_closed_form_equals_autograd_jacobian(hidden, activation):
    torch.manual_seed(0)
    model = build_model("contractive", {"hidden": hidden, "latent_dim": 4}, input_dim=9)
    if activation == "sigmoid":
        model.encoder[-1] = torch.nn.Sigmoid()
    x = torch.rand(3, 9)
    _, closed = encoder_jacobian_sq_norm(model.encoder, x)
    for i in range(3):
        jac = torch.autograd.functional.jacobian(model.encoder, x[i:i + 1]).reshape(4, 9)
        assert closed[i].item() == pytest.approx(jac.pow(2).sum().item(), rel=1e-5)


def test_vae_kl_matches_torch_distributions():
    model = build_model("vae", {"latent_dim": 3}, input_dim=12)
    x = torch.rand(5, 12)
    mu, logvar = model.encode_distribution(x)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, p).sum(1).mean()
    assert model.loss(x)["kl"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert torch.equal(model.encode(x), mu)
    samples = model.sample(7, generator=torch.Generator().manual_seed(1))
    assert samples.shape == (7, 12) and 0 <= float(samples.min()) and float(samples.max()) <= 1


def test_denoising_loss_targets_the_clean_image():
    model = build_model("denoising", {"noise_level": 0.0}, input_dim=16)
    x = torch.rand(4, 16)
    with torch.no_grad():
        assert model.loss(x)["recon"].item() == pytest.approx(((model(x) - x) ** 2).mean().item())


def test_noise_kinds():
    g = torch.Generator().manual_seed(0)
    x = torch.full((200, 100), 0.5)
    gauss = add_noise(x, "gaussian", 0.3, g)
    assert (gauss - x).std().item() == pytest.approx(0.3, rel=0.05)
    masked = add_noise(x, "masking", 0.25, g)
    assert (masked == 0).float().mean().item() == pytest.approx(0.25, abs=0.02)
    assert set(masked.unique().tolist()) <= {0.0, 0.5}
    sp = add_noise(x, "salt_pepper", 0.2, g)
    assert (sp != 0.5).float().mean().item() == pytest.approx(0.2, abs=0.02)
    assert set(sp.unique().tolist()) == {0.0, 0.5, 1.0}
    assert torch.equal(add_noise(x, "masking", 0.0, g), x)
    with pytest.raises(ValueError, match="noise_level for masking noise must be in"):
        add_noise(x, "masking", 2.0)
