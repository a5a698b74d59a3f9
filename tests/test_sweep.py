"""Sweeps: grids, what they write, reuse of finished trials, failures that do not stop the others,
resuming after Ctrl-C or a killed driver, and the sparsity trends they must show."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from explorer import TrainSettings, load_checkpoint
from explorer.folder_lock import LOCK_FILE
from explorer.sweep import (
    FORMAT,
    SweepConflictError,
    Trial,
    TrialOutcome,
    parse_values,
    plan_sweep,
    read_manifest,
    run_sweep,
)
from explorer.training import NonFiniteLossError


def sweep(tmp_path, data, variants, grid, settings, base=None, engine=None):
    events = []
    plan = plan_sweep(variants, grid, data, settings, base)
    manifest = run_sweep(plan, tmp_path, data, engine, lambda i, n, r: events.append((r.name, r.status, r.reused)))
    return manifest, events


def test_parse_values():
    assert parse_values("1e-3, 1e-2,0.1") == ["1e-3", "1e-2", "0.1"]
    with pytest.raises(ValueError, match="comma-separated list"):
        parse_values("1e-3,,1")
    with pytest.raises(ValueError, match="repeated"):
        parse_values("1,1")


def test_a_grid_over_two_variants_is_every_combination_named_by_its_values(digits):
    plan = plan_sweep(["topk", "batch_topk"], {"k": ["2", "4"], "latent_dim": ["8", "16"]}, digits,
                      lambda v: TrainSettings(epochs=1, batch_size=32 if v == "topk" else 64))
    assert [t.name for t in plan.trials] == [
        "topk-k=2-latent_dim=8", "topk-k=2-latent_dim=16", "topk-k=4-latent_dim=8", "topk-k=4-latent_dim=16",
        "batch_topk-k=2-latent_dim=8", "batch_topk-k=2-latent_dim=16", "batch_topk-k=4-latent_dim=8",
        "batch_topk-k=4-latent_dim=16"]
    assert plan.trials[5].params == {"k": "2", "latent_dim": "16"}
    assert [t.settings.batch_size for t in plan.trials] == [32] * 4 + [64] * 4     # per variant
    assert plan.title == "k, latent sweep of topk and batch_topk"


def test_sweep_writes_checkpoints_and_manifest_and_reuses_finished_trials(tmp_path, digits):
    settings = TrainSettings(epochs=2, batch_size=64)
    manifest, events = sweep(tmp_path, digits, ["sparse_kl"], {"beta": ["1e-3", "1e-1"]}, settings, {"latent_dim": 16})
    # One shape: the two trials train as one computation, so both start, then both land.
    assert events == [("sparse_kl-beta=1e-3", "running", False), ("sparse_kl-beta=1e-1", "running", False),
                      ("sparse_kl-beta=1e-3", "done", False), ("sparse_kl-beta=1e-1", "done", False)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sparse_kl-beta=1e-1.pt", "sparse_kl-beta=1e-3.pt",
                                                          "sweep.json"]
    on_disk = json.loads((tmp_path / "sweep.json").read_text())
    assert on_disk == manifest.to_dict() and on_disk["format"] == FORMAT and on_disk["engine"] == "local"
    assert on_disk["grid"] == {"beta": ["1e-3", "1e-1"]} and on_disk["base_params"] == {"latent_dim": "16"}
    trial = on_disk["trials"][1]
    assert (trial["status"], trial["params"]) == ("done", {"beta": "1e-1"})
    assert trial["checkpoint"] == "sparse_kl-beta=1e-1.pt"
    assert trial["settings"] == {"epochs": 2, "batch_size": 64, "lr": 1e-3, "seed": 0} and trial["seconds"] > 0
    model = load_checkpoint(tmp_path / "sparse_kl-beta=1e-1.pt")
    assert model.config.beta == 0.1 and model.config.latent_dim == 16
    assert trial["metrics"]["kl_sum"] == pytest.approx(model.meta.metrics["kl_sum"])
    before = (tmp_path / "sparse_kl-beta=1e-3.pt").stat().st_mtime_ns
    again, events = sweep(tmp_path, digits, ["sparse_kl"], {"beta": ["1e-3", "1e-1", "1"]}, settings,
                          {"latent_dim": 16})
    assert [e for e in events if e[1] != "running"] == [("sparse_kl-beta=1e-3", "done", True),
                                                       ("sparse_kl-beta=1e-1", "done", True),
                                                       ("sparse_kl-beta=1", "done", False)]
    assert (tmp_path / "sparse_kl-beta=1e-3.pt").stat().st_mtime_ns == before     # not rewritten
    assert [r.reused for r in again.records.values()] == [True, True, False]
    with pytest.raises(SweepConflictError, match="sparse_kl-beta=1e-3 .* was trained with epochs=2, this sweep "
                                                 "asks epochs=3"):      # other training: never replaced
        sweep(tmp_path, digits, ["sparse_kl"], {"beta": ["1e-3"]}, TrainSettings(epochs=3, batch_size=64),
              {"latent_dim": 16})
    assert (tmp_path / "sparse_kl-beta=1e-3.pt").stat().st_mtime_ns == before


def test_sweep_rejects_unknown_parameters_and_bad_values_before_training(tmp_path, digits):
    with pytest.raises(ValueError,
                       match="sparse_l1 has no parameter 'beta'; sweepable parameters: hidden, latent_dim, lam"):
        plan_sweep(["sparse_l1"], {"beta": ["1"]}, digits, TrainSettings(epochs=1))
    with pytest.raises(ValueError, match="sparse_l1 has no parameter 'k'"):
        plan_sweep(["topk", "sparse_l1"], {"k": ["5"]}, digits, TrainSettings(epochs=1))
    with pytest.raises(ValueError, match="rho must be in"):
        plan_sweep(["sparse_kl"], {"rho": ["0.05", "1.5"]}, digits, TrainSettings(epochs=1))
    with pytest.raises(ValueError, match="k is both swept and held fixed"):
        plan_sweep(["topk"], {"k": ["5"]}, digits, TrainSettings(epochs=1), {"k": "3"})
    assert not list(tmp_path.glob("*"))


def test_a_trial_that_fails_is_recorded_with_its_message_and_the_others_go_on(tmp_path, digits, monkeypatch):
    import explorer.runs

    real = explorer.runs.train_and_evaluate

    def nan_for_8(variant, params, data, settings, callback=None):   # as a too-high learning rate does, for one
        if params["latent_dim"] == "8":
            raise NonFiniteLossError("The loss became nan at epoch 1, step 3. Nothing was saved.", {})
        return real(variant, params, data, settings)

    monkeypatch.setattr(explorer.runs, "train_and_evaluate", nan_for_8)     # three shapes: each trains alone
    manifest, _ = sweep(tmp_path, digits, ["ae"], {"latent_dim": ["4", "8", "16"]}, TrainSettings(epochs=1))
    monkeypatch.undo()
    records = manifest.records
    assert [r.status for r in records.values()] == ["done", "failed", "done"]
    assert records["ae-latent_dim=8"].message == "The loss became nan at epoch 1, step 3. Nothing was saved."
    assert records["ae-latent_dim=8"].checkpoint is None and not (tmp_path / "ae-latent_dim=8.pt").exists()
    assert json.loads((tmp_path / "sweep.json").read_text())["trials"][1]["status"] == "failed"
    again, events = sweep(tmp_path, digits, ["ae"], {"latent_dim": ["4", "8", "16"]}, TrainSettings(epochs=1))
    assert [r.status for r in again.records.values()] == ["done"] * 3      # a failed trial is tried again


def test_read_manifest_reads_the_first_format_as_a_one_parameter_grid(tmp_path):
    first = {"variant": "topk", "param": "k", "values": ["2", "5"], "dataset": "mnist-5k", "base_params": {},
             "settings": {"epochs": 147, "batch_size": 128, "lr": 0.001, "seed": 0},
             "runs": [{"value": v, "checkpoint": f"topk-k={v}.pt", "reused": False, "train_seconds": 12.0,
                       "fvu": fvu, "mean_l0": float(v)} for v, fvu in (("2", 0.54), ("5", 0.39))]}
    (tmp_path / "sweep.json").write_text(json.dumps(first))
    summary = read_manifest(tmp_path)
    assert summary["variants"] == ["topk"] and summary["grid"] == {"k": ["2", "5"]}
    assert [(t["name"], t["status"], t["metrics"]["fvu"]) for t in summary["trials"]] == [
        ("topk-k=2", "done", 0.54), ("topk-k=5", "done", 0.39)]
    shipped = read_manifest(ROOT / "checkpoints" / "sweeps" / "topk-k")
    assert shipped["format"] == FORMAT and all(t["status"] == "done" for t in shipped["trials"])
    (tmp_path / "sweep.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a sweep manifest"):
        read_manifest(tmp_path)


def test_larger_l1_weight_gives_sparser_codes_and_worse_reconstruction(tmp_path, mnist5k):
    manifest, _ = sweep(tmp_path, mnist5k, ["sparse_l1"], {"lam": ["0", "3e-4", "2e-3"]},
                        TrainSettings(epochs=20, batch_size=128))
    runs = [r.metrics for r in manifest.records.values()]
    mean_abs = [r["mean_l1"] for r in runs]
    l0 = [r["mean_l0"] for r in runs]
    mse = [r["recon_mse"] for r in runs]
    fvu = [r["fvu"] for r in runs]
    assert mean_abs[0] > mean_abs[1] > mean_abs[2]
    assert l0[0] > l0[1] > l0[2]
    assert mse[0] < mse[1] < mse[2] and fvu[0] < fvu[1] < fvu[2]
    assert not runs[0]["learned_nothing"] and not runs[1]["learned_nothing"]
    assert runs[2]["learned_nothing"] == (runs[2]["fvu"] > 0.95)     # flagged exactly when no better than x̄


CLI = [sys.executable, "-m", "explorer", "sweep"]


def test_cli_sweep(tmp_path):
    argv = [*CLI, "--variant", "denoising", "--param", "noise_level=0.1,0.5", "--set", "latent_dim=8", "hidden=32",
            "--dataset", "digits", "--epochs", "2", "--out", str(tmp_path)]
    first = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert first.returncode == 0, first.stderr
    assert "[1/2] denoising-noise_level=0.1: training" in first.stdout and "summary written" in first.stdout
    second = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert "[2/2] denoising-noise_level=0.5: reusing the finished checkpoint" in second.stdout
    bad = subprocess.run([*argv[:6], "--param", "noise_level=0.1,-1", *argv[8:]], cwd=ROOT, capture_output=True,
                         text=True, timeout=180)
    assert bad.returncode == 1 and "noise_level must be >= 0; got -1" in bad.stderr
    local_only = subprocess.run([*argv, "--address", "auto"], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert local_only.returncode == 1 and local_only.stderr.strip() == "error: --address only apply to --engine ray"


def _wait_for(predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def _statuses(folder):
    try:
        return [t["status"] for t in json.loads((folder / "sweep.json").read_text())["trials"]]
    except (OSError, ValueError, KeyError):
        return []


@pytest.mark.parametrize("how", ["ctrl-c", "killed"])
def test_an_interrupted_sweep_keeps_its_finished_trials_and_resumes(tmp_path, how):
    argv = [*CLI, "--variant", "ae", "--param", "latent_dim=4,6,8", "--set", "hidden=32", "--dataset", "digits",
            "--epochs", "10", "--batch-size", "16", "--device", "cpu", "--out", str(tmp_path)]
    # Ctrl-C as a terminal delivers it: a shell running these tests in the background starts its jobs with
    # SIGINT ignored, and Python then never turns SIGINT into KeyboardInterrupt.
    driver = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        _wait_for(lambda: _statuses(tmp_path)[:2] == ["done", "running"])
        driver.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGKILL)
        out, err = driver.communicate(timeout=60)
    finally:
        driver.kill()
    statuses = _statuses(tmp_path)
    if how == "ctrl-c":
        assert driver.returncode == 130 and "run the same command again" in err
        assert statuses == ["done", "interrupted", "interrupted"]
    else:
        assert driver.returncode == -signal.SIGKILL and statuses == ["done", "running", "pending"]
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == ["ae-latent_dim=4.pt"]      # nothing half-written
    # No half-written file; a killed driver leaves its (released) lock file, which the next sweep takes.
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") and p.name != LOCK_FILE]
    finished = (tmp_path / "ae-latent_dim=4.pt").stat().st_mtime_ns
    again = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "[1/3] ae-latent_dim=4: reusing the finished checkpoint" in again.stdout
    assert "[3/3] ae-latent_dim=8: done" in again.stdout
    assert _statuses(tmp_path) == ["done"] * 3 and not (tmp_path / LOCK_FILE).exists()
    assert (tmp_path / "ae-latent_dim=4.pt").stat().st_mtime_ns == finished


def test_trial_outcome_without_a_checkpoint_carries_its_reason():
    outcome = TrialOutcome("x", None, {}, None, "bad")
    assert outcome.error == "bad" and outcome.checkpoint is None
    assert os.sep not in Trial("ae", (("hidden", "256;128"),), TrainSettings()).name


def test_nothing_imports_ray_unless_the_ray_engine_runs():
    code = ("import sys, explorer, explorer.cli, explorer.sweep, explorer.sweep_ray, explorer.app.sweeps\n"
            "print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
