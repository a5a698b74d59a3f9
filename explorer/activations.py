"""Per-unit views of a code: activation histograms, firing rates, KL to a target, top images, filters."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .datasets import Dataset
from .metrics import CodeStats, code_statistics
from .variants.base import Autoencoder, CodeKind, evaluating

HIST_BINS = 30
DEFAULT_RHO = 0.05   # the seed's ρ: the KL view's target for a model that sets none


@dataclass(frozen=True)
class UnitMarks:
    """The units every per-unit chart marks, dead and always on, and what makes them so for this code, in
    the code kind's own meaning of 'active': the legend's words (a rule each) and a caption for the chart."""

    dead: tuple[int, ...]
    always_on: tuple[int, ...]
    dead_rule: str           # e.g. "never |z_j| > 0.5 on a test image"
    always_on_rule: str      # e.g. "|z_j| > 0.5 on every test image"
    dead_meaning: str        # what dead means for this code, said where a chart marks them
    always_on_meaning: str   # the same for always on

    @property
    def meaning(self) -> str:
        """Both, for a chart's caption."""
        return f"{self.dead_meaning} {self.always_on_meaning}"

    def kind(self, unit: int) -> str:
        """'dead', 'always on' or 'live'."""
        return "dead" if unit in self.dead else "always on" if unit in self.always_on else "live"


def unit_marks(stats: CodeStats, code: CodeKind) -> UnitMarks:
    """Which units are dead or always on under the threshold the stats were taken at, and the rules in
    the words of `code.describe`, with what a dead unit still does for a code that is never exactly 0."""
    active, t = stats.active_when, stats.threshold
    if code.on_variance:         # active on every image or on none: "always on" would mark every live unit
        rule = f"{code.measured} ≤ {t:g}"
        return UnitMarks(tuple(stats.dead_units), (), rule, "",
                         f"Dead = its value hardly changes from one test image to the next ({rule}): it has "
                         "collapsed to the prior and tells the decoder nothing about the image.",
                         "A unit of this code is active on every image or on none, so none is marked always on.")
    if code.exact_zeros and t == 0:
        rule = "exactly 0 on every test image"
        meaning = "Dead = exactly 0 on every test image: the decoder never gets anything from it (wasted capacity)."
    else:
        rule = f"never {active} on a test image"
        meaning = f"Dead = never {active} on any test image"
        if not code.exact_zeros:
            meaning += (f". This code is never exactly 0, so a dead unit still passes values below {t:g} to the "
                        "decoder" + (f"; its mean activation ρ̂ⱼ can still be near ρ, because ρ̂ⱼ averages those "
                                     f"values below {t:g}" if code.probability else ""))
        elif t != code.threshold:
            meaning += f" at this threshold (`evaluate` uses {code.describe()})"
        meaning += "."
    always = f"{active} on every test image"
    return UnitMarks(tuple(stats.dead_units), tuple(stats.always_on_units), rule, always, meaning,
                     f"Always on = {always}: never off, so whether it fires says nothing about the image (how "
                     "strongly may).")


@dataclass
class ActivationReport:
    """Everything the Activations page draws, computed once per (model, data, threshold, ρ)."""

    codes: np.ndarray            # (N, K) code of every test image
    active: np.ndarray           # (N, K) bool: unit j active on image i, in the code kind's meaning
    stats: CodeStats             # the same numbers `evaluate --json` prints
    hist_counts: np.ndarray      # (K, HIST_BINS) per-unit activation histograms
    hist_edges: np.ndarray       # (K, HIST_BINS + 1) each unit's own bin edges
    l0: np.ndarray               # (N,) active units per image
    rho: float                   # target firing rate used for the KL view
    per_unit_extras: dict[str, np.ndarray]   # title → (K,) the variant's per-unit metrics
    unit_thresholds: np.ndarray | None       # (K,) learned cut-offs below which a unit is 0, if any
    marks: UnitMarks                         # its dead and always-on units, and the rules for this code

    @property
    def n_units(self) -> int:
        return self.codes.shape[1]

    @property
    def mean_activation(self) -> np.ndarray:
        return np.asarray(self.stats.unit_mean_activation)

    @property
    def firing_rate(self) -> np.ndarray:
        return np.asarray(self.stats.unit_firing_rate)

    @property
    def unit_kl(self) -> np.ndarray:
        return np.asarray(self.stats.unit_kl)


def activation_report(model: Autoencoder, data: Dataset, threshold: float | None = None,
                      rho: float | None = None) -> ActivationReport:
    """Codes of the test split and their statistics. threshold defaults to the code kind's; rho to
    the model's own target firing rate, else the seed's 0.05, so the KL view exists for every model."""
    target = model.target_firing_rate()
    rho = rho if rho is not None else target if target is not None else DEFAULT_RHO
    with evaluating(model):
        codes_t = model.encode_all(data.test_x)                  # (N, K)
        extras = model.measure_extras(data.test_x)
        learned = model.unit_thresholds()
    threshold = model.code.threshold if threshold is None else threshold
    stats = code_statistics(codes_t, model.code, threshold, rho)
    active = model.code.active(codes_t, threshold).cpu().numpy()
    codes = codes_t.cpu().numpy()
    counts, edges = zip(*(np.histogram(codes[:, j], bins=HIST_BINS) for j in range(codes.shape[1])), strict=True)
    per_unit = {m.title: np.asarray(extras[m.name]) for m in model.extra_metrics if m.per_unit}
    return ActivationReport(codes, active, stats, np.stack(counts), np.stack(edges), active.sum(axis=1), rho, per_unit,
                            None if learned is None else learned.cpu().numpy(), unit_marks(stats, model.code))


def unit_order(report: ActivationReport, by: str) -> np.ndarray:
    """Unit indices in display order: 'unit' (index), 'mean' (ρ̂ high→low), 'firing' or 'kl' (high→low)."""
    keys: dict[str, np.ndarray | None] = {"unit": None, "mean": report.mean_activation,
                                          "firing": report.firing_rate, "kl": report.unit_kl}
    if by not in keys:
        raise ValueError(f"order must be one of {', '.join(keys)}; got {by!r}")
    values = keys[by]
    if values is None:
        return np.arange(report.n_units)
    return np.argsort(-values, kind="stable")


def top_activating(codes: np.ndarray, unit: int, k: int = 12) -> np.ndarray:
    """Indices of the k test images on which `unit` is largest, largest first."""
    return np.argsort(-codes[:, unit], kind="stable")[:k]


def middle_of_range(codes: np.ndarray, active: np.ndarray, unit: int, k: int = 6) -> np.ndarray:
    """k images around the median of the unit's active values (a typical, not extreme, response)."""
    on = np.flatnonzero(active[:, unit])
    if len(on) == 0:
        return on
    ordered = on[np.argsort(codes[on, unit], kind="stable")]
    centre = len(ordered) // 2
    start = max(0, min(centre - k // 2, len(ordered) - k))
    return ordered[start:start + k]


def encoder_filters(model: Autoencoder) -> np.ndarray:
    """(K, D) input-space filter of each code unit (see Autoencoder.code_filters)."""
    with torch.no_grad():
        return model.code_filters().cpu().numpy()


def filters_as_images(filters: np.ndarray) -> np.ndarray:
    """Each filter scaled symmetrically to [0, 1] (0.5 = zero weight), the UFLDL way of drawing them."""
    scale = np.abs(filters).max(axis=1, keepdims=True)
    return 0.5 + 0.5 * filters / np.where(scale > 0, scale, 1.0)
