"""The shared autoencoder skeleton: the config every variant has, the MLP builder, what a code is, and
the base model, which computes the reconstruction term and the total from what a variant declares."""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ..noise import NoiseSetting, add_noise
from ..params import Config, param

if TYPE_CHECKING:
    from ..checkpoint import ModelRecord

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "identity": nn.Identity}
BATCH = 2048   # images per forward pass when a whole split is encoded or reconstructed on the CPU …
ACCELERATOR_BATCH = 65536   # … and on a GPU: a whole test split (10,000 × 784 floats = 31 MB) in one pass
# 200 MB of weights (a VAE's second code head adds up to half again): 125× the largest shipped model, far
# beyond what these images need, within a laptop's reach. Checked on the config, before anything is built.
MAX_PARAMETERS = 50_000_000
MAX_HIDDEN_LAYERS = 32     # each side; a long list of tiny layers is few weights but slow to build and to run
DECODERS = ("sigmoid", "linear")   # the decoder's output: pixels squashed into [0, 1], or an additive dictionary
# A sigmoid's output bias starts at the logit of the mean image; pixels that are always 0 (an MNIST
# border) would need −∞, so the mean is clamped this far inside (0, 1): logit ±6.9.
MEAN_CLAMP = 1e-3


@dataclass
class AutoencoderConfig(Config):
    """Shape of the network; the seed's plain AE is 784-128-32 / 32-128-784."""

    input_dim: int = param(784, "Pixels per image (set from the dataset).", low=1)
    hidden: tuple[int, ...] = param((128,), "Hidden layer sizes between input and code, e.g. 128 or "
                                    "256,128; the decoder mirrors them. Empty for one layer.", low=1)
    latent_dim: int = param(32, "Size of the code z (the bottleneck).", low=1, ui_low=2, ui_high=256,
                            symbol="latent")

    def validate(self) -> None:
        super().validate()
        if len(self.hidden) > MAX_HIDDEN_LAYERS:
            raise ValueError(f"hidden lists {len(self.hidden):,} layers; the limit is {MAX_HIDDEN_LAYERS} (the seed's "
                             f"network has one)")
        sizes = [self.input_dim, *self.hidden, self.latent_dim]
        weights = 2 * sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))   # encoder + mirror
        if weights > MAX_PARAMETERS:
            gigabytes = 4 * weights / 2**30
            raise ValueError(f"this network would have {weights / 1e6:,.0f} million weights ({gigabytes:,.1f} GB, "
                             f"about four times that to train); the limit is {MAX_PARAMETERS / 1e6:.0f} million: "
                             f"use a smaller latent_dim or hidden layers")

    def output_activation(self) -> str:
        """The decoder's last activation: a sigmoid, so that every output pixel lies in [0, 1], unless a
        config with a `decoder` field (the sparse autoencoders) asks for a linear one."""
        return "identity" if getattr(self, "decoder", "sigmoid") == "linear" else "sigmoid"


def decoder_param() -> str:
    """The `decoder` field of the sparse-autoencoder configs: 'sigmoid' (the default) or 'linear'."""
    return param("sigmoid", "The decoder's output: 'sigmoid' squashes it into [0, 1] (pixels); 'linear' "
                 "leaves it additive, x̂ = W_dec·z + b_dec, a dictionary whose atoms add up, as in the "
                 "field's sparse autoencoders (SAELens).", choices=DECODERS)


@dataclass
class DictionaryConfig(AutoencoderConfig):
    """The sparse autoencoders' shape (SAE work's): one linear layer into a code of 64 units — a
    dictionary of 64 features — and its mirror."""

    hidden: tuple[int, ...] = param((), "Hidden layers before the code; none by default (one linear "
                                    "encoder layer, as in sparse-autoencoder work).", low=1)
    latent_dim: int = param(64, "Number of code units (the dictionary size).", low=1, ui_low=2,
                            ui_high=512, symbol="latent")
    decoder: str = decoder_param()


@dataclass(frozen=True)
class Term:
    """A number a variant's loss reports: its key in `loss()` and in training histories, its short
    title on charts and tables, what it is in a sentence, and (penalties only) the config field that
    weights it in the total."""

    name: str
    title: str
    about: str = ""
    weight: str | None = None


RECON_MSE = Term("recon_mse", "reconstruction MSE", "per-pixel MSE of the reconstruction of the clean input")
TOTAL = Term("total", "total loss", "what training minimises")


