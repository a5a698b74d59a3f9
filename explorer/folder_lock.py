"""One sweep at a time per folder: a non-blocking flock on a lock file inside it, naming its holder's pid
to whoever is refused (the kernel drops the lock when the holder dies, however it dies)."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from .files import WriteError, reason
from .i18n import tr

LOCK_FILE = ".sweep.lock"


class FolderBusyError(ValueError):
    """Another process is sweeping into the folder now."""


class FolderLock:
    """Held by whoever writes a sweep's folder; `with FolderLock(folder):` or acquire() / release()."""

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        """Take the lock at once, or FolderBusyError naming the folder and the pid that holds it;
        files.WriteError if the lock file cannot be written (a read-only or full disk)."""
        try:
            return self._acquire()
        except FolderBusyError:
            raise
        except OSError as exc:
            raise WriteError(tr("could not write {path}: {why}", path=self.path,
                                why=reason(exc, self.folder))) from None

    def _acquire(self) -> FolderLock:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _pid_in(fd)
                os.close(fd)
                by = tr("another sweep (pid {pid})", pid=holder) if holder else tr("another sweep")
                raise FolderBusyError(tr("{folder} is in use by {by}; wait for it to finish, or sweep into another "
                                         "folder (another --out)", folder=self.folder, by=by)) from None
            # The holder before us removes the file as it lets go: if it did so between our open and our
            # flock, we hold a file nobody else opens any more; lock the one that is there now instead.
            if _same_file(fd, self.path):
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Let go, removing the lock file first (while still holding it: see acquire)."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (there.st_dev, there.st_ino) == (held.st_dev, held.st_ino)


def _pid_in(fd: int) -> int | None:
    """The pid its holder wrote into the lock file (None while it has not yet, or if unreadable)."""
    try:
        text = os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None
