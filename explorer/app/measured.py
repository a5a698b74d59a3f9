"""The claims' measures for the pages: each model's made once per server for every session, kept in memory
and on disk (MEASURE_DIR: AE_EXPLORER_MEASURE_DIR, default `measures/` beside the browsers' folder).

Why not st.cache_resource alone: the Claims page shows progress only for the models still to measure,
so it must ask whether a model is measured without measuring it; and a restarted server must find the
measures on disk. A lock per (model, dataset, device) makes a class of 30 opening the page at once wait for
one computation. Measuring never calls Streamlit, so a click mid-way does not lose a model half-measured.
Models known by their weights' digest ('file:', 'upload:') are kept on disk; a session's own in-memory
model only in memory."""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from ..datasets import Dataset
from ..i18n import Later
from ..measure_store import MeasureStore, dataset_digest
from ..measures import (
    DatasetReference,
    ModelMeasures,
    NothingToMeasureError,
    dataset_reference,
    measure_model,
    stroke_factors,
)
from ..variants.base import Autoencoder
from .store import STATE_DIR

MEASURE_DIR = Path(os.environ.get("AE_EXPLORER_MEASURE_DIR", STATE_DIR.parent / "measures"))
MAX_IN_MEMORY = 512
DIGEST_KEYS = ("file:", "upload:")      # model keys that name the weights themselves

Measured = ModelMeasures | str          # the measures, or why the model has none (every unit dead)
# What is held for every session: the reason as a Later, said in each reader's language when returned.
_Held = ModelMeasures | Later | str

_store = MeasureStore(MEASURE_DIR)
_lock = threading.Lock()
_locks: dict[tuple[str, ...], threading.Lock] = {}
_references: dict[tuple[str, str], tuple[DatasetReference, str]] = {}
_models: OrderedDict[tuple[str, str, str], _Held] = OrderedDict()


def _lock_for(key: tuple[str, ...]) -> threading.Lock:
    with _lock:
        return _locks.setdefault(key, threading.Lock())


def reference_ready(dataset_name: str, device: str) -> bool:
    return (dataset_name, device) in _references


def reference(data: Dataset, device: str) -> tuple[DatasetReference, str]:
    """The dataset's shared part of every model's measures, and the dataset's digest: from memory, from
    disk, or made now (its strokes and pixel probe: ~10 s for mnist-5k) and kept."""
    key = (data.name, device)
    with _lock_for(("dataset", *key)):
        if key not in _references:
            digest = dataset_digest(data)
            kept = _store.reference(digest)
            if kept is None:
                strokes = stroke_factors(data)
                made = dataset_reference(data, strokes)              # the pixel probe is fitted here
                _store.keep_reference(digest, strokes, made.probe_pixels)
            else:
                made = dataset_reference(data, *kept)
            _references[key] = (made, digest)
        return _references[key]


def ready(model_key: str, dataset_name: str, device: str) -> bool:
    """Whether the model's measures are in memory (a page shows progress for the others)."""
    return (model_key, dataset_name, device) in _models


def measures(model_key: str, model: Autoencoder, data: Dataset, device: str) -> Measured:
    """The model's measures on data (or why there are none, in the reader's language): from memory, from
    disk, or measured now."""
    found = _measures(model_key, model, data, device)
    return found if isinstance(found, (ModelMeasures, str)) else str(found)


def _measures(model_key: str, model: Autoencoder, data: Dataset, device: str) -> _Held:
    key = (model_key, data.name, device)
    with _lock_for(key):
        if key in _models:
            with _lock:
                _models.move_to_end(key)
            return _models[key]
        ref, digest = reference(data, device)
        on_disk = model_key.startswith(DIGEST_KEYS)
        found: _Held | None = _store.model(model_key, digest) if on_disk else None
        if found is None:
            try:
                found = measure_model(model, data, ref)
            except NothingToMeasureError as exc:
                why = exc.args[0] if exc.args else None
                found = why if isinstance(why, Later) else str(exc)
            if on_disk and isinstance(found, ModelMeasures):
                _store.keep_model(model_key, digest, found)
        with _lock:
            _models[key] = found
            while len(_models) > MAX_IN_MEMORY:
                evicted, _ = _models.popitem(last=False)
                _locks.pop(evicted, None)          # its lock goes with it (a later request makes a new one)
        return found


def clear() -> None:
    """Forget what is held in memory, as a restart would (the disk keeps its copies)."""
    with _lock:
        _models.clear()
        _references.clear()
