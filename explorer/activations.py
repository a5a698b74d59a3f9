"""Per-unit views of a code: activation histograms, firing rates, KL to a target, top images, filters."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .datasets import Dataset
from .metrics import FIRING_THRESHOLD, code_statistics, encode_all, kl_basis

HIST_BINS = 30


@dataclass
class ActivationReport:
    """Everything the Activations page draws, computed once per (model, data, threshold, ρ)."""

    codes: np.ndarray            # (N, K) code of every test image
    stats: dict                  # code_statistics(): the same numbers `evaluate --json` prints
    hist_counts: np.ndarray      # (K, HIST_BINS) per-unit activation histograms
    hist_edges: np.ndarray       # (K, HIST_BINS + 1) each unit's own bin edges
    l0: np.ndarray               # (N,) active units per image
    rho: float                   # target firing rate used for the KL view

    @property
    def n_units(self) -> int:
        return self.codes.shape[1]

    @property
    def mean_activation(self) -> np.ndarray:
        return np.asarray(self.stats["unit_mean_activation"])

    @property
    def firing_rate(self) -> np.ndarray:
        return np.asarray(self.stats["unit_firing_rate"])

    @property
    def unit_kl(self) -> np.ndarray:
        return np.asarray(self.stats["unit_kl"])


@torch.no_grad()
def activation_report(model: nn.Module, data: Dataset, threshold: float = FIRING_THRESHOLD,
                      rho: float | None = None) -> ActivationReport:
    """Codes of the test split and their statistics; rho defaults to the model's own (sparse_kl),
    else 0.05, so the KL view exists for every model."""
    rho = rho if rho is not None else getattr(model.config, "rho", 0.05)
    codes_t = encode_all(model, data.test_x)                      # (N, K)
    stats = code_statistics(codes_t, threshold, rho, kl_basis(model))
    codes = codes_t.cpu().numpy()
    counts, edges = zip(*(np.histogram(codes[:, j], bins=HIST_BINS) for j in range(codes.shape[1])))
    l0 = (np.abs(codes) > threshold).sum(axis=1)
    return ActivationReport(codes, stats, np.stack(counts), np.stack(edges), l0, rho)


def unit_order(report: ActivationReport, by: str) -> np.ndarray:
    """Unit indices in display order: 'unit' (index), 'mean' (ρ̂ high→low), 'firing' or 'kl' (high→low)."""
    keys = {"unit": None, "mean": report.mean_activation, "firing": report.firing_rate, "kl": report.unit_kl}
    if by not in keys:
        raise ValueError(f"order must be one of {', '.join(keys)}; got {by!r}")
    if keys[by] is None:
        return np.arange(report.n_units)
    return np.argsort(-keys[by], kind="stable")


def top_activating(codes: np.ndarray, unit: int, k: int = 12) -> np.ndarray:
    """Indices of the k test images on which `unit` is largest, largest first."""
    return np.argsort(-codes[:, unit], kind="stable")[:k]


def middle_of_range(codes: np.ndarray, unit: int, k: int = 6, threshold: float = FIRING_THRESHOLD) -> np.ndarray:
    """k images around the median of the unit's active values (a typical, not extreme, response)."""
    active = np.flatnonzero(np.abs(codes[:, unit]) > threshold)
    if len(active) == 0:
        return active
    ordered = active[np.argsort(codes[active, unit], kind="stable")]
    centre = len(ordered) // 2
    start = max(0, min(centre - k // 2, len(ordered) - k))
    return ordered[start:start + k]


@torch.no_grad()
def encoder_filters(model: nn.Module) -> np.ndarray:
    """(K, D) input-space filter of each code unit: the product of the encoder's weight matrices.

    Exact for a one-layer encoder (the seed's sparse AE: row j of W); for deeper encoders it is the
    linear path through the layers, ignoring the ReLUs — the usual quick look at what a unit reads."""
    linears = [m for m in model.encoder.modules() if isinstance(m, nn.Linear)]
    if hasattr(model, "mu_head"):       # VAE: the code is μ, read by the μ head after the trunk
        linears.append(model.mu_head)
    product = linears[0].weight
    for layer in linears[1:]:
        product = layer.weight @ product
    return product.cpu().numpy()


def filters_as_images(filters: np.ndarray) -> np.ndarray:
    """Each filter scaled symmetrically to [0, 1] (0.5 = zero weight), the UFLDL way of drawing them."""
    scale = np.abs(filters).max(axis=1, keepdims=True)
    return 0.5 + 0.5 * filters / np.where(scale > 0, scale, 1.0)
