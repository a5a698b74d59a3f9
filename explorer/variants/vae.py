"""`vae`: Gaussian variational autoencoder with the reparameterisation trick and a β-weighted ELBO."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from ..params import param
from ..registry import register
from .base import GAUSSIAN_CODE, Autoencoder, AutoencoderConfig, Metric, Pass, Term, in_batches, linear_path, mlp


@dataclass
class VAEConfig(AutoencoderConfig):
    hidden: tuple[int, ...] = param((256,), "Hidden layer sizes of encoder and (mirrored) decoder.", low=1)
    latent_dim: int = param(8, "Size of the latent z: 8 reconstructs recognisably; 2 gives the "
                            "classic 2-D map and manifold (blurrier).",
                            low=1, ui_low=2, ui_high=64, symbol="latent")
    beta: float = param(1.0, "β, weight of KL(q(z|x)‖N(0,I)): 1 is the ELBO, larger gives a "
                        "smoother, blurrier latent space (β-VAE).", low=0.0, log_scale=True,
                        ui_low=0.01, ui_high=10.0, symbol="β")


@dataclass
class GaussianPass(Pass):
    logvar: torch.Tensor | None = None       # (B, K) log σ² of q(z|x); `pre` holds μ


@register
class VariationalAutoencoder(Autoencoder):
    """Objective: min E_x [ −E_q log p(x|z) + β·KL(q(z|x) ‖ N(0, I)) ],  p(x|z) Bernoulli (summed BCE),
    q(z|x) = N(μ(x), diag σ²(x)), z = μ + σ·ε (reparameterisation). `encode` returns μ."""

    name = "vae"
    order = 60
    summary = "Variational autoencoder: a probabilistic code you can sample new digits from."
    paper = "Kingma & Welling, Auto-encoding variational Bayes, ICLR 2014; Higgins et al., β-VAE, ICLR 2017"
    config_class = VAEConfig
    objective_latex = (r"\begin{gathered}\min\ \mathbb{E}_{x}\Big[-\mathbb{E}_{q(z|x)} \log p(x|z) \\ +\ \beta\,"
                       r"\mathrm{KL}\big(q(z|x) \,\Vert\, \mathcal{N}(0, I)\big)\Big]\end{gathered}")
    config: VAEConfig
    code_activation = "identity"
    code = GAUSSIAN_CODE
    objective_term = Term("nll", "−log p(x|z)", "binary cross-entropy summed over pixels, nats per image")
    penalty_terms = (Term("kl", "KL(q ‖ N(0, I))", "KL(q(z|x) ‖ N(0, I)), nats per image", weight="beta"),)
    extra_metrics = (Metric("kl_per_dim", "KL(q(z_j|x) ‖ N(0, 1)) per latent dimension (nats)", per_unit=True),)
    generative = True

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

    def draw(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        eps = torch.randn(len(x), self.config.latent_dim, generator=generator, device=x.device, dtype=x.dtype)
        return {"eps": eps}                                        # (B, latent) ε ~ N(0, I)

    def training_pass(self, x: torch.Tensor, draws: Mapping[str, torch.Tensor] | None = None) -> GaussianPass:
        mu, logvar = self.encode_distribution(x)
        z = mu + torch.exp(0.5 * logvar) * (draws or self.draw(x))["eps"]   # reparameterisation
        return GaussianPass(x, mu, z, self.decode(z), logvar)

    def objective(self, out: Pass, x: torch.Tensor) -> torch.Tensor:
        return bernoulli_nll(out.x_hat, x).mean()

    def penalties(self, out: Pass, x: torch.Tensor) -> dict[str, torch.Tensor]:
        assert isinstance(out, GaussianPass) and out.logvar is not None
        return {"kl": kl_to_standard_normal(out.pre, out.logvar).sum(dim=1).mean()}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images (n, D) decoded from z ~ N(0, I)."""
        z = torch.randn(n, self.config.latent_dim, generator=generator, device=self.device)
        return self.decode(z)

    @torch.no_grad()
    def measure_extras(self, x: torch.Tensor) -> dict[str, float | list[float]]:
        kl = in_batches(lambda batch: kl_to_standard_normal(*self.encode_distribution(batch)), x)   # (N, K)
        return {"kl_per_dim": kl.mean(dim=0).tolist()}

    def code_filters(self) -> torch.Tensor:
        # The code is μ: the trunk's layers, then the μ head.
        trunk = [m for m in self.encoder.modules() if isinstance(m, nn.Linear)]
        return linear_path([*trunk, self.mu_head])


def bernoulli_nll(x_hat: torch.Tensor, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """−log p(x|z) per image (N,): binary cross-entropy summed over pixels.

    Written out rather than F.binary_cross_entropy, which raises on NaN input: a diverging run must
    reach the training loop's NaN check and its message, not crash inside the loss."""
    p = x_hat.clamp(eps, 1 - eps)
    return -(x * torch.log(p) + (1 - x) * torch.log1p(-p)).sum(dim=1)


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, 1)) per dimension: ½(μ² + σ² − 1 − log σ²)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)
