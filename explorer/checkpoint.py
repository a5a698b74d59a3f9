"""Checkpoints: one `.pt` dict (format ae-explorer/1), written atomically, loaded weights-only."""
from __future__ import annotations

import datetime as dt
import io
import os
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import torch

from .archive import ArchiveDamaged, ArchiveRefused, check_archive
from .checkpoint_fields import METRIC_FIELDS, TRAIN_FIELDS, clean_fields, clean_history, field_problem
from .files import write_whole
from .i18n import tr, trn
from .registry import get_variant, variant_names
from .variants.base import Autoencoder

FORMAT = "ae-explorer/1"
REQUIRED_KEYS = ("format", "variant", "config", "dataset", "state_dict", "metrics", "history",
                 "created", "torch_version")


class CheckpointError(Exception):
    """A checkpoint cannot be used; the message says why and what to do."""


class NameTakenError(ValueError):
    """A checkpoint of that name exists already; nothing was written."""


@dataclass
class ModelRecord:
    """What a checkpoint says about its model besides the weights (a loaded model's `meta`)."""

    dataset: str                                   # the dataset it was trained on
    metrics: dict[str, Any] = field(default_factory=dict)    # `evaluate --json` at save time
    history: dict[str, Any] = field(default_factory=dict)    # per-epoch loss terms, train and test
    train: dict[str, Any] = field(default_factory=dict)      # the training run: settings, seconds, device
    created: str = ""
    torch_version: str = ""

    def __post_init__(self) -> None:
        # Records come from files as well as from training runs: a value of the wrong type is dropped here,
        # once, so that no page meets a list where it expects a number.
        self.dataset, self.created, self.torch_version = str(self.dataset), str(self.created), str(self.torch_version)
        self.metrics = clean_fields(self.metrics, METRIC_FIELDS)
        self.train = clean_fields(self.train, TRAIN_FIELDS)
        self.history = clean_history(self.history)

    @property
    def lr(self) -> float | None:
        """The learning rate it was trained with, when known."""
        value = self.train.get("lr")
        return float(value) if isinstance(value, (int, float)) else None


def checkpoint_dict(model: Autoencoder, dataset: str, metrics: dict | None = None,
                    history: dict | None = None, train: dict | None = None) -> dict[str, Any]:
    """Everything a checkpoint holds, as plain values and CPU tensors (weights_only-safe)."""
    return {
        "format": FORMAT,
        "variant": model.name,
        "config": model.config.to_dict(),
        "dataset": dataset,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metrics": plain(metrics or {}),
        "history": plain(history or {}),
        "train": plain(train or {}),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "torch_version": str(torch.__version__),
    }


def plain(value: Any) -> Any:
    """Only dicts, lists, str, int, float, bool, None: what weights_only loading accepts anywhere."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if hasattr(value, "item"):          # numpy scalars
        return value.item()
    return str(value)


def save_checkpoint(path: str | os.PathLike, model: Autoencoder, dataset: str,
                    metrics: dict | None = None, history: dict | None = None,
                    train: dict | None = None, durable: bool = True) -> Path:
    """Write atomically: a temp file in the same folder, fsync (if durable), then rename over the target."""
    return write_atomically(path, checkpoint_dict(model, dataset, metrics, history, train), durable=durable)


def checkpoint_bytes(model: Autoencoder, dataset: str, metrics: dict | None = None,
                     history: dict | None = None, train: dict | None = None) -> bytes:
    """The same checkpoint as bytes, for a download button."""
    buffer = io.BytesIO()
    torch.save(checkpoint_dict(model, dataset, metrics, history, train), buffer)
    return buffer.getvalue()


SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def save_new_checkpoint(folder: str | os.PathLike, name: str, model: Autoencoder, dataset: str,
                        metrics: dict | None = None, history: dict | None = None,
                        train: dict | None = None) -> Path:
    """Save as folder/name.pt, refusing odd names and never overwriting an existing checkpoint."""
    stem = name.strip().removesuffix(".pt")
    if not SAFE_NAME.match(stem):
        raise ValueError(tr("checkpoint name {name} is not allowed: use letters, digits, '_', '-' or '.', starting "
                            "with a letter or digit (at most 64 characters)", name=repr(name)))
    path = Path(folder) / f"{stem}.pt"
    try:
        return write_atomically(path, checkpoint_dict(model, dataset, metrics, history, train), exclusive=True)
    except FileExistsError:
        raise NameTakenError(tr("a checkpoint named {name} already exists in {folder}; choose another name "
                                "(existing checkpoints are never overwritten)", name=path.name,
                                folder=folder)) from None


def write_atomically(path: str | os.PathLike, payload: dict, exclusive: bool = False, durable: bool = True) -> Path:
    """Write a checkpoint dict whole or not at all (files.write_whole): replacing any file at path, or,
    exclusive, only if there is none (FileExistsError otherwise); files.WriteError if it cannot be written."""
    return write_whole(path, lambda handle: torch.save(payload, handle), exclusive, durable)


def _label(source: Any) -> str:
    """How messages name a checkpoint: its path, or a file object's name."""
    return str(source) if isinstance(source, (str, os.PathLike)) else getattr(source, "name", tr("uploaded file"))


