"""The arrays behind the pages' figures: picks of test images, noisy/denoised rows, error views."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .datasets import Dataset
from .metrics import per_class_mean
from .noise import NoiseSetting
from .variants.base import Autoencoder


def as_np(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def pick_indices(labels: torch.Tensor, n: int, seed: int, classes: list[int] | None = None) -> np.ndarray:
    """n distinct indices drawn with `seed`, optionally only from the given classes (sorted by draw)."""
    labels_np = labels.cpu().numpy()
    pool = np.flatnonzero(np.isin(labels_np, classes)) if classes else np.arange(len(labels_np))
    rng = np.random.default_rng(seed)
    return rng.permutation(pool)[: min(n, len(pool))]


@dataclass
class ReconstructionRows:
    original: np.ndarray          # (n, D) in [0, 1]
    noisy: np.ndarray | None      # (n, D), the corrupted input when noise was applied
    reconstruction: np.ndarray    # (n, D)
    mse: np.ndarray               # (n,) against the original


def reconstruction_rows(model: Autoencoder, x: torch.Tensor, noise: NoiseSetting | None = None,
                        seed: int = 0) -> ReconstructionRows:
    """Originals, optionally corrupted (same seed → same noise), and the model's reconstructions."""
    inputs, recon = model.reconstruct_noisy(x, noise, seed)
    mse = (recon - x).pow(2).mean(dim=1)
    noisy = None if inputs is x else as_np(inputs)
    return ReconstructionRows(as_np(x), noisy, as_np(recon), as_np(mse))


@dataclass
class ErrorSummary:
    per_image: np.ndarray          # (N,) MSE of each test image
    per_class: dict[str, float]    # class name → mean MSE
    pixel_map: np.ndarray          # (H, W) mean squared error of each pixel
    worst: np.ndarray              # indices of the worst images, worst first
    worst_inputs: np.ndarray       # (k, D) what the model saw for them (noisy if noise was applied)
    worst_reconstructions: np.ndarray  # (k, D)
    worst_originals: np.ndarray    # (k, D) the clean images
    noisy: bool                    # whether noise was applied (the inputs are not the originals)

    def worst_rows(self, which: slice) -> list[np.ndarray]:
        """Those of the worst images as rows to stack: original, the noisy input (under noise), reconstruction."""
        rows = [self.worst_originals, self.worst_inputs] if self.noisy else [self.worst_inputs]
        return [row[which] for row in [*rows, self.worst_reconstructions]]


def error_summary(model: Autoencoder, data: Dataset, noise: NoiseSetting | None = None, seed: int = 0,
                  n_worst: int = 16) -> ErrorSummary:
    """Reconstruction error on the test split, by image, by class and by pixel."""
    x, y = data.test_x, data.test_y
    inputs, recon = model.reconstruct_noisy(x, noise, seed)
    squared = (recon - x).pow(2)                                     # (N, D)
    per_image = squared.mean(dim=1)
    worst = torch.argsort(per_image, descending=True)[:n_worst]
    return ErrorSummary(as_np(per_image), per_class_mean(per_image, y, data.class_names),
                        as_np(squared.mean(dim=0).reshape(data.image_shape)), as_np(worst),
                        as_np(inputs[worst]), as_np(recon[worst]), as_np(x[worst]), inputs is not x)
