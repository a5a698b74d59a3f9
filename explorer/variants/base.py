"""The shared autoencoder skeleton: config fields every variant has, the MLP builder, the base model."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ..params import Config, param

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "identity": nn.Identity}


@dataclass
class AutoencoderConfig(Config):
    """Shape of the network; the seed's plain AE is 784-128-32 / 32-128-784."""

    input_dim: int = param(784, "Pixels per image (set from the dataset).", low=1)
    hidden: tuple[int, ...] = param((128,), "Hidden layer sizes between input and code, e.g. 128 or "
                                    "256,128; the decoder mirrors them. Empty for one layer.", low=1)
    latent_dim: int = param(32, "Size of the code z (the bottleneck).", low=1, ui_low=2, ui_high=256)


def mlp(sizes: list[int], out_activation: str) -> nn.Sequential:
    """Linear layers with ReLU between them and out_activation after the last."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        last = i == len(sizes) - 2
        layers.append(ACTIVATIONS[out_activation]() if last else nn.ReLU())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """Plain autoencoder: min E ‖x − g(f(x))‖² (mean per pixel), with f, g MLPs.

    Subclasses change the code activation, add a penalty in `loss`, or replace the encoder."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    objective_latex: ClassVar[str] = ""        # the objective in one formula, for st.latex
    config_class: ClassVar[type[AutoencoderConfig]] = AutoencoderConfig
    code_activation: ClassVar[str] = "relu"   # the seed's AE has a ReLU at the bottleneck
    default_batch_size: ClassVar[int] = 128   # the seed's batch size for this variant

    def __init__(self, config: AutoencoderConfig | None = None):
        super().__init__()
        self.config = config if config is not None else self.config_class()
        c = self.config
        self.encoder = self.build_encoder()
        self.decoder = mlp([c.latent_dim, *reversed(c.hidden), c.input_dim], "sigmoid")

    def build_encoder(self) -> nn.Module:
        c = self.config
        return mlp([c.input_dim, *c.hidden, c.latent_dim], self.code_activation)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, input_dim) in [0, 1] → code z (B, latent_dim)."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, latent_dim) → reconstruction (B, input_dim) in [0, 1]."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named loss terms; `total` is what training minimises."""
        recon = F.mse_loss(self(x), x)
        return {"total": recon, "recon": recon}

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device
