"""Folders that fail as a full disk or a read-only file system does: real ones (a small tmpfs, filled or
mounted read-only) where this account may mount, else the same OS errors raised for that folder alone."""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from explorer import files


def _mount(folder: Path, options: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


def _under(path: str | os.PathLike, folder: Path) -> bool:
    try:
        return Path(os.path.realpath(path)).is_relative_to(folder.resolve())
    except OSError:
        return False


@contextlib.contextmanager
def failing_folder(tmp_path: Path, kind: str) -> Iterator[Path]:
    """A folder where writing fails: kind 'full' (no space left on device) or 'read-only'."""
    folder = tmp_path / f"{kind}-disk"
    folder.mkdir()
    options = "size=64k" if kind == "full" else "ro,size=64k"
    mounted = _mount(folder, options)
    try:
        with pytest.MonkeyPatch.context() as monkeypatch:
            if mounted and kind == "full":
                with contextlib.suppress(OSError), open(folder / "filler", "wb") as handle:
                    handle.write(b"\0" * (1 << 20))        # fills it: every later write there fails
            if not mounted:
                _simulate(monkeypatch, folder, errno.ENOSPC if kind == "full" else errno.EROFS)
            yield folder
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _simulate(monkeypatch: pytest.MonkeyPatch, folder: Path, code: int) -> None:
    """Make explorer.files' writes into folder fail with code as the kernel would."""
    real_mkstemp, real_fdopen, real_usage = tempfile.mkstemp, os.fdopen, shutil.disk_usage

    def mkstemp(*args, dir=None, **kwargs):            # noqa: A002 — tempfile's own keyword
        if code == errno.EROFS and dir is not None and _under(dir, folder):
            raise OSError(code, os.strerror(code), str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)

    class Full:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    def fdopen(fd, *args, **kwargs):
        handle = real_fdopen(fd, *args, **kwargs)
        if code == errno.ENOSPC and _under(os.readlink(f"/proc/self/fd/{fd}"), folder):
            return Full(handle)
        return handle

    def disk_usage(path):
        usage = real_usage(path)
        return usage._replace(free=0) if code == errno.ENOSPC and _under(path, folder) else usage

    monkeypatch.setattr(files.tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(files.os, "fdopen", fdopen)
    monkeypatch.setattr(files.shutil, "disk_usage", disk_usage)
