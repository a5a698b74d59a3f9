"""The bad-input corpus: odd files, odd values and missing data, through the CLI and the app's own
entry points. Each case must give a clear message, change nothing on disk, and leave the app usable."""
from __future__ import annotations

import os
import pickle
import re

import numpy as np
import pytest
import torch
from apptest_support import server_like_pages
from conftest import ROOT

from explorer import CheckpointError, build_model, save_checkpoint
from explorer.checkpoint import FORMAT, save_new_checkpoint, write_atomically
from explorer.cli import main

GOOD = ROOT / "checkpoints" / "ae.pt"


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def make_file(kind: str, folder) -> str:
    """Write one odd file into folder and return its path."""
    path = folder / f"{kind}.pt"
    payload = torch.load(GOOD, weights_only=True)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("my lecture notes, renamed")
    elif kind == "truncated":
        path.write_bytes(GOOD.read_bytes()[:5000])
    elif kind == "bare_state_dict":
        torch.save(build_model("ae").state_dict(), path)
    elif kind == "other_format":
        write_atomically(path, {**payload, "format": "ae-explorer/0"})
    elif kind == "config_mismatch":
        write_atomically(path, {**payload, "config": {**payload["config"], "hidden": [64]}})
    elif kind == "code_pickle":
        with open(path, "wb") as handle:
            pickle.dump({"format": FORMAT, "x": _RunsCode()}, handle)
    elif kind == "digits_model":
        save_checkpoint(path, build_model("ae", input_dim=64), "digits")
    return str(path)


FILE_CASES = [
    ("empty", "the file is empty (0 bytes)"),
    ("text", "not a PyTorch checkpoint at all"),
    ("truncated", "not a readable PyTorch file"),
    ("bare_state_dict", "a bare state_dict saved by plain PyTorch"),
    ("other_format", "format 'ae-explorer/0' is not supported"),
    ("config_mismatch", "its weights do not fit its config"),
    ("code_pickle", "refused"),
    ("digits_model", "reads 64-pixel images (trained on digits), but mnist-5k has 784-pixel images"),
]


@pytest.mark.parametrize("kind, message", FILE_CASES, ids=[k for k, _ in FILE_CASES])
def test_odd_checkpoint_files_on_the_command_line(tmp_path, monkeypatch, capsys, kind, message):
    monkeypatch.chdir(tmp_path)
    path = make_file(kind, tmp_path)
    before = open(path, "rb").read()
    code = main(["evaluate", "--checkpoint", path, "--dataset", "mnist-5k"])
    err = capsys.readouterr().err
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert open(path, "rb").read() == before and not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("kind, message", FILE_CASES[:-1], ids=[k for k, _ in FILE_CASES[:-1]])
def test_odd_checkpoint_files_uploaded_to_the_app(tmp_path, monkeypatch, kind, message):
    from explorer.app import models

    monkeypatch.chdir(tmp_path)
    path = make_file(kind, tmp_path)
    with pytest.raises(CheckpointError, match=message.replace("(", r"\(").replace(")", r"\)")):
        models.add_upload(os.path.basename(path), open(path, "rb").read())
    assert not (tmp_path / "PWNED").exists()


def test_upload_over_the_limit_is_refused():
    import streamlit as st

    from explorer.app import models

    limit = st.get_option("server.maxUploadSize")     # .streamlit/config.toml sets 50 for the server
    with pytest.raises(CheckpointError, match=f"over the {limit} MB upload limit"):
        models.add_upload("huge.pt", b"\x80" * ((limit + 1) * 1024 * 1024))


def run_cli(argv: list[str], code: int, capsys) -> str:
    """Run the command line, check its exit code (2: argparse's own exit), and return what it wrote to stderr."""
    if code == 2:
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    else:
        assert main(argv) == code
    return capsys.readouterr().err


CLAIMS_FILE_CASES = [(kind, message) if kind != "digits_model" else
                     (kind, "trained on different datasets") for kind, message in FILE_CASES]


@pytest.mark.parametrize("kind, message", CLAIMS_FILE_CASES, ids=[k for k, _ in CLAIMS_FILE_CASES])
def test_odd_checkpoint_files_given_to_claims(tmp_path, monkeypatch, capsys, kind, message):
    """Every file is read before anything is measured: an odd one is named at once, in one line."""
    monkeypatch.chdir(tmp_path)
    path = make_file(kind, tmp_path)
    code = main(["claims", "--checkpoint", str(GOOD), path])
    err = capsys.readouterr().err
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "measuring" not in err and not (tmp_path / "PWNED").exists()


