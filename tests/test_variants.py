"""Variant configs, shapes, loss terms against hand computations, the contractive closed form, and the
modern sparse autoencoders (TopK and AuxK, BatchTopK, JumpReLU and its straight-through estimators)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from explorer import build_model, get_variant, variant_names
from explorer.noise import add_noise
from explorer.variants.contractive import encoder_jacobian_sq_norm
from explorer.variants.sparse_kl import kl_divergence

ALL = ["ae", "sparse_l1", "sparse_kl", "denoising", "contractive", "vae", "topk", "batch_topk", "jumprelu",
       "matryoshka", "mp"]
TERMS = {"ae": set(), "sparse_l1": {"l1"}, "sparse_kl": {"kl_sparsity"}, "denoising": {"denoise_mse"},
         "contractive": {"contractive"}, "vae": {"nll", "kl"}, "topk": {"auxk"}, "batch_topk": {"auxk"},
         "jumprelu": {"l0"}, "matryoshka": {"auxk", "prefix_mse"}, "mp": set()}


def test_registry_names_are_the_public_interface_in_menu_order():
    assert variant_names() == ALL
    assert [get_variant(n).order for n in ALL] == sorted(get_variant(n).order for n in ALL)
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
    assert out.shape == (5, 64)
    if not model.linear_decoder:          # a sigmoid keeps pixels in [0, 1]; a linear decoder is additive
        assert float(out.detach().min()) >= 0 and float(out.detach().max()) <= 1
    terms = model.loss(x)
    assert set(terms) == {"total", "recon_mse"} | TERMS[name]
    assert all(t.ndim == 0 and torch.isfinite(t) for t in terms.values())
    assert set(model.term_titles()) == set(terms)       # every term has a title for charts and tables


@pytest.mark.parametrize("name", ALL)
def test_recon_mse_is_the_clean_reconstruction_and_total_is_the_declared_sum(name):
    """One vocabulary: recon_mse is the per-pixel MSE of model(x) against x for every variant, and the
    total is the objective plus each penalty times the config field it declares."""
    torch.manual_seed(0)
    model = build_model(name, input_dim=64).eval()
    x = torch.rand(16, 64)
    torch.manual_seed(1)
    terms = model.loss(x)
    with torch.no_grad():
        assert terms["recon_mse"].item() == pytest.approx(F.mse_loss(model(x), x).item(), rel=1e-5)
    weighted = sum((float(getattr(model.config, t.weight)) if t.weight else 1.0) * terms[t.name]
                   for t in model.penalty_terms)
    assert terms["total"].item() == pytest.approx((terms[model.objective_term.name] + weighted).item(), rel=1e-5)


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
    ("topk", {"k": 65}, r"k must be at most latent_dim \(64\).*got k=65"),
    ("topk", {"k": 0}, r"k must be >= 1; got 0"),
    ("batch_topk", {"k": 2.5}, r"k must be a whole number"),
    ("jumprelu", {"bandwidth": 0}, r"bandwidth must be > 0; got 0"),
    ("jumprelu", {"lam": -1e-3}, r"lam must be >= 0; got -0.001"),
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
    assert terms["total"].item() == pytest.approx(terms["recon_mse"].item() + 0.01 * terms["l1"].item(), rel=1e-6)


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


def test_vae_kl_matches_torch_distributions_and_nll_is_summed_bce():
    model = build_model("vae", {"latent_dim": 3}, input_dim=12)
    x = torch.rand(5, 12)
    mu, logvar = model.encode_distribution(x)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, p).sum(1).mean()
    assert model.loss(x)["kl"].item() == pytest.approx(expected.item(), rel=1e-5)
    torch.manual_seed(3)
    nll = model.loss(x)["nll"]
    torch.manual_seed(3)
    z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)           # the same reparameterised sample
    bce = F.binary_cross_entropy(model.decode(z), x, reduction="none").sum(1).mean()
    assert nll.item() == pytest.approx(bce.item(), rel=1e-4)
    assert torch.equal(model.encode(x), mu)
    samples = model.sample(7, generator=torch.Generator().manual_seed(1))
    assert samples.shape == (7, 12) and 0 <= float(samples.min()) and float(samples.max()) <= 1


def test_denoising_loss_targets_the_clean_image():
    model = build_model("denoising", {"noise_level": 0.0}, input_dim=16)
    x = torch.rand(4, 16)
    with torch.no_grad():
        assert model.loss(x)["denoise_mse"].item() == pytest.approx(((model(x) - x) ** 2).mean().item())
    noisy = build_model("denoising", {"noise": "masking", "noise_level": 0.5}, input_dim=16)
    torch.manual_seed(0)
    terms = noisy.loss(x)
    torch.manual_seed(0)
    corrupted = add_noise(x, "masking", 0.5)
    with torch.no_grad():
        assert terms["denoise_mse"].item() == pytest.approx(((noisy(corrupted) - x) ** 2).mean().item(), rel=1e-6)
        assert terms["recon_mse"].item() == pytest.approx(((noisy(x) - x) ** 2).mean().item(), rel=1e-6)
    assert terms["denoise_mse"].item() != pytest.approx(terms["recon_mse"].item())


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


# -- the modern sparse autoencoders --------------------------------------------------------------------
def test_topk_keeps_at_most_k_units_per_image_and_they_are_the_largest():
    model = build_model("topk", {"k": 3, "latent_dim": 10}, input_dim=20)
    x = torch.rand(50, 20)
    with torch.no_grad():
        pre = model.encoder(x)
        z = model.encode(x)
    assert int((z != 0).sum(1).max()) <= 3 and (z >= 0).all()
    for row_pre, row_z in zip(pre, z, strict=True):
        kept = set(torch.nonzero(row_z).flatten().tolist())
        assert kept <= set(row_pre.topk(3).indices.tolist())           # only the three largest survive
        assert all(row_z[j] == row_pre[j] for j in kept)               # with their values (ReLU'd)
    assert model.target_firing_rate() == pytest.approx(0.3)


def test_auxk_is_zero_without_dead_units_and_matches_its_formula_with_them():
    torch.manual_seed(0)
    model = build_model("topk", {"k": 2, "latent_dim": 6, "aux_coeff": 0.5}, input_dim=8).train()
    x = torch.rand(4, 8)
    assert model.loss(x)["auxk"].item() == 0.0                         # nobody has been silent long enough
    model.images_since_fired.fill_(10**6)                               # every unit silent for ages …
    out = model.training_pass(x)
    live = (out.z > 0).any(dim=0)
    dead = ~live                                                        # … except those firing on this batch
    model.images_since_fired.masked_fill_(live, 0)
    k_aux = 3                                                           # latent_dim // 2
    with torch.no_grad():
        masked = out.pre.masked_fill(live, float("-inf"))
        top = masked.topk(k_aux, dim=1)
        z_aux = torch.zeros_like(out.pre)
        for b in range(4):
            for value, j in zip(top.values[b], top.indices[b], strict=True):
                if torch.isfinite(value):
                    z_aux[b, j] = value
        explained = model.decode(out.z + z_aux) - model.decode(out.z)
        hand = min(int(dead.sum()) / k_aux, 1.0) * ((x - out.x_hat - explained) ** 2).mean()
    assert int(dead.sum()) > 0
    assert model.auxk_loss(out, x, dead).item() == pytest.approx(hand.item(), rel=1e-5)


def test_auxk_trains_only_the_dead_units_encoder_rows():
    torch.manual_seed(0)
    model = build_model("topk", {"k": 1, "latent_dim": 6}, input_dim=8, seed=0).train()
    x = torch.rand(16, 8)
    out = model.training_pass(x)
    dead = torch.tensor([False, False, False, True, True, True])
    model.auxk_loss(out, x, dead).backward()
    grad = model.encoder[0].weight.grad                                 # (6, 8): one row per unit
    assert grad[3:].abs().sum() > 0 and grad[:3].abs().sum() == 0


def test_batch_topk_keeps_k_per_image_on_average_in_training_and_thresholds_at_inference():
    torch.manual_seed(0)
    model = build_model("batch_topk", {"k": 3, "latent_dim": 12}, input_dim=20).train()
    x = torch.rand(32, 20)
    with torch.no_grad():
        pre = model.encoder(x)
        z = model.sparsify(pre)
    per_image = (z > 0).sum(1)
    assert int(per_image.sum()) == min(3 * 32, int((pre > 0).sum()))  # the batch's k·B largest survive
    assert per_image.min() < per_image.max()                           # spread unevenly over images
    assert float(model.threshold) == 0.0
    model.loss(x)                                                       # one training step's bookkeeping
    smallest_kept = float(z[z > 0].min())
    assert float(model.threshold) == pytest.approx(0.01 * smallest_kept, rel=1e-5)
    model.eval()
    model.threshold.fill_(0.2)
    with torch.no_grad():
        inference = model.encode(x)
    assert torch.equal(inference, pre * (pre > 0.2))


def test_jumprelu_codes_have_exact_zeros_below_each_units_threshold():
    model = build_model("jumprelu", {"latent_dim": 4}, input_dim=10)
    with torch.no_grad():
        model.log_threshold.copy_(torch.tensor([0.1, 0.2, 0.5, 1.0]).log() / 10)   # θ = exp(10·u)
        x = torch.rand(30, 10)
        pre, z = model.encoder(x), model.encode(x)
    below = pre <= model.threshold
    assert (z[below] == 0).all() and torch.equal(z[~below], pre[~below])


def test_jumprelu_straight_through_gradients_match_the_formulas():
    """∂z/∂x = H(x − θ); ∂z/∂θ = −(θ/ε)·K((x − θ)/ε); ∂H/∂θ = −(1/ε)·K((x − θ)/ε), summed over the batch."""
    from explorer.variants.jumprelu import JumpReLUFunction, StepFunction

    eps = 0.5
    x = torch.tensor([[0.1, 0.9, 1.2], [0.6, 0.3, 2.0]], requires_grad=True)
    theta = torch.tensor([0.2, 0.8, 1.0], requires_grad=True)
    upstream = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    JumpReLUFunction.apply(x, theta, eps).backward(upstream)
    in_window = ((x - theta).abs() < eps / 2).float()                   # the rectangle kernel K((x − θ)/ε)
    assert torch.equal(x.grad, (x > theta).float() * upstream)
    assert torch.allclose(theta.grad, (-(theta / eps) * in_window * upstream).sum(0))
    # in the window |x − θ| < ε/2 = 0.25: x = 0.1 for θ = 0.2, x = 0.9 for θ = 0.8, x = 1.2 for θ = 1.0
    assert theta.grad.tolist() == pytest.approx([-0.4 * 1, -1.6 * 2, -2.0 * 3])
    theta.grad = None
    x.grad = None
    StepFunction.apply(x, theta, eps).sum().backward()
    assert x.grad is None                                                # L0 trains only the thresholds
    assert theta.grad.tolist() == pytest.approx([-2.0, -2.0, -2.0])


def test_jumprelu_thresholds_learn_and_a_larger_lambda_gives_sparser_codes(digits):
    from explorer import TrainSettings, evaluate, train

    results = {}
    for lam in (1e-4, 1e-2):
        model = build_model("jumprelu", {"lam": lam, "latent_dim": 32}, input_dim=digits.input_dim)
        start = model.threshold.detach().clone()
        train(model, digits, TrainSettings(epochs=15, batch_size=64, seed=0))
        moved = (model.threshold.detach() - start).abs()
        assert moved.max() > 0.1 and len(set(model.threshold.detach().round(decimals=3).tolist())) > 5
        results[lam] = evaluate(model, digits).code.mean_l0
    assert results[1e-2] < 0.7 * results[1e-4]


def test_auxk_revives_dead_units_and_reconstructs_better(mnist5k):
    """Gao et al.'s point, on digits: without AuxK most TopK units die (measured: 83 % after 20 epochs
    at k = 5); with it far fewer do (28 %), and the reconstruction is better."""
    from explorer import TrainSettings, evaluate, train

    results = {}
    for aux in (0.0, 1 / 32):
        model = build_model("topk", {"k": 5, "aux_coeff": aux}, input_dim=mnist5k.input_dim)
        train(model, mnist5k, TrainSettings(epochs=20, batch_size=128, seed=0))
        results[aux] = evaluate(model, mnist5k)
    without, with_aux = results[0.0], results[1 / 32]
    assert with_aux.code.dead_fraction < without.code.dead_fraction - 0.25
    assert with_aux.recon_mse < without.recon_mse


def test_the_total_is_charted_only_where_penalties_make_it_differ():
    assert [t.name for t in get_variant("ae").charted_terms()] == ["recon_mse"]
    assert [t.name for t in get_variant("sparse_l1").charted_terms()] == ["total", "recon_mse", "l1"]
    assert [t.name for t in get_variant("denoising").charted_terms()] == ["denoise_mse", "recon_mse"]
