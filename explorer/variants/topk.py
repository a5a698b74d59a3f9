"""`topk`: keep each image's k largest code units (ReLU after), plus the AuxK loss that revives dead units."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from ..params import param
from ..registry import register
from .base import Autoencoder, CodeKind, DictionaryConfig, Pass, Term

# A unit that fired on none of the last this-many training images is dead, for AuxK. Gao et al.
# count 10M tokens of a language model; a few hundred batches of digits is the same idea here.
DEAD_AFTER_IMAGES = 4096


def top_k_relu(pre: torch.Tensor, k: int | torch.Tensor) -> torch.Tensor:
    """Keep each row's k largest entries (ReLU'd), zeros elsewhere: (B, K) → (B, K), ≤ k non-zeros a row.

    k may be a () tensor, one k per model of a batch trained as one (explorer.batched): then each row
    keeps what reaches its k-th largest entry, the same code but for exact ties."""
    if isinstance(k, torch.Tensor):
        kth = pre.sort(dim=-1, descending=True).values.gather(-1, (k - 1).expand(*pre.shape[:-1], 1))   # (B, 1)
        return torch.where(pre >= kth, pre, torch.zeros_like(pre)).relu()
    top = pre.topk(k, dim=-1)
    return torch.zeros_like(pre).scatter(-1, top.indices, top.values.relu())


@dataclass
class TopKConfig(DictionaryConfig):
    k: int = param(10, "Units kept per image: the k largest pre-activations survive (then ReLU), so "
                   "no image ever uses more than k units.", low=1, ui_low=1, ui_high=64, symbol="k")
    aux_coeff: float = param(1 / 32, "α, weight of the AuxK loss, in which units that stopped firing "
                             "learn to explain what the live ones miss (Gao et al. use 1/32; 0 turns "
                             "it off).", low=0.0, log_scale=True, ui_low=1e-3, ui_high=1.0, symbol="α")

    def validate(self) -> None:
        super().validate()
        if self.k > self.latent_dim:
            raise ValueError(f"k must be at most latent_dim ({self.latent_dim}): an image cannot keep "
                             f"more units than the code has; got k={self.k}")


@register
class TopKAutoencoder(Autoencoder):
    """Objective: min E ‖x − g(z)‖² + α·AuxK,  z = ReLU(TopK_k(f(x))),  AuxK = ‖(x − x̂) − (g(z + z_aux) − g(z))‖²
    with z_aux the k_aux largest pre-activations of the dead units (Gao et al. 2024)."""

    name = "topk"
    order = 70
    summary = "TopK sparse autoencoder: every image keeps exactly its k strongest units."
    paper = "Gao et al., Scaling and evaluating sparse autoencoders, arXiv:2406.04093 (2024)"
    config_class = TopKConfig
    objective_latex = (r"\begin{gathered}"
                       r"\min\ \mathbb{E}_{x}\lVert x - g(z) \rVert^2 + \alpha\,\mathcal{L}_{\mathrm{aux}}"
                       r" \\ z = \mathrm{ReLU}\big(\mathrm{TopK}_k(W x + b)\big)\end{gathered}")
    config: TopKConfig
    images_since_fired: torch.Tensor      # (K,) a buffer: training state saved with the weights
    code_activation = "identity"          # the encoder gives pre-activations; `sparsify` makes the code
    code = CodeKind("top-k (ReLU)", 0.0)
    per_model_fields = ("k",)             # a tensor k is understood by the sparsifying step
    # SAELens's TopK activation takes the k largest pre-activations, then ReLUs them: our ReLU(TopK_k(pre)),
    # the same order. Exported with rescale_acts_by_decoder_norm=false: our selection reads pre itself.
    saelens_architecture = "topk"
    saelens_import = True
    penalty_terms: ClassVar[tuple[Term, ...]] = (
        Term("auxk", "AuxK loss", "how well the dead units would explain the residual the live ones leave "
             "(MSE per pixel)", weight="aux_coeff"),)

    def __init__(self, config: TopKConfig | None = None):
        super().__init__(config)
        # Training state kept with the weights: images seen since each unit last fired (AuxK's dead mask).
        self.register_buffer("images_since_fired", torch.zeros(self.config.latent_dim, dtype=torch.long))

    def sparsify(self, pre: torch.Tensor) -> torch.Tensor:
        return top_k_relu(pre, self.config.k)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.sparsify(self.encoder(x))

    def training_pass(self, x: torch.Tensor, draws: Mapping[str, torch.Tensor] | None = None) -> Pass:
        pre = self.encoder(x)                           # (B, K)
        z = self.sparsify(pre)
        return Pass(x, pre, z, self.decode(z))

    def penalties(self, out: Pass, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.training:
            with torch.no_grad():
                self.images_since_fired += len(x)
                self.images_since_fired.masked_fill_((out.z > 0).any(dim=0), 0)
        return {"auxk": self.auxk_loss(out, x, self.images_since_fired > DEAD_AFTER_IMAGES)}

    def target_firing_rate(self) -> float:
        return self.config.k / self.config.latent_dim

    def saelens_fields(self) -> dict[str, object]:
        return {"k": self.config.k, "rescale_acts_by_decoder_norm": False}

    @classmethod
    def saelens_params(cls, fields: Mapping[str, object]) -> dict[str, object]:
        return {"k": fields["k"]}

    def auxk_loss(self, out: Pass, x: torch.Tensor, dead: torch.Tensor) -> torch.Tensor:
        """The dead units' k_aux largest pre-activations, added to the live code, should explain the
        residual x − x̂ the live units leave. With a linear decoder ê = W_dec·z_aux, Gao et al.'s
        form; for ours ê = g(z + z_aux) − g(z), what the dead units would add to the reconstruction.
        No host sync: when few units are dead the unused slots stay zero and the scale shrinks."""
        k_aux = max(1, self.config.latent_dim // 2)
        candidates = out.pre.masked_fill(~dead, float("-inf"))          # (B, K) only dead units compete
        top = candidates.topk(k_aux, dim=-1)
        values = torch.where(torch.isfinite(top.values), top.values, torch.zeros_like(top.values))
        z_aux = torch.zeros_like(out.pre).scatter(-1, top.indices, values)  # raw: dead units sit below 0
        z_live = out.z.detach()
        explained = self.decode(z_live + z_aux) - self.decode(z_live)
        scale = (dead.sum() / k_aux).clamp(max=1.0)                     # few dead units, a small nudge
        return scale * F.mse_loss(explained, (x - out.x_hat).detach())
