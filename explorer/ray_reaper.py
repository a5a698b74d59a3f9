"""Stops what a local Ray cluster leaves running when the sweep driver that started it dies, however it dies.

Ray ties its servers (gcs_server, raylet, …) to the driver, but not the agents the raylet starts: killed with
SIGKILL, a driver left ray::DashboardAgent and ray::RuntimeEnvAgent running (measured, Ray 2.60). So the driver
starts this file as a child that waits for its stdin to close — the driver's end closes when it exits, even on
SIGKILL — and then kills every process of the cluster's session. It runs by path, on the standard library alone
(no package import, no torch)."""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path


def session_processes(session_dir: str, ray_dir: str) -> list[int]:
    """This user's live processes of one Ray session: its servers, programs of the Ray package in ray_dir,
    name the session folder on their command line; its agents and workers, retitled ray::…, hold their log
    files open inside it. (Anything else that names the folder, a `tail` of its logs, is left alone.)"""
    me, pids = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            if entry.stat().st_uid != os.getuid():
                continue
            args = [arg.decode(errors="replace") for arg in (entry / "cmdline").read_bytes().split(b"\0")]
            if args[0].startswith("ray::"):
                ours = any(_inside(os.readlink(fd), session_dir) for fd in (entry / "fd").iterdir())
            else:
                ours = any(_inside(arg, ray_dir) for arg in args[:3]) and any(_inside(a, session_dir) for a in args)
            if ours:
                pids.append(int(entry.name))
        except OSError:         # it ended meanwhile, or it is not ours to read
            continue
    return pids


def _inside(text: str, folder: str) -> bool:
    """Whether text names the folder or a path in it (not a longer name that starts the same)."""
    at = text.find(folder)
    return at >= 0 and text[at + len(folder):at + len(folder) + 1] in ("", "/")


def stop_session(session_dir: str, ray_dir: str, timeout: float = 60.0) -> list[int]:
    """Kill every process of the session until none is left (or timeout seconds pass); the pids killed.

    SIGKILL, not SIGTERM: the agents ignored SIGTERM for as long as we watched (measured)."""
    killed: set[int] = set()
    deadline = time.monotonic() + timeout
    while (alive := session_processes(session_dir, ray_dir)) and time.monotonic() < deadline:
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.2)             # let the killed ones go before looking again (a raylet may have spawned one)
    return sorted(killed)


def main(argv: list[str]) -> int:
    """ray_reaper.py SESSION_DIR RAY_DIR: wait for stdin to close, then stop the session's processes."""
    if len(argv) != 2:
        print("usage: ray_reaper.py SESSION_DIR RAY_PACKAGE_DIR", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)        # Ctrl-C is the driver's: it shuts Ray down itself
    sys.stdin.buffer.read()
    stop_session(argv[0], argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
