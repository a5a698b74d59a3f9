"""Streamlit glue the pages share: cached datasets, models and results, and the active model.

The only module of the library that imports Streamlit. Cached objects are shared by every session
and never mutated: models are loaded in eval mode and only used under torch.no_grad()."""
from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from . import activations, figures, latent, views
from .catalog import CHECKPOINT_DIR, ModelEntry, bytes_digest, file_digest, shipped_checkpoint_paths, sweep_of
from .checkpoint import CheckpointError, check_dataset_fits, load_checkpoint, read_checkpoint
from .compare import ComparedModel, describe_settings
from .datasets import DEFAULT_DATASET, Dataset, DatasetUnavailableError, load_dataset
from .device import resolve_device
from .metrics import Evaluation, evaluate
from .noise import NoiseSetting
from .variants.base import Autoencoder

SESSION_MODELS = "session_models"   # session_state key: {key: ModelEntry} trained or uploaded here
ACTIVE = "active_model"             # session_state key: the active entry's key
DEFAULT_MODEL = "ae"                # the shipped checkpoint the app opens with


def leave_legacy_pages_mode() -> None:
    """Make sure this run is an st.navigation run. Call first in the entry script and every page.

    Streamlit starts a fresh server in its legacy `pages/`-folder mode (a class flag, cleared once
    st.navigation has been called): a run begun in that mode shows the folder's own navigation,
    skips our sidebar, and may run a page file directly. Every session that opened the app before
    the first st.navigation call is in such a run, so the flag alone does not tell: look for the
    legacy runner in the call stack too. Clear the flag and rerun once."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory or in_legacy_pages_run():
        PagesManager.uses_pages_directory = False
        st.rerun()


def in_legacy_pages_run() -> bool:
    """Whether Streamlit's legacy `pages/` runner (script_runner._mpa_v1) is running this script."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == LEGACY_RUNNER and frame.f_globals.get("__name__", "").startswith("streamlit."):
            return True
        frame = frame.f_back
    return False


LEGACY_RUNNER = "_mpa_v1"   # a test checks Streamlit still has it


@contextlib.contextmanager
def run_timer(page: str, started: float):
    """For the load test: with AE_EXPLORER_RUN_LOG set, append each page run's server-side seconds
    since `started` (the script's first line, so waiting for imports counts) and how it ended (done,
    or the rerun/stop that cut it short) to that file as a JSON line."""
    path = os.environ.get("AE_EXPLORER_RUN_LOG")
    if not path:
        yield
        return
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    run_context = get_script_run_ctx()
    outcome = "done"
    try:
        yield
    except BaseException as exc:
        outcome = type(exc).__name__
        raise
    finally:
        record = {"session": run_context.session_id if run_context else None, "page": page,
                  "seconds": round(time.perf_counter() - started, 4), "outcome": outcome}
        with open(path, "a") as log:      # one short write per line: lines from threads do not mix
            log.write(json.dumps(record) + "\n")


# -- cached resources (shared by all sessions) -------------------------------------------------------
@st.cache_resource(show_spinner="Loading the dataset…", max_entries=8)
def dataset(name: str, device: str) -> Dataset:
    return load_dataset(name, device=device)


@st.cache_resource(show_spinner="Loading the model…", max_entries=64)
def checkpoint_model(path: str, key: str, device: str) -> Autoencoder:
    """A shipped checkpoint's model; `key` (its content hash) makes a replaced file a new entry."""
    return load_checkpoint(path, device=device)


@st.cache_resource(show_spinner="Loading the uploaded model…", max_entries=64)
def uploaded_model(key: str, _payload: bytes, name: str, device: str) -> Autoencoder:
    return load_checkpoint(io.BytesIO(_payload), device, label=name)


@st.cache_data(show_spinner="Evaluating on the test split…", max_entries=256)
def metrics(model_key: str, _model: Autoencoder, dataset_name: str, device: str) -> Evaluation:
    return evaluate(_model, dataset(dataset_name, device))


