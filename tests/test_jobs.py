"""Background training jobs: live progress, stop keeps the model, failures become messages."""
from __future__ import annotations

import time

import pytest
import torch

from explorer import TrainSettings, build_model, train
from explorer.app.jobs import TrainingJob


def test_job_runs_to_completion_with_preview_and_metrics(digits):
    job = TrainingJob("ae", {"latent_dim": 8, "hidden": "32"}, digits, TrainSettings(epochs=3, batch_size=64),
                      list(range(6))).start().wait(60)
    assert job.status == "done" and job.error is None and job.fraction == 1.0
    assert job.history["epoch"] == [1, 2, 3] and job.preview.shape == (6, 64) and job.preview_epoch == 3
    assert set(job.history["train"]) == {"total", "recon_mse"} and len(job.history["test"]["recon_mse"]) == 3
    # the weights came back: the preview is what the returned model reconstructs
    assert torch.allclose(job.model(digits.test_x[:6]).detach(), torch.from_numpy(job.preview), atol=1e-5)
    # the same run in this process gives the same losses (same seed, same loop)
    same = train(build_model("ae", {"latent_dim": 8, "hidden": "32"}, input_dim=64, seed=0), digits,
                 TrainSettings(epochs=3, batch_size=64))
    assert same.history["train"]["total"] == pytest.approx(job.history["train"]["total"], rel=1e-6)
    assert job.metrics.n_test == 360 and job.summary["epochs_run"] == 3
    assert not job.model.training and job.key.startswith("session:")


def test_stop_keeps_what_was_learned(digits):
    job = TrainingJob("ae", {}, digits, TrainSettings(epochs=500, batch_size=32), [0, 1, 2, 3]).start()
    deadline = time.time() + 300         # generous: a busy machine; the wait ends as soon as two epochs are in
    while job.epochs_done < 2 and time.time() < deadline:      # (job.epoch runs ahead: the epoch in progress)
        time.sleep(0.01)
    job.stop()
    job.wait(300)
    assert job.status == "stopped" and 2 <= len(job.history["epoch"]) < 500
    assert job.metrics is not None and job.metrics.recon_mse < 0.2


def test_bad_hyperparameter_raises_before_starting(digits):
    with pytest.raises(ValueError, match="rho must be in"):
        TrainingJob("sparse_kl", {"rho": 0.0}, digits, TrainSettings(epochs=1), [0, 1])
    with pytest.raises(ValueError, match="batch size 2000 is larger than the 1437 training images"):
        TrainingJob("ae", {}, digits, TrainSettings(epochs=1, batch_size=2000), [0, 1])


def test_exploding_loss_becomes_a_message(digits):
    job = TrainingJob("vae", {"latent_dim": 2, "hidden": "16"}, digits,
                      TrainSettings(epochs=30, batch_size=32, lr=50.0), [0, 1]).start().wait(60)
    assert job.status == "failed" and "learning rate (50) is probably too high" in job.error


def test_jobs_queue_for_a_slot_and_a_queued_job_can_be_cancelled(digits, monkeypatch):
    import threading

    from explorer.app import jobs

    monkeypatch.setattr(jobs, "_slots", threading.BoundedSemaphore(1))
    first = TrainingJob("ae", {}, digits, TrainSettings(epochs=200, batch_size=32), [0]).start()
    # another shape: it cannot ride along in the first one's computation, so it waits for the slot
    second = TrainingJob("ae", {"latent_dim": 8}, digits, TrainSettings(epochs=1, batch_size=32), [0]).start()
    deadline = time.time() + 300
    while first.status != "running" and time.time() < deadline:
        time.sleep(0.01)
    assert first.status == "running" and second.status == "queued" and second.running
    second.stop()
    first.stop()
    assert first.wait(60).status == "stopped"
    assert second.wait(300).status == "cancelled" and second.metrics is None


