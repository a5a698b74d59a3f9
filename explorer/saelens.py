"""SAELens interop: a one-layer, linear-decoder SAE of ours as SAELens's folder, and such a folder back as ours.

The layout is what SAELens 6.x's `SAE.save_model` writes and `SAE.load_from_disk` reads (read from its
source, v6.18.0: sae_lens/saes/sae.py, standard_sae.py, topk_sae.py, jumprelu_sae.py, batchtopk_sae.py,
loading/pretrained_sae_loaders.py): `cfg.json` (architecture, d_in, d_sae, dtype, device,
apply_b_dec_to_input, normalize_activations, reshape_activations, the architecture's own fields such as
TopK's k, and metadata with sae_lens_version) and `sae_weights.safetensors` with W_enc (d_in, d_sae),
b_enc (d_sae,), W_dec (d_sae, d_in), b_dec (d_in,), and threshold (d_sae,) for JumpReLU. SAELens encodes
z = act((x − b_dec·[apply_b_dec_to_input])·W_enc + b_enc) and decodes x̂ = z·W_dec + b_dec; our encoder
reads x itself, so an import folds the input's b_dec into b_enc (b_enc − b_dec·W_enc) and an export
writes apply_b_dec_to_input = false. Which variant is which architecture is the variants' own say
(`Autoencoder.saelens_architecture` and the hooks beside it); the SAELens side is described here."""
from __future__ import annotations

import copy
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import FORMAT, ModelRecord
from .datasets import DATASETS, Dataset
from .registry import build_model, get_variant, variant_names
from .variants.base import MAX_PARAMETERS, Autoencoder

CFG_FILENAME = "cfg.json"
WEIGHTS_FILENAME = "sae_weights.safetensors"
SAELENS_VERSION = "6.18.0"      # the version whose layout is written; ≥ 6 tells its loader "no pre-6.0 defaults"
HOOK_NAME = "pixels"            # what the SAE reads: SAELens's hook names name a language model's activations
MAX_CFG_BYTES = 1 << 20         # a cfg.json is a few hundred bytes; anything near this is not one
# The largest SAE a model of ours can hold, every weight in float64, plus the file's JSON header.
MAX_WEIGHTS_BYTES = 8 * MAX_PARAMETERS + (16 << 20)
PROBE_IMAGES = 256              # random images on which an export checks SAELens's codes against ours
CORE_TENSORS = ("W_enc", "b_enc", "W_dec", "b_dec")
SAFETENSORS_FLOATS = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32, "F64": torch.float64}
PRE_6_ACTIVATIONS = {"relu": "standard", "topk": "topk"}   # a pre-6.0 activation_fn → its architecture
DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,      # SAELens's DTYPE_MAP
          "bfloat16": torch.bfloat16, "torch.float32": torch.float32, "torch.float64": torch.float64,
          "torch.float16": torch.float16, "torch.bfloat16": torch.bfloat16}


class InteropError(ValueError):
    """A model cannot be exported, or a folder imported; the message says why and what to do."""


# -- what SAELens's inference SAEs compute (their `encode` after `process_sae_in`) -------------------------
def _relu(pre: torch.Tensor, sae: SAELensSAE) -> torch.Tensor:
    return pre.relu()


def _top_k(pre: torch.Tensor, sae: SAELensSAE) -> torch.Tensor:
    """SAELens's TopK: the k largest pre-activations of each row, ReLU'd; zeros elsewhere."""
    top = pre.topk(int(sae.k or 0), dim=-1)
    return torch.zeros_like(pre).scatter(-1, top.indices, top.values.relu())


def _jump_relu(pre: torch.Tensor, sae: SAELensSAE) -> torch.Tensor:
    """SAELens's JumpReLU: ReLU(pre)·H(pre − θ), θ (d_sae,)."""
    return pre.relu() * (pre > sae.tensors["threshold"].to(pre.dtype))


@dataclass(frozen=True)
class Architecture:
    """One of SAELens's inference SAE classes: its activation, and what it holds beyond the four tensors."""

    activation: Callable[[torch.Tensor, SAELensSAE], torch.Tensor]
    extra_tensors: tuple[str, ...] = ()
    has_k: bool = False         # TopKSAEConfig: k and rescale_acts_by_decoder_norm


