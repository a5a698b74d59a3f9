"""Nothing a sweep finished is lost: other settings never replace a trial, sweep.json keeps the trials of every
plan run in its folder, one sweep at a time per folder, values equal once parsed train once, an empty list
names its parameter, and the reaper that stops a dead driver's Ray cluster touches that cluster alone."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import ROOT

from explorer import TrainSettings
from explorer.app import catalog, sweeps
from explorer.cli import main
from explorer.folder_lock import LOCK_FILE, FolderBusyError, FolderLock
from explorer.ray_reaper import session_processes
from explorer.sweep import plan_sweep, read_manifest, run_sweep
from explorer.sweep_ray import start_reaper

CLI = [sys.executable, "-m", "explorer", "sweep", "--variant", "ae", "--set", "hidden=16", "--dataset", "digits",
       "--device", "cpu"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_other_epochs_are_refused_before_anything_trains_and_the_finished_trial_is_kept(tmp_path):
    first = _cli("--param", "latent_dim=4", "--epochs", "1", "--out", str(tmp_path))
    assert first.returncode == 0, first.stderr
    kept, manifest = _digest(tmp_path / "ae-latent_dim=4.pt"), (tmp_path / "sweep.json").read_text()
    again = _cli("--param", "latent_dim=6,4", "--epochs", "2", "--out", str(tmp_path))
    assert again.returncode == 1
    assert again.stderr.strip() == (f"error: trial ae-latent_dim=4 in {tmp_path} was trained with epochs=1, this "
                                    f"sweep asks epochs=2: sweep into another folder (another --out) to keep both, "
                                    f"or move ae-latent_dim=4.pt away to retrain it")
    assert "training" not in again.stdout and not (tmp_path / "ae-latent_dim=6.pt").exists()   # refused first
    assert _digest(tmp_path / "ae-latent_dim=4.pt") == kept and (tmp_path / "sweep.json").read_text() == manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ae-latent_dim=4.pt", "sweep.json"]


def test_another_dataset_or_model_setting_is_refused_too(tmp_path, digits):
    settings = TrainSettings(epochs=1, batch_size=64)
    run_sweep(plan_sweep(["ae"], {"latent_dim": ["4"]}, digits, settings, {"hidden": "16"}), tmp_path, digits)
    with pytest.raises(ValueError, match=r"ae-latent_dim=4 .* trained with hidden=16, this sweep asks hidden=32"):
        run_sweep(plan_sweep(["ae"], {"latent_dim": ["4"]}, digits, settings, {"hidden": "32"}), tmp_path, digits)
    (tmp_path / "ae-latent_dim=8.pt").write_text("not a checkpoint")
    with pytest.raises(ValueError, match=r"ae-latent_dim=8.pt.* trial ae-latent_dim=8 of this sweep: move it out"):
        run_sweep(plan_sweep(["ae"], {"latent_dim": ["8"]}, digits, settings, {"hidden": "16"}), tmp_path, digits)
    assert (tmp_path / "ae-latent_dim=8.pt").read_text() == "not a checkpoint"


def test_a_changed_plan_adds_its_trials_to_sweep_json_and_drops_none(tmp_path, digits):
    folder = tmp_path / "sweeps" / "mine"
    settings = TrainSettings(epochs=1, batch_size=64)
    run_sweep(plan_sweep(["ae"], {"latent_dim": ["4", "8"]}, digits, settings, {"hidden": "16"}), folder, digits)
    run_sweep(plan_sweep(["ae"], {"latent_dim": ["6", "8"]}, digits, settings, {"hidden": "16"}), folder, digits)
    run_sweep(plan_sweep(["sparse_l1"], {"lam": ["1e-3"]}, digits, settings, {"latent_dim": "8"}), folder, digits)
    summary = read_manifest(folder)
    assert [(t["name"], t["status"], t["reused"]) for t in summary["trials"]] == [
        ("ae-latent_dim=4", "done", False), ("ae-latent_dim=8", "done", True), ("ae-latent_dim=6", "done", False),
        ("sparse_l1-lam=1e-3", "done", False)]
    assert summary["variants"] == ["ae", "sparse_l1"]
    assert summary["grid"] == {"latent_dim": ["4", "8", "6"], "lam": ["1e-3"]}
    assert [(t["dataset"], t["base_params"]) for t in summary["trials"]] == [("digits", {"hidden": "16"})] * 3 + [
        ("digits", {"latent_dim": "8"})]
    assert all((folder / t["checkpoint"]).exists() for t in summary["trials"])
    # The app's catalog names every trial of the folder, an earlier plan's too, as one sweep.
    names = {catalog.sweep_of(folder / t["checkpoint"], tmp_path) for t in summary["trials"]}
    assert names == {"latent, λ sweep of ae and sparse_l1"}


def test_a_second_sweep_into_a_busy_folder_is_refused_at_once_naming_the_folder_and_holder(tmp_path, digits):
    plan = plan_sweep(["ae"], {"latent_dim": ["4"]}, digits, TrainSettings(epochs=1), {"hidden": "16"})
    with FolderLock(tmp_path):
        other = _cli("--param", "latent_dim=4", "--epochs", "1", "--out", str(tmp_path))      # another process
        with pytest.raises(FolderBusyError):
            run_sweep(plan, tmp_path, digits)
    assert other.returncode == 1
    assert other.stderr.strip() == (f"error: {tmp_path} is in use by another sweep (pid {os.getpid()}); wait for it "
                                    f"to finish, or sweep into another folder (another --out)")
    assert sorted(p.name for p in tmp_path.iterdir()) == []        # nothing trained, not even a manifest
    run_sweep(plan, tmp_path, digits)                             # let go: the next sweep runs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ae-latent_dim=4.pt", "sweep.json"]


def test_an_app_sweep_holds_its_folder_while_it_runs(digits):
    live = sweeps.start_sweep(uuid.uuid4().hex, "ae", "latent_dim", ["4", "6"], 200, digits)
    try:
        with pytest.raises(FolderBusyError, match=f"pid {os.getpid()}"):
            FolderLock(live.folder).acquire()
    finally:
        live.stop()
    deadline = time.monotonic() + 120
    while live.following and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not live.following and not (live.folder / LOCK_FILE).exists()
    FolderLock(live.folder).acquire().release()


@pytest.mark.parametrize(("variant", "values", "message"), [
    ("topk", ["4", "4.0"], "k=4 and k=4.0 are the same value of k (topk-k=4 and topk-k=4.0 would train the same"),
    ("sparse_l1", ["1e-3", "0.001"], "lam=1e-3 and lam=0.001 are the same value of lam"),
    ("ae", ["8", "08"], "latent_dim=8 and latent_dim=08 are the same value of latent_dim")])
def test_values_equal_once_parsed_are_refused_naming_the_parameter(digits, variant, values, message):
    param = {"topk": "k", "sparse_l1": "lam", "ae": "latent_dim"}[variant]
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        plan_sweep([variant], {param: values}, digits, TrainSettings(epochs=1))


@pytest.mark.parametrize(("given", "said"), [
    ("k=", "error: no values given for k: give them as a comma-separated list such as k=1e-3,1e-2,1e-1"),
    ("k=,", "error: no values given for k: give them as a comma-separated list such as k=1e-3,1e-2,1e-1"),
    ("k=2,,5", "error: an empty value in k=2,,5: give the values as a comma-separated list such as "
               "k=1e-3,1e-2,1e-1"),
    ("k=2,2", "error: k: the value 2 is repeated in '2,2'; give each value once"),
    ("k=4,4.0", "error: k=4 and k=4.0 are the same value of k (topk-k=4 and topk-k=4.0 would train the same "
                "model); give each value once")])
def test_the_command_line_names_the_parameter_of_a_bad_list(tmp_path, capsys, given, said):
    code = main(["sweep", "--variant", "topk", "--param", given, "--dataset", "digits", "--out", str(tmp_path)])
    assert code == 1 and capsys.readouterr().err.strip() == said
    assert not list(tmp_path.iterdir())


def _sleeper(argv0: str, *args: str, holding: Path | None = None) -> subprocess.Popen:
    """A process that looks like one of a Ray session's (argv0 and args as given), holding a file open."""
    code = f"import time; f = open({str(holding)!r}, 'a') if {holding is not None} else None; time.sleep(600)"
    return subprocess.Popen(["bash", "-c", f'exec -a "{argv0}" {sys.executable} -c "{code}" {" ".join(args)}'])


