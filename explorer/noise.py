"""Input corruptions for the denoising AE and for testing any model's robustness."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .i18n import N_, tr

NOISE_TYPES = ("gaussian", "masking", "salt_pepper")
# What a noise menu shows for each choice (the values stay: they are link values and --param values); in
# English the value itself.
NOISE_LABELS = {"none": N_("none"), "gaussian": N_("gaussian"), "masking": N_("masking"),
                "salt_pepper": N_("salt_pepper")}


def noise_label(kind: str) -> str:
    """A noise choice ('none' or one of NOISE_TYPES) as a menu shows it, in the reader's language."""
    return tr(NOISE_LABELS.get(kind, kind))


@dataclass(frozen=True)
class NoiseSetting:
    """A corruption: its kind (one of NOISE_TYPES) and level (σ, or the fraction of pixels hit)."""

    kind: str
    level: float


def add_noise(x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None,
              clamp: bool = False) -> torch.Tensor:
    """Corrupt x (B, D) in [0, 1].

    gaussian: x + N(0, level²), as in the seed (not clamped unless clamp=True);
    masking: each pixel set to 0 with probability level;
    salt_pepper: each pixel set to 0 or 1 (equally likely) with probability level."""
    if kind not in NOISE_TYPES:
        raise ValueError(f"noise must be one of {', '.join(NOISE_TYPES)}; got {kind!r}")
    if level < 0 or (kind != "gaussian" and level > 1):
        bound = "≥ 0" if kind == "gaussian" else "in [0, 1]"
        raise ValueError(f"noise_level for {kind} noise must be {bound}; got {level:g}")
    if level == 0:
        return x
    if kind == "gaussian":
        noisy = x + level * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return noisy.clamp(0, 1) if clamp else noisy
    hit = torch.rand(x.shape, generator=generator, device=x.device) < level
    if kind == "masking":
        return x.masked_fill(hit, 0.0)
    salt = torch.rand(x.shape, generator=generator, device=x.device) < 0.5
    return torch.where(hit, salt.to(x.dtype), x)
