"""The launcher's server settings that make a fresh page fast: no Nagle delay on the server's
connections, no source watching on every script run — and the project's Streamlit config from any folder."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import streamlit as st
from conftest import ROOT

from explorer.app import launch


def test_the_launched_server_turns_nagle_off_on_every_connection(monkeypatch):
    """Streamlit binds its socket with protocol 0, so asyncio leaves Nagle on and each keep-alive response
    waits 40 ms for a delayed ACK; the launcher's bind names TCP, and asyncio then sets TCP_NODELAY."""
    from streamlit.web.server.starlette import starlette_server

    monkeypatch.setattr(starlette_server, "_bind_socket", starlette_server._bind_socket)   # restored after
    assert launch.serve_without_nagle()
    assert launch.serve_without_nagle(), "a second call keeps the one wrapper"
    sock = starlette_server._bind_socket("127.0.0.1", 0, 8)
    assert sock.proto == socket.IPPROTO_TCP and not sock.getblocking()

    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport):
                conn = transport.get_extra_info("socket")
                seen.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        try:
            return await asyncio.wait_for(seen, 10)
        finally:
            writer.close()
            server.close()

    assert asyncio.run(accepted_nodelay()) == 1


def test_the_project_config_does_not_watch_source_files():
    """Streamlit's watcher walks every imported module's path on the event loop at each script run
    (60 % of the server's loop while a fresh page loaded): the app is not a development server."""
    assert st.get_option("server.fileWatcherType") == "none"     # .streamlit/config.toml, as the server reads it


PRINT_CONFIG = """
import sys
import streamlit.web.bootstrap as bootstrap
from streamlit import config
from explorer.app import launch
bootstrap.run = lambda *a, **k: print("CONFIG", *(config.get_option(o) for o in (
    "server.fileWatcherType", "server.maxUploadSize", "theme.base", "client.toolbarMode")))
launch.warm_up = lambda: None      # no server starts: only the options it would start with
sys.exit(launch.main(sys.argv[1:]))
"""


def test_the_project_s_streamlit_config_applies_wherever_the_app_is_started(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env = {k: v for k, v in env.items() if not k.startswith("STREAMLIT_")}
    elsewhere = subprocess.run([sys.executable, "-c", PRINT_CONFIG], cwd=tmp_path, env=env, capture_output=True,
                               text=True, timeout=300)
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert "CONFIG none 50 light minimal" in elsewhere.stdout         # Streamlit alone: auto 200 None auto
    flagged = subprocess.run([sys.executable, "-c", PRINT_CONFIG, "--server.maxUploadSize", "7"], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=300)
    assert "CONFIG none 7 light minimal" in flagged.stdout            # a flag still wins
