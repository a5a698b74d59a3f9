"""Evaluation numbers shared by the CLI (`evaluate --json`) and the pages: error, sparsity, KL."""
from __future__ import annotations

import torch

from .datasets import Dataset
from .training import mean_loss_terms
from .variants.sparse_kl import kl_divergence
from .variants.vae import bernoulli_nll, kl_to_standard_normal

FIRING_THRESHOLD = 1e-3   # a unit "fires" on an image when |z_j| exceeds this
BATCH = 2048


@torch.no_grad()
def encode_all(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Codes (N, latent) of every row of x, in eval mode, in batches."""
    model.eval()
    return torch.cat([model.encode(x[i:i + BATCH]) for i in range(0, len(x), BATCH)])


@torch.no_grad()
def reconstruct_all(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Reconstructions (N, D) of every row of x, in eval mode, in batches."""
    model.eval()
    return torch.cat([model(x[i:i + BATCH]) for i in range(0, len(x), BATCH)])


def per_image_mse(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """(N,) mean squared error per image between model(x) and target (default x)."""
    target = x if target is None else target
    return (reconstruct_all(model, x) - target).pow(2).mean(dim=1)


def per_class_mean(values: torch.Tensor, labels: torch.Tensor, class_names: tuple[str, ...]) -> dict[str, float]:
    """{class name: mean of values over that class's images}, for classes present."""
    return {class_names[c]: float(values[labels == c].mean())
            for c in range(len(class_names)) if bool((labels == c).any())}


def code_statistics(codes: torch.Tensor, threshold: float = FIRING_THRESHOLD,
                    rho: float | None = None, kl_on: str = "mean_activation") -> dict:
    """Per-unit and per-image sparsity numbers of codes (N, latent).

    `unit_mean_activation` is ρ̂_j (mean of z_j); firing uses |z_j| > threshold so that codes with
    negative values (VAE means) are measured the same way as ReLU / sigmoid codes. With rho, the
    KL(ρ‖ρ̂_j) view uses ρ̂_j = the mean activation (the seed's definition, for sigmoid codes in
    [0, 1]) or, kl_on="firing_rate", the fraction of images where the unit fires (for codes that
    are not probabilities, e.g. ReLU codes whose mean can exceed 1)."""
    active = codes.abs() > threshold                      # (N, latent) bool
    firing_rate = active.float().mean(dim=0)              # (latent,)
    stats = {
        "unit_mean_activation": codes.mean(dim=0).tolist(),
        "unit_firing_rate": firing_rate.tolist(),
        "dead_fraction": float((firing_rate == 0).float().mean()),
        "dead_units": torch.nonzero(firing_rate == 0).flatten().tolist(),
        "always_on_units": torch.nonzero(firing_rate == 1).flatten().tolist(),
        "mean_l0": float(active.float().sum(dim=1).mean()),
        "mean_l1": float(codes.abs().sum(dim=1).mean()),
        "threshold": threshold,
    }
    if rho is not None:
        if kl_on not in ("mean_activation", "firing_rate"):
            raise ValueError(f"kl_on must be 'mean_activation' or 'firing_rate'; got {kl_on!r}")
        rho_hat = codes.mean(dim=0) if kl_on == "mean_activation" else firing_rate
        unit_kl = kl_divergence(rho, rho_hat)
        stats.update(rho=rho, kl_on=kl_on, unit_kl=unit_kl.tolist(), kl_sum=float(unit_kl.sum()))
    return stats


def kl_basis(model: torch.nn.Module) -> str:
    """What ρ̂_j means for this model's KL view: mean activation for sigmoid codes, else firing rate."""
    return "mean_activation" if getattr(model, "code_activation", "") == "sigmoid" else "firing_rate"


@torch.no_grad()
def evaluate(model: torch.nn.Module, data: Dataset, split: str = "test",
             threshold: float = FIRING_THRESHOLD, rho: float | None = None) -> dict:
    """Every number `evaluate --json` prints, for model on one split of data.

    rho: the target for the KL-per-unit view; defaults to the model's own ρ (sparse_kl only)."""
    x, y = data.split(split)
    model.eval()
    x_hat = reconstruct_all(model, x)
    errors = (x_hat - x).pow(2).mean(dim=1)               # (N,)
    per_class = per_class_mean(errors, y, data.class_names)
    codes = encode_all(model, x)
    rho = rho if rho is not None else getattr(model.config, "rho", None)
    result = {
        "variant": model.name, "dataset": data.name, "split": split, "n_test": len(x),
        "recon_mse": float(errors.mean()),
        # The error of answering every image with the average training image: a model that does
        # no better has learned nothing (see learned_nothing).
        "mean_image_mse": float((x - data.train_x.mean(dim=0)).pow(2).mean()),
        "recon_bce": float(bernoulli_nll(x_hat, x).mean()),
        "per_class_mse": per_class,
        **code_statistics(codes, threshold, rho, kl_basis(model)),
        "loss_terms": mean_loss_terms(model, x),
    }
    if model.name == "denoising":
        from .noise import add_noise

        generator = torch.Generator(device=x.device).manual_seed(0)
        noisy = add_noise(x, model.config.noise, model.config.noise_level, generator)
        result["denoise_mse"] = float((reconstruct_all(model, noisy) - x).pow(2).mean())
        result["noisy_input_mse"] = float((noisy - x).pow(2).mean())
    if model.name == "vae":
        kl = torch.cat([kl_to_standard_normal(*model.encode_distribution(x[i:i + BATCH]))
                        for i in range(0, len(x), BATCH)])
        result["kl_per_dim"] = kl.mean(dim=0).tolist()
    return result


def learned_nothing(metrics: dict, lr: float | None = None) -> str | None:
    """A warning when the model reconstructs no better than the average training image (a learning
    rate far too high saturates every unit without making the loss NaN; a huge sparsity penalty
    kills every unit); None when it learned something."""
    if "mean_image_mse" not in metrics or metrics["recon_mse"] < 0.95 * metrics["mean_image_mse"]:
        return None     # learned something (or metrics from before the baseline was recorded)
    if lr is not None and lr > 1e-2:
        advice = f"The learning rate ({lr:g}) is probably too high: try 1e-3."
    elif metrics["dead_fraction"] > 0.9:
        advice = "Almost every hidden unit is silent: the sparsity penalty is probably too strong."
    else:
        advice = "Train for more epochs, or lower the learning rate."
    return (f"This model reconstructs no better than the average training image (test MSE "
            f"{metrics['recon_mse']:.4f}; the average image scores {metrics['mean_image_mse']:.4f}): it has "
            f"learned nothing useful. {advice}")
