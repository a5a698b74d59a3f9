"""Sweeps: what they write, reuse of finished runs, and the sparsity trends they must show."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

from explorer import TrainSettings, load_checkpoint
from explorer.sweep import parse_values, run_sweep


def test_parse_values():
    assert parse_values("1e-3, 1e-2,0.1") == ["1e-3", "1e-2", "0.1"]
    with pytest.raises(ValueError, match="comma-separated list"):
        parse_values("1e-3,,1")
    with pytest.raises(ValueError, match="repeated"):
        parse_values("1,1")


def test_sweep_writes_checkpoints_and_summary_and_reuses_finished_runs(tmp_path, digits):
    settings = TrainSettings(epochs=2, batch_size=64)
    calls = []
    summary = run_sweep("sparse_kl", "beta", ["1e-3", "1e-1"], digits, tmp_path, settings, {"latent_dim": 16},
                        on_run=lambda i, n, v, reused: calls.append((v, reused)))
    assert calls == [("1e-3", False), ("1e-1", False)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sparse_kl-beta=1e-1.pt", "sparse_kl-beta=1e-3.pt",
                                                          "sweep.json"]
    on_disk = json.loads((tmp_path / "sweep.json").read_text())
    assert on_disk == summary and [r["value"] for r in on_disk["runs"]] == ["1e-3", "1e-1"]
    model = load_checkpoint(tmp_path / "sparse_kl-beta=1e-1.pt")
    assert model.config.beta == 0.1 and model.config.latent_dim == 16
    assert on_disk["runs"][1]["kl_sum"] == pytest.approx(model.meta.metrics["kl_sum"])
    before = (tmp_path / "sparse_kl-beta=1e-3.pt").stat().st_mtime_ns
    calls.clear()
    again = run_sweep("sparse_kl", "beta", ["1e-3", "1e-1", "1"], digits, tmp_path, settings, {"latent_dim": 16},
                      on_run=lambda i, n, v, reused: calls.append((v, reused)))
    assert calls == [("1e-3", True), ("1e-1", True), ("1", False)]
    assert (tmp_path / "sparse_kl-beta=1e-3.pt").stat().st_mtime_ns == before     # not rewritten
    assert [r["reused"] for r in again["runs"]] == [True, True, False]
    calls.clear()
    run_sweep("sparse_kl", "beta", ["1e-3"], digits, tmp_path, TrainSettings(epochs=3, batch_size=64),
              {"latent_dim": 16}, on_run=lambda i, n, v, reused: calls.append((v, reused)))
    assert calls == [("1e-3", False)]        # other training settings: retrained


def test_sweep_rejects_unknown_parameters_and_bad_values_before_training(tmp_path, digits):
    with pytest.raises(ValueError,
                       match="sparse_l1 has no parameter 'beta'; sweepable parameters: hidden, latent_dim, lam"):
        run_sweep("sparse_l1", "beta", ["1"], digits, tmp_path, TrainSettings(epochs=1))
    with pytest.raises(ValueError, match="rho must be in"):
        run_sweep("sparse_kl", "rho", ["0.05", "1.5"], digits, tmp_path, TrainSettings(epochs=1))
    assert not list(tmp_path.glob("*.pt"))


def test_larger_l1_weight_gives_sparser_codes_and_worse_reconstruction(tmp_path, mnist5k):
    summary = run_sweep("sparse_l1", "lam", ["0", "3e-4", "2e-3"], mnist5k, tmp_path,
                        TrainSettings(epochs=20, batch_size=128))
    runs = summary["runs"]
    mean_abs = [r["mean_l1"] for r in runs]
    l0 = [r["mean_l0"] for r in runs]
    mse = [r["recon_mse"] for r in runs]
    fvu = [r["fvu"] for r in runs]
    assert mean_abs[0] > mean_abs[1] > mean_abs[2]
    assert l0[0] > l0[1] > l0[2]
    assert mse[0] < mse[1] < mse[2] and fvu[0] < fvu[1] < fvu[2]
    assert not runs[0]["learned_nothing"] and not runs[1]["learned_nothing"]
    assert runs[2]["learned_nothing"] == (runs[2]["fvu"] > 0.95)     # flagged exactly when no better than x̄


def test_cli_sweep(tmp_path):
    argv = [sys.executable, "-m", "explorer", "sweep", "--variant", "denoising", "--param", "noise_level=0.1,0.5",
            "--set", "latent_dim=8", "hidden=32", "--dataset", "digits", "--epochs", "2", "--out", str(tmp_path)]
    first = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert first.returncode == 0, first.stderr
    assert "[1/2] noise_level=0.1: training" in first.stdout and "summary written" in first.stdout
    second = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert "[2/2] noise_level=0.5: reusing the finished checkpoint" in second.stdout
    bad = subprocess.run([*argv[:6], "--param", "noise_level=0.1,-1", *argv[8:]], cwd=ROOT, capture_output=True,
                         text=True, timeout=180)
    assert bad.returncode == 1 and "noise_level must be >= 0; got -1" in bad.stderr
