"""Tests for the dithering kernels in kmeans_quant.dither.

Hand-computed toy cases, equality of the wavefront Floyd-Steinberg kernel
with the per-pixel reference loop, invariants (labels in range, flat palette
colours unchanged, grey levels rendered in the right proportion), and the
quality claim on the bundled photo.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

import kmeans_quant
from kmeans_quant import extract_palette, recolor
from kmeans_quant.dither import (
    _bayer_matrix,
    _block_mean_error,
    _floyd_steinberg,
    _floyd_steinberg_reference,
    _hull_distance_sq,
    _ordered,
)

BLACK_WHITE_GREY = np.array([[0.0], [255.0]])
BLACK_WHITE_RGB = np.array([[0.0, 0.0, 0.0], [255.0, 255.0, 255.0]])
CHELSEA = Path(kmeans_quant.__file__).parent / "data" / "chelsea.png"


# --------------------------------------------------------------------------
# Floyd-Steinberg: hand-computed cases
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kernel", [_floyd_steinberg, _floyd_steinberg_reference])
def test_fs_ramp_by_hand(kernel):
    # 128 -> white (error -127); 64 - 127*7/16 = 8.44 -> black (error 8.44);
    # 200 + 8.44*7/16 = 203.7 -> white.
    ramp = np.array([[[128.0], [64.0], [200.0]]])
    np.testing.assert_array_equal(kernel(ramp, BLACK_WHITE_GREY), [[1, 0, 1]])


@pytest.mark.parametrize("kernel", [_floyd_steinberg, _floyd_steinberg_reference])
def test_fs_two_by_two_uses_all_four_weights(kernel):
    # Flat grey 100 onto black/white, by hand:
    # (0,0): 100 -> black, e=100: (0,1) += 43.75, (1,0) += 31.25, (1,1) += 6.25
    # (0,1): 143.75 -> white, e=-111.25: (1,0) += -20.86, (1,1) += -34.77
    # (1,0): 100 + 31.25 - 20.86 = 110.39 -> black, e=110.39: (1,1) += 48.30
    # (1,1): 100 + 6.25 - 34.77 + 48.30 = 119.78 -> black.
    img = np.full((2, 2, 1), 100.0)
    np.testing.assert_array_equal(kernel(img, BLACK_WHITE_GREY), [[0, 1], [0, 0]])


def test_fs_accepts_2d_grey_and_single_colour_palette():
    img = np.array([[10.0, 250.0], [130.0, 20.0]])
    np.testing.assert_array_equal(
        _floyd_steinberg(img, BLACK_WHITE_GREY), _floyd_steinberg(img[..., None], BLACK_WHITE_GREY)
    )
    np.testing.assert_array_equal(_floyd_steinberg(img, np.array([[7.0]])), np.zeros((2, 2)))


# --------------------------------------------------------------------------
# Floyd-Steinberg: wavefront kernel == reference loop
# --------------------------------------------------------------------------

SHAPES = [(1, 1), (1, 7), (7, 1), (2, 2), (3, 2), (2, 5), (6, 3), (5, 9), (11, 4), (9, 17)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("c", [1, 3])
@pytest.mark.parametrize("shape", SHAPES)
def test_fs_equals_reference(shape, c, dtype):
    rng = np.random.default_rng(hash((shape, c)) % 2**32)
    img = rng.uniform(0, 255, shape + (c,)).astype(dtype)
    pal = rng.uniform(0, 255, (int(rng.integers(2, 17)), c)).astype(dtype)
    fast = _floyd_steinberg(img, pal)
    np.testing.assert_array_equal(fast, _floyd_steinberg_reference(img, pal))
    # Identity holds even where the exact tie-breaking matters: integer
    # levels with duplicated and equidistant palette entries.
    img = (rng.integers(0, 4, shape + (c,)) * 85).astype(dtype)
    pal = np.repeat(np.array([[170.0], [85.0], [0.0], [255.0], [85.0]], dtype=dtype), c, axis=1)
    np.testing.assert_array_equal(_floyd_steinberg(img, pal), _floyd_steinberg_reference(img, pal))


@pytest.mark.parametrize("limit", [0.0, 3.0, 25.0])
def test_fs_with_error_limit_equals_reference(limit):
    rng = np.random.default_rng(5)
    img = rng.uniform(0, 255, (8, 13, 3)).astype(np.float32)
    pal = rng.uniform(60, 200, (6, 3)).astype(np.float32)  # much of img is out of gamut
    np.testing.assert_array_equal(
        _floyd_steinberg(img, pal, error_limit=limit),
        _floyd_steinberg_reference(img, pal, error_limit=limit),
    )


def test_fs_error_limit_extremes():
    rng = np.random.default_rng(6)
    img = rng.uniform(0, 255, (20, 30, 3)).astype(np.float32)
    pal = rng.uniform(0, 255, (8, 3)).astype(np.float32)
    # A limit no error reaches changes nothing ...
    np.testing.assert_array_equal(
        _floyd_steinberg(img, pal, error_limit=1e6), _floyd_steinberg(img, pal)
    )
    # ... and a zero limit diffuses nothing: plain nearest-colour mapping.
    d2 = ((img[:, :, None, :] - pal) ** 2).sum(axis=-1)
    np.testing.assert_array_equal(_floyd_steinberg(img, pal, error_limit=0.0), d2.argmin(axis=-1))
    assert not np.array_equal(_floyd_steinberg(img, pal), d2.argmin(axis=-1))


# --------------------------------------------------------------------------
# Invariants shared by both kernels
# --------------------------------------------------------------------------

def fs(img, pal):
    return _floyd_steinberg(img, pal)


def ordered(img, pal):
    return _ordered(img, pal)


KERNELS = [fs, ordered]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("seed", range(4))
def test_labels_in_range_and_shape(kernel, seed):
    rng = np.random.default_rng(seed)
    h, w, m = (int(v) for v in rng.integers(1, 40, 3))
    img = rng.uniform(0, 255, (h, w, 3)).astype(np.float32)
    pal = rng.uniform(0, 255, (m, 3)).astype(np.float32)
    labels = kernel(img, pal)
    assert labels.shape == (h, w) and labels.dtype == np.intp
    assert labels.min() >= 0 and labels.max() < m


@pytest.mark.parametrize("kernel", KERNELS)
def test_flat_palette_colour_stays_unchanged(kernel):
    # Evenly spaced greys: the ordered offsets (under half a step) never
    # cross to a neighbour, and Floyd-Steinberg has no error to spread.
    pal = np.repeat(np.array([[0.0], [85.0], [170.0], [255.0]]), 3, axis=1)
    for j, colour in enumerate(pal):
        img = np.broadcast_to(colour, (13, 21, 3))
        np.testing.assert_array_equal(kernel(img, pal), np.full((13, 21), j))


@pytest.mark.parametrize("kernel", KERNELS)
def test_deterministic_and_layout_independent(kernel):
    rng = np.random.default_rng(3)
    big = rng.uniform(0, 255, (30, 50, 3)).astype(np.float32)
    pal = rng.uniform(0, 255, (7, 3)).astype(np.float32)
    view = big[::2, 1::2]  # not contiguous
    first = kernel(view, pal)
    np.testing.assert_array_equal(kernel(view, pal), first)
    np.testing.assert_array_equal(kernel(np.ascontiguousarray(view), pal), first)


@pytest.mark.parametrize("level", [10, 64, 100, 128, 200, 245])
def test_fs_renders_grey_level_in_proportion(level):
    img = np.full((64, 64, 1), float(level))
    white = _floyd_steinberg(img, BLACK_WHITE_GREY).mean()
    assert abs(white - level / 255) < 0.01


# --------------------------------------------------------------------------
# Ordered dithering
# --------------------------------------------------------------------------

@pytest.mark.parametrize("size", [1, 2, 4, 8, 16])
def test_bayer_matrix_holds_every_level_once(size):
    b = _bayer_matrix(size)
    assert b.shape == (size, size)
    np.testing.assert_array_equal(np.sort(b.ravel()), np.arange(size * size))


@pytest.mark.parametrize("pal", [BLACK_WHITE_GREY, BLACK_WHITE_RGB])
def test_ordered_mid_grey_is_half_white(pal):
    c = pal.shape[1]
    img = np.full((16, 24, c), 128.0)
    labels = _ordered(img, pal)
    assert labels.mean() == pytest.approx(0.5, abs=1 / 64)
    # Every 8x8 tile gets the same count, so the mix holds locally too.
    tiles = labels.reshape(2, 8, 3, 8).sum(axis=(1, 3))
    assert (tiles == tiles[0, 0]).all()


@pytest.mark.parametrize("size", [2, 4, 8])
def test_ordered_grey_ramp_in_proportion(size):
    levels = np.arange(0, 256, 15, dtype=np.float64)
    img = np.broadcast_to(levels[:, None, None], (levels.size, 64, 1))
    img = np.repeat(img, 16, axis=0)  # 16 rows per level: whole tiles
    white = _ordered(img, BLACK_WHITE_GREY, size=size).reshape(levels.size, -1).mean(axis=1)
    assert np.all(np.abs(white - levels / 255) <= 0.5 / size**2 + 1e-12)
    assert np.all(np.diff(white) >= 0)


def test_ordered_single_colour_palette():
    img = np.random.default_rng(0).uniform(0, 255, (5, 6, 3))
    np.testing.assert_array_equal(_ordered(img, np.array([[1.0, 2.0, 3.0]])), np.zeros((5, 6)))


# --------------------------------------------------------------------------
# Measures: block-mean error and distance to the palette's hull
# --------------------------------------------------------------------------

def test_block_mean_error_by_hand():
    a = np.zeros((9, 17, 3))  # partial tiles (last row, last column) are left out
    b = a.copy()
    b[:8, :8] = [3.0, 0.0, 4.0]  # first tile off by (3, 0, 4): 25; second tile exact
    b[8, :] = 100.0
    b[:, 16] = 100.0
    assert _block_mean_error(a, b) == pytest.approx(25.0 / 2)
    assert _block_mean_error(a, a) == 0.0
    assert _block_mean_error(a[..., 0], b[..., 2], block=4) == pytest.approx(16.0 * 4 / 8)


def test_hull_distance():
    tri = np.array([[0.0, 0.0, 0.0], [200.0, 0.0, 0.0], [0.0, 200.0, 0.0]])
    inside = np.array([[50.0, 50.0, 0.0], [0.0, 0.0, 0.0], [100.0, 100.0, 0.0]])
    outside = np.array([[50.0, 50.0, 30.0], [-10.0, 0.0, 0.0], [150.0, 150.0, 0.0]])
    np.testing.assert_allclose(_hull_distance_sq(inside, tri), 0.0, atol=1e-6)
    # Above the plane by 30; beyond the vertex by 10; beyond the edge x + y = 200
    # by 100 / sqrt(2) in the plane.
    np.testing.assert_allclose(_hull_distance_sq(outside, tri), [900.0, 100.0, 5000.0], rtol=1e-6)


# --------------------------------------------------------------------------
# Quality on a real photo
# --------------------------------------------------------------------------

def block_means(img: np.ndarray, block: int = 8) -> np.ndarray:
    a = np.asarray(img, dtype=np.float64)
    hb, wb = a.shape[0] // block, a.shape[1] // block
    tiles = a[: hb * block, : wb * block].reshape(hb, block, wb, block, -1)
    return tiles.mean(axis=(1, 3)).reshape(hb * wb, -1)


@pytest.fixture(scope="module")
def chelsea() -> np.ndarray:
    return iio.imread(CHELSEA)


@pytest.mark.parametrize("k", [8, 16])
def test_dithering_lowers_local_mean_colour_error_on_chelsea(chelsea, k):
    """Dithering brings 8x8 block means closer to the photo's than recolor.

    Only blocks whose mean colour the palette can mix (inside its convex
    hull) are counted: a K-Means palette sits inside the cloud of image
    colours, so 50-70% of chelsea's blocks lie outside the hull, where no
    dither can help and the whole-image figure says little (see the
    module docstring of kmeans_quant.dither for both figures).
    """
    pal = extract_palette(chelsea, k)
    colors = pal.colors
    ref = block_means(chelsea)
    inside = _hull_distance_sq(ref, colors) <= 1.0
    assert inside.sum() >= 0.1 * inside.size  # enough blocks to measure on

    def error(out):
        return ((block_means(out) - ref)[inside] ** 2).sum(axis=1).mean()

    plain = error(recolor(chelsea, pal))
    pixels = chelsea.astype(np.float32)
    assert error(colors[_floyd_steinberg(pixels, colors)]) <= 0.8 * plain
    # Ordered dithering only mixes along the grey axis, so it helps less.
    assert error(colors[_ordered(pixels, colors)]) <= 0.9 * plain
    # And the helper agrees with this file's block means on the whole image.
    assert _block_mean_error(chelsea, recolor(chelsea, pal)) == pytest.approx(
        ((block_means(recolor(chelsea, pal)) - ref) ** 2).sum(axis=1).mean()
    )
