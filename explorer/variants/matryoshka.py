"""`matryoshka`: Matryoshka BatchTopK — nested prefixes of the dictionary must each reconstruct the image."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..params import param
from ..registry import register
from .base import Pass, Term
from .batch_topk import BatchTopKAutoencoder, BatchTopKConfig


@dataclass
class MatryoshkaConfig(BatchTopKConfig):
    prefixes: tuple[int, ...] = param((8, 16, 32), "Sizes m of the inner dolls: the first m units alone must "
                                      "reconstruct the image too (the whole code is the outermost doll). "
                                      "Strictly increasing, each below latent_dim; SAELens calls them "
                                      "matryoshka_widths.", low=1)

    def validate(self) -> None:
        super().validate()
        sizes = [*self.prefixes, self.latent_dim]
        if any(a >= b for a, b in zip(sizes[:-1], sizes[1:], strict=True)):
            raise ValueError(f"prefixes must increase strictly and stay below latent_dim ({self.latent_dim}), "
                             f"e.g. 8,16,32 for 64 units; got {','.join(map(str, self.prefixes)) or 'none'}")


@register
class MatryoshkaAutoencoder(BatchTopKAutoencoder):
    """Objective: min E Σ_{m ∈ M} ‖x − g(z_{1:m})‖² + α·AuxK,  z = BatchTopK_{kB}(ReLU(f(x))), with
    M = the prefixes and the full width, z_{1:m} the code with every unit after the m-th set to 0
    (Bussmann et al. 2025; Nabeshima 2025). The inner dolls make the first units learn the general,
    frequent features and later ones the details, instead of absorbing each other's."""

    name = "matryoshka"
    order = 95
    summary = "Matryoshka BatchTopK: the first m units alone must also reconstruct, for nested m."
    paper = ("Bussmann, Nabeshima, Karvonen & Nanda, Learning multi-level features with Matryoshka sparse "
             "autoencoders, arXiv:2503.17547 (2025); Nabeshima, Matryoshka sparse autoencoders (2025)")
    config_class = MatryoshkaConfig
    objective_latex = (r"\begin{gathered}"
                       r"\min\ \mathbb{E}_{x} \sum_{m \in \mathcal{M}} \lVert x - g(z_{1:m}) \rVert^2"
                       r" + \alpha\,\mathcal{L}_{\mathrm{aux}}"
                       r" \\ z = \mathrm{BatchTopK}_{kB}\big(\mathrm{ReLU}(W x + b)\big)\end{gathered}")
    config: MatryoshkaConfig
    penalty_terms = (*BatchTopKAutoencoder.penalty_terms,
                     Term("prefix_mse", "inner dolls' MSE", "Σ over the prefixes m of the per-pixel MSE of "
                          "the reconstruction from the first m units alone"))

    def penalties(self, out: Pass, x: torch.Tensor) -> dict[str, torch.Tensor]:
        units = torch.arange(self.config.latent_dim, device=out.z.device)          # (K,)
        inner = out.x_hat.new_zeros(())
        for m in self.config.prefixes:
            inner = inner + F.mse_loss(self.decode(out.z * (units < m)), x)
        return {**super().penalties(out, x), "prefix_mse": inner}
