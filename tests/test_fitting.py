"""The palette fit's building blocks against plain references: grid pooling,
the colour table's distinct codes, and the spread histograms of the update."""

from __future__ import annotations

import numpy as np
import pytest

from kmeans_quant import kmeans, kmeans_plusplus, kmeans_steps
from kmeans_quant._fit.palette_fit import fit_colors
from kmeans_quant.color_table import color_table, distinct_codes, pool_on_grid
from kmeans_quant.engine._lloyd import FitSettings, fit_weighted
from kmeans_quant.engine._starts import fit_best_of, fit_starts
from kmeans_quant.engine._steps import _cluster_sums


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


def best_runs_1d(x, w, k, lattice):
    """Lowest error over every split of the sorted values into k runs (brute force)."""
    import itertools

    order = np.argsort(x)
    v, ww = x[order].astype(np.float64), w[order].astype(np.float64)
    best = np.inf
    for cuts in itertools.combinations(range(1, v.size), k - 1):
        bounds = (0, *cuts, v.size)
        centers = np.array([(ww[a:b] @ v[a:b]) / ww[a:b].sum() for a, b in zip(bounds, bounds[1:])])
        if lattice:
            centers = np.rint(centers)
        best = min(best, float(((v[:, None] - centers[None, :]) ** 2).min(axis=1) @ ww))
    return best


@pytest.mark.parametrize("lattice", [False, True])
def test_one_channel_fit_is_the_optimum_of_brute_force(lattice):
    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(3, 9))
        k = int(rng.integers(1, n))
        x = rng.choice(256, size=n, replace=False).astype(np.float64)
        w = rng.integers(1, 20, size=n).astype(np.float64)
        centers = fit_colors(
            x[:, None], w, k, rng=np.random.default_rng(0), max_iter=300, tol=1e-4, lattice=lattice
        )
        assert centers.shape == (k, 1)
        if lattice:
            np.testing.assert_array_equal(centers, np.rint(centers))
        err = float(((x[:, None] - centers[:, 0][None, :]) ** 2).min(axis=1) @ w)
        assert err == pytest.approx(best_runs_1d(x, w, k, lattice), rel=1e-9, abs=1e-9)


def test_one_channel_fit_beats_lloyd_on_a_grey_histogram():
    rng = np.random.default_rng(3)
    x = np.arange(256, dtype=np.float32)
    w = rng.integers(1, 1000, size=256).astype(np.float32)
    centers = fit_colors(x[:, None], w, 12, rng=np.random.default_rng(0), max_iter=300, tol=1e-4)
    ours = float(((x[:, None] - centers[:, 0]) ** 2).min(axis=1) @ w)
    for seed in range(5):
        res = kmeans(x[:, None], 12, sample_weight=w, rng=seed)
        assert ours <= res.inertia * (1 + 1e-6)


def test_race_with_every_start_a_finalist_is_the_best_of_all_runs():
    rng = np.random.default_rng(5)
    X = np.concatenate([rng.normal(c, 12, size=(400, 3)) for c in (40, 120, 200)])
    w = rng.integers(1, 9, size=X.shape[0]).astype(np.float64)
    s = FitSettings(k=7, init="k-means++", max_iter=30, tol=1e-4, rng=np.random.default_rng(1))
    raced = fit_best_of(X, w, s, starts=5, probe=2, finalists=5)
    s = FitSettings(k=7, init="k-means++", max_iter=30, tol=1e-4, rng=np.random.default_rng(1))
    runs = fit_starts(X, w, s, starts=5)
    errors = [float(w @ ((X[:, None, :] - c[None]) ** 2).sum(axis=2).min(axis=1)) for c in runs]
    np.testing.assert_allclose(raced, runs[int(np.argmin(errors))])


def test_race_keeps_a_run_no_worse_than_the_finalists_alone():
    rng = np.random.default_rng(6)
    X = rng.random((3000, 3)) * 255
    w = np.ones(3000)

    def err(c):
        return float(w @ ((X[:, None, :] - c[None]) ** 2).sum(axis=2).min(axis=1))

    s = FitSettings(k=9, init="k-means++", max_iter=30, tol=1e-4, rng=np.random.default_rng(2))
    raced = fit_best_of(X, w, s, starts=6, probe=2, finalists=2)
    s = FitSettings(k=9, init="k-means++", max_iter=30, tol=1e-4, rng=np.random.default_rng(2))
    runs = fit_starts(X, w, s, starts=6)
    assert any(np.array_equal(raced, c) for c in runs)  # a finalist ran to its end
    assert err(raced) <= np.median([err(c) for c in runs]) + 1e-6


def test_min_gain_stops_at_the_first_iteration_that_gains_that_little():
    rng = np.random.default_rng(7)
    X = rng.random((2000, 3)) * 255
    w = rng.integers(1, 5, size=2000).astype(np.float64)
    start = X[:12].copy()
    trace = [step.inertia for step in kmeans_steps(X, 12, sample_weight=w, init=start, tol=0)]
    gains = -np.diff(trace) / np.asarray(trace[1:])
    min_gain = float(np.median(gains[gains > 0]))
    expected = int(np.argmax(gains <= min_gain)) + 1  # iterations run
    s = FitSettings(
        k=12, init=start, max_iter=300, tol=0.0, rng=np.random.default_rng(0), min_gain=min_gain
    )
    result = fit_weighted(X, w, s)
    assert 1 <= expected < len(trace) - 1
    assert result.iteration == expected
    assert result.inertia == pytest.approx(trace[expected], rel=1e-9)


def test_race_seeded_on_other_points_starts_from_those_points():
    rng = np.random.default_rng(8)
    X = rng.random((3000, 3)) * 255
    w = np.ones(3000)
    P, wp = pool_on_grid(X, w, 3)
    s = FitSettings(k=6, init="k-means++", max_iter=1, tol=0.0, rng=np.random.default_rng(3))
    starts = fit_best_of(X, w, s, starts=1, probe=2, finalists=1, seed_on=(P, wp))
    # One update from centres drawn among the cells of P, replayed by hand.
    seeds = (
        kmeans_plusplus(P - (wp @ P) / wp.sum(), 6, sample_weight=wp, rng=3) + (wp @ P) / wp.sum()
    )
    assert all(np.isclose(P, c, atol=1e-9).all(axis=1).any() for c in seeds)
    one = kmeans(X, 6, sample_weight=w, init=seeds, max_iter=1, tol=0)
    np.testing.assert_allclose(starts, one.centers, rtol=1e-9, atol=1e-9)
