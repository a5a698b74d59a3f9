"""The claims as a user meets them: `python -m explorer claims`, the Claims page, and a unit's selectivity on
Activations — the same numbers everywhere, and a clear message for every set that cannot be judged."""
from __future__ import annotations

import json

import pytest
from apptest_support import server_like_pages
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from explorer import save_checkpoint
from explorer.app.catalog import file_digest
from explorer.claims import CLAIM_KEYS, VERDICTS
from explorer.cli import main
from explorer.measures import dataset_reference, measure_model

SHIPPED = ROOT / "checkpoints"
ISSUE_KEYS = {"checkpoint", "mean_l0", "selectivity", "selectivity_per_unit", "mig", "mig_per_factor", "probe_k1",
              "probe_k5", "probe_dense", "probe_pixels", "nulls", "noise", "intervals"}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def digits_checkpoints(tmp_path_factory, trained_digits_models, digits):
    """topk, sparse_l1 and denoising trained briefly on the 8×8 digits, as checkpoint files, and one dead model."""
    folder = tmp_path_factory.mktemp("claims")
    paths = {}
    for name in ("topk", "sparse_l1", "denoising", "ae"):
        model, result = trained_digits_models[name]
        paths[name] = save_checkpoint(folder / f"{name}.pt", model, "digits", {}, result.history)
    dead, _ = trained_digits_models["sparse_l1"]
    state = {k: v.clone() for k, v in dead.state_dict().items()}
    last_bias = [k for k in state if k.startswith("encoder") and k.endswith("bias")][-1]
    state[last_bias].fill_(-1e3)                               # every code unit below 0 on every image
    clone = type(dead)(dead.config)
    clone.load_state_dict(state)
    paths["dead"] = save_checkpoint(folder / "dead.pt", clone, "digits", {}, {})
    return paths


