"""MNIST-format IDX files: checking one is whole before torchvision reads it, and writing them, for tests and
benchmarks that exercise torchvision's real loader."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .i18n import tr

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
VALUE_BYTES = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}    # IDX type code → bytes per value


class IdxError(ValueError):
    """An IDX file is not whole (truncated, padded, or not IDX at all); the message says how."""


def idx_shape(path: Path) -> tuple[int, ...]:
    """The array shape an IDX file's header declares, once its size is checked against it; IdxError saying
    what is wrong (the expected and the actual size) otherwise."""
    size = Path(path).stat().st_size
    if size == 0:
        raise IdxError(tr("empty (0 bytes)"))
    with open(path, "rb") as handle:
        magic = handle.read(4)
        if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in VALUE_BYTES:
            raise IdxError(tr("not an IDX file: it starts with {head}, not an IDX header (00 00 08 03 for images)",
                              head=repr(magic)))
        header = 4 + 4 * magic[3]
        raw = handle.read(header - 4)
    if len(raw) < header - 4:
        raise IdxError(tr("truncated: {size:,} bytes, shorter than its own {header}-byte header", size=size,
                          header=header))
    shape = tuple(int.from_bytes(raw[i:i + 4], "big") for i in range(0, len(raw), 4))
    expected = header + math.prod(shape) * VALUE_BYTES[magic[2]]
    if size != expected:
        how = tr("truncated") if size < expected else tr("damaged (longer than its header says)")
        raise IdxError(tr("{how}: its header declares {shape} values, {expected:,} bytes, but the file has {size:,}",
                          how=how, shape="×".join(map(str, shape)), expected=expected, size=size))
    return shape


def write_idx(path: Path, array: np.ndarray) -> None:
    """IDX: magic (0, 0, 0x08 = unsigned byte, ndim), big-endian int32 dims, then the raw bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    Path(path).write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def write_mnist_folder(raw_dir: Path, train_images: np.ndarray, train_labels: np.ndarray,
                       test_images: np.ndarray, test_labels: np.ndarray) -> Path:
    """The four files torchvision's MNIST / FashionMNIST read, in raw_dir (e.g. data/MNIST/raw)."""
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name, array in zip(IDX_FILES, (train_images, train_labels, test_images, test_labels), strict=True):
        write_idx(raw_dir / name, array)
    return raw_dir
