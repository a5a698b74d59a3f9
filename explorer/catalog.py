"""Which models the app can show: shipped checkpoints on disk, and models a session trained or uploaded."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .registry import variant_names

CHECKPOINT_DIR = Path(__file__).resolve().parents[1] / "checkpoints"


@dataclass
class ModelEntry:
    """A model the sidebar can make active.

    key identifies the weights for caching: 'file:<sha256>' for a checkpoint file (so a replaced
    file is a new model), 'upload:<sha256>', or 'session:<id>' for a model trained in a session."""

    key: str
    label: str
    source: str                         # "shipped" | "upload" | "trained"
    variant: str
    dataset: str
    path: str | None = None             # shipped checkpoints
    model: torch.nn.Module | None = field(default=None, repr=False)  # session models
    payload: bytes | None = field(default=None, repr=False)          # uploads: the file's bytes
    meta: dict = field(default_factory=dict, repr=False)


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bytes_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def shipped_checkpoint_paths(folder: Path = CHECKPOINT_DIR) -> list[Path]:
    """checkpoints/**/*.pt: the one-per-variant files first in registry order, then the rest
    (other top-level files, then sweeps/…) by path."""
    order = {name: i for i, name in enumerate(variant_names())}
    return sorted(folder.rglob("*.pt"), key=lambda p: (len(p.relative_to(folder).parts),
                                                       order.get(p.stem, len(order)), str(p)))
