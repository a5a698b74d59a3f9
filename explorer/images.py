"""Turning flat image tensors into crisp grids (numpy / PNG bytes) for pages, downloads and reports."""
from __future__ import annotations

import io

import numpy as np
import torch


def to_images(x: torch.Tensor | np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """(N, H·W) values → (N, H, W) float in [0, 1] (clipped: noisy inputs can leave the range)."""
    array = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    return np.clip(array.reshape(len(array), *image_shape), 0.0, 1.0)


def grid(images: np.ndarray, ncols: int, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """(N, H, W) → one (rows·(H+pad)−pad, cols·(W+pad)−pad) image, row-major, padded with pad_value."""
    n, h, w = images.shape
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), pad_value, dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, ncols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = image
    return out


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling: every pixel becomes a factor×factor block (no blur)."""
    return np.kron(image, np.ones((factor, factor), dtype=image.dtype))


def to_png(image: np.ndarray, scale: int = 1) -> bytes:
    """A [0, 1] grayscale image as PNG bytes, optionally upscaled crisply."""
    from PIL import Image

    pixels = (np.clip(upscale(image, scale) if scale > 1 else image, 0, 1) * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def sprite(images: np.ndarray, image_shape: tuple[int, int]) -> tuple[bytes, int]:
    """Every image in one PNG, row-major without padding (image i at row i // cols, column i % cols), and
    cols: a sheet from which a page picks one image out by position, as the Embedding Projector does."""
    cols = max(1, int(np.ceil(np.sqrt(len(images)))))
    return to_png(grid(to_images(images, image_shape), ncols=cols, pad=0, pad_value=0.0)), cols
