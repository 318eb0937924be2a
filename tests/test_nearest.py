"""The candidate-list search gives the labels of the full nearest-colour search."""

from __future__ import annotations

import numpy as np
import pytest

from kmeans_quant import naive
from kmeans_quant.dither import _error_diffusion as ed
from kmeans_quant.dither import _nearest, floyd_steinberg, project_to_hull


def full(pal, values):
    return ed._NearestSearch(pal, values.shape[1])(values)


def candidates(pal, n_max):
    return _nearest.CandidateSearch(pal, n_max, ed._ScreenedSearch(pal, n_max))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("c", [1, 3])
@pytest.mark.parametrize("m", [30, 200])
@pytest.mark.parametrize("n_max", [64, 1000])  # lazy filling, and the box filled up front
def test_candidates_equal_the_full_search(dtype, c, m, n_max):
    rng = np.random.default_rng(m + c + n_max)
    pal = rng.uniform(20, 230, (m, c)).astype(dtype)
    search = candidates(pal, n_max)
    for spread in (1.0, 3.0):  # inside the grid, and far off it on every side
        for _ in range(5):
            values = rng.uniform(128 - 128 * spread, 128 + 128 * spread, (c, n_max))
            values = values.astype(dtype)
            np.testing.assert_array_equal(search(values), full(pal, values))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_candidates_break_ties_like_the_full_search(dtype):
    # Integer lattice palettes with duplicated entries; values on the lattice
    # and halfway between its points are equidistant from several entries.
    rng = np.random.default_rng(7)
    levels = np.arange(0, 256, 32.0)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    pal = np.vstack([grid, grid[::5]]).astype(dtype)  # 512 + 103 entries, some twice
    search = candidates(pal, 500)
    for step in (16.0, 8.0):
        values = (rng.integers(-4, 36, (3, 500)) * step).astype(dtype)
        np.testing.assert_array_equal(search(values), full(pal, values))


def test_long_lists_fall_back_to_the_full_search(monkeypatch):
    monkeypatch.setattr(_nearest, "LIST_MAX", 2)
    rng = np.random.default_rng(3)
    pal = rng.uniform(0, 255, (150, 3)).astype(np.float32)
    search = candidates(pal, 400)
    assert (search.length < 0).sum() > (search.length > 0).sum() > 0
    values = rng.uniform(-50, 300, (3, 400)).astype(np.float32)
    np.testing.assert_array_equal(search(values), full(pal, values))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_floyd_steinberg_with_candidates_equals_the_plain_loops(dtype):
    rng = np.random.default_rng(11)
    img = rng.uniform(0, 255, (24, 530, 3))
    img[:, 265:] = np.linspace(0, 255, 265)[None, :, None]  # smooth part: small errors
    img = img.astype(dtype)
    pal = rng.uniform(0, 255, (200, 3)).astype(dtype)
    assert ed._CANDIDATES_ABOVE < len(pal)
    colors, inverse = np.unique(img.reshape(-1, 3), axis=0, return_inverse=True)
    labels = floyd_steinberg(colors, inverse.reshape(-1), pal, img.shape[:2])
    mapped = project_to_hull(colors, pal).astype(dtype)
    oracle = naive.floyd_steinberg(mapped[inverse.reshape(-1)].reshape(img.shape), pal)
    np.testing.assert_array_equal(labels, oracle)
