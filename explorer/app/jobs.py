"""Training jobs for the app: each runs in its own worker process and is mirrored here, so a page
can redraw live, a click never kills the run, and the server never slows the loop down."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import torch

from ..batched import BATCH_MOST, batch_key
from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..datasets import DEFAULT_DATA_DIR, Dataset
from ..i18n import Later, later
from ..metrics import Evaluation, evaluate
from ..registry import build_model
from ..training import TrainSettings, check_batch_size, english, new_history, record_epoch
from . import store
from .catalog import file_digest
from .messages import EpochDone, Failed, Finished, JobSpec, Pace, Paused, Progress, Stop, UnitActivity, WorkerMessage

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    """A `python -m explorer.app.worker` process and the two pipes to it."""

    def __init__(self) -> None:
        cmd_read, cmd_write = os.pipe()
        evt_read, evt_write = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen([sys.executable, "-m", "explorer.app.worker", str(cmd_read), str(evt_write)],
                                        pass_fds=(cmd_read, evt_write), cwd=ROOT, env=env,
                                        stdin=subprocess.DEVNULL)
        os.close(cmd_read)
        os.close(evt_write)
        self.commands = Connection(cmd_write, readable=False)
        self.events = Connection(evt_read, writable=False)
        self._send_lock = threading.Lock()       # the jobs of one batch each send their own Stop

    def send(self, message: object) -> None:
        with self._send_lock:
            self.commands.send(message)

    def alive(self) -> bool:
        return self.process.poll() is None


_spare: Worker | None = None
_spare_lock = threading.Lock()
_training = 0            # workers training now (their jobs hold slots)
# At most this many trainings run at once (a class of 30 pressing Train together must not start 30
# processes on a laptop); the rest wait in line, shown as "queued".
MAX_CONCURRENT = int(os.environ.get("AE_EXPLORER_MAX_TRAININGS", max(1, (os.cpu_count() or 2) // 2)))
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)
# A job that gets a slot takes along the jobs waiting for one that have its shape (ten students pressing
# Train on the same variant): they train as one computation in its worker (explorer.batched), each
# still with its own curves, Stop and result. It waits this long first for clicks of the same moment.
GATHER_SECONDS = 0.2
# The worker writes the last finished epoch at most this often (~2 ms a write: after every epoch of a small
# dataset it would cost the loop 10 %; once a second costs < 0.5 %, and a killed worker loses about a second).
KEEP_EVERY = 1.0
BATCH_TRAININGS = os.environ.get("AE_EXPLORER_BATCH_TRAININGS", "1") != "0"     # 0: every job alone
_waiting: list[TrainingJob] = []          # started, not training yet, oldest first
_waiting_lock = threading.Lock()


def _take_worker(spare_now: bool) -> Worker:
    """A ready worker (the spare, if one is warm), and a new spare started behind it if spare_now (jobs are
    waiting: the next one will want it as soon as a slot frees) — otherwise the job starts one when it
    ends, so that the spare's start-up (imports and warm-up: about 4 s of CPU) does not slow the training."""
    global _spare, _training
    with _spare_lock:
        worker = _spare if _spare is not None and _spare.alive() else Worker()
        _spare = Worker() if spare_now else None
        _training += 1
    return worker


def prepare_once() -> None:
    """Start a spare worker (torch already imported) so the next Train click starts at once — unless a
    training is under way: the Train page calls this on every rerun, and a spare started beside a running
    training takes its CPU for seconds (the run that ends starts one)."""
    global _spare
    with _spare_lock:
        if _training == 0 and (_spare is None or not _spare.alive()):
            _spare = Worker()


def _trained() -> None:
    """A worker's trainings have all ended: a spare may start again."""
    global _training
    with _spare_lock:
        _training -= 1


