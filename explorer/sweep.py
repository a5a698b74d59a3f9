"""Sweeps: a grid of trainings (variants × hyperparameter values, or seeds), one checkpoint per trial and
one line per trial in sweep.json, run by an engine (in-process here, Ray in sweep_ray.py) and resumed from
whatever finished before."""
from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import torch

from .checkpoint import CheckpointError, checkpoint_dict, read_checkpoint
from .datasets import Dataset
from .files import WriteError, check_can_write, reason, write_whole
from .folder_lock import FolderLock
from .i18n import tr
from .registry import build_model, get_variant
from .runs import FinishedRun, RunSpec, batch_groups, checkpoint_size_estimate, train_and_evaluate_many
from .training import NonFiniteLossError, TrainSettings

MANIFEST = "sweep.json"
FORMAT = "ae-explorer-sweep/2"
SUMMARY_KEYS = ("recon_mse", "fvu", "explained_variance", "mean_l0", "mean_l1", "dead_fraction", "dense_fraction",
                "l2_ratio", "kl_sum", "learned_nothing", "learned_nothing_reason")
# done: finished and on disk · failed: a real error (its message) · running: handed to the engine ·
# pending: not started · interrupted: the sweep stopped before it finished (run it again to resume)
STATUSES = ("pending", "running", "done", "failed", "interrupted")
# Swept values that say how a model is trained, not what it is: each sets its TrainSettings field, so
# `--param seed=0,1,2` trains the same model from three initialisations (and batch orders).
TRAINING_PARAMS = ("seed",)


def parse_values(text: str, name: str = "") -> list[str]:
    """'1e-3, 1e-2,0.1' → ['1e-3', '1e-2', '0.1']; duplicates and empties are errors naming `name`
    (the parameter the values are for) when given."""
    values = [v.strip() for v in text.split(",")]
    example = f"{name}=1e-3,1e-2,1e-1" if name else "1e-3,1e-2,1e-1"
    if all(v == "" for v in values):
        subject = f"no values given for {name}" if name else "no values given"
        raise ValueError(f"{subject}: give them as a comma-separated list such as {example}")
    if any(v == "" for v in values):
        subject = f"an empty value in {name}={text}" if name else f"an empty value in {text!r}"
        raise ValueError(f"{subject}: give the values as a comma-separated list such as {example}")
    if repeated := next((v for i, v in enumerate(values) if v in values[:i]), None):
        raise ValueError(f"{name + ': ' if name else ''}the value {repeated} is repeated in {text!r}; "
                         f"give each value once")
    return values


def sweep_title(variants: Sequence[str], grid: dict[str, list[str]]) -> str:
    """How lists name a sweep that was not given a title: 'λ, latent sweep of sparse_l1 and topk'."""
    return f"{', '.join(param_symbol(variants, p) for p in grid)} sweep of {' and '.join(variants)}"


def param_symbol(variants: Sequence[str], param: str) -> str:
    """How tables and titles name a swept parameter: its symbol in the first variant that has it ('λ')."""
    for variant in variants:
        try:
            spec = get_variant(variant).config_class.field_specs().get(param)
        except ValueError:              # an earlier plan's variant no longer registered
            continue
        if spec is not None:
            return str(spec.get("symbol") or param)
    return param


@dataclass(frozen=True)
class Trial:
    """One training of a sweep: a variant, the swept values it takes, and how it is trained."""

    variant: str
    swept: tuple[tuple[str, str], ...]     # (parameter, value as given), in the grid's order
    settings: TrainSettings

    @property
    def name(self) -> str:
        """'topk-k=5', 'topk-k=5-latent_dim=64': the checkpoint's file name without .pt."""
        return "-".join([self.variant, *(f"{p}={v}" for p, v in self.swept)])

    @property
    def params(self) -> dict[str, str]:
        """The swept model parameters (a swept seed is in `settings`, not here)."""
        return {p: v for p, v in self.swept if p not in TRAINING_PARAMS}

    @property
    def swept_values(self) -> dict[str, str]:
        """Every swept value as given, a seed included: what sets the trial apart."""
        return dict(self.swept)


