"""A drawn digit prepared as the dataset's digits were, and placed on a map of codes."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from explorer.drawing import EmptyDrawingError, ink_from_image, prepare
from explorer.latent import place, project


def stroke(h: int = 280, w: int = 280) -> np.ndarray:
    """A thick vertical bar off to the upper left, the way a '1' drawn in a corner looks."""
    ink = np.zeros((h, w), dtype=np.float32)
    ink[20:200, 40:60] = 1.0
    return ink


def test_mnist_preparation_fits_the_box_and_centres_the_mass():
    image = prepare(stroke(), (28, 28)).reshape(28, 28)
    rows, cols = np.nonzero(image > 0.05)
    assert rows.max() - rows.min() + 1 == 20                     # the long side scaled to 20 pixels
    assert cols.max() - cols.min() + 1 <= 4                      # aspect kept: 180×20 → 20×2(ish)
    mass = image.sum()
    com = ((image.sum(1) @ np.arange(28)) / mass, (image.sum(0) @ np.arange(28)) / mass)
    assert com == pytest.approx((14, 14), abs=0.6)               # centred by mass, wherever it was drawn
    assert 0.0 <= image.min() and image.max() <= 1.0


def test_the_same_digit_anywhere_on_the_canvas_gives_the_same_image():
    moved = np.roll(np.roll(stroke(), 60, axis=0), 150, axis=1)
    assert np.allclose(prepare(stroke(), (28, 28)), prepare(moved, (28, 28)), atol=1e-6)


def test_optdigits_preparation_counts_ink_in_4x4_blocks():
    image = prepare(stroke(), (8, 8)).reshape(8, 8)
    assert image.shape == (8, 8) and set(np.round(image * 16).astype(int).ravel()) <= set(range(17))
    assert (image.sum(axis=0) > 0).sum() <= 2 and (image.sum(axis=1) > 0).sum() == 8   # tall and thin


def test_an_empty_drawing_and_an_unknown_size_are_refused():
    with pytest.raises(EmptyDrawingError, match="the drawing is empty"):
        prepare(np.zeros((280, 280)), (28, 28))
    with pytest.raises(EmptyDrawingError):
        prepare(np.full((50, 50), 0.01), (28, 28))               # only faint noise
    with pytest.raises(ValueError, match="not 32×32"):
        prepare(stroke(), (32, 32))


@pytest.mark.parametrize("ground, ink_colour", [(0, 255), (255, 0)])
def test_uploads_dark_or_light_ground_become_ink(ground, ink_colour):
    picture = np.full((100, 100), ground, dtype=np.uint8)
    picture[10:90, 45:55] = ink_colour
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    ink = ink_from_image(buffer.getvalue())
    assert ink[50, 50] == pytest.approx(1.0) and ink[5, 5] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="not an image this app can read"):
        ink_from_image(b"not a picture")


def test_a_new_code_lands_where_it_belongs_on_each_kind_of_map():
    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.normal(0, 0.1, (50, 5)), rng.normal(3, 0.1, (50, 5))])
    pca = project(codes, "pca")
    placed, how = place(pca, codes, codes[:3])
    assert np.allclose(placed, pca.coords[:3]) and "PCA" in how          # exact: same as the map's own points
    tsne = project(codes, "tsne", perplexity=10, iterations=250)
    near_second = codes[60] + 0.01
    placed, how = place(tsne, codes, near_second)
    second_cluster = tsne.coords[50:]
    assert np.linalg.norm(placed[0] - second_cluster.mean(0)) < np.linalg.norm(placed[0] - tsne.coords[:50].mean(0))
    assert "nearest codes" in how and "openTSNE" in how
    raw = project(codes[:, :2], "raw")
    assert np.allclose(place(raw, codes[:, :2], np.array([1.0, 2.0]))[0], [[1.0, 2.0]])


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width × height (its IHDR) with almost no pixel data: what a decompression bomb
    looks like before decoding."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_a_picture_of_too_many_pixels_is_refused_before_it_is_decoded(monkeypatch):
    from PIL import ImageFile

    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self.size))
    with pytest.raises(ValueError, match=r"13,000 × 13,000 pixels, more than this app decodes \(16 megapixels\)"):
        ink_from_image(_png_header_only(13_000, 13_000))
    assert decoded == []                                  # refused from the header: nothing was decoded


def test_a_large_photo_is_reduced_before_its_ink_is_measured():
    photo = Image.new("L", (4000, 3000), 255)
    photo.paste(0, (1800, 1000, 2200, 2000))              # a dark bar on paper
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG")
    ink = ink_from_image(buffer.getvalue())
    assert max(ink.shape) <= 1024 and ink.max() > 0.9 and ink.mean() < 0.2
    assert prepare(ink, (28, 28)).shape == (784,)


def test_a_picture_past_pillows_own_bomb_limit_gets_the_same_message():
    with pytest.raises(ValueError, match="more than this app decodes"):
        ink_from_image(_png_header_only(20_000, 20_000))
