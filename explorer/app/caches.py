"""Cached datasets, models and results, shared by every session of the server.

Cached objects are never mutated: models are loaded in eval mode and only used under no_grad;
training makes a new model. Keys name everything a result depends on (a model by its weights' key), and,
for a result that holds shown text, the reader's language (InLanguage). A cache decorator's spinner text
cannot be translated: a slow function is called behind a spinner of its own instead (Spinning)."""
from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from .. import activations, code_push, features, figures, latent, measures, views
from ..checkpoint import load_checkpoint
from ..datasets import Dataset, load_dataset
from ..i18n import N_, language, tr
from ..metrics import Evaluation, evaluate
from ..noise import NoiseSetting
from ..selectivity import Selectivity
from ..stability import SeedStability
from ..stability import seed_stability as stability_across_seeds
from ..variants.base import Autoencoder
from . import maps

P = ParamSpec("P")
R = TypeVar("R")


class Spinning(Generic[P, R]):
    """A cached function called behind a spinner saying `text` (a key) in the reader's language; Streamlit
    shows a spinner only once the call has taken a moment, so a cache hit shows nothing. `clear()` clears
    the cache. The cached functions here call each other's undecorated selves: never a spinner in a cache."""

    def __init__(self, text: str, cached: Callable[P, R]) -> None:
        self.text, self.cached = text, cached
        self._clearable: Any = cached          # a cached function (st.cache_*), or an InLanguage
        self.__doc__ = cached.__doc__

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if get_script_run_ctx(suppress_warning=True) is None:     # no page's run (the launcher's warm-up)
            return self.cached(*args, **kwargs)
        with st.spinner(tr(self.text)):
            return self.cached(*args, **kwargs)

    def clear(self) -> None:
        self._clearable.clear()


class InLanguage(Generic[P, R]):
    """A cached function whose result holds shown text (a figure, a rule in words), called with the
    reader's language as its first argument: each language's result is cached apart."""

    def __init__(self, cached: Callable[Concatenate[str, P], R]) -> None:
        self.cached = cached
        self._clearable: Any = cached          # a cached function (st.cache_*)
        self.__doc__ = cached.__doc__

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.cached(language(), *args, **kwargs)

    def clear(self) -> None:
        self._clearable.clear()


@st.cache_resource(show_spinner=False, max_entries=8)
def _dataset(name: str, device: str) -> Dataset:
    return load_dataset(name, device=device)


dataset = Spinning(N_("Loading the dataset…"), _dataset)


@st.cache_resource(show_spinner=False, max_entries=64)
def _checkpoint_model(path: str, key: str, device: str) -> Autoencoder:
    """A shipped checkpoint's model; `key` (its content hash) makes a replaced file a new entry."""
    return load_checkpoint(path, device=device)


checkpoint_model = Spinning(N_("Loading the model…"), _checkpoint_model)


@st.cache_resource(show_spinner=False, max_entries=64)
def _uploaded_model(key: str, _payload: bytes, name: str, device: str) -> Autoencoder:
    """An uploaded checkpoint's model, read once (CheckpointError, not cached, when it is unusable)."""
    return load_checkpoint(io.BytesIO(_payload), device, label=name)


uploaded_model = Spinning(N_("Loading the uploaded model…"), _uploaded_model)

_evaluated: set[tuple[str, str, str]] = set()      # (model key, dataset, device) that `metrics` has computed


@st.cache_data(show_spinner=False, max_entries=256)
def _metrics(model_key: str, _model: Autoencoder, dataset_name: str, device: str) -> Evaluation:
    """Every evaluation number (its learned-nothing reason is said in the reader's language where shown)."""
    result = evaluate(_model, _dataset(dataset_name, device))
    _evaluated.add((model_key, dataset_name, device))
    return result


metrics = Spinning(N_("Evaluating on the test split…"), _metrics)


def metrics_ready(model_key: str, dataset_name: str, device: str) -> bool:
    """Whether `metrics` has these (so a page can show progress for the others first; a result the cache
    dropped since is computed again behind its spinner)."""
    return (model_key, dataset_name, device) in _evaluated


@st.cache_data(show_spinner=False, max_entries=256)
def _error_summary(model_key: str, _model: Autoencoder, dataset_name: str, device: str,
                   noise: NoiseSetting | None, seed: int) -> views.ErrorSummary:
    return views.error_summary(_model, _dataset(dataset_name, device), noise, seed)


error_summary = Spinning(N_("Measuring reconstruction error…"), _error_summary)


@st.cache_data(show_spinner=False, max_entries=256)
def _activation_report(lang: str, model_key: str, _model: Autoencoder, dataset_name: str, device: str,
                       threshold: float, rho: float) -> activations.ActivationReport:
    """The code's per-unit numbers, with its marks' rules in words (in lang)."""
    return activations.activation_report(_model, _dataset(dataset_name, device), threshold, rho)


activation_report = Spinning(N_("Encoding the test split…"), InLanguage(_activation_report))


