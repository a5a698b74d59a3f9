"""Dataset loading: the offline splits, torchvision's real loader on IDX files, and offline errors."""
from __future__ import annotations

import pytest
import torch

from explorer import DATASETS, DatasetUnavailableError, load_dataset
from explorer.datasets import is_available


def test_registry_names():
    assert list(DATASETS) == ["mnist-5k", "digits", "mnist", "fashion-mnist"]


def test_mnist5k_split_is_fixed_stratified_and_in_unit_range(mnist5k):
    assert mnist5k.train_x.shape == (4000, 784) and mnist5k.test_x.shape == (1000, 784)
    assert mnist5k.train_x.dtype == torch.float32 and mnist5k.train_y.dtype == torch.int64
    assert float(mnist5k.train_x.min()) == 0.0 and float(mnist5k.train_x.max()) == 1.0
    assert mnist5k.test_y.bincount().tolist() == [100] * 10      # stratified: 10 % of each class
    assert mnist5k.image_shape == (28, 28) and mnist5k.class_names == tuple("0123456789")
    from explorer.datasets import _load_cpu

    _load_cpu.cache_clear()
    fresh = load_dataset("mnist-5k")
    assert torch.equal(fresh.test_x, mnist5k.test_x) and torch.equal(fresh.train_y, mnist5k.train_y)


def test_digits_split(digits):
    assert digits.train_x.shape == (1437, 64) and digits.test_x.shape == (360, 64)
    assert digits.image_shape == (8, 8) and float(digits.train_x.max()) == 1.0
    counts = digits.test_y.bincount()
    assert counts.min() >= 35 and counts.max() <= 37


@pytest.mark.parametrize("name, classes", [("mnist", "0 - zero"), ("fashion-mnist", "T-shirt/top")])
def test_torchvision_loader_reads_idx_files(idx_data_dir, name, classes):
    data = load_dataset(name, data_dir=idx_data_dir, download=False)
    assert data.train_x.shape == (60, 784) and data.test_x.shape == (20, 784)
    assert data.class_names[0] == classes and len(data.class_names) == 10
    # image i is filled with 10·label / 255, with a 255 corner pixel
    assert data.train_x[3, 5].item() == pytest.approx(30 / 255)
    assert data.train_x[:, 0].eq(1.0).all() and data.train_y[:10].tolist() == list(range(10))
    assert is_available(name, idx_data_dir)


def test_missing_download_dataset_offline_names_folder_files_and_alternatives(tmp_path):
    assert not is_available("mnist", tmp_path)
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("fashion-mnist", data_dir=tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path / "FashionMNIST" / "raw") in message
    assert "train-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    assert "Datasets that work offline: mnist-5k, digits" in message


def test_unreadable_idx_files_get_a_specific_message(idx_data_dir):
    (idx_data_dir / "MNIST" / "raw" / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03garbage")
    with pytest.raises(DatasetUnavailableError, match="could not be read"):
        load_dataset("mnist", data_dir=idx_data_dir, download=False)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'; choose one of mnist-5k, digits"):
        load_dataset("cifar")


def test_to_device_keeps_values(digits):
    moved = digits.to("cpu")
    assert moved.input_dim == 64 and torch.equal(moved.test_x, digits.test_x)
