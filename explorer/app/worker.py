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

import torch

from ..checkpoint import save_checkpoint
from ..files import WriteError
from .messages import EpochDone, Failed, Finished, JobSpec, Progress, Stop, WorkerMessage

PROGRESS_EVERY = 0.1   # seconds between step-progress messages


def training_threads() -> int:
    """Torch's threads for training: one core fewer than the machine has (AE_EXPLORER_WORKER_THREADS
    overrides). The server and the browser drawing the run share the machine — in a classroom, the teacher's
    laptop — and a training that takes every core is descheduled mid-step whenever they draw: on 2 cores the
    Train page trained at 37–60 % of the command line's images/s with 2 threads, at 71–84 % with 1 (measured)."""
    if os.environ.get("AE_EXPLORER_WORKER_THREADS"):
        return max(1, int(os.environ["AE_EXPLORER_WORKER_THREADS"]))
    return max(1, min(torch.get_num_threads(), (os.cpu_count() or 2) - 1))


def run_jobs(specs: list[JobSpec], send: Callable[[WorkerMessage], bool],
             stop_requested: Callable[[int], bool]) -> None:
    """Train the specs' models (same shape: as one computation), reporting Progress, EpochDone, then
    Finished or Failed for each, tagged with its place in the list. send says whether the server got
    it: a finished model the server can no longer take is kept at its keep_path instead."""
    from ..datasets import load_dataset
    from ..runs import RunSpec, train_and_evaluate_many
    from ..training import NonFiniteLossError, TrainEvent
    from ..variants.base import evaluating

    try:
        first = specs[0]
        data = load_dataset(first.dataset, device=first.device, data_dir=first.data_dir)

        def follower(member: int) -> Callable[[TrainEvent], bool]:
            spec = specs[member]
            preview_x = data.test_x[spec.preview_indices]
            last, kept = [0.0], [0.0]

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
                    with evaluating(event.model):       # as the finished model will reconstruct them
                        preview = event.model(preview_x).cpu().numpy()
                    send(EpochDone(event.epoch, {k: v[-1] for k, v in h["train"].items()},
                                   {k: v[-1] for k, v in h["test"].items()}, h["seconds"][-1], preview,
                                   event.fraction_done, member))
                    keep(event, now)
                return stop_requested(member)
            return on_event

        runs = train_and_evaluate_many([RunSpec(s.variant, s.params, s.settings) for s in specs], data,
                                       [follower(i) for i in range(len(specs))])
    except Exception as exc:  # noqa: BLE001 — reported on the page; the app keeps running
        runs = [exc] * len(specs)
    for member, run in enumerate(runs):
        if isinstance(run, NonFiniteLossError):
            send(Failed(str(run), member))
        elif isinstance(run, Exception):
            send(Failed(f"Training failed: {type(run).__name__}: {run}", member))
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

    def stop_requested(member: int) -> bool:
        while not gone[0] and commands.poll():
            try:
                message = commands.recv()
            except (EOFError, OSError):   # the server went away: stop, nobody is watching
                gone[0] = True
                break
            if isinstance(message, Stop) and 0 <= message.member < len(specs):
                stopped[message.member] = True
        return gone[0] or stopped[member]

    run_jobs(specs, send, stop_requested)
    with contextlib.suppress(OSError):
        events.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
