"""The app's launcher — `bash scripts/app.sh`, `ae-explorer app`, `python -m explorer.app.launch`:
`streamlit run` with a warm start.

Two things make the first visitor's page fast and never blank: Streamlit runs app/entry.py, from a
folder without pages/, so it never enters its legacy pages mode; and while the server starts, a
thread in the same process imports torch, pandas and plotly and fills the caches of the default
dataset, model and metrics, which every session then shares. Arguments go to `streamlit run`."""
from __future__ import annotations

import logging
import os
import re
import socket
import sys
import threading
from pathlib import Path

try:
    import tomllib
except ImportError:          # Python 3.10: the settings file is then left to Streamlit's own search
    tomllib = None  # type: ignore[assignment]

ENTRY = Path(__file__).resolve().parent / "entry.py"
ROOT = ENTRY.parents[2]
CONFIG = ROOT / ".streamlit" / "config.toml"


def warm_up() -> None:
    """Import torch and load the default model, dataset and metrics into the caches, then openTSNE
    (the preload must already be imported: see main)."""
    try:
        import torch  # noqa: F401

        from explorer.app import caches, models, store
        from explorer.datasets import DEFAULT_DATASET
        from explorer.device import resolve_device

        device = str(resolve_device("auto"))
        entries = {entry.key: entry for entry in models.shipped_entries()}   # every summary, for the sidebar
        key = models.default_model_key(entries)
        if key is not None:                 # the model a first visitor sees, as the pages load it
            model = models.load_entry(entries[key], device)
            caches.dataset(DEFAULT_DATASET, device)
            caches.metrics(key, model, DEFAULT_DATASET, device)
        store.prune_stale(force=True)       # browsers not seen for a month (store's cleanup policy)
        # Last, once the first visitor's model is ready: a first t-SNE map would otherwise wait for
        # openTSNE and scikit-learn to import (about 1.5 s on 2 cores), the Claims page for scikit-image.
        import openTSNE  # noqa: F401
        import skimage.morphology  # noqa: F401
        import skimage.transform  # noqa: F401
        import sklearn.linear_model  # noqa: F401
    except Exception as exc:  # noqa: BLE001 — a failed warm-up only costs the first visitor time
        logging.getLogger(__name__).warning("warm-up skipped: %s", exc)


def serve_without_nagle() -> bool:
    """Make the server answer a browser's keep-alive requests at once instead of 40 ms late each.

    Streamlit binds its listening socket itself, as socket.socket(family) with protocol 0, and asyncio
    turns Nagle's algorithm off (TCP_NODELAY) only on connections from a socket whose protocol says TCP.
    With Nagle on, a response written as headers then body waits for the browser's delayed ACK of the
    headers: 44 ms for every request after the first on a connection. A fresh page asks for 60–90 small
    frontend modules over six connections, and the websocket's deltas queue the same way. Wrapping the
    bound socket with its protocol named restores asyncio's default. False, changing nothing, where this
    Streamlit binds differently."""
    try:
        from streamlit.web.server.starlette import starlette_server
    except ImportError:
        return False
    bind = getattr(starlette_server, "_bind_socket", None)
    if bind is None or getattr(bind, "names_tcp", False):
        return bind is not None

    def bind_tcp(address: str, port: int, backlog: int) -> socket.socket:
        sock = bind(address, port, backlog)
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto == socket.IPPROTO_TCP:
            return sock
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.setblocking(False)                                  # as bound: a new wrapper starts blocking
        return tcp

    bind_tcp.names_tcp = True  # type: ignore[attr-defined]
    starlette_server._bind_socket = bind_tcp
    return True


def config_from_project(config_file: Path = CONFIG) -> dict[str, str]:
    """The project's .streamlit/config.toml as the environment variables Streamlit also reads
    (server.fileWatcherType → STREAMLIT_SERVER_FILE_WATCHER_TYPE): Streamlit looks for the file only
    in the folder it is started from, and the app must get its upload limit, theme and no source
    watching wherever `ae-explorer app` is run. Flags given to the launcher still win."""
    if tomllib is None or not config_file.is_file():
        return {}
    with config_file.open("rb") as handle:
        sections = tomllib.load(handle)
    env = {}
    for section, options in sections.items():
        for option, value in options.items():
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", option).upper()
            env[f"STREAMLIT_{section.upper()}_{snake}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


def main(argv: list[str] | None = None) -> int:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    for name, value in config_from_project().items():
        os.environ.setdefault(name, value)        # a variable the user set stays theirs
    # The preload first, in this thread, before Streamlit starts importing: plotly code in one thread
    # while another is half-way through importing pandas is the cold-start race (see preload).
    import explorer.app.preload  # noqa: F401

    # Cached functions called outside a page log "missing ScriptRunContext" at each call: not here.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: record.threadName != "warm-up")
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    serve_without_nagle()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(ENTRY), *(sys.argv[1:] if argv is None else argv)]
    try:
        cli.main()              # click: exits with the server's status
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
