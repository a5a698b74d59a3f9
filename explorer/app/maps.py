"""Slow latent maps (t-SNE, UMAP): each made once in a thread that sessions follow, kept in memory and on disk.

Every session asking for a map while it is made is handed its intermediate maps as they arrive.
Why a thread and not a cached function: a page's script run stops at any click, and a map half-made
in it would be lost; thirty sessions asking at once must share one computation and all watch it
converge. A computation nobody has watched for GRACE seconds stops (the student moved on).

On disk (MAP_DIR: AE_EXPLORER_MAP_DIR, default `maps/` beside the browsers' state folder), a map is
keyed by everything that decides it: the codes themselves (so the checkpoint's content, the dataset,
the sample and the device), the method and its settings, and the library's version and recipe. A
restarted server shows a map made before at once."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import latent
from ..files import write_whole
from .store import STATE_DIR

MAP_DIR = Path(os.environ.get("AE_EXPLORER_MAP_DIR", STATE_DIR.parent / "maps"))
MAX_FILES = 500          # about 40 KB each for 2,000 points: 20 MB at most; the least recently used go
MAX_IN_MEMORY = 64
GRACE = 5.0              # seconds a computation nobody watches goes on (a rerun re-attaches well within it)
REDRAW = 0.75            # seconds at least between two maps on the way handed to one session (each a picture: ~60 ms)
FORMAT = 1               # of the files; part of the key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MapRequest:
    """One map: the sample (model, dataset, device, size, source, seed), the method and its settings,
    and a digest of the codes themselves."""

    model_key: str
    dataset: str
    device: str
    n: int
    source: str
    sample_seed: int
    method: str
    dims: int
    seed: int
    perplexity: float
    iterations: int
    codes_digest: str

    def disk_key(self) -> str:
        """Canonical JSON of every field, the file format and the method's library and recipe."""
        return json.dumps({**asdict(self), "format": FORMAT, "recipe": latent.method_recipe(self.method)},
                          sort_keys=True)

    def path(self) -> Path:
        return MAP_DIR / f"{self.method}-{hashlib.sha256(self.disk_key().encode()).hexdigest()[:32]}.npz"


def request(model_key: str, dataset: str, device: str, n: int, source: str, sample_seed: int, method: str,
            dims: int, seed: int, perplexity: float, iterations: int, codes: np.ndarray) -> MapRequest:
    """The request for a map of these codes (their digest stands for them)."""
    digest = hashlib.sha256(np.ascontiguousarray(codes).tobytes() + str(codes.shape).encode()).hexdigest()
    # Settings that do not change this method's map are left out of the key, so they never miss.
    tsne = method == "tsne"
    return MapRequest(model_key, dataset, device, n, source, sample_seed, method, dims, seed,
                      float(perplexity) if tsne else 0.0, int(iterations) if tsne else 0, digest)


class _Abandoned(Exception):
    """Nobody has watched this computation for GRACE seconds."""


