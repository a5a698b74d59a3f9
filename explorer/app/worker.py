"""A training worker process: `python -m explorer.app.worker` trains one job, or several of one shape
as one computation, sent over a pipe.

Why a process: in the Streamlit server, a training *thread* competes for the GIL with the server
and every session's script, which made training 10–60× slower. A fresh interpreter (not fork, not
multiprocessing's spawn, which would re-run the app script as __main__) trains at full speed.
Protocol: the dataclasses of explorer.app.messages, pickled over two inherited pipe fds."""
from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

import numpy as np
import torch

from ..checkpoint import save_checkpoint
from ..files import WriteError
from ..i18n import later
from ..metrics import code_statistics
from ..training import TrainEvent
from ..variants.base import Autoencoder, evaluating
from .messages import EpochDone, Failed, Finished, JobSpec, Pace, Paused, Progress, Stop, UnitActivity, WorkerMessage

PROGRESS_EVERY = 0.1   # seconds between step-progress messages
MAX_DELAY = 2.0        # seconds after every step, at the slowest slow motion


def training_threads() -> int:
    """Torch's threads for training: one core fewer than the machine has (AE_EXPLORER_WORKER_THREADS
    overrides). The server and the browser drawing the run share the machine — in a classroom, the teacher's
    laptop — and a training that takes every core is descheduled mid-step whenever they draw: on 2 cores the
    Train page trained at 37–60 % of the command line's images/s with 2 threads, at 71–84 % with 1 (measured)."""
    asked = os.environ.get("AE_EXPLORER_WORKER_THREADS", "")
    if asked.strip().isdigit() and int(asked) > 0:      # anything else: the default, never a failed start
        return int(asked)
    return max(1, min(torch.get_num_threads(), (os.cpu_count() or 2) - 1))


UNIT_SAMPLE = 256      # test images on which the units' activity is reported after an epoch (and when paused)
UNITS_EVERY = 1.0      # seconds at least between two such reports while training runs

Pacing = Callable[[int, TrainEvent, Callable[[], Paused]], None]


def run_jobs(specs: list[JobSpec], send: Callable[[WorkerMessage], bool],
             stop_requested: Callable[[int], bool], pace: Pacing | None = None) -> None:
    """Train the specs' models (same shape: as one computation), reporting Progress, EpochDone, then
    Finished or Failed for each, tagged with its place in the list. send says whether the server got
    it: a finished model the server can no longer take is kept at its keep_path instead. pace, given,
    is called after every step and epoch of a job trained alone, with what to send if it makes it wait
    (step-through training: it returns when the job may go on)."""
    from ..datasets import load_dataset
    from ..runs import RunSpec, train_and_evaluate_many
    from ..training import NonFiniteLossError

    try:
        first = specs[0]
        data = load_dataset(first.dataset, device=first.device, data_dir=first.data_dir)

        def follower(member: int) -> Callable[[TrainEvent], bool]:
            spec = specs[member]
            preview_x = data.test_x[spec.preview_indices]
            unit_x = data.test_x[:UNIT_SAMPLE]
            last, kept, counted = [0.0], [0.0], [-UNITS_EVERY]

            def preview_now(model: Autoencoder) -> np.ndarray:
                with evaluating(model):       # as the finished model will reconstruct them
                    return model(preview_x).cpu().numpy()

            def units_now(model: Autoencoder) -> UnitActivity:
                with evaluating(model):
                    z = model.encode(unit_x)                              # (n, K)
                return UnitActivity(code_statistics(z, type(model).code), len(unit_x))

            def keep(event: TrainEvent, now: float) -> None:
                """The model as of this epoch, for the server to offer if this process dies (jobs.py)."""
                if spec.keep_path is None or (now - kept[0] < spec.keep_every and event.epoch < event.epochs):
                    return
                kept[0] = now
                train = {"interrupted": True, "epochs_run": event.epoch, "epochs_planned": event.epochs,
                         "lr": spec.settings.lr, "batch_size": spec.settings.batch_size, "seed": spec.settings.seed}
                try:        # durable=False: it must outlive this process, not a power cut
                    save_checkpoint(spec.keep_path, event.model, spec.dataset, {}, event.history, train,
                                    durable=False)
                except WriteError:
                    pass    # the finished model still comes back over the pipe; the server says if it cannot be kept

            def on_event(event: TrainEvent) -> bool:
                now = time.perf_counter()
                if event.kind == "step" and now - last[0] >= PROGRESS_EVERY:
                    last[0] = now
                    send(Progress(event.fraction_done, event.epoch, event.terms, member))
                elif event.kind == "epoch":
                    h = event.history
                    units = None        # at most every UNITS_EVERY (the page draws them no more often), and last
                    if now - counted[0] >= UNITS_EVERY or event.epoch == event.epochs:
                        counted[0], units = now, units_now(event.model)
                    send(EpochDone(event.epoch, {k: v[-1] for k, v in h["train"].items()},
                                   {k: v[-1] for k, v in h["test"].items()}, h["seconds"][-1],
                                   preview_now(event.model), event.fraction_done, member, units))
                    keep(event, now)
                if pace is not None and len(specs) == 1:     # one computation of several cannot wait for one
                    pace(member, event, lambda: Paused(event.epoch, event.step, event.global_step, dict(event.terms),
                                                       preview_now(event.model), units_now(event.model), member))
                return stop_requested(member)
            return on_event

        runs = train_and_evaluate_many([RunSpec(s.variant, s.params, s.settings) for s in specs], data,
                                       [follower(i) for i in range(len(specs))])
    except Exception as exc:  # noqa: BLE001 — reported on the page; the app keeps running
        runs = [exc] * len(specs)
    for member, run in enumerate(runs):
        if isinstance(run, NonFiniteLossError):
            send(Failed(run.text, member))       # translated where the page shows it
        elif isinstance(run, Exception):
            send(Failed(later("Training failed: {kind}: {error}", kind=type(run).__name__, error=str(run)), member))
        else:
            state = {k: v.detach().cpu().numpy() for k, v in run.model.state_dict().items()}
            if not send(Finished(state, run.metrics, run.summary, run.result.stopped_early, member)):
                # the server is gone: keep the model where a restarted server lists it
                keep_path = specs[member].keep_path
                if keep_path is not None:
                    with contextlib.suppress(WriteError):
                        save_checkpoint(keep_path, run.model, specs[member].dataset, run.metrics.to_dict(),
                                        run.result.history, {**run.summary, "interrupted": True,
                                                             "epochs_planned": specs[member].settings.epochs})


