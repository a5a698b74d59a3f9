"""One training run, from a variant and its settings to a trained, evaluated model ready to save:
the same steps for the CLI's `train`, for each trial of a sweep, and for the app's training worker."""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .batched import BATCH_MOST, NotBatchableError, group_batchable, train_batched
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


@dataclass(frozen=True)
class RunSpec:
    """What one training run is: a variant, its parameters as a user gives them, how it is trained."""

    variant: str
    params: dict[str, Any]
    settings: TrainSettings


def train_and_evaluate(variant: str, params: dict[str, Any], data: Dataset, settings: TrainSettings,
                       callback: Callable[[TrainEvent], bool | None] | None = None) -> FinishedRun:
    """Build the model (weights from settings.seed), train it, evaluate it on the test split."""
    model = build_model(variant, params, input_dim=data.input_dim, seed=settings.seed)
    return _finished(train(model, data, settings, callback=callback), data)


def checkpoint_size_estimate(variant: str, params: dict[str, Any], input_dim: int) -> int:
    """Bytes a checkpoint of this model takes, about (float32 weights and a margin for the history and
    metrics): what a disk must have free before training starts."""
    with torch.device("meta"):       # sizes only: no weights are made
        model = build_model(variant, params, input_dim=input_dim, seed=0)
    return 4 * sum(t.numel() for t in model.state_dict().values()) + (1 << 20)


def _finished(result: TrainResult, data: Dataset) -> FinishedRun:
    return FinishedRun(result.model, result, evaluate(result.model, data, lr=result.settings.lr),
                       {**result.summary(), "device": str(data.device)})


def batch_groups(specs: Sequence[RunSpec], data: Dataset, batch: bool = True) -> list[list[int]]:
    """Indices of specs in the groups that train as one computation (explorer.batched): same variant,
    shape and training but for the seeds, penalty weights and per-model fields; one each if not batch."""
    if not batch:
        return [[i] for i in range(len(specs))]
    with torch.device("meta"):        # shapes and sizes only: no weights are made to compare the specs
        models = [build_model(s.variant, s.params, input_dim=data.input_dim, seed=0) for s in specs]
    return group_batchable(list(zip(models, [s.settings for s in specs], strict=True)), BATCH_MOST)


def train_and_evaluate_many(specs: Sequence[RunSpec], data: Dataset,
                            callbacks: Sequence[Callable[[TrainEvent], bool | None] | None] | None = None
                            ) -> list[FinishedRun | Exception]:
    """Train and evaluate specs as one computation (call it with a group of batch_groups); per spec its
    FinishedRun, or the error it failed with (a NaN loss, a bad value): the others go on. A variant
    whose pass cannot be batched trains one by one instead."""
    callbacks = list(callbacks) if callbacks is not None else [None] * len(specs)
    runs: list[FinishedRun | Exception] = []
    try:
        models = [build_model(s.variant, s.params, input_dim=data.input_dim, seed=s.settings.seed) for s in specs]
        if len(specs) > 1:
            outcomes = train_batched(models, data, [s.settings for s in specs], callbacks)
            return [o if isinstance(o, Exception) else _finished(o, data) for o in outcomes]
    except NotBatchableError:
        pass                                              # one by one, below
    except (ValueError, RuntimeError) as exc:
        return [exc] * len(specs)
    for spec, callback in zip(specs, callbacks, strict=True):
        try:
            runs.append(train_and_evaluate(spec.variant, spec.params, data, spec.settings, callback))
        except (ValueError, RuntimeError) as exc:         # NonFiniteLossError is a RuntimeError
            runs.append(exc)
    return runs
