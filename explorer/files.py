"""Writing a file whole or not at all: checkpoints, saved models, a browser's kept uploads, caches."""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .i18n import tr


class WriteError(OSError):
    """A file could not be written (full disk, read-only folder, a file where a folder should be…);
    the message is one line naming the target and the cause. Nothing half-written is left behind."""


def write_whole(path: str | os.PathLike, write: Callable[[BinaryIO], object], exclusive: bool = False,
                durable: bool = True) -> Path:
    """Have `write` fill a temporary file in the same folder, fsync it (unless not durable: a file that
    only has to survive its writer's death, not a power cut), then put it in place: replacing any file
    there, or, exclusive, only if there is none (FileExistsError otherwise). The file is either whole
    or absent — never half-written — and an exclusive write is decided by the file system in one step
    (a link), so two writers of one name at the same instant get one file. Any other failure is a
    WriteError naming path."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WriteError(tr("could not write {path}: {why}", path=path, why=reason(exc, path.parent))) from None
    try:
        os.fchmod(fd, 0o644)          # mkstemp's 0600 would hide a saved model from the other accounts
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if exclusive:
            os.link(tmp, path)        # fails with FileExistsError if the name is taken, atomically
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except FileExistsError:
        Path(tmp).unlink(missing_ok=True)
        raise
    except (OSError, RuntimeError) as exc:   # torch.save's writer reports a short write as a RuntimeError
        Path(tmp).unlink(missing_ok=True)
        raise WriteError(tr("could not write {path}: {why}", path=path, why=reason(exc, path))) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def reason(exc: BaseException, where: Path) -> str:
    """Why a write failed, in words: the OS error behind it (torch wraps it), else its first line."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__context__ or cause.__cause__
    if isinstance(cause, OSError) and cause.errno is not None:
        if cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return tr("the disk is full (no space left on device); free some space or choose another place")
        if cause.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return tr("{path} cannot be written ({why}); choose another place", path=where,
                      why=os.strerror(cause.errno).lower())
        if cause.errno == errno.EISDIR:
            return tr("{path} is a folder, not a file; choose a file name", path=where)
        if cause.errno in (errno.ENOTDIR, errno.EEXIST):
            return tr("a file is in the way where a folder should be ({why})", why=os.strerror(cause.errno).lower())
        return os.strerror(cause.errno).lower()
    lines = str(exc).splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def check_can_write(path: str | os.PathLike, need_bytes: int = 0) -> None:
    """Before long work that ends in writing path: WriteError unless the nearest existing folder on its
    way can take a new file, and, given need_bytes, has that much free space (a probe file, removed)."""
    path = Path(path)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise WriteError(tr("cannot write {path}: {folder} is a file, not a folder", path=path, folder=folder))
    try:
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise WriteError(tr("cannot write {path}: {why}", path=path, why=reason(exc, folder))) from None
    free = shutil.disk_usage(folder).free
    if free < need_bytes:
        raise WriteError(tr("cannot write {path}: {folder} has {free:.1f} MB free and this needs about {need:.1f} MB; "
                            "free some space or choose another place", path=path, folder=folder, free=free / 2**20,
                            need=need_bytes / 2**20))
