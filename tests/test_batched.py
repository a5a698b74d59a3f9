"""Models trained as one computation (explorer.batched) get what each gets trained alone with the same
seed — for every variant, with different seeds, penalty weights and per-model fields — and each keeps
its own stop, NaN check and epoch count; sweeps batch same-shape trials unless told not to."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from explorer import TrainSettings
from explorer.batched import NotBatchableError, batch_key, group_batchable, train_batched
from explorer.registry import build_model, variant_names
from explorer.runs import RunSpec, batch_groups, train_and_evaluate_many
from explorer.sweep import LocalEngine, plan_sweep, run_sweep
from explorer.training import NonFiniteLossError, train
from explorer.variants.base import Autoencoder, AutoencoderConfig, Pass

# Two values of what each variant may vary inside one batch: a penalty weight or a per-model field.
VARIED = {"ae": [{}, {}], "sparse_l1": [{"lam": "1e-3"}, {"lam": "1e-2"}],
          "sparse_kl": [{"rho": "0.05"}, {"rho": "0.2", "beta": "0.1"}],
          "denoising": [{"noise_level": "0.3"}, {"noise_level": "0.6"}],
          "contractive": [{"lam": "1e-3"}, {"lam": "1e-1"}], "vae": [{"beta": "1"}, {"beta": "4"}],
          "topk": [{"k": "3"}, {"k": "10", "aux_coeff": "0.1"}], "batch_topk": [{"k": "3"}, {"k": "10"}],
          "jumprelu": [{"lam": "1e-3"}, {"lam": "1e-2"}],
          "matryoshka": [{"k": "3"}, {"k": "10"}],
          "mp": [{"k": "3"}, {"k": "3"}]}       # mp's k is its number of steps, one loop for all: not per model


def alone_and_together(variant, items, data, settings, callbacks=None):
    """(each trained alone, all trained as one) for items of (params, seed)."""
    alone = []
    for i, (params, seed) in enumerate(items):
        model = build_model(variant, params, input_dim=data.input_dim, seed=seed)
        alone.append(train(model, data, settings[i], callback=callbacks[i] if callbacks else None))
    models = [build_model(variant, p, input_dim=data.input_dim, seed=s) for p, s in items]
    return alone, train_batched(models, data, settings, callbacks)


def assert_same(a, b):
    assert not isinstance(b, Exception)
    assert a.history["epoch"] == b.history["epoch"] and a.stopped_early == b.stopped_early
    assert (a.steps, a.samples_seen) == (b.steps, b.samples_seen)
    for split in ("train", "test"):
        assert a.history[split].keys() == b.history[split].keys()
        for name, values in a.history[split].items():
            assert b.history[split][name] == pytest.approx(values, rel=1e-4, abs=1e-6), (split, name)
    mine = b.model.state_dict()
    for name, value in a.model.state_dict().items():
        torch.testing.assert_close(mine[name], value, rtol=1e-4, atol=1e-5, msg=name)


def test_every_variant_batches(digits):
    assert set(VARIED) == set(variant_names())      # a new variant gets its case here


@pytest.mark.parametrize("variant", sorted(VARIED))
def test_batched_equals_alone_for_every_variant_with_other_seeds_and_values(digits, variant):
    items = [(params, seed) for params in VARIED[variant] for seed in (0, 1)]
    settings = [TrainSettings(epochs=2, batch_size=64, seed=seed) for _, seed in items]
    alone, together = alone_and_together(variant, items, digits, settings)
    for a, b in zip(alone, together, strict=True):
        assert_same(a, b)
        assert b.batched == 4
    assert together[0].model.state_dict().keys() == together[3].model.state_dict().keys()
    first = together[0].model.state_dict()
    assert any(not torch.equal(first[k], v) for k, v in together[3].model.state_dict().items())   # not one model


@pytest.mark.parametrize("variant", ["sparse_l1", "topk", "denoising", "vae"])
def test_one_seed_shares_the_batches_and_still_equals_alone(digits, variant):
    items = [(params, 0) for params in VARIED[variant]]
    settings = [TrainSettings(epochs=2, batch_size=64, seed=0)] * 2
    alone, together = alone_and_together(variant, items, digits, settings)
    for a, b in zip(alone, together, strict=True):
        assert_same(a, b)


def test_each_model_stops_when_its_own_callback_says_and_runs_its_own_epochs(digits):
    def stop_at(epoch, step):
        return lambda e: e.kind == "step" and (e.epoch, e.step) == (epoch, step)

    items = [({"lam": "1e-3"}, 0), ({"lam": "1e-3"}, 1), ({"lam": "1e-2"}, 2)]
    settings = [TrainSettings(epochs=3, batch_size=64, seed=0), TrainSettings(epochs=3, batch_size=64, seed=1),
                TrainSettings(epochs=1, batch_size=64, seed=2)]
    callbacks = [None, stop_at(2, 5), None]
    alone, together = alone_and_together("sparse_l1", items, digits, settings, callbacks)
    for a, b in zip(alone, together, strict=True):
        assert_same(a, b)
    assert [len(r.history["epoch"]) for r in together] == [3, 2, 1]
    assert [r.stopped_early for r in together] == [False, True, False]


def test_a_model_whose_loss_blows_up_fails_alone_and_the_others_go_on(digits):
    items = [({"lam": "1e-3"}, 0), ({"lam": "1e38"}, 0)]         # λ·‖z‖₁ overflows float32 at once
    settings = [TrainSettings(epochs=2, batch_size=64)] * 2
    alone = train(build_model("sparse_l1", items[0][0], input_dim=digits.input_dim), digits, settings[0])
    models = [build_model("sparse_l1", p, input_dim=digits.input_dim, seed=s) for p, s in items]
    ok, failed = train_batched(models, digits, settings)
    assert isinstance(failed, NonFiniteLossError) and "epoch 1, step 1 " in str(failed)
    assert_same(alone, ok)
    models = [build_model("sparse_l1", p, input_dim=digits.input_dim, seed=s) for p, s in items]
    ok, failed = train_batched(models, digits, settings, check_every=4)       # as on a GPU: fewer host syncs
    assert isinstance(failed, NonFiniteLossError) and "epoch 1, steps 1–4 " in str(failed)
    assert_same(alone, ok)


def test_batch_key_groups_what_can_share_a_computation(digits):
    def item(variant, params, **settings):
        return build_model(variant, params, input_dim=digits.input_dim), TrainSettings(**settings)

    items = [item("sparse_l1", {"lam": "0"}), item("sparse_l1", {"lam": "1e-2"}, seed=3, epochs=4),
             item("sparse_l1", {"latent_dim": "16"}), item("sparse_l1", {}, lr=1e-2),
             item("sparse_l1", {}, batch_size=64), item("topk", {"k": "2"}), item("topk", {"k": "5"}),
             item("denoising", {"noise": "masking"}), item("denoising", {"noise_level": "0.5"})]
    assert group_batchable(items, most=16) == [[0, 1], [2], [3], [4], [5, 6], [7], [8]]
    assert group_batchable(items[:2] + items[5:7], most=1) == [[0], [1], [2], [3]]
    assert batch_key(*items[0]) == batch_key(*items[1])
    wide = [item("ae", {"hidden": "2048", "latent_dim": "1536"})] * 5             # 6.6 million weights each
    assert group_batchable(wide, most=16) == [[0, 1, 2], [3, 4]]                 # bounded by BATCH_WEIGHTS
    with pytest.raises(NotBatchableError, match="differ"):
        train_batched([items[0][0], items[2][0]], digits, [items[0][1], items[2][1]])


@dataclass
class NoisyConfig(AutoencoderConfig):
    pass


class NoisyInsideThePass(Autoencoder):
    """A variant that draws its noise inside the pass instead of in `draw`: vmap refuses it."""

    name = "noisy_inside"
    config_class = NoisyConfig

    def training_pass(self, x, draws=None):
        z = self.encode(x + 0.1 * torch.randn_like(x))
        return Pass(x, z, z, self.decode(z))


def test_a_pass_that_cannot_run_under_vmap_is_refused_untouched_and_trains_one_by_one(digits, monkeypatch):
    models = [NoisyInsideThePass(NoisyConfig(input_dim=digits.input_dim)) for _ in range(2)]
    before = [{k: v.clone() for k, v in m.state_dict().items()} for m in models]
    with pytest.raises(NotBatchableError, match="noisy_inside's training pass cannot run under vmap"):
        train_batched(models, digits, [TrainSettings(epochs=1)] * 2)
    for model, state in zip(models, before, strict=True):                 # nothing changed
        for name, value in model.state_dict().items():
            assert torch.equal(value, state[name])
    import explorer.runs

    monkeypatch.setattr(explorer.runs, "build_model", lambda *a, **k: NoisyInsideThePass(
        NoisyConfig(input_dim=digits.input_dim)))
    runs = train_and_evaluate_many([RunSpec("noisy_inside", {}, TrainSettings(epochs=1, batch_size=64))] * 2, digits)
    assert [len(r.result.history["epoch"]) for r in runs if not isinstance(r, Exception)] == [1, 1]
    assert all(r.result.batched == 1 for r in runs if not isinstance(r, Exception))


def test_batch_groups_keep_the_order_and_respect_no_batch(digits):
    specs = [RunSpec("topk", {"k": k}, TrainSettings(epochs=1)) for k in ("2", "5")] + \
            [RunSpec("ae", {}, TrainSettings(epochs=1)), RunSpec("topk", {"k": "8"}, TrainSettings(epochs=1))]
    assert batch_groups(specs, digits) == [[0, 1, 3], [2]]
    assert batch_groups(specs, digits, batch=False) == [[0], [1], [2], [3]]


def test_a_batched_sweep_lands_the_same_checkpoints_as_one_by_one(tmp_path, digits):
    plan = plan_sweep(["topk"], {"k": ["2", "5", "10"]}, digits, TrainSettings(epochs=2, batch_size=64))
    batched = run_sweep(plan, tmp_path / "batched", digits, LocalEngine())
    alone = run_sweep(plan, tmp_path / "alone", digits, LocalEngine(batch=False))
    for name, record in batched.records.items():
        other = alone.records[name]
        assert record.status == other.status == "done"
        for key in ("recon_mse", "fvu", "mean_l0", "dead_fraction"):
            assert record.metrics[key] == pytest.approx(other.metrics[key], rel=1e-4, abs=1e-6), (name, key)
    payload = torch.load(tmp_path / "batched" / "topk-k=5.pt", weights_only=True)
    assert payload["train"]["batched"] == 3
    assert torch.load(tmp_path / "alone" / "topk-k=5.pt", weights_only=True)["train"]["batched"] == 1


def test_ray_shares_each_group_out_over_the_places_the_cluster_runs_at_once():
    from explorer.sweep_ray import share_out

    assert share_out([list("abcde"), ["f"]], slots=2) == [["a", "c", "e"], ["b", "d"], ["f"]]
    assert share_out([list("abc")], slots=8) == [["a"], ["b"], ["c"]]            # a place each: no batching
    assert share_out([list("abc")], slots=0) == [["a", "b", "c"]]
