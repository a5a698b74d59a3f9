"""SAELens interop: export in SAELens's folder layout, import back with the same codes, clear refusals."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from explorer import TrainSettings, build_model, get_variant, load_checkpoint, save_checkpoint, train, variant_names
from explorer.cli import main
from explorer.metrics import evaluate
from explorer.saelens import (
    ARCHITECTURES,
    InteropError,
    export_saelens,
    import_saelens,
    import_variant,
    read_saelens,
)
from explorer.variants.topk import TopKAutoencoder

# The fields of SAELens 6.18's inference config classes (sae_lens/saes/sae.py SAEConfig, topk_sae.py
# TopKSAEConfig): `SAEConfig.from_dict` silently drops any other key, so every key written must be one.
SAELENS_FIELDS = {"d_in", "d_sae", "dtype", "device", "apply_b_dec_to_input", "normalize_activations",
                  "reshape_activations", "metadata"}
SAELENS_CONFIG = {"standard": SAELENS_FIELDS, "jumprelu": SAELENS_FIELDS,
                  "topk": SAELENS_FIELDS | {"k", "rescale_acts_by_decoder_norm"}}
# The parameters of SAELens's StandardSAE / TopKSAE / JumpReLUSAE: `load_state_dict` is strict.
SAELENS_TENSORS = {"standard": {"W_enc", "b_enc", "W_dec", "b_dec"}, "topk": {"W_enc", "b_enc", "W_dec", "b_dec"},
                   "jumprelu": {"W_enc", "b_enc", "W_dec", "b_dec", "threshold"}}
EXPORTED_AS = {"sparse_l1": "standard", "topk": "topk", "batch_topk": "jumprelu", "jumprelu": "jumprelu"}
IMPORTED_AS = {"standard": "sparse_l1", "topk": "topk", "jumprelu": "jumprelu"}
LATENT = 16


@pytest.fixture(scope="module")
def linear_saes(digits):
    """One briefly trained one-layer, linear-decoder SAE per exportable variant, on the 8×8 digits."""
    models = {}
    for name in EXPORTED_AS:
        params = {"latent_dim": LATENT, "decoder": "linear", "hidden": ""}
        params.update({"k": 4} if name in ("topk", "batch_topk") else {"lam": 1e-5})   # λ: units that fire
        model = build_model(name, params, input_dim=digits.input_dim, seed=0)
        models[name] = train(model, digits, TrainSettings(epochs=4, batch_size=64, lr=3e-3, seed=0)).model.eval()
    return models


def saelens_codes_by_hand(folder: Path, x: torch.Tensor) -> torch.Tensor:
    """SAELens's encode, written out from its source for the three architectures, from the files alone."""
    cfg = json.loads((folder / "cfg.json").read_text())
    t = load_file(str(folder / "sae_weights.safetensors"))
    sae_in = x - t["b_dec"] * cfg.get("apply_b_dec_to_input", True)
    pre = sae_in @ t["W_enc"] + t["b_enc"]                                  # (N, d_sae)
    if cfg["architecture"] == "topk":
        if cfg.get("rescale_acts_by_decoder_norm"):
            pre = pre * t["W_dec"].norm(dim=-1)
        values, indices = torch.topk(pre, k=cfg["k"], dim=-1, sorted=False)
        return torch.zeros_like(pre).scatter_(-1, indices, values.relu())
    if cfg["architecture"] == "jumprelu":
        return torch.relu(pre) * (pre > t["threshold"]).to(pre.dtype)
    return torch.relu(pre)


def saelens_decode_by_hand(folder: Path, z: torch.Tensor) -> torch.Tensor:
    cfg = json.loads((folder / "cfg.json").read_text())
    t = load_file(str(folder / "sae_weights.safetensors"))
    if cfg.get("rescale_acts_by_decoder_norm"):
        z = z / t["W_dec"].norm(dim=-1)
    return z @ t["W_dec"] + t["b_dec"]


