"""Sweeps run from the app: each trial a training job in the app's worker pool (queued like any other
training), written into this browser's own folder as it lands, with sweep.json kept up to date, so a
reload or a server restart keeps every finished trial."""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datasets import DEFAULT_DATA_DIR, Dataset
from ..folder_lock import FolderLock
from ..i18n import N_, tr
from ..registry import get_variant
from ..sweep import SweepManifest, SweepPlan, plan_sweep, read_manifest, summary_metrics
from ..training import TrainSettings
from . import store
from .jobs import TrainingJob

MAX_TRIALS = 8            # a class laptop trains them one or two at a time: keep a sweep to minutes
KEEP_SWEEPS = 10          # a browser's newest sweeps kept on disk
_live: dict[Path, LiveSweep] = {}         # sweeps running in this server (a reload finds them here)
_live_lock = threading.Lock()
# The seed is a training setting, not a model parameter, but a sweep spans it too (explorer.sweep's
# TRAINING_PARAMS): one setting from several seeds, which Compare then measures for stability.
# Its range and help are shown translated, tr(spec["help"]).
SEED_SPEC = {"default": 0, "symbol": "seed", "range": N_("whole numbers"), "suggested": ["0", "1", "2"],
             "help": N_("The random seed of the initial weights and the batch order: the same setting trained from "
                        "each seed, for Compare's stability across seeds.")}
# What sweep.json says of a trial a Stop ended: kept in English there, shown with tr(message).
STOPPED = N_("stopped (Run again keeps the finished trials)")


def sweepable(variant: str) -> dict[str, dict]:
    """The variant's numeric parameters a sweep can span, with their specs, and the seed."""
    specs = get_variant(variant).config_class.field_specs()
    return {**{name: spec for name, spec in specs.items()
               if name != "input_dim" and not spec.get("choices") and isinstance(spec["default"], (int, float))
               and not isinstance(spec["default"], bool)}, "seed": SEED_SPEC}


def suggested_values(spec: dict, count: int = 5) -> list[str]:
    """count values across the parameter's range for a sweep: log-spaced where its scale is (λ, β),
    powers of two for sizes, evenly spaced otherwise; the default always among them (a spec's own
    `suggested` values where it has them: the seed's)."""
    if "suggested" in spec:
        return list(spec["suggested"])
    default = spec["default"]
    low = spec.get("ui_low") if spec.get("ui_low") is not None else spec.get("low")
    high = spec.get("ui_high") if spec.get("ui_high") is not None else spec.get("high")
    if low is None or high is None:
        low, high = (default / 10, default * 10) if default else (0, 1)
    if spec.get("log_scale") and low <= 0:
        low = high / 1000
    if isinstance(default, int):
        low = max(int(low), 1)
        if high / low >= 16:            # sizes and counts: powers of two across the range
            powers = [2**e for e in range(int(np.log2(high)) + 1) if low <= 2**e <= high]
            ints = {powers[int(round(i))] for i in np.linspace(0, len(powers) - 1, count)}
        else:
            ints = {round(v) for v in np.linspace(low, high, count)}
        return [str(v) for v in sorted(ints | {default})]
    if spec.get("log_scale"):
        # round values people would type: 1 and 3 in each decade, picked evenly across the range
        nice = [m * 10.0**e for e in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
                for m in (1, 3) if low * (1 - 1e-9) <= m * 10.0**e <= high * (1 + 1e-9)]
        picks = [nice[i] for i in sorted({int(round(i)) for i in np.linspace(0, len(nice) - 1, count)})]
    else:
        picks = [float(f"{v:.2g}") for v in np.linspace(low, high, count)]
    return [f"{v:g}" for v in sorted(set(picks) | {float(default)})]


@dataclass
class SweepView:
    """A sweep of this browser's as a page shows it: from disk, with live progress while it runs."""

    folder: Path
    title: str
    trials: list[dict]              # sweep.json's trial records
    live: LiveSweep | None          # running in this server now

    @property
    def running(self) -> bool:
        """Until sweep.json has its last word: a trial may have finished a moment before it is written."""
        return self.live is not None and self.live.following

    def count(self, status: str) -> int:
        return sum(t["status"] == status for t in self.trials)

    @property
    def unfinished(self) -> bool:
        """Some trials never finished and nothing is running them (Stop, or the server restarted)."""
        return not self.running and any(t["status"] != "done" for t in self.trials)