@st.cache_data(show_spinner="Measuring reconstruction error…", max_entries=256)
def error_summary(model_key: str, _model: Autoencoder, dataset_name: str, device: str,
                  noise: NoiseSetting | None, seed: int) -> views.ErrorSummary:
    return views.error_summary(_model, dataset(dataset_name, device), noise, seed)


@st.cache_data(show_spinner="Encoding the test split…", max_entries=256)
def activation_report(model_key: str, _model: Autoencoder, dataset_name: str, device: str,
                      threshold: float, rho: float) -> activations.ActivationReport:
    return activations.activation_report(_model, dataset(dataset_name, device), threshold, rho)


@st.cache_resource(show_spinner=False, max_entries=256)
def unit_histograms(model_key: str, dataset_name: str, device: str, threshold: float, rho: float,
                    units: tuple[int, ...], log_counts: bool, highlight: int | None,
                    _report: activations.ActivationReport):
    """The small multiples of every unit (about 0.5 s of plotly work for 32 units), built once per
    model and setting and shared by every session; st.plotly_chart only reads it (never mutate)."""
    return figures.unit_histograms(_report.hist_counts, _report.hist_edges, np.asarray(units, dtype=int),
                                   log_counts, highlight=highlight)


@st.cache_data(show_spinner=False, max_entries=256)
def encoder_filters(model_key: str, _model: Autoencoder) -> "np.ndarray":
    return activations.encoder_filters(_model)


@st.cache_data(show_spinner="Encoding the images…", max_entries=128)
def code_sample(model_key: str, _model: Autoencoder, dataset_name: str, device: str, n: int, source: str,
                seed: int) -> latent.CodeSample:
    return latent.code_sample(_model, dataset(dataset_name, device), n, source, seed)


@st.cache_data(show_spinner=False, max_entries=128)
def projection(model_key: str, dataset_name: str, device: str, n: int, source: str, seed: int, method: str,
               dims: int, perplexity: float, iterations: int, _codes: "np.ndarray") -> latent.Projection:
    """Keyed by everything the map depends on; the codes themselves follow from the first six."""
    return latent.project(_codes, method, dims, seed, perplexity, iterations)


# -- the catalogue of models this session can pick ----------------------------------------------------
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
def _shipped_entries(folder: str) -> list[ModelEntry]:
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
        entries.append(ModelEntry(key, f"{name} · {data_name} · shipped", "shipped", variant, data_name,
                                  path=str(path), sweep=sweep_of(path, Path(folder))))
    return entries


def model_entries() -> dict[str, ModelEntry]:
    """Shipped checkpoints, then this session's own trained and uploaded models."""
    entries = {entry.key: entry for entry in _shipped_entries(str(CHECKPOINT_DIR))}
    entries.update(st.session_state.get(SESSION_MODELS, {}))
    return entries


def add_session_model(entry: ModelEntry, activate_it: bool = True) -> None:
    st.session_state.setdefault(SESSION_MODELS, {})[entry.key] = entry
    if activate_it:
        activate(entry.key, entry.dataset)


def activate(key: str, dataset_name: str) -> None:
    """Make a model active with its dataset (call before the sidebar exists, or as a callback)."""
    st.session_state[ACTIVE] = key
    st.session_state["dataset"] = dataset_name


def add_upload(name: str, payload: bytes) -> ModelEntry:
    """Validate an uploaded checkpoint and add it to this session; CheckpointError if unusable."""
    limit_mb = st.get_option("server.maxUploadSize")
    if len(payload) > limit_mb * 1024 * 1024:
        raise CheckpointError(f"{name}: {len(payload) / 2**20:.0f} MB is over the {limit_mb} MB upload limit; "
                              f"checkpoints of these models are a few MB — is this the right file?")
    key = "upload:" + bytes_digest(payload)
    model = load_checkpoint(io.BytesIO(payload), label=name)
    entry = ModelEntry(key, f"{name} ({model.name}) · {model.meta['dataset']} · uploaded", "upload",
                       model.name, model.meta["dataset"], meta=model.meta, payload=payload)
    add_session_model(entry)
    return entry