# -- export -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", EXPORTED_AS)
def test_export_writes_the_saelens_layout(linear_saes, digits, tmp_path, variant):
    model = linear_saes[variant]
    out = export_saelens(model, tmp_path / "sae", dataset="digits")
    assert sorted(p.name for p in out.iterdir()) == ["cfg.json", "sae_weights.safetensors"]
    assert [p.name for p in tmp_path.iterdir()] == ["sae"]                 # no staging folder left behind
    cfg = json.loads((out / "cfg.json").read_text())
    architecture = EXPORTED_AS[variant]
    assert cfg["architecture"] == architecture
    assert set(cfg) - {"architecture"} <= SAELENS_CONFIG[architecture]
    assert (cfg["d_in"], cfg["d_sae"], cfg["dtype"], cfg["device"]) == (64, LATENT, "float32", "cpu")
    assert cfg["apply_b_dec_to_input"] is False and cfg["normalize_activations"] == "none"
    assert int(cfg["metadata"]["sae_lens_version"].split(".")[0]) >= 6   # else SAELens applies pre-6.0 defaults
    assert cfg["metadata"]["hook_name"] == "pixels" and cfg["metadata"]["dataset_path"] == "digits"
    assert cfg["metadata"]["ae_explorer"]["variant"] == variant
    assert ("k" in cfg) == (architecture == "topk") and cfg.get("k", 4) == 4
    with safe_open(str(out / "sae_weights.safetensors"), framework="pt") as handle:
        shapes = {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}
        dtypes = {handle.get_slice(name).get_dtype() for name in handle.keys()}
    assert set(shapes) == SAELENS_TENSORS[architecture] and dtypes == {"F32"}
    assert shapes["W_enc"] == (64, LATENT) and shapes["W_dec"] == (LATENT, 64)
    assert shapes["b_enc"] == (LATENT,) and shapes["b_dec"] == (64,) and shapes.get("threshold", (LATENT,)) == (LATENT,)
    tensors = load_file(str(out / "sae_weights.safetensors"))
    assert torch.equal(tensors["W_enc"], model.code_filters().T)
    assert torch.equal(tensors["W_dec"], model.decoder_atoms())
    assert torch.equal(tensors["b_dec"], model.output_layer().bias.detach())
    if "threshold" in tensors:
        assert torch.equal(tensors["threshold"], model.unit_thresholds())
    # SAELens's own encode and decode of the files (written out by hand) give our codes and reconstructions
    z = saelens_codes_by_hand(out, digits.test_x)
    assert torch.allclose(z, model.encode_all(digits.test_x), atol=1e-6)
    assert torch.allclose(saelens_decode_by_hand(out, z), model.reconstruct_all(digits.test_x), atol=1e-6)
    assert (z > 0).sum(dim=1).float().mean() > 2                           # a code worth comparing


@pytest.mark.parametrize("variant", EXPORTED_AS)
def test_round_trip_gives_the_same_codes_and_reconstructions(linear_saes, digits, tmp_path, variant):
    model = linear_saes[variant]
    back = import_saelens(export_saelens(model, tmp_path / "sae", dataset="digits"), digits)
    assert back.name == IMPORTED_AS[EXPORTED_AS[variant]]
    assert back.meta is not None and back.meta.dataset == "digits"
    x = digits.test_x
    assert torch.allclose(back.encode_all(x), model.encode_all(x), atol=1e-6)
    assert torch.allclose(back.reconstruct_all(x), model.reconstruct_all(x), atol=1e-6)
    assert evaluate(back, digits).fvu == pytest.approx(evaluate(model, digits).fvu, abs=1e-6)


def test_every_exportable_architecture_reads_back_as_one_variant():
    exported = {get_variant(name).saelens_architecture for name in variant_names()} - {None}
    assert exported <= set(ARCHITECTURES)
    assert {a: import_variant(a).name for a in ARCHITECTURES} == IMPORTED_AS
    assert get_variant("ae").saelens_architecture is None                   # the default: not exportable


# -- import of a folder SAELens wrote ----------------------------------------------------------------------
def write_folder(folder: Path, cfg: dict, tensors: dict[str, torch.Tensor]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cfg.json").write_text(json.dumps(cfg))
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / "sae_weights.safetensors"))
    return folder


def saelens_like(architecture: str, d_in: int = 64, d_sae: int = 12, seed: int = 0, **fields) -> tuple[dict, dict]:
    """A cfg.json and tensors as SAELens 6 writes them, with apply_b_dec_to_input=true (its default)."""
    g = torch.Generator().manual_seed(seed)
    tensors = {"W_enc": torch.randn(d_in, d_sae, generator=g) * 0.3, "b_enc": torch.randn(d_sae, generator=g) * 0.1,
               "W_dec": torch.randn(d_sae, d_in, generator=g) * 0.3, "b_dec": torch.rand(d_in, generator=g) * 0.5}
    if architecture == "jumprelu":
        tensors["threshold"] = torch.rand(d_sae, generator=g) * 0.5
        tensors["threshold"][:2] = torch.tensor([0.0, -0.3])               # θ ≤ 0: a plain ReLU unit
    cfg = {"architecture": architecture, "d_in": d_in, "d_sae": d_sae, "dtype": "float32", "device": "cpu",
           "apply_b_dec_to_input": True, "normalize_activations": "none", "reshape_activations": "none",
           "metadata": {"sae_lens_version": "6.18.0", "model_name": "gpt2", "hook_name": "blocks.0.hook_resid_pre"},
           **fields}
    return cfg, tensors