@dataclass
class SweepPlan:
    """Everything a sweep trains, validated: each trial's model can be built before anything runs."""

    variants: list[str]
    grid: dict[str, list[str]]           # parameter → its values, as given
    base_params: dict[str, str]          # held fixed in every trial
    dataset: str
    trials: list[Trial]
    title: str = ""                      # how lists name the sweep ('k sweep of topk'); made from the grid if empty

    def __post_init__(self) -> None:
        if not self.title:
            self.title = sweep_title(self.variants, self.grid)

    def params_of(self, trial: Trial) -> dict[str, str]:
        return {**self.base_params, **trial.params}


def plan_sweep(variants: Sequence[str], grid: dict[str, list[str]], data: Dataset,
               settings: TrainSettings | Callable[[str], TrainSettings], base_params: dict | None = None,
               title: str = "") -> SweepPlan:
    """The trials of a grid over every variant (each variant must have every swept parameter), each
    validated by building its model; ValueError naming the first problem, before anything trains.

    settings may depend on the variant (its default batch size): then pass a function of its name."""
    # The messages are in the reader's language on a page (the app's sweep panel), English on the command line.
    if not variants:
        raise ValueError(tr("give at least one variant to sweep"))
    if not grid:
        raise ValueError(tr("give at least one parameter to sweep over, with its values"))
    if empty := next((p for p, values in grid.items() if not values), None):
        raise ValueError(tr("no values given for {name}: give at least one, e.g. {name}=V1,V2", name=empty))
    base = {k: str(v) for k, v in (base_params or {}).items()}
    if both := sorted(set(base) & set(grid)):
        raise ValueError(tr("{names} is both swept and held fixed; give it once", names=", ".join(both)))
    if held := sorted(set(base) & set(TRAINING_PARAMS)):
        raise ValueError(tr("{names} is a training setting, not a model parameter: set it as the training seed "
                            "(--seed), or sweep it (e.g. --param seed=0,1,2)", names=", ".join(held)))
    if "seed" in grid:
        _seeds(grid["seed"])              # whole numbers, each once, before any model is built
    trials = []
    made: dict[str, Trial] = {}          # what a trial trains → the first trial that trains it
    for variant in variants:
        known = [k for k in get_variant(variant).config_class.field_specs() if k != "input_dim"]
        for param in grid:
            if param not in known and param not in TRAINING_PARAMS:
                raise ValueError(tr("{variant} has no parameter {param}; sweepable parameters: {known}",
                                    variant=variant, param=repr(param), known=", ".join([*known, *TRAINING_PARAMS])))
        trained_with = settings(variant) if callable(settings) else settings
        for values in itertools.product(*grid.values()):
            swept = tuple(zip(grid, values, strict=True))
            trial = Trial(variant, swept, _trained_as_swept(trained_with, swept))
            model = build_model(variant, {**base, **trial.params}, input_dim=data.input_dim, seed=trial.settings.seed)
            # Values equal once parsed (k=4 and 4.0, lam=1e-3 and 0.001) would train one model twice.
            trains = json.dumps([variant, model.config.to_dict(), asdict(trial.settings)], sort_keys=True)
            if (same := made.setdefault(trains, trial)) is not trial:
                raise ValueError(_same_model(same, trial))
            trials.append(trial)
    return SweepPlan(list(variants), {k: list(v) for k, v in grid.items()}, base, data.name, trials, title)


def _same_model(first: Trial, again: Trial) -> str:
    """The one-line refusal of two trials that would train the same model, naming the parameter."""
    differ = [(p, a, b) for (p, a), (_, b) in zip(first.swept, again.swept, strict=True) if a != b]
    if not differ:
        return tr("{name} is listed twice; give each value once", name=first.name)
    param, a, b = differ[0]
    return tr("{param}={a} and {param}={b} are the same value of {param} ({first} and {again} would train the same "
              "model); give each value once", param=param, a=a, b=b, first=first.name, again=again.name)


