"""Stroke measures of digit images in Morpho-MNIST's sense (Castro et al. 2019): area, width, slant, thickness.

Each image is upscaled 4× (bicubic) and binarised halfway between its darkest and brightest pixel, as
Morpho-MNIST's `measure_image` does; the numbers are in the original image's pixels:
- area: stroke pixels (of the binarised image), divided by the scale²;
- thickness: twice the mean distance to the stroke's edge along its skeleton. Morpho-MNIST takes the
  skeleton from `medial_axis`; we take scikit-image's `skeletonize` (30× faster: 0.7 ms against 22 ms
  per digit), whose thickness on 300 MNIST test digits correlates 0.994 with it, 0.7 % lower on average;
- slant: arctan(−μ₁₁ / μ₀₂) of the upscaled image's central moments, in radians (positive leans right, '/');
- width: the width of the bounding parallelogram at that slant that leaves out 1 % of the mass on
  either side (Morpho-MNIST's `bounding_parallelogram` with bound_frac 0.02).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .i18n import N_, tr

STROKE_FACTORS = ("area", "width", "slant", "thickness")
STROKE_LABELS = {"area": N_("area"), "width": N_("width"), "slant": N_("slant"), "thickness": N_("thickness")}


def stroke_label(name: str) -> str:
    """A stroke factor's name (one of STROKE_FACTORS) as a page shows it, in the reader's language."""
    return tr(STROKE_LABELS.get(name, name))
SCALE = 4                 # upscaling for sub-pixel measures (Morpho-MNIST's default)
THRESHOLD = 0.5           # binarise halfway between the image's min and max
BOUND_FRAC = 0.02         # mass left out of the bounding parallelogram, half on each side


@dataclass(frozen=True)
class Strokes:
    """One measure per factor for each image: (N,) arrays in STROKE_FACTORS order."""

    area: np.ndarray
    width: np.ndarray
    slant: np.ndarray
    thickness: np.ndarray

    def as_columns(self) -> np.ndarray:
        """(N, 4) in STROKE_FACTORS order."""
        return np.stack([getattr(self, name) for name in STROKE_FACTORS], axis=1)


def _sheared_width(img: np.ndarray, shear: float, y_mid: float) -> float:
    """Width of the parallelogram of this shear that holds all but BOUND_FRAC of img's mass (upscaled px).

    The same quantity as Morpho-MNIST's `_horz_cdf` + `np.interp` (mass left of x = t + shear·(y − y_mid),
    on integer t), with the cumulative mass from one sort instead of a pass per column."""
    h, w = img.shape
    y, x = np.mgrid[0:h, 0:w]
    position = (x + 0.5 - shear * (y - y_mid)).ravel()        # where each pixel falls after de-shearing
    mass = img.ravel()
    order = np.argsort(position, kind="stable")
    cumulative = np.concatenate([[0.0], np.cumsum(mass[order])]) / mass.sum()
    locs = np.arange(w, dtype=float)
    cdf = cumulative[np.searchsorted(position[order], locs, side="left")]   # mass strictly left of each t
    left, right = np.interp([BOUND_FRAC / 2, 1 - BOUND_FRAC / 2], cdf, locs)
    return float(right - left)


def measure(image: np.ndarray) -> tuple[float, float, float, float]:
    """(area, width, slant, thickness) of one (H, W) image in [0, 1]; NaN for an empty image."""
    from scipy import ndimage
    from skimage import morphology, transform

    image = np.asarray(image, dtype=float)
    if not np.any(image > 0):
        return (float("nan"),) * 4
    hires = np.clip(transform.pyramid_expand(image, upscale=SCALE, order=3, channel_axis=None), 0, None)
    low, high = hires.min(), hires.max()
    binary = hires >= low + (high - low) * THRESHOLD
    skeleton = morphology.skeletonize(binary)
    distance = ndimage.distance_transform_edt(binary)        # to the nearest background pixel
    area = binary.sum() / SCALE**2
    thickness = 2.0 * float(distance[skeleton].mean()) / SCALE if skeleton.any() else 0.0

    h, w = hires.shape
    y, x = np.mgrid[0:h, 0:w]
    m00 = hires.sum()
    mx, my = (x * hires).sum() / m00, (y * hires).sum() / m00
    u11 = (x * y * hires).sum() / m00 - mx * my
    u02 = (y**2 * hires).sum() / m00 - my**2
    shear = u11 / u02 if u02 > 0 else 0.0
    slant = float(np.arctan(-shear))
    width = _sheared_width(hires, shear, my) / SCALE
    return float(area), width, slant, thickness


def measure_images(images: np.ndarray, image_shape: tuple[int, int]) -> Strokes:
    """Stroke measures of flat images (N, H·W) in [0, 1] (about 3 ms per 28×28 image on one core)."""
    rows = np.array([measure(img.reshape(image_shape)) for img in np.asarray(images)], dtype=float).reshape(-1, 4)
    return Strokes(*(rows[:, i] for i in range(4)))