@dataclass(frozen=True)
class Metric:
    """An extra number a variant adds to `evaluate`: one value, or one per code unit."""

    name: str
    title: str
    per_unit: bool = False


@dataclass(frozen=True)
class CodeKind:
    """What a variant's code is, and so what 'active' means for it (L0, firing rates, dead units).

    For value codes a unit is active on an image when |z_j| > threshold: 0 for codes with exact
    zeros (ReLU, top-k, JumpReLU — L0 counts the non-zeros, as SAEBench does) and 0.5 for sigmoid
    codes (more on than off). A Gaussian code (a VAE's posterior mean) is dense on every image, so
    there a unit is active when its mean varies across images, Var_x z_j(x) > threshold (the 'active
    units' of Burda et al. 2016); an inactive one has collapsed to the prior: a dead unit."""

    name: str
    threshold: float
    on_variance: bool = False    # Gaussian codes: active = the unit's variance over images
    probability: bool = False    # z in [0, 1]: ρ̂_j = mean activation is a firing probability (KL view)
    exact_zeros: bool = True     # an inactive unit is exactly 0, so L0 counts the units the decoder uses;
    #                              False for dense codes (sigmoid, Gaussian), whose L0 compares only within
    signed: bool = False         # values on both sides of a mean (a Gaussian posterior mean): see `activity`
    choices: tuple[float, ...] = (0.0, 1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.2, 0.5)   # for a threshold slider

    @property
    def measured(self) -> str:
        """What the threshold is compared with."""
        return "Var over images of z_j" if self.on_variance else "|z_j|"

    def describe(self, threshold: float | None = None) -> str:
        """'|z_j| > 0' — what 'unit j is active' means, for labels and help texts."""
        return f"{self.measured} > {self.threshold if threshold is None else threshold:g}"

    def active(self, codes: torch.Tensor, threshold: float | None = None) -> torch.Tensor:
        """(N, K) codes → (N, K) bool: unit j active on image i."""
        t = self.threshold if threshold is None else threshold
        if self.on_variance:
            varies = codes.var(dim=0, unbiased=False) > t          # (K,)
            return varies.expand_as(codes)
        return codes.abs() > t

    def activity(self, codes: torch.Tensor, train_mean: torch.Tensor) -> torch.Tensor:
        """(N, K) codes → (N, K) how strongly each unit responds to each image, never negative (what class
        selectivity averages): |z_j| for value codes (z_j itself when it is never negative), and for a
        signed code |z_j − mean z_j|, the mean (K,) taken over the train split — a Gaussian unit says
        something by leaving its mean, in either direction."""
        return (codes - train_mean).abs() if self.signed else codes.abs()

    def active_among(self, new: torch.Tensor, reference: torch.Tensor, threshold: float | None = None) -> torch.Tensor:
        """(M, K) codes of new images → (M, K) bool, judged beside the reference codes (N, K) of a dataset:
        the same as `active` for value codes, while a Gaussian code's units are active or not by how
        they vary over the dataset — one image alone has no variance."""
        return self.active(torch.cat([reference, new]), threshold)[len(reference):]


RELU_CODE = CodeKind("ReLU", 0.0)
SIGMOID_CODE = CodeKind("sigmoid", 0.5, probability=True, exact_zeros=False)
GAUSSIAN_CODE = CodeKind("Gaussian (posterior mean)", 0.01, on_variance=True, exact_zeros=False, signed=True,
                         choices=(1e-3, 1e-2, 0.1, 0.5))


class DataMismatchError(ValueError):
    """A model cannot read a dataset's images: they have another size."""


@dataclass
class Pass:
    """One forward pass as training sees it, for the objective and the penalties."""

    x_in: torch.Tensor           # (B, D) what the encoder read: x, or a denoiser's corrupted x̃
    pre: torch.Tensor            # (B, K) the code before its sparsifying step (z where there is none)
    z: torch.Tensor              # (B, K) the code the decoder read (a sample, for the VAE)
    x_hat: torch.Tensor          # (B, D) the reconstruction

    # A variant that needs more from the pass (a VAE's log σ², a Jacobian) subclasses this.


