"""The Ray engine for sweeps: each trial a Ray task, retried when its worker process dies, on a local
cluster bound to 127.0.0.1 (started for the run, and stopped with it even when the driver is killed) or on
an existing cluster (--address).

Ray is optional: it is imported only when this engine runs (pip install "ae-explorer[ray]")."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .datasets import Dataset, DatasetUnavailableError, load_dataset
from .sweep import SweepPlan, Trial, TrialOutcome, run_trials, trial_batches

PACKAGE_DIR = Path(__file__).resolve().parent        # explorer/, shipped to an existing cluster's workers
REAPER = PACKAGE_DIR / "ray_reaper.py"               # run by path: it needs neither the package nor torch


class RayUnavailableError(RuntimeError):
    """Ray is not installed, or the cluster cannot run what was asked."""


@dataclass(frozen=True)
class RayOptions:
    address: str | None = None          # an existing cluster ('auto', 'ray://host:10001', 'host:6379'); None: start one
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0         # fractions share a GPU: 0.25 runs four trials on one
    retries: int = 3                    # times a trial is re-run after its worker process died

    def __post_init__(self) -> None:
        if not self.cpus_per_trial > 0:
            raise ValueError(f"cpus per trial must be above 0; got {self.cpus_per_trial:g}")
        if self.gpus_per_trial < 0 or (self.gpus_per_trial > 1 and self.gpus_per_trial != int(self.gpus_per_trial)):
            raise ValueError(f"gpus per trial must be a fraction of one GPU (e.g. 0.25) or a whole number; "
                             f"got {self.gpus_per_trial:g}")
        if self.retries < 0:
            raise ValueError(f"retries must be 0 or more; got {self.retries}")


def import_ray(local: bool = True) -> ModuleType:
    """Ray, imported for a local cluster on loopback (local) or for joining one by address."""
    if local:
        # Read by Ray at import: without it Ray swaps 127.0.0.1 for the machine's network address and
        # its servers listen on every interface. With it, a single-machine Ray stays on loopback.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise RayUnavailableError('the Ray engine needs Ray, which is not installed: pip install "ae-explorer[ray]" '
                                  "(or pip install ray), or run the sweep with --engine local") from None
    return ray


def train_trials(trials: list[Trial], plan: SweepPlan, data_dir: str, device: str, threads: int) -> list[TrialOutcome]:
    """A Ray task (its worker's process title is ray::train_trials): load the data once per worker
    process (load_dataset caches it) and run the trials, one shape trained as one computation, as
    every engine does."""
    import torch

    torch.set_num_threads(threads)      # the CPUs Ray gave this task, not every core of the node
    try:
        data = load_dataset(plan.dataset, device=device, data_dir=data_dir, download=False)
    except DatasetUnavailableError as exc:       # e.g. a node without the dataset's files
        return [TrialOutcome(t.name, None, {}, None, f"on this worker's machine: {exc}") for t in trials]
    return run_trials(trials, plan, data)


def share_out(groups: list[list[Trial]], slots: int) -> list[list[Trial]]:
    """Each group of one shape cut into at most `slots` near-equal tasks, so that the cluster's places
    all work while each task still trains its share as one computation."""
    tasks = []
    for group in groups:
        parts = min(len(group), max(1, slots))
        tasks += [group[i::parts] for i in range(parts)]
    return tasks


@dataclass(frozen=True)
class Connection:
    """What connect started: Ray in this process (shut it down after), and the local cluster's session
    folder when it started one (None when it joined an existing cluster, which is not ours to stop)."""

    session_dir: str | None


def connect(ray: ModuleType, options: RayOptions) -> Connection | None:
    """Join options.address, or start a local cluster sized to this machine and bound to loopback;
    None if Ray was running in this process already (then it is not this call's to shut down)."""
    if ray.is_initialized():
        return None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")        # never phone home from a sweep
    if options.address:
        # The workers of another machine import this package from the copy shipped with the job.
        ray.init(address=options.address, runtime_env={"py_modules": [str(PACKAGE_DIR)]}, log_to_driver=False)
        return Connection(None)
    # Workers of the local cluster inherit this environment: make the package importable from any cwd.
    root = str(PACKAGE_DIR.parent)
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, *paths]))
    context = ray.init(num_cpus=os.cpu_count() or 1, _node_ip_address="127.0.0.1", include_dashboard=False,
                       log_to_driver=False)
    return Connection(context.address_info["session_dir"])


