"""The variant registry: name → model class, as SAELens keeps one file per SAE architecture."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .variants.base import Autoencoder

VARIANTS: dict[str, type[Autoencoder]] = {}
V = TypeVar("V", bound="type[Autoencoder]")


def register(cls: V) -> V:
    """Class decorator: make a variant available by its `name` (unique across the package)."""
    known = VARIANTS.get(cls.name)
    if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
        raise ValueError(f"two variants are named {cls.name!r}: {known.__module__} and {cls.__module__}")
    VARIANTS[cls.name] = cls
    return cls


def get_variant(name: str) -> type[Autoencoder]:
    """The model class registered as name; ValueError listing the known names otherwise."""
    from . import variants  # noqa: F401  (importing the package registers every variant)

    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown variant {name!r}; choose one of {', '.join(variant_names())}") from None


def variant_names() -> list[str]:
    """Every registered variant, in menu order (each class's `order`, then its name)."""
    from . import variants  # noqa: F401

    return sorted(VARIANTS, key=lambda name: (VARIANTS[name].order, name))


def build_model(variant: str, params: dict[str, Any] | None = None, input_dim: int | None = None,
                seed: int | None = 0) -> Autoencoder:
    """A fresh model of `variant` from user parameters (validated); input_dim comes from the data.

    The initial weights depend only on `seed` (the global RNG is left untouched); None draws them
    from the global RNG."""
    import torch

    cls = get_variant(variant)
    values = dict(params or {})
    if input_dim is not None:
        values["input_dim"] = input_dim
    config = cls.config_class.from_dict(values)
    if seed is None:
        return cls(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(config)
