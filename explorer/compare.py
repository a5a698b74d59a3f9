"""Comparing trained models: what distinguishes each one, and the numbers side by side."""
from __future__ import annotations

import numpy as np
import torch


GREEK = {"lam": "λ", "beta": "β", "rho": "ρ", "noise_level": "σ/fraction", "latent_dim": "latent", "hidden": "hidden"}


def _shown(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else f"{value:g}" if isinstance(value, float) else str(value)


def describe_setting(model: torch.nn.Module, always: tuple[str, ...] = ()) -> str:
    """'sparse_l1 λ=0.001', or 'ae (seed defaults)': the variant and its non-default hyperparameters
    (plus those named in `always`, e.g. the parameter a sweep varies)."""
    changed = [f"{GREEK.get(name, name)}={_shown(getattr(model.config, name))}"
               for name, spec in model.config_class.field_specs().items()
               if name != "input_dim" and (name in always or getattr(model.config, name) != spec["default"])]
    return f"{model.name} " + " ".join(changed) if changed else f"{model.name} (seed defaults)"


def describe_settings(models: list[torch.nn.Module]) -> list[str]:
    """Settings for models shown together: a parameter that differs between models of the same
    variant is shown for all of them, so a sweep reads λ=0, λ=0.0001, … even at the default."""
    varying: dict[str, set[str]] = {}
    for model in models:
        peers = [m for m in models if m.name == model.name]
        varying[model.name] = {name for name in model.config_class.field_specs()
                               if name != "input_dim" and len({_shown(getattr(p.config, name)) for p in peers}) > 1}
    return [describe_setting(m, tuple(sorted(varying[m.name]))) for m in models]


def sweep_value(stem: str) -> float:
    """The numeric value in a sweep checkpoint's name ('sparse_l1-lam=3e-4' → 0.0003); inf if none."""
    try:
        return float(stem.rsplit("=", 1)[1])
    except (IndexError, ValueError):
        return float("inf")


def metrics_row(label: str, setting: str, metrics: dict, meta: dict) -> dict:
    """One row of the comparison table (plain values, CSV-ready)."""
    train = meta.get("train", {}) or {}
    return {
        "model": label,
        "setting": setting,
        "recon MSE": metrics["recon_mse"],
        "mean activation": float(np.mean(metrics["unit_mean_activation"])),
        "mean |z|₁": metrics["mean_l1"],
        "mean L0": metrics["mean_l0"],
        "dead fraction": metrics["dead_fraction"],
        "Σ KL(ρ‖ρ̂)": metrics.get("kl_sum"),
        "train seconds": train.get("seconds"),
        "epochs": train.get("epochs_run"),
    }
