"""Sweeps: train one variant over several values of one hyperparameter, same seed and data, reusing
runs already on disk, and summarise them in sweep.json."""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .checkpoint import CheckpointError, read_checkpoint
from .datasets import Dataset
from .registry import build_model, get_variant
from .runs import train_and_evaluate
from .training import TrainSettings

SUMMARY_KEYS = ("recon_mse", "fvu", "explained_variance", "mean_l0", "mean_l1", "dead_fraction", "dense_fraction",
                "l2_ratio", "kl_sum", "learned_nothing", "learned_nothing_reason")


def parse_values(text: str) -> list[str]:
    """'1e-3, 1e-2,0.1' → ['1e-3', '1e-2', '0.1']; duplicates and empties are errors."""
    values = [v.strip() for v in text.split(",")]
    if not values or any(v == "" for v in values):
        raise ValueError(f"give the values as a comma-separated list such as 1e-3,1e-2,1e-1; got {text!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"a value is repeated in {text!r}")
    return values


def run_name(variant: str, param: str, value: str) -> str:
    return f"{variant}-{param}={value}"


@dataclass
class SweepRun:
    value: str
    path: Path
    reused: bool
    metrics: dict
    train: dict


def _reusable(path: Path, config: dict, dataset: str, settings: TrainSettings) -> dict | None:
    """The checkpoint's payload if it was made with exactly this config, dataset and training."""
    if not path.exists():
        return None
    try:
        payload = read_checkpoint(path)
    except CheckpointError:
        return None
    train_info = payload.get("train", {})
    same_training = all(train_info.get(k) == v for k, v in settings.__dict__.items())
    finished = not train_info.get("stopped_early", False)
    if payload["config"] == config and payload["dataset"] == dataset and same_training and finished:
        return payload
    return None


def run_sweep(variant: str, param: str, values: list[str], data: Dataset, out_dir: str | os.PathLike,
              settings: TrainSettings, base_params: dict | None = None,
              on_run: Callable[[int, int, str, bool], None] | None = None) -> dict:
    """Train (or reuse) one checkpoint per value; write and return the sweep.json summary.

    Every value is validated before anything trains, so a bad value fails fast with its reason."""
    cls = get_variant(variant)
    if not values:
        raise ValueError(f"give at least one value of {param} to sweep over")
    known = [k for k in cls.config_class.field_specs() if k != "input_dim"]
    if param not in known:
        raise ValueError(f"{variant} has no parameter {param!r}; sweepable parameters: {', '.join(known)}")
    base = dict(base_params or {})
    configs = []
    for value in values:
        model = build_model(variant, {**base, param: value}, input_dim=data.input_dim, seed=settings.seed)
        configs.append(model.config.to_dict())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs: list[SweepRun] = []
    for i, (value, config) in enumerate(zip(values, configs, strict=True)):
        path = out / f"{run_name(variant, param, value)}.pt"
        payload = _reusable(path, config, data.name, settings)
        if on_run:
            on_run(i, len(values), value, payload is not None)
        if payload is not None:
            runs.append(SweepRun(value, path, True, payload["metrics"], payload.get("train", {})))
            continue
        run = train_and_evaluate(variant, {**base, param: value}, data, settings)
        run.save(path, data.name)
        runs.append(SweepRun(value, path, False, run.metrics.to_dict(), run.summary))
    summary = {
        "variant": variant, "param": param, "values": values, "dataset": data.name,
        "base_params": base, "settings": settings.__dict__,
        "runs": [{"value": r.value, "checkpoint": r.path.name, "reused": r.reused,
                  "train_seconds": r.train.get("seconds"),
                  **{k: r.metrics.get(k) for k in SUMMARY_KEYS if k in r.metrics}} for r in runs],
    }
    tmp = out / ".sweep.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2))
    os.replace(tmp, out / "sweep.json")
    return summary
