"""Checkpoints: the on-disk format, atomic writes, weights-only loading, and every refusal's message."""
from __future__ import annotations

import collections
import io
import os
import pickle

import pytest
import torch

from explorer import CheckpointError, build_model, load_checkpoint, save_checkpoint
from explorer.checkpoint import FORMAT, checkpoint_dict, read_checkpoint, write_atomically


@pytest.fixture
def saved(tmp_path, trained_digits_models):
    model, result = trained_digits_models["sparse_kl"]
    path = save_checkpoint(tmp_path / "kl.pt", model, "digits", {"recon_mse": 0.01}, result.history,
                           result.summary())
    return path, model


def test_format_is_a_plain_weights_only_dict(saved):
    path, model = saved
    payload = torch.load(path, weights_only=True)
    for key in ("format", "variant", "config", "dataset", "state_dict", "metrics", "history",
                "created", "torch_version"):
        assert key in payload
    assert payload["format"] == FORMAT == "ae-explorer/1"
    assert payload["variant"] == "sparse_kl" and payload["dataset"] == "digits"
    assert payload["config"] == {"input_dim": 64, "hidden": [], "latent_dim": 16, "rho": 0.05, "beta": 0.01}
    assert payload["history"]["epoch"] == [1, 2, 3] and "kl_sparsity" in payload["history"]["train"]
    assert type(payload["torch_version"]) is str


def test_round_trip_gives_identical_outputs_in_eval_mode(saved, digits):
    path, model = saved
    loaded = load_checkpoint(path)
    assert not loaded.training and loaded.name == "sparse_kl" and loaded.meta.dataset == "digits"
    assert loaded.meta.history["epoch"] == [1, 2, 3] and loaded.meta.created and loaded.meta.torch_version
    assert build_model("ae").meta is None                  # only a loaded model has a record
    with torch.no_grad():
        assert torch.equal(loaded(digits.test_x[:10]), model(digits.test_x[:10]))
    with open(path, "rb") as handle:   # file objects (uploads) load too
        assert torch.equal(load_checkpoint(handle).encode(digits.test_x[:3]), model.encode(digits.test_x[:3]))


def test_write_is_atomic_and_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "model.pt"
    save_checkpoint(target, build_model("ae", input_dim=64), "digits")
    before = target.read_bytes()

    def broken_save(obj, handle):
        handle.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(target, build_model("vae", input_dim=64), "digits")
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]  # no temp file left behind


def _expect(path, *fragments):
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    for fragment in fragments:
        assert fragment in str(info.value)
    return str(info.value)


def test_missing_empty_text_and_truncated_files(tmp_path, saved):
    _expect(tmp_path / "nope.pt", "no such file")
    (tmp_path / "empty.pt").write_bytes(b"")
    _expect(tmp_path / "empty.pt", "the file is empty")
    (tmp_path / "notes.pt").write_text("these are my lecture notes")
    _expect(tmp_path / "notes.pt", "not a PyTorch checkpoint at all", "b'thes'")
    with pytest.raises(CheckpointError, match="notes.pt: not a PyTorch checkpoint at all"):
        load_checkpoint(io.BytesIO(b"these are my lecture notes"), label="notes.pt")   # an upload
    path, _ = saved
    (tmp_path / "cut.pt").write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _expect(tmp_path / "cut.pt", "not a readable PyTorch file")


def test_bare_state_dict_other_format_and_unknown_variant(tmp_path, saved):
    torch.save(build_model("ae").state_dict(), tmp_path / "bare.pt")
    _expect(tmp_path / "bare.pt", "bare state_dict saved by plain PyTorch")
    payload = torch.load(saved[0], weights_only=True)
    write_atomically(tmp_path / "v2.pt", {**payload, "format": "ae-explorer/2"})
    _expect(tmp_path / "v2.pt", "format 'ae-explorer/2' is not supported", "ae-explorer/1")
    write_atomically(tmp_path / "gan.pt", {**payload, "variant": "gan"})
    _expect(tmp_path / "gan.pt", "unknown variant 'gan'")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    _expect(tmp_path / "list.pt", "holds a list")


def test_config_that_does_not_fit_the_weights(tmp_path, saved):
    payload = torch.load(saved[0], weights_only=True)
    write_atomically(tmp_path / "wide.pt", {**payload, "config": {**payload["config"], "latent_dim": 32}})
    message = _expect(tmp_path / "wide.pt", "its weights do not fit its config", "shape mismatch")
    assert "encoder.0.weight: (16, 64) vs (32, 64) expected" in message
    write_atomically(tmp_path / "badrho.pt", {**payload, "config": {**payload["config"], "rho": 2.0}})
    _expect(tmp_path / "badrho.pt", "config does not fit variant 'sparse_kl'", "rho must be in (0, 1)")


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_pickle_that_would_run_code_is_refused_never_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({"format": FORMAT, "payload": _RunsCode()}, tmp_path / "evil.pt")
    with open(tmp_path / "evil2.pt", "wb") as handle:
        pickle.dump(_RunsCode(), handle)
    _expect(tmp_path / "evil.pt", "refused", "could run code")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "evil2.pt")
    assert not (tmp_path / "PWNED").exists()


def test_digits_model_on_a_28x28_dataset_is_refused_with_a_reason(saved, mnist5k):
    from explorer import TrainSettings, evaluate, train
    from explorer.variants.base import DataMismatchError

    model = load_checkpoint(saved[0])
    reason = "reads 64-pixel images \\(trained on digits\\), but mnist-5k has 784-pixel"
    with pytest.raises(DataMismatchError, match=reason):
        model.check_fits("mnist-5k", 784, (28, 28))
    with pytest.raises(DataMismatchError, match=reason):        # the API says so too, not a shape error
        evaluate(model, mnist5k)
    with pytest.raises(DataMismatchError, match="reads 64-pixel images"):
        train(build_model("ae", input_dim=64), mnist5k, TrainSettings(epochs=1))


def test_checkpoint_dict_values_are_plain(trained_digits_models):
    import numpy as np

    model, _ = trained_digits_models["ae"]
    payload = checkpoint_dict(model, "digits", {"x": np.float32(1.5), "t": (1, 2)},
                              collections.OrderedDict(a=[np.int64(3)]))
    assert payload["metrics"] == {"x": 1.5, "t": [1, 2]} and type(payload["metrics"]["x"]) is float
    assert payload["history"] == {"a": [3]}
    assert read_checkpoint  # imported API stays public
