"""The importance map, and the perceptual mode built on it.

Hand-made images where the answer is known: a ramp is smooth, noise is busy;
a palette weighted by importance spends its colours where the image is
smooth; a weight of zero keeps a region from pulling the palette; the
perceptual mode's quantize equals recolor of its palette; error diffusion
never takes a colour that cannot mix to the source (no speckle).
"""

from __future__ import annotations

import numpy as np
import pytest

import kmeans_quant.color_table as ct_mod
from kmeans_quant import extract_palette, quantize, recolor
from kmeans_quant.color_table import color_table
from kmeans_quant.importance import DITHER_FLOOR, FLOOR, dither_level, importance_map


def sky_and_grass(h: int = 48, w: int = 96, seed: int = 0) -> np.ndarray:
    """Left: a smooth blue sky gradient. Right: busy green texture."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), dtype=np.float64)
    t = np.linspace(0, 1, h)[:, None]
    img[:, : w // 2] = (1 - t)[..., None] * [40, 90, 200] + t[..., None] * [170, 210, 250]
    img[:, w // 2 :] = [60, 140, 50] + rng.normal(0, 45, (h, w - w // 2, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------
# the map
# --------------------------------------------------------------------------


def test_a_ramp_is_smooth_and_noise_is_busy():
    ramp = np.tile(np.linspace(0, 255, 40).astype(np.uint8), (30, 1))
    assert importance_map(ramp).min() > 0.9  # borders included
    noise = np.random.default_rng(0).integers(0, 256, (30, 40), dtype=np.uint8)
    assert importance_map(noise).max() < FLOOR + 0.02
    flat = np.full((5, 7, 3), 99, dtype=np.uint8)
    np.testing.assert_array_equal(importance_map(flat), np.ones((5, 7), np.float32))


def test_map_lies_between_floor_and_one_and_follows_the_texture():
    img = sky_and_grass()
    m = importance_map(img)
    assert m.shape == img.shape[:2] and m.dtype == np.float32
    assert m.min() >= FLOOR and m.max() <= 1
    assert m[:, :40].mean() > 0.9 and m[:, 56:].mean() < 0.3


def test_map_is_the_same_for_every_dtype_and_ignores_alpha():
    img = sky_and_grass()
    m = importance_map(img)
    np.testing.assert_allclose(importance_map(img.astype(np.uint16) * 257), m, atol=1e-5)
    np.testing.assert_allclose(importance_map(img / 255.0), m, atol=1e-5)
    rgba = np.dstack([img, np.random.default_rng(1).integers(0, 256, img.shape[:2])]).astype(
        np.uint8
    )
    np.testing.assert_array_equal(importance_map(rgba), m)


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 2), (3, 700), (700, 3)])
def test_map_of_thin_and_tall_images(shape):
    img = np.random.default_rng(2).integers(0, 256, shape + (3,), dtype=np.uint8)
    m = importance_map(img)
    assert m.shape == shape and np.isfinite(m).all()


def test_map_by_strips_equals_one_strip(monkeypatch):
    import kmeans_quant.importance as imp

    img = sky_and_grass(h=70)
    whole = importance_map(img)
    monkeypatch.setattr(imp, "_STRIP", 8)
    np.testing.assert_array_equal(importance_map(img), whole)


def test_dither_level_maps_floor_to_dither_floor():
    w = np.array([0.0, FLOOR, (FLOOR + 1) / 2, 1.0, 3.0], dtype=np.float32)
    np.testing.assert_allclose(
        dither_level(w), [DITHER_FLOOR, DITHER_FLOOR, (DITHER_FLOOR + 1) / 2, 1, 1], atol=1e-6
    )


def test_weights_summed_per_colour_on_every_table_path(monkeypatch):
    rng = np.random.default_rng(3)
    px = rng.integers(0, 30, (5000, 3)).astype(np.uint8)
    w = rng.random(5000)
    for dense in (0, 1 << 40):  # dense lookup table, and sorted codes
        monkeypatch.setattr(ct_mod, "_DENSE_MIN_PIXELS", dense)
        t = color_table(px)
        ref = np.bincount(t.pixel_index(), weights=w, minlength=len(t.colors))
        np.testing.assert_allclose(t.total(w), ref)
    t = color_table(px.astype(np.uint16))  # the generic path keeps an inverse
    np.testing.assert_allclose(t.total(w), np.bincount(t.pixel_index(), weights=w))


# --------------------------------------------------------------------------
# the perceptual palette
# --------------------------------------------------------------------------


def test_perceptual_palette_spends_its_colours_on_the_smooth_sky():
    img = sky_and_grass()
    sky = img[:, :48].reshape(-1, 3).astype(float)

    def sky_error(out):
        return ((out[:, :48].reshape(-1, 3) - sky) ** 2).mean()

    plain, seen = quantize(img, 8), quantize(img, 8, mode="perceptual")
    # The MSE palette covers the texture's variance; the perceptual one
    # gives the sky more shades and a smaller error, at a larger total MSE.
    assert sky_error(seen.astype(float)) < 0.6 * sky_error(plain.astype(float))
    total = lambda out: ((out.astype(float) - img) ** 2).mean()  # noqa: E731
    assert total(seen) > total(plain)
    blues = lambda out: len(np.unique(out[:, :48].reshape(-1, 3), axis=0))  # noqa: E731
    assert blues(seen) > blues(plain)


def test_zero_importance_keeps_a_region_out_of_the_fit():
    img = np.zeros((10, 20, 3), dtype=np.uint8)
    img[:, :10] = [200, 30, 30]
    img[:, 10:] = [30, 30, 200]
    weight = np.ones((10, 20))
    weight[:, :10] = 0
    pal = extract_palette(img, 1, importance=weight)
    np.testing.assert_array_equal(pal.colors, [[30, 30, 200]])
    assert pal.counts.tolist() == [200]  # counts stay pixel counts


@pytest.mark.parametrize("dither", ["none", "floyd-steinberg", "ordered"])
def test_perceptual_quantize_is_recolor_of_its_palette(dither):
    img = sky_and_grass()
    out = quantize(img, 12, mode="perceptual", dither=dither)
    pal = extract_palette(img, 12, mode="perceptual")
    np.testing.assert_array_equal(recolor(img, pal, mode="perceptual", dither=dither), out)


def test_perceptual_mode_is_oklab_with_the_auto_importance():
    img = sky_and_grass()
    a = extract_palette(img, 6, mode="perceptual")
    b = extract_palette(img, 6, space="oklab", importance="auto")
    c = extract_palette(img, 6, space="oklab", importance=importance_map(img))
    for other in (b, c):
        np.testing.assert_array_equal(a.colors, other.colors)
        np.testing.assert_array_equal(a.counts, other.counts)


def test_perceptual_palette_of_a_list_of_one_is_the_palette_of_the_image():
    img = sky_and_grass()
    one, listed = (
        extract_palette(img, 7, mode="perceptual"),
        extract_palette([img], 7, mode="perceptual"),
    )
    np.testing.assert_array_equal(one.colors, listed.colors)
    two = extract_palette([img, img[::2, ::3]], 7, mode="perceptual")
    assert len(two) <= 7 and two.counts.sum() == img.shape[0] * img.shape[1] + 24 * 32


def test_perceptual_mode_with_fitted_alpha():
    img = sky_and_grass()
    rgba = np.dstack([img, np.tile(np.linspace(0, 255, 96), (48, 1))]).astype(np.uint8)
    out = quantize(rgba, 8, mode="perceptual", alpha="fit")
    assert len(np.unique(out.reshape(-1, 4), axis=0)) <= 8
    pal = extract_palette(rgba, 8, mode="perceptual", alpha="fit")
    assert pal.alpha is not None and len(pal) <= 8
    with pytest.raises(ValueError, match=r"alpha='fit' works with space='rgb' only"):
        quantize(rgba, 8, space="oklab", alpha="fit")


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_perceptual_mode_on_other_dtypes_and_grey(dtype):
    img = sky_and_grass()
    scaled = img.astype(dtype) * (257 if dtype == np.uint16 else 1 / 255)
    out = quantize(scaled, 8, mode="perceptual", dither="floyd-steinberg")
    assert out.dtype == dtype and out.shape == img.shape
    grey = quantize(img[..., 1], 5, mode="perceptual")
    assert len(np.unique(grey)) <= 5


# --------------------------------------------------------------------------
# no speckle
# --------------------------------------------------------------------------


def sky_with_objects(h: int = 96, w: int = 160) -> np.ndarray:
    """A smooth blue sky gradient over a few small flat objects (white, red, yellow, black)."""
    t = np.linspace(0, 1, h)[:, None, None]
    img = (1 - t) * np.array([30, 80, 190]) + t * np.array([120, 170, 235]) + np.zeros((h, w, 3))
    img[70:, 10:40] = [250, 250, 245]
    img[75:, 60:90] = [200, 40, 30]
    img[80:, 100:130] = [240, 200, 40]
    img[85:, 140:] = [20, 20, 20]
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def two_way_gradient(h: int = 64, w: int = 256) -> np.ndarray:
    t = np.linspace(0, 1, w)[None, :, None]
    s = np.linspace(0, 1, h)[:, None, None]
    img = np.rint((1 - t) * [20, 60, 160] + t * np.array([230, 200, 120]) + s * [0, 30, 0])
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("mode", ["mse", "perceptual"])
@pytest.mark.parametrize(("image", "k"), [(sky_with_objects, 8), (two_way_gradient, 16)])
def test_dithered_gradient_has_no_speckle(image, k, mode):
    """Every dithered pixel of a smooth gradient takes one of the 4 palette
    colours nearest to its source colour: a colour that can mix to it, never
    a far one. (Without candidates, full-palette error diffusion put 67
    pixels of the sky at k=8, and 571 of the gradient at k=16, on a colour
    beyond those 4: bright dots on the blue.)"""
    img = image()
    pal = extract_palette(img, k, mode=mode).colors.astype(np.float64)
    out = quantize(img, k, mode=mode, dither="floyd-steinberg")
    if mode == "perceptual":
        from kmeans_quant.colorspace import srgb_to_oklab

        def space(x):
            return srgb_to_oklab(x / 255.0)
    else:

        def space(x):
            return x

    src = space(img.reshape(-1, 3).astype(np.float64))
    d = ((src[:, None, :] - space(pal)[None]) ** 2).sum(-1)
    fourth = np.sort(d, axis=1)[:, 3]
    taken = np.array([np.flatnonzero((pal == c).all(1))[0] for c in out.reshape(-1, 3)])
    assert (d[np.arange(len(d)), taken] <= fourth * (1 + 1e-6)).all()
    assert len(np.unique(taken)) > 4  # and it does dither


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------


def test_bad_mode_and_importance():
    img = sky_and_grass()
    with pytest.raises(ValueError, match=r"mode must be one of 'mse', 'perceptual', got 'pretty'"):
        quantize(img, 4, mode="pretty")
    with pytest.raises(ValueError, match=r"mode='perceptual' fits in Oklab.*got 'rgb'"):
        extract_palette(img, 4, mode="perceptual", space="rgb")
    with pytest.raises(
        ValueError, match=r"importance must have the image's shape .* \(48, 96\), got \(4, 4\)"
    ):
        quantize(img, 4, importance=np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"importance must be >= 0 .* got range \[-1, 1\]"):
        quantize(img, 4, importance=np.where(np.eye(48, 96) > 0, -1.0, 1.0))
    with pytest.raises(ValueError, match=r"importance must be >= 0 with at least one positive"):
        quantize(img, 4, importance=np.zeros((48, 96)))
    with pytest.raises(ValueError, match=r"importance must be finite"):
        quantize(img, 4, importance=np.full((48, 96), np.nan))
    with pytest.raises(
        ValueError, match=r"importance must be None, 'auto' or an \(H, W\) array, got 'yes'"
    ):
        quantize(img, 4, importance="yes")
    with pytest.raises(TypeError, match=r"importance must be an array of numbers, got dtype <U1"):
        quantize(img, 4, importance=np.full((48, 96), "a"))
    with pytest.raises(ValueError, match=r"importance for several images must be None or 'auto'"):
        extract_palette([img, img], 4, importance=np.ones((48, 96)))
