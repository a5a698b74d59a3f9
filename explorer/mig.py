"""Mutual information gap (Chen et al., Isolating sources of disentanglement in VAEs, NeurIPS 2018), as
disentanglement_lib computes it: each code unit z_j in 20 equal-width bins over its range, each factor v
discrete (the class) or in 10 equal-frequency bins, plug-in mutual information in nats, and
MIG_v = (I₁ − I₂) / H(v) with I₁ ≥ I₂ the two largest I(z_j; v) over the units. 1 when one unit alone
carries the factor, 0 when two units carry it equally (or none does)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .resampling import Estimate, Resamples, interval

CODE_BINS = 20
FACTOR_BINS = 10
RESAMPLE_CHUNK = 25      # resamples counted at once: 25 × 64 units × 20 × 10 values = 2.6 MB


@dataclass(frozen=True)
class MutualInformationGap:
    """MIG of one model's code against each factor of its test images."""

    per_factor: dict[str, Estimate]     # MIG_v with its bootstrap interval
    mean: Estimate                      # the mean over the factors
    null_per_factor: dict[str, float]   # MIG_v with the factor's values permuted over the images
    null: float
    information: np.ndarray             # (K, F) I(z_j; v) in nats, on the whole test split
    entropy: np.ndarray                 # (F,) H(v) in nats


def equal_width_bins(codes: np.ndarray, bins: int = CODE_BINS) -> np.ndarray:
    """(N, K) values → (N, K) bin indices 0…bins−1, bins of equal width over each column's range
    (np.histogram's edges; a constant column is one bin)."""
    out = np.empty(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, j], bins)
        out[:, j] = np.digitize(codes[:, j], edges[1:-1])
    return out


def equal_frequency_bins(values: np.ndarray, bins: int = FACTOR_BINS) -> np.ndarray:
    """(N,) values → (N,) bin indices 0…bins−1 holding about equal numbers of images (NaN: a bin of its own)."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    edges = np.nanquantile(values, np.linspace(0, 1, bins + 1)[1:-1]) if finite.any() else np.zeros(bins - 1)
    return np.where(finite, np.searchsorted(edges, np.where(finite, values, 0.0), side="right"), bins)


def discrete_factor(labels: np.ndarray) -> np.ndarray:
    """Labels of any values → 0…C−1."""
    return np.unique(np.asarray(labels), return_inverse=True)[1].reshape(-1)


def _plogp(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)


def mutual_information(joint: np.ndarray) -> np.ndarray:
    """(..., A, B) joint counts → (...,) plug-in I(a; b) in nats: H(a) + H(b) − H(a, b)."""
    p = joint / joint.sum(axis=(-2, -1), keepdims=True)
    return (_plogp(p).sum(axis=(-2, -1)) - _plogp(p.sum(axis=-1)).sum(axis=-1)
            - _plogp(p.sum(axis=-2)).sum(axis=-1))


def entropy(counts: np.ndarray) -> np.ndarray:
    """(..., B) counts → (...,) plug-in entropy in nats."""
    return -_plogp(counts / counts.sum(axis=-1, keepdims=True)).sum(axis=-1)


def gap(information: np.ndarray, factor_entropy: np.ndarray) -> np.ndarray:
    """(..., K) I(z_j; v) and (...,) H(v) → (...,) (I₁ − I₂) / H(v)."""
    top = -np.sort(-information, axis=-1)
    second = top[..., 1] if information.shape[-1] > 1 else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(factor_entropy > 0, (top[..., 0] - second) / np.where(factor_entropy > 0, factor_entropy, 1), 0)


def _joint_counts(binned: np.ndarray, factor: np.ndarray, n_values: int, weights: np.ndarray) -> np.ndarray:
    """(N, K) code bins, (N,) factor bins, (R, N) image multiplicities → (R, K, CODE_BINS, n_values) counts."""
    n, k = binned.shape
    cells = ((np.arange(k) * CODE_BINS + binned) * n_values + factor[:, None]).ravel()     # (N·K,)
    membership = sparse.csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), cells)),
                                   shape=(n, k * CODE_BINS * n_values))
    return np.asarray((membership.T @ weights.T).T).reshape(len(weights), k, CODE_BINS, n_values)


def _resampled_gaps(binned: np.ndarray, factor: np.ndarray, n_values: int, weights: np.ndarray) -> np.ndarray:
    """(R,) MIG_v of each resample, RESAMPLE_CHUNK resamples at a time (their counts are R·K·bins·V numbers)."""
    gaps = []
    for start in range(0, len(weights), RESAMPLE_CHUNK):
        counts = _joint_counts(binned, factor, n_values, weights[start:start + RESAMPLE_CHUNK])
        gaps.append(gap(mutual_information(counts), entropy(counts[:, 0].sum(axis=1))))
    return np.concatenate(gaps)


def mutual_information_gap(codes: np.ndarray, factors: dict[str, np.ndarray], draws: Resamples) -> MutualInformationGap:
    """MIG of codes (N, K) against each factor (N,) already binned (0…V−1), over the test images; intervals
    from the resampled images (the mean's from the same draws for every factor), nulls from the factors'
    values permuted over the images."""
    binned = equal_width_bins(np.asarray(codes, dtype=np.float64))
    every = np.ones((1, binned.shape[0]))
    per_factor, nulls, information, entropies, per_resample = {}, {}, [], [], []
    for name, factor in factors.items():
        n_values = int(factor.max()) + 1
        full = _joint_counts(binned, factor, n_values, every)[0]                          # (K, bins, V)
        h = float(entropy(full[0].sum(axis=0)))
        info = mutual_information(full)                                                  # (K,)
        gaps = _resampled_gaps(binned, factor, n_values, draws.weights)                  # (R,)
        per_factor[name] = interval(float(gap(info, np.asarray(h))), gaps)
        shuffled = np.stack([_joint_counts(binned, factor[perm], n_values, every)[0] for perm in draws.permutations])
        nulls[name] = float(np.mean(gap(mutual_information(shuffled), np.full(len(shuffled), h))))
        information.append(info)
        entropies.append(h)
        per_resample.append(gaps)
    value = float(np.mean([e.value for e in per_factor.values()]))
    return MutualInformationGap(per_factor, interval(value, np.mean(per_resample, axis=0)), nulls,
                                float(np.mean(list(nulls.values()))), np.stack(information, axis=1),
                                np.array(entropies))
