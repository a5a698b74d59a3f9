"""The classical baselines for the Compare page's frontier: fitted once per server for every session, kept in
memory and on disk (beside the claims' measures, MEASURE_DIR), so a restarted server draws them at once.

A lock per setting makes a class opening the page at once wait for one fit. Fitting never calls Streamlit,
so a click during it does not lose it: the result is kept before the page's next Streamlit call reruns."""
from __future__ import annotations

import threading
import time

import streamlit as st

from ..baselines import BaselinePoint, baseline_points, check_settings, frontier_settings, kept_points, store_key
from ..datasets import Dataset
from ..i18n import tr
from ..measure_store import MeasureStore
from ..variants.base import Autoencoder
from .catalog import CHECKPOINT_DIR
from .measured import MEASURE_DIR

Key = tuple[str, tuple[int, ...], int, int]

_store = MeasureStore(MEASURE_DIR)
# The shipped dataset's baselines, made with the shipped checkpoints (scripts/make_checkpoints.py): a first
# visit to the frontier draws them at once instead of fitting for half a minute.
_shipped = MeasureStore(CHECKPOINT_DIR / "measures")
_lock = threading.Lock()
_locks: dict[Key, threading.Lock] = {}
_fitted: dict[Key, list[BaselinePoint]] = {}


def _key(data: Dataset, ks: tuple[int, ...], atoms: int, seed: int) -> Key:
    return data.name, check_settings(ks, atoms, data.input_dim), atoms, seed


def _lock_for(key: Key) -> threading.Lock:
    with _lock:
        return _locks.setdefault(key, threading.Lock())


def kept(data: Dataset, ks: tuple[int, ...], atoms: int, seed: int = 0) -> list[BaselinePoint] | None:
    """The baselines if they are in memory or on disk (read into memory), else None: nothing is fitted."""
    key = _key(data, ks, atoms, seed)
    if key in _fitted:
        return _fitted[key]
    stored = store_key(data, key[1], atoms, seed)
    found = kept_points(_store, stored) or kept_points(_shipped, stored)
    if found is not None:
        with _lock:
            _fitted[key] = found
    return found


def points(data: Dataset, ks: tuple[int, ...], atoms: int, seed: int = 0) -> list[BaselinePoint]:
    """The baselines: kept, or fitted now (once, however many sessions ask at the same time) and kept."""
    key = _key(data, ks, atoms, seed)
    with _lock_for(key):
        if key not in _fitted:
            found = baseline_points(data, key[1], atoms, seed, store=_store)
            with _lock:
                _fitted[key] = found
        return _fitted[key]


def beside(models: list[Autoencoder], data: Dataset) -> list[BaselinePoint]:
    """The baselines to draw beside models (their dictionary size, k = 5, 10, 20, see `frontier_settings`):
    kept, or fitted now under a status box that says what is being fitted."""
    ks, atoms = frontier_settings(models, data.input_dim)
    found = kept(data, ks, atoms)
    if found is not None:
        return found
    with st.status(tr("Fitting PCA, NMF and OMP dictionary learning ({atoms} atoms) on the {count:,} {dataset} "
                      "training images at k = {ks} — the first time only: they are kept on disk for every later "
                      "visit…", atoms=atoms, count=len(data.train_x), dataset=data.name,
                      ks=", ".join(map(str, ks)))) as status:
        started = time.perf_counter()
        found = points(data, ks, atoms)
        status.update(label=tr("Fitted the classical baselines in {seconds:.0f} s",
                               seconds=time.perf_counter() - started), state="complete", expanded=False)
    return found


def clear() -> None:
    """Forget what is held in memory, as a restart would (the disk keeps its copies)."""
    with _lock:
        _fitted.clear()
