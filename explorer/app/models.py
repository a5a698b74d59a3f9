"""This session's model list: shipped checkpoints on disk, the models it trained or uploaded, and which
one is active; loading an entry's model, and the models a comparison shows."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ..checkpoint import CheckpointError, read_checkpoint
from ..compare import ComparedModel, describe_settings
from ..datasets import Dataset
from ..i18n import N_, language, tr
from ..variants.base import Autoencoder, DataMismatchError
from . import caches, identity, keys, store
from .catalog import (
    CHECKPOINT_DIR,
    SAVE_DIR,
    FileEntry,
    ModelEntry,
    TrainedEntry,
    UploadedEntry,
    bytes_digest,
    file_digest,
    shipped_checkpoint_paths,
    sweep_of,
)

DEFAULT_MODEL = "ae"                # the stem of the shipped checkpoint the app opens with
MAX_TAB_UPLOADS = 8                 # uploads one tab holds in memory (kept ones are on disk instead)


@dataclass(frozen=True)
class FileSummary:
    """What the model list shows of a checkpoint file, read once per version of the file."""

    key: str                # 'file:<sha256>'
    variant: str
    dataset: str
    created: str            # ISO time of saving
    epochs: int | None      # epochs trained, when recorded
    planned: int | None     # epochs it was to train, for an interrupted training


@st.cache_data(show_spinner=False, max_entries=1024)
def _file_summary(path: str, mtime_ns: int, size: int) -> FileSummary | None:
    """One checkpoint file's summary (mtime and size are the key: a changed file is read again);
    None if it is unreadable (it is left out of the list, and explained if loaded by other means)."""
    try:
        payload = read_checkpoint(path)
    except CheckpointError:
        return None
    train = payload["train"] if isinstance(payload.get("train"), dict) else {}
    epochs, planned = train.get("epochs_run"), train.get("epochs_planned")
    return FileSummary("file:" + file_digest(path), str(payload["variant"]), str(payload["dataset"]),
                       str(payload.get("created", "")), epochs if isinstance(epochs, int) else None,
                       planned if isinstance(planned, int) else None)


# The last word of a checkpoint file's label: where it comes from (an origin not here is said as it is).
ORIGIN_WORDS = {"shipped": N_("shipped"), "saved": N_("saved"), "kept": N_("uploaded"), "swept": N_("my sweep")}


def _label(path: Path, origin: str, s: FileSummary) -> str:
    """How the model list names a checkpoint file, in the reader's language (the model's own name stays)."""
    if origin == "interrupted":  # its worker or the server was killed: the last epoch it finished
        if s.planned:
            return tr("{variant} · {dataset} · interrupted at epoch {epoch} of {planned} (kept)", variant=s.variant,
                      dataset=s.dataset, epoch=s.epochs or "?", planned=s.planned)
        return tr("{variant} · {dataset} · interrupted at epoch {epoch} (kept)", variant=s.variant,
                  dataset=s.dataset, epoch=s.epochs or "?")
    if origin == "trained":      # the name is machine-made: say what it is and when it was trained
        when = s.created[11:16] if len(s.created) >= 16 else "?"
        if s.epochs:
            return tr("{variant} · {dataset} · trained {date} {time} ({epochs} epochs)", variant=s.variant,
                      dataset=s.dataset, date=s.created[:10], time=when, epochs=s.epochs)
        return tr("{variant} · {dataset} · trained {date} {time}", variant=s.variant, dataset=s.dataset,
                  date=s.created[:10], time=when)
    # A sweep's trial ('topk-k=5') and the one-per-variant files already start with the variant's name.
    named = path.stem == s.variant or path.stem.startswith(f"{s.variant}-")
    name = path.stem if named else f"{path.stem} ({s.variant})"
    return f"{name} · {s.dataset} · {tr(ORIGIN_WORDS.get(origin, origin))}"


def _file_entries(paths: list[tuple[Path, str]], sweep_root: Path | None = None) -> list[FileEntry]:
    entries = []
    for path, origin in paths:
        try:
            stat = path.stat()
        except OSError:
            continue    # removed between the listing and now
        summary = _file_summary(str(path), stat.st_mtime_ns, stat.st_size)
        if summary is None:
            continue
        entries.append(FileEntry(key=summary.key, label=_label(path, origin, summary), variant=summary.variant,
                                 dataset=summary.dataset, path=str(path), origin=origin,
                                 sweep=sweep_of(path, sweep_root) if sweep_root else None))
    return entries


@st.cache_data(show_spinner=False, ttl=5)
def _shared_entries(checkpoints: str, saved: str, lang: str) -> list[FileEntry]:
    """The shipped checkpoints, then the saved ones, labelled in lang. The folders are listed again every
    5 s (files come and go); a file is only read again when it changes."""
    shipped = [(p, "shipped") for p in shipped_checkpoint_paths(Path(checkpoints))]
    saved_paths = sorted(Path(saved).glob("*.pt")) if Path(saved).is_dir() else []
    return _file_entries(shipped, Path(checkpoints)) + _file_entries([(p, "saved") for p in saved_paths])


def saved_key(path: Path) -> str:
    """The model-list key of a checkpoint just saved into SAVE_DIR, listed from now on (not in 5 s)."""
    _shared_entries.clear()
    return "file:" + file_digest(path)


def shipped_entries() -> list[FileEntry]:
    """The checkpoints everyone sees: shipped under checkpoints/, and saved (SAVE_DIR)."""
    return _shared_entries(str(CHECKPOINT_DIR), str(SAVE_DIR), language())


def own_entries(browser: str) -> list[FileEntry]:
    """This browser's own checkpoints on disk (trained here, uploads kept), newest first."""
    store.prune_stale()
    return _file_entries(store.files(browser), store.folder(browser))