def read_checkpoint(source: str | os.PathLike[str] | BinaryIO, label: str | None = None) -> dict[str, Any]:
    """The checkpoint dict from a path or a binary file object, checked; CheckpointError otherwise."""
    label = label or _label(source)
    if isinstance(source, (str, os.PathLike)):
        if not Path(source).exists():
            raise CheckpointError(tr("{label}: no such file. Check the path, or train one with "
                                     "`python -m explorer train --variant ae --out {label}`.", label=label))
        if Path(source).is_dir():
            inside = ", ".join(p.name for p in sorted(Path(source).glob("*.pt"))[:3]) or tr("none here")
            raise CheckpointError(tr("{label}: a folder, not a checkpoint file; give one of its .pt files ({inside})",
                                     label=label, inside=inside))
        with open(source, "rb") as handle:           # the file checked is the file loaded
            return _read_payload(handle, label)
    if not all(hasattr(source, m) for m in ("read", "seek", "tell")):
        raise CheckpointError(tr("expected a checkpoint's path or an open binary file; got {value} ({kind})",
                                 value=_shown(source), kind=type(source).__name__))
    return _read_payload(source, label)


def _read_payload(handle: BinaryIO, label: str) -> dict[str, Any]:
    """The checkpoint dict in an open file: its bounds checked before torch.load, its fields after."""
    position = handle.tell()
    head = handle.read(4)
    handle.seek(position)
    if not head:
        raise CheckpointError(tr("{label}: the file is empty (0 bytes), so it holds no model.", label=label))
    if not head.startswith(b"PK") and head[:1] != b"\x80":
        # torch.save writes a zip archive (PK…); a legacy torch file starts with a pickle header.
        raise CheckpointError(tr("{label}: not a PyTorch checkpoint at all (it starts with {head}; maybe a text or "
                                 "image file renamed to .pt).", label=label, head=repr(head)))
    try:
        check_archive(handle)
    except ArchiveDamaged as exc:
        raise CheckpointError(tr("{label}: not a readable PyTorch file (truncated or damaged): {why}.", label=label,
                                 why=exc)) from None
    except ArchiveRefused as exc:
        raise CheckpointError(tr("{label}: refused — {why}; nothing was loaded.", label=label, why=exc)) from None
    try:
        payload = torch.load(handle, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(tr(
            "{label}: refused — the file contains Python objects beyond tensors and plain values (loading it could "
            "run code), so it was not loaded. Only checkpoints written by Autoencoder Explorer are accepted. "
            "({why})", label=label, why=_unpickler_reason(exc))) from None
    except Exception as exc:  # noqa: BLE001 — garbage bytes make the unpickler raise anything
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise CheckpointError(tr("{label}: not a readable PyTorch file (truncated or damaged): {why}", label=label,
                                 why=first_line)) from None
    check_payload(payload, label)
    return payload


def check_payload(payload: Any, label: str) -> None:
    """CheckpointError unless payload is an Autoencoder Explorer checkpoint dict with every field of its type."""
    if not isinstance(payload, dict):
        raise CheckpointError(tr("{label}: holds a {kind}, not an Autoencoder Explorer checkpoint (a dict with "
                                 "format {format}).", label=label, kind=type(payload).__name__, format=repr(FORMAT)))
    if "format" not in payload:
        if payload and all(isinstance(v, torch.Tensor) for v in payload.values()):
            raise CheckpointError(tr("{label}: a bare state_dict saved by plain PyTorch — it has weights but no "
                                     "variant or config, so it cannot be rebuilt. Save models with "
                                     "`python -m explorer train` or the Train page.", label=label))
        raise CheckpointError(tr("{label}: not an Autoencoder Explorer checkpoint (no 'format' key).", label=label))
    if not isinstance(payload["format"], str) or payload["format"] != FORMAT:
        raise CheckpointError(tr("{label}: checkpoint format {found} is not supported; this version reads {format}. "
                                 "Re-create it with this version's `python -m explorer train`.", label=label,
                                 found=_shown(payload["format"]), format=repr(FORMAT)))
    missing = [k for k in REQUIRED_KEYS if k not in payload]
    if missing:
        raise CheckpointError(tr("{label}: checkpoint is missing {fields}.", label=label, fields=", ".join(missing)))
    if problem := field_problem(payload):
        raise CheckpointError(tr("{label}: {problem}; the file was edited or written by another program, so it was "
                                 "not loaded.", label=label, problem=problem))


def _shown(value: Any, limit: int = 60) -> str:
    """value's repr, cut to limit characters: a message quotes a crafted value without repeating all of it."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _unpickler_reason(exc: Exception) -> str:
    """The one line of torch's long weights_only message that names what was refused."""
    lines = [line.strip() for line in str(exc).splitlines()]
    reason = next((line for line in lines if "Unsupported" in line or "WeightsUnpickler" in line), lines[0])
    return reason.split(". Please use")[0][:200]


def model_from_checkpoint(payload: dict[str, Any], label: str = "checkpoint",
                          device: torch.device | str = "cpu") -> Autoencoder:
    """Rebuild the model a checkpoint dict describes, in eval mode, with its record in `.meta`: its config
    checked (the network's size bounded) before anything is built, its weights (names, shapes, kinds, finite)
    before they are assigned."""
    check_payload(payload, label)
    try:
        cls = get_variant(payload["variant"])
    except ValueError:
        raise CheckpointError(tr("{label}: unknown variant {variant}; this version knows {known}.", label=label,
                                 variant=_shown(payload["variant"]), known=", ".join(variant_names()))) from None
    try:
        config = cls.config_class.from_dict(payload["config"])
    except (ValueError, TypeError) as exc:
        raise CheckpointError(tr("{label}: its config does not fit variant {variant}: {why}", label=label,
                                 variant=repr(cls.name), why=exc)) from None
    model = cls(config)
    if problem := _weights_problem(model, payload["state_dict"]):
        raise CheckpointError(f"{label}: {problem}")
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except (RuntimeError, TypeError, AttributeError) as exc:
        mismatch = _describe_mismatch(model, payload["state_dict"])
        raise CheckpointError(tr("{label}: its weights do not fit its config ({mismatch}); the file was probably "
                                 "edited or written by another program.", label=label, mismatch=mismatch)) from exc
    model.meta = ModelRecord(payload["dataset"], payload["metrics"], payload["history"], payload.get("train", {}),
                             payload["created"], payload["torch_version"])
    return model.to(device).eval()


def _weights_problem(model: Autoencoder, state_dict: dict[str, torch.Tensor]) -> str | None:
    """What keeps state_dict (its values tensors: check_payload) from being model's weights, or None: other
    names or shapes, a tensor of another kind (integer for floating point, sparse), or non-finite values."""
    expected = model.state_dict()
    if set(state_dict) != set(expected) or any(state_dict[k].shape != v.shape for k, v in expected.items()):
        return tr("its weights do not fit its config ({mismatch}); the file was probably edited or written by "
                  "another program.", mismatch=_describe_mismatch(model, state_dict))
    for name, want in expected.items():
        got = state_dict[name]
        if got.layout != torch.strided:
            return tr("its weight {name} is a {layout} tensor, not a dense one; the file was edited or written by "
                      "another program.", name=repr(name), layout=str(got.layout).removeprefix("torch."))
        if got.is_complex() or got.is_floating_point() != want.is_floating_point():
            return tr("its weight {name} holds {got} values where {want} belongs; the file was edited or written by "
                      "another program.", name=repr(name), got=str(got.dtype).removeprefix("torch."),
                      want=str(want.dtype).removeprefix("torch."))
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            bad = int((~torch.isfinite(got)).sum())
            return trn("its weight {name} holds {count:,} non-finite value (NaN or ±inf) of {total:,}: the model had "
                       "diverged when it was saved, or the file is damaged, so it was not loaded; train it again (a "
                       "lower learning rate helps).",
                       "its weight {name} holds {count:,} non-finite values (NaN or ±inf) of {total:,}: the model had "
                       "diverged when it was saved, or the file is damaged, so it was not loaded; train it again (a "
                       "lower learning rate helps).", bad, name=repr(name), total=got.numel())
    return None


def _describe_mismatch(model: Autoencoder, state_dict: Any) -> str:
    if not isinstance(state_dict, dict):
        return tr("state_dict is a {kind}", kind=type(state_dict).__name__)
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    shapes = [tr("{name}: {shape} vs {expected} expected", name=k, shape=tuple(state_dict[k].shape),
                 expected=tuple(v.shape))
              for k, v in expected.items() if k in state_dict and hasattr(state_dict[k], "shape")
              and tuple(state_dict[k].shape) != tuple(v.shape)]
    parts = []
    if shapes:
        parts.append(tr("shape mismatch {shapes}", shapes="; ".join(shapes[:3])))
    if missing:
        parts.append(tr("missing {names}", names=", ".join(missing[:4])))
    if unexpected:
        parts.append(tr("unexpected {names}", names=", ".join(map(_shown, unexpected[:4]))))
    return "; ".join(parts) or tr("weights could not be assigned")


def load_checkpoint(source: str | os.PathLike | Any, device: torch.device | str = "cpu",
                    label: str | None = None) -> Autoencoder:
    """The model saved at source (path or file object), in eval mode, with its ModelRecord in `.meta`."""
    label = label or _label(source)
    return model_from_checkpoint(read_checkpoint(source, label), label, device)
