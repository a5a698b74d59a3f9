"""Choosing the torch device: `auto` picks cuda, then mps, then cpu."""
from __future__ import annotations

import torch

from .i18n import tr

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def available_devices() -> list[str]:
    """Devices usable on this machine, best first."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        found.append("mps")
    return found + ["cpu"]


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' → the best available; an explicit device that is missing is a clear ValueError."""
    name = (name or "auto").lower()
    if name == "auto":
        return torch.device(available_devices()[0])
    base = name.split(":")[0]
    if base not in DEVICE_CHOICES:
        raise ValueError(tr("device must be one of {choices}; got {name}", choices=", ".join(DEVICE_CHOICES),
                            name=repr(name)))
    if base not in available_devices():
        raise ValueError(tr("device {name} is not available on this machine; available: {found} (or 'auto')",
                            name=repr(name), found=", ".join(available_devices())))
    return torch.device(name)
