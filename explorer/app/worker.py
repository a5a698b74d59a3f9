"""A training worker process: `python -m explorer.app.worker` trains one job, or several of one shape
as one computation, sent over a pipe.

Why a process: in the Streamlit server, a training *thread* competes for the GIL with the server
and every session's script, which made training 10–60× slower. A fresh interpreter (not fork, not
multiprocessing's spawn, which would re-run the app script as __main__) trains at full speed.
Protocol: the dataclasses of explorer.app.messages, pickled over two inherited pipe fds."""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from .messages import EpochDone, Failed, Finished, JobSpec, Progress, Stop, WorkerMessage

PROGRESS_EVERY = 0.1   # seconds between step-progress messages


def run_jobs(specs: list[JobSpec], send: Callable[[WorkerMessage], None],
             stop_requested: Callable[[int], bool]) -> None:
    """Train the specs' models (same shape: as one computation), reporting Progress, EpochDone, then
    Finished or Failed for each, tagged with its place in the list."""
    from ..datasets import load_dataset
    from ..runs import RunSpec, train_and_evaluate_many
    from ..training import NonFiniteLossError, TrainEvent
    from ..variants.base import evaluating

    try:
        first = specs[0]
        data = load_dataset(first.dataset, device=first.device, data_dir=first.data_dir)

        def follower(member: int) -> Callable[[TrainEvent], bool]:
            preview_x = data.test_x[specs[member].preview_indices]
            last = [0.0]

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
            send(Finished(state, run.metrics, run.summary, run.result.stopped_early, member))


def main(command_fd: int, event_fd: int) -> None:
    # Import what training needs before waiting, so a spare worker starts a job at once.
    from .. import batched, datasets, metrics, registry, runs, training  # noqa: F401

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

    run_jobs(specs, events.send, stop_requested)
    events.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
