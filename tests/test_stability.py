"""Stability across seeds: the matched-atom cosine against hand computations, which models it compares,
sweeps over the seed, the `stability` command and Compare's section."""
from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT

from explorer import TrainSettings, build_model, load_checkpoint
from explorer.checkpoint import ModelRecord
from explorer.cli import main
from explorer.stability import (
    SHARED_COSINE,
    StabilityInputError,
    cosine_matrix,
    match_atoms,
    seed_stability,
    why_not_seed_runs,
)
from explorer.sweep import plan_sweep, read_manifest


def test_a_dictionary_in_another_order_and_scale_matches_itself_exactly():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 10))
    order = rng.permutation(6)
    b = a[order] * rng.uniform(0.5, 3.0, size=(6, 1))           # the same atoms, shuffled, each scaled up or down
    partner, matched = match_atoms(a, b)
    assert np.allclose(matched, 1.0)
    assert order[partner].tolist() == list(range(6))        # each atom of a found where the shuffle put it


def test_a_two_atom_case_by_hand_where_the_best_one_to_one_match_is_not_the_greedy_one():
    # a at 0° and 90°, b at 30° and −60°: cosines [[cos 30°, cos 60°], [cos 60°, cos 150°]].
    angles = np.radians
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[np.cos(angles(30)), np.sin(angles(30))], [np.cos(angles(-60)), np.sin(angles(-60))]])
    assert np.allclose(cosine_matrix(a, b), [[math.sqrt(3) / 2, 0.5], [0.5, -math.sqrt(3) / 2]])
    partner, matched = match_atoms(a, b)
    # Greedy (a0→b0 at 0.866, then a1→b1 at −0.866) sums to 0; crossing (0.5 + 0.5) sums to 1.
    assert partner.tolist() == [1, 0] and np.allclose(matched, [0.5, 0.5])
    assert matched.mean() == pytest.approx(0.5) and (matched > SHARED_COSINE).mean() == 0


def test_the_cosine_keeps_its_sign_and_an_empty_atom_resembles_nothing():
    a = np.eye(3)
    _, matched = match_atoms(a, -a)        # a negated atom is another feature: no positive match is left
    assert np.allclose(matched, 0.0)
    _, alone = match_atoms(np.eye(1), -np.eye(1))
    assert alone.tolist() == [-1.0]
    with_empty = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    cos = cosine_matrix(with_empty, np.eye(3)[:2])
    assert np.isfinite(cos).all() and cos[1].tolist() == [0.0, 0.0]


def seeded(variant="topk", params=None, seed=0, dataset="digits", **train):
    """An untrained model with the checkpoint record of a run from `seed`."""
    model = build_model(variant, {"latent_dim": 6, "k": 2, **(params or {})}, input_dim=16, seed=seed)
    model.meta = ModelRecord(dataset, train={"epochs": 2, "batch_size": 64, "lr": 1e-3, "seed": seed, **train})
    return model


def shuffled_copy(model, order, seed):
    """model with its units in another order (decoder columns and encoder rows alike), recorded as `seed`."""
    copy = seeded(seed=seed)
    copy.load_state_dict(model.state_dict())
    with torch.no_grad():
        encoder = [m for m in copy.encoder.modules() if isinstance(m, torch.nn.Linear)][0]
        encoder.weight.copy_(encoder.weight[order])
        encoder.bias.copy_(encoder.bias[order])
        copy.output_layer().weight.copy_(copy.output_layer().weight[:, order] * 2.0)
    return copy


def test_models_of_one_setting_reordered_score_one_across_every_pair():
    first = seeded(seed=0)
    models = [first, shuffled_copy(first, torch.tensor([5, 4, 3, 2, 1, 0]), 1),
              shuffled_copy(first, torch.tensor([1, 0, 3, 2, 5, 4]), 2)]
    result = seed_stability(models, ["a", "b", "c"])
    assert [(p.first, p.second) for p in result.pairs] == [(0, 1), (0, 2), (1, 2)]
    assert result.mean.value == pytest.approx(1.0) and result.shared.value == 1.0
    assert result.mean.low == pytest.approx(1.0) and result.mean.high == pytest.approx(1.0)   # nothing varies
    assert result.encoder_mean == pytest.approx(1.0) and result.pairs[0].partner.tolist() == [5, 4, 3, 2, 1, 0]
    assert result.seeds == [0, 1, 2] and result.atoms == 6
    assert result.untrained < 0.9        # the seeds' untrained dictionaries are not alike
    report = result.to_dict()
    assert report["threshold"] == SHARED_COSINE == 0.7 and report["pairs"][2]["seeds"] == [1, 2]
    json.dumps(report)


def test_the_score_is_the_mean_of_the_pairs_and_its_interval_holds_it():
    models = [seeded(seed=s) for s in range(3)]          # unrelated random dictionaries
    result = seed_stability(models)
    assert result.mean.value == pytest.approx(np.mean([p.score for p in result.pairs]))
    assert result.mean.low <= result.mean.value <= result.mean.high
    assert result.pairs[0].score == pytest.approx(match_atoms(
        models[0].decoder_atoms().detach().double().numpy(), models[1].decoder_atoms().detach().double().numpy()
    )[1].mean())
    assert result.untrained == pytest.approx(result.mean.value)     # untrained models: the same numbers