CLAIMS_VALUE_CASES = [
    (["claims", "--checkpoint", str(GOOD)], 1, "claims compare models: give at least two checkpoints (got 1)"),
    (["claims", "--checkpoint", str(GOOD), str(GOOD), "--dataset", "digits"], 1,
     "this ae model reads 784-pixel images (trained on mnist-5k), but digits has 64-pixel images"),
    (["claims", "--checkpoint"], 2, "argument --checkpoint: expected at least one argument"),
    (["claims", "--checkpoint", str(GOOD), str(GOOD), "--dataset", "fashion-mnist"], 1,
     "Datasets that work offline: mnist-5k, digits"),
]


@pytest.mark.parametrize("argv, code, message", CLAIMS_VALUE_CASES, ids=[a[-1] for a, _, _ in CLAIMS_VALUE_CASES])
def test_sets_claims_cannot_judge(tmp_path, monkeypatch, capsys, argv, code, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AE_EXPLORER_OFFLINE", "1")
    err = run_cli(argv, code, capsys)
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []                          # nothing written


def test_a_claims_link_naming_unknown_or_too_many_models_falls_back_with_a_notice():
    from streamlit.testing.v1 import AppTest

    with server_like_pages():
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
        at.query_params["models"] = "ae,no-such-model"
        at.switch_page("pages/claims.py")
        at.run()
        assert not at.exception and any("not usable" in t.value for t in at.toast)
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
        at.query_params["models"] = ",".join(["ae", "sparse_l1", "sparse_kl", "denoising", "contractive", "vae",
                                              "vae-2d", "topk", "batch_topk", "jumprelu", "sweeps/topk-k/topk-k=2"])
        at.switch_page("pages/claims.py")
        at.run()
        assert not at.exception and any("showing the first 10" in t.value for t in at.toast)
        assert len(at.multiselect(key="claims_models").value) == 10


VALUE_CASES = [
    (["train", "--variant", "sparse_kl", "--param", "rho=0"], 1, "rho must be in (0, 1); got 0"),
    (["train", "--variant", "sparse_kl", "--param", "rho=1"], 1, "rho must be in (0, 1); got 1"),
    (["train", "--variant", "sparse_l1", "--param", "lam=-1e-3"], 1, "lam must be >= 0; got -0.001"),
    (["train", "--variant", "ae", "--param", "latent_dim=0"], 1, "latent_dim must be >= 1; got 0"),
    (["train", "--variant", "denoising", "--param", "noise=salt_pepper", "noise_level=2"], 1,
     "noise_level is a fraction of pixels for salt_pepper noise and must be in [0, 1]; got 2"),
    (["train", "--variant", "ae", "--dataset", "digits", "--batch-size", "4000"], 1,
     "batch size 4000 is larger than the 1437 training images of digits"),
    (["train", "--variant", "vae", "--dataset", "digits", "--lr", "10", "--epochs", "3"], 1,
     "The learning rate (10) is probably too high: try 1e-3 or lower. Nothing was saved."),
    (["train", "--variant", "ae", "--dataset", "fashion-mnist"], 1, "Datasets that work offline: mnist-5k, digits"),
    (["train", "--variant", "ae", "--epochs", "-3"], 2, "argument --epochs: must be at least 1, got -3"),
    (["train", "--variant", "ae", "--lr", "fast"], 2, "argument --lr: expected a number, got 'fast'"),
    (["sweep", "--variant", "sparse_kl", "--param", "beta=1e-2,-1"], 1, "beta must be >= 0; got -1"),
    (["project", "--checkpoint", str(GOOD), "--method", "tsne", "--perplexity", "5000", "--n", "300"], 1,
     "perplexity must be at least 1 and below the number of points (300)"),
    # absurd sizes: refused before a byte is allocated (once, a 512 GB allocation ended in a traceback)
    (["train", "--variant", "ae", "--param", "latent_dim=1000000000"], 1,
     "this network would have 258,000 million weights"),
    (["train", "--variant", "ae", "--dataset", "digits", "--param", "hidden=100000000"], 1,
     "the limit is 50 million: use a smaller latent_dim or hidden layers"),
    (["train", "--variant", "topk", "--param", "k=65"], 1, "k must be at most latent_dim (64)"),
    (["train", "--variant", "jumprelu", "--param", "bandwidth=0"], 1, "bandwidth must be > 0; got 0"),
    (["train", "--variant", "ae", "--param", "hidden=128,-4"], 1, "hidden must be >= 1; got -4"),
    (["train", "--variant", "ae", "--param", "latent_dim"], 2, "expected NAME=VALUE, got 'latent_dim'"),
    # empty and repeated lists
    (["sweep", "--variant", "topk", "--param", "k="], 1, "no values given for k: give them as a comma-separated list"),
    (["sweep", "--variant", "topk", "--param", "k=5,,10"], 1, "give the values as a comma-separated list"),
    (["sweep", "--variant", "topk", "--param", "k=5,5"], 1, "the value 5 is repeated in '5,5'; give each value once"),
    (["evaluate", "--checkpoint", str(GOOD), "--split", "validation"], 2, "argument --split: invalid choice"),
]


@pytest.mark.parametrize("argv, code, message", VALUE_CASES,
                         ids=[" ".join(a[:4]) + " " + a[-1] for a, _, _ in VALUE_CASES])
def test_impossible_values_on_the_command_line(tmp_path, monkeypatch, capsys, argv, code, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AE_EXPLORER_OFFLINE", "1")
    out = tmp_path / "out.pt"
    out.write_bytes(b"an existing checkpoint")        # must never be overwritten by a failed run
    full = argv + (["--out", str(out)] if argv[0] in ("train",) else ["--out", str(tmp_path / "o")])
    err = run_cli(full, code, capsys)
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert out.read_bytes() == b"an existing checkpoint"


def test_saving_under_an_existing_name_never_overwrites(tmp_path):
    save_new_checkpoint(tmp_path, "mine", build_model("ae", input_dim=64), "digits")
    before = (tmp_path / "mine.pt").read_bytes()
    with pytest.raises(ValueError, match="a checkpoint named mine.pt already exists"):
        save_new_checkpoint(tmp_path, "mine.pt", build_model("vae", input_dim=64), "digits")
    with pytest.raises(ValueError, match="checkpoint name '../escape' is not allowed"):
        save_new_checkpoint(tmp_path, "../escape", build_model("ae", input_dim=64), "digits")
    assert (tmp_path / "mine.pt").read_bytes() == before and not (tmp_path.parent / "escape.pt").exists()


def test_train_page_offers_only_possible_values():
    """ρ's slider cannot reach 0 or 1, and λ's starts at 0: impossible values are not offered."""
    from streamlit.testing.v1 import AppTest

    with server_like_pages():
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
        at.run()
        at.switch_page("pages/train.py")
        at.run()
        at.selectbox(key="train_variant").set_value("sparse_kl").run()
        rho = [float(v) for v in at.select_slider(key="hp_sparse_kl_rho").options]
        assert min(rho) > 0 and max(rho) < 1
        at.selectbox(key="train_variant").set_value("sparse_l1").run()
        lam = [float(v) for v in at.select_slider(key="hp_sparse_l1_lam").options]
        assert min(lam) == 0 and max(lam) == 0.01
        assert not at.exception


def test_a_learning_rate_that_saturates_the_plain_ae_is_flagged_not_hidden(tmp_path, capsys):
    """lr 10 on the plain ae never makes the loss NaN (the sigmoid saturates), so nothing stops it:
    the run finishes, and the CLI says the model learned nothing and why."""
    out = tmp_path / "useless.pt"
    assert main(["train", "--variant", "ae", "--dataset", "digits", "--epochs", "5", "--lr", "10",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: This model reconstructs no better than the average")
    assert "The learning rate (10) is probably too high: try 1e-3." in err[0]
    assert out.exists()      # kept: what was asked for is on disk, with the warning beside it


def test_the_train_page_warns_when_a_model_learned_nothing():
    from streamlit.testing.v1 import AppTest

    with server_like_pages():
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
        at.run()
        at.sidebar.selectbox(key="dataset").set_value("digits").run()
        at.switch_page("pages/train.py")
        at.run()
        at.number_input(key="epochs_ae_128_digits").set_value(5).run()
        at.select_slider(key="lr").set_value(10.0).run()
        next(b for b in at.button if b.label == "Train").click().run(timeout=120)
        assert not at.exception
        assert any("Finished after 5 epochs" in s.value for s in at.success)
        assert any("learned nothing useful" in w.value and "(10) is probably too high" in w.value for w in at.warning)


# -- wrong kinds of path: a file where a folder belongs and the other way round -------------------------
PATH_CASES = [
    (["train", "--variant", "ae", "--dataset", "digits", "--out", "{file}/x.pt"],
     "is a file, so nothing can be written"),
    (["train", "--variant", "ae", "--dataset", "digits", "--out", "{folder}"], "is a folder; give a file path"),
    (["evaluate", "--checkpoint", "{folder}"], "a folder, not a checkpoint file; give one of its .pt files"),
    (["project", "--checkpoint", str(GOOD), "--n", "100", "--out", "{folder}"], "is a folder; give a file path"),
    (["project", "--checkpoint", str(GOOD), "--n", "100", "--out", "m.csv", "--projector", "{file}"],
     "is a file; give a folder (it is created if missing)"),
    (["sweep", "--variant", "ae", "--param", "latent_dim=4,8", "--dataset", "digits", "--out", "{file}"],
     "is a file; give a folder"),
    (["train", "--variant", "ae", "--dataset", "mnist", "--data-dir", "{file}", "--out", "x.pt"],
     "is a file, not a folder: give a folder"),
]


@pytest.mark.parametrize("argv, message", PATH_CASES, ids=[" ".join(a[:1] + a[-2:]) for a, _ in PATH_CASES])
def test_wrong_kinds_of_path_on_the_command_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AE_EXPLORER_OFFLINE", "1")
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "adir").mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert main([a.format(file="afile", folder="adir") for a in argv]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before            # nothing written
    assert (tmp_path / "afile").read_text() == "not a folder"


# -- the Python API: the same clear reasons, as exceptions -------------------------------------------
def _api_cases(tmp_path, digits):
    from explorer import TrainSettings, evaluate, load_checkpoint, load_dataset
    from explorer.latent import code_sample, project
    from explorer.sweep import plan_sweep

    small = build_model("ae", {"latent_dim": 4, "hidden": "8"}, input_dim=64)
    (tmp_path / "afile").write_text("x")
    return [
        (lambda: build_model("ae", {"latent_dim": 10**9}), ValueError, "million weights"),
        (lambda: build_model("nope"), ValueError, "unknown variant 'nope'"),
        (lambda: load_checkpoint(12345), CheckpointError, "expected a checkpoint's path or an open binary file"),
        (lambda: load_checkpoint(tmp_path), CheckpointError, "a folder, not a checkpoint file"),
        (lambda: load_dataset("mnist", data_dir=tmp_path / "afile"), Exception, "is a file, not a folder"),
        (lambda: TrainSettings(lr=0), ValueError, "learning rate must be a positive number"),
        (lambda: evaluate(small, digits, split="validation"), ValueError, "split must be 'train' or 'test'"),
        (lambda: evaluate(build_model("ae", input_dim=784), digits), ValueError, "reads 784-pixel images"),
        (lambda: plan_sweep(["ae"], {"latent_dim": []}, digits, TrainSettings(epochs=1)), ValueError,
         "no values given for latent_dim: give at least one"),
        (lambda: code_sample(small, digits, n=0), ValueError, "a sample needs at least one image"),
        (lambda: project(np.zeros((50, 4)), "tsne", perplexity=5), ValueError, "all 50 codes are identical"),
        (lambda: project(np.zeros((50, 4)), "pca", dims=5), ValueError, "dims must be 2 or 3"),
    ]


@pytest.mark.parametrize("case", range(12))
def test_the_python_api_refuses_with_a_reason(tmp_path, digits, case):
    call, error, message = _api_cases(tmp_path, digits)[case]
    with pytest.raises(error, match=re.escape(message)):
        call()


# -- the app with degenerate models: every unit dead, all codes identical ---------------------------
DEAD = ROOT / "checkpoints" / "sweeps" / "sparse_l1-lam" / "sparse_l1-lam=3e-3.pt"


def _app_on(page: str, checkpoint):
    from streamlit.testing.v1 import AppTest

    from explorer.app.catalog import file_digest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.sidebar.selectbox(key="active_model").set_value("file:" + file_digest(checkpoint)).run()
    at.switch_page(page)
    at.run()
    return at


def test_a_model_whose_every_unit_is_dead_is_explained_on_every_page():
    with server_like_pages():
        home = _app_on("pages/home.py", DEAD)
        assert not home.exception and any("learned nothing useful" in w.value for w in home.warning)
        act = _app_on("pages/activations.py", DEAD)
        assert not act.exception and any("No unit fires on any test image" in w.value for w in act.warning)
        lat = _app_on("pages/latent.py", DEAD)
        assert not lat.exception
        lat.segmented_control(key="lat_method").set_value("tsne").run()   # once, this crashed the server
        assert not lat.exception
        assert any("codes are identical" in w.value and "Showing PCA instead" in w.value for w in lat.warning)
        rec = _app_on("pages/reconstructions.py", DEAD)
        assert not rec.exception and not rec.error


def test_compare_leaves_out_a_model_of_another_image_size_and_says_why():
    from streamlit.testing.v1 import AppTest

    from explorer.app.catalog import TrainedEntry, file_digest

    with server_like_pages():
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
        at.run()
        digits_model = build_model("ae", {"latent_dim": 4, "hidden": "8"}, input_dim=64)
        at.session_state["session_models"] = {"session:x": TrainedEntry(
            key="session:x", label="my digits ae", variant="ae", dataset="digits", model=digits_model)}
        at.switch_page("pages/compare.py")
        at.run()
        at.multiselect(key="cmp_models").set_value(["file:" + file_digest(GOOD), "session:x"]).run()
        assert not at.exception
        assert any("Left out — my digits ae" in w.value and "reads 64-pixel images" in w.value for w in at.warning)

