"""Cached datasets, models and results, shared by every session of the server.

Cached objects are never mutated: models are loaded in eval mode and only used under no_grad;
training makes a new model. Keys name everything a result depends on (a model by its weights' key)."""
from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from .. import activations, code_push, features, figures, latent, measures, views
from ..checkpoint import load_checkpoint
from ..datasets import Dataset, load_dataset
from ..metrics import Evaluation, evaluate
from ..noise import NoiseSetting
from ..selectivity import Selectivity
from ..stability import SeedStability
from ..stability import seed_stability as stability_across_seeds
from ..variants.base import Autoencoder
from . import maps


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=8)
def dataset(name: str, device: str) -> Dataset:
    return load_dataset(name, device=device)


@st.cache_resource(show_spinner="Loading the model…", max_entries=64)
def checkpoint_model(path: str, key: str, device: str) -> Autoencoder:
    """A shipped checkpoint's model; `key` (its content hash) makes a replaced file a new entry."""
    return load_checkpoint(path, device=device)


@st.cache_resource(show_spinner="Loading the uploaded model…", max_entries=64)
def uploaded_model(key: str, _payload: bytes, name: str, device: str) -> Autoencoder:
    """An uploaded checkpoint's model, read once (CheckpointError, not cached, when it is unusable)."""
    return load_checkpoint(io.BytesIO(_payload), device, label=name)


_evaluated: set[tuple[str, str, str]] = set()      # (model key, dataset, device) that `metrics` has computed


@st.cache_data(show_spinner="Evaluating on the test split…", max_entries=256)
def metrics(model_key: str, _model: Autoencoder, dataset_name: str, device: str) -> Evaluation:
    result = evaluate(_model, dataset(dataset_name, device))
    _evaluated.add((model_key, dataset_name, device))
    return result


def metrics_ready(model_key: str, dataset_name: str, device: str) -> bool:
    """Whether `metrics` has these (so a page can show progress for the others first; a result the cache
    dropped since is computed again behind its spinner)."""
    return (model_key, dataset_name, device) in _evaluated


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
                    _report: activations.ActivationReport) -> go.Figure:
    """The small multiples of every unit (about 0.5 s of plotly work for 32 units), built once per
    model and setting and shared by every session; st.plotly_chart only reads it (never mutate)."""
    return figures.unit_histograms(_report.hist_counts, _report.hist_edges, np.asarray(units, dtype=int),
                                   log_counts, highlight=highlight, marks=_report.marks)


@st.cache_data(show_spinner=False, max_entries=256)
def encoder_filters(model_key: str, _model: Autoencoder) -> np.ndarray:
    return activations.encoder_filters(_model)


@st.cache_data(show_spinner=False, max_entries=256)
def read_dictionary(model_key: str, _model: Autoencoder) -> features.Dictionary:
    """Every unit's encoder filter and decoder atom."""
    return features.read_dictionary(_model)


@st.cache_data(show_spinner="Reading the unit's images…", max_entries=512)
def feature_report(model_key: str, _model: Autoencoder, dataset_name: str, device: str, unit: int,
                   threshold: float) -> features.FeatureReport:
    """One unit's feature page (its quantile bins, partners, classes), once per model, unit and threshold."""
    return features.feature_report(_model, dataset(dataset_name, device), unit, threshold)


@st.cache_data(show_spinner="Encoding the images…", max_entries=128)
def code_sample(model_key: str, _model: Autoencoder, dataset_name: str, device: str, n: int, source: str,
                seed: int) -> latent.CodeSample:
    return latent.code_sample(_model, dataset(dataset_name, device), n, source, seed)


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


@st.cache_data(show_spinner="Encoding the training images…", max_entries=64)
def train_codes(model_key: str, _model: Autoencoder, dataset_name: str, device: str) -> np.ndarray:
    """(N_train, K) codes of the training split: where a drawn digit's nearest training images are found."""
    return _model.encode_all(dataset(dataset_name, device).train_x).cpu().numpy()


@st.cache_data(show_spinner="Measuring each unit's class selectivity…", max_entries=256)
def unit_selectivity(model_key: str, _model: Autoencoder, dataset_name: str, device: str) -> Selectivity | None:
    """The model's class selectivity per unit (the Claims page's numbers); None when no unit is live."""
    try:
        return measures.model_selectivity(_model, dataset(dataset_name, device))
    except measures.NothingToMeasureError:
        return None


@st.cache_data(show_spinner="Matching the seeds' dictionaries…", max_entries=64)
def seed_stability(model_keys: tuple[str, ...], _models: list[Autoencoder], labels: tuple[str, ...],
                   _training: list[dict]) -> SeedStability:
    """Stability across seeds of these models (their training summaries follow from their keys)."""
    return stability_across_seeds(_models, list(labels), _training)


@st.cache_data(show_spinner=False, max_entries=16)
def decoded_plane(model_key: str, _model: Autoencoder, dataset_name: str, device: str, n: int, source: str,
                  seed: int, _coords: np.ndarray) -> code_push.DecodedPlane:
    """A 2-D code's plane decoded over the range of that map's sample (keyed by what draws the sample)."""
    return code_push.decoded_plane(_model, _coords)