class Pacer:
    """Step-through training for one job: whether it waits after a step or an epoch, and slow motion."""

    def __init__(self, waiting: bool = False) -> None:
        self.waiting = waiting               # paused: waits for a Pace
        self.steps_left: int | None = None   # 'step': steps to go before waiting again
        self.to_epoch_end = False            # 'epoch': wait at the end of this epoch
        self.delay = 0.0                     # seconds after every step

    def apply(self, message: Pace) -> None:
        if message.action == "pause":
            self.waiting, self.steps_left, self.to_epoch_end = True, None, False
        elif message.action == "resume":
            self.waiting, self.steps_left, self.to_epoch_end = False, None, False
        elif message.action == "step":
            self.waiting, self.steps_left, self.to_epoch_end = False, 1, False
        elif message.action == "epoch":
            self.waiting, self.steps_left, self.to_epoch_end = False, None, True
        elif message.action == "delay":
            self.delay = min(max(float(message.delay), 0.0), MAX_DELAY)

    def should_wait(self, event: TrainEvent) -> bool:
        """After this event: whether training waits now (and becomes paused)."""
        if event.kind == "step":
            if self.delay:
                time.sleep(self.delay)
            if self.steps_left is not None:
                self.steps_left -= 1
                if self.steps_left <= 0:
                    self.waiting, self.steps_left = True, None
        elif self.to_epoch_end:                       # the epoch's end: its test terms are recorded
            self.waiting, self.to_epoch_end = True, False
        return self.waiting


def main(command_fd: int, event_fd: int) -> None:
    # Import what training needs before waiting, so a spare worker starts a job at once.
    from .. import batched, datasets, metrics, registry, runs, training  # noqa: F401

    torch.set_num_threads(training_threads())

    try:
        batched.warm_up()               # a job of several runs then starts training at once too
    except Exception:  # noqa: BLE001, S110 — only a first batched job's head start is lost
        pass

    commands = Connection(command_fd, writable=False)
    events = Connection(event_fd, readable=False)
    try:
        sent = commands.recv()          # blocks until a job (or a list of jobs) arrives; EOF (server gone) ends us
    except (EOFError, OSError):
        return
    specs: list[JobSpec] = sent if isinstance(sent, list) else [sent]
    stopped = [False] * len(specs)
    gone = [False]

    def send(message: WorkerMessage) -> bool:
        if not gone[0]:
            try:
                events.send(message)
            except OSError:               # the server went away (its end of the pipe closed)
                gone[0] = True
        return not gone[0]

    pacers = [Pacer(waiting=spec.start_paused) for spec in specs]

    def read_commands(wait: float = 0.0) -> None:
        while not gone[0] and commands.poll(wait):
            wait = 0.0
            try:
                message = commands.recv()
            except (EOFError, OSError):   # the server went away: stop, nobody is watching
                gone[0] = True
                break
            if isinstance(message, Stop | Pace) and 0 <= message.member < len(specs):
                if isinstance(message, Stop):
                    stopped[message.member] = True
                else:
                    pacers[message.member].apply(message)

    def stop_requested(member: int) -> bool:
        read_commands()
        return gone[0] or stopped[member]

    def pace(member: int, event: TrainEvent, paused: Callable[[], Paused]) -> None:
        pacer = pacers[member]
        read_commands()
        if not pacer.should_wait(event):
            return
        send(paused())
        while pacer.waiting and not gone[0] and not stopped[member]:
            read_commands(wait=0.1)

    run_jobs(specs, send, stop_requested, pace)
    with contextlib.suppress(OSError):
        events.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