def test_claims_json_holds_every_measure_and_verdict_and_matches_the_library(capsys, digits_checkpoints, digits):
    a, b = str(digits_checkpoints["topk"]), str(digits_checkpoints["sparse_l1"])
    code, out, err = run(capsys, "claims", "--checkpoint", a, b, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [m["checkpoint"] for m in report["models"]] == [a, b]
    for m in report["models"]:
        assert ISSUE_KEYS <= set(m)
        assert set(m["nulls"]) == {"selectivity", "mig", "mig_per_factor"}
        assert {(p["kind"], p["level"]) for p in m["noise"]} >= {("gaussian", 0.3), ("masking", 0.5)}
        assert set(m["noise"][0]) == {"kind", "level", "recon_mse", "code_cosine", "probe_dense"}
        low, high = m["intervals"]["selectivity"]
        assert low <= m["selectivity"] <= high
    assert [c["claim"] for c in report["claims"]] == list(CLAIM_KEYS)
    assert all(c["verdict"] in VERDICTS and "spearman" in c and c["line"] for c in report["claims"])
    # the same numbers as the library's (what the page computes)
    from explorer import load_checkpoint

    library = measure_model(load_checkpoint(a), digits, dataset_reference(digits), checkpoint=a).to_dict()
    for key in ("mean_l0", "fvu", "selectivity", "mig", "probe_k1", "probe_k5", "probe_dense", "probe_pixels"):
        assert report["models"][0][key] == pytest.approx(library[key], rel=1e-9), key


def test_claims_prints_a_table_and_each_verdict(capsys, digits_checkpoints):
    paths = [str(digits_checkpoints[n]) for n in ("ae", "denoising", "topk")]
    code, out, err = run(capsys, "claims", "--checkpoint", *paths)
    assert code == 0, err
    assert "select." in out and "pixels" in out and "[1/3] measuring" in err
    for title in ("Sparsity → one unit, one class", "Denoising training → robust features"):
        assert title in out
    assert "noisy-input MSE at gaussian 0.3: denoising" in out                  # the pair was found


def test_sets_that_cannot_be_judged_get_one_line_each(capsys, digits_checkpoints):
    one = str(digits_checkpoints["topk"])
    code, _, err = run(capsys, "claims", "--checkpoint", one)
    assert code == 1 and err.strip() == "error: claims compare models: give at least two checkpoints (got 1)"
    code, _, err = run(capsys, "claims", "--checkpoint", one, str(SHIPPED / "ae.pt"))
    assert code == 1 and "trained on different datasets" in err and "mnist-5k" in err and len(err.splitlines()) == 1
    code, _, err = run(capsys, "claims", "--checkpoint", one, str(digits_checkpoints["dead"]))
    assert code == 1 and "left out" in err and "no live code unit" in err
    assert err.strip().endswith("1 of the checkpoints can be measured; claims need at least two")
    code, out, err = run(capsys, "claims", "--checkpoint", one, str(digits_checkpoints["dead"]),
                         str(digits_checkpoints["sparse_l1"]), "--json")
    assert code == 0 and len(json.loads(out)["models"]) == 2 and "dead.pt left out" in err
    code, _, err = run(capsys, "claims", "--checkpoint", one, "missing.pt")
    assert code == 1 and "missing.pt" in err


def fresh(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(page)
    at.run()
    return at


def test_the_claims_page_judges_the_topk_sweep_and_shows_every_claim():
    with server_like_pages():
        at = fresh("pages/claims.py")
        assert not at.exception, [e.value for e in at.exception]
        assert len(at.multiselect(key="claims_models").value) == 5           # the k sweep of topk by default
        assert [h.value for h in at.subheader] == ["Verdicts", "Sparsity → one unit, one class", "Every number"]
        verdicts = at.radio(key="claims_shown").options                    # every verdict, one section shown
        assert len(verdicts) == len(CLAIM_KEYS)
        assert verdicts[0].startswith(":green-badge[:material/check_circle: holds] **Sparsity → one unit, one class**")
        section = [m.value for m in at.markdown if "-badge[" in m.value]
        assert len(section) == 1 and "Spearman ρ(L0, selectivity − null)" in section[0]
        assert len(at.get("plotly_chart")) == 1                           # a fresh browser pays for one chart
        at.radio(key="claims_shown").set_value("robustness").run()
        assert at.subheader[1].value == "Sparsity → robust to noise" and at.query_params["claim"] == "robustness"
        at.toggle(key="claims_every").set_value(True).run()
        assert len(at.subheader) == len(CLAIM_KEYS) + 2 and "claim" not in at.query_params
        table = at.table[0].value
        assert list(table.index) == ["topk k=2", "topk k=5", "topk k=10", "topk k=20", "topk k=32"]
        assert [float(v) for v in table["mean L0"]] == pytest.approx([2, 5, 10, 20, 32], abs=0.05)
        assert all(0.5 < float(v) <= 1 for v in table["probe k=5"]) and "pixel probe" not in table.columns
        assert at.query_params["models"].startswith("sweeps/topk-k/topk-k=2,")
        assert [b.label for b in at.get("download_button")] == ["Download every number (JSON)"]
        at.toggle(key="claims_intervals").set_value(True).run()
        at.toggle(key="claims_columns").set_value(True).run()
        table = at.table[0].value
        assert table["selectivity"].iloc[0].count("[") == 1 and "pixel probe" in table.columns   # value [low, high]


def test_page_and_cli_show_the_same_numbers(capsys):
    ae, denoising = SHIPPED / "ae.pt", SHIPPED / "denoising.pt"
    code, out, err = run(capsys, "claims", "--checkpoint", str(ae), str(denoising), "--json")
    assert code == 0, err
    cli = {m["checkpoint"]: m for m in json.loads(out)["models"]}
    with server_like_pages():
        at = fresh("pages/claims.py", models="ae,denoising")
        assert not at.exception, [e.value for e in at.exception]
        table = at.table[0].value
        assert len(table) == 2
        for row, path in zip(table.to_dict("records"), (ae, denoising), strict=True):
            numbers = cli[str(path)]
            for column, key in (("FVU", "fvu"), ("selectivity", "selectivity"), ("MIG", "mig"),
                                ("probe k=5", "probe_k5"), ("dense probe", "probe_dense")):
                assert row[column] == f"{numbers[key]:.3f}", (path.name, column)         # to the digit shown
        denoise = next(o for o in at.radio(key="claims_shown").options if "Denoising training" in o)
        assert denoise.startswith(":green-badge[:material/check_circle: holds]")   # the shipped denoiser beats the ae


def test_the_claims_page_with_one_model_or_a_dead_one_says_what_to_do():
    with server_like_pages():
        at = fresh("pages/claims.py", models="ae")
        assert not at.exception and any("at least two models" in i.value for i in at.info)
        at = fresh("pages/claims.py", models="sweeps/sparse_l1-lam/sparse_l1-lam=3e-3,sparse_l1")
        assert not at.exception
        assert any("no live code unit" in w.value for w in at.warning)
        assert any("1 of the chosen models can be measured" in e.value for e in at.error)


def test_a_units_selectivity_and_class_profile_on_activations():
    with server_like_pages():
        at = fresh("pages/activations.py", model="topk", unit="3")
        assert not at.exception, [e.value for e in at.exception]
        metric = next(m for m in at.metric if m.label == "Class SI")
        assert 0 <= float(metric.value) <= 1
        charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
        profile = next(c for c in charts if any(a.get("text", "").startswith("Mean activity μ_c")
                                                for a in c["layout"].get("annotations", [])))
        assert len(profile["data"][-1]["x"]) == 10                   # the mean activity of each of the 10 classes
        assert any("with the labels permuted" in c.value for c in at.caption)


def test_measures_are_made_once_and_kept_on_disk(monkeypatch, tmp_path, digits_checkpoints, digits):
    from explorer import load_checkpoint
    from explorer.app import measured

    monkeypatch.setattr(measured, "_store", measured.MeasureStore(tmp_path))
    measured.clear()
    path = digits_checkpoints["topk"]
    key = "file:" + file_digest(path)
    model = load_checkpoint(path)
    calls = []
    original = measured.measure_model
    monkeypatch.setattr(measured, "measure_model", lambda *a, **k: calls.append(1) or original(*a, **k))
    first = measured.measures(key, model, digits, "cpu")
    assert measured.ready(key, digits.name, "cpu") and measured.measures(key, model, digits, "cpu") is first
    measured.clear()                                       # a restart: memory empty, the folder kept
    again = measured.measures(key, model, digits, "cpu")
    assert again == first and calls == [1] and len(list(tmp_path.glob("model-*.json"))) == 1
    session = measured.measures("session:abc", model, digits, "cpu")   # not named by its weights: memory only
    assert session == first and len(list(tmp_path.glob("model-*.json"))) == 1 and calls == [1, 1]
