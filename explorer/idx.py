"""Writing MNIST-format IDX files, for tests and benchmarks that exercise torchvision's real loader."""
from __future__ import annotations

from pathlib import Path

import numpy as np

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


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
