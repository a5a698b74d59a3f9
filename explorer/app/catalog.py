"""Which models the app can show: shipped checkpoints on disk, and models a session trained or uploaded."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ..checkpoint import ModelRecord
from ..registry import get_variant, variant_names
from ..variants.base import Autoencoder

CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "checkpoints"


@dataclass(kw_only=True)
class ModelEntry:
    """A model the sidebar can make active. `key` identifies its weights for caching."""

    source: ClassVar[str]
    key: str
    label: str
    variant: str
    dataset: str
    record: ModelRecord | None = field(default=None, repr=False)   # its checkpoint's record, when known


@dataclass(kw_only=True)
class ShippedEntry(ModelEntry):
    """A checkpoint file under checkpoints/; key 'file:<sha256>', so a replaced file is a new model."""

    source = "shipped"
    path: str
    sweep: str | None = None            # the name of the sweep it belongs to (sweep_of), if any


@dataclass(kw_only=True)
class UploadedEntry(ModelEntry):
    """A checkpoint uploaded in this session; key 'upload:<sha256>'."""

    source = "upload"
    payload: bytes = field(repr=False)


@dataclass(kw_only=True)
class TrainedEntry(ModelEntry):
    """A model trained in this session, owned by it (never shared); key 'session:<id>'."""

    source = "trained"
    model: Autoencoder = field(repr=False)


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bytes_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sweep_of(path: Path, folder: Path = CHECKPOINT_DIR) -> str | None:
    """How the sweep a shipped checkpoint belongs to is named ('λ sweep of sparse_l1', from the
    sweep.json beside it), for checkpoints/sweeps/<folder>/<run>.pt; None for any other file."""
    parts = path.relative_to(folder).parts
    if len(parts) != 3 or parts[0] != "sweeps":
        return None
    try:
        summary = json.loads((path.parent / "sweep.json").read_text())
        spec = get_variant(summary["variant"]).config_class.field_specs()[summary["param"]]
    except (OSError, ValueError, KeyError, TypeError):
        return parts[1]                        # no readable manifest: the folder's name
    title = f"{spec.get('symbol') or summary['param']} sweep of {summary['variant']}"
    return title if parts[1] == f"{summary['variant']}-{summary['param']}" else f"{title} ({parts[1]})"


def shipped_checkpoint_paths(folder: Path = CHECKPOINT_DIR) -> list[Path]:
    """checkpoints/**/*.pt: the one-per-variant files first in registry order, then the rest
    (other top-level files, then sweeps/…) by path."""
    order = {name: i for i, name in enumerate(variant_names())}
    return sorted(folder.rglob("*.pt"), key=lambda p: (len(p.relative_to(folder).parts),
                                                       order.get(p.stem, len(order)), str(p)))


def sweep_value(stem: str) -> float:
    """The numeric value in a sweep checkpoint's name ('sparse_l1-lam=3e-4' → 0.0003); inf if none."""
    try:
        return float(stem.rsplit("=", 1)[1])
    except (IndexError, ValueError):
        return float("inf")


def group_sweeps(entries: dict[str, ModelEntry]) -> dict[str, list[str]]:
    """Each shipped sweep's name → its models' keys in the order of the swept value; the sweeps in
    the menu order of their variant."""
    order = {name: i for i, name in enumerate(variant_names())}
    sweeps: dict[str, list[str]] = {}
    paths: dict[str, str] = {}
    for key, entry in sorted(entries.items(), key=lambda item: order.get(item[1].variant, len(order))):
        if isinstance(entry, ShippedEntry) and entry.sweep:
            sweeps.setdefault(entry.sweep, []).append(key)
            paths[key] = entry.path
    for keys in sweeps.values():
        keys.sort(key=lambda k: sweep_value(Path(paths[k]).stem))
    return sweeps

