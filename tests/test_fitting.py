"""The palette fit's building blocks against plain references: grid pooling,
the colour table's distinct codes, and the spread histograms of the update."""

from __future__ import annotations

import numpy as np
import pytest

from kmeans_quant._palette_fit import fit_colors
from kmeans_quant.color_table import color_table, distinct_codes, pool_on_grid
from kmeans_quant.steps import _cluster_sums


def pool_reference(X, w, bits):
    """Cell means and weights by a dictionary over cell tuples, cells sorted."""
    cells = {}
    for x, wi in zip(X.astype(np.float64), w.astype(np.float64)):
        key = tuple(int(v) >> (8 - bits) for v in np.clip(x, 0, 255))
        s, t = cells.get(key, (np.zeros(X.shape[1]), 0.0))
        cells[key] = (s + wi * x, t + wi)
    keys = sorted(cells)
    means = np.array([cells[c][0] / cells[c][1] for c in keys])
    return means, np.array([cells[c][1] for c in keys])


@pytest.mark.parametrize("bits", [4, 5, 6, 7])  # dense bincount up to 5 bits, sorting above
def test_pool_matches_a_plain_dictionary(bits):
    rng = np.random.default_rng(bits)
    X = rng.integers(0, 256, size=(3000, 3)).astype(np.float32)
    X[:5] = [[-0.5, 0, 0], [255.4, 255, 255], [0, 255, 0], [0, 255, 0], [7, 7, 7]]
    w = rng.integers(1, 50, size=3000).astype(np.float32)
    means, weight = pool_on_grid(X, w, bits)
    ref_means, ref_weight = pool_reference(X, w, bits)
    np.testing.assert_allclose(weight, ref_weight, rtol=1e-6)
    np.testing.assert_allclose(means, ref_means, rtol=1e-5, atol=1e-4)


def test_pool_one_channel():
    X = np.array([[0.0], [3.0], [4.0], [255.0]], dtype=np.float32)
    means, weight = pool_on_grid(X, np.array([1, 3, 1, 2], dtype=np.float32), 6)
    np.testing.assert_allclose(means[:, 0], [2.25, 4.0, 255.0])
    np.testing.assert_allclose(weight, [4, 1, 2])


@pytest.mark.parametrize("n", [1, 2, 50, 70000])
def test_distinct_codes_match_numpy_unique(n):
    rng = np.random.default_rng(n)
    codes = rng.integers(0, 1 << 24, size=n, dtype=np.uint32)
    codes[n // 2 :] = codes[: n - n // 2]  # plenty of repeats
    codes[-1] = (1 << 24) - 1
    values, counts = distinct_codes(codes)
    ref_values, ref_counts = np.unique(codes, return_counts=True)
    np.testing.assert_array_equal(values, ref_values)
    np.testing.assert_array_equal(counts, ref_counts)


@pytest.mark.parametrize("n, k", [(1, 3), (7, 2), (5000, 16), (5000, 256)])
def test_spread_cluster_sums_equal_plain_sums(n, k):
    rng = np.random.default_rng(n + k)
    X = rng.normal(size=(n, 3))
    w = rng.uniform(0.5, 2, size=n)
    labels = np.sort(rng.integers(0, k, size=n))  # long runs of one label
    sums, weights = _cluster_sums(np.ascontiguousarray((w[:, None] * X).T), w, labels, k)
    for j in range(k):
        mine = labels == j
        np.testing.assert_allclose(
            sums[j], (w[mine, None] * X[mine]).sum(axis=0), rtol=1e-12, atol=1e-12
        )
        np.testing.assert_allclose(weights[j], w[mine].sum(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("n", [1, 5, 40000])
def test_uint16_table_by_radix_matches_numpy_unique(n, channels):
    rng = np.random.default_rng(n + channels)
    px = rng.integers(0, 1 << 16, size=(n, channels)).astype(np.uint16)
    px[n // 2 :] = px[: n - n // 2]  # repeats
    px[0] = 65535  # top bits of every 16-bit digit set
    table = color_table(px)
    colors, inverse, counts = np.unique(px, axis=0, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(table.colors, colors)
    np.testing.assert_array_equal(table.counts, counts)
    np.testing.assert_array_equal(table.pixel_index(), inverse.reshape(-1))


def _sse(X, w, centers):
    d = ((X[:, None, :].astype(np.float64) - centers[None]) ** 2).sum(axis=2).min(axis=1)
    return float(w @ d)


@pytest.mark.parametrize("n, k", [(300, 12), (5000, 8)])  # both fit the exact colours
def test_lattice_fit_gives_whole_numbers_no_worse_than_rounding(n, k):
    rng = np.random.default_rng(n)
    X = np.clip(rng.normal(128, 50, size=(n, 3)), 0, 255).round().astype(np.float32)
    w = rng.integers(1, 30, size=n).astype(np.float32)
    plain = fit_colors(X, w, k, rng=np.random.default_rng(1), max_iter=300, tol=1e-4)
    lattice = fit_colors(
        X, w, k, rng=np.random.default_rng(1), max_iter=300, tol=1e-4, lattice=True
    )
    np.testing.assert_array_equal(lattice, np.rint(lattice))
    assert _sse(X, w, lattice) <= _sse(X, w, np.rint(plain)) * (1 + 1e-9)
