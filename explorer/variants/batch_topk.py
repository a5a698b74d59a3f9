"""`batch_topk`: the k·B largest activations of a whole batch while training; a learned global
threshold at inference, so an image's L0 varies and averages about k."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..params import param
from ..registry import register
from .base import CodeKind, Metric, Pass
from .topk import TopKAutoencoder, TopKConfig

THRESHOLD_LR = 0.01   # the threshold follows the smallest kept activation, an exponential moving average


def batch_top_k_relu(pre: torch.Tensor, k: int | torch.Tensor) -> torch.Tensor:
    """Keep the k·B largest entries of the whole batch (ReLU'd): every image keeps k on average.

    k may be a () tensor (one per model of a batch trained as one): then what reaches the batch's
    (k·B)-th largest activation is kept, the same code but for exact ties."""
    acts = pre.relu()
    flat = acts.flatten()                                               # (B·K,)
    if isinstance(k, torch.Tensor):
        keep = (k * pre.shape[0]).clamp(max=flat.numel())
        kth = flat.sort(descending=True).values.gather(0, (keep - 1).reshape(1))         # (1,)
        return torch.where(acts >= kth, acts, torch.zeros_like(acts))
    top = flat.topk(min(k * pre.shape[0], flat.numel()))
    return torch.zeros_like(flat).scatter(0, top.indices, top.values).view_as(pre)


@dataclass
class BatchTopKConfig(TopKConfig):
    k: int = param(10, "Units kept per image on average: while training the k·B largest activations "
                   "of a batch of B images survive, so one image may use more units and another "
                   "fewer; at inference a learned threshold decides.", low=1, ui_low=1, ui_high=64,
                   symbol="k")


@register
class BatchTopKAutoencoder(TopKAutoencoder):
    """Objective: min E ‖x − g(z)‖² + α·AuxK,  z = BatchTopK_{k·B}(ReLU(f(x))) while training and
    z = f(x)·H(f(x) − θ) at inference, θ the running mean of the smallest kept activation."""

    name = "batch_topk"
    order = 80
    summary = "BatchTopK sparse autoencoder: k units per image on average, more for busy images."
    paper = "Bussmann, Leask & Nanda, BatchTopK sparse autoencoders, arXiv:2412.06410 (2024)"
    config_class = BatchTopKConfig
    objective_latex = (r"\begin{gathered}"
                       r"\min\ \mathbb{E}_{x}\lVert x - g(z) \rVert^2 + \alpha\,\mathcal{L}_{\mathrm{aux}}"
                       r" \\ z = \mathrm{BatchTopK}_{kB}\big(\mathrm{ReLU}(W x + b)\big)"
                       r" \\ \text{inference: } z = f(x)\,H\big(f(x) - \theta\big)\end{gathered}")
    config: BatchTopKConfig
    threshold: torch.Tensor               # () a buffer: the learned inference threshold θ
    code = CodeKind("batch top-k (ReLU, thresholded at inference)", 0.0)
    extra_metrics = (Metric("inference_threshold", "θ, the learned inference threshold"),)
    # SAELens saves a trained BatchTopK as a JumpReLU SAE, θ repeated for every unit: its encode
    # ReLU(pre)·H(pre − θ) is our pre·H(pre − θ), as θ ≥ 0. A SAELens JumpReLU folder reads back as `jumprelu`.
    saelens_architecture = "jumprelu"

    def __init__(self, config: BatchTopKConfig | None = None):
        super().__init__(config)
        self.register_buffer("threshold", torch.zeros(()))

    def sparsify(self, pre: torch.Tensor) -> torch.Tensor:
        if self.training:
            return batch_top_k_relu(pre, self.config.k)
        return pre * (pre > self.threshold)            # θ ≥ 0, so this is a ReLU with a jump

    def penalties(self, out: Pass, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.training:
            with torch.no_grad():        # θ ← (1 − lr)·θ + lr·(smallest kept activation), no host sync
                smallest = torch.where(out.z > 0, out.z, torch.full_like(out.z, float("inf"))).min()
                moved = (1 - THRESHOLD_LR) * self.threshold + THRESHOLD_LR * smallest
                self.threshold.copy_(torch.where(torch.isfinite(smallest), moved, self.threshold))
        return super().penalties(out, x)

    def unit_thresholds(self) -> torch.Tensor:
        return self.threshold.detach().expand(self.config.latent_dim)    # one θ for every unit

    def saelens_fields(self) -> dict[str, object]:
        return {}                         # SAELens's JumpReLU config has no k

    def saelens_tensors(self) -> dict[str, torch.Tensor]:
        return {"threshold": self.unit_thresholds()}

    def measure_extras(self, x: torch.Tensor) -> dict[str, float | list[float]]:
        return {"inference_threshold": float(self.threshold)}
