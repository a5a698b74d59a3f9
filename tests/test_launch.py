"""The launcher's server settings that make a fresh page fast: no Nagle delay on the server's
connections, no source watching on every script run."""
from __future__ import annotations

import asyncio
import socket

import streamlit as st

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