class LiveSweep:
    """A sweep whose trials are training jobs now; a thread mirrors their states into sweep.json."""

    def __init__(self, folder: Path, plan: SweepPlan, data: Dataset, data_dir: str):
        self.folder, self.plan, self.data = folder, plan, data
        # Held until the last word is in sweep.json: a command-line sweep into this folder meanwhile is refused.
        self._folder_lock = FolderLock(folder).acquire()
        self.jobs: dict[str, TrainingJob] = {}
        self._stopped = False
        try:
            self.manifest = SweepManifest(folder, plan, "app")
            self.manifest.refuse_replacing(data.input_dim)
            for trial in plan.trials:
                if self.manifest.reuse_finished(trial, data.input_dim):
                    continue
                self.jobs[trial.name] = TrainingJob(trial.variant, plan.params_of(trial), data, trial.settings, [0],
                                                    data_dir, store_path=folder / f"{trial.name}.pt")
            self.manifest.write()
        except BaseException:
            self._folder_lock.release()
            raise
        for job in self.jobs.values():
            job.start()
        self._thread = threading.Thread(target=self._follow, name=f"sweep-{folder.name}", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        """Whether a trial is still queued or training."""
        return any(job.running for job in self.jobs.values())

    @property
    def following(self) -> bool:
        """Whether sweep.json may still change (the thread mirroring the jobs has not written its last)."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop every trial: finished ones are kept, the running one ends as stopped, queued ones never start."""
        self._stopped = True
        for job in self.jobs.values():
            job.stop()

    def _state_of(self, job: TrainingJob) -> dict:
        if job.status in ("pending", "queued"):
            return {"status": "pending"}
        if job.status == "running":
            return {"status": "running"}
        if job.status == "done" and job.saved_to is not None and job.metrics is not None:
            return {"status": "done", "checkpoint": job.saved_to.name, "message": None,
                    "metrics": summary_metrics(job.metrics.to_dict()), "seconds": (job.summary or {}).get("seconds")}
        if job.status == "failed" or job.store_error:
            why = job.error or job.store_error          # sweep.json keeps plain text (English: no session here)
            return {"status": "failed", "message": None if why is None else str(why)}
        return {"status": "interrupted", "message": STOPPED}

    def _follow(self) -> None:
        try:
            self._mirror()
        finally:
            with _live_lock:
                _live.pop(self.folder, None)
            self._folder_lock.release()

    def _mirror(self) -> None:
        seen: dict[str, dict] = {}
        while True:
            busy = self.running
            for name, job in self.jobs.items():
                state = self._state_of(job)
                if seen.get(name) != state:
                    seen[name] = state
                    self.manifest.update(name, **state)
            if not busy:
                break
            time.sleep(0.3)
        if self._stopped:      # what a stopped job left behind is not a finished trial
            for job in self.jobs.values():
                if job.status == "stopped" and job.saved_to is not None:
                    job.saved_to.unlink(missing_ok=True)


def start_sweep(browser: str, variant: str, param: str, values: list[str], epochs: int, data: Dataset,
                data_dir: str = DEFAULT_DATA_DIR, folder: Path | None = None) -> LiveSweep:
    """Validate and start a sweep of variant over param's values in this browser's own folder (or
    resume the one in folder); ValueError naming the problem before anything trains."""
    if len(values) > MAX_TRIALS:
        raise ValueError(tr("{count} values is more than the {most} a sweep here may train; drop some, or use the "
                            "command line (python -m explorer sweep)", count=len(values), most=MAX_TRIALS))
    settings = TrainSettings(epochs=epochs, batch_size=get_variant(variant).default_batch_size)
    symbol = sweepable(variant).get(param, {}).get("symbol") or param
    title = f"{symbol} sweep of {variant} · mine, {time.strftime('%d %b %H:%M')}"
    if folder is not None:
        title = read_manifest(folder).get("title") or title
    plan = plan_sweep([variant], {param: values}, data, settings, title=title)
    if folder is None:
        folder = store.folder(browser) / "sweeps" / f"{time.strftime('%Y%m%d-%H%M%S')}-{variant}-{param}-" \
                                                    f"{uuid.uuid4().hex[:4]}"
        folder.mkdir(parents=True)
        store.prune_sweeps(browser, KEEP_SWEEPS)
    with _live_lock:
        if folder in _live and _live[folder].following:
            raise ValueError(tr("this sweep is running already"))
        live = _live[folder] = LiveSweep(folder, plan, data, data_dir)
    return live


def resume(browser: str, view: SweepView, data: Dataset, data_dir: str = DEFAULT_DATA_DIR) -> LiveSweep:
    """Run a stopped or interrupted sweep again: finished trials are kept, the others train."""
    summary = read_manifest(view.folder)
    (param, values), = summary["grid"].items()
    epochs = summary["trials"][0]["settings"]["epochs"]
    return start_sweep(browser, summary["variants"][0], param, values, epochs, data, data_dir, view.folder)


def browser_sweeps(browser: str) -> list[SweepView]:
    """This browser's sweeps, newest first, as sweep.json says (live ones say it as they run)."""
    views = []
    for folder in store.sweep_folders(browser):
        try:
            summary = read_manifest(folder)
        except ValueError:
            continue
        with _live_lock:
            live = _live.get(folder)
        views.append(SweepView(folder, summary.get("title") or folder.name, summary["trials"], live))
    return views
