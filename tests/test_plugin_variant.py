"""Adding a variant is adding one file: a throw-away variant written into a copy of the package is
listed, trained, saved, evaluated and shown by every page, with no other file changed."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from conftest import ROOT

VARIANT_FILE = '''"""`ridge`: a throw-away variant written by tests/test_plugin_variant.py — γ·‖z‖² on a ReLU code."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..params import param
from ..registry import register
from .base import Autoencoder, AutoencoderConfig, CodeKind, Metric, Pass, Term


@dataclass
class RidgeConfig(AutoencoderConfig):
    latent_dim: int = param(16, "Code units.", low=1, ui_low=2, ui_high=64)
    gamma: float = param(1e-3, "γ, weight of the L2 penalty on the code.", low=0.0, log_scale=True,
                         ui_low=1e-5, ui_high=1e-1, symbol="γ")


@register
class RidgeAutoencoder(Autoencoder):
    """Objective: min E ‖x − g(z)‖² + γ·‖z‖²,  z = ReLU(f(x))."""

    name = "ridge"
    order = 95
    summary = "Test variant: an L2 penalty on a ReLU code, small values not counted as active."
    objective_latex = r"\\min\\ \\mathbb{E}\\lVert x - g(z) \\rVert^2 + \\gamma \\lVert z \\rVert^2"
    config_class = RidgeConfig
    code = CodeKind("ReLU, small values ignored", 0.1)
    penalty_terms = (Term("l2", "‖z‖²", "L2 norm of the code, squared", weight="gamma"),)
    extra_metrics = (Metric("mean_norm", "mean ‖z‖ per image"),
                     Metric("unit_abs_mean", "mean |z_j| per unit", per_unit=True))

    def penalties(self, out: Pass, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"l2": out.z.pow(2).sum(dim=1).mean()}

    def measure_extras(self, x: torch.Tensor) -> dict[str, float | list[float]]:
        z = self.encode_all(x)
        return {"mean_norm": float(z.norm(dim=1).mean()), "unit_abs_mean": z.abs().mean(0).tolist()}
'''


def run(args: list[str], cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd), "AE_EXPLORER_OFFLINE": "1"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_a_new_variant_file_is_listed_trained_saved_evaluated_and_shown_everywhere(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    for part in ("explorer", "pages", ".streamlit"):
        shutil.copytree(ROOT / part, app / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "streamlit_app.py", app)
    (app / "checkpoints").mkdir()
    shutil.copy(ROOT / "checkpoints" / "ae.pt", app / "checkpoints")
    (app / "tests").mkdir()
    for helper in ("plugin_tour.py", "apptest_support.py"):
        shutil.copy(ROOT / "tests" / helper, app / "tests")
    before = {p.relative_to(app): p.read_bytes() for p in app.rglob("*") if p.is_file()}
    (app / "explorer" / "variants" / "ridge.py").write_text(VARIANT_FILE)

    listing = run(["-m", "explorer", "variants"], app)
    assert listing.returncode == 0, listing.stderr
    assert "ridge" in listing.stdout and "gamma=0.001" in listing.stdout and "active when |z_j| > 0.1" in listing.stdout

    trained = run(["-m", "explorer", "train", "--variant", "ridge", "--param", "gamma=1e-4", "--epochs", "30",
                   "--out", "checkpoints/ridge.pt"], app)
    assert trained.returncode == 0, trained.stderr
    assert "l2" in trained.stdout and (app / "checkpoints" / "ridge.pt").exists()

    evaluated = run(["-m", "explorer", "evaluate", "--checkpoint", "checkpoints/ridge.pt", "--json"], app)
    assert evaluated.returncode == 0, evaluated.stderr
    metrics = json.loads(evaluated.stdout)
    assert metrics["variant"] == "ridge" and 0 < metrics["fvu"] < 1 and metrics["mean_norm"] > 0
    assert len(metrics["unit_abs_mean"]) == 16 and set(metrics["loss_terms"]) == {"total", "recon_mse", "l2"}
    assert metrics["active_when"] == "|z_j| > 0.1"

    tour = run(["tests/plugin_tour.py", "ridge", "ridge", "gamma"], app)
    assert tour.returncode == 0, tour.stderr[-3000:]
    seen = json.loads(tour.stdout.strip().splitlines()[-1])
    for page, what in seen.items():
        assert what["exceptions"] == [] and what["errors"] == [], (page, what)
    assert seen["home"]["metrics"]["Active model"] == "ridge"
    assert "|z_j| > 0.1" in " ".join(seen["activations"]["captions"] + [seen["activations"]["markdown"]])
    assert "hp_ridge_gamma" in seen["train"]["widgets"]
    assert seen["claims"]["subheaders"][0] == "Verdicts" and "Every number" in seen["claims"]["subheaders"]

    changed = [str(p) for p, data in before.items() if (app / p).read_bytes() != data]
    assert changed == []                                  # the new file was the only change
