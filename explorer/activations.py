"""Per-unit views of a code: activation histograms, firing rates, KL to a target, top images, filters."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .datasets import Dataset
from .i18n import N_, tr
from .metrics import CodeStats, code_statistics
from .variants.base import Autoencoder, CodeKind, evaluating

HIST_BINS = 30
DEFAULT_RHO = 0.05   # the seed's ρ: the KL view's target for a model that sets none
# What the variants' code kinds say in English (explorer/variants/*), shown through tr(): their names
# (ReLU, sigmoid and JumpReLU are names) and what a Gaussian code's threshold is compared with.
CODE_WORDS = (N_("Gaussian (posterior mean)"), N_("top-k (ReLU)"), N_("batch top-k (ReLU, thresholded at inference)"),
              N_("matching pursuit"), N_("Var over images of z_j"))


def code_name(code: CodeKind) -> str:
    """The code kind's name in the reader's language ('ReLU', 'sigmoid', 'Gaussian (posterior mean)')."""
    return tr(code.name)


def measured(code: CodeKind) -> str:
    """What the threshold is compared with (CodeKind.measured), in the reader's language."""
    return tr(code.measured)


def describe(code: CodeKind, threshold: float | None = None) -> str:
    """What 'unit j is active' means (CodeKind.describe), in the reader's language: '|z_j| > 0'."""
    return f"{measured(code)} > {code.threshold if threshold is None else threshold:g}"


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
        """'dead', 'always on' or 'live' (English, marked: a chart shows it as tr(kind))."""
        return N_("dead") if unit in self.dead else N_("always on") if unit in self.always_on else N_("live")


def unit_marks(stats: CodeStats, code: CodeKind) -> UnitMarks:
    """Which units are dead or always on under the threshold the stats were taken at, and the rules in
    the words of `code.describe`, with what a dead unit still does for a code that is never exactly 0 —
    in the reader's language (made where it is shown: ActivationReport.marks)."""
    t = stats.threshold
    active = describe(code, t)
    if code.on_variance:         # active on every image or on none: "always on" would mark every live unit
        rule = f"{measured(code)} ≤ {t:g}"
        return UnitMarks(tuple(stats.dead_units), (), rule, "",
                         tr("Dead = its value hardly changes from one test image to the next ({rule}): it has "
                            "collapsed to the prior and tells the decoder nothing about the image.", rule=rule),
                         tr("A unit of this code is active on every image or on none, so none is marked always on."))
    if code.exact_zeros and t == 0:
        rule = tr("exactly 0 on every test image")
        meaning = tr("Dead = exactly 0 on every test image: the decoder never gets anything from it (wasted capacity).")
    else:
        rule = tr("never {active} on a test image", active=active)
        if not code.exact_zeros and code.probability:
            meaning = tr("Dead = never {active} on any test image. This code is never exactly 0, so a dead unit "
                         "still passes values below {t:g} to the decoder; its mean activation ρ̂ⱼ can still be "
                         "near ρ, because ρ̂ⱼ averages those values below {t:g}.", active=active, t=t)
        elif not code.exact_zeros:
            meaning = tr("Dead = never {active} on any test image. This code is never exactly 0, so a dead unit "
                         "still passes values below {t:g} to the decoder.", active=active, t=t)
        elif t != code.threshold:
            meaning = tr("Dead = never {active} on any test image at this threshold (`evaluate` uses {default}).",
                         active=active, default=describe(code))
        else:
            meaning = tr("Dead = never {active} on any test image.", active=active)
    always = tr("{active} on every test image", active=active)
    return UnitMarks(tuple(stats.dead_units), tuple(stats.always_on_units), rule, always, meaning,
                     tr("Always on = {always}: never off, so whether it fires says nothing about the image (how "
                        "strongly may).", always=always))


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
    code: CodeKind                           # the model's code kind: what 'active' and 'dead' mean

    @property
    def marks(self) -> UnitMarks:
        """Its dead and always-on units, and the rules for this code, in the reader's language (made when
        read, so a cached report serves every language)."""
        return unit_marks(self.stats, self.code)

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
                            None if learned is None else learned.cpu().numpy(), model.code)


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
