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
        raise ValueError(f"checkpoint name {name!r} is not allowed: use letters, digits, '_', '-' "
                         f"or '.', starting with a letter or digit (at most 64 characters)")
    path = Path(folder) / f"{stem}.pt"
    try:
        return write_atomically(path, checkpoint_dict(model, dataset, metrics, history, train), exclusive=True)
    except FileExistsError:
        raise NameTakenError(f"a checkpoint named {path.name} already exists in {folder}; choose another "
                             f"name (existing checkpoints are never overwritten)") from None


def write_atomically(path: str | os.PathLike, payload: dict, exclusive: bool = False, durable: bool = True) -> Path:
    """Write a checkpoint dict whole or not at all (files.write_whole): replacing any file at path, or,
    exclusive, only if there is none (FileExistsError otherwise); files.WriteError if it cannot be written."""
    return write_whole(path, lambda handle: torch.save(payload, handle), exclusive, durable)


def _label(source: Any) -> str:
    """How messages name a checkpoint: its path, or a file object's name."""
    return str(source) if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "uploaded file")


def read_checkpoint(source: str | os.PathLike[str] | BinaryIO, label: str | None = None) -> dict[str, Any]:
    """The checkpoint dict from a path or a binary file object, checked; CheckpointError otherwise."""
    label = label or _label(source)
    if isinstance(source, (str, os.PathLike)):
        if not Path(source).exists():
            raise CheckpointError(f"{label}: no such file. Check the path, or train one with "
                                  f"`python -m explorer train --variant ae --out {label}`.")
        if Path(source).is_dir():
            inside = ", ".join(p.name for p in sorted(Path(source).glob("*.pt"))[:3]) or "none here"
            raise CheckpointError(f"{label}: a folder, not a checkpoint file; give one of its .pt files ({inside})")
        with open(source, "rb") as handle:           # the file checked is the file loaded
            return _read_payload(handle, label)
    if not all(hasattr(source, m) for m in ("read", "seek", "tell")):
        raise CheckpointError(f"expected a checkpoint's path or an open binary file; got {_shown(source)} "
                              f"({type(source).__name__})")
    return _read_payload(source, label)


def _read_payload(handle: BinaryIO, label: str) -> dict[str, Any]:
    """The checkpoint dict in an open file: its bounds checked before torch.load, its fields after."""
    position = handle.tell()
    head = handle.read(4)
    handle.seek(position)
    if not head:
        raise CheckpointError(f"{label}: the file is empty (0 bytes), so it holds no model.")
    if not head.startswith(b"PK") and head[:1] != b"\x80":
        # torch.save writes a zip archive (PK…); a legacy torch file starts with a pickle header.
        raise CheckpointError(f"{label}: not a PyTorch checkpoint at all (it starts with {head!r}; "
                              f"maybe a text or image file renamed to .pt).")
    try:
        check_archive(handle)
    except ArchiveDamaged as exc:
        raise CheckpointError(f"{label}: not a readable PyTorch file (truncated or damaged): {exc}.") from None
    except ArchiveRefused as exc:
        raise CheckpointError(f"{label}: refused — {exc}; nothing was loaded.") from None
    try:
        payload = torch.load(handle, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{label}: refused — the file contains Python objects beyond tensors and plain values "
            f"(loading it could run code), so it was not loaded. Only checkpoints written by "
            f"Autoencoder Explorer are accepted. ({_unpickler_reason(exc)})") from None
    except Exception as exc:  # noqa: BLE001 — garbage bytes make the unpickler raise anything
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise CheckpointError(f"{label}: not a readable PyTorch file (truncated or damaged): "
                              f"{first_line}") from None
    check_payload(payload, label)
    return payload


