"""The variant registry: name → model class, as SAELens keeps one file per SAE architecture."""
from __future__ import annotations

from typing import Any

VARIANTS: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make a variant available by its `name`."""
    VARIANTS[cls.name] = cls
    return cls


def get_variant(name: str) -> type:
    """The model class registered as name; ValueError listing the known names otherwise."""
    from . import variants  # noqa: F401  (importing the package registers every variant)

    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown variant {name!r}; choose one of {', '.join(VARIANTS)}") from None


def variant_names() -> list[str]:
    from . import variants  # noqa: F401

    return list(VARIANTS)


def build_model(variant: str, params: dict[str, Any] | None = None, input_dim: int | None = None,
                seed: int | None = 0):
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