def start_reaper(ray: ModuleType, session_dir: str) -> subprocess.Popen[bytes]:
    """A child that stops the local cluster's processes once this driver is gone, however it ends (see
    ray_reaper); in a session of its own, so that a Ctrl-C or a kill of this process group spares it."""
    ray_dir = os.path.dirname(os.path.abspath(str(ray.__file__)))      # as Ray names its own programs
    return subprocess.Popen([sys.executable, str(REAPER), session_dir, ray_dir], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop_reaper(reaper: subprocess.Popen[bytes]) -> None:
    """After ray.shutdown(): let the reaper check that nothing of the cluster is left, and wait for it."""
    assert reaper.stdin is not None
    reaper.stdin.close()
    try:
        reaper.wait(timeout=90)
    except subprocess.TimeoutExpired:        # it goes on by itself, and ends within its own bound
        pass


class RayEngine:
    """Every trial at once as Ray tasks (Ray queues them on the cluster's CPUs and GPUs); each lands
    as it finishes."""

    name = "ray"
    started_means = "started"            # handed to Ray, which queues it on the cluster

    def __init__(self, options: RayOptions | None = None, data_dir: str = "data", batch: bool = True):
        self.options = options or RayOptions()
        self.data_dir = str(Path(data_dir).resolve())
        self.batch = batch                 # trials of one shape share a task (as many tasks as run at once)

    def run(self, plan: SweepPlan, trials: list[Trial], data: Dataset, started: Callable[[str], None],
            land: Callable[[TrialOutcome], None]) -> None:
        if not trials:
            return
        opts = self.options
        ray = import_ray(local=opts.address is None)
        connection = connect(ray, opts)
        reaper = None
        try:
            if connection is not None and connection.session_dir is not None:
                reaper = start_reaper(ray, connection.session_dir)
            gpus = ray.cluster_resources().get("GPU", 0)
            if opts.gpus_per_trial > gpus:
                raise RayUnavailableError(f"each trial asks for {opts.gpus_per_trial:g} GPU but the cluster has "
                                          f"{gpus:g}; use --gpus-per-trial 0 or a cluster with GPUs")
            device = "cuda" if opts.gpus_per_trial > 0 else "cpu"
            task = ray.remote(train_trials).options(num_cpus=opts.cpus_per_trial, num_gpus=opts.gpus_per_trial,
                                                    max_retries=opts.retries, retry_exceptions=False)
            threads = max(1, int(opts.cpus_per_trial))
            resources = ray.cluster_resources()
            slots = int(gpus / opts.gpus_per_trial) if opts.gpus_per_trial > 0 else \
                int(resources.get("CPU", 1) / opts.cpus_per_trial)
            pending: dict[Any, list[Trial]] = {}
            for chunk in share_out(trial_batches(plan, trials, data, self.batch), slots):
                pending[task.remote(chunk, plan, self.data_dir, device, threads)] = chunk
                for trial in chunk:
                    started(trial.name)
            try:
                while pending:
                    done, _ = ray.wait(list(pending), num_returns=1)
                    for ref in done:
                        chunk = pending.pop(ref)
                        try:
                            outcomes = ray.get(ref)
                        except ray.exceptions.RayError as exc:
                            outcomes = [TrialOutcome(t.name, None, {}, None, _why(exc, opts.retries)) for t in chunk]
                        for outcome in outcomes:
                            land(outcome)
            except BaseException:
                for ref in pending:              # Ctrl-C: stop what still runs, then report it
                    ray.cancel(ref, force=True)
                raise
        finally:
            if connection is not None:
                ray.shutdown()
            if reaper is not None:
                stop_reaper(reaper)


def _why(exc: Exception, retries: int) -> str:
    """One line for a trial Ray could not finish (its worker died on every try, or the task errored)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if type(exc).__name__ in ("WorkerCrashedError", "NodeDiedError", "OutOfMemoryError"):
        return f"its worker process died on each of {retries + 1} tries ({type(exc).__name__}): {first}"
    return f"{type(exc).__name__}: {first}"
