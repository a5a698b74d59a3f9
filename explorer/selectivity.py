"""Class selectivity of code units (Morcos et al., On the importance of single directions for
generalization, ICLR 2018): SI_j = (μ_max − μ_rest) / (μ_max + μ_rest), with μ_c unit j's mean activity over
class c's images, μ_max the largest and μ_rest the mean of the other classes' μ_c (SI_j = 0 when both are 0).
1 when a unit fires for one class only, 0 when it fires alike for all."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .resampling import Estimate, Resamples, interval


@dataclass(frozen=True)
class Selectivity:
    """Selectivity of one model's units on the test split."""

    per_unit: np.ndarray       # (K,) SI_j; NaN for units that are not live
    class_means: np.ndarray    # (K, C) μ_c: each unit's mean activity over each class's images
    mean: Estimate             # mean SI over the live units, with its bootstrap interval
    null: float                # the same mean with the test labels permuted (mean over the permutations)


def selectivity_index(class_means: np.ndarray) -> np.ndarray:
    """(..., C, K) mean activity per class (never negative) → (..., K) SI per unit."""
    top = class_means.max(axis=-2)
    n_classes = class_means.shape[-2]
    rest = (class_means.sum(axis=-2) - top) / max(n_classes - 1, 1)
    total = top + rest
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (top - rest) / np.where(total > 0, total, 1.0), 0.0)


def _class_means(activity: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """(N, K) activity, (N, C) class membership → (C, K) mean activity of each class."""
    return (onehot.T @ activity) / onehot.sum(axis=0)[:, None]


def class_selectivity(activity: np.ndarray, labels: np.ndarray, live: np.ndarray, draws: Resamples) -> Selectivity:
    """SI of each unit from its activity (N, K) (never negative) on labelled images (N,); the mean over the
    live units (K,) bool, its interval over the resampled images, and its null under permuted labels."""
    activity = np.asarray(activity, dtype=np.float64)
    classes = np.unique(labels)
    onehot = (labels[:, None] == classes[None, :]).astype(np.float64)                # (N, C)
    means = _class_means(activity, onehot)                                               # (C, K)
    per_unit = np.where(live, selectivity_index(means), np.nan)
    # Bootstrap: each resample's class means from the images' multiplicities (R, N).
    sums = np.stack([draws.weights[:, onehot[:, c] > 0] @ activity[onehot[:, c] > 0]
                     for c in range(len(classes))], axis=1)                              # (R, C, K)
    counts = draws.weights @ onehot                                                      # (R, C)
    with np.errstate(invalid="ignore", divide="ignore"):
        resampled = selectivity_index(sums / counts[:, :, None])[:, live]                # (R, live)
    nulls = [selectivity_index(_class_means(activity, onehot[perm]))[live].mean() for perm in draws.permutations]
    value = float(per_unit[live].mean())
    return Selectivity(per_unit, means.T, interval(value, resampled.mean(axis=1)), float(np.mean(nulls)))
