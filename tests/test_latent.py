"""Latent views: seeded samples, projections, neighbours, decoded paths, VAE grids, exports, CLI."""
from __future__ import annotations

import csv
import io
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT

from explorer.latent import (
    code_sample,
    codes_csv,
    interpolate,
    manifold_grid,
    nearest_neighbours,
    prior_samples,
    project,
    projector_tsv,
    traversal,
    umap_available,
)


def test_code_sample_is_seeded_and_consistent(trained_digits_models, digits):
    model, _ = trained_digits_models["ae"]
    a, b = code_sample(model, digits, 500, "all", seed=1), code_sample(model, digits, 500, "all", seed=1)
    assert len(a) == 500 and np.array_equal(a.index, b.index) and np.array_equal(a.codes, b.codes)
    assert set(a.split) == {"train", "test"}
    row = int(np.flatnonzero(a.split == "train")[0])
    assert np.array_equal(a.images[row], digits.train_x[a.index[row]].numpy())
    assert a.labels[row] == int(digits.train_y[a.index[row]])
    with torch.no_grad():
        assert np.allclose(a.codes[row], model.encode(digits.train_x[a.index[row]][None]).numpy()[0], atol=1e-6)
    test_only = code_sample(model, digits, 10_000, "test")
    assert len(test_only) == 360 and set(test_only.split) == {"test"}
    with pytest.raises(ValueError, match="source must be 'test' or 'all'"):
        code_sample(model, digits, 10, "val")


def test_pca_projection():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(300, 5)) * np.array([5.0, 2.0, 1.0, 0.5, 0.1])
    p = project(codes, "pca", 2)
    assert p.coords.shape == (300, 2) and p.explained_variance.sum() == pytest.approx(1.0)
    assert list(p.explained_variance) == sorted(p.explained_variance, reverse=True)
    assert p.explained_variance[0] > 0.75                      # the dominant axis
    assert np.allclose(p.coords.mean(axis=0), 0, atol=1e-9)
    assert project(codes, "pca", 3).coords.shape == (300, 3)
    assert project(codes[:, :2], "pca", 3).coords.shape == (300, 3)   # padded when the code is 2-D


def test_tsne_is_seeded_and_raw_needs_enough_dimensions(trained_digits_models, digits):
    codes = code_sample(trained_digits_models["ae"][0], digits, 200, "test").codes
    a, b = (project(codes, "tsne", seed=3, perplexity=20, iterations=250),
            project(codes, "tsne", seed=3, perplexity=20, iterations=250))
    assert a.coords.shape == (200, 2) and np.allclose(a.coords, b.coords)
    with pytest.raises(ValueError, match="perplexity must be at least 1 and below the number of points"):
        project(codes, "tsne", perplexity=500)
    assert np.array_equal(project(codes[:, :2], "raw").coords, codes[:, :2])
    with pytest.raises(ValueError, match="the code has 2 dimensions; a raw 3-D map needs at least 3"):
        project(codes[:, :2], "raw", 3)
    with pytest.raises(ValueError, match="method must be one of pca, tsne, umap, raw"):
        project(codes, "mds")
    if not umap_available():
        with pytest.raises(ValueError, match="UMAP needs the optional package umap-learn"):
            project(codes, "umap")


def test_nearest_neighbours():
    codes = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0], [0.5, 0.0]])
    order, distances = nearest_neighbours(codes, 0, 2)
    assert list(order) == [3, 1] and list(distances) == [0.5, 1.0]


def test_interpolation_traversal_and_vae_grids(trained_digits_models, digits):
    model, _ = trained_digits_models["vae"]
    a, b = digits.test_x[0], digits.test_x[1]
    path = interpolate(model, a, b, 5)
    with torch.no_grad():
        ends = model(torch.stack([a, b])).numpy()
    assert (path.shape == (5, 64) and np.allclose(path[0], ends[0], atol=1e-6)
            and np.allclose(path[-1], ends[1], atol=1e-6))
    grid = manifold_grid(model, (0, 1), n=5, span=2.0)
    with torch.no_grad():
        centre = model.decode(torch.zeros(1, 8)).numpy()[0]
    assert grid.shape == (25, 64) and np.allclose(grid[12], centre, atol=1e-6)
    with pytest.raises(ValueError, match="choose two different latent dimensions"):
        manifold_grid(model, (1, 1))
    with torch.no_grad():
        z = model.encode(a[None])[0]
    row = traversal(model, a, 2, np.array([-1.0, float(z[2]), 1.0]))
    assert row.shape == (3, 64) and np.allclose(row[1], ends[0], atol=1e-5)
    assert np.array_equal(prior_samples(model, 4, 7), prior_samples(model, 4, 7))
    assert not np.array_equal(prior_samples(model, 4, 7), prior_samples(model, 4, 8))


def test_exports_parse(trained_digits_models, digits):
    sample = code_sample(trained_digits_models["ae"][0], digits, 50, "test")
    coords = project(sample.codes, "pca").coords
    rows = list(csv.DictReader(io.StringIO(codes_csv(sample, digits.class_names, coords))))
    assert len(rows) == 50 and list(rows[0])[:6] == ["split", "index", "label", "class", "x", "y"]
    assert float(rows[3]["code_7"]) == pytest.approx(sample.codes[3, 7], rel=1e-5)
    assert float(rows[3]["x"]) == pytest.approx(coords[3, 0], rel=1e-5, abs=1e-6)
    vectors, metadata = projector_tsv(sample, digits.class_names)
    assert len(vectors.strip().split("\n")) == 50 and len(vectors.split("\n")[0].split("\t")) == 8
    meta = metadata.strip().split("\n")
    assert meta[0] == "label\tclass\tsplit\tindex" and len(meta) == 51


def test_cli_project_writes_csv_and_projector_files(tmp_path, trained_digits_models, digits):
    from explorer import save_checkpoint

    model, _ = trained_digits_models["ae"]
    ckpt = save_checkpoint(tmp_path / "ae.pt", model, "digits")
    out = tmp_path / "map.csv"
    proc = subprocess.run([sys.executable, "-m", "explorer", "project", "--checkpoint", str(ckpt), "--method", "pca",
                           "--n", "300", "--out", str(out), "--projector", str(tmp_path / "tb")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "pca map of 300 codes (8-D)" in proc.stdout and "variance explained: PC1" in proc.stdout
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 300 and {"x", "y", "code_0", "code_7"} <= set(rows[0])
    assert len((tmp_path / "tb" / "vectors.tsv").read_text().strip().split("\n")) == 300
    tsne = subprocess.run([sys.executable, "-m", "explorer", "project", "--checkpoint", str(ckpt), "--method", "tsne",
                           "--n", "300", "--perplexity", "20", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert tsne.returncode == 0, tsne.stderr
    assert "tsne map of 300 codes (8-D)" in tsne.stdout
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 300 and len({(r["x"], r["y"]) for r in rows}) == 300        # spread out, not collapsed
    bad = subprocess.run([sys.executable, "-m", "explorer", "project", "--checkpoint", str(ckpt), "--method", "mds",
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "invalid choice: 'mds'" in bad.stderr