ARCHITECTURES = {"standard": Architecture(_relu), "topk": Architecture(_top_k, has_k=True),
                 "jumprelu": Architecture(_jump_relu, ("threshold",))}


@dataclass(frozen=True)
class SAELensSAE:
    """An SAE as a SAELens folder holds it, checked: cfg.json's values and its tensors as stored (float64,
    nothing folded). `encode` and `decode` compute what SAELens's own classes do with them."""

    architecture: str
    d_in: int
    d_sae: int
    apply_b_dec_to_input: bool
    k: int | None = None                          # topk only
    rescale_acts_by_decoder_norm: bool = False    # topk only: select on pre·‖W_dec,j‖, decode z/‖W_dec,j‖
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ""                              # the folder, for messages

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, d_in) → codes (N, d_sae), in x's dtype."""
        t = {name: value.to(x.dtype) for name, value in self.tensors.items()}
        pre = (x - t["b_dec"] * self.apply_b_dec_to_input) @ t["W_enc"] + t["b_enc"]      # (N, d_sae)
        if self.rescale_acts_by_decoder_norm:
            pre = pre * t["W_dec"].norm(dim=-1)
        return ARCHITECTURES[self.architecture].activation(pre, self)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """codes (N, d_sae) → reconstructions (N, d_in)."""
        t = {name: value.to(z.dtype) for name, value in self.tensors.items()}
        if self.rescale_acts_by_decoder_norm:
            z = z / t["W_dec"].norm(dim=-1)
        return z @ t["W_dec"] + t["b_dec"]

    def describe(self) -> str:
        """'topk SAE (d_in 64, d_sae 32, k 10)', for messages."""
        k = f", k {self.k}" if self.k is not None else ""
        return f"{self.architecture} SAE (d_in {self.d_in}, d_sae {self.d_sae}{k})"


# -- export ---------------------------------------------------------------------------------------------
def exportable_variants() -> list[str]:
    """The variants whose one-layer, linear-decoder models SAELens can hold."""
    return [name for name in variant_names() if get_variant(name).saelens_architecture is not None]


