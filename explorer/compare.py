"""Comparing trained models: what distinguishes each one, their numbers side by side, and the
reconstruction–sparsity frontier with its Pareto front."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .i18n import N_, tr
from .metrics import Evaluation
from .variants.base import Autoencoder


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _symbol(model: Autoencoder, name: str) -> str:
    return model.config_class.field_specs()[name].get("symbol") or name


def _changed(model: Autoencoder, always: tuple[str, ...] = ()) -> str:
    """'λ=0.001': the model's non-default hyperparameters (and those named in `always`); '' if none."""
    return " ".join(f"{_symbol(model, name)}={_shown(getattr(model.config, name))}"
                    for name, spec in model.config_class.field_specs().items()
                    if name != "input_dim" and (name in always or getattr(model.config, name) != spec["default"]))


def describe_setting(model: Autoencoder, always: tuple[str, ...] = ()) -> str:
    """'sparse_l1 λ=0.001', or 'ae (defaults)': the variant and its non-default hyperparameters
    (plus those named in `always`, e.g. the parameter a sweep varies)."""
    changed = _changed(model, always)
    return f"{model.name} {changed}" if changed else tr("{variant} (defaults)", variant=model.name)


def describe_settings(models: list[Autoencoder]) -> list[str]:
    """Settings for models shown together: a parameter that differs between models of the same
    variant is shown for all of them, so a sweep reads λ=0, λ=0.0001, … even at the default."""
    varying: dict[str, set[str]] = {}
    for model in models:
        peers = [m for m in models if m.name == model.name]
        varying[model.name] = {name for name in model.config_class.field_specs()
                               if name != "input_dim" and len({_shown(getattr(p.config, name)) for p in peers}) > 1}
    always = [tuple(sorted(varying[m.name])) for m in models]
    described = [describe_setting(m, a) for m, a in zip(models, always, strict=True)]
    # One setting trained from several seeds (a seed sweep): the seed is what tells them apart.
    seeds = [m.meta.train.get("seed") if m.meta is not None else None for m in models]
    return [" ".join(filter(None, [m.name, _changed(m, a), f"seed={seed}"]))
            if seed is not None and len({s for s, other in zip(seeds, described, strict=True) if other == setting}) > 1
            else setting for m, a, setting, seed in zip(models, always, described, seeds, strict=True)]


@dataclass
class ComparedModel:
    """One model on the Compare page: who it is, which line it belongs to, and its numbers."""

    key: str                    # its key in the model list (cache key of its weights)
    label: str                  # its name in the model list
    setting: str                # 'sparse_l1 λ=0.001': what distinguishes it from the others shown
    group: str                  # its line on the trade-off plots: its sweep, or its variant
    model: Autoencoder = field(repr=False)
    evaluation: Evaluation = field(repr=False)
    history: dict = field(default_factory=dict, repr=False)   # per-epoch loss terms, if it has them
    train: dict = field(default_factory=dict)   # the checkpoint's training summary (seconds, epochs)

    def table_row(self) -> dict[str, Any]:
        """One row of the comparison table (plain values, CSV-ready: English; a page translates what it shows)."""
        ev, code = self.evaluation, self.evaluation.code
        return {
            N_("setting"): self.setting,
            N_("decoder"): N_("linear") if self.model.linear_decoder else N_("sigmoid"),
            N_("recon MSE"): ev.recon_mse,
            "FVU": ev.fvu,
            N_("explained variance"): ev.explained_variance,
            N_("mean L0"): code.mean_l0,
            N_("active when"): code.active_when,
            N_("dead fraction"): code.dead_fraction,
            N_("dense fraction"): code.dense_fraction,
            N_("L2 ratio"): ev.l2_ratio,
            N_("mean activation"): float(np.mean(code.unit_mean_activation)),
            N_("mean |z|₁"): code.mean_l1,
            "Σ KL(ρ‖ρ̂)": code.kl_sum,
            N_("learned nothing"): N_("yes") if ev.learned_nothing else "",
            N_("train seconds"): self.train.get("seconds"),
            N_("epochs"): self.train.get("epochs_run"),
        }


# What a trade-off plot can put on its sparsity axis, and where to read it.
SPARSITY_MEASURES = {
    N_("mean L0"): lambda ev: ev.code.mean_l0,
    N_("mean |z|₁"): lambda ev: ev.code.mean_l1,
    N_("mean activation"): lambda ev: float(np.mean(ev.code.unit_mean_activation)),
}


@dataclass
class Point:
    """A model on a trade-off plot."""

    group: str
    setting: str
    x: float
    y: float
    learned_nothing: bool
    dense: bool = False     # a dense code (no exact zeros): its L0 does not count what the decoder reads


def points(models: list[ComparedModel], x: str, y: str = "recon MSE") -> list[Point]:
    """Each model as a point: x one of SPARSITY_MEASURES, y 'recon MSE' or 'FVU'."""
    if x not in SPARSITY_MEASURES:
        raise ValueError(f"x must be one of {', '.join(SPARSITY_MEASURES)}; got {x!r}")
    y_of = {"recon MSE": lambda ev: ev.recon_mse, "FVU": lambda ev: ev.fvu}[y]
    return [Point(m.group, m.setting, SPARSITY_MEASURES[x](m.evaluation), y_of(m.evaluation),
                  m.evaluation.learned_nothing, not m.model.code.exact_zeros) for m in models]


def counts(p: Point) -> bool:
    """Whether a point competes on the frontier: it learned something, and its L0 counts the units
    its decoder reads (a sigmoid or Gaussian code is dense: its 'inactive' units still carry values)."""
    return not p.learned_nothing and not p.dense


def pareto_front(pts: list[Point]) -> list[int]:
    """Indices of the points no other point beats on both axes (lower x and lower y are better),
    ordered by x, among those that count (see `counts`)."""
    candidates = sorted((i for i, p in enumerate(pts) if counts(p)), key=lambda i: (pts[i].x, pts[i].y))
    front, best_y = [], float("inf")
    for i in candidates:
        if pts[i].y < best_y:
            front.append(i)
            best_y = pts[i].y
    return front


def frontier_at(pts: list[Point], x: float) -> tuple[str, float] | None:
    """The group whose line reaches the lowest y at sparsity x (linear interpolation between its
    points that count, see `counts`), and that y; None if no line spans x."""
    best: tuple[str, float] | None = None
    for group in dict.fromkeys(p.group for p in pts):
        line = sorted((p.x, p.y) for p in pts if p.group == group and counts(p))
        xs, ys = [a for a, _ in line], [b for _, b in line]
        if len(line) < 2 or not xs[0] <= x <= xs[-1]:
            continue
        y = float(np.interp(x, xs, ys))
        if best is None or y < best[1]:
            best = (group, y)
    return best
