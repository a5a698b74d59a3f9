"""What the seed notes' claims are judged on, for one model on its test split: class selectivity, MIG
against the class and four stroke measures, sparse and dense probes beside a pixel probe, the response
to noise, and reconstruction against sparsity — each with its bootstrap interval, selectivity and MIG
with their nulls under permuted labels. `measure_model` is the one place that computes them, for the
CLI's `claims` and for the pages."""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .code_digest import code_digest
from .datasets import Dataset
from .i18n import later
from .metrics import why_learned_nothing
from .mig import discrete_factor, equal_frequency_bins, mutual_information_gap
from .noise import NoiseSetting, add_noise
from .probes import Probes, balanced_accuracy, fit_probes, training_sample
from .resampling import Estimate, Resamples, interval, mean_estimate, resamples
from .selectivity import Selectivity, class_selectivity
from .strokes import STROKE_FACTORS, Strokes, measure_images
from .variants.base import Autoencoder, evaluating

NOISE_GRID = (NoiseSetting("gaussian", 0.1), NoiseSetting("gaussian", 0.2), NoiseSetting("gaussian", 0.3),
              NoiseSetting("gaussian", 0.5), NoiseSetting("masking", 0.1), NoiseSetting("masking", 0.3),
              NoiseSetting("masking", 0.5))
NOISE_SEED = 0


def _recipe() -> str:
    """A digest of the code that defines the measures and the codes they read (the variants): measures kept
    on disk by other code are made anew, so a changed definition never shows an old number (a changed
    comment, docstring or shown text keeps them: explorer.code_digest)."""
    here = Path(__file__).resolve().parent
    sources = [here / f"{name}.py" for name in ("measures", "mig", "probes", "resampling", "selectivity", "strokes",
                                                  "noise")]
    return code_digest([*sources, *sorted((here / "variants").glob("*.py"))])[:16]


RECIPE = _recipe()


class NothingToMeasureError(ValueError):
    """A model whose every code unit is dead: it carries nothing for selectivity, MIG or the probes."""


@dataclass(frozen=True)
class NoisePoint:
    """One model's response to one corruption of the test images (the noise module's, seed 0)."""

    kind: str
    level: float
    recon_mse: Estimate      # per-pixel MSE of the reconstruction of the noisy image against the clean one
    code_cosine: Estimate    # mean cos(z(x), z(x̃)); 1 when both codes are all zero, 0 when one is
    probe_dense: Estimate    # the dense probe, fitted on clean train codes, on the noisy test codes


@dataclass(frozen=True)
class DatasetReference:
    """What every model measured on one dataset shares: the resamples, the factors' bins, the pixel probe."""

    dataset: str
    labels: np.ndarray            # (N,) test labels
    draws: Resamples
    factors: dict[str, np.ndarray] = field(repr=False)   # name → (N,) bin of each test image
    probe_pixels: Estimate


def stroke_factors(data: Dataset) -> Strokes:
    """The Morpho-MNIST stroke measures of the test images (a few seconds for 1,000 digits)."""
    return measure_images(data.test_x.cpu().numpy(), data.image_shape)


def pixel_probe(data: Dataset, draws: Resamples) -> Estimate:
    """The baseline: the dense probe on raw pixels, fitted and judged as the codes' probes are."""
    rows = training_sample(len(data.train_y))
    probes = fit_probes(data.train_x.cpu().numpy()[rows], data.train_y.cpu().numpy()[rows], None)
    labels = data.test_y.cpu().numpy()
    return balanced_accuracy(probes.predict(data.test_x.cpu().numpy()), labels, probes.classes, draws)


def dataset_reference(data: Dataset, strokes: Strokes | None = None,
                      probe_pixels: Estimate | None = None) -> DatasetReference:
    """The shared part for data (strokes and the pixel probe computed here unless given: they depend only
    on the dataset, so a caller may keep them)."""
    labels = data.test_y.cpu().numpy()
    draws = resamples(len(labels))
    strokes = strokes if strokes is not None else stroke_factors(data)
    factors = {"class": discrete_factor(labels),
               **{name: equal_frequency_bins(getattr(strokes, name)) for name in STROKE_FACTORS}}
    return DatasetReference(data.name, labels, draws, factors,
                            probe_pixels if probe_pixels is not None else pixel_probe(data, draws))