def test_a_finished_job_prunes_the_browser_it_names_and_no_other(digits, tmp_path, monkeypatch):
    """The Train page's job keeps its browser's MAX_TRAINED newest trained models; a sweep's trial
    (no browser named) leaves them all, its sweep folder keeps it."""
    import os
    import uuid

    from explorer.app import store

    monkeypatch.setattr(store, "STATE_DIR", tmp_path)
    browser = uuid.uuid4().hex
    for i in range(store.MAX_TRAINED):
        older = store.write_new(store.new_trained_path(browser, "ae"), b"model %d" % i)
        os.utime(older, (1000 + i, 1000 + i))
    settings = TrainSettings(epochs=1, batch_size=64)
    trial = TrainingJob("ae", {}, digits, settings, [0], store_path=store.folder(browser) / "sweeps" / "s" / "t.pt")
    trial.start().wait(60)
    assert trial.saved_to is not None and len(list((tmp_path / browser / "trained").glob("*.pt"))) == store.MAX_TRAINED
    trained = TrainingJob("ae", {}, digits, settings, [0], store_path=store.new_trained_path(browser, "ae"),
                          prune_browser=browser).start().wait(60)
    kept = list((tmp_path / browser / "trained").glob("*.pt"))
    assert len(kept) == store.MAX_TRAINED and trained.saved_to in kept     # the oldest went, the new one stayed



def test_same_shape_jobs_queued_together_train_as_one_each_with_its_own_curves_stop_and_result(digits, monkeypatch):
    import threading

    from explorer.app import jobs

    monkeypatch.setattr(jobs, "_slots", threading.BoundedSemaphore(1))
    params = [{"latent_dim": 8, "hidden": "32"}, {"latent_dim": 8, "hidden": "32"}, {"latent_dim": 8, "hidden": "32"}]
    settings = [TrainSettings(epochs=3, batch_size=64), TrainSettings(epochs=3, batch_size=64, seed=1),
                TrainSettings(epochs=400, batch_size=64)]
    group = [TrainingJob("ae", p, digits, s, [0, 1]).start() for p, s in zip(params, settings, strict=True)]
    deadline = time.time() + 300
    while group[2].epochs_done < 2 and time.time() < deadline:
        time.sleep(0.01)
    assert {job.status for job in group[:2]} <= {"running", "done"} and group[2].status == "running"
    assert len({id(job._worker) for job in group}) == 1 and [j.together for j in group] == [3, 3, 3]   # one worker
    assert len({job.started for job in group}) == 1                      # … started for all at one moment
    group[2].stop()
    for job in group:
        job.wait(300)
    assert [job.status for job in group] == ["done", "done", "stopped"]
    assert [job.summary["batched"] for job in group] == [3, 3, 3]
    assert 2 <= len(group[2].history["epoch"]) < 400
    for job, s in zip(group[:2], settings[:2], strict=True):             # each got what it gets alone
        alone = train(build_model("ae", params[0], input_dim=64, seed=s.seed), digits, s)
        assert job.history["test"]["recon_mse"] == pytest.approx(alone.history["test"]["recon_mse"], rel=1e-4)
        assert job.preview.shape == (2, 64) and job.preview_epoch == 3
    assert group[0].history["train"]["total"] != group[1].history["train"]["total"]     # two seeds, two runs


def test_no_spare_worker_starts_beside_a_running_training(digits):
    """The Train page asks for a spare on every rerun; one started while a run trains would take its CPU for
    seconds (imports, warm-up). It starts when the run ends instead."""
    from explorer.app import jobs

    jobs.prepare_once()
    job = TrainingJob("ae", {}, digits, TrainSettings(epochs=5000, batch_size=32), [0, 1]).start()
    deadline = time.time() + 300
    while job.status != "running" and time.time() < deadline:
        time.sleep(0.05)
    assert job.status == "running" and jobs._spare is None       # it took the spare
    jobs.prepare_once()                                            # a rerun of the Train page
    assert jobs._spare is None
    job.stop()
    job.wait(300)
    assert job.status == "stopped" and jobs._spare is not None and jobs._spare.alive()


def test_training_leaves_a_core_to_the_server_and_the_browser(monkeypatch):
    from explorer.app import worker

    monkeypatch.delenv("AE_EXPLORER_WORKER_THREADS", raising=False)
    monkeypatch.setattr(worker.os, "cpu_count", lambda: 2)
    assert worker.training_threads() == 1
    monkeypatch.setattr(worker.os, "cpu_count", lambda: 1)
    assert worker.training_threads() == 1
    monkeypatch.setattr(worker.os, "cpu_count", lambda: 64)
    assert worker.training_threads() == min(torch.get_num_threads(), 63)
    monkeypatch.setenv("AE_EXPLORER_WORKER_THREADS", "3")
    assert worker.training_threads() == 3
    monkeypatch.setattr(worker.os, "cpu_count", lambda: 2)
    for nonsense in ("0", "-2", "two", ""):
        monkeypatch.setenv("AE_EXPLORER_WORKER_THREADS", nonsense)
        assert worker.training_threads() == 1