HAND_MADE = {"standard": {}, "topk": {"k": 5, "rescale_acts_by_decoder_norm": True}, "jumprelu": {}}


@pytest.mark.parametrize("architecture", HAND_MADE)
def test_a_saelens_folder_with_b_dec_on_the_input_imports_with_the_fold(digits, tmp_path, architecture):
    cfg, tensors = saelens_like(architecture, **HAND_MADE[architecture])
    folder = write_folder(tmp_path / "sae", cfg, tensors)
    model = import_saelens(folder, digits)
    x = digits.test_x
    z_saelens = saelens_codes_by_hand(folder, x)
    assert (z_saelens > 0).any(dim=0).sum() >= 6                            # most units fire somewhere
    assert torch.allclose(model.encode_all(x), z_saelens, atol=1e-5, rtol=1e-5)
    assert torch.allclose(model.reconstruct_all(x), saelens_decode_by_hand(folder, z_saelens), atol=1e-5)
    if architecture != "topk":    # b_enc' = b_enc − b_dec·W_enc (TopK here also has its decoder norms folded)
        folded = tensors["b_enc"].double() - tensors["b_dec"].double() @ tensors["W_enc"].double()
        assert torch.allclose(model.encoder[0].bias.detach().double(), folded, atol=1e-6)
    assert model.name == IMPORTED_AS[architecture] and model.linear_decoder and model.config.hidden == ()


def test_a_pre_6_config_gets_saelens_defaults(digits, tmp_path):
    """No sae_lens_version: SAELens's handle_pre_6_0_config applies (b_dec on the input, topk from activation_fn)."""
    cfg, tensors = saelens_like("topk")
    for key in ("architecture", "apply_b_dec_to_input", "metadata", "reshape_activations"):
        cfg.pop(key)
    cfg.update(activation_fn="topk", activation_fn_kwargs={"k": 3}, normalize_activations=False,
               hook_point="blocks.0.hook_resid_pre")
    folder = write_folder(tmp_path / "sae", cfg, tensors)
    sae = read_saelens(folder)
    assert (sae.architecture, sae.k, sae.apply_b_dec_to_input) == ("topk", 3, True)
    hand = {**cfg, "architecture": "topk", "k": 3}
    (folder / "cfg.json").write_text(json.dumps(hand))     # the same SAE said the 6.x way, for the hand encode
    assert torch.allclose(import_saelens(folder, digits).encode_all(digits.test_x),
                          saelens_codes_by_hand(folder, digits.test_x), atol=1e-5)


# -- what does not fit -------------------------------------------------------------------------------------
def test_export_refusals_name_the_problem(digits, tmp_path):
    sigmoid = build_model("topk", {"latent_dim": 8, "k": 2}, input_dim=64)
    with pytest.raises(InteropError, match="export needs --param decoder=linear; this model has a sigmoid decoder"):
        export_saelens(sigmoid, tmp_path / "a")
    deep = build_model("sparse_l1", {"latent_dim": 8, "hidden": "32", "decoder": "linear"}, input_dim=64)
    with pytest.raises(InteropError, match="one-layer SAE.*hidden layers 32"):
        export_saelens(deep, tmp_path / "b")
    plain = build_model("ae", {"latent_dim": 8, "hidden": ""}, input_dim=64)
    with pytest.raises(InteropError, match="this ae model cannot be exported to SAELens: SAELens has no architecture"):
        export_saelens(plain, tmp_path / "c")
    assert list(tmp_path.iterdir()) == []                                  # nothing written by a refusal


class DoubledTopK(TopKAutoencoder):
    """A subclass that inherits TopK's SAELens claim but encodes otherwise (not registered)."""

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * super().encode(x)


def test_export_refuses_a_model_whose_code_saelens_would_not_reproduce(tmp_path):
    model = DoubledTopK(TopKAutoencoder.config_class.from_dict({"input_dim": 64, "latent_dim": 8, "k": 2,
                                                                "decoder": "linear"}))
    with pytest.raises(InteropError, match="code is not what SAELens's topk SAE computes"):
        export_saelens(model, tmp_path / "sae")
    assert not (tmp_path / "sae").exists()


