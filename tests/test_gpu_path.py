"""The GPU path: the training loop's device-side sums with a host check every N steps (tested on the
CPU, where the same code runs with any N), and, where CUDA exists, the training step recorded as a CUDA
graph, training, evaluation and every app page on the GPU (skipped on machines without one)."""
from __future__ import annotations

import pytest
import torch

from explorer import NonFiniteLossError, TrainSettings, build_model, evaluate, load_dataset, train
from explorer.training import ACCELERATOR_CHECK_EVERY

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _steps(check_every):
    seen = []
    model = build_model("ae", {"latent_dim": 8, "hidden": "32"}, input_dim=64, seed=0)
    digits = load_dataset("digits")
    result = train(model, digits, TrainSettings(epochs=2, batch_size=64), check_every=check_every,
                   callback=lambda e: seen.append((e.kind, e.epoch, e.step)) and False)
    return model, result, seen


def test_checking_every_n_steps_trains_the_same_weights_and_reports_every_n():
    every_step, every_step_result, seen_1 = _steps(1)
    every_5, every_5_result, seen_5 = _steps(5)
    for a, b in zip(every_step.state_dict().values(), every_5.state_dict().values(), strict=True):
        assert torch.equal(a, b)                       # the same steps: checking less often changes nothing learned
    assert every_5_result.history["train"] == every_step_result.history["train"]
    steps = [s for kind, epoch, s in seen_5 if kind == "step" and epoch == 1]
    assert steps == [5, 10, 15, 20, 23]                # 1,437 images / 64 = 23 steps: every 5th and the last
    assert len([e for e in seen_1 if e[0] == "step"]) == 46


class _NanAt:
    """Wraps a model so one training step's loss is NaN (as an exploding run gives)."""

    def __init__(self, inner, bad_step):
        self.inner, self.bad_step, self.calls = inner, bad_step, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def loss(self, x):
        terms = self.inner.loss(x)
        if self.inner.training:
            self.calls += 1
            if self.calls == self.bad_step:
                terms = {k: v * float("nan") for k, v in terms.items()}
        return terms


def test_a_nan_between_checks_is_caught_at_the_next_check_and_named_with_its_steps():
    digits = load_dataset("digits")
    model = _NanAt(build_model("ae", {"latent_dim": 8, "hidden": "32"}, input_dim=64), bad_step=26)   # epoch 2, step 3
    with pytest.raises(NonFiniteLossError) as info:
        train(model, digits, TrainSettings(epochs=3, batch_size=64), check_every=5)
    assert "at epoch 2, steps 1–5" in str(info.value) and info.value.history["epoch"] == [1]


def test_the_cpu_runs_eager_steps_and_says_why():
    result = _steps(1)[1]
    assert not result.captured and result.eager_because == "CUDA graphs need a CUDA device, not cpu"


def _train_on_cuda(variant, capture, wrap=None, epochs=2):
    params = {"latent_dim": 16, "hidden": "32"} | ({"k": 4} if variant in ("topk", "batch_topk") else {})
    model = build_model(variant, params, input_dim=64, seed=0)
    trained = wrap(model) if wrap else model
    result = train(trained, load_dataset("digits", device="cuda"), TrainSettings(epochs=epochs, batch_size=64),
                   capture=capture)
    return model, result


@cuda
@pytest.mark.parametrize("variant", ["ae", "sparse_l1", "sparse_kl", "contractive", "topk", "batch_topk", "jumprelu"])
def test_a_recorded_cuda_graph_step_learns_what_eager_steps_learn(variant):
    """Full batches (22 of 23 per epoch) replay the recorded step; the last, smaller batch runs eagerly.
    Without randomness in the loss the weights come out as eager steps leave them."""
    graphed, replayed = _train_on_cuda(variant, capture=True)
    eager, stepped = _train_on_cuda(variant, capture=False)
    assert replayed.captured and replayed.eager_because is None
    assert not stepped.captured and stepped.eager_because == "recording was turned off"
    for (name, a), b in zip(graphed.state_dict().items(), eager.state_dict().values(), strict=True):
        assert torch.allclose(a.float(), b.float(), rtol=1e-3, atol=1e-4), name
    assert replayed.history["train"]["total"] == pytest.approx(stepped.history["train"]["total"], rel=1e-3)


@cuda
@pytest.mark.parametrize("variant", ["denoising", "vae"])
def test_a_recorded_step_draws_new_noise_at_every_replay(variant):
    """The graph replays the random draws with fresh values (PyTorch's graph-safe generator): training
    learns as much as with eager steps, which a graph baking one noise sample would not."""
    _, replayed = _train_on_cuda(variant, capture=True, epochs=6)
    _, stepped = _train_on_cuda(variant, capture=False, epochs=6)
    assert replayed.captured
    graphed_mse, eager_mse = replayed.history["test"]["recon_mse"][-1], stepped.history["test"]["recon_mse"][-1]
    assert graphed_mse == pytest.approx(eager_mse, rel=0.15)
    assert replayed.history["test"]["recon_mse"][-1] < replayed.history["test"]["recon_mse"][0]


class _SyncsOnTheHost(_NanAt):
    """A loss that reads a value back every step (as .item() does): it cannot be recorded as a graph."""

    def loss(self, x):
        terms = self.inner.loss(x)
        if float(terms["total"]) < 0:
            raise AssertionError("unreachable")
        return terms


@cuda
def test_a_step_that_cannot_be_recorded_falls_back_to_eager_steps_and_says_why():
    fell_back, result = _train_on_cuda("ae", capture=True, wrap=lambda m: _SyncsOnTheHost(m, bad_step=0))
    eager, _ = _train_on_cuda("ae", capture=False)
    assert not result.captured and "could not be recorded as a CUDA graph" in result.eager_because
    for a, b in zip(fell_back.state_dict().values(), eager.state_dict().values(), strict=True):
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-4)          # no step lost or doubled by the attempt


@cuda
def test_training_and_evaluation_on_the_gpu_match_the_cpu():
    settings = TrainSettings(epochs=3, batch_size=64)
    cpu_data, gpu_data = load_dataset("digits"), load_dataset("digits", device="cuda")
    results, steps = {}, []
    for name, data in (("cpu", cpu_data), ("cuda", gpu_data)):
        model = build_model("topk", {"latent_dim": 16, "k": 4}, input_dim=64, seed=0)
        steps.clear()
        train(model, data, settings, callback=lambda e: steps.append(e.step) if e.kind == "step" else None)
        results[name] = evaluate(model, data)
        if name == "cuda":      # 23 steps per epoch, fewer than ACCELERATOR_CHECK_EVERY: one check, at the end
            assert ACCELERATOR_CHECK_EVERY > 23 and set(steps) == {23}
            assert next(model.parameters()).device.type == "cuda"
    assert results["cuda"].recon_mse == pytest.approx(results["cpu"].recon_mse, rel=0.05)


@cuda
@pytest.mark.parametrize("page", ["pages/home.py", "pages/reconstructions.py", "pages/activations.py",
                                  "pages/latent.py", "pages/compare.py"])
def test_every_page_runs_with_the_device_set_to_cuda(page):
    from apptest_support import server_like_pages
    from conftest import ROOT
    from streamlit.testing.v1 import AppTest

    with server_like_pages():
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
        at.run()
        at.sidebar.selectbox(key="device").set_value("cuda").run()
        at.switch_page(page)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert "cuda" in " ".join(c.value for c in at.sidebar.caption)
