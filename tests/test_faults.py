"""Nothing lost: a full disk, a read-only folder or a killed process ends with the reason named, nothing
half-written, and what was finished kept (the last epoch of a killed training)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT
from faults import failing_folder

from explorer import TrainSettings, build_model, load_checkpoint
from explorer.app import jobs, store
from explorer.app.jobs import TrainingJob
from explorer.checkpoint import save_new_checkpoint
from explorer.cli import main
from explorer.files import WriteError, check_can_write

BROWSER = "ab" * 16


def wait_for(condition, what: str, timeout: float = 300.0) -> None:
    """Wait on state, generously (a busy machine), never a fixed sleep."""
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.mark.parametrize("kind, cause", [("full", "the disk is full"), ("read-only", "cannot be written")])
def test_a_save_into_a_failing_folder_names_it_and_leaves_nothing(tmp_path, kind, cause):
    with failing_folder(tmp_path, kind) as folder:
        before = sorted(os.listdir(folder))
        with pytest.raises(WriteError, match=cause) as raised:
            save_new_checkpoint(folder, "mine", build_model("ae", input_dim=64), "digits")
        assert str(folder / "mine.pt") in str(raised.value) and "\n" not in str(raised.value)
        assert sorted(os.listdir(folder)) == before            # no temporary file, no half a checkpoint


def test_a_file_where_a_folder_should_be_is_named(tmp_path):
    (tmp_path / "runs").write_text("not a folder")
    with pytest.raises(WriteError, match="a file is in the way"):
        save_new_checkpoint(tmp_path / "runs", "mine", build_model("ae", input_dim=64), "digits")
    with pytest.raises(WriteError, match="is a file, not a folder"):
        check_can_write(tmp_path / "runs" / "mine.pt")


@pytest.mark.parametrize("kind, cause", [("full", "MB free and this needs about"), ("read-only", "cannot be written")])
def test_train_refuses_a_failing_out_before_training(tmp_path, capsys, kind, cause):
    with failing_folder(tmp_path, kind) as folder:
        code = main(["train", "--variant", "ae", "--dataset", "digits", "--epochs", "1", "--out",
                     str(folder / "m.pt")])
        err = capsys.readouterr()
    assert code == 1 and cause in err.err and str(folder / "m.pt") in err.err
    assert "training ae" not in err.out                       # refused before any training
    assert "Traceback" not in err.err and len(err.err.strip().splitlines()) == 1


def test_a_job_whose_store_is_full_ends_with_the_reason_and_keeps_the_model(digits, tmp_path):
    with failing_folder(tmp_path, "full") as folder:
        job = TrainingJob("ae", {"latent_dim": 8, "hidden": "32"}, digits, TrainSettings(epochs=2, batch_size=64),
                          [0, 1], store_path=folder / "trained" / "m.pt").start().wait(300)
    assert job.status == "done" and job.saved_to is None and job.metrics is not None
    assert "the disk is full" in job.store_error and str(folder / "trained" / "m.pt") in job.store_error


def test_a_failure_taking_the_model_over_ends_the_job_instead_of_hanging(digits, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("simulated: the weights do not fit")

    job = TrainingJob("ae", {"latent_dim": 8, "hidden": "32"}, digits, TrainSettings(epochs=1, batch_size=64), [0])
    monkeypatch.setattr(type(job.model), "load_state_dict", broken)
    job.start().wait(300)
    assert job.status == "failed" and "simulated: the weights do not fit" in job.error


def _job_in_browser(digits, epochs: int) -> TrainingJob:
    return TrainingJob("ae", {"latent_dim": 8, "hidden": "32"}, digits, TrainSettings(epochs=epochs, batch_size=16),
                       [0, 1], store_path=(path := store.new_trained_path(BROWSER, "ae")),
                       keep_path=store.keep_path_for(path), prune_browser=BROWSER)


def test_a_killed_worker_offers_its_last_finished_epoch(digits, monkeypatch):
    monkeypatch.setattr(jobs, "KEEP_EVERY", 0.0)            # keep every epoch (it is at most once a second)
    job = _job_in_browser(digits, 10_000).start()
    wait_for(lambda: job.epochs_done >= 4, "four epochs (the third is kept before the fourth is reported)")
    assert job.keep_path not in {p for p, _ in store.files(BROWSER)}     # running: not listed as interrupted
    job._worker.process.send_signal(signal.SIGKILL)
    job.wait(300)
    assert job.status == "stopped" and "killed (SIGKILL)" in job.interrupted
    kept = load_checkpoint(job.saved_to)
    epochs = len(kept.meta.history["epoch"])
    assert epochs >= 3 and f"after epoch {epochs} of 10000" in job.interrupted
    assert job.history["epoch"] == list(range(1, epochs + 1)) and job.metrics.recon_mse < 0.2
    assert not job.keep_path.exists() and (job.saved_to, "trained") in store.files(BROWSER)


def test_a_worker_killed_before_its_first_epoch_says_nothing_was_kept(mnist5k, monkeypatch):
    path = store.new_trained_path(BROWSER, "ae")
    job = TrainingJob("ae", {}, mnist5k, TrainSettings(epochs=5, batch_size=16), [0], store_path=path,
                      keep_path=store.keep_path_for(path)).start()
    wait_for(lambda: job._worker is not None and job.fraction > 0 and job.epochs_done == 0
             or job.epochs_done > 0, "the first steps")
    if job.epochs_done:
        pytest.skip("the machine finished an epoch before the test could kill the worker")
    job._worker.process.send_signal(signal.SIGTERM)
    job.wait(300)
    assert job.status == "failed" and job.error == ("The training process was killed (SIGTERM) before it "
                                                    "finished an epoch; nothing was kept.")


SERVER = """
import sys, time
from pathlib import Path
from explorer.app import jobs, store
from explorer.app.jobs import TrainingJob
from explorer.datasets import load_dataset
from explorer.training import TrainSettings
jobs.KEEP_EVERY = 0.0
job = TrainingJob("ae", {"latent_dim": 8, "hidden": "32"}, load_dataset("digits"),
                  TrainSettings(epochs=10000, batch_size=16), [0],
                  store_path=(path := store.new_trained_path(sys.argv[1], "ae")),
                  keep_path=store.keep_path_for(path)).start()