def model_entries() -> dict[str, ModelEntry]:
    """Shipped and saved checkpoints, this browser's own, then what this session holds in memory."""
    entries: dict[str, ModelEntry] = {entry.key: entry for entry in shipped_entries()}
    for entry in own_entries(identity.browser_id()):
        # The same bytes saved for everyone (Save within the second training ended) is one model: the shared
        # file's entry stays, so a link can name it.
        entries.setdefault(entry.key, entry)
    entries.update(st.session_state.get(keys.SESSION_MODELS, {}))
    return entries


def add_session_model(entry: ModelEntry, activate_it: bool = True) -> None:
    st.session_state.setdefault(keys.SESSION_MODELS, {})[entry.key] = entry
    if activate_it:
        activate(entry.key, entry.dataset)


def activate(key: str, dataset_name: str) -> None:
    """Make a model active with its dataset (call before the sidebar exists, or as a callback)."""
    st.session_state[keys.ACTIVE_MODEL] = key
    st.session_state[keys.DATASET] = dataset_name


def current_device() -> str:
    """The sidebar's device, resolved ('auto' → the best available); cpu if it is not available."""
    from ..device import resolve_device

    try:
        return str(resolve_device(st.session_state.get(keys.DEVICE, "auto")))
    except ValueError:
        return "cpu"


@dataclass(frozen=True)
class AddedUpload:
    entry: ModelEntry
    not_kept: str | None = None     # why it could not be kept on disk (it is loaded for this tab instead)


