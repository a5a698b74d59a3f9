"""Push the code: one image's code with some units moved by hand, and what the decoder draws from it — the
decoder alone, so the picture follows a slider at once."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from .variants.base import Autoencoder, evaluating

SLIDERS = 8          # units offered for pushing: the image's most active ones
PLANE_STEPS = 24     # a 2-D code's plane, decoded on a grid of PLANE_STEPS × PLANE_STEPS points


@dataclass(frozen=True)
class UnitRange:
    """A code unit offered for pushing: its value in this image's code, and a slider's range — what the unit
    takes over the test images, widened to hold 0 (off) and its value here."""

    unit: int
    value: float
    low: float
    high: float


def units_to_push(codes: np.ndarray, code: np.ndarray, count: int = SLIDERS,
                  also: tuple[int, ...] = ()) -> list[UnitRange]:
    """The `count` units of code (K,) largest in size, most active first, then those in `also` (held units)
    not among them; ranges from codes (N, K), the test images' codes."""
    order = [int(u) for u in np.argsort(-np.abs(code), kind="stable")[:count]]
    order += [u for u in also if u not in order]
    ranges = []
    for unit in order:
        column = codes[:, unit]
        low = float(min(column.min(), 0.0, code[unit]))
        high = float(max(column.max(), 0.0, code[unit]))
        if high - low < 1e-6:                 # a unit that never moves (dead): give its slider room anyway
            high = low + 1.0
        ranges.append(UnitRange(unit, float(code[unit]), low, high))
    return ranges


def pushed_code(code: np.ndarray, values: Mapping[int, float], off: frozenset[int] = frozenset()) -> np.ndarray:
    """code (K,) with `values` put in and the units in `off` set to 0 (a unit switched off wins)."""
    pushed = np.array(code, dtype=np.float32, copy=True)
    for unit, value in values.items():
        pushed[unit] = value
    for unit in off:
        pushed[unit] = 0.0
    return pushed


def decode(model: Autoencoder, code: np.ndarray) -> np.ndarray:
    """What the decoder draws from code (K,): the image (D,), as the model reconstructs (eval mode)."""
    with evaluating(model), torch.no_grad():
        z = torch.as_tensor(code, dtype=torch.float32, device=next(model.parameters()).device)[None]   # (1, K)
        return model.decode(z)[0].cpu().numpy()


@dataclass(frozen=True)
class DecodedPlane:
    """A 2-D code's plane as the decoder draws it: grid points over the map's range and their images."""

    points: np.ndarray        # (G, 2) codes on the grid
    images: np.ndarray        # (G, D) the decoder's picture of each


def decoded_plane(model: Autoencoder, coords: np.ndarray, steps: int = PLANE_STEPS) -> DecodedPlane:
    """The plane of a 2-D code over the range of coords (N, 2) — the map's points, 5 % wider each way —
    decoded at steps × steps grid points."""
    low, high = coords.min(axis=0), coords.max(axis=0)
    margin = 0.05 * np.maximum(high - low, 1e-6)
    axes = [np.linspace(low[d] - margin[d], high[d] + margin[d], steps) for d in range(2)]
    points = np.stack(np.meshgrid(*axes, indexing="xy"), axis=-1).reshape(-1, 2).astype(np.float32)   # (G, 2)
    with evaluating(model), torch.no_grad():
        z = torch.as_tensor(points, device=next(model.parameters()).device)
        images = model.decode(z).cpu().numpy()
    return DecodedPlane(points, images)