@dataclass(frozen=True)
class ModelMeasures:
    """Every measure of one model on its dataset's test split (`claims --json` prints `to_dict`)."""

    checkpoint: str               # what the model is called where it was loaded (a path, a model list label)
    variant: str
    dataset: str
    n_test: int
    code_kind: str                # the code's kind (its L0 ranks models only among the same kind, or with exact zeros)
    exact_zeros: bool             # the code's inactive units are exactly 0: its L0 counts what the decoder reads
    shape: str                    # '784-128-32': input, hidden layers, code
    training_noise: NoiseSetting | None   # the corruption it was trained to remove, if it is a denoiser
    plain: bool                   # no penalty and no training noise: the plain autoencoder of its shape
    learned_nothing: bool
    mean_l0: Estimate
    fvu: Estimate
    live_units: list[int]
    selectivity: Estimate
    selectivity_per_unit: list[float | None]        # None for units that are not live
    class_profile: list[list[float]]                # (K, C) each unit's mean activity per class
    mig: Estimate
    mig_per_factor: dict[str, Estimate]
    probe_k1: Estimate
    probe_k5: Estimate
    probe_dense: Estimate
    probe_pixels: Estimate
    null_selectivity: float
    null_mig: float
    null_mig_per_factor: dict[str, float]
    noise: list[NoisePoint]
    seconds: float = field(default=0.0, compare=False)     # how long measuring took (not part of what was measured)

    def noise_at(self, setting: NoiseSetting) -> NoisePoint | None:
        return next((p for p in self.noise if p.kind == setting.kind and p.level == setting.level), None)

    def named(self, checkpoint: str) -> ModelMeasures:
        return replace(self, checkpoint=checkpoint)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the numbers, `nulls`, `noise`, and `intervals` holding [low, high] of each estimate."""
        estimates = {name: getattr(self, name) for name in ESTIMATES}
        return {
            "checkpoint": self.checkpoint, "variant": self.variant, "dataset": self.dataset, "n_test": self.n_test,
            "code_kind": self.code_kind, "exact_zeros": self.exact_zeros, "shape": self.shape,
            "training_noise": None if self.training_noise is None else
            {"kind": self.training_noise.kind, "level": self.training_noise.level},
            "plain": self.plain, "learned_nothing": self.learned_nothing,
            **{name: e.value for name, e in estimates.items()},
            "live_units": self.live_units, "selectivity_per_unit": self.selectivity_per_unit,
            "class_profile": self.class_profile,
            "mig_per_factor": {name: e.value for name, e in self.mig_per_factor.items()},
            "nulls": {"selectivity": self.null_selectivity, "mig": self.null_mig,
                      "mig_per_factor": self.null_mig_per_factor},
            "noise": [{"kind": p.kind, "level": p.level, "recon_mse": p.recon_mse.value,
                       "code_cosine": p.code_cosine.value, "probe_dense": p.probe_dense.value} for p in self.noise],
            "intervals": {**{name: e.as_list() for name, e in estimates.items()},
                          "mig_per_factor": {name: e.as_list() for name, e in self.mig_per_factor.items()},
                          "noise": [{"kind": p.kind, "level": p.level, "recon_mse": p.recon_mse.as_list(),
                                     "code_cosine": p.code_cosine.as_list(), "probe_dense": p.probe_dense.as_list()}
                                    for p in self.noise]},
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelMeasures:
        """The inverse of to_dict (KeyError, TypeError or ValueError for anything else)."""
        spans = d["intervals"]

        def est(value: Any, span: Any) -> Estimate:
            low, high = span
            return Estimate(float(value), float(low), float(high))

        noise = d["training_noise"]
        return cls(
            checkpoint=str(d["checkpoint"]), variant=str(d["variant"]), dataset=str(d["dataset"]),
            n_test=int(d["n_test"]), code_kind=str(d["code_kind"]), exact_zeros=bool(d["exact_zeros"]),
            shape=str(d["shape"]),
            training_noise=None if noise is None else NoiseSetting(str(noise["kind"]), float(noise["level"])),
            plain=bool(d["plain"]), learned_nothing=bool(d["learned_nothing"]),
            **{name: est(d[name], spans[name]) for name in ESTIMATES},
            live_units=[int(u) for u in d["live_units"]],
            selectivity_per_unit=[None if v is None else float(v) for v in d["selectivity_per_unit"]],
            class_profile=[[float(v) for v in row] for row in d["class_profile"]],
            mig_per_factor={k: est(v, spans["mig_per_factor"][k]) for k, v in d["mig_per_factor"].items()},
            null_selectivity=float(d["nulls"]["selectivity"]), null_mig=float(d["nulls"]["mig"]),
            null_mig_per_factor={k: float(v) for k, v in d["nulls"]["mig_per_factor"].items()},
            noise=[NoisePoint(str(p["kind"]), float(p["level"]), est(p["recon_mse"], s["recon_mse"]),
                              est(p["code_cosine"], s["code_cosine"]), est(p["probe_dense"], s["probe_dense"]))
                   for p, s in zip(d["noise"], spans["noise"], strict=True)],
            seconds=float(d.get("seconds", 0.0)))


ESTIMATES = ("mean_l0", "fvu", "selectivity", "mig", "probe_k1", "probe_k5", "probe_dense", "probe_pixels")


def network_shape(model: Autoencoder) -> str:
    """'784-128-32': the input, the hidden layers and the code, which two models must share to be compared
    as 'the same network trained differently'."""
    c = model.config
    return "-".join(str(n) for n in (c.input_dim, *c.hidden, c.latent_dim))


def code_cosine(clean: np.ndarray, noisy: np.ndarray) -> np.ndarray:
    """(N, K) codes of clean and noisy images → (N,) cosine of each pair; 1 when both are all zero, 0 when
    only one is."""
    norms = np.linalg.norm(clean, axis=1) * np.linalg.norm(noisy, axis=1)
    both_zero = ~clean.any(axis=1) & ~noisy.any(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.where(norms > 0, (clean * noisy).sum(axis=1) / np.where(norms > 0, norms, 1.0), 0.0)
    return np.where(both_zero, 1.0, cosine)


def fvu_estimate(x: np.ndarray, x_hat: np.ndarray, draws: Resamples) -> Estimate:
    """Σ‖x − x̂‖² / Σ‖x − x̄‖² over the test images (x̄ their mean), with each resample's own x̄."""
    errors = ((x - x_hat) ** 2).sum(axis=1)                       # (N,)
    squares = (x ** 2).sum(axis=1)                                # (N,)
    n = len(x)

    def fvu(weights: np.ndarray) -> np.ndarray:                   # (R, N) → (R,)
        mean_image = weights @ x / n                              # (R, D)
        spread = weights @ squares - n * (mean_image ** 2).sum(axis=1)
        return (weights @ errors) / spread

    return interval(float(fvu(np.ones((1, n)))[0]), fvu(draws.weights))


