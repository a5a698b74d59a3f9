"""More of the bad-input corpus: crafted checkpoint fields and weights, oversized and compressed archives,
huge shapes, absurd penalty weights, damaged IDX files, too large samples and over-long links. Each case
gives one clear line naming what is wrong, exits non-zero, and changes nothing on disk."""
from __future__ import annotations

import copy
import io
import zipfile

import numpy as np
import pytest
import torch
from apptest_support import server_like_pages
from conftest import ROOT
from test_bad_inputs import run_cli

from explorer import CheckpointError, archive
from explorer.checkpoint import ModelRecord
from explorer.cli import main

GOOD = ROOT / "checkpoints" / "ae.pt"
NAN, INF = float("nan"), float("inf")


def snapshot(folder) -> dict[str, bytes | None]:
    """Every path under folder with its bytes (None for a folder): what 'nothing changed' compares."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def run_refused(argv: list[str], folder, capsys, code: int = 1) -> str:
    """Run the command line in folder: exit code 1 (2: argparse's own), one line on stderr (returned), nothing
    on disk changed."""
    before = snapshot(folder)
    err = run_cli(argv, code, capsys)
    assert len(err.strip().splitlines()) == 1 and "error: " in err and "Traceback" not in err, err
    assert snapshot(folder) == before
    return err


# -- crafted fields: every field of the wrong type is refused by name ------------------------------------
def _set(path: tuple, value):
    def change(payload: dict) -> None:
        target = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _poison(name: str, index: tuple, value: float):
    def change(payload: dict) -> None:
        payload["state_dict"][name][index] = value
    return change


def _with_config(**changes):
    def change(payload: dict) -> None:
        payload["config"] = {**payload["config"], **changes}
    return change


FIELD_CASES = [
    ("config a list", _set(("config",), [784, 128, 32]), "its config is a list, not a dict"),
    ("config a str", _set(("config",), "784-128-32"), "its config is a str, not a dict"),
    ("latent_dim a word", _with_config(latent_dim="abc"), "latent_dim must be a whole number, got 'abc'"),
    ("latent_dim a fraction", _with_config(latent_dim=3.5), "latent_dim must be a whole number, got 3.5"),
    ("latent_dim a flag", _with_config(latent_dim=True), "latent_dim must be a whole number, got True"),
    ("latent_dim negative", _with_config(latent_dim=-3), "latent_dim must be >= 1; got -3"),
    ("hidden a word", _with_config(hidden="x"), "hidden must be a comma-separated list of layer sizes"),
    ("hidden of 0", _with_config(hidden=[0]), "hidden must be >= 1; got 0"),
    ("hidden of fractions", _with_config(hidden=[1.5]), "hidden must be a list of whole layer sizes"),
    ("config key unknown", _with_config(colour="red"), "unknown parameter 'colour' for this variant"),
    ("config key a number", _set(("config", 7), 1), "its config has a key 7 that is not a name"),
    ("dataset a list", _set(("dataset",), ["mnist-5k"]), "its dataset is a list, not a text"),
    ("dataset an int", _set(("dataset",), 5), "its dataset is an int, not a text"),
    ("dataset unknown, in Cyrillic", _set(("dataset",), "цифры"),
     "trained on dataset 'цифры', which this version does not know; give --dataset (mnist-5k, digits,"),
    ("variant a list", _set(("variant",), ["ae"]), "its variant is a list, not a text"),
    ("variant unknown, in Cyrillic", _set(("variant",), "автоэнкодер"), "unknown variant 'автоэнкодер'"),
    ("format a list", _set(("format",), ["ae-explorer/1"]), "checkpoint format ['ae-explorer/1'] is not supported"),
    ("history a list", _set(("history",), [0.1, 0.2]), "its history is a list, not a dict"),
    ("history train a str", _set(("history", "train"), "total"), "its history's train is a str, not a dict of loss"),
    ("history epoch of words", _set(("history", "epoch"), ["one"]), "its history's epoch is not a list of numbers"),
    ("history term of None", _set(("history", "test", "total"), [None]),
     "its history's test term 'total' is not a list of numbers ([None])"),
    ("metrics a list", _set(("metrics",), []), "its metrics is a list, not a dict"),
    ("metric fvu a word", _set(("metrics", "fvu"), "low"), "its metric fvu is a str, not a number"),
    ("train an int", _set(("train",), 3), "its train is an int, not a dict"),
    ("train lr a word", _set(("train", "lr"), "fast"), "its training record's lr is a str, not a number"),
    ("train seed a list", _set(("train", "seed"), [0]), "its training record's seed is a list, not a whole number"),
    ("state_dict a list", _set(("state_dict",), [1, 2]), "its state_dict is a list, not a dict"),
    ("weight a list", _set(("state_dict", "encoder.0.weight"), [[0.0]]),
     "its state_dict's 'encoder.0.weight' is a list, not a tensor"),
    ("weight of integers", _set(("state_dict", "encoder.0.bias"), torch.zeros(128, dtype=torch.int64)),
     "its weight 'encoder.0.bias' holds int64 values where float32 belongs"),
    ("weight extra", _set(("state_dict", "encoder.9.weight"), torch.zeros(2)), "unexpected 'encoder.9.weight'"),
    ("created an int", _set(("created",), 20250101), "its created is an int, not a text"),
    ("torch_version None", _set(("torch_version",), None), "its torch_version is None, not a text"),
    # non-finite weights: named, never loaded
    ("NaN weight", _poison("encoder.0.weight", (0, 0), NAN),
     "its weight 'encoder.0.weight' holds 1 non-finite value (NaN or ±inf) of 100,352"),
    ("inf bias", _poison("decoder.2.bias", (slice(0, 3),), INF),
     "its weight 'decoder.2.bias' holds 3 non-finite values"),
    ("-inf weight", _poison("decoder.0.weight", (slice(None),), -INF),
     "its weight 'decoder.0.weight' holds 4,096 non-finite values"),
    # shapes too large to build: refused from the config, before a byte of the network is allocated
    ("latent_dim 10 million", _with_config(latent_dim=10**7), "this network would have 2,580 million weights"),
    ("hidden of millions", _with_config(hidden=[10**6, 10**6]), "the limit is 50 million"),
    ("latent_dim beyond int64", _with_config(latent_dim=10**30), "latent_dim must be a whole number below 2^63"),
    ("hidden of 100,000 layers", _with_config(hidden=[1] * 100_000), "hidden lists 100,000 layers; the limit is 32"),
]


def crafted(tmp_path, change, name: str = "crafted.pt"):
    payload = copy.deepcopy(torch.load(GOOD, weights_only=True))
    change(payload)
    path = tmp_path / name
    torch.save(payload, path)
    return path


@pytest.mark.parametrize("change, message", [c[1:] for c in FIELD_CASES], ids=[c[0] for c in FIELD_CASES])
def test_crafted_checkpoint_fields_on_the_command_line(tmp_path, monkeypatch, capsys, change, message):
    monkeypatch.chdir(tmp_path)
    path = crafted(tmp_path, change)
    err = run_refused(["evaluate", "--checkpoint", str(path)], tmp_path, capsys)
    assert message in err and err.startswith(f"error: {path}: "), err


@pytest.mark.parametrize("change, message", [c[1:] for c in FIELD_CASES if "dataset unknown" not in c[0]],
                         ids=[c[0] for c in FIELD_CASES if "dataset unknown" not in c[0]])
def test_crafted_checkpoint_fields_uploaded_to_the_app(tmp_path, change, message):
    """The sidebar's upload shows a CheckpointError's message (streamlit_app catches it): nothing else escapes."""
    from explorer.app import models

    payload = crafted(tmp_path, change).read_bytes()
    with pytest.raises(CheckpointError) as info:
        models.add_upload("модель.pt", payload)
    assert message in str(info.value) and str(info.value).startswith("модель.pt: ")


class _Upload:
    """What the sidebar's file uploader hands the app: a name, an id and the bytes."""

    def __init__(self, name: str, data: bytes):
        self.name, self.file_id, self._data = name, f"id-{hash(data)}", data

    def getvalue(self) -> bytes:
        return self._data


SIDEBAR_CASES = ["config a str", "latent_dim a flag", "history train a str", "weight a list", "NaN weight",
                 "latent_dim 10 million"]


@pytest.mark.parametrize("case", SIDEBAR_CASES)
def test_a_crafted_upload_shows_its_message_in_the_sidebar(tmp_path, case):
    from streamlit.testing.v1 import AppTest

    change, message = next(c[1:] for c in FIELD_CASES if c[0] == case)
    with server_like_pages():
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
        at.session_state["upload"] = _Upload("odd.pt", crafted(tmp_path, change).read_bytes())
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        errors = [e.value for e in at.sidebar.error]
        assert len(errors) == 1 and errors[0].startswith("odd.pt: ") and message in errors[0], errors


def test_huge_shapes_are_refused_before_the_model_is_built(tmp_path, monkeypatch):
    from explorer.checkpoint import load_checkpoint
    from explorer.variants.ae import PlainAutoencoder

    built = []
    monkeypatch.setattr(PlainAutoencoder, "__init__", lambda self, *a: built.append(a))
    with pytest.raises(CheckpointError, match="million weights"):
        load_checkpoint(crafted(tmp_path, _with_config(latent_dim=10**7)))
    assert built == []


# -- archives: bounded before torch.load reads them -----------------------------------------------------
def rezipped(compression: int, extra: dict[str, bytes] | None = None) -> bytes:
    """GOOD's entries written again with another compression, plus extra entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(GOOD) as source, zipfile.ZipFile(buffer, "w", compression=compression) as out:
        for entry in source.infolist():
            out.writestr(entry.filename, source.read(entry.filename))
        for name, data in (extra or {}).items():
            out.writestr(name, data)
    return buffer.getvalue()


def _bomb() -> bytes:
    """A 40 kB file whose one entry inflates to 40 MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("archive/data.pkl", b"\0" * (40 << 20))
    return buffer.getvalue()


def _legacy() -> bytes:
    buffer = io.BytesIO()
    torch.save(torch.load(GOOD, weights_only=True), buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


def _other_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr("notes.txt", "my lecture notes")
    return buffer.getvalue()


ARCHIVE_CASES = [
    ("deflated entries", lambda: rezipped(zipfile.ZIP_DEFLATED), {},
     "refused — its entry 'archive/data.pkl' is compressed (method 8), and a compressed entry can inflate"),
    ("a zip bomb", _bomb, {}, "is compressed (method 8)"),
    ("bzip2 entries", lambda: rezipped(zipfile.ZIP_BZIP2), {}, "is compressed (method 12)"),
    ("too many entries", lambda: rezipped(zipfile.ZIP_STORED, {f"archive/pad/{i}": b"" for i in range(4100)}), {},
     "refused — it holds 4,114 zip entries; a checkpoint has at most 4096"),
    ("directory too large", lambda: GOOD.read_bytes(), {"MAX_DIRECTORY_BYTES": 100},
     "refused — its zip directory is 883 bytes, more than a checkpoint's 4096 entries need"),
    ("file too large", lambda: GOOD.read_bytes(), {"MAX_CHECKPOINT_BYTES": 100 << 10},
     "refused — the file is 832 KiB, larger than any checkpoint of a model here (100 KiB at most); nothing was loaded"),
    ("legacy file too large", _legacy, {"MAX_CHECKPOINT_BYTES": 100 << 10}, "refused — the file is 8"),
    ("record too large", lambda: GOOD.read_bytes(), {"MAX_RECORD_BYTES": 1 << 10},
     "refused — its record (data.pkl) is 9 KiB; a checkpoint's settings and history take at most 1 KiB"),
    ("end record cut off", lambda: GOOD.read_bytes()[:-30], {},
     "not a readable PyTorch file (truncated or damaged): no zip directory at its end"),
    ("a zip of notes", _other_zip, {}, "not a readable PyTorch file (truncated or damaged)"),
]


@pytest.mark.parametrize("make, bounds, message", [c[1:] for c in ARCHIVE_CASES], ids=[c[0] for c in ARCHIVE_CASES])
def test_archives_outside_the_bounds(tmp_path, monkeypatch, capsys, make, bounds, message):
    monkeypatch.chdir(tmp_path)
    for name, value in bounds.items():
        monkeypatch.setattr(archive, name, value)
    path = tmp_path / "odd.pt"
    path.write_bytes(make())
    loads = []
    if "refused" in message or "compressed" in message:       # refused from the zip directory alone
        monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(a))
    err = run_refused(["evaluate", "--checkpoint", str(path)], tmp_path, capsys)
    assert message in err and loads == []


def test_a_legacy_checkpoint_within_the_bounds_still_loads():
    from explorer.checkpoint import load_checkpoint

    model = load_checkpoint(io.BytesIO(_legacy()), label="legacy.pt")
    assert model.name == "ae" and model.meta is not None and model.meta.dataset == "mnist-5k"


def test_a_compressed_upload_is_refused_in_the_app():
    from explorer.app import models

    with pytest.raises(CheckpointError, match="is compressed"):
        models.add_upload("bomb.pt", _bomb())


# -- absurd penalty weights: the term and its weight are named, not the learning rate ----------------------
WEIGHT_CASES = [
    ("sparse_l1", "lam=1e38", "The ‖z‖₁ penalty (l1 = ",
     "times its weight lam = 1e+38 (its usual range is 1e-05 to 0.01)"),
    ("sparse_l1", "lam=1e300", "The loss became inf", "is 2.24e+300, too large to add up: lower lam."),
    ("sparse_kl", "beta=1e38", "The Σⱼ KL(ρ‖ρ̂ⱼ) penalty (kl_sparsity = ", "times its weight beta = 1e+38"),
    ("vae", "beta=1e38", "The KL(q ‖ N(0, I)) penalty (kl = ", "lower beta."),
    ("contractive", "lam=1e38", "The ‖∂z/∂x‖²_F penalty (contractive = ", "(its usual range is 1e-05 to 0.1)"),
    ("jumprelu", "lam=1e38", "The ‖z‖₀ penalty (l0 = ", "too large to add up: lower lam."),
]


@pytest.mark.parametrize("variant, param, first, second", WEIGHT_CASES, ids=[f"{v} {p}" for v, p, *_ in WEIGHT_CASES])
def test_an_absurd_penalty_weight_is_blamed_by_name(tmp_path, monkeypatch, capsys, variant, param, first, second):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out.pt"
    out.write_bytes(b"an existing checkpoint")
    err = run_refused(["train", "--variant", variant, "--param", param, "--dataset", "digits", "--epochs", "1",
                       "--out", str(out)], tmp_path, capsys)
    assert first in err and second in err and "Nothing was saved." in err and "learning rate" not in err, err


# -- damaged IDX files: truncated is not 'not on disk' ---------------------------------------------------
def _cut(name: str, keep):
    def damage(raw) -> None:
        data = (raw / name).read_bytes()
        (raw / name).write_bytes(keep(data))
    return damage


def _relabel(raw) -> None:
    from explorer.idx import write_idx

    write_idx(raw / "t10k-labels-idx1-ubyte", np.zeros(7, dtype=np.uint8))


IDX_CASES = [
    ("mnist", "train images cut in half", _cut("train-images-idx3-ubyte", lambda d: d[: len(d) // 2]),
     "MNIST/raw/train-images-idx3-ubyte: this mnist file is truncated: its header declares 60×28×28 values, "
     "47,056 bytes, but the file has 23,528, so it could not be read"),
    ("mnist", "test labels cut", _cut("t10k-labels-idx1-ubyte", lambda d: d[:-1]),
     "t10k-labels-idx1-ubyte: this mnist file is truncated: its header declares 20 values, 28 bytes, but the file "
     "has 27"),
    ("mnist", "header cut", _cut("train-labels-idx1-ubyte", lambda d: d[:6]),
     "this mnist file is truncated: 6 bytes, shorter than its own 8-byte header"),
    ("mnist", "padded", _cut("t10k-images-idx3-ubyte", lambda d: d + b"\0\0\0"),
     "this mnist file is damaged (longer than its header says): its header declares 20×28×28 values, 15,696 bytes, "
     "but the file has 15,699"),
    ("mnist", "not IDX", _cut("train-images-idx3-ubyte", lambda d: b"<html>404</html>"),
     "this mnist file is not an IDX file: it starts with b'<htm'"),
    ("mnist", "empty", _cut("train-labels-idx1-ubyte", lambda d: b""), "this mnist file is empty (0 bytes)"),
    ("mnist", "labels do not match images", _relabel,
     "t10k-images-idx3-ubyte: holds 20×28×28 values and t10k-labels-idx1-ubyte 7, not mnist's N×28×28 images"),
    ("fashion-mnist", "train images cut", _cut("train-images-idx3-ubyte", lambda d: d[:100]),
     "FashionMNIST/raw/train-images-idx3-ubyte: this fashion-mnist file is truncated"),
]


@pytest.mark.parametrize("dataset, damage, message", [c[:1] + c[2:] for c in IDX_CASES], ids=[c[1] for c in IDX_CASES])
def test_damaged_idx_files_are_named_with_their_sizes(idx_data_dir, monkeypatch, capsys, dataset, damage, message):
    monkeypatch.chdir(idx_data_dir)
    monkeypatch.setenv("AE_EXPLORER_OFFLINE", "1")
    damage(idx_data_dir / ("MNIST" if dataset == "mnist" else "FashionMNIST") / "raw")
    err = run_refused(["train", "--variant", "ae", "--dataset", dataset, "--data-dir", str(idx_data_dir),
                       "--epochs", "1", "--out", "out.pt"], idx_data_dir, capsys)
    assert message in err and "Delete it and download again" in err and "not on disk" not in err, err


# -- SAELens folders: the header's shapes bound what an import allocates -----------------------------------
def _scaling_factor(cfg: dict, tensors: dict) -> None:
    tensors["scaling_factor"] = torch.ones(10**6)


def _huge_dictionary(cfg: dict, tensors: dict) -> None:
    cfg["d_sae"] = 10**7


SAELENS_CASES = [
    ("scaling_factor of a million", _scaling_factor, "scaling_factor has shape (1000000,); with d_in = 784 and "
     "d_sae = 64 from cfg.json it must be (64,)"),
    ("d_sae of 10 million", _huge_dictionary, "a topk model cannot hold this"),
]


@pytest.mark.parametrize("change, message", [c[1:] for c in SAELENS_CASES], ids=[c[0] for c in SAELENS_CASES])
def test_saelens_folders_beyond_the_bounds(tmp_path, monkeypatch, capsys, change, message):
    import json

    from safetensors.torch import load_file, save_file

    monkeypatch.chdir(tmp_path)
    assert main(["export", "--checkpoint", str(ROOT / "checkpoints" / "topk-linear.pt"), "--out", "sae"]) == 0
    capsys.readouterr()
    cfg, tensors = json.loads((tmp_path / "sae" / "cfg.json").read_text()), load_file("sae/sae_weights.safetensors")
    change(cfg, tensors)
    (tmp_path / "sae" / "cfg.json").write_text(json.dumps(cfg))
    save_file(tensors, "sae/sae_weights.safetensors")
    err = run_refused(["import", "sae", "--out", "imported.pt"], tmp_path, capsys)
    assert message in err, err


# -- odd values on the command line ------------------------------------------------------------------------
CLI_CASES = [
    (["project", "--checkpoint", str(GOOD), "--n", "6000"],
     "--n 6,000 is more than the 5,000 images in mnist-5k's train and test splits: give at most --n 5000"),
    (["project", "--checkpoint", str(GOOD), "--n", "1001", "--source", "test"],
     "--n 1,001 is more than the 1,000 images in mnist-5k's test split: give at most --n 1000, or --source all"),
    (["project", "--checkpoint", str(GOOD), "--n", "99999999", "--method", "tsne"], "give at most --n 5000"),
    (["train", "--variant", "ae", "--param", "latent_dim=10000000"], "the limit is 50 million"),
    (["train", "--variant", "ae", "--param", "latent_dim=1e30"], "latent_dim must be a whole number below 2^63"),
    (["train", "--variant", "ae", "--param", "latent_dim=3.5"], "latent_dim must be a whole number, got '3.5'"),
    (["train", "--variant", "ae", "--param", "hidden=0"], "hidden must be >= 1; got 0"),
    (["train", "--variant", "ae", "--param", "hidden=" + ",".join(["8"] * 40)],
     "hidden lists 40 layers; the limit is 32"),
    (["train", "--variant", "ae", "--param", "hidden=64,x"], "hidden must be a comma-separated list of layer sizes"),
    (["train", "--variant", "ae", "--param", "colour=red"], "unknown parameter 'colour' for this variant"),
    (["train", "--variant", "sparse_l1", "--param", "lam=nan"], "lam must be a finite number in >= 0; got nan"),
    (["train", "--variant", "sparse_l1", "--param", "lam=" + "9" * 400],
     "lam must be a finite number in >= 0; got inf"),
    (["train", "--variant", "автоэнкодер"], "argument --variant: invalid choice: 'автоэнкодер'"),
    (["sweep", "--variant", "автоэнкодер", "--param", "latent_dim=4,8"], "unknown variant 'автоэнкодер'"),
]


@pytest.mark.parametrize("argv, message", CLI_CASES, ids=[" ".join(a[:1] + a[-2:])[:60] for a, _ in CLI_CASES])
def test_odd_values_on_the_command_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AE_EXPLORER_OFFLINE", "1")
    out = tmp_path / "out.pt"
    out.write_bytes(b"an existing checkpoint")
    code = 2 if "invalid choice" in message else 1
    err = run_refused(argv + ["--out", str(out) if argv[0] == "train" else "map.csv"], tmp_path, capsys, code)
    assert message in err, err


# -- records: whatever a record holds, pages meet only values of the right type ----------------------------
def test_a_record_drops_values_of_the_wrong_type():
    record = ModelRecord(["digits"], {"fvu": "low", "recon_mse": 0.02, "extra": [1]},
                         {"epoch": "1,2", "train": {"total": [0.1, "x"], "recon_mse": [0.1, 0.09]}, "test": []},
                         {"seconds": "abc", "seed": [1], "lr": 1e-3, "epochs_run": True}, 5, None)
    assert record.dataset == "['digits']" and record.created == "5" and record.torch_version == "None"
    assert record.metrics == {"recon_mse": 0.02, "extra": [1]}
    assert record.history == {"train": {"recon_mse": [0.1, 0.09]}}
    assert record.train == {"lr": 1e-3} and record.lr == 1e-3


def test_compare_shows_a_model_whose_record_is_odd():
    from streamlit.testing.v1 import AppTest

    from explorer import build_model
    from explorer.app.catalog import TrainedEntry

    with server_like_pages():
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
        at.run()
        at.sidebar.selectbox(key="dataset").set_value("digits").run()
        entries = {}
        for i in range(2):
            model = build_model("ae", {"latent_dim": 4, "hidden": "8"}, input_dim=64, seed=i)
            model.meta = ModelRecord("digits", {"fvu": [1]}, {"epoch": {"a": 1}, "test": {"recon_mse": "x"}},
                                     {"seconds": "slow", "seed": "zero", "epochs_run": 2.5})
            entries[f"session:{i}"] = TrainedEntry(key=f"session:{i}", label=f"odd {i}", variant="ae",
                                                   dataset="digits", model=model)
        at.session_state["session_models"] = entries
        at.switch_page("pages/compare.py")
        at.run()
        at.multiselect(key="cmp_models").set_value(list(entries)).run()
        at.segmented_control(key="cmp_more").set_value("loss curves").run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("No reconstruction MSE history for" in c.value for c in at.caption)


# -- links: too many, repeated or absurdly long names fall back with a short notice -------------------------
SHIPPED = ["ae", "sparse_l1", "sparse_kl", "denoising", "contractive", "vae", "vae-2d", "topk", "batch_topk",
           "jumprelu", "matryoshka", "mp"]
LINK_CASES = [
    ("compare", "models", ",".join(SHIPPED), "12 models were asked for; showing the first 10.", 10),
    ("compare", "models", "ae,sparse_l1,ae,ae", "The link names 'ae' more than once; it is shown once.", 2),
    ("compare", "models", "x" * 5000, "there is no shipped or saved model '" + "x" * 39 + "…'", None),
    ("reconstructions", "classes", "3,3,7", "The link names '3' more than once; it is shown once.", 2),
]


@pytest.mark.parametrize("page, name, value, notice, chosen", LINK_CASES,
                         ids=[f"{c[0]} {c[2][:20]}" for c in LINK_CASES])
def test_odd_links_fall_back_with_a_short_notice(page, name, value, notice, chosen):
    from streamlit.testing.v1 import AppTest

    with server_like_pages():
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
        at.query_params[name] = value
        at.switch_page(f"pages/{page}.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        toasts = [t.value for t in at.toast]
        assert any(notice in t for t in toasts) and all(len(t) < 400 for t in toasts), toasts
        key = {"compare": "cmp_models", "reconstructions": "rec_classes"}[page]
        if chosen is not None:
            assert len(at.multiselect(key=key).value) == chosen


def test_a_model_drowned_by_its_penalty_weight_blames_the_weight_not_the_learning_rate(tmp_path, capsys):
    code = main(["train", "--variant", "sparse_l1", "--param", "lam=1e30", "--dataset", "digits", "--epochs", "2",
                 "--out", str(tmp_path / "l1.pt")])
    err = capsys.readouterr().err
    assert code == 0 and "learned nothing useful" in err
    assert "Its penalty weight lam = 1e+30 (its usual range is 1e-05 to 0.01) is far too large: lower it." in err
    assert "learning rate" not in err
