"""`denoising`: the seed's AE trained to map a corrupted input back to the clean image."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from ..noise import NOISE_TYPES, NoiseSetting, add_noise
from ..params import param
from ..registry import register
from .base import Autoencoder, AutoencoderConfig, Metric, Pass, Term


@dataclass
class DenoisingConfig(AutoencoderConfig):
    noise: str = param("gaussian", "Corruption applied to the input while training: Gaussian "
                       "noise, masking (pixels set to 0) or salt-and-pepper (pixels set to 0 or 1).",
                       choices=NOISE_TYPES)
    noise_level: float = param(0.3, "σ of the Gaussian noise, or the fraction of pixels hit by "
                               "masking / salt-and-pepper.", low=0.0, ui_low=0.0, ui_high=1.0,
                               symbol="σ/fraction")

    def validate(self) -> None:
        super().validate()
        if self.noise != "gaussian" and self.noise_level > 1:
            raise ValueError(f"noise_level is a fraction of pixels for {self.noise} noise and must "
                             f"be in [0, 1]; got {self.noise_level:g}")


@register
class DenoisingAutoencoder(Autoencoder):
    """Objective: min E ‖x − g(f(x̃))‖²,  x̃ = corrupt(x) (Gaussian σ=0.3 by default, as the seed)."""

    name = "denoising"
    order = 40
    summary = "Denoising autoencoder: corrupted input in, clean image out."
    paper = "Vincent et al., Extracting and composing robust features with denoising autoencoders, ICML 2008"
    config_class = DenoisingConfig
    objective_latex = (r"\min_{\theta,\phi}\ \mathbb{E}_{x,\tilde x}\lVert x - g_\phi(f_\theta(\tilde x))"
                       r" \rVert^2,\quad \tilde x = \mathrm{corrupt}(x)")
    config: DenoisingConfig
    objective_term = Term("denoise_mse", "denoising MSE", "per-pixel MSE of the reconstruction of the corrupted "
                          "input against the clean image")
    per_model_fields = ("noise_level",)      # read only when drawing x̃
    extra_metrics = (Metric("denoise_mse", "MSE of the denoised corrupted test images (training noise)"),
                     Metric("noisy_input_mse", "MSE of the corrupted test images themselves"))

    def draw(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        return {"x_in": add_noise(x, self.config.noise, self.config.noise_level, generator)}     # x̃

    def training_pass(self, x: torch.Tensor, draws: Mapping[str, torch.Tensor] | None = None) -> Pass:
        noisy = (draws or self.draw(x))["x_in"]
        z = self.encode(noisy)
        return Pass(noisy, z, z, self.decode(z))       # the objective compares x_hat with the clean x

    def training_noise(self) -> NoiseSetting:
        return NoiseSetting(self.config.noise, self.config.noise_level)

    def measure_extras(self, x: torch.Tensor) -> dict[str, float | list[float]]:
        noisy, denoised = self.reconstruct_noisy(x, self.training_noise(), seed=0)
        return {"denoise_mse": float((denoised - x).pow(2).mean()),
                "noisy_input_mse": float((noisy - x).pow(2).mean())}
