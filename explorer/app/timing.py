"""Server-side page times for the load test (bench/load_test.py), when AE_EXPLORER_RUN_LOG is set."""
from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator


@contextlib.contextmanager
def run_timer(page: str, started: float) -> Iterator[None]:
    """Append each page run's server-side seconds since `started` (the script's first line, so waiting
    for imports counts) and how it ended (done, or the rerun/stop that cut it short) to the file named
    by AE_EXPLORER_RUN_LOG as a JSON line; nothing when it is not set."""
    path = os.environ.get("AE_EXPLORER_RUN_LOG")
    if not path:
        yield
        return
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    run_context = get_script_run_ctx()
    outcome = "done"
    try:
        yield
    except BaseException as exc:
        outcome = type(exc).__name__
        raise
    finally:
        record = {"session": run_context.session_id if run_context else None, "page": page,
                  "seconds": round(time.perf_counter() - started, 4), "outcome": outcome}
        with open(path, "a") as log:      # one short write per line: lines from threads do not mix
            log.write(json.dumps(record) + "\n")
