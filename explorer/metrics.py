"""Evaluation numbers shared by the CLI (`evaluate --json`), sweeps and the pages: reconstruction error,
variance explained, and sparsity with each code's own meaning of 'active'."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch

from .datasets import Dataset
from .i18n import Later, later
from .training import mean_loss_terms, overweighted
from .variants.base import Autoencoder, CodeKind, evaluating
from .variants.sparse_kl import kl_divergence

DENSE_RATE = 0.1          # a unit active on more than this fraction of images is dense (as SAEBench)
LEARNED_NOTHING = 0.95    # a model whose MSE is within 5 % of the average image's has learned nothing


@dataclass
class CodeStats:
    """Sparsity numbers of codes (N, K) on one split, under one meaning of 'active'."""

    active_when: str                    # e.g. "|z_j| > 0"
    threshold: float
    unit_mean_activation: list[float]   # ρ̂_j, the mean of z_j
    unit_firing_rate: list[float]       # fraction of images on which unit j is active
    dead_units: list[int]               # never active
    always_on_units: list[int]          # active on every image
    dead_fraction: float
    dense_fraction: float               # active on more than DENSE_RATE of the images
    mean_l0: float                      # active units per image, averaged
    mean_l1: float                      # ‖z‖₁ per image, averaged
    rho: float | None = None            # the target of the KL view, when there is one
    kl_on: str | None = None            # what ρ̂_j is in the KL view: "mean_activation" | "firing_rate"
    unit_kl: list[float] | None = None  # KL(ρ‖ρ̂_j)
    kl_sum: float | None = None


def code_statistics(codes: torch.Tensor, code: CodeKind, threshold: float | None = None,
                    rho: float | None = None) -> CodeStats:
    """Per-unit and per-image sparsity numbers of codes (N, K).

    'Active' is the code kind's (|z_j| > 0 for codes with exact zeros, z_j > 0.5 for sigmoid codes,
    a varying mean for Gaussian codes); threshold overrides its cut-off. With rho, the KL(ρ‖ρ̂_j) view:
    ρ̂_j is the mean activation for probability codes (the seed's definition, sigmoid units) and the
    firing rate otherwise (a ReLU mean can exceed 1: no probability)."""
    threshold = code.threshold if threshold is None else threshold
    active = code.active(codes, threshold)                # (N, K) bool
    firing_rate = active.float().mean(dim=0)              # (K,)
    stats = CodeStats(
        active_when=code.describe(threshold), threshold=threshold,
        unit_mean_activation=codes.mean(dim=0).tolist(), unit_firing_rate=firing_rate.tolist(),
        dead_units=torch.nonzero(firing_rate == 0).flatten().tolist(),
        always_on_units=torch.nonzero(firing_rate == 1).flatten().tolist(),
        dead_fraction=float((firing_rate == 0).float().mean()),
        dense_fraction=float((firing_rate > DENSE_RATE).float().mean()),
        mean_l0=float(active.float().sum(dim=1).mean()), mean_l1=float(codes.abs().sum(dim=1).mean()))
    if rho is not None:
        kl_on = "mean_activation" if code.probability else "firing_rate"
        unit_kl = kl_divergence(rho, codes.mean(dim=0) if code.probability else firing_rate)
        stats = dataclasses.replace(stats, rho=rho, kl_on=kl_on, unit_kl=unit_kl.tolist(), kl_sum=float(unit_kl.sum()))
    return stats


@dataclass
class Evaluation:
    """Every number `evaluate --json` prints for one model on one split; pages read the attributes."""

    variant: str
    dataset: str
    split: str
    n_test: int
    recon_mse: float                    # per-pixel MSE of the reconstruction of the clean input
    fvu: float                          # Σ‖x − x̂‖² / Σ‖x − x̄‖², x̄ the split's mean image
    l2_ratio: float                     # mean ‖x̂‖ / ‖x‖
    mean_image_mse: float               # the MSE of answering every image with the average training image
    per_class_mse: dict[str, float]
    code: CodeStats
    loss_terms: dict[str, float]        # the variant's loss terms on this split
    extras: dict[str, Any]              # the variant's extra metrics (its `extra_metrics`)
    learned_nothing_reason: str | None  # why the model is no better than the average image, if it is not (English)
    # The same, said in the reader's language where it is shown (learned_nothing_text): an Evaluation is cached
    # for every session, whatever its language.
    learned_nothing_said: Later | None = field(default=None, repr=False, compare=False)

    @property
    def explained_variance(self) -> float:
        return 1.0 - self.fvu

    @property
    def learned_nothing(self) -> bool:
        return self.learned_nothing_reason is not None

    def learned_nothing_text(self) -> str | None:
        """Why the model learned nothing, in the reader's language; None when it learned something."""
        return str(self.learned_nothing_said) if self.learned_nothing_said is not None else self.learned_nothing_reason

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values: the code statistics and the extras at the top level, as `--json` prints."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                  if f.name not in ("code", "extras", "learned_nothing_said")}
        return {**fields, "explained_variance": self.explained_variance, "learned_nothing": self.learned_nothing,
                **dataclasses.asdict(self.code), **self.extras}


def evaluate(model: Autoencoder, data: Dataset, split: str = "test", threshold: float | None = None,
             rho: float | None = None, lr: float | None = None) -> Evaluation:
    """Every number `evaluate --json` prints, for model on one split of data.

    threshold: the activity cut-off (default: the code kind's); rho: the KL view's target (default:
    the model's own target firing rate, if it has one); lr: the learning rate it was trained with,
    for advice when it learned nothing."""
    model.check_fits(data.name, data.input_dim, data.image_shape)
    x, y = data.split(split)
    with evaluating(model):
        x_hat = model.reconstruct_all(x)
        codes = model.encode_all(x)
        extras = model.measure_extras(x)
    squared = (x_hat - x).pow(2)                          # (N, D)
    errors = squared.mean(dim=1)                          # (N,)
    recon_mse = float(errors.mean())
    mean_image_mse = float((x - data.train_x.mean(dim=0)).pow(2).mean())
    stats = code_statistics(codes, model.code, threshold, rho if rho is not None else model.target_firing_rate())
    why = why_learned_nothing(recon_mse, mean_image_mse, stats.dead_fraction, lr, overweighted(model))
    return Evaluation(
        variant=model.name, dataset=data.name, split=split, n_test=len(x), recon_mse=recon_mse,
        fvu=fraction_of_variance_unexplained(x, x_hat), l2_ratio=l2_ratio(x, x_hat), mean_image_mse=mean_image_mse,
        per_class_mse=per_class_mean(errors, y, data.class_names), code=stats,
        loss_terms=mean_loss_terms(model, x), extras=extras,
        learned_nothing_reason=None if why is None else in_english(why), learned_nothing_said=why)


def fraction_of_variance_unexplained(x: torch.Tensor, x_hat: torch.Tensor) -> float:
    """Σ‖x − x̂‖² / Σ‖x − x̄‖² over the rows of x (N, D), x̄ their mean: 0 is perfect, 1 is the mean image."""
    return float((x - x_hat).pow(2).sum() / (x - x.mean(dim=0)).pow(2).sum())


def l2_ratio(x: torch.Tensor, x_hat: torch.Tensor) -> float:
    """Mean over images of ‖x̂‖ / ‖x‖ (images with ‖x‖ = 0 left out): below 1, the model shrinks."""
    norms = x.norm(dim=1)
    keep = norms > 0
    return float((x_hat.norm(dim=1)[keep] / norms[keep]).mean())


def per_class_mean(values: torch.Tensor, labels: torch.Tensor, class_names: tuple[str, ...]) -> dict[str, float]:
    """{class name: mean of values over that class's images}, for classes present."""
    return {class_names[c]: float(values[labels == c].mean())
            for c in range(len(class_names)) if bool((labels == c).any())}


def in_english(text: Later) -> str:
    """A Later text as English says it (its key, filled): what the CLI, sweeps and checkpoints record."""
    return text.text.format(**{k: in_english(v) if isinstance(v, Later) else v for k, v in text.values.items()})


def why_learned_nothing(recon_mse: float, mean_image_mse: float, dead_fraction: float,
                        lr: float | None = None, heavy_weight: str | None = None) -> Later | None:
    """Why a model that reconstructs no better than the average training image learned nothing, and
    what to try (a penalty weight far above its usual range, heavy_weight, drowns the reconstruction;
    a learning rate far too high saturates every unit without making the loss NaN; a huge sparsity
    penalty kills every unit); None when it learned something. A Later: said in the language of whoever reads it."""
    if recon_mse < LEARNED_NOTHING * mean_image_mse:
        return None
    if heavy_weight is not None:
        advice = later("Its penalty weight {weight} is far too large: lower it.", weight=heavy_weight)
    elif lr is not None and lr > 1e-2:
        advice = later("The learning rate ({lr:g}) is probably too high: try 1e-3.", lr=lr)
    elif dead_fraction > 0.9:
        advice = later("Almost every hidden unit is silent: the sparsity penalty is probably too strong.")
    else:
        advice = later("Train for more epochs, or lower the learning rate.")
    return later("This model reconstructs no better than the average training image (test MSE {mse:.4f}; the "
                 "average image scores {mean_mse:.4f}): it has learned nothing useful. {advice}", mse=recon_mse,
                 mean_mse=mean_image_mse, advice=advice)