def add_upload(name: str, payload: bytes, keep: bool = False) -> AddedUpload:
    """Read an uploaded checkpoint (once: into the shared cache) and add it to this session, or, keep,
    to this browser's own models on disk (listed after a reload too; if the disk or the browser's share
    of it is full, to this session, saying why); CheckpointError if unusable or over a limit."""
    limit_mb = st.get_option("server.maxUploadSize")
    if len(payload) > limit_mb * 1024 * 1024:
        raise CheckpointError(tr("{name}: {size:.0f} MB is over the {limit} MB upload limit; checkpoints of these "
                                 "models are a few MB — is this the right file?", name=name,
                                 size=len(payload) / 2**20, limit=limit_mb))
    key = "upload:" + bytes_digest(payload)
    held = [k for k, e in st.session_state.get(keys.SESSION_MODELS, {}).items() if isinstance(e, UploadedEntry)]
    model = caches.uploaded_model(key, payload, name, current_device())
    trained_on = model.meta.dataset if model.meta else tr("unknown data")
    not_kept = None
    if keep:
        browser = identity.browser_id()
        try:
            store.check_room(browser, len(payload))
            path = store.write_new(store.kept_upload_path(browser, name), payload)
        except (store.NoRoomError, OSError) as exc:      # files.WriteError names the file and the cause
            not_kept = str(exc)
        else:
            kept = FileEntry(key="file:" + bytes_digest(payload), label=f"{path.stem} ({model.name}) · "
                             f"{trained_on} · {tr('uploaded')}", variant=model.name, dataset=trained_on,
                             record=model.meta, path=str(path), origin="kept")
            activate(kept.key, kept.dataset)
            return AddedUpload(kept)
    if key not in held and len(held) >= MAX_TAB_UPLOADS:
        raise CheckpointError(tr("{name}: this tab holds {count} uploaded models already, the most one tab keeps "
                                 "in memory; reload the page to start afresh, or tick 'Keep it in this browser' "
                                 "to keep uploads on disk", name=name, count=len(held)))
    entry = UploadedEntry(key=key, label=f"{name} ({model.name}) · {trained_on} · {tr('uploaded')}", variant=model.name,
                          dataset=trained_on, record=model.meta, payload=payload)
    add_session_model(entry)
    return AddedUpload(entry, not_kept)


def default_model_key(entries: Mapping[str, ModelEntry]) -> str | None:
    for key, entry in entries.items():
        if isinstance(entry, FileEntry) and entry.origin == "shipped" and Path(entry.path).stem == DEFAULT_MODEL:
            return key
    return next(iter(entries), None)


def load_entry(entry: ModelEntry, device: str) -> Autoencoder:
    """The entry's model on device: shared and cached for checkpoints, the session's own otherwise."""
    if isinstance(entry, FileEntry):
        return caches.checkpoint_model(entry.path, entry.key, device)
    if isinstance(entry, UploadedEntry):
        return caches.uploaded_model(entry.key, entry.payload, entry.label, device)
    assert isinstance(entry, TrainedEntry), type(entry)
    return entry.model.to(device)   # trained in this session: owned by it, not shared


def compared_models(model_keys: list[str], data: Dataset) -> tuple[list[ComparedModel], list[str]]:
    """The models behind model_keys, loaded and evaluated on data (both cached), each named by what
    sets it apart from the others; and a message for each one left out (it does not fit the data)."""
    entries, device = model_entries(), current_device()
    loaded, skipped = [], []
    for key in model_keys:
        entry = entries[key]
        try:
            model = load_entry(entry, device)
            model.check_fits(data.name, data.input_dim, data.image_shape)
            loaded.append((entry, model))
        except (CheckpointError, DataMismatchError) as exc:
            skipped.append(f"{entry.label}: {exc}")
    compared: list[ComparedModel] = []
    for (entry, model), setting in zip(loaded, describe_settings([m for _, m in loaded]), strict=True):
        if any(c.setting == setting for c in compared):      # the same settings twice: tell them apart
            setting = f"{setting} [{entry.label}]"
        record = model.meta or entry.record
        sweep = entry.sweep if isinstance(entry, FileEntry) else None
        compared.append(ComparedModel(entry.key, entry.label, setting, sweep or model.name, model,
                                      caches.metrics(entry.key, model, data.name, device),
                                      record.history if record else {}, record.train if record else {}))
    return compared, skipped
