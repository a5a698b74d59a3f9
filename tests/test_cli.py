"""The command line, as a user types it: train, evaluate --json, listings, and one-line errors."""
from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import pytest
import torch
from conftest import ROOT

from explorer.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def cli_checkpoints(tmp_path_factory):
    """Checkpoints made by the CLI itself (a subprocess, as a user runs it): ae, sparse_kl and vae."""
    folder = tmp_path_factory.mktemp("ckpt")
    made = {}
    for variant, extra in (("ae", []), ("sparse_kl", ["--param", "latent_dim=16"]),
                           ("vae", ["--param", "latent_dim=2", "hidden=32"])):
        out = folder / f"{variant}.pt"
        proc = subprocess.run([sys.executable, "-m", "explorer", "train", "--variant", variant,
                               "--dataset", "digits", "--epochs", "3", "--out", str(out), *extra],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        made[variant] = (out, proc.stdout)
    return made


def test_train_prints_epochs_speed_and_writes_checkpoint(cli_checkpoints):
    path, stdout = cli_checkpoints["ae"]
    lines = stdout.splitlines()
    assert sum(line.startswith("epoch ") for line in lines) == 3
    assert "train: total" in lines[1] and "test: total" in lines[1]
    assert "samples/s" in stdout and f"checkpoint written: {path}" in stdout
    payload = torch.load(path, weights_only=True)
    assert payload["train"]["epochs_run"] == 3 and payload["train"]["batch_size"] == 128
    assert payload["metrics"]["n_test"] == 360


def test_evaluate_json_keys(capsys, cli_checkpoints):
    code, out, _ = run(capsys, "evaluate", "--checkpoint", str(cli_checkpoints["ae"][0]), "--json")
    metrics = json.loads(out)
    assert code == 0
    for key in ("n_test", "recon_mse", "fvu", "explained_variance", "l2_ratio", "per_class_mse",
                "unit_mean_activation", "unit_firing_rate", "dead_fraction", "dense_fraction", "mean_l0",
                "active_when", "learned_nothing", "learned_nothing_reason"):
        assert key in metrics
    assert metrics["n_test"] == 360 and len(metrics["unit_firing_rate"]) == 32
    # evaluate agrees with what training stored in the checkpoint
    stored = torch.load(cli_checkpoints["ae"][0], weights_only=True)["metrics"]
    assert metrics["recon_mse"] == pytest.approx(stored["recon_mse"], rel=1e-6)
    code, out, _ = run(capsys, "evaluate", "--checkpoint", str(cli_checkpoints["sparse_kl"][0]), "--json")
    kl = json.loads(out)
    assert kl["rho"] == 0.05 and len(kl["unit_kl"]) == 16
    code, out, _ = run(capsys, "evaluate", "--checkpoint", str(cli_checkpoints["vae"][0]), "--json")
    vae = json.loads(out)
    assert len(vae["kl_per_dim"]) == 2 and set(vae["loss_terms"]) == {"total", "nll", "kl", "recon_mse"}
    assert "recon_bce" not in vae                         # one name, one meaning: the VAE's term is `nll`


def test_evaluate_human_readable(capsys, cli_checkpoints):
    code, out, _ = run(capsys, "evaluate", "--checkpoint", str(cli_checkpoints["sparse_kl"][0]))
    assert code == 0 and "recon_mse" in out and "kl_sum" in out and "worst class" in out
    assert "fvu" in out and "dense_fraction" in out and "(a unit is active when |z_j| > 0.5)" in out


def test_listings(capsys, tmp_path):
    code, out, _ = run(capsys, "variants")
    assert code == 0
    for name in ("ae", "sparse_l1", "sparse_kl", "denoising", "contractive", "vae"):
        assert any(line.startswith(name + " ") for line in out.splitlines())
    assert "rho=0.05  [(0, 1)]" in out and "noise=gaussian" in out
    code, out, _ = run(capsys, "datasets", "--data-dir", str(tmp_path))
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "yes" in rows["mnist-5k"] and "4000" in rows["mnist-5k"] and "no (needs" in rows["mnist"]


@pytest.mark.parametrize("argv, code, fragment", [
    (["train", "--variant", "ae", "--epochs", "x", "--out", "m.pt"], 2,
     "argument --epochs: expected a whole number, got 'x'"),
    (["train", "--variant", "ae", "--epochs", "0", "--out", "m.pt"], 2, "must be at least 1, got 0"),
    (["train", "--variant", "gan", "--out", "m.pt"], 2, "argument --variant: invalid choice: 'gan'"),
    (["train", "--variant", "ae", "--lr", "-1", "--out", "m.pt"], 2, "must be a positive number, got -1"),
    (["train", "--variant", "ae", "--param", "lam", "--out", "m.pt"], 2, "expected NAME=VALUE, got 'lam'"),
    (["train", "--variant", "sparse_kl", "--param", "rho=0", "--out", "m.pt"], 1, "rho must be in (0, 1); got 0"),
    (["train", "--variant", "ae", "--param", "lam=1", "--out", "m.pt"], 1, "unknown parameter 'lam'"),
    (["train", "--variant", "ae", "--dataset", "digits", "--batch-size", "5000", "--out", "m.pt"], 1,
     "batch size 5000 is larger than the 1437 training images"),
    (["train", "--variant", "ae", "--dataset", "mnist", "--out", "m.pt"], 1,
     "Datasets that work offline: mnist-5k, digits"),
    (["evaluate", "--checkpoint", "missing.pt"], 1, "missing.pt: no such file"),
    (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
])
def test_bad_input_exits_nonzero_with_one_line(capsys, tmp_path, monkeypatch, argv, code, fragment):
    monkeypatch.chdir(tmp_path)
    if "--dataset" in argv and argv[argv.index("--dataset") + 1] == "mnist":
        argv = argv + ["--data-dir", str(tmp_path)]
        monkeypatch.setenv("AE_EXPLORER_OFFLINE", "1")   # CI has no network; never wait on one
    with pytest.raises(SystemExit) if code == 2 else contextlib.nullcontext():
        result = main(argv)
        assert result == code
    _, err = capsys.readouterr()
    assert fragment in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.pt").exists()


def test_evaluate_with_a_dataset_of_another_image_size(capsys, cli_checkpoints):
    code, _, err = run(capsys, "evaluate", "--checkpoint", str(cli_checkpoints["ae"][0]), "--dataset", "mnist-5k")
    assert code == 1 and "reads 64-pixel images (trained on digits), but mnist-5k has 784-pixel" in err


def test_python_dash_m_entry_point_and_help():
    proc = subprocess.run([sys.executable, "-m", "explorer", "train", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "--param NAME=VALUE" in proc.stdout and "--batch-size" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "explorer", "evaluate"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "the following arguments are required: --checkpoint" in proc.stderr
    assert "Traceback" not in proc.stderr