@pytest.mark.parametrize(("models", "says"), [
    (lambda: [seeded(seed=0)], "two or more models"),
    (lambda: [seeded(seed=0), seeded("batch_topk", seed=1)], "is topk and model 2 is batch_topk"),
    (lambda: [seeded(seed=0), seeded(params={"k": 3}, seed=1)], "differ in k (2 vs 3)"),
    (lambda: [seeded(seed=0), seeded(seed=1, dataset="mnist-5k")], "trained on different datasets"),
    (lambda: [seeded(seed=0), seeded(seed=1, epochs=5)], "different epochs (model 1 2, model 2 5)"),
    (lambda: [seeded(seed=0), seeded(seed=0)], "were both trained from seed 0"),
])
def test_only_one_setting_from_different_seeds_is_compared(models, says):
    chosen = models()
    assert says in why_not_seed_runs(chosen)
    with pytest.raises(StabilityInputError, match=f"^.*{says.replace('(', '.').replace(')', '.')}"):
        seed_stability(chosen)


def test_a_model_without_a_recorded_seed_is_not_compared():
    unknown = build_model("topk", {"latent_dim": 6, "k": 2}, input_dim=16, seed=1)        # no checkpoint record
    assert "model 2 has no recorded seed" in why_not_seed_runs([seeded(seed=0), unknown])
    assert why_not_seed_runs([seeded(seed=0), unknown], training=[None, {"seed": 1}]) is None   # told it instead
    assert why_not_seed_runs([seeded(seed=0), seeded(seed=1)]) is None


