"""Tests for kmeans_quant._fit.baselines: median cut and the uniform grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import kmeans_quant
from kmeans_quant._fit.baselines import median_cut, uniform_levels, uniform_palette
from kmeans_quant.color_table import color_table

CHELSEA = Path(kmeans_quant.__file__).parent / "data" / "chelsea.png"


def _random_table(seed: int, m: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    colors = np.unique(rng.integers(0, 256, size=(m, 3)), axis=0).astype(np.float64)
    counts = rng.integers(1, 50, size=len(colors))
    return colors, counts


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


# --------------------------------------------------------------------------
# median cut: hand-computed cases
# --------------------------------------------------------------------------


def test_median_cut_two_groups_give_their_weighted_means():
    # 4 + 4 pixels; the weighted median along red (the longest side) falls
    # between the groups, so each group is one box.
    colors = np.array([[10, 10, 10], [20, 10, 10], [200, 50, 50], [210, 60, 50]])
    counts = np.array([3, 1, 2, 2])
    pal = median_cut(colors, counts, 2)
    expected = [[(3 * 10 + 20) / 4, 10, 10], [(200 + 210) / 2, (50 + 60) / 2, 50]]
    np.testing.assert_allclose(pal, expected)


def test_median_cut_cuts_at_the_weighted_median_not_the_gap():
    # Red values 0, 10, 20, 30 with equal counts: the median is between 10
    # and 20. Putting 5 pixels on 0 moves the median to between 0 and 10:
    # low side 5 of 8 pixels (|5 - 4| = 1) beats 6 of 8 (|6 - 4| = 2).
    colors = np.array([[0, 0, 0], [10, 0, 0], [20, 0, 0], [30, 0, 0]])
    np.testing.assert_allclose(
        median_cut(colors, np.array([1, 1, 1, 1]), 2), [[5, 0, 0], [25, 0, 0]]
    )
    np.testing.assert_allclose(
        median_cut(colors, np.array([5, 1, 1, 1]), 2), [[0, 0, 0], [20, 0, 0]]
    )


def test_median_cut_box_means_are_weighted_by_counts():
    colors = np.array([[0, 0, 0], [100, 0, 0]])
    # one box (k = 1): the pixel-weighted mean, not the mean of the colours
    np.testing.assert_allclose(median_cut(colors, np.array([3, 1]), 1), [[25, 0, 0]])
    np.testing.assert_allclose(median_cut(colors, np.array([1, 1]), 1), [[50, 0, 0]])


def test_median_cut_splits_the_box_with_most_pixels_times_side():
    # The first cut must separate red 0 from red 250 (the only place to cut
    # along red, the longest side). Then box A (200 pixels, side 60 along
    # green: 12000) beats box B (2 pixels, side 100: 200), so A is cut next
    # although B is longer. Cutting by length alone would cut B instead.
    colors = np.array([[0, 0, 0], [0, 60, 0], [250, 0, 0], [250, 100, 0]])
    counts = np.array([100, 100, 1, 1])
    pal = median_cut(colors, counts, 3)
    np.testing.assert_allclose(pal, [[0, 0, 0], [250, 50, 0], [0, 60, 0]])


def test_median_cut_keeps_colours_equal_along_the_axis_together():
    # Three colours share red = 50; no cut may separate them, so with k = 2
    # the only cut along red is between 50 and 90.
    colors = np.array([[50, 0, 0], [50, 10, 0], [50, 20, 0], [90, 0, 0]])
    counts = np.array([1, 1, 1, 5])
    pal = median_cut(colors, counts, 2)
    np.testing.assert_allclose(pal, [[50, 10, 0], [90, 0, 0]])


def test_median_cut_returns_the_colours_when_there_are_few():
    colors = np.array([[1.0, 2.0, 3.0], [200.0, 100.0, 0.0]])
    pal = median_cut(colors, np.array([4, 9]), 5)
    np.testing.assert_array_equal(pal, colors)
    assert pal.dtype == np.float64
    assert pal is not colors


def test_median_cut_grey_table():
    colors = np.array([[0.0], [10.0], [200.0], [220.0]])
    np.testing.assert_allclose(median_cut(colors, np.array([1, 1, 1, 1]), 2), [[5.0], [210.0]])


# --------------------------------------------------------------------------
# median cut: invariants
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 2, 7, 16, 64])
def test_median_cut_gives_k_colours_inside_the_data(seed, k):
    colors, counts = _random_table(seed)
    pal = median_cut(colors, counts, k)
    assert pal.shape == (min(k, len(colors)), 3)
    assert np.isfinite(pal).all()
    # each colour is a mean of input colours, so inside their bounding box
    assert (pal >= colors.min(axis=0) - 1e-9).all()
    assert (pal <= colors.max(axis=0) + 1e-9).all()
    # and the palette has no repeated colours (boxes are disjoint)
    assert len(np.unique(pal, axis=0)) == len(pal)


def test_median_cut_k1_is_the_weighted_mean():
    colors, counts = _random_table(3)
    pal = median_cut(colors, counts, 1)
    np.testing.assert_allclose(pal[0], np.average(colors, axis=0, weights=counts))


def test_median_cut_ignores_row_order():
    colors, counts = _random_table(11)
    first = median_cut(colors, counts, 20)
    perm = np.random.default_rng(0).permutation(len(colors))
    shuffled = median_cut(colors[perm], counts[perm], 20)
    # same boxes; only the summation order of the means can differ
    np.testing.assert_allclose(
        np.unique(shuffled, axis=0), np.unique(first, axis=0), rtol=0, atol=1e-9
    )


def test_median_cut_counts_scale_out():
    # Only relative counts matter: doubling all of them changes nothing.
    colors, counts = _random_table(5)
    np.testing.assert_allclose(median_cut(colors, counts * 2, 12), median_cut(colors, counts, 12))
    np.testing.assert_allclose(
        median_cut(colors, counts.astype(np.float32), 12), median_cut(colors, counts, 12)
    )


def test_median_cut_error_falls_as_k_grows():
    colors, counts = _random_table(8, m=2000)

    def sse(pal: np.ndarray) -> float:
        d = ((colors[:, None, :] - pal[None]) ** 2).sum(axis=-1).min(axis=1)
        return float((counts * d).sum())

    errors = [sse(median_cut(colors, counts, k)) for k in (1, 2, 4, 8, 16, 32)]
    assert (np.diff(errors) < 0).all()


# --------------------------------------------------------------------------
# uniform grid
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "channels", "levels"),
    [
        (1, 3, (1, 1, 1)),
        (8, 3, (2, 2, 2)),
        (12, 3, (2, 3, 2)),
        (16, 3, (2, 3, 2)),  # green first
        (18, 3, (3, 3, 2)),  # then red
        (27, 3, (3, 3, 3)),
        (64, 3, (4, 4, 4)),
        (256, 3, (6, 7, 6)),
        (5, 1, (5,)),
        (256, 1, (256,)),
    ],
)
def test_uniform_levels_hand_computed(k, channels, levels):
    assert uniform_levels(k, channels) == levels


def test_uniform_levels_small_k_uses_uneven_grid():
    # k = 7: 1 level each is 1 colour; green then red can take a second level
    # (1x2x1 = 2, 2x2x1 = 4 <= 7) while blue cannot (2x2x2 = 8 > 7).
    assert uniform_levels(7, 3) == (2, 2, 1)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_uniform_levels_are_the_largest_near_equal_grid(channels):
    for k in range(1, 700):
        levels = uniform_levels(k, channels)
        assert len(levels) == channels
        prod = int(np.prod(levels))
        assert prod <= k
        assert max(levels) - min(levels) <= 1
        # no grid of levels differing by at most one has more colours <= k
        best = max(
            n ** (channels - j) * (n + 1) ** j
            for n in range(1, int(round(k ** (1 / channels))) + 2)
            for j in range(channels)
            if n ** (channels - j) * (n + 1) ** j <= k
        )
        assert prod == best, (k, levels)


def test_uniform_palette_is_the_grid_of_bin_centres():
    pal = uniform_palette(8, 3)
    assert pal.shape == (8, 3)
    for j in range(3):
        np.testing.assert_allclose(np.unique(pal[:, j]), [63.75, 191.25])
    assert len(np.unique(pal, axis=0)) == 8
    pal = uniform_palette(256, 3)
    assert pal.shape == (252, 3)
    np.testing.assert_allclose(np.unique(pal[:, 1]), (np.arange(7) + 0.5) * 255 / 7)
    assert pal.min() > 0 and pal.max() < 255


def test_uniform_palette_error_on_uniform_noise_matches_theory():
    # For colours spread uniformly over the cube, each channel's error is
    # uniform over a bin of width 255 / n: mean square (255 / n)^2 / 12.
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(128, 128, 3), dtype=np.uint8)
    out = kmeans_quant.recolor(img, uniform_palette(64, 3))  # 4 x 4 x 4
    theory = (255 / 4) ** 2 / 12
    assert _mse(img, out) == pytest.approx(theory, rel=0.05)


# --------------------------------------------------------------------------
# on the bundled photo: uniform > median cut > k-means
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chelsea() -> np.ndarray:
    iio = pytest.importorskip("imageio.v3")
    return iio.imread(CHELSEA)


def test_median_cut_mse_lies_between_uniform_and_kmeans(chelsea):
    # Measured (k = 16): uniform 1063, median cut 66.3, k-means 55.4. The
    # margins asserted are far inside those gaps.
    k = 16
    table = color_table(chelsea.reshape(-1, 3))
    uniform = kmeans_quant.recolor(chelsea, uniform_palette(k, 3))
    mcut = kmeans_quant.recolor(chelsea, np.rint(median_cut(table.colors, table.counts, k)))
    kmeans = kmeans_quant.quantize(chelsea, k)
    e_uniform, e_mcut, e_kmeans = _mse(chelsea, uniform), _mse(chelsea, mcut), _mse(chelsea, kmeans)
    assert len(np.unique(mcut.reshape(-1, 3), axis=0)) == k
    assert e_mcut * 5 < e_uniform
    assert e_kmeans * 1.08 < e_mcut