while job.epochs_done < 4:
    time.sleep(0.02)
print(job.keep_path, flush=True)
time.sleep(600)
"""


def test_a_killed_server_lists_the_interrupted_training_after_a_restart(tmp_path):
    env = {**os.environ, "AE_EXPLORER_STATE_DIR": str(tmp_path / "browsers"), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-c", SERVER, BROWSER], stdout=subprocess.PIPE, text=True, env=env,
                              cwd=ROOT)
    try:
        keep = Path(server.stdout.readline().strip())
        server.send_signal(signal.SIGKILL)                 # the server dies; its worker notices and keeps the model
    finally:
        server.kill()
        server.wait()
    assert keep.is_relative_to(tmp_path / "browsers" / BROWSER / "interrupted")

    def final_written() -> bool:                          # the worker's last write holds the evaluated model
        try:
            return bool(load_checkpoint(keep).meta.metrics)
        except Exception:  # noqa: BLE001 — not there or being replaced
            return False

    wait_for(final_written, "the worker to keep the model as it stopped")
    model = load_checkpoint(keep)
    assert model.meta.train["interrupted"] is True and model.meta.train["epochs_run"] >= 3
    assert model.meta.train["epochs_planned"] == 10000
    # a restarted server (this test process, with the same state folder) lists it with its last epoch
    os.environ["AE_EXPLORER_STATE_DIR"], saved = str(tmp_path / "browsers"), os.environ["AE_EXPLORER_STATE_DIR"]
    try:
        listed = store_files_in(tmp_path / "browsers")
    finally:
        os.environ["AE_EXPLORER_STATE_DIR"] = saved
    assert (keep, "interrupted") in listed


def store_files_in(state_dir: Path) -> list[tuple[Path, str]]:
    before = store.STATE_DIR
    store.STATE_DIR = state_dir
    try:
        return store.files(BROWSER)
    finally:
        store.STATE_DIR = before


def test_the_model_list_labels_an_interrupted_training_with_its_epochs(tmp_path):
    from explorer.app.models import _file_entries
    from explorer.checkpoint import save_checkpoint

    path = tmp_path / "interrupted" / "m.pt"
    save_checkpoint(path, build_model("ae", input_dim=64), "digits", {}, {"epoch": [1, 2, 3]},
                    {"interrupted": True, "epochs_run": 3, "epochs_planned": 147})
    [entry] = _file_entries([(path, "interrupted")])
    assert entry.label == "ae · digits · interrupted at epoch 3 of 147 (kept)" and entry.own


def test_jobs_keep_no_stray_files(digits):
    job = _job_in_browser(digits, 2).start().wait(300)
    assert job.status == "done" and job.saved_to.exists() and not job.keep_path.exists()
    assert job.keep_path not in store.training_now and jobs.MAX_CONCURRENT >= 1


@pytest.mark.parametrize("kind, cause", [("full", "the disk is full"), ("read-only", "cannot be written")])
def test_a_sweep_into_a_failing_folder_is_refused_before_training(tmp_path, capsys, kind, cause):
    with failing_folder(tmp_path, kind) as folder:
        code = main(["sweep", "--variant", "ae", "--dataset", "digits", "--param", "latent_dim=4,8", "--epochs", "1",
                     "--out", str(folder / "sweep")])
        err = capsys.readouterr()
        assert not list((folder / "sweep").glob("*.pt")) if (folder / "sweep").exists() else True
    assert code == 1 and "Traceback" not in err.err and len(err.err.strip().splitlines()) == 1
    assert str(folder / "sweep") in err.err and ("[1/2]" not in err.out)      # nothing trained


def test_a_trial_that_cannot_be_written_fails_alone_and_the_sweep_says_so(tmp_path, monkeypatch, digits):
    from explorer import sweep
    from explorer.files import WriteError as Refused

    real = sweep.write_whole

    def refuse_trials(path, write, exclusive=False, durable=True):
        if Path(path).suffix == ".pt":
            raise Refused(f"could not write {path}: the disk is full (no space left on device)")
        return real(path, write, exclusive, durable)

    monkeypatch.setattr(sweep, "write_whole", refuse_trials)
    plan = sweep.plan_sweep(["ae"], {"latent_dim": ["4"]}, digits, lambda v: TrainSettings(epochs=1, batch_size=64))
    manifest = sweep.run_sweep(plan, tmp_path / "s", digits)
    [record] = manifest.records.values()
    assert record.status == "failed" and record.message.startswith("trained, but could not write")
    assert "the disk is full" in (tmp_path / "s" / "sweep.json").read_text()