def mlp(sizes: list[int], out_activation: str) -> nn.Sequential:
    """Linear layers with ReLU between them and out_activation after the last."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        last = i == len(sizes) - 2
        layers.append(ACTIVATIONS[out_activation]() if last else nn.ReLU())
    return nn.Sequential(*layers)


def linear_path(layers: list[nn.Linear]) -> torch.Tensor:
    """W_L ⋯ W_1: the product of the weight matrices, (n_out of the last, n_in of the first)."""
    product = layers[0].weight
    for layer in layers[1:]:
        product = layer.weight @ product
    return product


def batch_rows(x: torch.Tensor) -> int:
    """Rows of x per forward pass when all of x goes through a model: a cache-sized batch on the CPU,
    a whole split at once on an accelerator (each pass there costs a launch, not the rows)."""
    return BATCH if x.device.type == "cpu" else ACCELERATOR_BATCH


def in_batches(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """fn applied to x (N, D) batch_rows(x) rows at a time, the results joined along the first dimension."""
    rows = batch_rows(x)
    return torch.cat([fn(x[i:i + rows]) for i in range(0, len(x), rows)])


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[None]:
    """Eval mode and no gradients inside; the model's mode is restored after (a training run that
    measures itself keeps training; a shared, cached model stays in eval mode)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