@st.cache_resource(show_spinner=False, max_entries=256)
def _unit_histograms(lang: str, model_key: str, dataset_name: str, device: str, threshold: float, rho: float,
                     units: tuple[int, ...], log_counts: bool, highlight: int | None,
                     _report: activations.ActivationReport) -> go.Figure:
    """The small multiples of every unit (about 0.5 s of plotly work for 32 units), built once per
    model, setting and language and shared by every session; st.plotly_chart only reads it (never mutate)."""
    return figures.unit_histograms(_report.hist_counts, _report.hist_edges, np.asarray(units, dtype=int),
                                   log_counts, highlight=highlight, marks=_report.marks)


unit_histograms = InLanguage(_unit_histograms)


@st.cache_data(show_spinner=False, max_entries=256)
def encoder_filters(model_key: str, _model: Autoencoder) -> np.ndarray:
    return activations.encoder_filters(_model)


@st.cache_data(show_spinner=False, max_entries=256)
def read_dictionary(model_key: str, _model: Autoencoder) -> features.Dictionary:
    """Every unit's encoder filter and decoder atom."""
    return features.read_dictionary(_model)


@st.cache_data(show_spinner=False, max_entries=512)
def _feature_report(model_key: str, _model: Autoencoder, dataset_name: str, device: str, unit: int,
                    threshold: float) -> features.FeatureReport:
    """One unit's feature page (its quantile bins, partners, classes), once per model, unit and threshold."""
    return features.feature_report(_model, _dataset(dataset_name, device), unit, threshold)


feature_report = Spinning(N_("Reading the unit's images…"), _feature_report)


@st.cache_data(show_spinner=False, max_entries=128)
def _code_sample(model_key: str, _model: Autoencoder, dataset_name: str, device: str, n: int, source: str,
                 seed: int) -> latent.CodeSample:
    return latent.code_sample(_model, _dataset(dataset_name, device), n, source, seed)


code_sample = Spinning(N_("Encoding the images…"), _code_sample)


def projections(model_key: str, dataset_name: str, device: str, n: int, source: str, seed: int, method: str,
                dims: int, perplexity: float, iterations: int, codes: np.ndarray) -> Iterator[latent.Projection]:
    """The map a page shows, as it is made: PCA and raw maps at once (cached here); t-SNE and UMAP
    maps through `maps` (intermediate maps as they arrive, the final last; kept in memory and on
    disk). The seed draws the sample and seeds the method."""
    if method not in latent.SLOW_METHODS:
        yield projection(model_key, dataset_name, device, n, source, seed, method, dims, perplexity, iterations, codes)
        return
    yield from maps.converging(maps.request(model_key, dataset_name, device, n, source, seed, method, dims, seed,
                                            perplexity, iterations, codes), codes)


@st.cache_data(show_spinner=False, max_entries=128)
def projection(model_key: str, dataset_name: str, device: str, n: int, source: str, seed: int, method: str,
               dims: int, perplexity: float, iterations: int, _codes: np.ndarray) -> latent.Projection:
    """Keyed by everything the map depends on; the codes themselves follow from the first six."""
    return latent.project(_codes, method, dims, seed, perplexity, iterations)


@st.cache_data(show_spinner=False, max_entries=64)
def _train_codes(model_key: str, _model: Autoencoder, dataset_name: str, device: str) -> np.ndarray:
    """(N_train, K) codes of the training split: where a drawn digit's nearest training images are found."""
    return _model.encode_all(_dataset(dataset_name, device).train_x).cpu().numpy()


train_codes = Spinning(N_("Encoding the training images…"), _train_codes)


@st.cache_data(show_spinner=False, max_entries=256)
def _unit_selectivity(model_key: str, _model: Autoencoder, dataset_name: str, device: str) -> Selectivity | None:
    """The model's class selectivity per unit (the Claims page's numbers); None when no unit is live."""
    try:
        return measures.model_selectivity(_model, _dataset(dataset_name, device))
    except measures.NothingToMeasureError:
        return None


unit_selectivity = Spinning(N_("Measuring each unit's class selectivity…"), _unit_selectivity)


@st.cache_data(show_spinner=False, max_entries=64)
def _seed_stability(model_keys: tuple[str, ...], _models: list[Autoencoder], labels: tuple[str, ...],
                    _training: list[dict]) -> SeedStability:
    """Stability across seeds of these models (their training summaries follow from their keys)."""
    return stability_across_seeds(_models, list(labels), _training)


seed_stability = Spinning(N_("Matching the seeds' dictionaries…"), _seed_stability)


@st.cache_data(show_spinner=False, max_entries=16)
def decoded_plane(model_key: str, _model: Autoencoder, dataset_name: str, device: str, n: int, source: str,
                  seed: int, _coords: np.ndarray) -> code_push.DecodedPlane:
    """A 2-D code's plane decoded over the range of that map's sample (keyed by what draws the sample)."""
    return code_push.decoded_plane(_model, _coords)