def saelens_state(model: Autoencoder, dataset: str | None = None) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(cfg.json as a dict, the tensors (float32, CPU)) of model as SAELens holds it; InteropError naming
    what does not fit (no such architecture, hidden layers, a sigmoid decoder, non-finite weights, a code
    that SAELens's encode of those tensors does not reproduce)."""
    architecture = model.saelens_architecture
    if architecture is None:
        raise InteropError(f"this {model.name} model cannot be exported to SAELens: SAELens has no architecture that "
                           f"computes its code; exportable variants: {', '.join(exportable_variants())}")
    encoders = [m for m in model.encoder.modules() if isinstance(m, nn.Linear)]
    if model.config.hidden or len(encoders) != 1:
        layers = ",".join(map(str, model.config.hidden))
        raise InteropError(f"export needs a one-layer SAE (--param hidden=''); this model has hidden layers "
                           f"{layers or 'beyond its encoder layer'}, which SAELens's W_enc cannot hold")
    if not model.linear_decoder:
        raise InteropError(f"export needs --param decoder=linear; this model has a {model.describe_decoder()}, "
                           f"and SAELens's decoder is additive (x̂ = z·W_dec + b_dec)")
    decoder = model.output_layer()
    tensors = {"W_enc": encoders[0].weight.T, "b_enc": encoders[0].bias,       # (D, K), (K,)
               "W_dec": decoder.weight.T, "b_dec": decoder.bias,               # (K, D), (D,)
               **model.saelens_tensors()}
    tensors = {name: t.detach().cpu().float().contiguous().clone() for name, t in tensors.items()}
    broken = [name for name, t in tensors.items() if not torch.isfinite(t).all()]
    if broken:
        raise InteropError(f"this model's {', '.join(broken)} hold non-finite values (NaN or ±inf): nothing to "
                           f"export; train it again (a lower --lr)")
    trained_on = dataset or (model.meta.dataset if model.meta is not None else None)
    cfg: dict[str, Any] = {
        "architecture": architecture, "d_in": model.config.input_dim, "d_sae": model.config.latent_dim,
        "dtype": "float32", "device": "cpu", "apply_b_dec_to_input": False, "normalize_activations": "none",
        "reshape_activations": "none", **model.saelens_fields(),
        "metadata": {"sae_lens_version": SAELENS_VERSION,
                     "sae_lens_training_version": None,       # trained by Autoencoder Explorer, not SAELens
                     "model_name": None, "hook_name": HOOK_NAME, "hook_head_index": None,
                     "dataset_path": trained_on,
                     "ae_explorer": {"format": FORMAT, "variant": model.name, "config": model.config.to_dict()}},
    }
    _check_same_codes(model, parse_config(cfg, "the export", tensors))
    return cfg, tensors


def _check_same_codes(model: Autoencoder, sae: SAELensSAE) -> None:
    """SAELens's encode and decode of the written tensors must give the model's own codes and reconstructions
    (in float64 on random images, so float rounding cannot flip a top-k choice or a threshold)."""
    ours = copy.deepcopy(model).cpu().double().eval()
    probe = torch.rand(PROBE_IMAGES, sae.d_in, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with torch.no_grad():
        z_ours = ours.encode(probe)                                            # (N, K)
        z_theirs = sae.encode(probe)
        x_gap = (ours.decode(z_ours) - sae.decode(z_theirs)).abs().max().item()
        gap = max((z_ours - z_theirs).abs().max().item(), x_gap)
    if gap > 1e-9 * (1 + z_theirs.abs().max().item()):
        raise InteropError(f"this {model.name} model's code is not what SAELens's {sae.architecture} SAE computes from "
                           f"its weights (they differ by up to {gap:.3g} on random images), so it cannot be "
                           f"exported as {sae.architecture}")


def export_saelens(model: Autoencoder, out_dir: str | os.PathLike, dataset: str | None = None) -> Path:
    """Write model as a SAELens SAE folder out_dir (cfg.json + sae_weights.safetensors), whole or not at all:
    filled as a temporary folder beside it, then renamed into place. An existing non-empty out_dir is
    never overwritten (the rename itself refuses one, so two exports at once cannot both land)."""
    from safetensors.torch import save_file

    cfg, tensors = saelens_state(model, dataset)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InteropError(f"{out} is a file; give a folder to create for the SAE")
    if out.is_dir() and any(out.iterdir()):
        raise InteropError(f"{out} already holds files; give a new folder (an export never overwrites)")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        save_file(tensors, staging / WEIGHTS_FILENAME)
        (staging / CFG_FILENAME).write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        for name in (WEIGHTS_FILENAME, CFG_FILENAME):
            with open(staging / name, "rb") as handle:
                os.fsync(handle.fileno())
            (staging / name).chmod(0o644)
        staging.chmod(0o755)               # mkdtemp's 0700 (and safetensors' 0600) would hide it from others
        try:
            os.rename(staging, out)        # onto nothing or an empty folder; fails on a non-empty one
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise InteropError(f"{out} appeared while exporting and is not empty; nothing was "
                                   f"overwritten") from None
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


# -- import ---------------------------------------------------------------------------------------------
def import_variant(architecture: str) -> type[Autoencoder] | None:
    """The variant a SAELens folder of this architecture is read back as: the one whose class itself sets
    `saelens_import` for it (a subclass does not inherit the claim)."""
    claims = [get_variant(name) for name in variant_names()]
    found = [cls for cls in claims if cls.saelens_architecture == architecture and vars(cls).get("saelens_import")]
    if len(found) > 1:
        raise RuntimeError(f"variants {', '.join(c.name for c in found)} all import SAELens {architecture!r} SAEs")
    return found[0] if found else None


def importable_architectures() -> list[str]:
    return [a for a in ARCHITECTURES if import_variant(a) is not None]


def read_saelens(folder: str | os.PathLike) -> SAELensSAE:
    """The SAE in a SAELens folder, every part checked before it is used (sizes bounded before reading,
    tensor names, shapes and dtypes read from the file's header before any tensor is loaded); InteropError
    naming what does not fit."""
    path = Path(folder)
    if not path.is_dir():
        what = "is a file" if path.exists() else "does not exist"
        raise InteropError(f"{path} {what}: give the SAELens SAE folder (it holds {CFG_FILENAME} and "
                           f"{WEIGHTS_FILENAME}, as SAE.save_model writes them)")
    cfg = _read_cfg(path / CFG_FILENAME)
    weights = path / WEIGHTS_FILENAME
    if not weights.is_file():
        raise InteropError(f"{path}: no {WEIGHTS_FILENAME} beside {CFG_FILENAME}; a SAELens SAE folder holds both")
    size = weights.stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise InteropError(f"{weights} is {size / 2**20:,.0f} MiB, larger than any SAE a model here can hold "
                           f"({MAX_WEIGHTS_BYTES / 2**20:,.0f} MiB: {MAX_PARAMETERS / 1e6:.0f} million weights)")
    sae = parse_config(cfg, str(path))
    _our_config(sae)                  # a model here must be able to hold it, before any tensor is loaded
    return _with_tensors(sae, weights, cfg)


def _our_config(sae: SAELensSAE) -> tuple[type[Autoencoder], dict[str, Any]]:
    """The variant and the parameters of the model of ours that holds sae, checked (sizes, k)."""
    cls = import_variant(sae.architecture)
    assert cls is not None            # parse_config accepts only importable architectures
    params = {"hidden": (), "decoder": "linear", "latent_dim": sae.d_sae,
              **cls.saelens_params({"k": sae.k, "architecture": sae.architecture})}
    try:
        cls.config_class.from_dict({**params, "input_dim": sae.d_in})
    except (ValueError, TypeError) as exc:
        raise InteropError(f"{sae.source}: a {cls.name} model cannot hold this {sae.describe()}: {exc}") from None
    return cls, params


def _read_cfg(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InteropError(f"{path.parent}: no {CFG_FILENAME}; a SAELens SAE folder holds {CFG_FILENAME} and "
                           f"{WEIGHTS_FILENAME}, as SAE.save_model writes them")
    with open(path, "rb") as handle:
        raw = handle.read(MAX_CFG_BYTES + 1)
    if len(raw) > MAX_CFG_BYTES:
        raise InteropError(f"{path} is larger than {MAX_CFG_BYTES >> 20} MiB: not a SAELens config")
    try:
        cfg = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InteropError(f"{path}: not text (UTF-8), so not a SAELens config") from None
    except json.JSONDecodeError as exc:
        raise InteropError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(cfg, dict):
        raise InteropError(f"{path}: holds a JSON {type(cfg).__name__}, not the object of a SAELens config")
    return cfg


def _major_version(text: Any) -> int | None:
    found = re.match(r"\s*(\d+)", text) if isinstance(text, str) else None
    return int(found.group(1)) if found else None


def parse_config(cfg: Mapping[str, Any], source: str, tensors: dict[str, torch.Tensor] | None = None) -> SAELensSAE:
    """A cfg.json's values, checked and defaulted as SAELens's loader does (a config without sae_lens_version
    ≥ 6 gets its pre-6.0 defaults: architecture 'standard', apply_b_dec_to_input true, a topk activation_fn
    with activation_fn_kwargs.k)."""
    where = f"{source}: {CFG_FILENAME}"
    metadata = cfg.get("metadata", {})
    if not isinstance(metadata, dict):
        raise InteropError(f"{where}: metadata must be an object, got {json.dumps(metadata)[:60]}")
    pre_6 = (_major_version(cfg.get("sae_lens_version") or metadata.get("sae_lens_version")) or 0) < 6
    architecture = cfg.get("architecture", "standard" if pre_6 else None)
    k = cfg.get("k")
    if pre_6:
        activation = cfg.get("activation_fn", cfg.get("activation_fn_str")) or "relu"
        implied = PRE_6_ACTIVATIONS.get(activation) if isinstance(activation, str) else None
        kwargs = cfg.get("activation_fn_kwargs") or {}
        if implied is None and architecture == "standard":
            raise InteropError(f"{where}: activation_fn {activation!r} is not SAELens's standard ReLU; "
                               f"this version imports ReLU, TopK and JumpReLU SAEs")
        if implied is not None and ARCHITECTURES[implied].has_k and isinstance(kwargs, dict) and "k" in kwargs:
            architecture, k = implied, kwargs["k"]
    if architecture is None:
        raise InteropError(f"{where} has no architecture; SAELens 6 writes one ({', '.join(ARCHITECTURES)}, …)")
    if not isinstance(architecture, str) or architecture not in ARCHITECTURES or import_variant(architecture) is None:
        raise InteropError(f"{where}: architecture {architecture!r} cannot be imported; this version reads "
                           f"SAELens's {', '.join(importable_architectures())} SAEs")
    arch = ARCHITECTURES[architecture]
    d_in, d_sae = (_whole(cfg.get(key), key, where) for key in ("d_in", "d_sae"))
    normalize = cfg.get("normalize_activations")
    if normalize is None or isinstance(normalize, bool):     # pre-6.0 wrote a flag: true meant this
        normalize = "expected_average_only_in" if normalize else "none"
    if normalize != "none":
        raise InteropError(f"{where}: normalize_activations is {normalize!r}: SAELens rescales each input before "
                           f"encoding, which a model here does not; only 'none' imports (fold a constant "
                           f"scaling factor in first: SAE.fold_activation_norm_scaling_factor, then save_model)")
    if cfg.get("reshape_activations", "none") != "none":
        raise InteropError(f"{where}: reshape_activations is {cfg['reshape_activations']!r}; only 'none' imports "
                           f"(hook_z SAEs read attention heads, not images)")
    if not isinstance(cfg.get("dtype", "float32"), str) or cfg.get("dtype", "float32") not in DTYPES:
        raise InteropError(f"{where}: dtype {cfg.get('dtype')!r} is not one SAELens knows ({', '.join(DTYPES)})")
    apply_b_dec = cfg.get("apply_b_dec_to_input", True)
    rescale = cfg.get("rescale_acts_by_decoder_norm", False) if arch.has_k else False
    for key, value in (("apply_b_dec_to_input", apply_b_dec), ("rescale_acts_by_decoder_norm", rescale)):
        if not isinstance(value, bool):
            raise InteropError(f"{where}: {key} must be true or false, got {json.dumps(value)[:40]}")
    if arch.has_k:
        k = _whole(100 if k is None else k, "k", where)        # TopKSAEConfig's default k is 100
        if k > d_sae:
            raise InteropError(f"{where}: k = {k} is more than d_sae = {d_sae}: no row has that many units")
    return SAELensSAE(architecture, d_in, d_sae, apply_b_dec, k if arch.has_k else None, rescale,
                      dict(tensors or {}), dict(metadata), source)


def _whole(value: Any, key: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        shown = "missing" if value is None else json.dumps(value)[:40]
        raise InteropError(f"{where}: {key} must be a whole number ≥ 1, got {shown}")
    return value


def _with_tensors(sae: SAELensSAE, path: Path, cfg: Mapping[str, Any]) -> SAELensSAE:
    """sae with the file's tensors: names, shapes and dtypes checked from the header first, then each loaded,
    cast to cfg.json's dtype as SAELens does, and checked finite."""
    from safetensors import SafetensorError, safe_open

    expected = {"W_enc": (sae.d_in, sae.d_sae), "b_enc": (sae.d_sae,), "W_dec": (sae.d_sae, sae.d_in),
                "b_dec": (sae.d_in,), **{name: (sae.d_sae,) for name in ARCHITECTURES[sae.architecture].extra_tensors}}
    dtype = DTYPES[cfg.get("dtype", "float32")]
    tensors: dict[str, torch.Tensor] = {}
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            names = list(handle.keys())
            missing = [name for name in expected if name not in names]
            if missing:
                raise InteropError(f"{path}: no tensor {', '.join(missing)}; a SAELens {sae.architecture} SAE has "
                                   f"{', '.join(expected)} (this file has {', '.join(names) or 'none'})")
            unexpected = [name for name in names if name not in expected and name != "scaling_factor"]
            if unexpected:
                raise InteropError(f"{path}: tensor {', '.join(unexpected)} is not part of a SAELens "
                                   f"{sae.architecture} SAE ({', '.join(expected)}), so it cannot be read as one")
            for name in names:
                piece = handle.get_slice(name)
                shape, kind = tuple(piece.get_shape()), piece.get_dtype()
                # The header's shapes bound what loading allocates: every tensor's, scaling_factor's too.
                want = expected.get(name, (sae.d_sae,))
                if shape != want:
                    raise InteropError(f"{path}: {name} has shape {shape}; with d_in = {sae.d_in} and d_sae = "
                                       f"{sae.d_sae} from {CFG_FILENAME} it must be {want}")
                if kind not in SAFETENSORS_FLOATS:
                    raise InteropError(f"{path}: {name} holds {kind} values; SAE weights are floating point "
                                       f"({', '.join(SAFETENSORS_FLOATS)})")
            for name in names:
                tensors[name] = handle.get_tensor(name).to(dtype).to(torch.float64)
    except SafetensorError as exc:
        raise InteropError(f"{path}: not a readable safetensors file ({str(exc)[:160]})") from None
    scaling = tensors.pop("scaling_factor", None)
    if scaling is not None and not torch.equal(scaling, torch.ones_like(scaling)):
        raise InteropError(f"{path}: scaling_factor is not all ones: this SAE rescales its code by a fine-tuned "
                           f"factor, which this version does not import")
    for name, t in tensors.items():
        bad = int((~torch.isfinite(t)).sum())
        if bad:
            raise InteropError(f"{path}: {name} holds {bad} non-finite value{'s' * (bad > 1)} (NaN or ±inf); "
                               f"no model can be made from it")
    if sae.rescale_acts_by_decoder_norm and not (tensors["W_dec"].norm(dim=-1) > 0).all():
        raise InteropError(f"{path}: rescale_acts_by_decoder_norm is true but some rows of W_dec are zero, so "
                           f"SAELens itself would divide by zero")
    return SAELensSAE(sae.architecture, sae.d_in, sae.d_sae, sae.apply_b_dec_to_input, sae.k,
                      sae.rescale_acts_by_decoder_norm, tensors, sae.metadata, sae.source)


def suggested_dataset(sae: SAELensSAE) -> str | None:
    """The dataset named in the folder's metadata (dataset_path), when it is one of ours."""
    name = sae.metadata.get("dataset_path")
    return name if isinstance(name, str) and name in DATASETS else None


def model_from_saelens(sae: SAELensSAE, dataset: Dataset | None = None) -> Autoencoder:
    """A model of ours (eval mode, CPU) that computes sae's codes and reconstructions. Our encoder reads x
    itself, so SAELens's input-side b_dec goes into the bias, b_enc − b_dec·W_enc, and a TopK trained with
    rescale_acts_by_decoder_norm has the norms folded in as SAELens's own `fold_W_dec_norm` does (W_enc·n,
    b_enc·n, W_dec/n: the same codes, the same reconstructions). Penalty weights (λ) are not in a SAELens
    folder: the model keeps our defaults. With a dataset, its images must be d_in pixels."""
    if dataset is not None and dataset.input_dim != sae.d_in:
        fits = [name for name, spec in DATASETS.items() if spec.image_shape[0] * spec.image_shape[1] == sae.d_in]
        h, w = dataset.image_shape
        raise InteropError(f"{sae.source}: this SAE reads d_in = {sae.d_in} values, but {dataset.name} has "
                           f"{dataset.input_dim}-pixel images ({h}×{w}); "
                           + (f"use --dataset {' or '.join(fits)}" if fits else "no dataset here has that size"))
    cls, params = _our_config(sae)
    t = sae.tensors
    w_enc, b_enc, w_dec, b_dec = t["W_enc"], t["b_enc"], t["W_dec"], t["b_dec"]   # (D, K) (K,) (K, D) (D,)
    if sae.apply_b_dec_to_input:
        b_enc = b_enc - b_dec @ w_enc
    if sae.rescale_acts_by_decoder_norm:
        norms = w_dec.norm(dim=-1)                                                  # (K,)
        w_enc, b_enc, w_dec = w_enc * norms, b_enc * norms, w_dec / norms[:, None]
    model = build_model(cls.name, params, input_dim=sae.d_in, seed=0)
    encoder = next(m for m in model.encoder.modules() if isinstance(m, nn.Linear))
    decoder = model.output_layer()
    with torch.no_grad():
        encoder.weight.copy_(w_enc.T)
        encoder.bias.copy_(b_enc)
        decoder.weight.copy_(w_dec.T)
        decoder.bias.copy_(b_dec)
    model.load_saelens_tensors({name: value for name, value in t.items() if name not in CORE_TENSORS})
    model.meta = ModelRecord(dataset.name if dataset is not None else str(suggested_dataset(sae) or ""),
                             train={"imported_from": "saelens", "folder": sae.source,
                                    "architecture": sae.architecture, "b_dec_folded": sae.apply_b_dec_to_input})
    return model.eval()


def import_saelens(folder: str | os.PathLike, dataset: Dataset | None = None) -> Autoencoder:
    """The SAE in a SAELens folder as a model of ours: `read_saelens` then `model_from_saelens`."""
    return model_from_saelens(read_saelens(folder), dataset)