class Autoencoder(nn.Module):
    """min E ‖x − g(f(x))‖² (MSE, mean per pixel) + Σ_i w_i·Ω_i, with f, g MLPs.

    A variant is one file in explorer/variants/: a subclass that declares its config, its code kind
    (what 'active' means), its objective term when it is not the clean reconstruction MSE, and its
    penalty terms Ω_i with the config field w_i that weights each. `loss` is computed here: the
    objective, the penalties, the weighted total and, for every variant alike, `recon_mse`."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    objective_latex: ClassVar[str] = ""        # the objective in one formula, for st.latex
    paper: ClassVar[str] = ""                  # where the objective comes from
    order: ClassVar[int] = 1000                # position in menus and listings
    config_class: ClassVar[type[AutoencoderConfig]] = AutoencoderConfig
    code_activation: ClassVar[str] = "relu"    # the encoder's last activation (the seed's AE: ReLU)
    code: ClassVar[CodeKind] = RELU_CODE
    objective_term: ClassVar[Term] = RECON_MSE
    penalty_terms: ClassVar[tuple[Term, ...]] = ()
    extra_metrics: ClassVar[tuple[Metric, ...]] = ()
    generative: ClassVar[bool] = False         # has a prior to sample new images from (`sample`)
    default_batch_size: ClassVar[int] = 128    # the seed's batch size for this variant
    # Config fields that may differ between models trained together as one computation
    # (explorer.batched), besides the penalty weights, which always may (they scale a term outside the
    # pass) and the seed: fields the training pass reads only in tensor arithmetic, or only in `draw`.
    per_model_fields: ClassVar[tuple[str, ...]] = ()
    demo_needs_full_budget: ClassVar[bool] = False   # a short demo run shows nothing useful
    # SAELens interop (explorer.saelens): the SAELens architecture whose inference encode this variant's
    # one-layer, linear-decoder form computes, or None: not exportable (the export message says why).
    # Subclasses inherit it; export checks that the written SAE gives the model's own codes, so one
    # that encodes otherwise is refused. `saelens_import` counts only where a class sets it itself:
    # a SAELens folder of that architecture is read back as this variant (one per architecture).
    saelens_architecture: ClassVar[str | None] = None
    saelens_import: ClassVar[bool] = False

    def __init__(self, config: AutoencoderConfig | None = None):
        super().__init__()
        self.config = config if config is not None else self.config_class()
        self.meta: ModelRecord | None = None      # what its checkpoint says, once loaded from one
        c = self.config
        self.encoder = self.build_encoder()
        self.decoder = mlp([c.latent_dim, *reversed(c.hidden), c.input_dim], c.output_activation())

    def build_encoder(self) -> nn.Module:
        c = self.config
        return mlp([c.input_dim, *c.hidden, c.latent_dim], self.code_activation)

    # -- the model ---------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, input_dim) in [0, 1] → code z (B, latent_dim)."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, latent_dim) → reconstruction (B, input_dim): in [0, 1] behind a sigmoid, additive
        behind a linear decoder (then a pixel may leave [0, 1] a little)."""
        return self.decoder(z)

    @property
    def linear_decoder(self) -> bool:
        """The decoder is additive, x̂ = W_dec·z + b_dec: a dictionary whose atoms add up, as SAELens's."""
        return self.config.output_activation() == "identity"

    def describe_decoder(self) -> str:
        """'sigmoid decoder' or 'linear decoder (an additive dictionary)': for labels on every page."""
        if self.linear_decoder:
            return "linear decoder (an additive dictionary)"
        return "sigmoid decoder (pixels in [0, 1])"

    def output_layer(self) -> nn.Linear:
        """The decoder's last linear layer, whose bias is the reconstruction of a code of zeros (one layer)."""
        return [m for m in self.decoder.modules() if isinstance(m, nn.Linear)][-1]

    def start_from(self, x: torch.Tensor) -> None:
        """Data-dependent initialisation, before training on images x (N, D): the decoder's output bias is
        set so that a code of zeros decodes to the mean training image, in the output's own units (its
        logit before a sigmoid). Started at 0 instead, every first reconstruction is sigmoid(0) = 0.5 grey
        against a mean MNIST pixel of 0.13, and units die pushing the background down (measured; SAELens
        starts b_dec from the data too). Variants with more to start extend this."""
        mean = x.mean(dim=0)                                                      # (D,)
        bias = mean if self.linear_decoder else torch.logit(mean.clamp(MEAN_CLAMP, 1 - MEAN_CLAMP))
        with torch.no_grad():
            self.output_layer().bias.copy_(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    # -- the objective -----------------------------------------------------------------------------
    def draw(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """The random numbers one training pass over x (B, D) needs, by name (none here): drawn before
        the pass, so that models trained as one batch each draw from their own stream (`generator`;
        None: the global one) exactly what each would draw trained alone."""
        return {}

    def training_pass(self, x: torch.Tensor, draws: Mapping[str, torch.Tensor] | None = None) -> Pass:
        """What the loss needs from one pass over a batch x (B, D); draws as `draw` makes them (None:
        drawn here)."""
        z = self.encode(x)
        return Pass(x, z, z, self.decode(z))

    def objective(self, out: Pass, x: torch.Tensor) -> torch.Tensor:
        """The data-fit term named by `objective_term`: MSE of the reconstruction against clean x."""
        return F.mse_loss(out.x_hat, x)

    def penalties(self, out: Pass, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The value of each declared penalty term, unweighted; none for the plain autoencoder."""
        return {}

    def loss(self, x: torch.Tensor, draws: Mapping[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """Named loss terms; `total` is what training minimises, `recon_mse` the clean reconstruction's
        per-pixel MSE (the same meaning for every variant)."""
        terms = self.unweighted_terms(x, draws)
        return {TOTAL.name: self.total_of(terms, self.penalty_weights()), **terms}

    def unweighted_terms(self, x: torch.Tensor, draws: Mapping[str, torch.Tensor] | None = None
                         ) -> dict[str, torch.Tensor]:
        """Every term of `loss` but the total: the objective, each penalty unweighted, `recon_mse`."""
        out = self.training_pass(x, draws)
        terms = {self.objective_term.name: self.objective(out, x), **self.penalties(out, x)}
        if RECON_MSE.name not in terms:
            with torch.no_grad():      # reported, not trained on: the model's reconstruction of clean x
                terms[RECON_MSE.name] = F.mse_loss(self(x), x)
        return terms

    def penalty_weights(self) -> dict[str, float]:
        """Each penalty term's weight in the total, from the config (1 for an unweighted term)."""
        return {t.name: float(getattr(self.config, t.weight)) if t.weight else 1.0 for t in self.penalty_terms}

    @classmethod
    def total_of(cls, terms: Mapping[str, torch.Tensor], weights: Mapping[str, float | torch.Tensor]) -> torch.Tensor:
        """objective + Σ_i w_i·Ω_i; weights may be (N,) tensors, one weight per model of a batch."""
        total = terms[cls.objective_term.name]
        for term in cls.penalty_terms:
            total = total + weights[term.name] * terms[term.name]
        return total

    @classmethod
    def terms(cls) -> tuple[Term, ...]:
        """Every term `loss` reports, in the order training histories list them."""
        own = (cls.objective_term, *cls.penalty_terms)
        return (TOTAL, *own) + (() if RECON_MSE in own else (RECON_MSE,))

    @classmethod
    def term_titles(cls) -> dict[str, str]:
        """Every term `loss` reports → its short title."""
        return {t.name: t.title for t in cls.terms()}

    @classmethod
    def charted_terms(cls) -> tuple[Term, ...]:
        """The terms worth a chart: all of them, but the total only when penalties make it differ from
        the objective (the plain autoencoder's total is its MSE: one panel, not two alike)."""
        return tuple(t for t in cls.terms() if t != TOTAL or cls.penalty_terms)

    def check_fits(self, dataset_name: str, input_dim: int, image_shape: tuple[int, int]) -> None:
        """A model made for 64-pixel images cannot read 784-pixel ones: DataMismatchError saying so."""
        if self.config.input_dim != input_dim:
            trained_on = self.meta.dataset if self.meta is not None else "another dataset"
            raise DataMismatchError(f"this {self.name} model reads {self.config.input_dim}-pixel images (trained on "
                                    f"{trained_on}), but {dataset_name} has {input_dim}-pixel images "
                                    f"({image_shape[0]}×{image_shape[1]}). Pick the dataset it was trained on, "
                                    f"or train a new model.")

    # -- what the rest of the product asks ---------------------------------------------------------
    def target_firing_rate(self) -> float | None:
        """The fraction of images each unit is meant to be active on, if the variant sets one."""
        return None

    def unit_thresholds(self) -> torch.Tensor | None:
        """(K,) the learned cut-off below which each unit outputs exactly 0, if the variant learns one."""
        return None

    def training_noise(self) -> NoiseSetting | None:
        """The corruption this model was trained to remove (denoisers), shown by default at inference."""
        return None

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n new images (n, D) from the model's prior (generative variants only)."""
        raise NotImplementedError(f"{self.name} is not generative: it has no prior to sample from")

    def measure_extras(self, x: torch.Tensor) -> dict[str, float | list[float]]:
        """The values of `extra_metrics` on images x (N, D), computed in eval mode."""
        return {}

    def code_filters(self) -> torch.Tensor:
        """(K, D) input-space filter of each code unit: the product of the encoder's weight matrices.

        Exact for a one-layer encoder; for deeper ones the linear path through the layers, ignoring
        the ReLUs — the usual quick look at what a unit reads."""
        return linear_path([m for m in self.encoder.modules() if isinstance(m, nn.Linear)])

    def decoder_atoms(self) -> torch.Tensor:
        """(K, D) what each code unit adds to the picture: its decoder atom, column j of W_dec (for a
        deeper decoder the linear path through its layers, ignoring the ReLUs). Behind a linear decoder
        x̂ = Σ_j z_j·atom_j + b_dec exactly; behind a sigmoid the atom adds to the logit, before the squash."""
        return linear_path([m for m in self.decoder.modules() if isinstance(m, nn.Linear)]).T

    # -- SAELens interop (explorer.saelens moves W_enc, b_enc, W_dec, b_dec; these add the rest) ---------
    def saelens_fields(self) -> dict[str, object]:
        """SAELens config fields of this variant's architecture beyond the shared ones (TopK's k), for export."""
        return {}

    def saelens_tensors(self) -> dict[str, torch.Tensor]:
        """SAELens tensors beyond W_enc, b_enc, W_dec, b_dec (JumpReLU's threshold, (K,)), for export."""
        return {}

    @classmethod
    def saelens_params(cls, fields: Mapping[str, object]) -> dict[str, object]:
        """Our hyperparameters from a checked SAELens config of this variant's architecture (TopK's k)."""
        return {}

    def load_saelens_tensors(self, tensors: Mapping[str, torch.Tensor]) -> None:
        """Take the architecture's extra tensors (checked: finite, (K,)) when a SAELens SAE is imported."""

    # -- whole splits, in batches, in eval mode ----------------------------------------------------
    def encode_all(self, x: torch.Tensor) -> torch.Tensor:
        """Codes (N, K) of every row of x."""
        with evaluating(self):
            return in_batches(self.encode, x)

    def reconstruct_all(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstructions (N, D) of every row of x."""
        with evaluating(self):
            return in_batches(self, x)

    def reconstruct_noisy(self, x: torch.Tensor, noise: NoiseSetting | None,
                          seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """(what the model saw, its reconstruction): x corrupted by `noise` (same seed, same noise),
        or x itself when noise is None or zero."""
        inputs = x
        if noise is not None and noise.level > 0:
            inputs = add_noise(x, noise.kind, noise.level, torch.Generator(device=x.device).manual_seed(seed))
        return inputs, self.reconstruct_all(inputs)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device
