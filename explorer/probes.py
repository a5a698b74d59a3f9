"""Sparse probing (Gurnee et al., Finding neurons in a haystack, 2023; SAEBench's sparse probing, 2025):
for each class, one-vs-rest, the k units whose mean differs most between the class and the rest on the
train split, a logistic regression on their standardized values, and its balanced accuracy on the test
split, averaged over the classes. k = all units is the dense probe; the same on raw pixels is the baseline.

The regression weighs the class and the rest equally (class_weight="balanced"): SAEBench probes balanced
sets (as many negatives as positives), and one class against nine others would otherwise tilt a weak
probe to "never this class" — balanced accuracy 0.5 exactly, measured on a k = 1 probe of 8×8 digits."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .resampling import Estimate, Resamples, interval

PROBE_TRAIN_MAX = 10_000     # train images a probe is fitted on (a seeded sample when there are more)
MAX_ITER = 1000


@dataclass
class Probes:
    """One fitted one-vs-rest probe per class on chosen features of standardized inputs."""

    classes: np.ndarray            # (C,) the class labels
    features: list[np.ndarray]     # per class: the feature indices its probe reads
    mean: np.ndarray               # (F,) the scaler's (fitted on the train split)
    scale: np.ndarray              # (F,)
    models: list                   # per class: a fitted sklearn LogisticRegression

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(N, F) inputs → (N, C) bool: whether each class's probe says 'this class'."""
        standard = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        return np.stack([model.predict(standard[:, cols]).astype(bool)
                         for model, cols in zip(self.models, self.features, strict=True)], axis=1)


def training_sample(n: int, limit: int = PROBE_TRAIN_MAX, seed: int = 0) -> np.ndarray:
    """Indices of the train images a probe is fitted on: all of them, or a seeded sample of `limit`."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def top_units(x: np.ndarray, is_class: np.ndarray, k: int | None) -> np.ndarray:
    """The k columns of x (N, F) whose mean differs most between is_class and the rest (all when k is None)."""
    if k is None or k >= x.shape[1]:
        return np.arange(x.shape[1])
    difference = np.abs(x[is_class].mean(axis=0) - x[~is_class].mean(axis=0))
    return np.sort(np.argsort(-difference, kind="stable")[:k])


def fit_probes(x: np.ndarray, labels: np.ndarray, k: int | None) -> Probes:
    """Probes on the k most class-distinguishing features of x (N, F) (all when k is None), one per class."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(x, dtype=np.float64)
    scaler = StandardScaler().fit(x)
    standard = scaler.transform(x)
    classes = np.unique(labels)
    features, models = [], []
    for c in classes:
        is_class = labels == c
        cols = top_units(x, is_class, k)            # ranked on the raw values, as SAEBench does
        features.append(cols)
        models.append(LogisticRegression(max_iter=MAX_ITER, class_weight="balanced").fit(standard[:, cols], is_class))
    return Probes(classes, features, scaler.mean_, scaler.scale_, models)


def balanced_accuracy(predicted: np.ndarray, labels: np.ndarray, classes: np.ndarray,
                      draws: Resamples) -> Estimate:
    """Mean over classes of one-vs-rest balanced accuracy, ½(TPR + TNR), of predictions (N, C) bool,
    with the interval from resampling the test images' predictions (the probes are not refitted)."""
    truth = labels[:, None] == classes[None, :]                        # (N, C)
    hits = (predicted & truth).astype(np.float64)
    rejections = (~predicted & ~truth).astype(np.float64)
    positives, negatives = truth.astype(np.float64), (~truth).astype(np.float64)

    def score(weights: np.ndarray) -> np.ndarray:                      # (R, N) → (R,)
        with np.errstate(invalid="ignore", divide="ignore"):
            tpr = (weights @ hits) / (weights @ positives)
            tnr = (weights @ rejections) / (weights @ negatives)
        return np.nanmean((tpr + tnr) / 2, axis=1)

    return interval(float(score(np.ones((1, len(labels))))[0]), score(draws.weights))
