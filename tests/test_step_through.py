"""Step-through training: Pause waits after a step, Step advances exactly one batch, Step epoch runs to the
epoch's end, Rewind replays the same numbers from the same start, and the objective's filled-in values are
the history's."""
from __future__ import annotations

import math
import time

import pytest

from explorer import TrainSettings
from explorer.app.jobs import TrainingJob
from explorer.app.messages import Pace
from explorer.app.worker import Pacer
from explorer.objective_values import filled_objective
from explorer.training import TrainEvent

BATCH = 64


def wait_for(condition, timeout: float = 300.0) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out waiting"
        time.sleep(0.02)


def event(kind: str) -> TrainEvent:
    return TrainEvent(kind, 1, 1, 1, 1, 1, {}, {}, None)  # type: ignore[arg-type]


def test_the_pacer_waits_where_it_is_told():
    pacer = Pacer()
    assert not pacer.should_wait(event("step"))
    pacer.apply(Pace("step"))
    assert pacer.should_wait(event("step"))                  # exactly one step, then it waits
    pacer.apply(Pace("epoch"))
    assert not pacer.should_wait(event("step")) and not pacer.should_wait(event("step"))
    assert pacer.should_wait(event("epoch"))                 # at the epoch's end
    pacer.apply(Pace("resume"))
    assert not pacer.should_wait(event("step")) and not pacer.should_wait(event("epoch"))
    pacer.apply(Pace("delay", delay=99))
    assert pacer.delay == 2.0                                 # slow motion is bounded
    assert Pacer(waiting=True).should_wait(event("step"))    # a rewind waits after its first step


def test_pause_step_and_step_epoch_advance_exactly_one_batch_and_to_the_epochs_end(digits):
    steps_per_epoch = math.ceil(len(digits.train_x) / BATCH)
    job = TrainingJob("ae", {"latent_dim": 8, "hidden": "32"}, digits, TrainSettings(epochs=500, batch_size=BATCH),
                      [0, 1], start_paused=True).start()
    try:
        wait_for(lambda: job.paused is not None)
        first = job.paused
        assert first.global_step == 1 and first.epoch == 1 and first.preview.shape == (2, 64)
        assert set(first.terms) >= {"total", "recon_mse"} and first.units.images == 256
        for expected in (2, 3):
            job.pace("step")
            wait_for(lambda: job.paused is not None)
            assert job.paused.global_step == expected               # one batch, exactly
        job.pace("epoch")
        wait_for(lambda: job.paused is not None)
        assert job.paused.global_step == steps_per_epoch and job.epochs_done == 1    # its end, recorded
        job.pace("step")
        wait_for(lambda: job.paused is not None)
        assert job.paused.global_step == steps_per_epoch + 1 and job.paused.epoch == 2
        job.pace("resume")
        wait_for(lambda: job.epochs_done >= 3)
        assert job.paused is None and job.running
    finally:
        job.stop()
        job.wait(300)
    assert job.status == "stopped" and job.paced


def test_rewind_replays_the_same_numbers_and_the_formula_holds_the_historys(digits):
    settings = TrainSettings(epochs=3, batch_size=BATCH, seed=4)
    first = TrainingJob("sparse_kl", {"latent_dim": 16}, digits, settings, [0]).start().wait(300)
    replay = first.rewind()
    replay.start()
    wait_for(lambda: replay.paused is not None)
    replay.pace("resume")
    replay.wait(300)
    assert first.status == replay.status == "done"
    assert replay.history["train"] == first.history["train"] and replay.history["test"] == first.history["test"]
    last = {name: values[-1] for name, values in first.history["train"].items()}
    filled = filled_objective(first.model, last)
    assert filled is not None and [t.name for t in filled.terms] == ["recon_mse", "kl_sparsity"]
    assert [t.value for t in filled.terms] == [last["recon_mse"], last["kl_sparsity"]]
    assert filled.terms[1].weight == pytest.approx(0.01) and filled.terms[1].weight_symbol == "β"
    assert filled.total == last["total"] and filled.summed == pytest.approx(last["total"], rel=1e-5)
    assert "β" in filled.latex() and f"{last['total']:.4g}" in filled.latex()
