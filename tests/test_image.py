"""The image API: quantize, extract_palette, recolor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import QUADRANT_COLORS, make_quadrants

import kmeans_quant
from kmeans_quant import Palette, extract_palette, quantize, recolor

SAMPLE = Path(kmeans_quant.__file__).parent / "data" / "chelsea.png"


def n_colors(img: np.ndarray) -> int:
    c = img.shape[2] if img.ndim == 3 else 1
    return len(np.unique(img.reshape(-1, c)[:, : min(c, 3)], axis=0))


def rgb_variants(img8: np.ndarray) -> dict[str, np.ndarray]:
    """The same picture as every supported input kind."""
    alpha = np.linspace(0, 255, img8.shape[0] * img8.shape[1]).reshape(img8.shape[:2])
    return {
        "uint8": img8,
        "rgba": np.dstack([img8, alpha.astype(np.uint8)]),
        "gray": img8[..., 0].copy(),
        "float32": img8.astype(np.float32) / 255,
        "float64": img8 / 255.0,
        "uint16": img8.astype(np.uint16) * 257 + 3,
    }


def test_four_quadrants_give_four_colours(quadrants):
    out = quantize(quadrants, 4)
    assert n_colors(out) == 4
    pal = extract_palette(quadrants, 4)
    # Each palette colour is one quadrant's colour, up to the noise.
    got = pal.colors[np.lexsort(pal.colors.T[::-1])].astype(float)
    want = QUADRANT_COLORS[np.lexsort(QUADRANT_COLORS.T[::-1])]
    np.testing.assert_allclose(got, want, atol=4)
    np.testing.assert_array_equal(pal.counts, [320, 320, 320, 320])
    # Every pixel of a quadrant maps to the same colour.
    assert n_colors(out[:16, :20]) == 1


@pytest.mark.parametrize("kind", ["uint8", "rgba", "gray", "float32", "float64", "uint16"])
def test_shape_dtype_and_at_most_k_colours(kind):
    img = rgb_variants(make_quadrants(20, 24, noise=30, seed=2))[kind]
    for k in (1, 3, 8):
        out = quantize(img, k)
        assert out.shape == img.shape and out.dtype == img.dtype
        assert n_colors(out) <= k
    if kind == "rgba":
        np.testing.assert_array_equal(out[..., 3], img[..., 3])
    if kind.startswith("float"):
        assert 0 <= out.min() and out.max() <= 1


@pytest.mark.parametrize("kind", ["uint8", "rgba", "gray", "float32", "float64", "uint16"])
def test_recolor_of_extracted_palette_reproduces_quantize(kind):
    img = rgb_variants(make_quadrants(20, 24, noise=40, seed=5))[kind]
    for k in (2, 5, 16):
        pal = extract_palette(img, k, rng=3)
        np.testing.assert_array_equal(recolor(img, pal), quantize(img, k, rng=3))
        # The bare array and any order of its rows give the same mapping.
        np.testing.assert_array_equal(recolor(img, pal.colors[::-1]), quantize(img, k, rng=3))


@pytest.mark.parametrize("kind", ["uint8", "gray", "float64", "uint16"])
def test_output_colours_are_palette_colours(kind):
    img = rgb_variants(make_quadrants(20, 24, noise=40, seed=6))[kind]
    pal = extract_palette(img, 6)
    out = quantize(img, 6)
    c = pal.colors.shape[1]
    used = np.unique(out.reshape(-1, out.shape[2] if out.ndim == 3 else 1)[:, :c], axis=0)
    palette_rows = {tuple(r) for r in pal.colors}
    assert {tuple(r) for r in used} == palette_rows


def test_palette_counts_and_order(noisy_rgb):
    pal = extract_palette(noisy_rgb, 7)
    assert isinstance(pal, Palette) and len(pal) <= 7
    assert pal.colors.dtype == np.uint8 and pal.colors.shape[1] == 3
    assert pal.counts.sum() == noisy_rgb.shape[0] * noisy_rgb.shape[1]
    assert (np.diff(pal.counts) <= 0).all()
    assert pal.proportions.sum() == pytest.approx(1.0)
    # The counts are the pixels that really map to each colour.
    out = quantize(noisy_rgb, 7).reshape(-1, 3)
    for color, count in zip(pal.colors, pal.counts):
        assert (out == color).all(axis=1).sum() == count


def test_few_colours_come_back_unchanged():
    img = np.zeros((6, 6, 3), dtype=np.uint8)
    img[:3] = [10, 20, 30]
    img[3:, :2] = [200, 0, 0]
    for k in (3, 10):
        out = quantize(img, k)
        np.testing.assert_array_equal(out, img)
        assert out is not img
    pal = extract_palette(img, 3)
    assert len(pal) == 3 and pal.counts.tolist() == [18, 12, 6]


def test_single_colour_k1():
    img = np.full((5, 7, 3), 77, dtype=np.uint8)
    np.testing.assert_array_equal(quantize(img, 1), img)


def test_k1_gives_the_mean_colour(quadrants):
    out = quantize(quadrants, 1)
    mean = np.rint(quadrants.reshape(-1, 3).mean(axis=0))
    np.testing.assert_array_equal(out[0, 0], mean)


def test_deterministic_by_default(noisy_rgb):
    np.testing.assert_array_equal(quantize(noisy_rgb, 9), quantize(noisy_rgb, 9))
    gen_a, gen_b = np.random.default_rng(42), np.random.default_rng(42)
    np.testing.assert_array_equal(
        quantize(noisy_rgb, 9, rng=gen_a), quantize(noisy_rgb, 9, rng=gen_b)
    )


def test_input_is_not_modified(noisy_rgb):
    copy = noisy_rgb.copy()
    quantize(noisy_rgb, 4)
    recolor(noisy_rgb, [[0, 0, 0]])
    np.testing.assert_array_equal(noisy_rgb, copy)


def test_non_contiguous_input(noisy_rgb):
    view = noisy_rgb[::2, ::-1]
    np.testing.assert_array_equal(quantize(view, 5), quantize(view.copy(), 5))


def test_recolor_nearest_and_grayscale_palette():
    gray = np.array([[0, 60, 130, 255]], dtype=np.uint8)
    np.testing.assert_array_equal(recolor(gray, [0, 128, 255]), [[0, 0, 128, 255]])
    np.testing.assert_array_equal(recolor(gray, [[0], [128], [255]]), [[0, 0, 128, 255]])


def test_recolor_ties_break_by_smallest_colour_whatever_the_order():
    img = np.array([[[10, 10, 10]]], dtype=np.uint8)
    for pal in ([[0, 10, 10], [20, 10, 10]], [[20, 10, 10], [0, 10, 10]]):
        np.testing.assert_array_equal(recolor(img, pal)[0, 0], [0, 10, 10])


def test_recolor_float_palette_for_float_image():
    img = np.array([[[0.1, 0.2, 0.3], [0.9, 0.8, 0.7]]], dtype=np.float32)
    out = recolor(img, [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[[0, 0, 0], [1, 1, 1]]])


@pytest.mark.slow
def test_quantize_uses_many_pixels_large_image():
    # Large enough for the lookup-table expansion, threaded assignment and the
    # coarse-to-fine fit.
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(1500, 1500, 3), dtype=np.uint8)
    out = quantize(img, 8)
    assert n_colors(out) == 8
    pal = extract_palette(img, 8)
    assert pal.counts.sum() == img.shape[0] * img.shape[1]
    np.testing.assert_array_equal(recolor(img, pal), out)


def test_sample_photo_mse_falls_with_k():
    import imageio.v3 as iio

    img = iio.imread(SAMPLE)
    mses = [((quantize(img, k).astype(float) - img) ** 2).mean() for k in (2, 8, 32)]
    assert mses[0] > mses[1] > mses[2] > 0


def _screen_cases() -> list[tuple[str, int, int]]:
    return [(kind, k, c) for kind in ("spread", "ties") for k in (1, 2, 7, 32) for c in (1, 3)]


@pytest.mark.parametrize(("kind", "k", "channels"), _screen_cases())
def test_16bit_cell_screen_gives_the_labels_of_the_full_search(kind, k, channels):
    from kmeans_quant._fit.pipeline import _screened_nearest
    from kmeans_quant.engine._steps import label_points

    rng = np.random.default_rng(k * 10 + channels)
    if kind == "spread":
        palette = rng.integers(0, 2**16, (k, channels))
    else:
        # Entries in pairs mirrored about cell corners and centres, and
        # colours on those points: many colours are equidistant from two
        # entries, and the lowest index must win.
        centres = rng.integers(1, 2**6, (-(-k // 2), channels)) << 10
        centres[::2] += 511  # every other one at a cell's centre
        step = rng.integers(1, 700, centres.shape)
        palette = np.concatenate([centres - step, centres + step])[:k]
    palette = np.unique(np.clip(palette, 0, 2**16 - 1).astype(np.uint16), axis=0)
    near = (
        rng.integers(-1500, 1500, (6000, channels)) + palette[rng.integers(0, len(palette), 6000)]
    )
    colors = np.concatenate([near, rng.integers(0, 2**16, (6000, channels))])
    colors = np.unique(np.clip(colors, 0, 2**16 - 1).astype(np.uint16), axis=0)
    want = label_points(colors.astype(np.float64), palette.astype(np.float64))
    np.testing.assert_array_equal(_screened_nearest(colors, palette), want)


def test_16bit_cell_screen_leaves_quantize_unchanged(monkeypatch):
    import kmeans_quant._fit.pipeline as pipeline

    rng = np.random.default_rng(5)
    img = rng.integers(0, 2**16, (40, 50, 3)).astype(np.uint16)
    img[:20] //= 3  # two populations, so the palette has structure
    monkeypatch.setattr(pipeline, "_SCREEN_MIN_COLORS", 2**40)
    plain = quantize(img, 12)
    monkeypatch.setattr(pipeline, "_SCREEN_MIN_COLORS", 1)
    calls = []
    screened = pipeline._screened_nearest
    monkeypatch.setattr(
        pipeline, "_screened_nearest", lambda c, p: calls.append(1) or screened(c, p)
    )
    np.testing.assert_array_equal(quantize(img, 12), plain)
    assert calls
