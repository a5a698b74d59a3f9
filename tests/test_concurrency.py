"""A class opening the app at once: each model, dataset, evaluation and projection is built once,
and every session gets that one object (no thirty copies)."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from conftest import ROOT

from explorer import latent
from explorer.app import caches, maps
from explorer.app.catalog import file_digest

SESSIONS = 12


def all_at_once(call, n: int = SESSIONS) -> list:
    """Run `call` in n threads released together (as n sessions' script runs would be)."""
    start = threading.Barrier(n)
    results, errors = [None] * n, []

    def session(i: int) -> None:
        start.wait()
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def counting(monkeypatch, module, name: str, delay: float = 0.3) -> list:
    """Replace module.name by a slow wrapper that records each call: slow, so the calls overlap."""
    calls, real = [], getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(threading.get_ident())
        time.sleep(delay)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


@pytest.fixture
def empty_caches():
    for cached in (caches.dataset, caches.checkpoint_model, caches.metrics, caches.projection, maps):
        cached.clear()
    yield
    for cached in (caches.dataset, caches.checkpoint_model, caches.metrics, caches.projection, maps):
        cached.clear()


def test_a_model_asked_for_by_every_session_at_once_is_loaded_once(monkeypatch, empty_caches):
    path = str(ROOT / "checkpoints" / "sparse_kl.pt")
    loads = counting(monkeypatch, caches, "load_checkpoint")
    models = all_at_once(lambda: caches.checkpoint_model(path, "file:" + file_digest(path), "cpu"))
    assert len(loads) == 1
    assert len({id(m) for m in models}) == 1          # the very same object in every session
    assert not models[0].training                      # shared models are in eval mode


def test_the_dataset_and_its_evaluation_are_built_once(monkeypatch, empty_caches):
    path = str(ROOT / "checkpoints" / "ae.pt")
    key = "file:" + file_digest(path)
    model = caches.checkpoint_model(path, key, "cpu")
    data_loads = counting(monkeypatch, caches, "load_dataset")
    evaluations = counting(monkeypatch, caches, "evaluate")
    results = all_at_once(lambda: caches.metrics(key, model, "mnist-5k", "cpu"))
    assert len(data_loads) == 1 and len(evaluations) == 1
    assert all(r == results[0] for r in results) and 0 < results[0].recon_mse < 0.05


def test_a_t_sne_map_asked_for_by_every_session_at_once_is_computed_once(monkeypatch, empty_caches, tmp_path):
    monkeypatch.setattr(maps, "MAP_DIR", tmp_path)
    codes = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)
    runs = counting(monkeypatch, latent, "project_steps", delay=0)
    shown = all_at_once(lambda: list(caches.projections("model:x", "mnist-5k", "cpu", 300, "test", 0, "tsne", 2,
                                                        30.0, 250, codes)))
    assert len(runs) == 1                                          # one computation, followed by all
    finals = [maps_seen[-1] for maps_seen in shown]
    assert all(f.final and np.array_equal(f.coords, finals[0].coords) for f in finals)
    assert finals[0].coords.shape == (300, 2)


def test_the_activations_small_multiples_are_drawn_once_and_shared(monkeypatch, empty_caches):
    from explorer import figures

    path = str(ROOT / "checkpoints" / "sparse_kl.pt")
    key = "file:" + file_digest(path)
    model = caches.checkpoint_model(path, key, "cpu")
    report = caches.activation_report(key, model, "mnist-5k", "cpu", 1e-3, 0.05)
    caches.unit_histograms.clear()
    draws = counting(monkeypatch, figures, "unit_histograms")
    units = tuple(range(report.n_units))
    shown = all_at_once(lambda: caches.unit_histograms(key, "mnist-5k", "cpu", 1e-3, 0.05, units, True, None, report))
    assert len(draws) == 1 and len({id(f) for f in shown}) == 1
    assert len(shown[0].data[0].x) == report.n_units * report.hist_counts.shape[1]     # every unit's bars
    other = caches.unit_histograms(key, "mnist-5k", "cpu", 1e-3, 0.05, units, False, None, report)
    assert len(draws) == 2 and other is not shown[0]            # another setting: its own figure


def test_a_class_opening_the_claims_page_measures_each_model_and_the_dataset_once(monkeypatch, tmp_path, digits,
                                                                                  trained_digits_models):
    from explorer.app import measured

    monkeypatch.setattr(measured, "_store", measured.MeasureStore(tmp_path))      # nothing kept from before
    measured.clear()
    model, key = trained_digits_models["batch_topk"][0], "file:a-digits-model"
    models = counting(monkeypatch, measured, "measure_model")
    strokes = counting(monkeypatch, measured, "stroke_factors")
    results = all_at_once(lambda: measured.measures(key, model, digits, "cpu"))
    assert len(models) == 1 and len(strokes) == 1
    assert all(r is results[0] for r in results)          # every session holds the one result
    measured.clear()