def test_export_never_overwrites(linear_saes, tmp_path, monkeypatch):
    model = linear_saes["topk"]
    (tmp_path / "empty").mkdir()
    export_saelens(model, tmp_path / "empty")                              # an empty folder is filled
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    with pytest.raises(InteropError, match="already holds files"):
        export_saelens(model, taken)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InteropError, match="is a file"):
        export_saelens(model, tmp_path / "file")
    # a folder that appears while the files are written (after the check, before the rename) is left alone too
    import safetensors.torch

    real_save = safetensors.torch.save_file

    def save_then_someone_writes(*args, **kwargs):
        real_save(*args, **kwargs)
        (tmp_path / "raced").mkdir()
        (tmp_path / "raced" / "theirs.txt").write_text("theirs")

    monkeypatch.setattr(safetensors.torch, "save_file", save_then_someone_writes)
    with pytest.raises(InteropError, match="appeared while exporting"):
        export_saelens(model, tmp_path / "raced")
    assert [p.name for p in (tmp_path / "raced").iterdir()] == ["theirs.txt"]
    assert (taken / "notes.txt").read_text() == "mine" and sorted(p.name for p in taken.iterdir()) == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no staging folder left


def _cfg(**changes):
    def change(cfg: dict, tensors: dict) -> None:
        for key, value in changes.items():
            if value is None:
                cfg.pop(key, None)
            else:
                cfg[key] = value
    return change


def _tensors(**changes):
    def change(cfg: dict, tensors: dict) -> None:
        for key, value in changes.items():
            if value is None:
                tensors.pop(key)
            else:
                tensors[key] = value
    return change


def _nan_in_w_dec(cfg: dict, tensors: dict) -> None:
    tensors["W_dec"][0, 0] = float("nan")


BAD_FOLDERS = {
    "unknown architecture": ("jumprelu", _cfg(architecture="gated"), "architecture 'gated' cannot be imported; "
                             "this version reads SAELens's standard, topk, jumprelu SAEs"),
    "no architecture": ("jumprelu", _cfg(architecture=None), "has no architecture"),
    "no d_in": ("jumprelu", _cfg(d_in=None), "d_in must be a whole number ≥ 1, got missing"),
    "bad d_sae": ("jumprelu", _cfg(d_sae=-3), "d_sae must be a whole number ≥ 1, got -3"),
    "normalized": ("jumprelu", _cfg(normalize_activations="layer_norm"), "normalize_activations is 'layer_norm'"),
    "hook_z": ("jumprelu", _cfg(reshape_activations="hook_z"), "reshape_activations is 'hook_z'"),
    "bad dtype": ("jumprelu", _cfg(dtype="int8"), "dtype 'int8' is not one SAELens knows"),
    "b_dec flag": ("jumprelu", _cfg(apply_b_dec_to_input="yes"), "apply_b_dec_to_input must be true or false"),
    "k too big": ("topk", _cfg(k=40), "k = 40 is more than d_sae = 12"),
    "k not whole": ("topk", _cfg(k=2.5), "k must be a whole number"),
    "missing tensor": ("jumprelu", _tensors(threshold=None), "no tensor threshold; a SAELens jumprelu SAE has "
                       "W_enc, b_enc, W_dec, b_dec, threshold"),
    "unexpected tensor": ("standard", _tensors(threshold=torch.zeros(12)), "tensor threshold is not part of a "
                          "SAELens standard SAE"),
    "wrong shape": ("standard", _tensors(W_enc=torch.zeros(12, 64)), "W_enc has shape (12, 64); with d_in = 64 "
                    "and d_sae = 12 from cfg.json it must be (64, 12)"),
    "wrong dtype": ("standard", _tensors(b_enc=torch.zeros(12, dtype=torch.int64)), "b_enc holds I64 values"),
    "non-finite": ("standard", _nan_in_w_dec, "W_dec holds 1 non-finite value"),
    "scaling factor": ("standard", _tensors(scaling_factor=torch.full((12,), 2.0)), "scaling_factor is not all ones"),
}


