"""The classical baselines (PCA, NMF, OMP dictionary learning): their numbers by hand, their codes, their
cache, the matchup sentences, the `baselines` command, and their lines on Compare's frontier."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from apptest_support import server_like_pages
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from explorer import build_model
from explorer.baselines import (
    MAX_ATOMS,
    MAX_KS,
    BaselinePoint,
    against_baseline,
    baseline_points,
    check_settings,
    fitted_coders,
    frontier_settings,
    matchup_summary,
)
from explorer.cli import main
from explorer.compare import Point
from explorer.datasets import Dataset
from explorer.figures import frontier
from explorer.measure_store import MeasureStore


def tiny(train: list[list[float]], test: list[list[float]], name: str = "tiny") -> Dataset:
    tr, te = torch.tensor(train, dtype=torch.float32), torch.tensor(test, dtype=torch.float32)
    return Dataset(name, tr, torch.zeros(len(tr), dtype=torch.long), te, torch.zeros(len(te), dtype=torch.long),
                   ("0",), (1, tr.shape[1]))


@pytest.fixture(scope="module")
def digits_slice(digits):
    """300 training and 100 test digits (8×8): seconds, not minutes."""
    return dataclasses.replace(digits, name="digits-slice", train_x=digits.train_x[:300], train_y=digits.train_y[:300],
                               test_x=digits.test_x[:100], test_y=digits.test_y[:100])


def by_method(points: list[BaselinePoint], method: str) -> list[BaselinePoint]:
    return [p for p in points if p.method == method]


def test_pca_fvu_and_mse_by_hand():
    """Train images on a horizontal line through (0.5, 0.5): PCA with one component keeps the horizontal part.
    Test (0.7, 0.7) and (0.3, 0.3) → (0.7, 0.5), (0.3, 0.5): Σ‖x − x̂‖² = 0.04 + 0.04; the mean test image is
    (0.5, 0.5), Σ‖x − x̄‖² = 0.08 + 0.08, so FVU = 0.5; MSE per pixel = 0.08 / 4 = 0.02."""
    data = tiny([[0.1, 0.5], [0.9, 0.5], [0.3, 0.5], [0.7, 0.5]], [[0.7, 0.7], [0.3, 0.3]])
    pca = by_method(baseline_points(data, ks=[1], atoms=2), "pca")[0]
    assert pca.fvu == pytest.approx(0.5, abs=1e-6) and pca.explained_variance == pytest.approx(0.5, abs=1e-6)
    assert pca.recon_mse == pytest.approx(0.02, abs=1e-7)
    assert (pca.mean_l0, pca.max_l0, pca.dead_fraction, pca.n_test, pca.atoms) == (1.0, 1, None, 2, 1)


def test_pca_at_full_rank_reconstructs_exactly_and_below_it_does_not():
    rng = np.random.default_rng(0)
    weights, parts = rng.random((60, 3)), rng.random((3, 10))           # rank 3, non-negative
    images = (weights @ parts / 3).tolist()                             # in [0, 1]
    data = tiny(images[:40], images[40:])
    pca = {p.k: p for p in by_method(baseline_points(data, ks=[2, 3], atoms=8), "pca")}
    assert pca[3].fvu < 1e-10 < 1e-3 < pca[2].fvu


def test_codes_omp_at_most_k_nonzeros_nmf_non_negative(digits_slice):
    x = digits_slice.test_x.numpy().astype(np.float64)
    seen = set()
    for coder in fitted_coders(digits_slice, ks=[3, 6], atoms=16):
        codes = coder.encode(x)
        seen.add((coder.method, coder.k))
        assert codes.shape == (len(x), coder.atoms)
        if coder.method == "omp":
            assert (codes != 0).sum(axis=1).max() <= coder.k
            assert (codes != 0).sum(axis=1).min() >= 1
        if coder.method == "nmf":
            assert codes.min() >= 0 and coder.decode(codes).min() >= 0
    assert seen == {(m, k) for m in ("pca", "nmf", "omp") for k in (3, 6)}


def test_points_more_k_reconstructs_better_and_omp_beats_pca_at_the_same_l0(digits_slice):
    points = baseline_points(digits_slice, ks=[3, 6], atoms=16)
    for method in ("pca", "nmf", "omp"):
        line = by_method(points, method)
        assert [p.k for p in line] == [3, 6] and line[1].fvu < line[0].fvu
    pca, omp = by_method(points, "pca"), by_method(points, "omp")
    assert all(o.max_l0 <= o.k and o.atoms == 16 and 0 <= o.dead_fraction <= 1 for o in omp)
    assert all(o.fvu < p.fvu for o, p in zip(omp, pca, strict=True))   # 16 atoms to pick from, not k fixed axes


def without_seconds(points: list[BaselinePoint]) -> list[BaselinePoint]:
    return [dataclasses.replace(p, fit_seconds=0.0, code_seconds=0.0) for p in points]


def test_seeded_and_deterministic(digits_slice):
    first = baseline_points(digits_slice, ks=[4], atoms=12, seed=3)
    assert without_seconds(baseline_points(digits_slice, ks=[4], atoms=12, seed=3)) == without_seconds(first)
    other = baseline_points(digits_slice, ks=[4], atoms=12, seed=4)
    assert by_method(other, "omp")[0].fvu != by_method(first, "omp")[0].fvu   # the seed draws the dictionary


def test_kept_on_disk_and_read_back_without_refitting(digits_slice, tmp_path, monkeypatch):
    import explorer.baselines as baselines

    store = MeasureStore(tmp_path)
    made = baseline_points(digits_slice, ks=[2, 4], atoms=8, store=store)
    assert len(list(tmp_path.glob("baselines-*.json"))) == 1

    def no_fitting(*args, **kwargs):
        raise AssertionError("refitted what was kept")

    monkeypatch.setattr(baselines, "fitted_coders", no_fitting)
    assert baseline_points(digits_slice, ks=[4, 2], atoms=8, store=MeasureStore(tmp_path)) == made   # seconds too
    with pytest.raises(AssertionError, match="refitted"):
        baseline_points(digits_slice, ks=[2, 4], atoms=8, seed=1, store=store)      # another seed is not kept


@pytest.mark.parametrize(("ks", "atoms", "fragment"), [
    ([5, 80], 64, "k = 80 is out of range"),
    ([0], 64, "k = 0 is out of range"),
    ([5], MAX_ATOMS + 1, f"between 1 and {MAX_ATOMS}"),
    (list(range(1, MAX_KS + 2)), 64, f"at most {MAX_KS} values of k"),
    ([], 64, "at least one k"),
    ([40], 64, "the 36 pixels"),
])
def test_bad_settings_say_what_is_wrong(ks, atoms, fragment):
    with pytest.raises(ValueError, match=fragment):
        check_settings(ks, atoms, input_dim=36)


def test_frontier_settings_follow_the_sparse_models():
    topk = [build_model("topk", {"latent_dim": "32"}, input_dim=64), build_model("topk", {"latent_dim": "32"},
                                                                                input_dim=64)]
    dense = build_model("sparse_kl", {"latent_dim": "16"}, input_dim=64)
    assert frontier_settings([*topk, dense], input_dim=64) == ((5, 10, 20), 32)
    assert frontier_settings([dense], input_dim=64) == ((5, 10, 20), 64)            # no sparse model: the default
    assert frontier_settings([build_model("topk", {"latent_dim": "8", "k": "4"}, input_dim=64)], 64) == ((5,), 8)


def omp_line(fvus: dict[float, float]) -> list[BaselinePoint]:
    return [BaselinePoint("omp", int(l0), 64, "d", 10, l0, int(l0), fvu, fvu / 10, 0.0, 1.0, 0.1)
            for l0, fvu in fvus.items()]


def test_against_omp_interpolates_both_lines_and_says_who_wins():
    omp = omp_line({5.0: 0.40, 10.0: 0.30, 20.0: 0.20})
    pts = [Point("topk sweep", "k=4", 4.0, 0.50, False), Point("topk sweep", "k=12", 12.0, 0.26, False),
           Point("lone", "one model", 15.0, 0.20, False),           # OMP at 15: 0.25
           Point("dense line", "a", 5.0, 0.01, False, dense=True), Point("dense line", "b", 10.0, 0.01, False, True),
           Point("failed", "x", 10.0, 0.9, True)]
    found = against_baseline(pts, omp)
    assert [(m.group, m.l0) for m in found] == [("topk sweep", 5.0), ("topk sweep", 10.0), ("lone", 15.0)]
    at5, at10, lone = found
    assert at5.model_fvu == pytest.approx(0.47) and at5.baseline_fvu == pytest.approx(0.40)   # 0.5 − 0.24 · 1/8
    assert at10.model_fvu == pytest.approx(0.32) and lone.baseline_fvu == pytest.approx(0.25)
    assert at5.sentence() == ("At L0 ≈ 5, OMP dictionary learning reconstructs better (FVU 0.400) than topk sweep "
                              "(0.470).")
    assert lone.sentence() == "At L0 ≈ 15, lone reconstructs better (FVU 0.200) than OMP dictionary learning (0.250)."
    assert matchup_summary(found) == ("Against OMP dictionary learning at the same L0, it reconstructs better in 2 of "
                                      "3 comparisons, worse in 1.")
    assert against_baseline([Point("far", "k=40", 40.0, 0.1, False)], omp) == []        # beyond OMP's line: no claim


OMP_TRACE, PCA_TRACE = "OMP dictionary learning (64 atoms, k non-zeros; baseline)", "PCA (k components; baseline)"


def test_frontier_figure_draws_each_baseline_as_a_dashed_line_of_its_own():
    pts = [Point("topk", "k=5", 5.0, 0.4, False), Point("topk", "k=10", 10.0, 0.3, False)]
    baselines = [*omp_line({5.0: 0.35, 10.0: 0.28}),
                 *[dataclasses.replace(b, method="pca", atoms=b.k, dead_fraction=None) for b in omp_line({5.0: 0.6})]]
    traces = {t.name: t for t in frontier(pts, [0, 1], baselines=baselines).data}
    omp, pca = traces[OMP_TRACE], traces[PCA_TRACE]
    assert omp.line.dash == "longdash" and pca.line.dash == "dash" and traces["topk"].line.dash == "solid"
    assert list(omp.y) == [0.35, 0.28] and "dead atoms 0%" in omp.text[0] and "dead" not in pca.text[0]
    assert set(traces) == {"topk", "Pareto front", OMP_TRACE, PCA_TRACE}


def test_cli_json_shape(capsys):
    code = main(["baselines", "--dataset", "digits", "--k", "2,4", "--atoms", "8", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and "fitting PCA, NMF and OMP" in err
    points = json.loads(out)
    assert [(p["method"], p["k"]) for p in points] == [(m, k) for m in ("pca", "nmf", "omp") for k in (2, 4)]
    for p in points:
        assert {"method", "k", "mean_l0", "fvu", "explained_variance", "recon_mse", "dead_fraction", "n_test",
                "fit_seconds"} <= set(p)
        assert p["explained_variance"] == pytest.approx(1 - p["fvu"]) and p["n_test"] == 360
    assert all(p["dead_fraction"] is None for p in points if p["method"] == "pca")


def test_cli_table(capsys):
    assert main(["baselines", "--dataset", "digits", "--k", "3", "--atoms", "6"]) == 0
    out = capsys.readouterr().out
    assert "FVU" in out and "OMP dictionary learning" in out and "PCA" in out and "NMF" in out


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--k", "5,x"], "expected a whole number, got 'x'"),
    (["--k", "0"], "must be at least 1"),
    (["--k", "5,100"], "k = 100 is out of range"),
    (["--atoms", "100000"], f"between 1 and {MAX_ATOMS}"),
    (["--dataset", "nope"], "invalid choice"),
])
def test_cli_bad_values_one_line_and_nonzero_exit(capsys, argv, fragment):
    try:
        code = main(["baselines", *argv])
    except SystemExit as exc:                 # argparse's own errors exit from inside main
        code = exc.code
    err = capsys.readouterr().err
    assert code != 0 and fragment in err and len(err.strip().splitlines()) == 1


# --- the Compare page ---------------------------------------------------------------------------------------------

FAKE_OMP = {5.0: 0.05, 10.0: 0.04, 20.0: 0.03}      # better than any shipped model: every matchup goes to OMP


@pytest.fixture
def fake_baselines(monkeypatch, tmp_path):
    """The page's fit replaced by known points (the real fit is tested above), and the glue's memory cleared
    before and after so that no other test sees them."""
    from explorer.app import baseline_fits

    calls = []

    def fitted(data, ks, atoms, seed=0, store=None):
        calls.append((data.name, ks, atoms))
        pca = [dataclasses.replace(b, method="pca", atoms=b.k, fvu=0.6, dead_fraction=None)
               for b in omp_line(FAKE_OMP)]
        return [*pca, *omp_line(FAKE_OMP)]

    baseline_fits.clear()
    monkeypatch.setattr(baseline_fits, "baseline_points", fitted)
    monkeypatch.setattr(baseline_fits, "_shipped", MeasureStore(tmp_path / "shipped"))     # nothing kept: a fit
    monkeypatch.setattr(baseline_fits, "_store", MeasureStore(tmp_path / "kept"))
    with server_like_pages():
        yield calls
    baseline_fits.clear()


def test_compare_frontier_draws_the_baselines_and_says_where_omp_wins(fake_baselines):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/compare.py")
    at.run()
    at.segmented_control(key="cmp_view").set_value("the L0–FVU frontier, across sweeps").run()
    assert not at.exception, [e.value for e in at.exception]
    assert fake_baselines == [("mnist-5k", (5, 10, 20), 64)]          # fitted once, at the shipped SAEs' size
    assert any(s.label.startswith("Fitted the classical baselines") for s in at.status)
    figure = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                  if "frontier" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    names = [t["name"] for t in figure["data"]]
    assert OMP_TRACE in names and PCA_TRACE in names
    said = " ".join(m.value for m in at.markdown)
    assert "At L0 ≈ 10, OMP dictionary learning reconstructs better (FVU 0.040) than k sweep of topk (0." in said
    assert "Against OMP dictionary learning at the same L0, it reconstructs better in" in said
    assert "worse in 0." in said

    at.run()                                                          # a revisit: from memory, no status box
    assert fake_baselines == [("mnist-5k", (5, 10, 20), 64)] and not at.status
    at.toggle(key="cmp_baselines").set_value(False).run()
    figure = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                  if "frontier" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    assert not any("baseline" in t["name"] for t in figure["data"])
    assert "OMP dictionary learning reconstructs better" not in " ".join(m.value for m in at.markdown)


def test_the_app_keeps_them_for_a_restarted_server(digits_slice, tmp_path, monkeypatch):
    from explorer.app import baseline_fits

    monkeypatch.setattr(baseline_fits, "_store", MeasureStore(tmp_path))
    baseline_fits.clear()
    try:
        assert baseline_fits.kept(digits_slice, (2, 4), 8) is None                   # nothing fitted by asking
        made = baseline_fits.points(digits_slice, (2, 4), 8)
        baseline_fits.clear()                                                        # a restart
        assert baseline_fits.kept(digits_slice, (2, 4), 8) == made                   # read back, seconds and all
    finally:
        baseline_fits.clear()


def test_the_shipped_baselines_are_current_for_the_shipped_dataset(mnist5k):
    """Compare's frontier reads the shipped dataset's baselines from checkpoints/measures at once: they must be
    the ones this code and this scikit-learn would fit (else: python scripts/make_checkpoints.py)."""
    import sklearn

    from explorer.app.baseline_fits import _shipped
    from explorer.baselines import DEFAULT_ATOMS, DEFAULT_KS, kept_points, store_key

    made_with = {json.loads(json.loads(f.read_text())["key"])["key"]["recipe"].rsplit("-sklearn-", 1)[1]
                 for f in _shipped.folder.glob("baselines-*.json")}
    assert made_with, "no shipped baselines: python scripts/make_checkpoints.py"
    if sklearn.__version__ not in made_with:         # another scikit-learn fits anew (and says so): not a fault here
        pytest.skip(f"shipped baselines made with scikit-learn {made_with}; this is {sklearn.__version__}")
    kept = kept_points(_shipped, store_key(mnist5k, DEFAULT_KS, DEFAULT_ATOMS, 0))
    assert kept is not None, "baselines.py changed since they were made: python scripts/make_checkpoints.py"
    assert {(p.method, p.k) for p in kept} == {(m, k) for m in ("pca", "nmf", "omp") for k in DEFAULT_KS}
