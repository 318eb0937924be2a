"""The quality target, fixed palette entries, dither strength and dither=None."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_quadrants

from kmeans_quant import QualityChoice, QualityTooLow, choose_k, extract_palette, quantize, recolor
from kmeans_quant._fit.k_search import search_k
from kmeans_quant.engine._lloyd import FitSettings, fit_weighted
from kmeans_quant.metrics import mse
from kmeans_quant.quality import mse_to_quality, quality_to_mse


def _ramp(width: int = 256) -> np.ndarray:
    grey = np.linspace(0, 255, width).round().astype(np.uint8)
    return np.repeat(np.tile(grey, (4, 1))[..., None], 3, axis=2)


def _n_colours(img: np.ndarray) -> int:
    return len(np.unique(img.reshape(-1, img.shape[-1]), axis=0))


# ------------------------------------------------------------------ the scale


def test_scale_is_monotone_and_has_its_ends():
    values = [quality_to_mse(q) for q in range(101)]
    assert values[0] == np.inf and values[100] == 0.0
    assert all(a > b for a, b in zip(values[1:], values[2:]))


@pytest.mark.parametrize("q", [1, 20, 50, 65, 80, 99])
def test_mse_to_quality_inverts_the_scale(q):
    assert mse_to_quality(quality_to_mse(q)) == q
    assert mse_to_quality(quality_to_mse(q) * 1.001) == q - 1


def test_scale_matches_libimagequant_in_standard_units():
    # libimagequant: quality_to_mse(q) in its unit, standard MSE = unit * 65536 / 6.
    q = 70
    unit = max(0, 0.016 / (0.001 + q) - 0.001) + 2.5 / (210 + q) ** 1.2 * (100.1 - q) / 100
    assert quality_to_mse(q) == pytest.approx(unit * 65536 / 6, rel=1e-12)


# ------------------------------------------------------------------ the search


def test_uniform_ramp_needs_the_colours_the_formula_says():
    # k equal bins over 256 equally common levels: MSE = ((256 / k)^2 - 1) / 12 per
    # channel, so the fewest k with MSE <= m is about 256 / sqrt(12 m + 1).
    img = _ramp()
    choice = choose_k(img, (0, 80))
    assert isinstance(choice, QualityChoice)
    target = quality_to_mse(80)
    ideal = int(np.ceil(256 / np.sqrt(12 * target + 1)))
    assert choice.quality >= 80 and choice.mse <= target
    assert ideal <= choice.k <= 1.3 * ideal
    assert choice.mse == pytest.approx(mse(img, quantize(img, choice.k)))


def test_quantize_with_quality_equals_quantize_with_the_chosen_k():
    img = make_quadrants(40, 50, noise=25)
    choice = choose_k(img, (0, 85), k_max=64)
    out = quantize(img, 64, quality=(0, 85))
    assert np.array_equal(out, quantize(img, choice.k))
    assert _n_colours(out) == choice.k


def test_minimum_out_of_reach_raises_with_what_was_reached():
    img = np.random.default_rng(0).integers(0, 256, size=(30, 30, 3), dtype=np.uint8)
    with pytest.raises(
        QualityTooLow, match=r"quality \d+ .* with 4 colours is below the minimum 90"
    ) as info:
        quantize(img, 4, quality=(90, 100))
    assert isinstance(info.value, ValueError)  # callers catching ValueError see it too
    assert isinstance(info.value.choice, QualityChoice)
    assert info.value.choice.k == 4 and info.value.choice.quality < 90


def test_quality_100_keeps_every_colour():
    img = make_quadrants(10, 12, noise=3)
    assert np.array_equal(quantize(img, quality=(0, 100)), img)


def test_search_k_is_monotone_in_the_target():
    rng = np.random.default_rng(3)
    X = rng.uniform(0, 255, size=(3000, 3)).astype(np.float32)
    w = rng.integers(1, 5, size=3000).astype(np.float64)
    ks = [
        search_k(X, w, target_mse=t, k_max=256, rng=np.random.default_rng(0))
        for t in (1500.0, 600.0, 200.0)
    ]
    assert ks[0] < ks[1] < ks[2] <= 256


@pytest.mark.parametrize(
    "quality, err, msg",
    [
        ((80,), TypeError, r"quality must be a pair of integers \(min, max\), got \(80,\)"),
        ((1.5, 3), TypeError, r"quality must be a pair of integers"),
        ((90, 80), ValueError, r"quality must satisfy 0 <= min <= max <= 100, got \(90, 80\)"),
        ((0, 101), ValueError, r"quality must satisfy 0 <= min <= max <= 100"),
    ],
)
def test_bad_quality(quality, err, msg):
    with pytest.raises(err, match=msg):
        quantize(make_quadrants(), quality=quality)


def test_quality_needs_kmeans_and_no_fixed():
    with pytest.raises(ValueError, match=r"quality needs method='kmeans' and no fixed colours"):
        quantize(make_quadrants(), 8, quality=(0, 80), method="median-cut")


# ------------------------------------------------------------------ fixed colours


def test_fixed_colours_are_kept_exactly_and_the_rest_fitted():
    img = make_quadrants(30, 40, noise=10)
    fixed = [[255, 255, 255], [0, 0, 0]]
    pal = extract_palette(img, 6, fixed=fixed)
    colors = {tuple(c) for c in pal.colors}
    assert {(255, 255, 255), (0, 0, 0)} <= colors and len(colors) == 6
    # Nobody is near white or black: they come last with count 0, and the four
    # free entries find the four quadrants.
    assert pal.counts[-2:].tolist() == [0, 0]
    free = pal.colors[:4].astype(float)
    quads = np.array([[220, 40, 40], [40, 200, 60], [30, 60, 210], [235, 225, 60]])
    assert np.abs(np.sort(free, axis=0) - np.sort(quads, axis=0)).max() < 6


def test_fixed_fit_never_moves_fixed_centres_in_the_engine():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 10.0], [11.0, 10.0]])
    w = np.ones(4)
    start = np.array([[50.0, 50.0]])  # far from everything: its cluster stays empty
    s = FitSettings(k=3, init=start, max_iter=50, tol=0.0, rng=np.random.default_rng(0), n_fixed=1)
    res = fit_weighted(X, w, s)
    assert res.centers[0].tolist() == [50.0, 50.0]
    assert sorted(res.centers[1:, 0].round(6).tolist()) == [0.5, 10.5]


def test_quantize_with_fixed_equals_recolor_of_the_palette():
    img = make_quadrants(20, 24, noise=15)
    fixed = [[255, 255, 255]]
    for dither in ("none", "floyd-steinberg"):
        out = quantize(img, 5, fixed=fixed, dither=dither)
        again = recolor(img, extract_palette(img, 5, fixed=fixed), dither=dither)
        assert np.array_equal(out, again)


def test_too_many_fixed_colours():
    with pytest.raises(ValueError, match=r"fixed has 3 distinct colours, more than k=2"):
        extract_palette(make_quadrants(), 2, fixed=[[0, 0, 0], [1, 1, 1], [2, 2, 2]])


def test_fixed_needs_kmeans():
    with pytest.raises(
        ValueError, match=r"fixed colours need method='kmeans', got method='uniform'"
    ):
        extract_palette(make_quadrants(), 8, fixed=[[0, 0, 0]], method="uniform")


# ------------------------------------------------------------------ dithering options


def test_dither_none_is_accepted_as_none():
    img = make_quadrants()
    assert np.array_equal(quantize(img, 4, dither=None), quantize(img, 4))


@pytest.mark.parametrize("method", ["floyd-steinberg", "ordered"])
def test_dither_strength_goes_from_plain_to_full(method):
    img = _ramp(64)
    pal = [[0, 0, 0], [255, 255, 255]]
    plain = recolor(img, pal)
    assert np.array_equal(recolor(img, pal, dither=method, dither_strength=0), plain)
    full = recolor(img, pal, dither=method)
    assert np.array_equal(recolor(img, pal, dither=method, dither_strength=1.0), full)
    half = recolor(img, pal, dither=method, dither_strength=0.5)
    # Mixing grows with the strength: the number of pixels off their nearest colour.
    changed = [int((x != plain).any(axis=2).sum()) for x in (half, full)]
    assert 0 < changed[0] < changed[1]


@pytest.mark.parametrize(
    "strength, err, msg",
    [
        (1.5, ValueError, r"dither_strength must lie in \[0, 1\], got 1.5"),
        ("1", TypeError, r"dither_strength must be a number in \[0, 1\], got '1'"),
    ],
)
def test_bad_dither_strength(strength, err, msg):
    with pytest.raises(err, match=msg):
        quantize(make_quadrants(), 4, dither="ordered", dither_strength=strength)


def test_big_endian_uint16_hint():
    img = np.zeros((4, 4, 3), dtype=">u2")
    with pytest.raises(TypeError, match=r"16-bit data in the other byte order: use image.astype"):
        quantize(img, 2)