@pytest.mark.parametrize("case", BAD_FOLDERS)
def test_a_folder_that_does_not_fit_gets_a_message(tmp_path, case):
    architecture, change, message = BAD_FOLDERS[case]
    cfg, tensors = saelens_like(architecture, **({"k": 5} if architecture == "topk" else {}))
    change(cfg, tensors)
    folder = write_folder(tmp_path / "sae", cfg, tensors)
    with pytest.raises(InteropError) as caught:
        import_saelens(folder)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_unreadable_folders_get_a_message(tmp_path, mnist5k, monkeypatch):
    with pytest.raises(InteropError, match="does not exist: give the SAELens SAE folder"):
        read_saelens(tmp_path / "nowhere")
    cfg, tensors = saelens_like("standard")
    folder = write_folder(tmp_path / "sae", cfg, tensors)
    (folder / "cfg.json").write_text('{"architecture": "standard",')
    with pytest.raises(InteropError, match=r"not valid JSON \(Expecting"):
        read_saelens(folder)
    (folder / "cfg.json").write_text("[1, 2]")
    with pytest.raises(InteropError, match="holds a JSON list"):
        read_saelens(folder)
    (folder / "cfg.json").write_text(" " * (2 << 20))
    with pytest.raises(InteropError, match="larger than 1 MiB"):
        read_saelens(folder)
    (folder / "cfg.json").unlink()
    with pytest.raises(InteropError, match="no cfg.json"):
        read_saelens(folder)
    write_folder(folder, cfg, tensors)
    (folder / "sae_weights.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header}")
    with pytest.raises(InteropError, match="not a readable safetensors file"):
        read_saelens(folder)
    (folder / "sae_weights.safetensors").unlink()
    with pytest.raises(InteropError, match="no sae_weights.safetensors"):
        read_saelens(folder)
    write_folder(folder, cfg, tensors)
    import explorer.saelens as saelens

    monkeypatch.setattr(saelens, "MAX_WEIGHTS_BYTES", 1000)               # sizes are bounded before reading
    with pytest.raises(InteropError, match="larger than any SAE a model here can hold"):
        read_saelens(folder)
    monkeypatch.undo()
    with pytest.raises(InteropError, match="reads d_in = 64 values, but mnist-5k has 784-pixel images"):
        import_saelens(write_folder(tmp_path / "small", *saelens_like("standard")), mnist5k)


# -- the command line ---------------------------------------------------------------------------------------
def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_round_trip(linear_saes, digits, tmp_path, capsys):
    model = linear_saes["jumprelu"]
    a = save_checkpoint(tmp_path / "a.pt", model, "digits", evaluate(model, digits).to_dict())
    sae = str(tmp_path / "sae")
    code, out, err = run(capsys, "export", "--checkpoint", str(a), "--format", "saelens", "--out", sae)
    assert code == 0, err
    assert "exported as a SAELens jumprelu SAE (d_in 64, d_sae 16)" in out
    code, out, err = run(capsys, "import", "--format", "saelens", sae, "--out", str(tmp_path / "b.pt"))
    assert code == 0, err
    assert "imported as jumprelu" in out and "digits test" in out     # the dataset named in its cfg.json
    back = load_checkpoint(tmp_path / "b.pt")
    payload = torch.load(tmp_path / "b.pt", weights_only=True)
    assert payload["dataset"] == "digits" and payload["train"]["imported_from"] == "saelens"
    assert payload["metrics"]["fvu"] == pytest.approx(evaluate(model, digits).fvu, abs=1e-6)   # measured, not copied
    assert torch.allclose(back.encode_all(digits.test_x), model.encode_all(digits.test_x), atol=1e-6)
    before = (tmp_path / "b.pt").read_bytes()
    code, _, err = run(capsys, "import", sae, "--out", str(tmp_path / "b.pt"))
    assert code == 1 and "exists; give a new file (an import never overwrites)" in err and len(err.splitlines()) == 1
    assert (tmp_path / "b.pt").read_bytes() == before
    code, _, err = run(capsys, "export", "--checkpoint", str(a), "--out", sae)
    assert code == 1 and "already holds files" in err
    code, _, err = run(capsys, "import", sae, "--dataset", "mnist-5k", "--out", str(tmp_path / "c.pt"))
    assert code == 1 and "use --dataset digits" in err and not (tmp_path / "c.pt").exists()


def test_cli_refuses_a_sigmoid_model(linear_saes, digits, tmp_path, capsys):
    sigmoid = build_model("topk", {"latent_dim": 8, "k": 2}, input_dim=64)
    a = save_checkpoint(tmp_path / "a.pt", sigmoid, "digits")
    code, _, err = run(capsys, "export", "--checkpoint", str(a), "--out", str(tmp_path / "sae"))
    assert code == 1 and err.startswith("error: export needs --param decoder=linear") and len(err.splitlines()) == 1
    code, _, err = run(capsys, "import", str(tmp_path / "nowhere"), "--out", str(tmp_path / "b.pt"))
    assert code == 1 and "does not exist" in err


def test_an_sae_too_large_for_a_model_here_is_refused_before_its_tensors_load(tmp_path):
    cfg, tensors = saelens_like("standard")
    folder = write_folder(tmp_path / "sae", {**cfg, "d_in": 100_000, "d_sae": 1_000}, tensors)
    with pytest.raises(InteropError, match="a sparse_l1 model cannot hold this standard SAE .*million weights"):
        read_saelens(folder)
