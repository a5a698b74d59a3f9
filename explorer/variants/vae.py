"""`vae`: Gaussian variational autoencoder with the reparameterisation trick and a β-weighted ELBO."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..params import param
from ..registry import register
from .base import Autoencoder, AutoencoderConfig, mlp


@dataclass
class VAEConfig(AutoencoderConfig):
    hidden: tuple[int, ...] = param((256,), "Hidden layer sizes of encoder and (mirrored) decoder.", low=1)
    latent_dim: int = param(8, "Size of the latent z: 8 reconstructs recognisably; 2 gives the "
                            "classic 2-D map and manifold (blurrier).",
                            low=1, ui_low=2, ui_high=64)
    beta: float = param(1.0, "β, weight of KL(q(z|x)‖N(0,I)): 1 is the ELBO, larger gives a "
                        "smoother, blurrier latent space (β-VAE).", low=0.0, log_scale=True,
                        ui_low=0.01, ui_high=10.0)


@register
class VariationalAutoencoder(Autoencoder):
    """Objective: min E_x [ −E_q log p(x|z) + β·KL(q(z|x) ‖ N(0, I)) ],  p(x|z) Bernoulli (summed BCE),
    q(z|x) = N(μ(x), diag σ²(x)), z = μ + σ·ε (reparameterisation). `encode` returns μ."""

    name = "vae"
    summary = "Variational autoencoder: a probabilistic code you can sample new digits from."
    config_class = VAEConfig
    objective_latex = (r"\min\ \mathbb{E}_{x}\Big[-\mathbb{E}_{q(z|x)} \log p(x|z) + \beta\,"
                       r"\mathrm{KL}\big(q(z|x) \,\Vert\, \mathcal{N}(0, I)\big)\Big]")
    code_activation = "identity"

    def build_encoder(self) -> nn.Module:
        c = self.config
        # Trunk: input → hidden (ReLU after each); heads give μ and log σ².
        trunk = mlp([c.input_dim, *c.hidden], "relu") if c.hidden else nn.Identity()
        width = c.hidden[-1] if c.hidden else c.input_dim
        self.mu_head = nn.Linear(width, c.latent_dim)
        self.logvar_head = nn.Linear(width, c.latent_dim)
        return trunk

    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, D) → (μ, log σ²), each (B, latent)."""
        h = self.encoder(x)
        return self.mu_head(h), self.logvar_head(h)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode_distribution(x)[0]

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mu, logvar = self.encode_distribution(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)   # reparameterisation
        recon = bernoulli_nll(self.decode(z), x).mean()
        kl = kl_to_standard_normal(mu, logvar).sum(dim=1).mean()
        return {"total": recon + self.config.beta * kl, "recon_bce": recon, "kl": kl}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images (n, D) decoded from z ~ N(0, I)."""
        z = torch.randn(n, self.config.latent_dim, generator=generator, device=self.device)
        return self.decode(z)


def bernoulli_nll(x_hat: torch.Tensor, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """−log p(x|z) per image (N,): binary cross-entropy summed over pixels.

    Written out rather than F.binary_cross_entropy, which raises on NaN input: a diverging run must
    reach the training loop's NaN check and its message, not crash inside the loss."""
    p = x_hat.clamp(eps, 1 - eps)
    return -(x * torch.log(p) + (1 - x) * torch.log1p(-p)).sum(dim=1)


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, 1)) per dimension: ½(μ² + σ² − 1 − log σ²)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)
