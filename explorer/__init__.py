"""Autoencoder Explorer: train, load and inspect autoencoder variants (pure Python + torch)."""
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .datasets import DATASETS, Dataset, DatasetUnavailableError, load_dataset
from .device import resolve_device
from .metrics import evaluate
from .registry import build_model, get_variant, variant_names
from .training import NonFiniteLossError, TrainSettings, train

__all__ = ["CheckpointError", "DATASETS", "Dataset", "DatasetUnavailableError", "NonFiniteLossError",
           "TrainSettings", "build_model", "evaluate", "get_variant", "load_checkpoint",
           "load_dataset", "resolve_device", "save_checkpoint", "train", "variant_names"]
