"""Autoencoder Explorer: train, load and inspect autoencoder variants (pure Python + torch).

The public names below are imported on first use, so that `import explorer.<module>` costs only that
module: the app's launcher imports explorer.app.preload long before it needs torch."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "CheckpointError": ".checkpoint", "load_checkpoint": ".checkpoint", "save_checkpoint": ".checkpoint",
    "DATASETS": ".datasets", "Dataset": ".datasets", "DatasetUnavailableError": ".datasets",
    "load_dataset": ".datasets", "resolve_device": ".device", "evaluate": ".metrics",
    "build_model": ".registry", "get_variant": ".registry", "variant_names": ".registry",
    "NonFiniteLossError": ".training", "TrainSettings": ".training", "train": ".training",
    "dataset_reference": ".measures", "measure_model": ".measures", "judge_claims": ".claims",
}
__all__ = ["CheckpointError", "DATASETS", "Dataset", "DatasetUnavailableError", "NonFiniteLossError",
           "TrainSettings", "build_model", "dataset_reference", "evaluate", "get_variant", "judge_claims",
           "load_checkpoint", "load_dataset", "measure_model", "resolve_device", "save_checkpoint", "train",
           "variant_names"]

if TYPE_CHECKING:
    from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
    from .claims import judge_claims
    from .datasets import DATASETS, Dataset, DatasetUnavailableError, load_dataset
    from .device import resolve_device
    from .measures import dataset_reference, measure_model
    from .metrics import evaluate
    from .registry import build_model, get_variant, variant_names
    from .training import NonFiniteLossError, TrainSettings, train


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'explorer' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value          # later lookups skip this function
    return value
