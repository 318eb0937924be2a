"""Tests for the dithering kernels in kmeans_quant.dither.

Hand-computed toy cases, equality of the wavefront Floyd-Steinberg kernel
with the per-pixel reference loop, the candidate sets (exact, ties
included), Knoll's
mixing plans, invariants (labels in range, flat palette colours unchanged,
grey levels rendered in the right proportion), and the quality claim on the
bundled photo.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

import kmeans_quant
import kmeans_quant.dither as dither
import kmeans_quant.dither._ordered as kernels
from kmeans_quant import extract_palette, naive, recolor
from kmeans_quant.dither._candidates import nearest_sets
from kmeans_quant.dither._error_diffusion import CARRY, floyd_steinberg
from kmeans_quant.dither._ordered import (
    MAX_GOALS,
    MIN_GOALS,
    bayer_matrix,
    goal_budget,
    mixing_plans,
)
from kmeans_quant.metrics import block_mean_error


def _table(pixels, palette):
    """Pixels (H, W[, c]) as the colour table the kernels take, in one float dtype."""
    px = np.asarray(pixels)
    dtype = np.float64 if px.dtype == np.float64 else np.float32
    if px.ndim == 2:
        px = px[..., None]
    px = px.astype(dtype)
    h, w, c = px.shape
    colors, inverse, counts = np.unique(
        px.reshape(-1, c), axis=0, return_inverse=True, return_counts=True
    )
    pal = np.asarray(palette, dtype=dtype).reshape(-1, c)
    return colors, inverse.reshape(-1), counts, pal, (h, w)


def fs(pixels, palette, level=None, **kw):
    """The wavefront kernel on the colour table of ``pixels``."""
    colors, inverse, _, pal, shape = _table(pixels, palette)
    if level is not None:
        level = np.asarray(level, dtype=colors.dtype).reshape(-1)
    return floyd_steinberg(colors, inverse, pal, shape, level=level, **kw)


def fs_reference(pixels, palette, level=None, **kw):
    """The plain loop of kmeans_quant.naive on the same pixels."""
    colors, inverse, _, pal, (h, w) = _table(pixels, palette)
    return naive.floyd_steinberg(colors[inverse].reshape(h, w, -1), pal, level=level, **kw)


def ordered(pixels, palette, **kw):
    colors, inverse, counts, pal, shape = _table(pixels, palette)
    return kernels.ordered(colors, counts, inverse, pal, shape, **kw)


def plan_goals(pixels, max_goals):
    """Goals and each pixel's goal, from the colour table of ``pixels``."""
    colors, inverse, counts, _, _ = _table(pixels, np.zeros(np.shape(pixels)[-1]))
    goals, goal_of_color = kernels.plan_goals(colors, counts, max_goals)
    return goals, inverse if goal_of_color is None else goal_of_color[inverse]


BLACK_WHITE_GREY = np.array([[0.0], [255.0]])
BLACK_WHITE_RGB = np.array([[0.0, 0.0, 0.0], [255.0, 255.0, 255.0]])
CHELSEA = Path(kmeans_quant.__file__).parent / "data" / "chelsea.png"


def tile_means(img: np.ndarray, block: int = 8) -> np.ndarray:
    a = np.asarray(img, dtype=np.float64)
    if a.ndim == 2:
        a = a[..., None]
    hb, wb = a.shape[0] // block, a.shape[1] // block
    tiles = a[: hb * block, : wb * block].reshape(hb, block, wb, block, -1)
    return tiles.mean(axis=(1, 3)).reshape(hb * wb, -1)


# --------------------------------------------------------------------------
# Floyd-Steinberg: hand-computed cases
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", [fs, fs_reference])
def test_fs_ramp_by_hand(kernel):
    # Each pixel passes on 0.8 * 7/16 = 0.35 of its error to the right:
    # 128 -> white (error -127); 64 - 127*0.35 = 19.55 -> black (error 19.55);
    # 200 + 19.55*0.35 = 206.8 -> white.
    ramp = np.array([[[128.0], [64.0], [200.0]]])
    np.testing.assert_array_equal(kernel(ramp, BLACK_WHITE_GREY), [[1, 0, 1]])


