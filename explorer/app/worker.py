"""A training worker process: `python -m explorer.app.worker` trains one job sent over a pipe.

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


def run_job(spec: JobSpec, send: Callable[[WorkerMessage], None], stop_requested: Callable[[], bool]) -> None:
    """Train spec's model, reporting Progress, EpochDone, then Finished or Failed through send."""
    from ..datasets import load_dataset
    from ..runs import train_and_evaluate
    from ..training import NonFiniteLossError, TrainEvent
    from ..variants.base import evaluating

    try:
        data = load_dataset(spec.dataset, device=spec.device, data_dir=spec.data_dir)
        preview_x = data.test_x[spec.preview_indices]
        last = [0.0]

        def on_event(event: TrainEvent) -> bool:
            now = time.perf_counter()
            if event.kind == "step" and now - last[0] >= PROGRESS_EVERY:
                last[0] = now
                send(Progress(event.fraction_done, event.epoch, event.terms))
            elif event.kind == "epoch":
                h = event.history
                with evaluating(event.model):       # as the finished model will reconstruct them
                    preview = event.model(preview_x).cpu().numpy()
                send(EpochDone(event.epoch, {k: v[-1] for k, v in h["train"].items()},
                               {k: v[-1] for k, v in h["test"].items()}, h["seconds"][-1], preview,
                               event.fraction_done))
            return stop_requested()

        run = train_and_evaluate(spec.variant, spec.params, data, spec.settings, callback=on_event)
        state = {k: v.detach().cpu().numpy() for k, v in run.model.state_dict().items()}
        send(Finished(state, run.metrics, run.summary, run.result.stopped_early))
    except NonFiniteLossError as exc:
        send(Failed(str(exc)))
    except Exception as exc:  # noqa: BLE001 — reported on the page; the app keeps running
        send(Failed(f"Training failed: {type(exc).__name__}: {exc}"))


def main(command_fd: int, event_fd: int) -> None:
    # Import what training needs before waiting, so a spare worker starts a job at once.
    from .. import datasets, metrics, registry, runs, training  # noqa: F401

    commands = Connection(command_fd, writable=False)
    events = Connection(event_fd, readable=False)
    try:
        spec = commands.recv()          # blocks until a job arrives; EOF (server gone) ends us
    except (EOFError, OSError):
        return
    stopped = [False]

    def stop_requested() -> bool:
        while not stopped[0] and commands.poll():
            try:
                stopped[0] = isinstance(commands.recv(), Stop)
            except (EOFError, OSError):   # the server went away: stop, nobody is watching
                stopped[0] = True
        return stopped[0]

    run_job(spec, events.send, stop_requested)
    events.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
