"""The Ray sweep engine on a real local Ray cluster bound to 127.0.0.1: the same metrics as the
in-process engine, a killed worker that does not stop the sweep, a killed driver that leaves nothing of
its cluster running, an existing cluster joined by address, and clear messages when Ray or the asked-for
GPUs are missing."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from explorer import TrainSettings
from explorer.ray_reaper import stop_session
from explorer.sweep import LocalEngine, plan_sweep, run_sweep
from explorer.sweep_ray import RayEngine, RayOptions, RayUnavailableError, connect, import_ray

try:
    ray = import_ray(local=True)
except RayUnavailableError as exc:
    pytest.skip(str(exc), allow_module_level=True)
pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def cluster():
    """One local cluster for the module (starting one takes seconds), on loopback only."""
    assert connect(ray, RayOptions())
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def test_the_ray_engine_gives_the_same_metrics_as_the_local_engine(cluster, tmp_path, digits):
    assert cluster.startswith("127.0.0.1:")                 # the cluster listens on loopback only
    plan = plan_sweep(["sparse_l1", "jumprelu"], {"lam": ["1e-4", "1e-2"]}, digits, TrainSettings(epochs=3),
                      {"latent_dim": "8", "hidden": "32"})
    local = run_sweep(plan, tmp_path / "local", digits, LocalEngine())
    events = []
    remote = run_sweep(plan, tmp_path / "ray", digits, RayEngine(RayOptions(), "data"),
                       lambda i, n, r: events.append((r.name, r.status)))
    assert json.loads((tmp_path / "ray" / "sweep.json").read_text())["engine"] == "ray"
    assert sorted(e for e in events if e[1] == "done") == sorted((t.name, "done") for t in plan.trials)
    for name, record in local.records.items():
        other = remote.records[name]
        assert other.status == record.status == "done"
        for key in ("recon_mse", "fvu", "mean_l0", "mean_l1", "dead_fraction"):
            assert other.metrics[key] == pytest.approx(record.metrics[key], rel=1e-4, abs=1e-6), (name, key)
    assert sorted(p.name for p in (tmp_path / "ray").glob("*.pt")) == sorted(f"{t.name}.pt" for t in plan.trials)


def test_asking_for_more_gpus_than_the_cluster_has_is_a_clear_error(cluster, tmp_path, digits):
    plan = plan_sweep(["ae"], {"latent_dim": ["4"]}, digits, TrainSettings(epochs=1))
    gpus = ray.cluster_resources().get("GPU", 0)
    with pytest.raises(RayUnavailableError, match=f"asks for {gpus + 0.5:g} GPU but the cluster has {gpus:g}"):
        run_sweep(plan, tmp_path, digits, RayEngine(RayOptions(gpus_per_trial=gpus + 0.5)))
    assert json.loads((tmp_path / "sweep.json").read_text())["trials"][0]["status"] == "interrupted"


def test_the_cli_joins_an_existing_cluster_by_address(cluster, tmp_path):
    out = subprocess.run([sys.executable, "-m", "explorer", "sweep", "--engine", "ray", "--address", cluster,
                          "--variant", "ae", "--param", "latent_dim=4,8", "--set", "hidden=16", "--dataset", "digits",
                          "--epochs", "2", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "with the ray engine" in out.stdout and "[2/2] ae-latent_dim=8: done" in out.stdout
    assert [t["status"] for t in json.loads((tmp_path / "sweep.json").read_text())["trials"]] == ["done", "done"]


def _train_trial_pids() -> list[int]:
    """Ray worker processes running a trial now (Ray titles them ray::train_trials)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(b"ray::train_trials"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def test_a_killed_worker_is_retried_and_the_sweep_completes(tmp_path):
    before = set(_train_trial_pids())
    driver = subprocess.Popen([sys.executable, "-m", "explorer", "sweep", "--engine", "ray", "--variant", "ae",
                               "--param", "latent_dim=4,8", "--set", "hidden=32", "--dataset", "digits", "--epochs",
                               "15", "--batch-size", "16", "--out", str(tmp_path)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    try:
        deadline = time.monotonic() + 120
        while killed is None and time.monotonic() < deadline and driver.poll() is None:
            if running := [p for p in _train_trial_pids() if p not in before]:
                time.sleep(1.0)               # mid-training, not while it imports
                os.kill(running[0], signal.SIGKILL)
                killed = running[0]
            time.sleep(0.1)
        out, err = driver.communicate(timeout=300)
    finally:
        driver.kill()
    assert killed is not None, "no trial was seen running"
    assert driver.returncode == 0, err
    assert [t["status"] for t in json.loads((tmp_path / "sweep.json").read_text())["trials"]] == ["done", "done"]


def _reaper_of(driver: int) -> str | None:
    """The session folder of the cluster the driver started, as its reaper child was told it."""
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == driver and len(args) > 2 and args[1].endswith(b"ray_reaper.py"):
            return args[2].decode()
    return None


def _in_session(session: str) -> dict[int, str]:
    """Every live process that names the session folder or holds a file in it: pid → its title."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
            if cmdline and (session.encode() + b"/" in cmdline or session.encode() + b"\0" in cmdline or any(
                    os.readlink(fd).startswith(session + "/") for fd in (entry / "fd").iterdir())):
                found[int(entry.name)] = cmdline.split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
    return found


def _wait_for(predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_killed_driver_leaves_nothing_of_its_local_cluster_running(tmp_path):
    driver = subprocess.Popen([sys.executable, "-m", "explorer", "sweep", "--engine", "ray", "--variant", "ae",
                               "--param", "latent_dim=4,8", "--set", "hidden=32", "--dataset", "digits", "--epochs",
                               "500", "--batch-size", "16", "--out", str(tmp_path)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    session = None
    try:
        session = _wait_for(lambda: _reaper_of(driver.pid))
        # Up and training: a trial's worker, and the agents Ray itself leaves behind a killed driver (measured).
        running = _wait_for(lambda: "ray::train_trials" in (found := _in_session(session)).values() and found)
        assert "ray::DashboardAgent" in running.values()
        driver.kill()
        assert driver.wait(timeout=60) == -signal.SIGKILL
        _wait_for(lambda: not _in_session(session))        # its reaper stopped the rest, then itself
    finally:
        driver.kill()
        driver.wait(timeout=60)
        if session is not None:                            # whatever a failure leaves, not the next test's
            stop_session(session, os.path.dirname(os.path.abspath(ray.__file__)))
    assert [t["status"] for t in json.loads((tmp_path / "sweep.json").read_text())["trials"]] == ["running"] * 2


def test_without_ray_the_engine_says_how_to_install_it(tmp_path):
    code = ("import sys; sys.modules['ray'] = None\n"
            "from explorer.cli import main\n"
            f"sys.exit(main(['sweep', '--engine', 'ray', '--variant', 'ae', '--param', 'latent_dim=4', "
            f"'--dataset', 'digits', '--out', {str(tmp_path)!r}]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert out.stderr.strip() == ('error: the Ray engine needs Ray, which is not installed: pip install '
                                  '"ae-explorer[ray]" (or pip install ray), or run the sweep with --engine local')
    assert not list(tmp_path.iterdir())                   # said before anything was written


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_the_torchvision_datasets_sweep_on_both_engines(cluster, tmp_path, idx_data_dir, name):
    from explorer import load_dataset

    data = load_dataset(name, data_dir=idx_data_dir, download=False)
    plan = plan_sweep(["topk"], {"k": ["2", "4"]}, data, TrainSettings(epochs=2, batch_size=16), {"latent_dim": "8"})
    local = run_sweep(plan, tmp_path / "local", data, LocalEngine())
    remote = run_sweep(plan, tmp_path / "ray", data, RayEngine(RayOptions(), str(idx_data_dir)))
    for name_, record in local.records.items():
        assert remote.records[name_].status == record.status == "done"
        assert remote.records[name_].metrics["fvu"] == pytest.approx(record.metrics["fvu"], rel=1e-4)
    assert json.loads((tmp_path / "ray" / "sweep.json").read_text())["dataset"] == name


def test_a_ray_task_trains_its_share_of_a_same_shape_group_as_one_computation(cluster, tmp_path, digits):
    import torch

    whole_cluster = ray.cluster_resources()["CPU"]           # one task at a time: the group is one task's share
    plan = plan_sweep(["sparse_l1"], {"lam": ["1e-4", "1e-3", "1e-2"]}, digits, TrainSettings(epochs=1),
                      {"latent_dim": "8", "hidden": "32"})
    for batch, expected in ((True, 3), (False, 1)):
        folder = tmp_path / str(batch)
        run_sweep(plan, folder, digits, RayEngine(RayOptions(cpus_per_trial=whole_cluster), "data", batch=batch))
        together = [torch.load(folder / f"{t.name}.pt", weights_only=True)["train"]["batched"] for t in plan.trials]
        assert together == [expected] * 3
