"""`denoising`: the seed's AE trained to map a corrupted input back to the clean image."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..noise import NOISE_TYPES, add_noise
from ..params import param
from ..registry import register
from .base import Autoencoder, AutoencoderConfig


@dataclass
class DenoisingConfig(AutoencoderConfig):
    noise: str = param("gaussian", "Corruption applied to the input while training: Gaussian "
                       "noise, masking (pixels set to 0) or salt-and-pepper (pixels set to 0 or 1).",
                       choices=NOISE_TYPES)
    noise_level: float = param(0.3, "σ of the Gaussian noise, or the fraction of pixels hit by "
                               "masking / salt-and-pepper.", low=0.0, ui_low=0.0, ui_high=1.0)

    def validate(self) -> None:
        super().validate()
        if self.noise != "gaussian" and self.noise_level > 1:
            raise ValueError(f"noise_level is a fraction of pixels for {self.noise} noise and must "
                             f"be in [0, 1]; got {self.noise_level:g}")


@register
class DenoisingAutoencoder(Autoencoder):
    """Objective: min E ‖x − g(f(x̃))‖²,  x̃ = corrupt(x) (Gaussian σ=0.3 by default, as the seed)."""

    name = "denoising"
    summary = "Denoising autoencoder: corrupted input in, clean image out."
    config_class = DenoisingConfig
    objective_latex = (r"\min_{\theta,\phi}\ \mathbb{E}_{x,\tilde x}\lVert x - g_\phi(f_\theta(\tilde x))"
                       r" \rVert^2,\quad \tilde x = \mathrm{corrupt}(x)")

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        noisy = add_noise(x, self.config.noise, self.config.noise_level)
        recon = F.mse_loss(self(noisy), x)  # target is the clean image
        return {"total": recon, "recon": recon}