@dataclass
class TrainingJob:
    """One training run in a worker process, mirrored here: progress, history, preview, result.

    The page keeps the job in its session state; only the job's listener thread writes to it.
    The finished model is new (never a cached one), so it cannot change what another session sees."""

    variant: str
    params: dict
    data: Dataset
    settings: TrainSettings
    preview_indices: list[int]
    data_dir: str = DEFAULT_DATA_DIR
    store_path: Path | None = None               # where to write the model when it finishes (the browser's own)
    prune_browser: str | None = None             # once written: keep only this browser's newest trained models
    keep_path: Path | None = None                # where the worker keeps the last finished epoch (store.keep_path_for)
    start_paused: bool = False                   # step-through from the start (a rewind): waits after step 1
    key: str = field(default_factory=lambda: f"session:{uuid.uuid4().hex[:12]}")
    status: str = "pending"                      # pending → queued → running → done | stopped | failed | cancelled
    failure: str | Later | None = None           # why it failed (`error`: in the reader's language)
    fraction: float = 0.0
    epoch: int = 0
    step_terms: dict = field(default_factory=dict)
    history: dict = field(default_factory=new_history)
    preview: np.ndarray | None = None            # (n, D) reconstructions after the last epoch
    preview_epoch: int = 0
    metrics: Evaluation | None = None
    summary: dict | None = None
    saved_to: Path | None = None                 # the checkpoint written at the end (store_path), if it could be
    saved_key: str | None = None                 # its model-list key ('file:<sha256>')
    store_failure: str | Later | None = None     # why it could not be written (the model is kept in memory)
    interruption: str | Later | None = None      # its worker died: what happened and which epoch was kept
    paused: Paused | None = None                 # step-through: where it waits (None while it trains)
    units: UnitActivity | None = None            # the code units on the worker's unit sample, latest
    units_epoch: int = 0                         # …after this epoch (or step, when paused: see `paused`)
    pace_delay: float = 0.0                      # slow motion: seconds after every step
    paced: bool = False                          # paused, stepped or slowed: its seconds count the waits
    started: float = 0.0
    finished: float = 0.0

    def __post_init__(self) -> None:
        # Built here first so a bad hyperparameter raises before any process starts; the worker
        # builds the same model from the same seed, and its weights are copied in at the end.
        self.model = build_model(self.variant, self.params, input_dim=self.data.input_dim, seed=self.settings.seed)
        check_batch_size(self.settings, self.data)
        self.preview_x = self.data.test_x[list(self.preview_indices)].cpu()
        self._worker: Worker | None = None
        self._member = 0                           # its place in the worker's list of jobs
        self.together = 1                          # jobs its worker trains as one computation, itself included
        self._stop_requested = False
        self._paces: list[Pace] = []               # step-through commands given before a worker had it
        self._taken = threading.Event()            # another job's worker trains it (set before _worker is)
        self._ended = threading.Event()            # a final status is set
        self._mirror_lock = threading.Lock()      # a page's snapshot never sees half an epoch recorded
        self._listener = threading.Thread(target=self._listen, name=f"listen-{self.key}", daemon=True)
        self.batch_key = (batch_key(self.model, self.settings), self.data.name, str(self.data.device), self.data_dir)

    # -- what went wrong, in the reader's language (made in the listener thread, translated when read) ------
    @property
    def error(self) -> str | None:
        """Why it failed, one line for the page."""
        return None if self.failure is None else str(self.failure)

    @property
    def store_error(self) -> str | None:
        """Why the finished model could not be written to its file (it is kept in memory)."""
        return None if self.store_failure is None else str(self.store_failure)

    @property
    def interrupted(self) -> str | None:
        """Its worker died: what happened and which epoch was kept."""
        return None if self.interruption is None else str(self.interruption)

    # -- control -------------------------------------------------------------------------------
    def start(self) -> TrainingJob:
        self.status, self.started = "queued", time.perf_counter()
        with _waiting_lock:
            _waiting.append(self)
        prepare_once()               # a warm worker ready for it (none when a running job took the spare)
        self._listener.start()
        return self

    def stop(self) -> None:
        """Ask the loop to stop after the current step (what was learned is kept), or cancel the
        job if it is still waiting for a slot."""
        self._stop_requested = True
        if self._worker is not None and self.running:
            try:
                self._worker.send(Stop(self._member))
            except OSError:
                pass

    # -- step-through ----------------------------------------------------------------------------
    @property
    def can_step(self) -> bool:
        """Pause, Step and slow motion are for a job trained alone (several as one computation cannot wait)."""
        return self.together == 1 and self.status == "running" and self._worker is not None

    def rewind(self, **where: Path | None) -> TrainingJob:
        """The same run again from the same initialisation and batch order (same variant, settings and seed:
        the same numbers), waiting after its first step; `where` gives its store and keep paths."""
        return TrainingJob(self.variant, self.params, self.data, self.settings, self.preview_indices, self.data_dir,
                           prune_browser=self.prune_browser, start_paused=True, **where)  # type: ignore[arg-type]

    def pace(self, action: str, delay: float = 0.0) -> None:
        """'pause', 'resume', 'step' (one batch), 'epoch' (to this epoch's end) or 'delay' (slow motion)."""
        self.paced = True
        if action == "delay":
            self.pace_delay = delay
        elif action != "pause":
            self.paused = None                   # it goes on: a new Paused says where it waits next
        message = Pace(action, self._member, delay)
        if self._worker is None:
            self._paces.append(message)          # sent once a worker takes it (queued, or just started)
        elif self.running:
            try:
                self._worker.send(message)
            except OSError:
                pass

    def wait(self, timeout: float | None = None) -> TrainingJob:
        self._listener.join(timeout)
        return self

    def snapshot(self) -> tuple[int, dict]:
        """(the epoch in progress, a copy of the history) as of one moment: what a page draws."""
        with self._mirror_lock:
            return self.epoch, {"epoch": list(self.history["epoch"]),
                                "train": {k: list(v) for k, v in self.history["train"].items()},
                                "test": {k: list(v) for k, v in self.history["test"].items()}}

    @property
    def epochs_done(self) -> int:
        """Epochs finished and in the history (`epoch` is the one in progress, ahead of the history)."""
        return len(self.history.get("epoch", []))

    @property
    def running(self) -> bool:
        return self.status in ("pending", "queued", "running")

    @property
    def elapsed(self) -> float:
        end = self.finished if self.finished else time.perf_counter()
        return end - self.started if self.started else 0.0

    def _store(self) -> None:
        """Write the finished model to store_path (the browser's own folder), so that a reload or a
        server restart does not lose it; on failure keep it in memory and say why."""
        if self.store_path is None or self.metrics is None:
            return
        try:
            self.saved_to = save_checkpoint(self.store_path, self.model, self.data.name, self.metrics.to_dict(),
                                            self.history, self.summary)
            self.saved_key = "file:" + file_digest(self.saved_to)
            if self.prune_browser is not None:
                store.prune_trained(self.prune_browser)
        except OSError as exc:                    # files.WriteError: full disk, read-only folder… (named)
            self.store_failure = str(exc)
        except Exception as exc:  # noqa: BLE001 — whatever it is, the model stays in memory and the page says why
            self.store_failure = later("could not write it to {path}: {kind}: {error}", path=str(self.store_path),
                                       kind=type(exc).__name__, error=str(exc))

    def _recover(self, cause: Later) -> None:
        """Its worker died: offer the model as of the last epoch the worker kept (keep_path), evaluated
        here and stored like a stopped one; or end failed, saying nothing was kept."""
        kept = None
        if self.keep_path is not None and self.keep_path.exists():
            try:
                kept = load_checkpoint(self.keep_path)
            except CheckpointError:
                kept = None                      # written half-way cannot happen (atomic), but a foreign file can
        record = kept.meta if kept is not None else None
        if kept is None or record is None or not record.history.get("epoch"):
            self._end("failed", later("{cause} before it finished an epoch; nothing was kept.", cause=cause))
            return
        epochs = len(record.history["epoch"])
        with self._mirror_lock:
            self.model, self.history = kept.to(self.data.device).eval(), record.history
        self.metrics = evaluate(self.model, self.data, lr=self.settings.lr)
        self.summary = {**record.train, "interrupted": english(cause)}      # in the checkpoint: plain English
        self.interruption = later("{cause} after epoch {epochs} of {planned}; the model as of epoch {epochs} is kept.",
                                  cause=cause, epochs=epochs, planned=self.settings.epochs)
        self._store()
        self._end("stopped")

    # -- mirror the worker's messages -------------------------------------------------------------
    def _end(self, status: str, error: str | Later | None = None) -> None:
        if error is not None:
            self.failure = error
        if self.keep_path is not None:
            store.training_now.discard(self.keep_path)
            if self.saved_to is not None or self.interrupted is None:   # stored, or not the only copy
                self.keep_path.unlink(missing_ok=True)
        self.status, self.finished, self.paused = status, time.perf_counter(), None
        self._ended.set()

    def _listen(self) -> None:
        slots = _slots                           # the one it takes is the one it gives back
        while True:                              # first come, first served: only the oldest waiting job tries
            if self._taken.is_set():             # a job ahead of it trains it: its listener mirrors for it
                self._ended.wait()
                return
            if self._stop_requested and self._leave_queue():
                self._end("cancelled")
                return
            with _waiting_lock:
                first = not _waiting or _waiting[0] is self
            if first and slots.acquire(timeout=0.05):
                break
            if not first:
                time.sleep(0.05)
        members: list[TrainingJob] = [self]      # the jobs this listener answers for
        try:
            if not self._leave_queue():          # taken while this one got the slot
                self._ended.wait()
                return
            if self._stop_requested:
                self._end("cancelled")
                return
            if BATCH_TRAININGS:
                time.sleep(GATHER_SECONDS)
            with _waiting_lock:
                riders = [j for j in _waiting if j.batch_key == self.batch_key and not j._stop_requested
                          and not j.start_paused]
                # A run stepped through waits for its own class: it never trains as one computation with others.
                riders = riders[:BATCH_MOST - 1] if BATCH_TRAININGS and not self.start_paused else []
                for job in riders:
                    _waiting.remove(job)
                    job._taken.set()
                others_wait = bool(_waiting)
            members = [self, *riders]
            worker: Worker | None = None
            try:
                worker = _take_worker(spare_now=others_wait)
                now = time.perf_counter()
                for i, job in enumerate(members):
                    job._worker, job._member, job.together = worker, i, len(members)
                    job.status, job.started = "running", now
                specs = [JobSpec(j.variant, j.params, j.data.name, str(j.data.device), j.data_dir, j.settings,
                                 list(j.preview_indices), str(j.keep_path) if j.keep_path else None, KEEP_EVERY,
                                 j.start_paused)
                         for j in members]
                store.training_now.update(j.keep_path for j in members if j.keep_path is not None)
                worker.send(specs if len(specs) > 1 else specs[0])
                for job in members:              # a Stop, or a Pause, that came before the worker was known
                    for pace in job._paces:
                        worker.send(Pace(pace.action, job._member, pace.delay))
                    if job._stop_requested:
                        worker.send(Stop(job._member))
            except OSError as exc:               # no process could start, or its pipe broke at once
                if worker is not None:
                    _trained()
                for job in members:
                    job._end("failed", later("Could not start a training process ({error}); nothing was trained.",
                                             error=str(exc)))
                return
            self._mirror(worker, members)
        except Exception as exc:  # noqa: BLE001 — a job must never hang on "running": end it with the reason
            for job in members:
                if not job._ended.is_set():
                    job._end("failed", later("Training stopped by an error in the app: {kind}: {error}",
                                             kind=type(exc).__name__, error=str(exc)))
        finally:
            slots.release()

    def _leave_queue(self) -> bool:
        """Take this job out of the waiting list; False if another job took it first."""
        with _waiting_lock:
            if self in _waiting:
                _waiting.remove(self)
                return True
            return False

    def _apply(self, message: WorkerMessage) -> bool:
        """Mirror one message from the worker; True once this job has ended."""
        if isinstance(message, Progress):
            self.fraction, self.epoch, self.step_terms = message.fraction, message.epoch, message.terms
        elif isinstance(message, EpochDone):
            with self._mirror_lock:              # the history and the epoch counter change together
                record_epoch(self.history, message.epoch, message.train_terms, message.test_terms, message.seconds)
                self.preview, self.preview_epoch = message.preview, message.epoch
                self.epoch, self.fraction = message.epoch, message.fraction
                if message.units is not None:
                    self.units, self.units_epoch = message.units, message.epoch
        elif isinstance(message, Paused):
            self.paused, self.step_terms = message, message.terms
            self.preview, self.units = message.preview, message.units
        elif isinstance(message, Finished):
            self.model.load_state_dict({k: torch.from_numpy(v) for k, v in message.state.items()})
            self.model.to(self.data.device).eval()
            self.metrics, self.summary = message.metrics, message.summary
            self.fraction = self.fraction if message.stopped else 1.0
            self._store()            # before the status says done: a page that sees done sees the file
            self._end("stopped" if message.stopped else "done")
            return True
        elif isinstance(message, Failed):
            self._end("failed", message.message)
            return True
        return False

    def _mirror(self, worker: Worker, members: list[TrainingJob]) -> None:
        """Mirror the worker's messages into each member job until every one has ended; if the worker dies,
        each open member offers the model as of its last kept epoch (_recover)."""
        open_members = set(range(len(members)))
        try:
            while open_members:
                if not worker.events.poll(0.5):
                    if not worker.alive() and not worker.events.poll(0):
                        break
                    continue
                message = worker.events.recv()
                if 0 <= message.member < len(members):
                    try:
                        ended = members[message.member]._apply(message)
                    except Exception as exc:  # noqa: BLE001 — never hang on "running"
                        members[message.member]._end("failed", later("The finished model could not be taken "
                                                                     "over: {kind}: {error}",
                                                                     kind=type(exc).__name__, error=str(exc)))
                        ended = True
                    if ended:
                        open_members.discard(message.member)
        except (EOFError, OSError):
            pass                                 # the pipe closed: the process is ending or gone
        finally:
            if open_members:
                cause = _death(worker)
                for i in sorted(open_members):
                    try:
                        members[i]._recover(cause)
                    except Exception as exc:  # noqa: BLE001 — the reason goes on the page
                        members[i]._end("failed", later("{cause}; keeping its last epoch failed too ({kind}: {error}).",
                                                        cause=cause, kind=type(exc).__name__, error=str(exc)))
            for conn in (worker.commands, worker.events):
                conn.close()
            try:
                worker.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.process.kill()
            _trained()
            prepare_once()                       # a warm worker for the next Train click



def _death(worker: Worker) -> Later:
    """How the worker ended, in words for the page: the signal that killed it, or its exit code."""
    try:
        code = worker.process.wait(timeout=10)
    except subprocess.TimeoutExpired:            # the pipe broke but it lives on: end it
        worker.process.kill()
        return later("Lost contact with the training process (its pipe closed; the process was ended)")
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return later("The training process was killed ({signal})", signal=name)
    return later("The training process ended unexpectedly (exit code {code})", code=code)
