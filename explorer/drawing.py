"""A digit drawn or uploaded by a student, prepared the way the dataset's own digits were made.

MNIST (LeCun et al.): the digit's bounding box is scaled, keeping its aspect ratio, to fit a 20×20 box
(anti-aliased, hence grey levels), then placed in a 28×28 image so that its centre of mass is at the
centre. scikit-learn's 8×8 digits (UCI optdigits): a 32×32 black-and-white bitmap of the digit, cut
into 4×4 blocks, each pixel the fraction of its block that is ink."""
from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image

from .i18n import tr

INK_FLOOR = 0.05      # below this a pixel is background (canvas antialiasing, scanner noise)
MAX_PIXELS = 16_000_000   # refused before decoding: a 741 KB PNG can say 13,000 × 13,000 (6 GB to decode);
                          # a 12-megapixel phone photo is inside
WORK_SIDE = 1024          # decoded larger, an image is reduced to this side first: the digit ends up 20×20


class EmptyDrawingError(ValueError):
    """Nothing was drawn (or the image is blank)."""


def ink_from_image(data: bytes) -> np.ndarray:
    """(H, W) ink in [0, 1] (1 = stroke) from an image file's bytes (PNG, JPEG, …): light strokes on
    a dark ground (as the canvas draws) or dark strokes on paper, whichever the image is."""
    try:
        with warnings.catch_warnings():               # Pillow's own bomb warning: the check below is stricter
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))      # reads the header only: the size is known, nothing decoded
        width, height = image.size
    except Image.DecompressionBombError:
        width = height = 0                            # past Pillow's own limit: larger than ours
    except Exception as exc:  # noqa: BLE001 — any unreadable file gets the same plain answer
        raise ValueError(tr("not an image this app can read ({error}); use a PNG or JPEG",
                            error=type(exc).__name__)) from None
    if not width or width * height > MAX_PIXELS:
        size = tr("{width:,} × {height:,} pixels", width=width, height=height) if width else \
            tr("over 178 megapixels")
        raise ValueError(tr("the picture is {size}, more than this app decodes ({most:.0f} megapixels); "
                            "crop it to the digit or scale it down", size=size, most=MAX_PIXELS / 1e6))
    try:
        image.draft("L", (WORK_SIDE, WORK_SIDE))    # a JPEG decodes straight to about this size (cheap)
        image.load()
        image.thumbnail((WORK_SIDE, WORK_SIDE))     # anything else is reduced once decoded
    except Exception as exc:  # noqa: BLE001 — a damaged file fails only here
        raise ValueError(tr("not an image this app can read ({error}); use a PNG or JPEG",
                            error=type(exc).__name__)) from None
    if image.mode in ("RGBA", "LA") or "transparency" in image.info:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255
        gray = rgba[..., :3].mean(axis=2) * rgba[..., 3]          # transparent = background
    else:
        gray = np.asarray(image.convert("L"), dtype=np.float32) / 255
    # Whichever tone covers most of the picture is the ground: strokes are the rest.
    return gray if np.median(gray) < 0.5 else 1.0 - gray


def prepare(ink: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """(H·W,) in [0, 1]: ink (h, w) prepared as the dataset's digits were (28×28 as MNIST, 8×8 as
    scikit-learn's digits). EmptyDrawingError when there is no ink."""
    ink = np.clip(np.asarray(ink, dtype=np.float32), 0.0, 1.0)
    rows, cols = np.nonzero(ink > INK_FLOOR)
    if len(rows) == 0:
        raise EmptyDrawingError(tr("the drawing is empty: draw a digit (or upload a picture of one) first"))
    crop = ink[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    if image_shape == (28, 28):
        return _as_mnist(crop).reshape(-1)
    if image_shape == (8, 8):
        return _as_optdigits(crop).reshape(-1)
    raise ValueError(tr("drawings are prepared for 28×28 or 8×8 images, not {height}×{width}",
                        height=image_shape[0], width=image_shape[1]))


def _fit(crop: np.ndarray, box: int) -> np.ndarray:
    """Scale crop, keeping its aspect ratio, so that its longer side is box pixels (anti-aliased)."""
    h, w = crop.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    image = Image.fromarray((crop * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(image, dtype=np.float32) / 255, 0.0, 1.0)


def _as_mnist(crop: np.ndarray) -> np.ndarray:
    """Into a 20×20 box, then into 28×28 with the centre of mass at the centre (14, 14)."""
    digit = _fit(crop, 20)
    h, w = digit.shape
    mass = digit.sum()
    com_r = (digit.sum(axis=1) @ np.arange(h)) / mass
    com_c = (digit.sum(axis=0) @ np.arange(w)) / mass
    top, left = int(round(14 - com_r)), int(round(14 - com_c))
    canvas = np.zeros((28 + 2 * 28, 28 + 2 * 28), dtype=np.float32)       # room for any shift
    canvas[28 + top: 28 + top + h, 28 + left: 28 + left + w] = digit
    return canvas[28:56, 28:56]


def _as_optdigits(crop: np.ndarray) -> np.ndarray:
    """A 32×32 bitmap (the digit fitted and centred), then the share of ink in each 4×4 block."""
    digit = _fit(crop, 32) > 0.5
    h, w = digit.shape
    bitmap = np.zeros((32, 32), dtype=np.float32)
    top, left = (32 - h) // 2, (32 - w) // 2
    bitmap[top: top + h, left: left + w] = digit
    return bitmap.reshape(8, 4, 8, 4).mean(axis=(1, 3))
