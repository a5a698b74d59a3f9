"""Measures kept on disk, so a restarted server shows them at once: one JSON file per model and dataset
(the model named by its weights' digest, the dataset by a digest of its images and labels, both with
the measures' recipe), and per dataset its stroke measures and pixel probe. Files are written whole or
not at all; the least recently used beyond MAX_FILES go; an unreadable or foreign file is a miss."""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from .datasets import Dataset
from .files import write_whole
from .measures import RECIPE, ModelMeasures
from .resampling import BOOTSTRAP, PERMUTATIONS, SEED, Estimate
from .strokes import STROKE_FACTORS, Strokes

MAX_FILES = 2000          # a few KB each (a 512-unit model's class profile: ~60 KB)
log = logging.getLogger(__name__)


def dataset_digest(data: Dataset) -> str:
    """sha256 over the dataset's name, images and labels (0.1 s for mnist-5k, ~0.4 s for the 70,000 of mnist)."""
    digest = hashlib.sha256(data.name.encode())
    for tensor in (data.train_x, data.train_y, data.test_x, data.test_y):
        array = np.ascontiguousarray(tensor.detach().cpu().numpy())
        digest.update(str(array.shape).encode() + str(array.dtype).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


class MeasureStore:
    """A folder of kept measures (created when first written)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def _path(self, kind: str, **key: object) -> tuple[Path, str]:
        canonical = json.dumps({**key, "kind": kind, "recipe": RECIPE, "bootstrap": BOOTSTRAP,
                                "permutations": PERMUTATIONS, "seed": SEED}, sort_keys=True)
        name = hashlib.sha256(canonical.encode()).hexdigest()[:32]
        return self.folder / f"{kind}-{name}.json", canonical

    def _read(self, path: Path, canonical: str) -> dict | None:
        try:
            stored = json.loads(path.read_text())
            if stored.get("key") != canonical:
                return None
            with contextlib.suppress(OSError):    # recently used: pruned last (a read-only folder stays as it is)
                os.utime(path)
            return stored["value"]
        except (OSError, ValueError, KeyError, AttributeError):
            return None

    def _write(self, path: Path, canonical: str, value: object) -> None:
        try:
            payload = json.dumps({"key": canonical, "value": value}).encode()
            write_whole(path, lambda handle: handle.write(payload))
            files = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
            for old in files[:max(0, len(files) - MAX_FILES)]:
                old.unlink(missing_ok=True)
        except OSError as exc:                      # a full or read-only disk: the measures still show
            log.warning("could not keep measures on disk (%s): %s", path, exc)

    def model(self, model_key: str, data_digest: str) -> ModelMeasures | None:
        """The kept measures of this model on this dataset, or None."""
        path, canonical = self._path("model", model=model_key, data=data_digest)
        value = self._read(path, canonical)
        if value is None:
            return None
        try:
            return ModelMeasures.from_dict(value)
        except (KeyError, TypeError, ValueError):
            return None

    def keep_model(self, model_key: str, data_digest: str, measures: ModelMeasures) -> None:
        path, canonical = self._path("model", model=model_key, data=data_digest)
        self._write(path, canonical, measures.to_dict())

    def reference(self, data_digest: str) -> tuple[Strokes, Estimate] | None:
        """The kept stroke measures and pixel probe of this dataset's test split, or None."""
        path, canonical = self._path("dataset", data=data_digest)
        value = self._read(path, canonical)
        try:
            if value is None:
                return None
            strokes = Strokes(*(np.asarray(value["strokes"][name], dtype=float) for name in STROKE_FACTORS))
            probe = value["probe_pixels"]
            return strokes, Estimate(float(probe[0]), float(probe[1]), float(probe[2]))
        except (KeyError, TypeError, ValueError, IndexError):
            return None

    def keep_reference(self, data_digest: str, strokes: Strokes, probe_pixels: Estimate) -> None:
        path, canonical = self._path("dataset", data=data_digest)
        # NaN (an empty image's strokes) is not JSON: kept as null and read back as NaN
        columns = {name: [None if np.isnan(v) else float(v) for v in getattr(strokes, name)]
                   for name in STROKE_FACTORS}
        self._write(path, canonical, {"strokes": columns,
                                      "probe_pixels": [probe_pixels.value, probe_pixels.low, probe_pixels.high]})

    def value(self, kind: str, **key: object) -> object | None:
        """A plain JSON value kept by another measure under its kind and key (e.g. the classical baselines,
        keyed by dataset digest and settings), or None."""
        path, canonical = self._path(kind, key=key)      # nested: its names never meet the store's own
        return self._read(path, canonical)

    def keep_value(self, kind: str, value: object, **key: object) -> None:
        path, canonical = self._path(kind, key=key)
        self._write(path, canonical, value)
