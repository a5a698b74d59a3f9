"""One training run, from a variant and its settings to a trained, evaluated model ready to save:
the same steps for the CLI's `train`, for each trial of a sweep, and for the app's training worker."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checkpoint import save_checkpoint
from .datasets import Dataset
from .metrics import Evaluation, evaluate
from .registry import build_model
from .training import TrainEvent, TrainResult, TrainSettings, train
from .variants.base import Autoencoder


@dataclass
class FinishedRun:
    model: Autoencoder
    result: TrainResult
    metrics: Evaluation
    summary: dict[str, Any]         # the checkpoint's `train` entry: settings, steps, seconds, speed, device

    def save(self, path: str | os.PathLike, dataset: str) -> Path:
        """Write the run as a checkpoint (atomically)."""
        return save_checkpoint(path, self.model, dataset, self.metrics.to_dict(), self.result.history, self.summary)


def train_and_evaluate(variant: str, params: dict[str, Any], data: Dataset, settings: TrainSettings,
                       callback: Callable[[TrainEvent], bool | None] | None = None) -> FinishedRun:
    """Build the model (weights from settings.seed), train it, evaluate it on the test split."""
    model = build_model(variant, params, input_dim=data.input_dim, seed=settings.seed)
    result = train(model, data, settings, callback=callback)
    return FinishedRun(model, result, evaluate(model, data, lr=settings.lr),
                       {**result.summary(), "device": str(data.device)})