def check_payload(payload: Any, label: str) -> None:
    """CheckpointError unless payload is an Autoencoder Explorer checkpoint dict with every field of its type."""
    if not isinstance(payload, dict):
        raise CheckpointError(f"{label}: holds a {type(payload).__name__}, not an Autoencoder "
                              f"Explorer checkpoint (a dict with format {FORMAT!r}).")
    if "format" not in payload:
        if payload and all(isinstance(v, torch.Tensor) for v in payload.values()):
            raise CheckpointError(f"{label}: a bare state_dict saved by plain PyTorch — it has "
                                  f"weights but no variant or config, so it cannot be rebuilt. "
                                  f"Save models with `python -m explorer train` or the Train page.")
        raise CheckpointError(f"{label}: not an Autoencoder Explorer checkpoint (no 'format' key).")
    if not isinstance(payload["format"], str) or payload["format"] != FORMAT:
        raise CheckpointError(f"{label}: checkpoint format {_shown(payload['format'])} is not supported; "
                              f"this version reads {FORMAT!r}. Re-create it with this version's "
                              f"`python -m explorer train`.")
    missing = [k for k in REQUIRED_KEYS if k not in payload]
    if missing:
        raise CheckpointError(f"{label}: checkpoint is missing {', '.join(missing)}.")
    if problem := field_problem(payload):
        raise CheckpointError(f"{label}: {problem}; the file was edited or written by another program, "
                              f"so it was not loaded.")


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
        raise CheckpointError(f"{label}: unknown variant {_shown(payload['variant'])}; this version knows "
                              f"{', '.join(variant_names())}.") from None
    try:
        config = cls.config_class.from_dict(payload["config"])
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{label}: its config does not fit variant {cls.name!r}: {exc}") from None
    model = cls(config)
    if problem := _weights_problem(model, payload["state_dict"]):
        raise CheckpointError(f"{label}: {problem}")
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except (RuntimeError, TypeError, AttributeError) as exc:
        mismatch = _describe_mismatch(model, payload["state_dict"])
        raise CheckpointError(f"{label}: its weights do not fit its config ({mismatch}); "
                              f"the file was probably edited or written by another program.") from exc
    model.meta = ModelRecord(payload["dataset"], payload["metrics"], payload["history"], payload.get("train", {}),
                             payload["created"], payload["torch_version"])
    return model.to(device).eval()


def _weights_problem(model: Autoencoder, state_dict: dict[str, torch.Tensor]) -> str | None:
    """What keeps state_dict (its values tensors: check_payload) from being model's weights, or None: other
    names or shapes, a tensor of another kind (integer for floating point, sparse), or non-finite values."""
    expected = model.state_dict()
    if set(state_dict) != set(expected) or any(state_dict[k].shape != v.shape for k, v in expected.items()):
        return (f"its weights do not fit its config ({_describe_mismatch(model, state_dict)}); "
                f"the file was probably edited or written by another program.")
    for name, want in expected.items():
        got = state_dict[name]
        if got.layout != torch.strided:
            return (f"its weight {name!r} is a {str(got.layout).removeprefix('torch.')} tensor, not a dense one; "
                    f"the file was edited or written by another program.")
        if got.is_complex() or got.is_floating_point() != want.is_floating_point():
            return (f"its weight {name!r} holds {str(got.dtype).removeprefix('torch.')} values where "
                    f"{str(want.dtype).removeprefix('torch.')} belongs; the file was edited or written by "
                    f"another program.")
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            bad = int((~torch.isfinite(got)).sum())
            return (f"its weight {name!r} holds {bad:,} non-finite value{'s' * (bad > 1)} (NaN or ±inf) of "
                    f"{got.numel():,}: the model had diverged when it was saved, or the file is damaged, so it "
                    f"was not loaded; train it again (a lower learning rate helps).")
    return None


def _describe_mismatch(model: Autoencoder, state_dict: Any) -> str:
    if not isinstance(state_dict, dict):
        return f"state_dict is a {type(state_dict).__name__}"
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    shapes = [f"{k}: {tuple(state_dict[k].shape)} vs {tuple(v.shape)} expected"
              for k, v in expected.items() if k in state_dict and hasattr(state_dict[k], "shape")
              and tuple(state_dict[k].shape) != tuple(v.shape)]
    parts = []
    if shapes:
        parts.append("shape mismatch " + "; ".join(shapes[:3]))
    if missing:
        parts.append("missing " + ", ".join(missing[:4]))
    if unexpected:
        parts.append("unexpected " + ", ".join(map(_shown, unexpected[:4])))
    return "; ".join(parts) or "weights could not be assigned"


def load_checkpoint(source: str | os.PathLike | Any, device: torch.device | str = "cpu",
                    label: str | None = None) -> Autoencoder:
    """The model saved at source (path or file object), in eval mode, with its ModelRecord in `.meta`."""
    label = label or _label(source)
    return model_from_checkpoint(read_checkpoint(source, label), label, device)