@pytest.fixture(scope="module")
def seed_sweep(tmp_path_factory):
    """`python -m explorer sweep --param seed=0,1` on digits, as a user runs it."""
    out = tmp_path_factory.mktemp("seeds")
    proc = subprocess.run([sys.executable, "-m", "explorer", "sweep", "--variant", "topk", "--param", "seed=0,1",
                           "--set", "latent_dim=16", "k=4", "--dataset", "digits", "--epochs", "2",
                           "--batch-size", "64", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def test_a_sweep_over_the_seed_trains_one_setting_from_each_seed(seed_sweep):
    out, stdout = seed_sweep
    assert "seed sweep of topk" in stdout and "seeds 0, 1" in stdout
    manifest = read_manifest(out)
    assert manifest["grid"] == {"seed": ["0", "1"]} and manifest["base_params"] == {"latent_dim": "16", "k": "4"}
    trials = manifest["trials"]
    assert [t["name"] for t in trials] == ["topk-seed=0", "topk-seed=1"]
    assert [t["params"] for t in trials] == [{"seed": "0"}, {"seed": "1"}]
    assert [t["settings"]["seed"] for t in trials] == [0, 1] and {t["status"] for t in trials} == {"done"}
    a, b = (load_checkpoint(out / t["checkpoint"]) for t in trials)
    assert (a.meta.train["seed"], b.meta.train["seed"]) == (0, 1)
    assert a.config.to_dict() == b.config.to_dict() and a.config.k == 4
    assert not torch.allclose(a.decoder_atoms(), b.decoder_atoms())       # different initialisations
    result = seed_stability([a, b])
    assert result.seeds == [0, 1] and -1 <= result.mean.value < 1


def test_a_seed_is_swept_as_a_training_setting_and_bad_seeds_are_refused(digits):
    plan = plan_sweep(["topk"], {"seed": ["0", "7"], "k": ["2", "4"]}, digits, TrainSettings(epochs=1, seed=3))
    assert [t.name for t in plan.trials] == ["topk-seed=0-k=2", "topk-seed=0-k=4", "topk-seed=7-k=2",
                                             "topk-seed=7-k=4"]
    assert [t.settings.seed for t in plan.trials] == [0, 0, 7, 7]
    assert plan.trials[3].params == {"k": "4"} and plan.trials[3].swept_values == {"seed": "7", "k": "4"}
    assert plan.title == "seed, k sweep of topk"
    with pytest.raises(ValueError, match="a seed is a whole number"):
        plan_sweep(["topk"], {"seed": ["0", "one"]}, digits, TrainSettings(epochs=1))
    with pytest.raises(ValueError, match="a seed is repeated in 0, 00"):
        plan_sweep(["topk"], {"seed": ["0", "00"]}, digits, TrainSettings(epochs=1))
    with pytest.raises(ValueError, match="seed is a training setting"):
        plan_sweep(["topk"], {"k": ["2"]}, digits, TrainSettings(epochs=1), {"seed": "1"})


def test_the_app_s_sweep_panel_sweeps_the_seed(digits):
    import time
    import uuid

    from explorer.app import sweeps

    spec = sweeps.sweepable("topk")["seed"]
    assert sweeps.suggested_values(spec) == ["0", "1", "2"]
    live = sweeps.start_sweep(uuid.uuid4().hex, "topk", "seed", ["0", "1"], 1, digits)
    deadline = time.monotonic() + 180
    while (live.running or live.following) and time.monotonic() < deadline:
        time.sleep(0.1)
    summary = read_manifest(live.folder)
    assert summary["title"].startswith("seed sweep of topk · mine")
    assert [t["status"] for t in summary["trials"]] == ["done", "done"]
    seeds = [load_checkpoint(live.folder / t["checkpoint"]).meta.train["seed"] for t in summary["trials"]]
    assert seeds == [0, 1]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_stability_command_prints_the_pairs_and_json(seed_sweep, capsys):
    out, _ = seed_sweep
    paths = [str(out / "topk-seed=0.pt"), str(out / "topk-seed=1.pt")]
    code, text, _ = run(capsys, "stability", "--checkpoint", *paths)
    assert code == 0 and "topk-seed=0 – topk-seed=1" in text and "shared units (matched cosine > 0.7)" in text
    code, text, _ = run(capsys, "stability", "--checkpoint", *paths, "--json")
    report = json.loads(text)
    expected = seed_stability([load_checkpoint(p) for p in paths], ["topk-seed=0", "topk-seed=1"])
    assert code == 0 and report["threshold"] == 0.7 and len(report["pairs"]) == 1
    assert report["mean_cosine"] == pytest.approx(expected.mean.value)
    assert report["pairs"][0]["mean_cosine"] == pytest.approx(expected.mean.value)      # one pair: its own score
    assert report["interval"] == pytest.approx(expected.mean.as_list())
    assert report["shared_fraction"] == pytest.approx(expected.shared.value)
    assert [m["seed"] for m in report["models"]] == [0, 1]


def test_the_stability_command_refuses_what_it_cannot_compare_in_one_line(seed_sweep, capsys, tmp_path):
    out, _ = seed_sweep
    one = str(out / "topk-seed=0.pt")
    for argv, says in ((["--checkpoint", one], "got 1"),
                       (["--checkpoint", one, one], "were both trained from seed 0"),
                       (["--checkpoint", one, str(tmp_path / "missing.pt")], "no such file")):
        code, text, err = run(capsys, "stability", *argv)
        assert code == 1 and says in err and err.count("\n") == 1 and not text, err
    code, _, err = run(capsys, "sweep", "--variant", "topk", "--param", "seed=0,1", "--seed", "3", "--out",
                       str(tmp_path / "s"))
    assert code == 1 and "both give the seed" in err


def test_compare_shows_stability_for_a_seed_sweep_and_not_for_a_k_sweep(tmp_path, monkeypatch, mnist5k):
    from apptest_support import server_like_pages
    from streamlit.testing.v1 import AppTest

    from explorer.app import catalog, models
    from explorer.app.catalog import file_digest
    from explorer.sweep import run_sweep

    folder = tmp_path / "checkpoints"
    sweep = folder / "sweeps" / "topk-seed"
    sweep.mkdir(parents=True)
    shutil.copy(catalog.CHECKPOINT_DIR / "ae.pt", folder / "ae.pt")
    shutil.copy(catalog.CHECKPOINT_DIR / "topk.pt", folder / "topk.pt")
    run_sweep(plan_sweep(["topk"], {"seed": ["0", "1"]}, mnist5k, TrainSettings(epochs=1), {"latent_dim": "16"}),
              sweep, mnist5k)
    monkeypatch.setattr(catalog, "CHECKPOINT_DIR", folder)
    monkeypatch.setattr(models, "CHECKPOINT_DIR", folder)
    models._shared_entries.clear()
    try:
        with server_like_pages():
            at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
            at.run()
            at.switch_page("pages/compare.py")
            at.run()
            next(b for b in at.button if b.label == "seed sweep of topk").click().run()
            assert not at.exception, [e.value for e in at.exception]
            seeds = [f"file:{file_digest(sweep / f'topk-seed={s}.pt')}" for s in (0, 1)]
            assert at.multiselect(key="cmp_models").value == seeds
            assert "Stability across seeds" in [h.value for h in at.subheader]
            shown = {m.label: m.value for m in at.metric}
            expected = seed_stability([load_checkpoint(sweep / f"topk-seed={s}.pt") for s in (0, 1)])
            assert shown["Mean matched decoder cosine"] == f"{expected.mean.value:.3f}"
            assert shown["Shared units (matched cosine > 0.7)"] == f"{expected.shared.value:.0%}"
            assert any("comes back from another seed" in c.value for c in at.caption)
            at.multiselect(key="cmp_models").set_value([seeds[0], f"file:{file_digest(folder / 'topk.pt')}"]).run()
            assert not at.exception, [e.value for e in at.exception]
            assert len(at.dataframe[0].value) == 2                          # compared, but not one setting
            assert "Stability across seeds" not in [h.value for h in at.subheader]
    finally:
        models._shared_entries.clear()
