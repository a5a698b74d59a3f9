"""Which models the app can show: shipped checkpoints on disk, and models a session trained or uploaded."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .registry import get_variant, variant_names
from .variants.base import Autoencoder

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
    sweep: str | None = None            # shipped checkpoints of a sweep: the sweep's name (catalog.sweep_of)
    model: Autoencoder | None = field(default=None, repr=False)      # session models
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
    for key, entry in sorted(entries.items(), key=lambda item: order.get(item[1].variant, len(order))):
        if entry.sweep:
            sweeps.setdefault(entry.sweep, []).append(key)
    for keys in sweeps.values():
        keys.sort(key=lambda k: sweep_value(Path(entries[k].path or "").stem))
    return sweeps