@pytest.mark.parametrize("kernel", [fs, fs_reference])
def test_fs_two_by_two_uses_all_four_weights(kernel):
    # Flat grey 100 onto black/white, weights 0.8 * (7, 3, 5, 1) / 16 =
    # (0.35, 0.15, 0.25, 0.05), by hand:
    # (0,0): 100 -> black, e=100: (0,1) += 35, (1,0) += 25, (1,1) += 5
    # (0,1): 135 -> white, e=-120: (1,0) += -18, (1,1) += -30
    # (1,0): 100 + 25 - 18 = 107 -> black, e=107: (1,1) += 37.45
    # (1,1): 100 + 5 - 30 + 37.45 = 112.45 -> black.
    img = np.full((2, 2, 1), 100.0)
    np.testing.assert_array_equal(kernel(img, BLACK_WHITE_GREY), [[0, 1], [0, 0]])


@pytest.mark.parametrize("kernel", [fs, fs_reference])
def test_fs_takes_only_the_candidates_of_each_colour(kernel):
    # The corners of a square and a far colour. The first pixel, far out at
    # 1300, takes the far colour and passes on 0.35 * 1045 = 365.75, so the
    # second, (10, 10), is valued at 375.75: over the whole palette the far
    # colour is nearest, but (10, 10)'s candidates are the four corners, of
    # which (20, 20) is nearest.
    pal = np.array([[0.0, 0], [20, 0], [0, 20], [20, 20], [255, 255]])
    img = np.array([[[1300.0, 1300], [10, 10]]])
    assert kernel(img, pal).tolist() == [[4, 3]]
    assert fs_reference(img, pal, candidates=5).tolist() == [[4, 4]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fs_labels_are_always_candidates(dtype):
    rng = np.random.default_rng(3)
    img = rng.uniform(0, 255, (23, 31, 3)).astype(dtype)
    img[:, ::2] = 255 - img[:, ::2]  # large alternating errors
    pal = rng.uniform(0, 255, (40, 3)).astype(dtype)
    colors, inverse, _, p, shape = _table(img, pal)
    lab = fs(img, pal).reshape(-1)
    sets = nearest_sets(colors, p)[inverse]
    assert (sets == lab[:, None]).any(axis=1).all()


@pytest.mark.parametrize("kernel", [fs, fs_reference])
def test_fs_level_zero_is_nearest_colour(kernel):
    rng = np.random.default_rng(8)
    img = rng.uniform(0, 255, (9, 13, 3))
    pal = rng.uniform(0, 255, (6, 3))
    d = ((img[:, :, None, :].astype(np.float32) - pal.astype(np.float32)) ** 2).sum(-1)
    np.testing.assert_array_equal(kernel(img, pal, level=np.zeros((9, 13))), d.argmin(-1))
    np.testing.assert_array_equal(kernel(img, pal, strength=0.0), d.argmin(-1))


def test_fs_accepts_2d_grey_and_single_colour_palette():
    img = np.array([[10.0, 250.0], [130.0, 20.0]])
    np.testing.assert_array_equal(fs(img, BLACK_WHITE_GREY), fs(img[..., None], BLACK_WHITE_GREY))
    np.testing.assert_array_equal(fs(img, np.array([[7.0]])), np.zeros((2, 2)))


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
    np.testing.assert_array_equal(fs(img, pal), fs_reference(img, pal))
    level = rng.uniform(0, 1, shape)
    np.testing.assert_array_equal(
        fs(img, pal, level=level, strength=0.7), fs_reference(img, pal, level=level, strength=0.7)
    )
    # Identity holds even where the exact tie-breaking matters: integer
    # levels with duplicated and equidistant palette entries.
    img = (rng.integers(0, 4, shape + (c,)) * 85).astype(dtype)
    pal = np.repeat(np.array([[170.0], [85.0], [0.0], [255.0], [85.0]], dtype=dtype), c, axis=1)
    np.testing.assert_array_equal(fs(img, pal), fs_reference(img, pal))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("c", [1, 3])
def test_fs_with_large_palettes_equals_reference(c, dtype):
    # Candidate sets of large palettes are screened by a matrix product,
    # near-ties found exactly: duplicated, equidistant and nearly
    # equidistant entries.
    rng = np.random.default_rng(40 + c)
    img = rng.uniform(0, 255, (13, 17, c)).astype(dtype)
    pal = rng.uniform(0, 255, (64, c))
    np.testing.assert_array_equal(fs(img, pal), fs_reference(img, pal))
    levels = np.repeat(np.arange(0, 256, 8.0)[:, None], c, axis=1)  # 32 levels
    pal = np.vstack([levels, levels[::3], levels + np.spacing(levels.astype(dtype))])
    img = (rng.integers(0, 64, (13, 17, c)) * 4.0).astype(dtype)
    np.testing.assert_array_equal(fs(img, pal), fs_reference(img, pal))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("c", [1, 3])
@pytest.mark.parametrize("shape", [(1, 6000), (6000, 1)])
def test_fs_on_long_lines_equals_reference(shape, c, dtype):
    # One-pixel lines are walked in segments speculated in parallel; many
    # segments, on noise, on a smooth ramp, and with tied palette entries.
    rng = np.random.default_rng(c + 7 * shape[0])
    ramp = np.linspace(0, 255, shape[0] * shape[1]).reshape(shape + (1,))
    for img, pal in (
        (rng.uniform(0, 255, shape + (c,)), rng.uniform(0, 255, (12, c))),
        (np.repeat(ramp, c, axis=2), np.linspace(0, 255, 5)[:, None].repeat(c, axis=1)),
        (
            rng.integers(0, 4, shape + (c,)) * 85.0,
            np.repeat(np.array([[170.0], [85.0], [0.0], [255.0], [85.0]]), c, axis=1),
        ),
    ):
        img, pal = img.astype(dtype), pal.astype(dtype)
        np.testing.assert_array_equal(fs(img, pal), fs_reference(img, pal))


def test_fs_line_falls_back_to_wavefronts_when_passes_do_not_settle(monkeypatch):
    import kmeans_quant.dither._error_diffusion as ed

    rng = np.random.default_rng(5)
    img = rng.uniform(0, 255, (1, 3000, 3)).astype(np.float32)
    pal = rng.uniform(0, 255, (8, 3)).astype(np.float32)
    colors, inverse, _, p, shape = _table(img, pal)
    values = np.ascontiguousarray(colors.T)[:, inverse]
    search = ed._CandidateSearch(p, nearest_sets(colors, p), 64)
    level = np.ones(inverse.size, dtype=np.float32)
    line = ed._diffuse_chain(values, inverse, search, p, level=level, weight=0.35, max_passes=1)
    assert line is None
    monkeypatch.setattr(ed, "_diffuse_chain", lambda *args, **kw: None)
    np.testing.assert_array_equal(fs(img, pal), fs_reference(img, pal))


# --------------------------------------------------------------------------
# Candidate sets
# --------------------------------------------------------------------------


def sets_by_loop(colors, pal, m):
    """The m nearest palette rows of each colour, channel-order sums, ties low."""
    out = []
    for x in colors:
        d = np.zeros(len(pal), dtype=colors.dtype)
        for ch in range(colors.shape[1]):
            diff = x[ch] - pal[:, ch]
            d += diff * diff
        out.append(sorted(np.lexsort((np.arange(len(pal)), d))[:m].tolist()))
    return np.array(out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [1, 2, 4])
@pytest.mark.parametrize("k", [5, 20, 37, 200])
def test_nearest_sets_equal_the_loop(dtype, m, k):
    rng = np.random.default_rng(m + k)
    colors = rng.uniform(0, 255, (300, 3)).astype(dtype)
    pal = rng.uniform(0, 255, (k, 3)).astype(dtype)
    np.testing.assert_array_equal(nearest_sets(colors, pal, m), sets_by_loop(colors, pal, m))
    # Ties and near-ties at the set's edge: integer levels, duplicated and
    # nudged entries, which the cell bounds must not cut away.
    levels = np.repeat(np.arange(0, 256, 16.0)[:, None], 3, axis=1)
    if k < 33:  # the same kinds of ties in a smaller palette (19 colours)
        levels = levels[::2]
    pal = np.vstack([levels, levels[::3], levels + np.spacing(levels.astype(dtype))]).astype(dtype)
    colors = (rng.integers(0, 32, (300, 3)) * 8.0).astype(dtype)
    np.testing.assert_array_equal(nearest_sets(colors, pal, m), sets_by_loop(colors, pal, m))


def test_nearest_sets_of_a_small_palette_are_the_whole_palette():
    colors = np.array([[1.0, 2, 3], [200, 100, 0]], dtype=np.float32)
    pal = np.array([[0.0, 0, 0], [255, 255, 255], [9, 9, 9]], dtype=np.float32)
    np.testing.assert_array_equal(nearest_sets(colors, pal, 4), [[0, 1, 2], [0, 1, 2]])


# --------------------------------------------------------------------------
# Ordered dithering: mixing plans
# --------------------------------------------------------------------------


def test_mixing_plans_by_hand():
    # Knoll's steps for 100 between 0 and 200 (ties to the lower index):
    # t=100 tie -> 0, e=100; t=200 -> 200, e=0; ... so half each.
    # For 50: 0 (e=50), 0 (e=100, t=150 -> 200), ... a quarter 200.
    pal = np.array([[0.0], [200.0]])
    plans = mixing_plans(np.array([[100.0], [50.0], [0.0], [200.0]]), pal, 8)
    np.testing.assert_array_equal(plans, [[0] * 4 + [1] * 4, [0] * 6 + [1] * 2, [0] * 8, [1] * 8])


def test_mixing_plans_mix_three_colours():
    pal = np.array([[0.0, 0, 0], [256, 0, 0], [0, 256, 0]])
    goals = np.array([[64.0, 64, 0], [32, 96, 0], [100, 100, 100]])
    counts = np.array([np.bincount(p, minlength=3) for p in mixing_plans(goals, pal, 64)])
    # Quarter red, quarter green (16 each); an eighth red, three eighths green
    # (8, 24); and (100, 100, 100), off the palette's plane, mixed about as
    # its shadow (100, 100, 0). The error fades by 0.8 a step, so a mix
    # lands within a step or two of the exact one, not on it.
    np.testing.assert_allclose(counts[:, 1:], [[16, 16], [8, 24], [25, 25]], atol=2)
    assert (counts.sum(axis=1) == 64).all()


def test_mixing_plans_are_sorted_by_brightness():
    pal = np.array([[200.0, 200, 200], [0, 0, 0], [90, 90, 90]])
    plans = mixing_plans(np.random.default_rng(0).uniform(0, 200, (50, 3)), pal, 16)
    brightness = pal.sum(axis=1)[plans]
    assert (np.diff(brightness, axis=1) >= 0).all()


@pytest.mark.parametrize("pal", [BLACK_WHITE_GREY, BLACK_WHITE_RGB])
def test_ordered_mid_grey_is_half_white(pal):
    c = pal.shape[1]
    img = np.full((16, 24, c), 128.0)
    labels = ordered(img, pal)
    assert labels.mean() == pytest.approx(0.5, abs=1 / 64)
    # Every 8x8 tile gets the same count, so the mix holds locally too.
    tiles = labels.reshape(2, 8, 3, 8).sum(axis=(1, 3))
    assert (tiles == tiles[0, 0]).all()


def test_ordered_flat_colour_between_two_palette_colours():
    # (100, 100, 100) is halfway from black to (200, 200, 200): every 8x8
    # tile is half each, in the Bayer pattern, and has exactly that mean.
    pal = np.array([[0.0, 0, 0], [200, 200, 200], [255, 0, 0]])
    img = np.full((16, 16, 3), 100.0)
    labels = ordered(img, pal)
    np.testing.assert_array_equal(labels[:8, :8], (bayer_matrix(8) >= 32).astype(int))
    np.testing.assert_array_equal(labels, np.tile(labels[:8, :8], (2, 2)))
    np.testing.assert_array_equal(tile_means(pal[labels]), np.full((4, 3), 100.0))


@pytest.mark.parametrize("size", [2, 4, 8])
def test_ordered_grey_ramp_in_proportion(size):
    levels = np.arange(0, 256, 15, dtype=np.float64)
    img = np.broadcast_to(levels[:, None, None], (levels.size, 64, 1))
    img = np.repeat(img, 16, axis=0)  # 16 rows per level: whole tiles
    white = ordered(img, BLACK_WHITE_GREY, size=size).reshape(levels.size, -1).mean(axis=1)
    # Within a plan step, or 0.06 where the fading error leaves a level
    # near one end as that end (15 is drawn all black, no white dot).
    assert np.all(np.abs(white - levels / 255) <= max(1 / size**2, 0.06) + 1e-12)
    assert np.all(np.diff(white) >= 0)
    assert white[1] == 0 and white[-2] == 1


@pytest.mark.parametrize(("kernel", "tol"), [(ordered, 1 / 64), (fs, 1 / 32)])
def test_colour_off_the_palette_is_rendered_as_its_shadow(kernel, tol):
    # Plain mapping sends (200, 100, 0) to black; its nearest mix of black
    # and white is the grey (100, 100, 100), white for 100/255 of the pixels.
    # Error diffusion passes on 0.8 of each error, so its error off the
    # grey line stays bounded, and its mix leans a little to the nearer end.
    img = np.full((32, 32, 3), [200.0, 100.0, 0.0])
    white = kernel(img, BLACK_WHITE_RGB).mean()
    assert white == pytest.approx(100 / 255, abs=tol)


def test_ordered_single_colour_palette():
    img = np.random.default_rng(0).uniform(0, 255, (5, 6, 3))
    np.testing.assert_array_equal(ordered(img, np.array([[1.0, 2.0, 3.0]])), np.zeros((5, 6)))


# --------------------------------------------------------------------------
# Ordered dithering: plans among each goal's candidates
# --------------------------------------------------------------------------

# 6 x 6 x 6 colours 50 apart: a goal inside lies in a cube of 8 of them.
LATTICE = np.stack(np.meshgrid(*[np.arange(0.0, 251, 50)] * 3, indexing="ij"), -1).reshape(-1, 3)


def test_plans_take_only_the_candidates_of_their_goal():
    goals = np.random.default_rng(11).uniform(-100, 350, (2000, 3))  # some far outside
    plans = mixing_plans(goals, LATTICE, 64)
    sets = nearest_sets(goals, LATTICE)
    assert all(set(p) <= set(s) for p, s in zip(plans.tolist(), sets.tolist(), strict=True))


def test_plans_mix_towards_the_goal():
    # Inside the lattice the plan's mean is much nearer the goal than the
    # nearest lattice colour (up to 25 sqrt(3) = 43 away).
    goals = np.random.default_rng(12).uniform(0, 250, (2000, 3))
    mean = LATTICE[mixing_plans(goals, LATTICE, 64)].mean(axis=1)
    nearest = LATTICE[nearest_sets(goals, LATTICE, 1)[:, 0]]
    off = np.linalg.norm(mean - goals, axis=1)
    assert off.mean() < 0.5 * np.linalg.norm(nearest - goals, axis=1).mean()


def test_plans_keep_a_palette_colour_whole():
    rng = np.random.default_rng(13)
    pal = rng.integers(0, 256, (100, 3)).astype(np.float64)
    pal[1] = pal[0] + [1, 0, 0]  # a near twin
    np.testing.assert_array_equal(
        mixing_plans(pal, pal, 64), np.repeat(np.arange(100)[:, None], 64, 1)
    )
    img = np.broadcast_to(pal[1], (9, 11, 3))
    np.testing.assert_array_equal(ordered(img, pal), np.full((9, 11), 1))


# --------------------------------------------------------------------------
# Ordered dithering: which colours get plans
# --------------------------------------------------------------------------


def test_plan_goals_are_the_distinct_colours_when_few():
    rng = np.random.default_rng(8)
    img = rng.integers(0, 4, (10, 12, 3)).astype(np.float32) * 60
    goals, inverse = plan_goals(img, 1000)
    assert len(goals) == len(np.unique(img.reshape(-1, 3), axis=0))
    np.testing.assert_array_equal(goals[inverse], img.reshape(-1, 3))


@pytest.mark.parametrize("scale", [1.0, 1 / 255])  # 8-bit values, and floats in [0, 1]
def test_plan_goals_pool_colours_on_a_grid_when_many(scale):
    rng = np.random.default_rng(9)
    img = (rng.integers(0, 256, (60, 70, 3)) * scale).astype(np.float32)
    goals, inverse = plan_goals(img, 300)
    flat = img.reshape(-1, 3).astype(np.float64)
    assert len(goals) <= 300
    # Each goal is the mean of its pixels, so the image's mean is kept, and
    # pixels sharing a goal lie within one grid cell of each other.
    counts = np.bincount(inverse)
    for ch in range(3):
        np.testing.assert_allclose(
            np.bincount(inverse, weights=flat[:, ch]) / counts, goals[:, ch], rtol=1e-12
        )
    spread = np.abs(flat - goals[inverse]).max()
    assert 0 < spread < 0.5 * 256 * scale


def test_goal_budget_scales_with_pixels_and_shrinks_with_the_palette():
    assert goal_budget(4 * 10**6, 16) == 4 * 10**6 // 52
    assert goal_budget(4 * 10**6, 2) > goal_budget(4 * 10**6, 16)
    # A plan step chooses among 4 candidates, whatever the palette's size.
    assert goal_budget(4 * 10**6, 256) == goal_budget(4 * 10**6, 16)
    assert goal_budget(8 * 10**6, 16) > goal_budget(4 * 10**6, 16)
    assert goal_budget(100, 256) == MIN_GOALS  # small images keep their plans
    assert goal_budget(10**9, 2) == MAX_GOALS
    assert goal_budget(10**9, 2, max_goals=64) == 64


def test_ordered_with_pooled_goals_still_dithers():
    rng = np.random.default_rng(10)
    img = np.clip(rng.normal(120, 40, (64, 64, 3)), 0, 255).round().astype(np.float32)
    pal = np.array([[30.0, 30, 30], [200, 200, 200], [200, 60, 60], [60, 60, 200]])
    exact, pooled = ordered(img, pal), ordered(img, pal, max_goals=64)
    assert not np.array_equal(exact, pooled)
    plain = ((img[:, :, None] - pal) ** 2).sum(-1).argmin(-1)
    for labels in (exact, pooled):
        assert block_mean_error(pal[labels], img) < 0.5 * block_mean_error(pal[plain], img)


# --------------------------------------------------------------------------
# Invariants shared by both kernels
# --------------------------------------------------------------------------


KERNELS = [fs, ordered]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("seed", range(4))
def test_labels_in_range_and_shape(kernel, seed):
    rng = np.random.default_rng(seed)
    h, w, m = (int(v) for v in rng.integers(1, 40, 3))
    img = rng.uniform(0, 255, (h, w, 3)).astype(np.float32)
    pal = rng.uniform(0, 255, (m, 3)).astype(np.float32)
    labels = kernel(img, pal)
    # One byte a label up to 256 colours (here m < 40).
    assert labels.shape == (h, w) and labels.dtype == np.uint8
    assert labels.min() >= 0 and labels.max() < m


@pytest.mark.parametrize("kernel", KERNELS)
def test_flat_palette_colour_stays_unchanged(kernel):
    # A palette colour is its own plan, and leaves no error to spread.
    rng = np.random.default_rng(1)
    pal = rng.integers(0, 256, (9, 3)).astype(np.float64)
    for j, colour in enumerate(pal):
        img = np.broadcast_to(colour, (13, 21, 3))
        np.testing.assert_array_equal(kernel(img, pal), np.full((13, 21), j))


@pytest.mark.parametrize("kernel", KERNELS)
def test_layout_independent(kernel):
    rng = np.random.default_rng(3)
    big = rng.uniform(0, 255, (30, 50, 3)).astype(np.float32)
    pal = rng.uniform(0, 255, (7, 3)).astype(np.float32)
    view = big[::2, 1::2]  # not contiguous
    np.testing.assert_array_equal(kernel(np.ascontiguousarray(view), pal), kernel(view, pal))


@pytest.mark.parametrize("level", [10, 64, 100, 128, 200, 245])
def test_fs_renders_grey_level_in_proportion(level):
    # Passing on the whole error (strength 1 / CARRY), the textbook rule,
    # renders a flat grey between black and white in proportion.
    img = np.full((64, 64, 1), float(level))
    white = fs(img, BLACK_WHITE_GREY, strength=1 / CARRY).mean()
    assert abs(white - level / 255) < 0.01


def test_damped_fs_keeps_grey_levels_in_order_and_near_proportion():
    # Passing on 0.8 of each error, a grey near one end is drawn with no
    # dot of the far end at all (10 -> all black), and the others stay
    # within 0.06 of their proportion and in order.
    levels = [10, 40, 64, 100, 128, 160, 200, 245]
    white = [fs(np.full((64, 64, 1), float(v)), BLACK_WHITE_GREY).mean() for v in levels]
    assert white[0] == 0.0 and white[-1] == 1.0
    assert np.all(np.diff(white) > 0)
    assert np.abs(np.array(white) - np.array(levels) / 255).max() < 0.06


@pytest.mark.parametrize("size", [1, 2, 4, 8, 16])
def test_bayer_matrix_holds_every_level_once(size):
    b = bayer_matrix(size)
    assert b.shape == (size, size)
    np.testing.assert_array_equal(np.sort(b.ravel()), np.arange(size * size))


# --------------------------------------------------------------------------
# The block-mean measure
# --------------------------------------------------------------------------


def test_block_mean_error_by_hand():
    a = np.zeros((9, 17, 3))  # partial tiles (last row, last column) are left out
    b = a.copy()
    b[:8, :8] = [3.0, 0.0, 4.0]  # first tile off by (3, 0, 4): 25; second tile exact
    b[8, :] = 100.0
    b[:, 16] = 100.0
    assert block_mean_error(a, b) == pytest.approx(25.0 / 2)
    assert block_mean_error(a, a) == 0.0
    assert block_mean_error(a[..., 0], b[..., 2], block=4) == pytest.approx(16.0 * 4 / 8)


# --------------------------------------------------------------------------
# Quality on a real photo
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chelsea() -> np.ndarray:
    return iio.imread(CHELSEA)


@pytest.fixture(scope="module", params=[8, 16])
def chelsea_palette(request, chelsea):
    return extract_palette(chelsea, request.param)


@pytest.mark.parametrize("method", ["floyd-steinberg", "ordered"])
def test_dithering_lowers_local_mean_colour_error_on_chelsea(chelsea, chelsea_palette, method):
    """Over the whole photo, 8x8 block means get at least 15% closer to the
    original's than with nearest-colour mapping (18-24% measured at k = 8
    and 16). Both dithers fade their error (CARRY) and keep to each colour's
    candidates, which SSIMULACRA2 rewards and this measure, blind to the
    noise a dither adds, does not; docs/internals.md has the figures."""
    plain = block_mean_error(recolor(chelsea, chelsea_palette), chelsea)
    dithered = recolor(chelsea, chelsea_palette, dither=method)
    assert block_mean_error(dithered, chelsea) <= 0.85 * plain
    # And the helper agrees with this file's block means.
    assert block_mean_error(dithered, chelsea) == pytest.approx(
        ((tile_means(dithered) - tile_means(chelsea)) ** 2).sum(axis=1).mean()
    )


# --------------------------------------------------------------------------
# the public dispatch
# --------------------------------------------------------------------------


def _ramp_table():
    colors = np.array([[64.0], [128.0], [200.0]])
    return dict(
        colors=colors,
        counts=np.ones(3),
        inverse=np.array([1, 0, 2]),
        palette=np.array([[0.0], [255.0]]),
        shape=(1, 3),
    )


@pytest.mark.parametrize("method", dither.DITHER_METHODS)
def test_dither_indices_runs_the_kernel_of_each_method(method):
    table = _ramp_table()
    got = dither.dither_indices(method, **table)
    if method == "floyd-steinberg":
        want = floyd_steinberg(table["colors"], table["inverse"], table["palette"], (1, 3))
    else:
        want = kernels.ordered(
            table["colors"], table["counts"], table["inverse"], table["palette"], (1, 3)
        )
    assert got.shape == (1, 3)
    np.testing.assert_array_equal(got, want)


def test_dither_indices_strength_zero_is_nearest_colour():
    table = _ramp_table()
    for method in dither.DITHER_METHODS:
        got = dither.dither_indices(method, strength=0.0, **table)
        np.testing.assert_array_equal(got, [[1, 0, 1]])  # 128 and 200 are nearer 255


@pytest.mark.parametrize(
    "change, error, match",
    [
        ({"method": "atkinson"}, ValueError, r"method must be one of .*got 'atkinson'"),
        ({"strength": 1.5}, ValueError, r"strength must lie in \[0, 1\], got 1.5"),
        ({"strength": "full"}, TypeError, r"strength must be a number in \[0, 1\], got 'full'"),
        (
            {"colors": np.array([[64], [128], [200]])},
            TypeError,
            r"colors must be a 2-D float array \(g, c\), got 'int64 of shape \(3, 1\)'",
        ),
        (
            {"palette": np.zeros((2, 3))},
            ValueError,
            r"palette must have shape \(m, 1\) with m >= 1, got \(2, 3\)",
        ),
        (
            {"counts": np.ones(4)},
            ValueError,
            r"counts must have shape \(3,\), one per colour, got \(4,\)",
        ),
        (
            {"shape": (2, 3)},
            ValueError,
            r"inverse must have shape \(H \* W,\) for shape \(H, W\), got \(3,\) for shape \(2, 3\)",
        ),
        (
            {"inverse": np.array([1, 0, 3])},
            ValueError,
            r"inverse must hold colour indices in \[0, 3\), got dtype int64",
        ),
    ],
)
def test_dither_indices_errors(change, error, match):
    args = {"method": "ordered", **_ramp_table(), **change}
    method = args.pop("method")
    with pytest.raises(error, match=match):
        dither.dither_indices(method, **args)


def test_dither_package_exports_only_the_dispatch():
    assert sorted(dither.__all__) == ["DITHER_METHODS", "dither_indices"]


@pytest.mark.parametrize("kernel", KERNELS)
def test_labels_of_more_than_256_colours_take_two_bytes(kernel):
    rng = np.random.default_rng(30)
    img = rng.uniform(0, 255, (12, 15, 3)).astype(np.float32)
    pal = rng.uniform(0, 255, (300, 3)).astype(np.float32)
    labels = kernel(img, pal)
    assert labels.dtype == np.uint16 and labels.max() < 300