class _Job:
    """One map being made in a thread: its newest intermediate map, then the final one (or an error)."""

    def __init__(self, req: MapRequest, steps: Iterator[latent.Projection]) -> None:
        self.request = req
        self._steps = steps
        self._changed = threading.Condition()
        self.latest: latent.Projection | None = None
        self.error: BaseException | None = None
        self.done = False
        self.seen = time.monotonic()

    def start(self) -> None:
        threading.Thread(target=self._run, name=f"map-{self.request.method}", daemon=True).start()

    def _run(self) -> None:
        try:
            for projection in self._steps:
                if projection.final:
                    _remember(self.request, projection)       # before anyone sees it: asked again, it is there
                with self._changed:
                    self.latest = projection
                    self._changed.notify_all()
                    if not projection.final and time.monotonic() - self.seen > GRACE:
                        raise _Abandoned
            if self.latest is not None:
                save(self.request, self.latest)               # after: the sessions need not wait for the disk
        except _Abandoned:
            log.info("stopped a %s map nobody watched", self.request.method)
        except Exception as exc:  # noqa: BLE001 — handed to every session following it
            self.error = exc
        finally:
            with _lock:
                if _jobs.get(self.request) is self:
                    del _jobs[self.request]
            with self._changed:
                self.done = True
                self._changed.notify_all()

    def follow(self) -> Generator[latent.Projection, None, bool]:
        """The newest map whenever it changes, intermediate ones at most every REDRAW seconds; returns
        whether the final map came (False: the computation was abandoned before it ended)."""
        shown: latent.Projection | None = None
        last = -REDRAW
        while True:
            with self._changed:
                while True:
                    self.seen = time.monotonic()     # refreshed at least every REDRAW while a session waits
                    newest = self.latest
                    fresh = newest is not None and newest is not shown
                    due = newest is not None and fresh and (newest.final or self.seen >= last + REDRAW)
                    if self.done or due:
                        break
                    self._changed.wait(min(REDRAW, max(0.01, last + REDRAW - self.seen)) if fresh else REDRAW)
                latest, done, error = self.latest, self.done, self.error
            if error is not None:
                raise error
            if latest is not None and latest is not shown:
                shown, last = latest, time.monotonic()
                yield latest
                if latest.final:
                    return True
            if done:
                return shown is not None and shown.final


_lock = threading.Lock()
_jobs: dict[MapRequest, _Job] = {}
_finished: OrderedDict[MapRequest, latent.Projection] = OrderedDict()


def _remember(req: MapRequest, projection: latent.Projection) -> None:
    with _lock:
        _finished[req] = projection
        _finished.move_to_end(req)
        while len(_finished) > MAX_IN_MEMORY:
            _finished.popitem(last=False)


def save(req: MapRequest, projection: latent.Projection) -> Path | None:
    """Write a finished map to MAP_DIR (whole or not at all), dropping the least recently used files
    beyond MAX_FILES; None, logged, when the folder cannot be written (the map still shows)."""
    path = req.path()
    try:
        write_whole(path, lambda handle: np.savez(handle, coords=projection.coords, key=np.array(req.disk_key()),
                                                  iterations=np.array(projection.iterations or 0)))
        files = sorted(MAP_DIR.glob("*.npz"), key=lambda p: p.stat().st_mtime)
        for old in files[:max(0, len(files) - MAX_FILES)]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not keep the map on disk (%s): %s", path, exc)
        return None
    return path


def load(req: MapRequest) -> latent.Projection | None:
    """The map kept on disk for this request, or None (none there, another key's, or unreadable)."""
    path = req.path()
    try:
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["key"]) != req.disk_key():
                return None
            coords, iterations = stored["coords"], int(stored["iterations"])
        os.utime(path)                     # recently used: pruned last
    except (OSError, ValueError, KeyError, EOFError):
        return None
    if coords.ndim != 2 or coords.shape[1] != req.dims:
        return None
    return latent.Projection(coords, req.method, None, iteration=iterations or None, iterations=iterations or None)


def cached(req: MapRequest) -> latent.Projection | None:
    """The finished map, from memory or disk (then remembered), without computing anything."""
    with _lock:
        if req in _finished:
            _finished.move_to_end(req)
            return _finished[req]
    projection = load(req)
    if projection is not None:
        _remember(req, projection)
    return projection


def converging(req: MapRequest, codes: np.ndarray) -> Iterator[latent.Projection]:
    """The map for `req` (of these codes) as it converges: at once when it was made before (memory or
    disk); else intermediate maps as a shared background computation reaches them, the final last.
    Bad settings raise ValueError at the first step, before any work."""
    while True:
        done = cached(req)
        if done is not None:
            yield done
            return
        with _lock:
            job = _jobs.get(req)
            if job is None and req not in _finished:
                steps = latent.project_steps(codes, req.method, req.dims, req.seed, req.perplexity or 30.0,
                                             req.iterations or latent.TSNE_ITERATIONS)
                job = _jobs[req] = _Job(req, steps)
                job.start()
        if job is not None and (yield from job.follow()):
            return


def clear() -> None:
    """Forget the finished maps held in memory, as a restart would (the disk keeps its copies)."""
    with _lock:
        _finished.clear()