def _seeds(values: Sequence[str]) -> list[int]:
    """Swept seeds as whole numbers, each once (0 and 00 are one seed); ValueError naming a bad one."""
    try:
        seeds = [int(v) for v in values]
    except ValueError:
        raise ValueError(tr("a seed is a whole number such as 0, 1, 2; got {values}",
                            values=", ".join(values))) from None
    if len(set(seeds)) != len(seeds):
        raise ValueError(tr("a seed is repeated in {values}", values=", ".join(values)))
    return seeds


def _trained_as_swept(settings: TrainSettings, swept: tuple[tuple[str, str], ...]) -> TrainSettings:
    """settings with the trial's swept training values in place (seed=2 → TrainSettings.seed 2)."""
    values = dict(swept)
    if "seed" not in values:
        return settings
    seed, = _seeds([values["seed"]])
    return replace(settings, seed=seed)


@dataclass
class TrialRecord:
    """A trial's line in sweep.json."""

    name: str
    variant: str
    params: dict[str, str]                # the trial's swept values as given (a swept seed too)
    settings: dict[str, Any]              # how it was trained: epochs, batch size, lr, seed
    status: str = "pending"
    message: str | None = None            # why it failed, or what interrupted it
    checkpoint: str | None = None         # file name in the sweep's folder, once done
    seconds: float | None = None          # training time
    reused: bool = False                  # finished by an earlier run of the sweep
    metrics: dict[str, Any] = field(default_factory=dict)     # the SUMMARY_KEYS of its evaluation
    dataset: str | None = None            # what it trained on, and the parameters held fixed: a folder may
    base_params: dict[str, str] = field(default_factory=dict)   # hold the trials of several plans

    @property
    def finished(self) -> bool:
        return self.status == "done"


@dataclass
class TrialOutcome:
    """What an engine hands back for one trial: the checkpoint as bytes (written by the driver, so a
    trial on another machine needs no shared disk), or the one-line reason it failed."""

    name: str
    checkpoint: bytes | None
    metrics: dict[str, Any]
    seconds: float | None
    error: str | None = None


class SweepConflictError(ValueError):
    """A trial of the plan would replace a checkpoint in the folder that was made with other settings."""


