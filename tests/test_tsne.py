"""t-SNE maps: intermediate maps on the way to the final one, chunking that changes almost nothing,
clear errors for bad settings, the 10-NN accuracy helper (against a hand count), and the picture of
a map on the way. (The shipped ae's map, honest and kept on disk: test_maps.py.)"""
from __future__ import annotations

import numpy as np
import pytest

from explorer.latent import knn_accuracy, project, project_steps
from explorer.tsne import layouts, stage


def test_knn_accuracy_against_a_hand_count():
    # Six points on a line; the classes are 0 0 1 | 1 1 0. Counted by hand:
    #  k=1: 0→1 (0 ✓), 1→0 (0 ✓), 2.5→1 (0 ✗), 10→11 (1 ✓), 11→10 (1 ✓), 12.5→11 (1 ✗): 4/6
    #  k=2: ties (one vote each) go to the nearer: 0 ✓, 1 ✓, 2.5 {0,0} ✗, 10 ✓, 11 ✓, 12.5 {1,1} ✗: 4/6
    #  k=3: 0 {0,1,1} ✗, 1 {0,1,1} ✗, 2.5 {0,0,1} ✗, 10 {1,0,1} ✓, 11 {1,0,1} ✓, 12.5 {1,1,1} ✗: 2/6
    x = np.array([0.0, 1.0, 2.5, 10.0, 11.0, 12.5])
    labels = np.array([0, 0, 1, 1, 1, 0])
    on_a_line = np.stack([x, np.zeros_like(x)], axis=1)
    assert knn_accuracy(on_a_line, labels, k=1) == pytest.approx(4 / 6)
    assert knn_accuracy(on_a_line, labels, k=2) == pytest.approx(4 / 6)
    assert knn_accuracy(on_a_line, labels, k=3) == pytest.approx(2 / 6)
    # Class names instead of numbers, a rotated and shifted copy, and k beyond n − 1: the same counts.
    names = np.array(["a", "a", "b", "b", "b", "a"])
    turned = on_a_line @ np.array([[0.6, 0.8], [-0.8, 0.6]]) + 5
    assert knn_accuracy(turned, names, k=1) == pytest.approx(4 / 6)
    assert knn_accuracy(x[:, None], labels, k=99) == knn_accuracy(x[:, None], labels, k=5)
    with pytest.raises(ValueError, match="need at least 2 points and one label each"):
        knn_accuracy(x[:, None], labels[:3])


def small_codes() -> tuple[np.ndarray, np.ndarray]:
    """Three separated clusters of 60 codes in 6-D."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 60)
    return rng.normal(size=(180, 6)) * 0.3 + np.eye(6)[labels] * 4, labels


def test_t_sne_hands_out_maps_on_the_way_and_the_last_is_the_final_map():
    codes, labels = small_codes()
    steps = list(project_steps(codes, "tsne", seed=1, perplexity=15, iterations=250, every=50))
    # The PCA start, then every 50 iterations within each phase (exaggeration for a third: 83).
    assert [p.iteration for p in steps] == [0, 50, 83, 133, 183, 233, 250]
    assert all(p.iterations == 250 for p in steps)
    assert [p.final for p in steps] == [False] * 6 + [True]
    assert not any(np.array_equal(a.coords, b.coords) for a, b in zip(steps, steps[1:], strict=False))
    final = project(codes, "tsne", seed=1, perplexity=15, iterations=250)
    assert final.final and np.array_equal(steps[-1].coords, final.coords)
    # Other chunks, the same map: openTSNE keeps its gains and momentum between the chunks (only its
    # exaggerated affinities, multiplied by 12 and divided again at each chunk, round differently).
    assert np.allclose(list(layouts(codes, 2, 1, 15.0, 250, every=7))[-1].coords, final.coords, atol=1e-3)
    assert knn_accuracy(final.coords, labels) == 1.0                 # three clusters stay three
    assert steps[0].coords.std(axis=0)[0] == pytest.approx(1e-4, rel=0.05)   # openTSNE's small PCA start
    assert "principal components" in stage(0, 250) and "exaggeration" in stage(50, 250)
    assert "spread out" in stage(100, 250) and stage(250, 250) == "finished"


def test_other_maps_are_one_final_map_and_3d_t_sne_works():
    codes, _ = small_codes()
    (pca,) = list(project_steps(codes, "pca"))
    assert pca.final and pca.iteration is None
    three = project(codes, "tsne", dims=3, perplexity=15, iterations=250)
    assert three.coords.shape == (180, 3) and three.iterations == 250


def test_bad_settings_raise_before_any_work():
    codes, _ = small_codes()
    with pytest.raises(ValueError, match=r"perplexity must be at least 1 and below the number of points \(180\)"):
        project_steps(codes, "tsne", perplexity=180)          # raised by the call, not at the first map
    with pytest.raises(ValueError, match="perplexity must be at least 1"):
        project_steps(codes, "tsne", perplexity=0.5)
    with pytest.raises(ValueError, match="all 40 codes are identical"):
        project_steps(np.ones((40, 5)), "tsne", perplexity=5)
    with pytest.raises(ValueError, match="iterations and every must be at least 1"):
        project_steps(codes, "tsne", perplexity=15, iterations=0)


def test_a_map_on_the_way_is_drawn_as_a_picture_with_the_classes_where_they_are():
    from io import BytesIO

    from PIL import Image

    from explorer.figures import CLASS_COLORS, latent_map_png

    png = latent_map_png(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 1]), ("zero", "one"), "on the way",
                         size=(300, 200), scale=1)
    image = Image.open(BytesIO(png)).convert("RGB")
    assert image.size == (300, 200)
    # The plot area is x 40…210, y 50…160; 3 % in from its corners: (0, 0) bottom left, (1, 1) top right.
    low_left, top_right = image.getpixel((45, 157)), image.getpixel((205, 53))

    def near(pixel, colour):     # drawn at opacity 0.8 over white
        target = [0.8 * int(colour[i:i + 2], 16) + 0.2 * 255 for i in (1, 3, 5)]
        return all(abs(p - t) <= 3 for p, t in zip(pixel, target, strict=True))

    assert near(low_left, CLASS_COLORS[0]) and near(top_right, CLASS_COLORS[1]), (low_left, top_right)
