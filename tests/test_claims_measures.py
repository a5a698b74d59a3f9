"""The claims' measures against hand computations on tiny data: strokes, selectivity, MIG, probes, the
bootstrap, noise and the per-model measures, and their kept copies on disk."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score, mutual_info_score

from explorer.measure_store import MeasureStore, dataset_digest
from explorer.measures import (
    NOISE_GRID,
    ModelMeasures,
    NothingToMeasureError,
    code_cosine,
    dataset_reference,
    fvu_estimate,
    measure_model,
    model_selectivity,
)
from explorer.metrics import evaluate, fraction_of_variance_unexplained
from explorer.mig import (
    discrete_factor,
    equal_frequency_bins,
    equal_width_bins,
    gap,
    mutual_information,
    mutual_information_gap,
)
from explorer.probes import balanced_accuracy, fit_probes, top_units
from explorer.resampling import Estimate, interval, mean_estimate, resamples
from explorer.selectivity import class_selectivity, selectivity_index
from explorer.strokes import measure, measure_images
from explorer.variants.base import GAUSSIAN_CODE, RELU_CODE


# -- strokes: hand-made bars -----------------------------------------------------------------------------
def bar(width: float, height: int = 16, shear: float = 0.0) -> np.ndarray:
    """A 28×28 stroke `width` pixels wide and `height` tall, its columns shifted by shear per row (antialiased)."""
    image = np.zeros((28, 28))
    for row in range(6, 6 + height):
        left = 12 + shear * (row - (6 + height / 2))
        for col in range(28):
            image[row, col] = max(0.0, min(col + 1, left + width) - max(col, left))
    return image


def test_a_vertical_bar_has_its_area_its_thickness_and_no_slant():
    for width in (2, 3, 4):
        area, _, slant, thickness = measure(bar(width))
        assert area == pytest.approx(width * 16, abs=0.5)           # pixels of stroke
        assert thickness == pytest.approx(width, abs=0.1)            # twice the distance to the edge
        assert slant == pytest.approx(0.0, abs=1e-6)


def test_wider_and_longer_strokes_measure_wider_and_larger():
    widths = [measure(bar(w))[1] for w in (2, 3, 4)]
    assert widths == sorted(widths) and widths[0] < widths[-1] - 1
    assert measure(bar(3, height=20))[0] > measure(bar(3, height=16))[0] + 10


def test_slant_is_the_shear_angle_positive_when_the_stroke_leans_right():
    leaning_right = measure(bar(3, shear=-0.5))[2]        # the top further right: '/'
    assert leaning_right == pytest.approx(math.atan(0.5), abs=0.02)
    assert measure(bar(3, shear=0.5))[2] == pytest.approx(-leaning_right, abs=1e-3)
    # the width is measured across the slant, so leaning barely changes it
    assert measure(bar(3, shear=-0.5))[1] == pytest.approx(measure(bar(3))[1], abs=0.5)


def test_an_empty_image_has_no_strokes_and_a_batch_matches_one_by_one():
    assert all(math.isnan(v) for v in measure(np.zeros((28, 28))))
    images = np.stack([bar(2).ravel(), bar(4, shear=0.3).ravel()])
    batch = measure_images(images, (28, 28)).as_columns()
    assert np.allclose(batch[1], measure(bar(4, shear=0.3)))


# -- resampling --------------------------------------------------------------------------------------------
def test_resamples_are_seeded_multiplicities_and_permutations():
    a, b = resamples(50), resamples(50)
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.permutations, b.permutations)
    assert np.all(a.weights.sum(axis=1) == 50) and a.weights.shape == (200, 50)
    assert all(sorted(p) == list(range(50)) for p in a.permutations) and len(a.permutations) == 20
    with pytest.raises(ValueError, match="at least 2"):
        resamples(1)


def test_an_interval_holds_its_value_and_is_recentred_for_a_biased_statistic():
    draws = resamples(200)
    values = np.random.default_rng(1).normal(size=200)
    e = mean_estimate(values, draws)
    assert e.value == pytest.approx(values.mean()) and e.low < e.value < e.high
    assert e.high - e.low == pytest.approx(2 * 1.96 * values.std() / math.sqrt(200), rel=0.25)
    constant = mean_estimate(np.full(200, 3.0), draws)
    assert (constant.low, constant.value, constant.high) == pytest.approx((3.0, 3.0, 3.0))
    # draws that all lie above the value (a statistic that grows on resamples) are shifted back around it
    # (percentiles 0.605 and 0.795, less the bias 0.7 − 0.5)
    shifted = interval(0.5, np.linspace(0.6, 0.8, 101))
    assert (shifted.low, shifted.high) == pytest.approx((0.405, 0.595))
    assert Estimate(1, 0.9, 1.1).separates_from(Estimate(1.5, 1.2, 1.8))
    assert not Estimate(1, 0.9, 1.3).separates_from(Estimate(1.5, 1.2, 1.8))


# -- class selectivity ----------------------------------------------------------------------------------
def test_selectivity_by_hand():
    # three classes, mean activities 2, 1, 0: (2 − 0.5) / (2 + 0.5) = 0.6
    assert selectivity_index(np.array([[2.0], [1.0], [0.0]]))[0] == pytest.approx(0.6)
    assert selectivity_index(np.array([[0.0], [0.0], [0.0]]))[0] == 0.0      # both 0: defined as 0
    assert selectivity_index(np.array([[1.0], [1.0], [1.0]]))[0] == 0.0


def test_a_unit_that_fires_for_one_class_only_has_si_one_and_a_constant_unit_is_left_out():
    labels = np.repeat(np.arange(10), 20)                                   # 200 images, 10 classes
    activity = np.zeros((200, 3))
    activity[labels == 3, 0] = np.random.default_rng(0).uniform(1, 2, 20)   # unit 0: class 3 only
    activity[:, 1] = 1.0                                                    # unit 1: constant
    activity[:, 2] = np.random.default_rng(1).uniform(0, 1, 200)           # unit 2: noise
    live = np.array([True, False, True])
    s = class_selectivity(activity, labels, live, resamples(200))
    assert s.per_unit[0] == pytest.approx(1.0) and math.isnan(s.per_unit[1])
    assert s.mean.value == pytest.approx((1.0 + s.per_unit[2]) / 2)
    assert s.class_means.shape == (3, 10) and s.class_means[0, 3] > 1 and s.class_means[0, 4] == 0
    assert s.null < 0.3 < 0.5 < s.mean.value    # permuted labels: the class-3 unit is no longer selective
    assert s.mean.low <= s.mean.value <= s.mean.high


def test_activity_is_the_value_for_value_codes_and_the_distance_from_the_mean_for_a_gaussian_code():
    z = torch.tensor([[0.0, 2.0], [1.0, -1.0]])
    mean = torch.tensor([0.5, 0.5])
    assert torch.equal(RELU_CODE.activity(z.clamp(min=0), mean), z.clamp(min=0))
    assert torch.allclose(GAUSSIAN_CODE.activity(z, mean), torch.tensor([[0.5, 1.5], [0.5, 1.5]]))


# -- MIG -----------------------------------------------------------------------------------------------------
def test_mutual_information_matches_scikit_learn_in_nats():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 300), rng.integers(0, 4, 300)
    b = np.where(rng.random(300) < 0.5, a % 4, b)                          # some dependence
    joint = np.zeros((5, 4))
    np.add.at(joint, (a, b), 1)
    assert mutual_information(joint) == pytest.approx(mutual_info_score(a, b))


def test_binning_as_disentanglement_lib_does():
    x = np.random.default_rng(0).normal(size=(500, 2))
    ours = equal_width_bins(x)
    for j in range(2):     # disentanglement_lib: np.digitize(x, np.histogram(x, bins)[1][:-1]), 1-based
        theirs = np.digitize(x[:, j], np.histogram(x[:, j], 20)[1][:-1]) - 1
        assert np.array_equal(ours[:, j], theirs)
    assert len(np.unique(equal_width_bins(np.ones((10, 1))))) == 1          # a constant unit: one bin
    factor = equal_frequency_bins(np.arange(100.0))
    assert np.array_equal(np.bincount(factor), np.full(10, 10))
    assert equal_frequency_bins(np.array([1.0, np.nan, 2.0, 3.0]), bins=2)[1] == 2    # NaN: a bin of its own
    assert list(discrete_factor(np.array([7, 3, 7]))) == [1, 0, 1]


def test_mig_by_hand_and_for_a_code_that_copies_the_label():
    # v = 0 0 1 1; z₀ = v (I = log 2), z₁ independent of v (I = 0): MIG = (log 2 − 0) / log 2 = 1
    info = np.array([math.log(2), 0.0])
    assert gap(info, np.asarray(math.log(2))) == pytest.approx(1.0)
    assert gap(np.array([math.log(2), math.log(2)]), np.asarray(math.log(2))) == pytest.approx(0.0)

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 1000)
    codes = np.stack([labels + rng.normal(0, 0.01, 1000), rng.normal(size=1000), rng.normal(size=1000)], axis=1)
    result = mutual_information_gap(codes, {"class": discrete_factor(labels)}, resamples(1000))
    assert result.per_factor["class"].value > 0.95                          # near 1
    assert result.null_per_factor["class"] < 0.05                           # permuted: no information
    assert result.per_factor["class"].low <= result.per_factor["class"].value <= result.per_factor["class"].high
    assert result.information.shape == (3, 1) and result.entropy[0] == pytest.approx(math.log(10), rel=0.01)


# -- probes ----------------------------------------------------------------------------------------------
def test_balanced_accuracy_matches_scikit_learn_averaged_over_classes():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 400)
    predicted = rng.random((400, 4)) < 0.3
    predicted[np.arange(400), labels] |= rng.random(400) < 0.6
    classes = np.arange(4)
    ours = balanced_accuracy(predicted, labels, classes, resamples(400))
    theirs = np.mean([balanced_accuracy_score(labels == c, predicted[:, c]) for c in classes])
    assert ours.value == pytest.approx(theirs) and ours.low < ours.value < ours.high


def test_a_one_unit_probe_reads_the_unit_that_tells_the_class_apart():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    x = rng.normal(size=(600, 5))
    x[:, 4] += 3.0 * (labels == 1)                                      # unit 4 tells class 1 from the rest
    assert list(top_units(x, labels == 1, 1)) == [4]
    assert list(top_units(x, labels == 1, None)) == [0, 1, 2, 3, 4]
    probes = fit_probes(x, labels, 1)
    assert list(probes.features[1]) == [4]
    onehot = np.eye(3)[labels] + rng.normal(0, 0.05, (600, 3))           # a code copying the class
    perfect = fit_probes(onehot, labels, 1)
    assert balanced_accuracy(perfect.predict(onehot), labels, perfect.classes, resamples(600)).value == 1.0


def test_code_cosine_edge_cases():
    clean = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    noisy = np.array([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0], [2.0, 2.0]])
    assert list(code_cosine(clean, noisy)) == pytest.approx([0.0, 1.0, 0.0, 1.0])   # ⊥, both 0, one 0, same


def test_fvu_estimate_is_the_metric_on_the_whole_split():
    rng = np.random.default_rng(0)
    x, x_hat = rng.random((300, 16)), rng.random((300, 16))
    e = fvu_estimate(x, x_hat, resamples(300))
    assert e.value == pytest.approx(fraction_of_variance_unexplained(torch.tensor(x), torch.tensor(x_hat)))
    assert e.low < e.value < e.high


# -- one model's measures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_reference(digits):
    return dataset_reference(digits)


def test_a_models_measures_agree_with_evaluate_and_with_its_noisy_reconstructions(
        digits, trained_digits_models, digits_reference):
    model = trained_digits_models["topk"][0]
    m = measure_model(model, digits, digits_reference, checkpoint="topk.pt")
    ev = evaluate(model, digits)
    assert m.mean_l0.value == pytest.approx(ev.code.mean_l0) and m.fvu.value == pytest.approx(ev.fvu, rel=1e-5)
    assert m.n_test == len(digits.test_y) and m.variant == "topk" and m.shape == "64-32-8"
    assert len(m.noise) == len(NOISE_GRID) and len(m.selectivity_per_unit) == 8
    assert len(m.class_profile) == 8 and len(m.class_profile[0]) == 10
    sigma = next(p for p in m.noise if (p.kind, p.level) == ("gaussian", 0.3))
    _, recon = model.reconstruct_noisy(digits.test_x, NOISE_GRID[2], seed=0)     # the same noise
    assert sigma.recon_mse.value == pytest.approx(float((recon - digits.test_x).pow(2).mean()), rel=1e-5)
    for e in (m.selectivity, m.probe_k5, m.probe_dense, m.probe_pixels, m.mig):
        assert e.low <= e.value <= e.high
    assert 0.5 < m.probe_k1.value <= m.probe_k5.value + 0.05 and m.probe_pixels.value > 0.8
    assert set(m.mig_per_factor) == {"class", "area", "width", "slant", "thickness"}
    assert model_selectivity(model, digits).mean == m.selectivity      # the Activations page's numbers


def test_measures_round_trip_through_json_and_the_disk(tmp_path, digits, trained_digits_models, digits_reference):
    import json

    m = measure_model(trained_digits_models["denoising"][0], digits, digits_reference, checkpoint="d.pt")
    assert m.training_noise is not None and not m.plain
    assert ModelMeasures.from_dict(json.loads(json.dumps(m.to_dict()))) == m
    store = MeasureStore(tmp_path / "kept")
    digest = dataset_digest(digits)
    assert store.model("file:abc", digest) is None
    store.keep_model("file:abc", digest, m)
    assert store.model("file:abc", digest) == m and store.model("file:abc", "other data") is None
    (next((tmp_path / "kept").glob("model-*.json"))).write_text("{not json")
    assert store.model("file:abc", digest) is None                       # unreadable: a miss, not a crash
    store.keep_reference(digest, *_reference_parts(digits_reference, digits))
    strokes, probe = store.reference(digest)
    assert probe == digits_reference.probe_pixels and len(strokes.area) == len(digits.test_y)


def _reference_parts(reference, data):
    from explorer.measures import stroke_factors
    return stroke_factors(data), reference.probe_pixels


def test_a_model_with_every_unit_dead_has_nothing_to_measure(digits, digits_reference):
    from explorer import build_model

    model = build_model("sparse_l1", {"latent_dim": 8, "hidden": "32"}, input_dim=digits.input_dim)
    with torch.no_grad():
        model.encoder[-2].bias.fill_(-1e3)                 # the code's last linear layer: every unit below 0
    with pytest.raises(NothingToMeasureError, match="no live code unit"):
        measure_model(model, digits, digits_reference)
