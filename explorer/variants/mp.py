"""`mp`: the matching-pursuit sparse autoencoder — k greedy steps, each taking the atom most correlated
with what is left of the image."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from ..params import param
from ..registry import register
from .base import Autoencoder, CodeKind, DictionaryConfig, Pass

NORM_FLOOR = 1e-8     # an atom's norm is at least this before dividing, so an all-zero atom stays finite


@dataclass
class MatchingPursuitConfig(DictionaryConfig):
    k: int = param(10, "Greedy steps per image: each takes the atom most correlated with the residual, so "
                   "an image uses at most k units (fewer when a step picks an atom again).", low=1, ui_low=1,
                   ui_high=64, symbol="k")
    decoder: str = param("linear", "Matching pursuit subtracts atoms from the image itself, so its decoder is "
                         "linear: x̂ = Σ_j z_j·d_j + b_dec with unit-norm atoms d_j.", choices=("linear",))

    def validate(self) -> None:
        super().validate()
        if self.hidden:
            raise ValueError("matching pursuit works on the image itself: hidden must be empty (no hidden "
                             f"layers); got {','.join(map(str, self.hidden))}")
        if self.k > self.latent_dim:
            raise ValueError(f"k must be at most latent_dim ({self.latent_dim}); got k={self.k}")


@register
class MatchingPursuitAutoencoder(Autoencoder):
    """Objective: min E ‖x − (D z + b)‖²,  z from k steps of matching pursuit on r₀ = x − b:
    j_t = argmax_j ⟨r_t, d_j⟩,  z_{j_t} += ⟨r_t, d_{j_t}⟩,  r_{t+1} = r_t − ⟨r_t, d_{j_t}⟩·d_{j_t},
    with unit-norm atoms d_j, the columns of D (Costa et al. 2025; `overcomplete`'s MpSAE). The
    encoder has no weights of its own: each step reads the residual through the dictionary, so an
    atom that explains a stroke removes it before the next one is chosen — correlated features are
    not picked twice for the same stroke, as a one-shot encoder may."""

    name = "mp"
    order = 100
    summary = "Matching-pursuit sparse autoencoder: k greedy steps, each taking the atom that best fits the residual."
    paper = ("Costa, Fel, Lubana, Tolooshams & Ba, From flat to hierarchical: extracting sparse representations "
             "with matching pursuit, arXiv:2506.03093 (2025)")
    config_class = MatchingPursuitConfig
    objective_latex = (r"\begin{gathered}\min\ \mathbb{E}_{x}\lVert x - (Dz + b) \rVert^2"
                       r" \\ j_t = \arg\max_j \langle r_t, d_j \rangle,\ z_{j_t} \mathrel{+}= \langle r_t, d_{j_t}"
                       r" \rangle \\ r_{t+1} = r_t - \langle r_t, d_{j_t} \rangle d_{j_t}\end{gathered}")
    config: MatchingPursuitConfig
    code = CodeKind("matching pursuit", 0.0)

    def build_encoder(self) -> nn.Module:
        return nn.Identity()          # the dictionary is the encoder: each step reads the residual through it

    def dictionary(self) -> torch.Tensor:
        """(K, D) the unit-norm atoms d_j (the decoder's columns, normalised)."""
        weight = self.output_layer().weight.T                                        # (K, D)
        return weight / weight.norm(dim=1, keepdim=True).clamp(min=NORM_FLOOR)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        atoms = self.dictionary()                                                    # (K, D)
        # The residual itself is never needed, only its fit to each atom: taking v·d_j from r takes
        # v·⟨d_j, d_i⟩ from ⟨r, d_i⟩, so each step costs a (B, K) @ (K, K) product, not (B, D) @ (D, K).
        fit = (x - self.output_layer().bias) @ atoms.T                               # (B, K) ⟨r₀, d_j⟩
        gram = atoms @ atoms.T                                                       # (K, K) ⟨d_i, d_j⟩
        z = torch.zeros_like(fit)                                                    # (B, K)
        for _ in range(self.config.k):
            value, index = fit.max(dim=1, keepdim=True)                              # (B, 1) each
            step = torch.zeros_like(z).scatter(1, index, value)                      # (B, K) one atom a row
            z = z + step
            fit = fit - step @ gram
        return z

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.dictionary() + self.output_layer().bias

    def training_pass(self, x: torch.Tensor, draws: Mapping[str, torch.Tensor] | None = None) -> Pass:
        z = self.encode(x)
        return Pass(x, z, z, self.decode(z))

    def target_firing_rate(self) -> float:
        return self.config.k / self.config.latent_dim

    def code_filters(self) -> torch.Tensor:
        """(K, D) what each unit reads: its own atom (the first step correlates the image with it)."""
        return self.dictionary()

    def decoder_atoms(self) -> torch.Tensor:
        return self.dictionary()
