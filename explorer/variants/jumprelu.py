"""`jumprelu`: z·H(z − θ) with a learned threshold per unit, trained through straight-through
estimators, and an L0 penalty λ·‖z‖₀."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ..params import param
from ..registry import register
from .base import Autoencoder, CodeKind, DictionaryConfig, Metric, Pass, Term

# θ starts just above zero, so at first a JumpReLU is a ReLU: a start above the initial
# pre-activations (std ≈ 0.2) would silence units for good, as nothing below θ gets a gradient.
INITIAL_THRESHOLD = 0.01
# Adam moves a parameter by about lr per step whatever the size of its gradient, so a plain log θ
# changes e-fold per 1/lr = 1,000 steps: climbing from 0.01 to the pre-activations' scale (≈ 1–5)
# would take longer than a demo trains, and λ would seem to do nothing. θ = exp(SPEED · u) lets the
# threshold cover log-space SPEED times faster.
THRESHOLD_SPEED = 10.0


def rectangle(u: torch.Tensor) -> torch.Tensor:
    """The kernel K(u) = 1 on (−½, ½), 0 elsewhere."""
    return ((u > -0.5) & (u < 0.5)).to(u.dtype)


class JumpReLUFunction(torch.autograd.Function):
    """z = x·H(x − θ). Backward: ∂z/∂x = H(x − θ); ∂z/∂θ ≈ −(θ/ε)·K((x − θ)/ε), the straight-through
    estimator of Rajamanoharan et al. 2024 (the true derivative in θ is zero almost everywhere)."""

    generate_vmap_rule = True      # models trained as one batch (explorer.batched) call it under vmap

    @staticmethod
    def forward(x: torch.Tensor, threshold: torch.Tensor, bandwidth: float) -> torch.Tensor:
        return x * (x > threshold)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
        x, threshold, ctx.bandwidth = inputs
        ctx.save_for_backward(x, threshold)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        x, threshold = ctx.saved_tensors
        eps = ctx.bandwidth
        grad_x = (x > threshold) * grad
        grad_threshold = (-(threshold / eps) * rectangle((x - threshold) / eps) * grad).sum(dim=0)
        return grad_x, grad_threshold, None


class StepFunction(torch.autograd.Function):
    """H(x − θ), the count behind L0. Backward: no gradient to x; ∂H/∂θ ≈ −(1/ε)·K((x − θ)/ε)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, threshold: torch.Tensor, bandwidth: float) -> torch.Tensor:
        return (x > threshold).to(x.dtype)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
        x, threshold, ctx.bandwidth = inputs
        ctx.save_for_backward(x, threshold)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[None, torch.Tensor, None]:
        x, threshold = ctx.saved_tensors
        eps = ctx.bandwidth
        return None, (-(1.0 / eps) * rectangle((x - threshold) / eps) * grad).sum(dim=0), None


@dataclass
class JumpReLUConfig(DictionaryConfig):
    lam: float = param(1e-3, "λ, weight of the L0 penalty (active units per image): larger → fewer "
                       "units per image, each threshold θ_j pushed up (try 1e-5…1e-2).", low=0.0,
                       log_scale=True, ui_low=1e-5, ui_high=1e-2, symbol="λ")
    bandwidth: float = param(2.0, "ε, width of the window around θ_j through which the threshold "
                             "learns (the straight-through estimator), in units of the pre-activation "
                             "(about 3–5 on digits): wider → steadier but more biased gradients; too "
                             "narrow and θ never leaves its start within the step budget.", low=0.0,
                             low_open=True, log_scale=True, ui_low=0.05, ui_high=10.0, symbol="ε")


@register
class JumpReLUAutoencoder(Autoencoder):
    """Objective: min E ‖x − g(z)‖² + λ·‖z‖₀,  z = f(x)·H(f(x) − θ), θ_j > 0 learned per unit
    (Rajamanoharan et al. 2024)."""

    name = "jumprelu"
    order = 90
    summary = "JumpReLU sparse autoencoder: each unit learns its own threshold; L0 is penalised directly."
    paper = ("Rajamanoharan et al., Jumping ahead: improving reconstruction fidelity with JumpReLU sparse "
             "autoencoders, arXiv:2407.14435 (2024)")
    config_class = JumpReLUConfig
    objective_latex = (r"\begin{gathered}\min\ \mathbb{E}_{x}\lVert x - g(z) \rVert^2 + \lambda \lVert z \rVert_0"
                       r" \\ z_j = f_j(x)\,H\big(f_j(x) - \theta_j\big)\end{gathered}")
    config: JumpReLUConfig
    code_activation = "identity"          # the encoder gives pre-activations; the jump makes the code
    code = CodeKind("JumpReLU", 0.0)
    penalty_terms = (Term("l0", "‖z‖₀", "active units per image (through a straight-through estimator)", weight="lam"),)
    extra_metrics = (Metric("unit_threshold", "θ_j, the learned threshold of each unit", per_unit=True),)
    # SAELens's JumpReLU encode is ReLU(pre)·H(pre − θ): our pre·H(pre − θ), as our θ > 0.
    saelens_architecture = "jumprelu"
    saelens_import = True

    def __init__(self, config: JumpReLUConfig | None = None):
        super().__init__(config)
        # θ = exp(SPEED · log_threshold): positive whatever the optimiser does, and quick to move
        start = math.log(INITIAL_THRESHOLD) / THRESHOLD_SPEED
        self.log_threshold = torch.nn.Parameter(torch.full((self.config.latent_dim,), start))

    @property
    def threshold(self) -> torch.Tensor:
        """θ (K,), each unit's threshold."""
        return (THRESHOLD_SPEED * self.log_threshold).exp()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.encoder(x)
        return pre * (pre > self.threshold)

    def training_pass(self, x: torch.Tensor, draws: Mapping[str, torch.Tensor] | None = None) -> Pass:
        pre = self.encoder(x)                                               # (B, K)
        z = JumpReLUFunction.apply(pre, self.threshold, self.config.bandwidth)
        return Pass(x, pre, z, self.decode(z))

    def penalties(self, out: Pass, x: torch.Tensor) -> dict[str, torch.Tensor]:
        active = StepFunction.apply(out.pre, self.threshold, self.config.bandwidth)   # (B, K) 0/1
        return {"l0": active.sum(dim=1).mean()}

    def unit_thresholds(self) -> torch.Tensor:
        return self.threshold.detach()

    def saelens_tensors(self) -> dict[str, torch.Tensor]:
        return {"threshold": self.unit_thresholds()}

    def load_saelens_tensors(self, tensors: Mapping[str, torch.Tensor]) -> None:
        # A SAELens θ_j ≤ 0 makes unit j a plain ReLU; ours must stay positive, so it becomes float32's
        # smallest normal number, which differs only for 0 < pre ≤ 1.2e-38.
        floor = torch.finfo(torch.float32).tiny
        theta = tensors["threshold"].to(torch.float64).clamp(min=floor)                 # (K,)
        with torch.no_grad():
            self.log_threshold.copy_(theta.log() / THRESHOLD_SPEED)

    def measure_extras(self, x: torch.Tensor) -> dict[str, float | list[float]]:
        return {"unit_threshold": self.unit_thresholds().tolist()}