@dataclass(frozen=True)
class CodeActivity:
    """A model's code on the test split, as the measures read it."""

    codes: np.ndarray        # (N, K) z
    train_codes: np.ndarray  # (N_train, K) z of the train split (its mean centres a signed code; probes fit on it)
    active: np.ndarray       # (N, K) bool: active in the code kind's own meaning
    activity: np.ndarray     # (N, K) never negative: the code kind's `activity` (what selectivity averages)
    live: np.ndarray         # (K,) bool: active on some image and not constant (the units measured)


def code_activity(model: Autoencoder, data: Dataset) -> CodeActivity:
    """The test split's codes and their activity; NothingToMeasureError when no unit is live."""
    model.check_fits(data.name, data.input_dim, data.image_shape)
    with evaluating(model):
        codes_t = model.encode_all(data.test_x)                                   # (N, K)
        train_codes = model.encode_all(data.train_x)                              # (N_train, K)
        active = model.code.active(codes_t).cpu().numpy()
        activity = model.code.activity(codes_t, train_codes.mean(dim=0)).cpu().numpy()
    codes = codes_t.cpu().numpy()
    live = active.any(axis=0) & (codes.std(axis=0) > 0)
    if not live.any():
        # A Later, not a str: the page that shows it may be another session's, in another language.
        raise NothingToMeasureError(later("this {variant} model has no live code unit (every unit is dead: never "
                                          "{active}), so there is nothing to measure; leave it out or retrain it "
                                          "with a weaker sparsity penalty", variant=model.name,
                                          active=model.code.describe()))
    return CodeActivity(codes, train_codes.cpu().numpy(), active, activity, live)