def test_the_reaper_stops_its_session_s_processes_once_its_driver_is_gone_and_nothing_else(tmp_path):
    ray_dir, session = tmp_path / "ray", tmp_path / "session_1"
    (session / "logs").mkdir(parents=True)
    (ray_dir / "core").mkdir(parents=True)
    server = _sleeper(str(ray_dir / "core" / "raylet"), f"--session_dir={session}")
    agent = _sleeper("ray::DashboardAgent", holding=session / "logs" / "agent.out")
    bystanders = [_sleeper("tail", "-f", str(session / "logs" / "agent.out")),            # not Ray's
                  _sleeper(str(ray_dir / "core" / "raylet"), f"--session_dir={session}0"),
                  _sleeper("ray::DashboardAgent", holding=tmp_path / "elsewhere.out")]
    fake_ray = type("ray", (), {"__file__": str(ray_dir / "__init__.py")})
    try:
        deadline = time.monotonic() + 60
        while len(session_processes(str(session), str(ray_dir))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)           # until both have started (and the agent has opened its file)
        assert sorted(session_processes(str(session), str(ray_dir))) == sorted([server.pid, agent.pid])
        reaper = start_reaper(fake_ray, str(session))
        assert reaper.poll() is None              # it waits for the driver (this process) to let go
        assert reaper.stdin is not None
        reaper.stdin.close()                      # as when the driver dies
        assert reaper.wait(timeout=60) == 0
        assert server.wait(timeout=60) == -signal.SIGKILL and agent.wait(timeout=60) == -signal.SIGKILL
        assert all(p.poll() is None for p in bystanders)
    finally:
        for process in (server, agent, *bystanders):
            process.kill()
            process.wait()


def test_an_unreadable_sweep_json_is_refused_rather_than_rewritten(tmp_path, digits):
    (tmp_path / "sweep.json").write_text("{not json")
    plan = plan_sweep(["ae"], {"latent_dim": ["4"]}, digits, TrainSettings(epochs=1), {"hidden": "16"})
    with pytest.raises(ValueError, match="not a readable sweep manifest .*would rewrite it and lose the trials"):
        run_sweep(plan, tmp_path, digits)
    assert (tmp_path / "sweep.json").read_text() == "{not json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.json"]
