"""This session's model list: shipped checkpoints on disk, the models it trained or uploaded, and which
one is active; loading an entry's model, and the models a comparison shows."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ..checkpoint import CheckpointError, read_checkpoint
from ..compare import ComparedModel, describe_settings
from ..datasets import Dataset
from ..variants.base import Autoencoder, DataMismatchError
from . import caches, keys
from .catalog import (
    CHECKPOINT_DIR,
    ModelEntry,
    ShippedEntry,
    TrainedEntry,
    UploadedEntry,
    bytes_digest,
    file_digest,
    shipped_checkpoint_paths,
    sweep_of,
)

DEFAULT_MODEL = "ae"                # the stem of the shipped checkpoint the app opens with


@st.cache_data(show_spinner=False, max_entries=512)
def _checkpoint_summary(path: str, mtime_ns: int, size: int) -> tuple[str, str, str] | None:
    """('file:<sha256>', variant, dataset) of one checkpoint file, read once per version of the file
    (mtime and size are the key); None if it is unreadable."""
    try:
        payload = read_checkpoint(path)
    except CheckpointError:
        return None     # skipped in the list; explained if someone loads it by other means
    return "file:" + file_digest(path), payload["variant"], payload["dataset"]


@st.cache_data(show_spinner=False, ttl=5)
def _shipped_entries(folder: str) -> list[ShippedEntry]:
    """Each readable checkpoint file as an entry. The folder is listed again every 5 s (files may be
    added or removed); a file is only read again when it changes."""
    entries = []
    for path in shipped_checkpoint_paths(Path(folder)):
        try:
            stat = path.stat()
        except OSError:
            continue    # removed between the listing and now
        summary = _checkpoint_summary(str(path), stat.st_mtime_ns, stat.st_size)
        if summary is None:
            continue
        key, variant, data_name = summary
        name = path.stem if path.stem == variant else f"{path.stem} ({variant})"
        entries.append(ShippedEntry(key=key, label=f"{name} · {data_name} · shipped", variant=variant,
                                    dataset=data_name, path=str(path), sweep=sweep_of(path, Path(folder))))
    return entries


def shipped_entries() -> list[ShippedEntry]:
    """The checkpoints under checkpoints/, as the sidebar lists them."""
    return _shipped_entries(str(CHECKPOINT_DIR))


def model_entries() -> dict[str, ModelEntry]:
    """Shipped checkpoints, then this session's own trained and uploaded models."""
    entries: dict[str, ModelEntry] = {entry.key: entry for entry in shipped_entries()}
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


def add_upload(name: str, payload: bytes) -> ModelEntry:
    """Read an uploaded checkpoint (once: into the shared cache) and add it to this session;
    CheckpointError if it is unusable."""
    limit_mb = st.get_option("server.maxUploadSize")
    if len(payload) > limit_mb * 1024 * 1024:
        raise CheckpointError(f"{name}: {len(payload) / 2**20:.0f} MB is over the {limit_mb} MB upload limit; "
                              f"checkpoints of these models are a few MB — is this the right file?")
    key = "upload:" + bytes_digest(payload)
    model = caches.uploaded_model(key, payload, name, current_device())
    trained_on = model.meta.dataset if model.meta else "unknown data"
    entry = UploadedEntry(key=key, label=f"{name} ({model.name}) · {trained_on} · uploaded", variant=model.name,
                          dataset=trained_on, record=model.meta, payload=payload)
    add_session_model(entry)
    return entry


def default_model_key(entries: dict[str, ModelEntry]) -> str | None:
    for key, entry in entries.items():
        if isinstance(entry, ShippedEntry) and Path(entry.path).stem == DEFAULT_MODEL:
            return key
    return next(iter(entries), None)


def load_entry(entry: ModelEntry, device: str) -> Autoencoder:
    """The entry's model on device: shared and cached for checkpoints, the session's own otherwise."""
    if isinstance(entry, ShippedEntry):
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
        sweep = entry.sweep if isinstance(entry, ShippedEntry) else None
        compared.append(ComparedModel(entry.key, entry.label, setting, sweep or model.name, model,
                                      caches.metrics(entry.key, model, data.name, device),
                                      record.history if record else {}, record.train if record else {}))
    return compared, skipped
