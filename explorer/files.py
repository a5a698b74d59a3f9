"""Writing a file whole or not at all: checkpoints, saved models, a browser's kept uploads."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_whole(path: str | os.PathLike, write: Callable[[BinaryIO], object], exclusive: bool = False) -> Path:
    """Have `write` fill a temporary file in the same folder, fsync it, then put it in place: replacing
    any file there, or, exclusive, only if there is none (FileExistsError otherwise). The file is
    either whole or absent — never half-written — and an exclusive write is decided by the file
    system in one step (a link), so two writers of one name at the same instant get one file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)          # mkstemp's 0600 would hide a saved model from the other accounts
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            os.link(tmp, path)        # fails with FileExistsError if the name is taken, atomically
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
