"""The dictionary and the feature pages: quantile bins, co-firing and decoder atoms against hand computations."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer import build_model
from explorer.datasets import Dataset
from explorer.feature_figures import balanced_columns, clickable_sheet, feature_histogram, numbered_tiles
from explorer.features import (
    NEARLY_ALWAYS,
    co_firing,
    correlations,
    feature_report,
    partners,
    quantile_bins,
    read_dictionary,
)


def test_quantile_bins_split_the_active_values_by_rank():
    values = np.array([0.5, 3, 1, 2, 4, 6, 5, 8, 7, 9.0])           # ascending ranks: 0.5 1 2 3 4 5 6 7 8 9
    images = np.arange(10) + 100
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    top, upper, middle, bottom = quantile_bins(values, labels, 10, images=images)
    # m = 10: bin [q0, q1) holds ranks ⌊10·q0⌋ … ⌊10·q1⌋ − 1, one value each here
    assert [b.label for b in (top, upper, middle, bottom)] == ["Top 10 %", "60–70 %", "30–40 %", "0–10 %"]
    assert top.images.tolist() == [109] and top.values.tolist() == [9.0]              # rank 9: the largest
    assert upper.images.tolist() == [105] and upper.values.tolist() == [6.0]          # rank 6
    assert middle.images.tolist() == [101] and middle.values.tolist() == [3.0]        # rank 3
    assert bottom.images.tolist() == [100] and bottom.values.tolist() == [0.5]        # rank 0: the smallest
    assert [b.count for b in (top, upper, middle, bottom)] == [1, 1, 1, 1]
    assert top.class_counts.tolist() == [0] * 9 + [1] and bottom.main_class == (0, 1)


def test_a_top_bin_shows_its_strongest_and_a_lower_bin_a_spread_of_images():
    rng = np.random.default_rng(0)
    values = rng.permutation(20).astype(float)                          # 0 … 19 in a shuffled order
    labels = (values >= 15).astype(int)                                  # class 1: the five largest
    top, low = quantile_bins(values, labels, 2, bins=((0.5, 1.0), (0.0, 0.5)), shown=4)
    assert top.values.tolist() == [19, 18, 17, 16]                       # the strongest of ranks 10 … 19
    assert (values[top.images] == top.values).all()                      # images index the values
    assert low.values.tolist() == [9, 6, 3, 0]                           # ranks 9 … 0, evenly spaced
    assert (top.count, top.z_low, top.z_high) == (10, 10.0, 19.0)
    assert (low.count, low.z_low, low.z_high) == (10, 0.0, 9.0)
    assert top.class_counts.tolist() == [5, 5] and low.class_counts.tolist() == [10, 0]


def test_a_unit_that_never_fires_has_empty_bins():
    bins = quantile_bins(np.zeros(0), np.zeros(0, dtype=int), 3)
    assert all(b.count == 0 and len(b.images) == 0 and np.isnan(b.z_low) for b in bins)


# five images, four units: A_0 = {0, 1, 2}, A_1 = {0, 1}, A_2 = {2, 3, 4}, A_3 = {3, 4}
ACTIVE = np.array([[1, 1, 0, 0],
                   [1, 1, 0, 0],
                   [1, 0, 1, 0],
                   [0, 0, 1, 1],
                   [0, 0, 1, 1]], dtype=bool)


def test_co_firing_is_jaccard_and_the_conditional_rate():
    jaccard, given = co_firing(ACTIVE, 0)
    # with unit 1: |A_0 ∩ A_1| = 2, |A_0 ∪ A_1| = 3; with unit 2: 1 and 5; with unit 3: 0 and 5
    assert jaccard == pytest.approx([1.0, 2 / 3, 1 / 5, 0.0])
    assert given == pytest.approx([1.0, 2 / 3, 1 / 3, 0.0])             # P(k | 0) = |A_0 ∩ A_k| / |A_0| = · / 3
    jaccard, given = co_firing(ACTIVE, 1)
    assert jaccard == pytest.approx([2 / 3, 1.0, 0.0, 0.0]) and given == pytest.approx([1.0, 1.0, 0.0, 0.0])


def test_partners_rank_by_jaccard_and_leave_out_units_that_never_fire_with_it():
    found, how = partners(ACTIVE.astype(float), ACTIVE, 0)
    assert how == "jaccard"
    assert [p.unit for p in found] == [1, 2]                            # unit 3 never fires with unit 0
    assert [p.firing_rate for p in found] == pytest.approx([0.4, 0.6])
    assert found[0].given == pytest.approx(2 / 3) and found[1].jaccard == pytest.approx(0.2)


def test_a_unit_active_everywhere_ranks_its_partners_by_correlation():
    z0 = np.array([1.0, 2, 3, 4])
    codes = np.stack([z0, 2 * z0, z0[::-1], [1, -1, 1, -1], [5, 5, 5, 5]], axis=1)     # (4, 5)
    # z3 against z0: centred (1, −1, 1, −1)·(−1.5, −0.5, 0.5, 1.5) = −2, norms 2 and √5
    assert correlations(codes, 0)[:4] == pytest.approx([1.0, 1.0, -1.0, -2 / (2 * np.sqrt(5))])
    assert np.isnan(correlations(codes, 0)[4])                          # a constant unit has no correlation
    found, how = partners(codes, np.ones_like(codes, dtype=bool), 0)
    assert how == "correlation"
    assert [p.unit for p in found] == [1, 2, 3]                         # by |r|, ties by index; the constant one out


def test_decoder_atoms_are_the_decoder_weight_columns_of_a_one_layer_linear_decoder():
    model = build_model("topk", {"latent_dim": 6, "k": 2, "decoder": "linear"}, input_dim=16)
    atlas = read_dictionary(model)
    weight = model.output_layer().weight.detach().numpy()                # (D, K): column j is unit j's atom
    assert atlas.atoms.shape == (6, 16) and np.allclose(atlas.atoms, weight.T)
    assert atlas.one_layer and atlas.linear_decoder and atlas.atom_adds_to == "the pixels"
    z = torch.zeros(1, 6)
    z[0, 4] = 2.5
    with torch.no_grad():                                                # additive: unit 4 adds 2.5 × its atom
        added = (model.decode(z) - model.decode(torch.zeros(1, 6)))[0].numpy()
    assert np.allclose(added, 2.5 * atlas.atoms[4], atol=1e-6)
    sigmoid = read_dictionary(build_model("topk", {"latent_dim": 6, "k": 2}, input_dim=16))
    assert not sigmoid.linear_decoder and sigmoid.atom_adds_to == "the logit, before the sigmoid"
    deep = read_dictionary(build_model("ae", {"latent_dim": 4, "hidden": "8"}, input_dim=16))
    assert not deep.one_layer and deep.filters.shape == deep.atoms.shape == (4, 16)


def tiny_dataset(n: int = 40, seed: int = 0) -> Dataset:
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 16, generator=generator)
    y = torch.arange(n) % 4
    return Dataset("tiny", x, y, x, y, ("a", "b", "c", "d"), (4, 4))


def test_feature_report_agrees_with_the_code_it_is_made_from():
    data = tiny_dataset()
    model = build_model("topk", {"latent_dim": 6, "k": 2}, input_dim=16)
    with torch.no_grad():
        codes = model.encode_all(data.test_x)
    active = model.code.active(codes).numpy()                            # (N, K)
    rates = active.mean(axis=0)
    unit = int(np.where(rates <= NEARLY_ALWAYS, rates, -1).argmax())    # the busiest unit whose partners co-fire
    assert 0 < rates[unit]
    report = feature_report(model, data, unit)
    assert report.ranked_by == "jaccard"
    on = np.flatnonzero(active[:, unit])
    assert report.n_active == len(on) and report.n_images == 40 and report.active_when == "|z_j| > 0"
    assert sum(b.count for b in report.bins) <= len(on)
    assert all(set(b.images) <= set(on) for b in report.bins)
    assert report.bins[0].z_high == pytest.approx(float(codes[:, unit].max()))
    labels = data.test_y.numpy()
    assert report.class_firing == pytest.approx([active[labels == c, unit].mean() for c in range(4)])
    jaccard, _ = co_firing(active, unit)
    assert [p.jaccard for p in report.partners] == pytest.approx(sorted(
        (jaccard[k] for k in range(6) if k != unit and jaccard[k] > 0), reverse=True))
    assert np.allclose(report.atom, model.decoder_atoms()[unit].detach().numpy())
    with pytest.raises(ValueError, match="unit must be between 0 and 5"):
        feature_report(model, data, 6)


def test_numbered_tiles_put_each_tile_under_its_label_where_clicks_find_it():
    images = np.linspace(0, 1, 3 * 16).reshape(3, 16)
    sheet = numbered_tiles(images, (4, 4), ["7", "3", "12"], ncols=2, scale=2)
    # a cell: 4·2 = 8 px of image + 4 px gap wide; 14 px label + 8 px image + 4 px gap tall
    assert (sheet.width, sheet.height) == (2 * 12, 2 * 26)
    assert sheet.centres.tolist() == [[4, 18], [16, 18], [4, 44]]
    assert int.from_bytes(sheet.png[16:20], "big") == 2 * sheet.width   # drawn at twice the CSS pixels
    fig = clickable_sheet(sheet, [7, 3, 12], ["unit 7", "unit 3", "unit 12"])
    assert list(fig.data[1].customdata) == [7, 3, 12] and fig.layout.width == sheet.width


def test_the_feature_histogram_shades_each_non_empty_bin():
    values = np.arange(20, dtype=float)
    bins = quantile_bins(values, np.zeros(20, dtype=int), 1)
    counts, edges = np.histogram(values, bins=10)
    fig = feature_histogram(counts, edges, 3, False, None, bins)
    assert list(fig.data[0].y) == counts.tolist()
    shaded = [(s.x0, s.x1) for s in fig.layout.shapes]
    assert shaded[0] == (18.0, 19.0) and len(shaded) == 4                 # the top decile: ranks 18 and 19
    empty = quantile_bins(values[:3], np.zeros(3, dtype=int), 1)         # three values: the lowest bin is empty
    assert len(feature_histogram(counts, edges, 3, False, None, empty).layout.shapes) == 3


def test_sheets_fill_their_rows_evenly():
    assert [balanced_columns(n, 7) for n in (1, 7, 8, 16, 32, 64, 128)] == [1, 7, 4, 6, 7, 7, 7]