class SweepManifest:
    """sweep.json: the plan and every trial's record, rewritten whole (atomically) at each change;
    safe to update from several threads. It keeps every trial an earlier plan ran in the folder: a
    changed plan adds trials to it, never drops one."""

    def __init__(self, folder: Path, plan: SweepPlan, engine: str):
        self.folder, self.plan, self.engine = folder, plan, engine
        self.records = {t.name: TrialRecord(t.name, t.variant, t.swept_values, asdict(t.settings),
                                            dataset=plan.dataset, base_params=dict(plan.base_params))
                        for t in plan.trials}
        earlier = _earlier_manifest(folder)
        self.earlier = {t["name"]: {"dataset": earlier.get("dataset"), "base_params": earlier.get("base_params", {}),
                                    **t} for t in earlier.get("trials", [])}
        self.variants = list(dict.fromkeys([*earlier.get("variants", []), *plan.variants]))
        self.grid = {param: list(values) for param, values in earlier.get("grid", {}).items()}
        for param, values in plan.grid.items():
            self.grid[param] = list(dict.fromkeys([*self.grid.get(param, []), *values]))
        merged = any(name not in self.records for name in self.earlier)
        given = plan.title != sweep_title(plan.variants, plan.grid)
        self.title = sweep_title(self.variants, self.grid) if merged and not given else plan.title
        self.created = earlier.get("created") or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.folder / MANIFEST

    def update(self, name: str, **changes: Any) -> TrialRecord:
        with self._lock:
            record = self.records[name]
            for key, value in changes.items():
                setattr(record, key, value)
            self._write()
            return record

    def _config(self, trial: Trial, input_dim: int) -> dict[str, Any]:
        return build_model(trial.variant, self.plan.params_of(trial), input_dim=input_dim,
                           seed=trial.settings.seed).config.to_dict()

    def refuse_replacing(self, input_dim: int) -> None:
        """SweepConflictError naming the first trial whose checkpoint in the folder was made with other
        settings (model, dataset or training): a sweep never replaces one. Called before anything trains."""
        for trial in self.plan.trials:
            path = self.folder / f"{trial.name}.pt"
            if not path.exists():
                continue
            try:
                payload = read_checkpoint(path)
            except CheckpointError as exc:
                raise SweepConflictError(tr("{error} It has the name of trial {trial} of this sweep: move it out of "
                                            "{folder}, or sweep into another folder (another --out)", error=exc,
                                            trial=trial.name, folder=self.folder)) from None
            if differ := differences(payload, self._config(trial, input_dim), self.plan.dataset, trial.settings):
                made = " and ".join(f"{name}={_shown(theirs)}" for name, theirs, _ in differ)
                asked = " and ".join(f"{name}={_shown(ours)}" for name, _, ours in differ)
                raise SweepConflictError(tr(
                    "trial {trial} in {folder} was trained with {made}, this sweep asks {asked}: sweep into another "
                    "folder (another --out) to keep both, or move {file} away to retrain it", trial=trial.name,
                    folder=self.folder, made=made, asked=asked, file=path.name))

    def reuse_finished(self, trial: Trial, input_dim: int) -> TrialRecord | None:
        """Mark the trial done from its checkpoint in the folder, if one was made with exactly its
        settings by an earlier run (before a Ctrl-C, a Stop or a restart); its record, or None."""
        payload = reusable(self.folder / f"{trial.name}.pt", self._config(trial, input_dim), self.plan.dataset,
                           trial.settings)
        if payload is None:
            return None
        record = self.records[trial.name]
        record.status, record.reused, record.checkpoint = "done", True, f"{trial.name}.pt"
        record.seconds, record.metrics = payload.get("train", {}).get("seconds"), summary_metrics(payload["metrics"])
        return record

    def to_dict(self) -> dict[str, Any]:
        """The folder's manifest: every trial of earlier plans in their order (this plan's records in place
        of theirs), then this plan's new ones; dataset, base_params and engine those of this plan."""
        p = self.plan
        names = [*self.earlier, *(name for name in self.records if name not in self.earlier)]
        trials = [asdict(self.records[n]) if n in self.records else self.earlier[n] for n in names]
        return {"format": FORMAT, "title": self.title, "variants": self.variants, "grid": self.grid,
                "dataset": p.dataset, "base_params": p.base_params, "engine": self.engine,
                "created": self.created, "trials": trials}

    def write(self) -> None:
        with self._lock:
            self._write()

    def _write(self) -> None:
        text = json.dumps(self.to_dict(), indent=2).encode()
        write_whole(self.path, lambda handle: handle.write(text), exclusive=False)

    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.records.values()) for s in STATUSES}


def read_manifest(folder: str | os.PathLike) -> dict[str, Any]:
    """A sweep.json as a dict in the current format (the first format, one variant and one parameter
    with its 'runs', is read as a grid of one parameter); ValueError if unreadable."""
    path = Path(folder) / MANIFEST
    try:
        summary = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable sweep manifest ({exc})") from None
    if not isinstance(summary, dict):
        raise ValueError(f"{path}: not a sweep manifest")
    if summary.get("format") == FORMAT:
        return summary
    try:
        variant, param = summary["variant"], summary["param"]
        trials = [{"name": f"{variant}-{param}={r['value']}", "variant": variant, "params": {param: r["value"]},
                   "settings": summary.get("settings", {}), "status": "done", "checkpoint": r["checkpoint"],
                   "seconds": r.get("train_seconds"), "reused": r.get("reused", False),
                   "metrics": {k: r.get(k) for k in SUMMARY_KEYS if k in r}} for r in summary["runs"]]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a sweep manifest (no {exc})") from None
    return {"format": FORMAT, "title": "", "variants": [variant], "grid": {param: summary.get("values", [])},
            "dataset": summary.get("dataset"), "base_params": summary.get("base_params", {}), "trials": trials}


