"""Each browser's own models on disk: a model trained in it is written when training finishes, an
upload is kept when asked; both are listed for that browser only (its identity: app/identity.py).

Cleanup: a browser keeps its MAX_TRAINED newest trained models (the oldest goes when another is
written); a browser folder not visited for STALE_DAYS days is removed (checked when the launcher
starts and at most hourly while the server runs)."""
from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from pathlib import Path

from ..files import write_whole
from ..i18n import tr

STATE_DIR = Path(os.environ.get("AE_EXPLORER_STATE_DIR", Path.home() / ".cache" / "ae-explorer" / "browsers"))
MAX_TRAINED = 20
MAX_KEPT = 20                  # uploads a browser keeps on disk
MAX_BROWSER_BYTES = 512 << 20  # all of a browser's files together
STALE_DAYS = 30
BROWSER_ID = re.compile(r"^[0-9a-f]{32}$")    # what identity.py hands out: uuid4().hex
_last_stale_check = 0.0


def folder(browser: str) -> Path:
    """The browser's folder; ValueError for anything but an id this app hands out (no path tricks)."""
    if not BROWSER_ID.match(browser):
        raise ValueError(f"not a browser id: {browser!r}")
    return STATE_DIR / browser


def new_trained_path(browser: str, variant: str) -> Path:
    """Where a model trained now in this browser is written (a fresh, unique name)."""
    return folder(browser) / "trained" / f"{time.strftime('%Y%m%d-%H%M%S')}-{variant}-{uuid.uuid4().hex[:6]}.pt"


def keep_path_for(trained_path: Path) -> Path:
    """Where a training's last finished epoch is kept while it runs (browser/interrupted/…): listed as an
    interrupted training once no job of this server writes it (its worker or the server was killed)."""
    return trained_path.parent.parent / "interrupted" / trained_path.name


# The keep paths live jobs of this server are writing: not interrupted, so not listed (jobs.py).
training_now: set[Path] = set()


def kept_upload_path(browser: str, name: str) -> Path:
    """Where an upload this browser keeps is written: its own name, made safe and not yet taken."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(name).stem)[:60] or "upload"
    kept = folder(browser) / "kept"
    path, n = kept / f"{stem}.pt", 1
    while path.exists():
        n += 1
        path = kept / f"{stem}-{n}.pt"
    return path


class NoRoomError(ValueError):
    """The browser's folder holds as much as one browser may keep; nothing was written."""


def check_room(browser: str, adding: int) -> None:
    """NoRoomError unless the browser may keep one more upload of `adding` bytes (MAX_KEPT, MAX_BROWSER_BYTES)."""
    base = folder(browser)
    kept = list((base / "kept").glob("*.pt"))
    if len(kept) >= MAX_KEPT:
        raise NoRoomError(tr("this browser keeps {count} uploads already, the most it may; this one is loaded for "
                             "this tab only (untick 'Keep it in this browser' for the next ones)", count=len(kept)))
    used = sum(_size(p) for p in base.rglob("*")) if base.exists() else 0
    if used + adding > MAX_BROWSER_BYTES:
        raise NoRoomError(tr("this browser's models take {used:.0f} MB of the {most} MB one browser may keep; this "
                             "upload is loaded for this tab only", used=used / 2**20, most=MAX_BROWSER_BYTES >> 20))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0


def write_new(path: Path, data: bytes) -> Path:
    """Write data as a new file, whole or not at all; FileExistsError if the name is taken."""
    return write_whole(path, lambda handle: handle.write(data), exclusive=True)


def files(browser: str) -> list[tuple[Path, str]]:
    """(path, 'trained' | 'kept' | 'swept' | 'interrupted') of the browser's checkpoints, newest first;
    marks the browser as seen."""
    base = folder(browser)
    if not base.exists():
        return []
    base.touch()                       # seen now: the stale check counts from here
    found = [(p, kind) for kind in ("trained", "kept") for p in (base / kind).glob("*.pt")]
    found += [(p, "swept") for p in (base / "sweeps").glob("*/*.pt")]
    found += [(p, "interrupted") for p in (base / "interrupted").glob("*.pt") if p not in training_now]
    return sorted(found, key=lambda item: _mtime(item[0]), reverse=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:          # removed since it was listed
        return 0.0


def sweep_folders(browser: str) -> list[Path]:
    """The browser's sweep folders (each holds a sweep.json and its trials' checkpoints), newest first."""
    return sorted((p for p in (folder(browser) / "sweeps").glob("*") if p.is_dir()), key=lambda p: p.name,
                  reverse=True)


def prune_sweeps(browser: str, keep: int) -> list[Path]:
    """Remove all but the keep newest sweep folders of the browser; returns what went."""
    gone = sweep_folders(browser)[keep:]
    for path in gone:
        shutil.rmtree(path, ignore_errors=True)
    return gone


def prune_trained(browser: str) -> list[Path]:
    """Remove all but the MAX_TRAINED newest trained models of the browser, and as many interrupted
    trainings; returns what went."""
    gone = []
    for kind in ("trained", "interrupted"):
        found = sorted((folder(browser) / kind).glob("*.pt"), key=_mtime, reverse=True)
        gone += [p for p in found[MAX_TRAINED:] if p not in training_now]
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


def prune_stale(now: float | None = None, force: bool = False) -> list[Path]:
    """Remove the folders of browsers not seen for STALE_DAYS days (at most hourly unless forced)."""
    global _last_stale_check
    now = time.time() if now is None else now
    if not force and now - _last_stale_check < 3600:
        return []
    _last_stale_check = now
    gone = []
    for path in STATE_DIR.glob("*") if STATE_DIR.exists() else []:
        if BROWSER_ID.match(path.name) and path.is_dir() and now - path.stat().st_mtime > STALE_DAYS * 86400:
            shutil.rmtree(path, ignore_errors=True)
            gone.append(path)
    return gone
