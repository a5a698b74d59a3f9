"""Shared fixtures: the real offline datasets, small IDX folders, and quickly trained models."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Browsers' own models and saved checkpoints go to a scratch folder, never to the user's (set before
# the app's modules read them; the servers the browser tests start inherit them).
SCRATCH = Path(tempfile.mkdtemp(prefix="ae-explorer-tests-"))
os.environ.setdefault("AE_EXPLORER_STATE_DIR", str(SCRATCH / "browsers"))
os.environ.setdefault("AE_EXPLORER_SAVE_DIR", str(SCRATCH / "runs"))
os.environ.setdefault("AE_EXPLORER_MAP_DIR", str(SCRATCH / "maps"))       # kept t-SNE maps
os.environ.setdefault("AE_EXPLORER_MEASURE_DIR", str(SCRATCH / "measures"))   # kept claims' measures

from explorer import TrainSettings, build_model, load_dataset, train, variant_names  # noqa: E402
from explorer.idx import write_mnist_folder  # noqa: E402


@pytest.fixture(scope="session")
def mnist5k():
    return load_dataset("mnist-5k")


@pytest.fixture(scope="session")
def digits():
    return load_dataset("digits")


def small_idx_arrays(n_train: int = 60, n_test: int = 20, seed: int = 0):
    """Tiny MNIST-shaped uint8 arrays with a known pattern: image i is filled with value 10·label."""
    rng = np.random.default_rng(seed)
    y_train = np.arange(n_train) % 10
    y_test = rng.integers(0, 10, n_test)
    x_train = np.repeat((10 * y_train)[:, None, None], 28 * 28, axis=1).reshape(n_train, 28, 28)
    x_test = np.repeat((10 * y_test)[:, None, None], 28 * 28, axis=1).reshape(n_test, 28, 28)
    x_train[:, 0, 0] = 255  # a bright corner pixel so the maximum is known
    return x_train.astype(np.uint8), y_train.astype(np.uint8), x_test.astype(np.uint8), y_test.astype(np.uint8)


@pytest.fixture
def idx_data_dir(tmp_path):
    """A data folder holding small MNIST and Fashion-MNIST IDX files, as torchvision expects them."""
    arrays = small_idx_arrays()
    write_mnist_folder(tmp_path / "MNIST" / "raw", *arrays)
    write_mnist_folder(tmp_path / "FashionMNIST" / "raw", *arrays)
    return tmp_path


@pytest.fixture(scope="session")
def trained_digits_models(digits):
    """One briefly trained model per variant on the 8×8 digits (fast), keyed by variant name."""
    models = {}
    for name in variant_names():
        params = {"latent_dim": 16} if name == "sparse_kl" else {"latent_dim": 8, "hidden": "32"}
        if name in ("topk", "batch_topk", "matryoshka", "mp"):
            params["k"] = 3
        if name == "matryoshka":
            params["prefixes"] = "2,4"
        if name == "mp":
            params["hidden"] = ""          # matching pursuit reads the image itself
        model = build_model(name, params, input_dim=digits.input_dim)
        result = train(model, digits, TrainSettings(epochs=3, batch_size=64, seed=0))
        models[name] = (model, result)
    return models


@pytest.fixture(autouse=True)
def _deterministic_threads():
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    yield