def default_model_key(entries: dict[str, ModelEntry]) -> str | None:
    for key, entry in entries.items():
        if entry.source == "shipped" and Path(entry.path).stem == DEFAULT_MODEL:
            return key
    return next(iter(entries), None)


# -- what a page works on ------------------------------------------------------------------------------
@dataclass
class PageContext:
    entry: ModelEntry
    model: Autoencoder
    data: Dataset
    device: str

    @property
    def key(self) -> str:
        return self.entry.key


def current_device() -> str:
    try:
        return str(resolve_device(st.session_state.get("device", "auto")))
    except ValueError:
        return "cpu"


def current_dataset() -> tuple[Dataset | None, str | None]:
    """(dataset, None) or (None, the message saying why it cannot be loaded and what to do)."""
    name = st.session_state.get("dataset", DEFAULT_DATASET)
    try:
        return dataset(name, current_device()), None
    except DatasetUnavailableError as exc:
        return None, str(exc)


def load_entry(entry: ModelEntry, device: str) -> Autoencoder:
    if entry.source == "shipped":
        return checkpoint_model(entry.path, entry.key, device)
    if entry.source == "upload":
        return uploaded_model(entry.key, entry.payload, entry.label, device)
    return entry.model.to(device)   # trained in this session: owned by it, not shared


def model_page(title: str) -> PageContext:
    """Start a page that shows the active model: title, then its context — or, if there is none,
    the reason and what to do, and the page stops there."""
    leave_legacy_pages_mode()
    st.title(title)
    ctx = active_context()
    if ctx is None:
        st.stop()
    return ctx


def data_page(title: str) -> Dataset:
    """Start a page that needs only the dataset (Train, Compare); stops with the reason if unavailable."""
    leave_legacy_pages_mode()
    st.title(title)
    data, problem = current_dataset()
    if data is None:
        st.error(problem, icon="📦")
        st.stop()
    return data


def active_context() -> PageContext | None:
    """The active model and dataset, or None after showing what is wrong and what to do."""
    data, problem = current_dataset()
    if data is None:
        st.error(problem, icon="📦")
        return None
    entries = model_entries()
    entry = entries.get(st.session_state.get(ACTIVE) or "") or entries.get(default_model_key(entries) or "")
    if entry is None:
        st.info("No model yet: train one on the **Train** page, or upload a checkpoint in the sidebar.")
        return None
    try:
        model = load_entry(entry, current_device())
        check_dataset_fits(model, data.name, data.input_dim, data.image_shape)
    except CheckpointError as exc:
        st.error(f"{exc}", icon="🧩")
        return None
    return PageContext(entry, model, data, current_device())


def compared_models(keys: list[str], data: Dataset) -> tuple[list[ComparedModel], list[str]]:
    """The models behind keys, loaded and evaluated on data (both cached), each named by what sets it
    apart from the others; and a message for each one left out (it does not fit the data)."""
    entries, device = model_entries(), current_device()
    loaded, skipped = [], []
    for key in keys:
        entry = entries[key]
        try:
            model = load_entry(entry, device)
            check_dataset_fits(model, data.name, data.input_dim, data.image_shape)
            loaded.append((entry, model))
        except CheckpointError as exc:
            skipped.append(f"{entry.label}: {exc}")
    compared: list[ComparedModel] = []
    for (entry, model), setting in zip(loaded, describe_settings([m for _, m in loaded])):
        if any(c.setting == setting for c in compared):      # the same settings twice: tell them apart
            setting = f"{setting} [{entry.label}]"
        meta = getattr(model, "meta", None) or entry.meta
        compared.append(ComparedModel(entry.key, entry.label, setting, entry.sweep or model.name, model,
                                      metrics(entry.key, model, data.name, device), meta.get("history") or {},
                                      meta.get("train") or {}))
    return compared, skipped