def _earlier_manifest(folder: Path) -> dict[str, Any]:
    """The folder's sweep.json as read_manifest gives it ({} if there is none); ValueError if unreadable,
    as rewriting it would lose the trials it lists."""
    if not (folder / MANIFEST).exists():
        return {}
    try:
        return read_manifest(folder)
    except ValueError as exc:
        raise ValueError(f"{exc}; move it away, or sweep into another folder (another --out): a sweep here "
                         f"would rewrite it and lose the trials it lists") from None


def differences(payload: dict, config: dict, dataset: str, settings: TrainSettings) -> list[tuple[str, Any, Any]]:
    """(name, the checkpoint's value, the asked-for value) for each way a checkpoint was made otherwise
    than asked: its dataset, a model parameter, a training setting."""
    train_info = payload.get("train", {})
    made = payload.get("config", {})
    pairs = [("dataset", payload.get("dataset"), dataset),
             *((key, made.get(key), config.get(key)) for key in dict.fromkeys([*made, *config])),
             *((key, train_info.get(key), value) for key, value in asdict(settings).items())]
    return [(name, theirs, ours) for name, theirs, ours in pairs if theirs != ours]


def _shown(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def reusable(path: Path, config: dict, dataset: str, settings: TrainSettings) -> dict | None:
    """The checkpoint's payload if it was made with exactly this config, dataset and training, and
    trained to the end (not stopped early)."""
    if not path.exists():
        return None
    try:
        payload = read_checkpoint(path)
    except CheckpointError:
        return None
    finished = not payload.get("train", {}).get("stopped_early", False)
    return payload if finished and not differences(payload, config, dataset, settings) else None


def summary_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: metrics.get(k) for k in SUMMARY_KEYS if k in metrics}


def trial_batches(plan: SweepPlan, trials: Sequence[Trial], data: Dataset, batch: bool = True) -> list[list[Trial]]:
    """The trials in groups that train as one computation (same variant, shape and training; one each
    when not batch), in the plan's order of their first trial."""
    return [[trials[i] for i in group] for group in batch_groups(_specs(plan, trials), data, batch)]


def run_trials(trials: Sequence[Trial], plan: SweepPlan, data: Dataset) -> list[TrialOutcome]:
    """Train and evaluate a group of trial_batches (one computation when there are several); a real
    failure (NaN loss, a bad value) is an outcome with its message, not an exception, so the other
    trials go on. Used by every engine."""
    return [_outcome(trial, run, data)
            for trial, run in zip(trials, train_and_evaluate_many(_specs(plan, trials), data), strict=True)]


def _specs(plan: SweepPlan, trials: Sequence[Trial]) -> list[RunSpec]:
    return [RunSpec(t.variant, plan.params_of(t), t.settings) for t in trials]


def _outcome(trial: Trial, run: FinishedRun | Exception, data: Dataset) -> TrialOutcome:
    if isinstance(run, NonFiniteLossError):
        return TrialOutcome(trial.name, None, {}, None, str(run))
    if isinstance(run, Exception):
        return TrialOutcome(trial.name, None, {}, None, f"{type(run).__name__}: {run}")
    buffer = io.BytesIO()
    metrics = run.metrics.to_dict()
    torch.save(checkpoint_dict(run.model, data.name, metrics, run.result.history, run.summary), buffer)
    return TrialOutcome(trial.name, buffer.getvalue(), summary_metrics(metrics), run.result.seconds)


