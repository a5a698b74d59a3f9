"""Sweeps run from the app: trials as training jobs in the worker pool, sweep.json kept up to date, Stop
keeps the finished trials, and a second run trains only the rest (as after a server restart)."""
from __future__ import annotations

import time
import uuid

import pytest

from explorer.app import store, sweeps
from explorer.sweep import read_manifest


def _wait(live, timeout=180.0):
    deadline = time.monotonic() + timeout
    while (live.running or live._thread.is_alive()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not live.running


def test_suggested_values_span_the_parameter_s_range():
    lam = sweeps.sweepable("sparse_l1")["lam"]
    assert lam.get("log_scale")
    values = [float(v) for v in sweeps.suggested_values(lam)]
    ratios = [b / a for a, b in zip(values, values[1:], strict=False) if a > 0]
    assert values == sorted(values) and len(values) >= 5 and max(ratios) / min(ratios) < 4   # about log-spaced
    assert float(lam["default"]) in values
    k = sweeps.suggested_values(sweeps.sweepable("topk")["k"])
    assert all(v.isdigit() for v in k) and "10" in k
    assert "noise" not in sweeps.sweepable("denoising") and "hidden" not in sweeps.sweepable("ae")


def test_an_app_sweep_lands_trial_by_trial_and_is_kept_on_disk(digits):
    browser = uuid.uuid4().hex
    live = sweeps.start_sweep(browser, "ae", "latent_dim", ["4", "8"], 2, digits)
    _wait(live)
    (view,) = sweeps.browser_sweeps(browser)
    assert view.folder.parent == store.folder(browser) / "sweeps" and not view.running
    assert [t["status"] for t in view.trials] == ["done", "done"] and not view.unfinished
    assert view.title.startswith("latent sweep of ae · mine")
    assert sorted(p.name for p in view.folder.glob("*.pt")) == ["ae-latent_dim=4.pt", "ae-latent_dim=8.pt"]
    listed = store.files(browser)
    assert sorted((p.name, kind) for p, kind in listed) == [("ae-latent_dim=4.pt", "swept"),
                                                           ("ae-latent_dim=8.pt", "swept")]
    assert read_manifest(view.folder)["trials"][1]["metrics"]["fvu"] > 0


def test_stop_keeps_finished_trials_and_run_again_trains_only_the_rest(digits):
    browser = uuid.uuid4().hex
    live = sweeps.start_sweep(browser, "ae", "latent_dim", ["4", "6", "8"], 60, digits)
    deadline = time.monotonic() + 180        # the job itself, not sweep.json (mirrored every 0.3 s): stop at once
    while live.jobs["ae-latent_dim=4"].status != "done" and time.monotonic() < deadline:
        time.sleep(0.01)
    live.stop()
    _wait(live)
    (view,) = sweeps.browser_sweeps(browser)
    assert view.trials[0]["status"] == "done" and view.unfinished
    assert {t["status"] for t in view.trials[1:]} == {"interrupted"}
    assert [p.name for p in view.folder.glob("*.pt")] == ["ae-latent_dim=4.pt"]        # nothing half-trained kept
    kept = (view.folder / "ae-latent_dim=4.pt").stat().st_mtime_ns
    again = sweeps.resume(browser, view, digits)
    assert list(again.jobs) == ["ae-latent_dim=6", "ae-latent_dim=8"]                    # the finished one is reused
    _wait(again)
    (view,) = sweeps.browser_sweeps(browser)
    assert [t["status"] for t in view.trials] == ["done"] * 3 and view.trials[0]["reused"]
    assert (view.folder / "ae-latent_dim=4.pt").stat().st_mtime_ns == kept


def test_a_bad_value_is_refused_before_anything_trains(digits):
    browser = uuid.uuid4().hex
    with pytest.raises(ValueError, match="latent_dim must be"):
        sweeps.start_sweep(browser, "ae", "latent_dim", ["4", "-1"], 2, digits)
    with pytest.raises(ValueError, match="more than the 8 a sweep here may train"):
        sweeps.start_sweep(browser, "ae", "latent_dim", [str(i) for i in range(2, 12)], 2, digits)
    assert sweeps.browser_sweeps(browser) == []
