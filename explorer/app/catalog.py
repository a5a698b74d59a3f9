"""Which models the app can show: checkpoint files (shipped, saved, a browser's own) and models a session
holds in memory."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..checkpoint import ModelRecord
from ..i18n import N_, tr
from ..registry import variant_names
from ..sweep import param_symbol, read_manifest, sweep_title
from ..variants.base import Autoencoder

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT_DIR = ROOT / "checkpoints"
# Where the Train page's Save writes (a relative setting counts from the working directory); every
# browser lists what is there as "saved".
SAVE_DIR = Path(os.environ.get("AE_EXPLORER_SAVE_DIR", ROOT / "runs"))
# Of checkpoint files, as the model list labels them.
ORIGINS = ("shipped", "saved", "trained", "kept", "swept", "interrupted")
# A model's source (ModelEntry.source) as the Home page's table names it, shown with tr().
SOURCE_WORDS = {"shipped": N_("shipped"), "saved": N_("saved"), "trained": N_("trained"), "kept": N_("kept"),
                "swept": N_("swept"), "interrupted": N_("interrupted"), "upload": N_("upload")}


@dataclass(kw_only=True)
class ModelEntry:
    """A model the sidebar can make active. `key` identifies its weights for caching."""

    key: str
    label: str
    variant: str
    dataset: str
    record: ModelRecord | None = field(default=None, repr=False)   # its checkpoint's record, when known

    @property
    def source(self) -> str:
        """'shipped', 'saved', 'trained', 'kept' (an upload kept on disk), 'swept' (a trial of a sweep
        run in the app), 'interrupted' (a training whose process was killed: its last epoch) or 'upload'."""
        raise NotImplementedError

    @property
    def own(self) -> bool:
        """Whether it belongs to this browser alone (trained or uploaded here): never in a link."""
        return self.source in ("trained", "kept", "swept", "interrupted", "upload")


@dataclass(kw_only=True)
class FileEntry(ModelEntry):
    """A checkpoint file: shipped (checkpoints/), saved (SAVE_DIR), or one of this browser's own
    (trained, kept uploads; see store). Key 'file:<sha256>', so a replaced file is a new model."""

    path: str
    origin: str                         # one of ORIGINS
    sweep: str | None = None            # the name of the shipped sweep it belongs to (sweep_of), if any

    @property
    def source(self) -> str:
        return self.origin


@dataclass(kw_only=True)
class UploadedEntry(ModelEntry):
    """A checkpoint uploaded in this session and not kept on disk; key 'upload:<sha256>'."""

    payload: bytes = field(repr=False)

    @property
    def source(self) -> str:
        return "upload"


@dataclass(kw_only=True)
class TrainedEntry(ModelEntry):
    """A model trained in this session and held in memory (when it could not be written to disk);
    key 'session:<id>'."""

    model: Autoencoder = field(repr=False)

    @property
    def source(self) -> str:
        return "trained"


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
    """How the sweep a checkpoint belongs to is named ('λ sweep of sparse_l1', from the sweep.json
    beside it), for <folder>/sweeps/<sweep>/<trial>.pt; None for any other file."""
    parts = path.relative_to(folder).parts
    if len(parts) != 3 or parts[0] != "sweeps":
        return None
    try:
        summary = read_manifest(path.parent)
        variants, grid = summary["variants"], summary["grid"]
        # A title someone gave is a name, shown as it is; the one made from the grid is said in the reader's language.
        if summary.get("title") and summary["title"] != sweep_title(variants, grid):
            return str(summary["title"])
        symbols = [param_symbol(variants, p) for p in grid]
    except (ValueError, KeyError, TypeError, IndexError):
        return parts[1]                        # no readable manifest: the folder's name
    title = shown_sweep_title(symbols, variants)
    return title if summary.get("title") or parts[1] == "-".join([*variants, *grid]) else f"{title} ({parts[1]})"


def shown_sweep_title(symbols: list[str], variants: list[str]) -> str:
    """'k sweep of topk' (explorer.sweep.sweep_title's English) in the reader's language."""
    return tr("{params} sweep of {variants}", params=", ".join(symbols), variants=tr(" and ").join(variants))


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


def swept_name(stem: str) -> str:
    """The parameter a sweep checkpoint's name sweeps ('topk-seed=1' → 'seed'); '' if none."""
    head = stem.rsplit("=", 1)[0] if "=" in stem else ""
    return head.rsplit("-", 1)[-1] if head else ""


def over_seed(keys: list[str], entries: dict[str, ModelEntry]) -> bool:
    """Whether these sweep models are one setting trained from several seeds (a sweep over the seed alone)."""
    return all(isinstance(e := entries.get(k), FileEntry) and swept_name(Path(e.path).stem) == "seed" for k in keys)


def frontier_sweeps(sweeps: dict[str, list[str]], entries: dict[str, ModelEntry]) -> dict[str, list[str]]:
    """The sweeps that are lines on a trade-off plot: not those over the seed alone (one setting trained from
    several seeds is a cloud of near-equal points, shown by Compare's stability section instead)."""
    return {name: keys for name, keys in sweeps.items() if not over_seed(keys, entries)}


def group_sweeps(entries: dict[str, ModelEntry]) -> dict[str, list[str]]:
    """Each shipped sweep's name → its models' keys in the order of the swept value; the sweeps in
    the menu order of their variant."""
    order = {name: i for i, name in enumerate(variant_names())}
    sweeps: dict[str, list[str]] = {}
    paths: dict[str, str] = {}
    for key, entry in sorted(entries.items(), key=lambda item: order.get(item[1].variant, len(order))):
        if isinstance(entry, FileEntry) and entry.sweep:
            sweeps.setdefault(entry.sweep, []).append(key)
            paths[key] = entry.path
    for keys in sweeps.values():
        keys.sort(key=lambda k: sweep_value(Path(paths[k]).stem))
    # Sweeps over a parameter first, then those over the seed alone (one setting, for its stability).
    return {name: sweeps[name] for name in sorted(sweeps, key=lambda n: over_seed(sweeps[n], entries))}

