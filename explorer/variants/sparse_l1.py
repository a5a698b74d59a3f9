"""`sparse_l1`: the seed's AE with an L1 penalty on the code, λ·‖z‖₁."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..params import param
from ..registry import register
from .base import Autoencoder, AutoencoderConfig, Pass, Term, decoder_param


@dataclass
class SparseL1Config(AutoencoderConfig):
    lam: float = param(1e-4, "λ, weight of the L1 penalty on the code: larger → fewer active units, "
                       "blurrier reconstructions (try 1e-5…1e-2).", low=0.0, log_scale=True,
                       ui_low=1e-5, ui_high=1e-2, symbol="λ")
    decoder: str = decoder_param()


@register
class SparseL1Autoencoder(Autoencoder):
    """Objective: min E [ ‖x − g(z)‖² + λ·‖z‖₁ ],  z = f(x) (ReLU code); l1 = batch mean of ‖z‖₁."""

    name = "sparse_l1"
    order = 20
    summary = "Sparse autoencoder with an L1 penalty λ·‖z‖₁ on the code."
    paper = "Goodfellow, Bengio & Courville, Deep Learning, §14.2.1 (2016)"
    config_class = SparseL1Config
    objective_latex = (r"\min_{\theta,\phi}\ \mathbb{E}_{x}\Big[\lVert x - g_\phi(z) \rVert^2"
                       r" + \lambda \lVert z \rVert_1\Big],\quad z = f_\theta(x)")
    config: SparseL1Config
    penalty_terms = (Term("l1", "‖z‖₁", "L1 norm of the code, per image", weight="lam"),)
    # With hidden=() and decoder=linear this is SAELens's StandardSAE: z = ReLU(W_enc·x + b_enc), trained
    # with an L1 penalty (SAELens weights it by ‖W_dec,j‖, which changes training, not the encode).
    saelens_architecture = "standard"
    saelens_import = True

    def start_from(self, x: torch.Tensor) -> None:
        """No mean-image start for an L1 code: started at the mean, the reconstruction's gradient is too weak
        to hold the ReLU code against λ, and every unit died within 4 epochs at λ = 3e-4 (measured on
        mnist-5k; from the grey start half of them live after 147 epochs). The L1 code keeps the seed's start."""

    def penalties(self, out: Pass, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"l1": out.z.abs().sum(dim=1).mean()}        # mean over the batch of ‖z‖₁