def model_selectivity(model: Autoencoder, data: Dataset) -> Selectivity:
    """Class selectivity alone (what the Activations page's one-unit view shows), the same numbers as
    measure_model's."""
    code = code_activity(model, data)
    labels = data.test_y.cpu().numpy()
    return class_selectivity(code.activity, labels, code.live, resamples(len(labels)))


def measure_model(model: Autoencoder, data: Dataset, reference: DatasetReference,
                  checkpoint: str = "") -> ModelMeasures:
    """Every measure of model on data's test split; NothingToMeasureError when every unit is dead."""
    started = time.perf_counter()
    code = code_activity(model, data)
    draws, labels, codes = reference.draws, reference.labels, code.codes
    rows = training_sample(len(data.train_y))                                     # the probes' train images
    train_codes, train_y = code.train_codes[rows], data.train_y.cpu().numpy()[rows]
    with evaluating(model):
        x = data.test_x
        x_hat = model.reconstruct_all(x).cpu().numpy()                            # (N, D)
        noisy = [_noisy_codes(model, x, setting) for setting in NOISE_GRID]
    clean_x = x.cpu().numpy()
    selectivity = class_selectivity(code.activity, labels, code.live, draws)
    mig = mutual_information_gap(codes, reference.factors, draws)
    probes = {k: fit_probes(train_codes, train_y, k) for k in (1, 5, None)}
    accuracy = {k: balanced_accuracy(p.predict(codes), labels, p.classes, draws) for k, p in probes.items()}
    noise = [_noise_point(setting, clean_x, codes, recon, noisy_codes, probes[None], labels, draws)
             for setting, (recon, noisy_codes) in zip(NOISE_GRID, noisy, strict=True)]
    mean_image_mse = float(((clean_x - data.train_x.mean(dim=0).cpu().numpy()) ** 2).mean())
    recon_mse = float(((clean_x - x_hat) ** 2).mean())
    return ModelMeasures(
        checkpoint=checkpoint, variant=model.name, dataset=data.name, n_test=len(labels),
        code_kind=model.code.name, exact_zeros=model.code.exact_zeros, shape=network_shape(model),
        training_noise=model.training_noise(), plain=not model.penalty_terms and model.training_noise() is None,
        learned_nothing=why_learned_nothing(recon_mse, mean_image_mse, 0.0) is not None,   # evaluate's own rule
        mean_l0=mean_estimate(code.active.sum(axis=1), draws), fvu=fvu_estimate(clean_x, x_hat, draws),
        live_units=np.flatnonzero(code.live).tolist(), selectivity=selectivity.mean,
        selectivity_per_unit=[None if np.isnan(v) else float(v) for v in selectivity.per_unit],
        class_profile=selectivity.class_means.tolist(), mig=mig.mean, mig_per_factor=mig.per_factor,
        probe_k1=accuracy[1], probe_k5=accuracy[5], probe_dense=accuracy[None], probe_pixels=reference.probe_pixels,
        null_selectivity=selectivity.null, null_mig=mig.null, null_mig_per_factor=mig.null_per_factor, noise=noise,
        seconds=time.perf_counter() - started)


def _noisy_codes(model: Autoencoder, x: torch.Tensor, setting: NoiseSetting) -> tuple[np.ndarray, np.ndarray]:
    """(reconstruction, code) of the test images corrupted by setting (the same noise for every model)."""
    generator = torch.Generator(device=x.device).manual_seed(NOISE_SEED)
    noisy = add_noise(x, setting.kind, setting.level, generator)
    return model.reconstruct_all(noisy).cpu().numpy(), model.encode_all(noisy).cpu().numpy()


def _noise_point(setting: NoiseSetting, clean_x: np.ndarray, codes: np.ndarray, recon: np.ndarray,
                 noisy_codes: np.ndarray, dense: Probes, labels: np.ndarray, draws: Resamples) -> NoisePoint:
    return NoisePoint(setting.kind, setting.level, mean_estimate(((recon - clean_x) ** 2).mean(axis=1), draws),
                      mean_estimate(code_cosine(codes, noisy_codes), draws),
                      balanced_accuracy(dense.predict(noisy_codes), labels, dense.classes, draws))