class Engine(Protocol):
    """Runs the given trials and calls `started(name)` as each is handed out and `land(outcome)` as
    each comes back (both on the calling thread)."""

    name: str
    started_means: str        # what `started` means for a trial here, as the CLI says it

    def run(self, plan: SweepPlan, trials: list[Trial], data: Dataset, started: Callable[[str], None],
            land: Callable[[TrialOutcome], None]) -> None: ...


class LocalEngine:
    """In this process (the default: no extra processes, torch uses every core): trials of one shape
    trained together as one computation, the groups one after another (batch=False: every trial alone)."""

    name = "local"
    started_means = "training…"

    def __init__(self, batch: bool = True):
        self.batch = batch

    def run(self, plan: SweepPlan, trials: list[Trial], data: Dataset, started: Callable[[str], None],
            land: Callable[[TrialOutcome], None]) -> None:
        for group in trial_batches(plan, trials, data, self.batch):
            for trial in group:
                started(trial.name)
            for outcome in run_trials(group, plan, data):
                land(outcome)


SweepEvent = Callable[[int, int, TrialRecord], None]     # (position, total, the trial's record after a change)


def run_sweep(plan: SweepPlan, out_dir: str | os.PathLike, data: Dataset, engine: Engine | None = None,
              on_event: SweepEvent | None = None) -> SweepManifest:
    """Run the plan's trials that are not finished in out_dir yet (a checkpoint made with the same
    settings is reused), writing each checkpoint atomically and sweep.json at every change.

    Ctrl-C (KeyboardInterrupt) marks the unfinished trials interrupted, writes sweep.json and re-raises:
    running the same sweep again trains only those.

    Nothing is lost: before anything trains, a sweep is refused (ValueError) while another one runs in
    out_dir (FolderBusyError) or when it would replace a checkpoint made with other settings
    (SweepConflictError); sweep.json keeps the trials of every earlier plan run there."""
    engine = engine or LocalEngine()
    out = Path(out_dir)
    need = sum(checkpoint_size_estimate(t.variant, plan.params_of(t), data.input_dim) for t in plan.trials)
    check_can_write(out / "sweep.json", need)           # a full or read-only disk is said before, not after
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"could not make the folder {out}: {reason(exc, out)}") from None
    with FolderLock(out):
        return _run_locked(plan, out, data, engine, on_event)


def _run_locked(plan: SweepPlan, out: Path, data: Dataset, engine: Engine,
                on_event: SweepEvent | None) -> SweepManifest:
    manifest = SweepManifest(out, plan, engine.name)
    manifest.refuse_replacing(data.input_dim)
    position = {t.name: i for i, t in enumerate(plan.trials)}

    def tell(record: TrialRecord) -> None:
        if on_event:
            on_event(position[record.name], len(plan.trials), record)

    todo = []
    for trial in plan.trials:
        if (record := manifest.reuse_finished(trial, data.input_dim)) is None:
            todo.append(trial)
        else:
            tell(record)
    manifest.write()

    def started(name: str) -> None:
        tell(manifest.update(name, status="running", message=None))

    def land(outcome: TrialOutcome) -> None:
        if outcome.checkpoint is None:
            tell(manifest.update(outcome.name, status="failed", message=outcome.error))
            return
        blob = outcome.checkpoint
        try:
            path = write_whole(out / f"{outcome.name}.pt", lambda handle: handle.write(blob), exclusive=False)
        except OSError as exc:           # files.WriteError (the disk filled up meanwhile…): this trial failed
            tell(manifest.update(outcome.name, status="failed", message=f"trained, but {exc}"))
            return
        tell(manifest.update(outcome.name, status="done", message=None, checkpoint=path.name,
                             seconds=outcome.seconds, metrics=outcome.metrics, reused=False))

    try:
        engine.run(plan, todo, data, started, land)
    except BaseException as exc:
        reason = "interrupted (Ctrl-C)" if isinstance(exc, KeyboardInterrupt) else f"the sweep stopped: {exc}"
        for record in manifest.records.values():
            if record.status in ("pending", "running"):
                record.status, record.message = "interrupted", reason
        manifest.write()
        raise
    return manifest
