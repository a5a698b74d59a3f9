"""The data-dependent start, the linear decoder, Matryoshka BatchTopK and the matching-pursuit SAE, each
against a hand computation."""
import pytest
import torch
import torch.nn.functional as F

from explorer.registry import build_model
from explorer.training import TrainSettings, new_history, train
from explorer.variants.base import MEAN_CLAMP


def test_a_fresh_model_starts_at_the_mean_image_in_its_output_units(digits):
    mean = digits.train_x.mean(dim=0)
    linear = build_model("topk", {"decoder": "linear", "latent_dim": "8", "k": "2"}, input_dim=digits.input_dim)
    linear.start_from(digits.train_x)
    torch.testing.assert_close(linear.decode(torch.zeros(1, 8))[0], mean)            # zeros decode to x̄
    squashed = build_model("topk", {"latent_dim": "8", "k": "2"}, input_dim=digits.input_dim)
    squashed.start_from(digits.train_x)
    torch.testing.assert_close(squashed.decode(torch.zeros(1, 8))[0], mean.clamp(MEAN_CLAMP, 1 - MEAN_CLAMP))


def test_training_starts_a_fresh_model_from_the_data_but_not_one_it_continues(digits):
    settings = TrainSettings(epochs=1, batch_size=64, lr=1e-12)        # steps too small to move the bias
    model = build_model("jumprelu", {"decoder": "linear", "latent_dim": "8"}, input_dim=digits.input_dim)
    train(model, digits, settings)
    torch.testing.assert_close(model.output_layer().bias.detach(), digits.train_x.mean(dim=0), atol=1e-6, rtol=0)
    with torch.no_grad():
        model.output_layer().bias.fill_(0.25)
    history = new_history()
    history["epoch"].append(1)                                          # one epoch already trained
    train(model, digits, settings, history=history)
    assert float(model.output_layer().bias.detach().mean()) == pytest.approx(0.25, abs=1e-6)


def test_the_l1_code_keeps_the_seed_start(digits):
    model = build_model("sparse_l1", {"latent_dim": "8", "hidden": "16"}, input_dim=digits.input_dim)
    before = model.output_layer().bias.detach().clone()
    model.start_from(digits.train_x)
    torch.testing.assert_close(model.output_layer().bias.detach(), before)


def test_a_linear_decoder_is_an_additive_dictionary():
    model = build_model("batch_topk", {"decoder": "linear", "latent_dim": "6", "k": "2"}, input_dim=5)
    assert model.linear_decoder and "linear" in model.describe_decoder()
    z = torch.tensor([[0.0, 1.5, 0.0, 0.0, -2.0, 0.0]])
    atoms = model.decoder_atoms()                                                   # (6, 5)
    expected = 1.5 * atoms[1] - 2.0 * atoms[4] + model.output_layer().bias
    torch.testing.assert_close(model.decode(z)[0], expected)
    assert not build_model("batch_topk", {"latent_dim": "6", "k": "2"}, input_dim=5).linear_decoder
    with pytest.raises(ValueError, match="decoder must be one of sigmoid, linear"):
        build_model("topk", {"decoder": "relu"}, input_dim=5)


def test_matryoshka_adds_each_inner_doll_s_reconstruction():
    model = build_model("matryoshka", {"latent_dim": "8", "k": "3", "prefixes": "2,5"}, input_dim=6, seed=1)
    x = torch.rand(4, 6)
    terms = model.loss(x)
    out = model.training_pass(x)
    first2 = out.z * torch.tensor([1.0, 1, 0, 0, 0, 0, 0, 0])
    first5 = out.z * torch.tensor([1.0, 1, 1, 1, 1, 0, 0, 0])
    by_hand = F.mse_loss(model.decode(first2), x) + F.mse_loss(model.decode(first5), x)
    assert float(terms["prefix_mse"].detach()) == pytest.approx(float(by_hand.detach()), rel=1e-5)
    expected_total = terms["recon_mse"] + model.config.aux_coeff * terms["auxk"] + terms["prefix_mse"]
    assert float(terms["total"].detach()) == pytest.approx(float(expected_total.detach()), rel=1e-5)


@pytest.mark.parametrize("prefixes", ["4,2", "2,8", "2,2"])
def test_matryoshka_refuses_prefixes_that_do_not_nest(prefixes):
    with pytest.raises(ValueError, match="prefixes must increase strictly and stay below latent_dim"):
        build_model("matryoshka", {"latent_dim": "8", "k": "2", "prefixes": prefixes}, input_dim=6)


def matching_pursuit_by_hand(x, atoms, bias, k):
    """k steps on the residual itself, as Costa et al. write it (numpy-free, one image at a time)."""
    codes = []
    for row in x:
        residual, z = row - bias, torch.zeros(len(atoms))
        for _ in range(k):
            fits = atoms @ residual
            j = int(fits.argmax())
            z[j] += fits[j]
            residual = residual - fits[j] * atoms[j]
        codes.append(z)
    return torch.stack(codes)


def test_matching_pursuit_takes_the_best_fitting_atom_from_the_residual_k_times():
    model = build_model("mp", {"latent_dim": "7", "k": "3"}, input_dim=5, seed=2)
    with torch.no_grad():
        model.output_layer().bias.copy_(torch.tensor([0.1, -0.2, 0.0, 0.3, 0.05]))
    atoms = model.dictionary()
    torch.testing.assert_close(atoms.norm(dim=1), torch.ones(7))                      # unit-norm atoms
    x = torch.randn(6, 5)
    z = model.encode(x)
    torch.testing.assert_close(z, matching_pursuit_by_hand(x, atoms, model.output_layer().bias.detach(), 3))
    assert int((z != 0).sum(dim=1).max()) <= 3
    torch.testing.assert_close(model.decode(z), z @ atoms + model.output_layer().bias)
    torch.testing.assert_close(model.decoder_atoms(), atoms)
    torch.testing.assert_close(model.code_filters(), atoms)
    assert model.linear_decoder


@pytest.mark.parametrize("params, message", [
    ({"hidden": "16"}, "hidden must be empty"),
    ({"decoder": "sigmoid"}, "decoder must be one of linear"),
    ({"k": "9", "latent_dim": "8"}, "k must be at most latent_dim"),
])
def test_matching_pursuit_refuses_what_it_cannot_compute(params, message):
    with pytest.raises(ValueError, match=message):
        build_model("mp", params, input_dim=5)
