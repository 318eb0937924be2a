"""The K-Means engine on general (n, d) data: toy cases and invariants."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import blobs

from kmeans_quant import (
    DuplicateCentersWarning,
    assign_labels,
    kmeans,
    kmeans_plusplus,
    kmeans_steps,
    squared_distances,
    update_centers,
)


def sorted_centers(c: np.ndarray) -> np.ndarray:
    return c[np.lexsort(c.T[::-1])]


# ---------------------------------------------------------------- toy cases


def test_two_pairs_hand_computed():
    # {0, 2} and {10, 12}: centres 1 and 11, each point 1 away -> inertia 4.
    res = kmeans([[0.0], [2.0], [10.0], [12.0]], 2, rng=0)
    np.testing.assert_allclose(sorted_centers(res.centers), [[1.0], [11.0]])
    assert res.inertia == pytest.approx(4.0)
    assert res.labels[0] == res.labels[1] != res.labels[2] == res.labels[3]
    assert res.converged


def test_weighted_single_cluster_hand_computed():
    # Weights 3 and 1 on 0 and 10: mean 2.5, inertia 3 * 2.5**2 + 7.5**2 = 75.
    res = kmeans([[0.0], [10.0]], 1, sample_weight=[3, 1], rng=0)
    np.testing.assert_allclose(res.centers, [[2.5]])
    assert res.inertia == pytest.approx(75.0)


def test_weights_equal_repeated_points():
    X = blobs(20, seed=3)
    w = np.random.default_rng(0).integers(1, 4, size=len(X))
    init = X[[0, 25, 50]]
    a = kmeans(X, 3, sample_weight=w, init=init, tol=0)
    b = kmeans(np.repeat(X, w, axis=0), 3, init=init, tol=0)
    np.testing.assert_allclose(a.centers, b.centers, rtol=1e-12)
    assert a.inertia == pytest.approx(b.inertia, rel=1e-12)
    np.testing.assert_array_equal(np.repeat(a.labels, w), b.labels)


def test_step_functions_hand_computed():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    C = np.array([[0.0, 0.0], [5.0, 4.0]])
    D = squared_distances(X, C)
    np.testing.assert_allclose(D, [[0, 41], [1, 32], [50, 1]])
    labels, d2 = assign_labels(X, C)
    np.testing.assert_array_equal(labels, [0, 0, 1])
    np.testing.assert_allclose(d2, [0, 1, 1])
    np.testing.assert_allclose(update_centers(X, labels, 2), [[0.5, 0], [5, 5]])
    np.testing.assert_allclose(
        update_centers(X, labels, 2, sample_weight=[1, 3, 1]), [[0.75, 0], [5, 5]]
    )


def test_assignment_ties_go_to_lowest_index():
    labels, _ = assign_labels([[1.0]], [[0.0], [2.0]])
    assert labels[0] == 0


def test_distances_are_clipped_at_zero_far_from_origin():
    # Cancellation in ||x||^2 - 2x.c + ||c||^2 can go negative; never returned.
    X = np.full((5, 3), 1e8) + np.arange(5)[:, None] * 1e-3
    D = squared_distances(X, X)
    assert (D >= 0).all()


# ---------------------------------------------------------------- invariants


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    X = blobs(30).astype(dtype)
    res = kmeans(X, 3, rng=0)
    assert res.centers.dtype == dtype


def test_integer_input_computed_in_float64():
    res = kmeans(np.array([[0, 0], [0, 2], [9, 9]]), 2, rng=0)
    assert res.centers.dtype == np.float64


def test_labels_belong_to_returned_centers():
    X = blobs(50, seed=2)
    for max_iter in (1, 2, 300):
        res = kmeans(X, 5, max_iter=max_iter, rng=4)
        np.testing.assert_array_equal(assign_labels(X, res.centers)[0], res.labels)
        d2 = squared_distances(X, res.centers)[np.arange(len(X)), res.labels]
        assert res.inertia == pytest.approx(d2.sum())


def test_inertia_never_rises_and_last_step_equals_kmeans():
    X = np.random.default_rng(5).normal(size=(400, 3))
    w = np.random.default_rng(6).uniform(0.5, 3, size=400)
    steps = list(kmeans_steps(X, 7, sample_weight=w, rng=11, tol=0))
    inertias = [s.inertia for s in steps]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(inertias, inertias[1:]))
    assert [s.iteration for s in steps] == list(range(len(steps)))
    res = kmeans(X, 7, sample_weight=w, rng=11, tol=0)
    last = steps[-1]
    np.testing.assert_array_equal(last.centers, res.centers)
    np.testing.assert_array_equal(last.labels, res.labels)
    assert last.inertia == res.inertia
    assert last.iteration == res.n_iter
    assert last.converged and res.converged
    assert np.isnan(steps[0].shift) and all(s.shift >= 0 for s in steps[1:])


def test_tol_zero_runs_to_a_fixed_point():
    X = np.random.default_rng(7).normal(size=(300, 2))
    res = kmeans(X, 6, tol=0, rng=1)
    assert res.converged
    # One more update from the result must not move anything.
    again = update_centers(X, res.labels, 6)
    np.testing.assert_allclose(again, res.centers, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- over-relaxation


@pytest.mark.parametrize("relax", [1.5, 3.0, 8.0])
def test_relaxed_inertia_never_rises_and_ends_at_a_fixed_point(relax):
    X = np.random.default_rng(21).normal(size=(600, 3))
    w = np.random.default_rng(22).uniform(0.5, 3, size=600)
    steps = list(kmeans_steps(X, 9, sample_weight=w, rng=4, tol=0, relax=relax))
    inertias = [s.inertia for s in steps]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(inertias, inertias[1:]))
    assert any(s.relaxed for s in steps), "no over-relaxed step was ever accepted"
    last = steps[-1]
    assert last.converged and not last.relaxed
    # Converged means a plain step moved no label: the centres are the means
    # of their clusters and every point sits with its nearest centre.
    np.testing.assert_allclose(
        update_centers(X, last.labels, 9, sample_weight=w), last.centers, rtol=1e-12, atol=1e-12
    )
    np.testing.assert_array_equal(assign_labels(X, last.centers)[0], last.labels)
    res = kmeans(X, 9, sample_weight=w, rng=4, tol=0, relax=relax)
    np.testing.assert_array_equal(res.centers, last.centers)
    assert res.inertia == last.inertia


@pytest.mark.parametrize("relax", [1.5, 2.0, 3.0])
def test_relaxed_photo_colours_converge_about_as_fast_as_plain(relax):
    # Judged only against the inertia before the update, relax=2 reflected
    # the centres through their means over and over: 300 updates without
    # converging on these colours. Against the plain step's bound it stops.
    from pathlib import Path

    import imageio.v3 as iio

    import kmeans_quant
    from kmeans_quant.color_table import color_table

    img = iio.imread(Path(kmeans_quant.__file__).parent / "data" / "chelsea.png")
    table = color_table(img.reshape(-1, 3))
    X, w = table.colors.astype(np.float64), table.counts
    C0 = kmeans_plusplus(X, 16, sample_weight=w, rng=0)
    plain = kmeans(X, 16, sample_weight=w, init=C0)
    fast = kmeans(X, 16, sample_weight=w, init=C0, relax=relax)
    assert fast.converged
    assert fast.n_iter <= 2 * plain.n_iter
    assert fast.inertia <= plain.inertia * 1.002


def test_relax_one_is_plain_lloyd():
    X = np.random.default_rng(23).normal(size=(500, 2))
    plain = list(kmeans_steps(X, 6, rng=3, tol=0))
    same = list(kmeans_steps(X, 6, rng=3, tol=0, relax=1))
    assert len(plain) == len(same) and not any(s.relaxed for s in same)
    for a, b in zip(plain, same):
        np.testing.assert_array_equal(a.centers, b.centers)


def test_relaxed_step_is_the_stretched_plain_step():
    X = np.random.default_rng(24).normal(size=(800, 2))
    C0 = X[:5].copy()
    steps = list(kmeans_steps(X, 5, init=C0, tol=0, max_iter=5, relax=2.5))
    for prev, step in zip(steps, steps[1:]):
        means = update_centers(X, prev.labels, 5)
        expected = prev.centers + 2.5 * (means - prev.centers) if step.relaxed else means
        np.testing.assert_allclose(step.centers, expected, rtol=1e-10, atol=1e-10)
    assert not steps[-1].relaxed  # the last allowed iteration is plain


def test_max_iter_caps_iterations():
    X = np.random.default_rng(8).normal(size=(500, 2))
    res = kmeans(X, 20, max_iter=1, tol=0, rng=0)
    assert res.n_iter == 1
    assert not res.converged


def test_larger_tol_stops_earlier():
    X = np.random.default_rng(9).normal(size=(2000, 2))
    loose = kmeans(X, 10, tol=1e-1, rng=3)
    tight = kmeans(X, 10, tol=0, rng=3)
    assert loose.n_iter < tight.n_iter
    assert tight.inertia <= loose.inertia


def test_empty_cluster_is_relocated_not_nan():
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    init = np.array([[0.0], [1000.0], [-1000.0]])  # two centres start empty
    res = kmeans(X, 3, init=init, tol=0)
    assert np.isfinite(res.centers).all()
    assert len(np.unique(res.labels)) == 3
    step1 = list(kmeans_steps(X, 3, init=init, max_iter=1))[1]
    # The farthest points from centre 0 (11, then 10) took the empty clusters.
    np.testing.assert_allclose(step1.centers.ravel(), [1.0, 11.0, 10.0])


def test_duplicate_points_fewer_than_k_distinct_warn_and_no_nan():
    X = np.array([[1.0, 1.0]] * 5 + [[2.0, 2.0]] * 5)
    with pytest.warns(DuplicateCentersWarning, match=r"found 2 distinct clusters, fewer than k=4"):
        res = kmeans(X, 4, rng=0)
    assert np.isfinite(res.centers).all()
    assert res.inertia == pytest.approx(0.0)


def test_no_warning_when_there_are_enough_distinct_points():
    X = np.array([[1.0, 1.0]] * 5 + [[2.0, 2.0]] * 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(np.unique(kmeans(X, 2, rng=0).centers, axis=0)) == 2


def test_same_seed_same_result_and_generator_advances():
    X = blobs(40, seed=4)
    a, b = kmeans(X, 4, rng=123), kmeans(X, 4, rng=123)
    np.testing.assert_array_equal(a.centers, b.centers)
    gen = np.random.default_rng(5)
    c1 = kmeans_plusplus(X, 4, rng=gen)
    c2 = kmeans_plusplus(X, 4, rng=gen)
    assert not np.array_equal(c1, c2)  # the generator's state moved on


def test_no_global_random_state_touched():
    before = np.random.get_state()[1].copy()
    kmeans(blobs(30), 3, rng=0)
    kmeans(blobs(30), 3, init="random", rng=None)
    assert np.array_equal(before, np.random.get_state()[1])


def test_random_init_gives_k_distinct_points():
    X = blobs(30, seed=8)
    res = kmeans(X, 3, init="random", max_iter=1, rng=2)
    assert res.centers.shape == (3, 2)


# ---------------------------------------------------------------- k-means++


def test_kmeans_plusplus_returns_points_of_x():
    X = blobs(25, seed=1)
    C = kmeans_plusplus(X, 6, rng=0)
    assert all((np.abs(X - c).sum(axis=1) == 0).any() for c in C)
    # k = n picks every point once.
    Call = kmeans_plusplus(X[:10], 10, rng=0)
    assert sorted(map(tuple, Call)) == sorted(map(tuple, X[:10]))


def test_kmeans_plusplus_skips_zero_weight_points():
    X = np.array([[0.0], [1.0], [100.0], [101.0]])
    for seed in range(20):
        C = kmeans_plusplus(X, 2, sample_weight=[0, 1, 0, 1], rng=seed)
        assert set(C.ravel()) == {1.0, 101.0}


def test_kmeans_plusplus_one_seed_per_blob():
    X = blobs(40, seed=2)
    for seed in range(10):
        C = kmeans_plusplus(X, 3, rng=seed)
        labels, _ = assign_labels(X, C)
        assert len(np.unique(labels[::40])) == 3


def test_seeding_quality_matches_scikit_learn():
    sk = pytest.importorskip("sklearn.cluster")
    X = np.random.default_rng(0).normal(size=(3000, 3)) * [1, 2, 3]
    X[:1000] += 10
    w = np.random.default_rng(1).uniform(0.1, 5, size=len(X))
    ours, theirs = [], []
    for seed in range(30):
        for centres, bucket in (
            (kmeans_plusplus(X, 16, sample_weight=w, rng=seed), ours),
            (sk.kmeans_plusplus(X, 16, sample_weight=w, random_state=seed)[0], theirs),
        ):
            bucket.append(w @ squared_distances(X, centres).min(axis=1))
    # Same algorithm, different random draws: averages within a few percent.
    assert np.mean(ours) <= 1.05 * np.mean(theirs)


@pytest.mark.parametrize("k", [1, 5, 32])
def test_column_assignment_equals_row_wise(monkeypatch, k):
    """Few centres take the (k, rows) path; it must agree with argmin by rows."""
    import kmeans_quant.engine._steps as steps

    rng = np.random.default_rng(k)
    X = rng.integers(0, 6, size=(3000, 3)).astype(np.float64)  # many exact ties
    C = rng.integers(0, 6, size=(k, 3)).astype(np.float64)
    fast = assign_labels(X, C)
    monkeypatch.setattr(steps, "_COLUMNS_MAX_K", 0)
    rowwise = assign_labels(X, C)
    np.testing.assert_array_equal(fast[0], rowwise[0])
    np.testing.assert_allclose(fast[1], rowwise[1], atol=1e-9)
    # Ties go to the lowest centre index on both paths.
    D = squared_distances(X, C)
    np.testing.assert_array_equal(fast[0], D.argmin(axis=1))


def test_batched_seeding_of_one_start_is_the_lone_seeding():
    from kmeans_quant.engine._seeding import plusplus_starts

    rng = np.random.default_rng(11)
    X = rng.normal(size=(500, 3))
    w = rng.integers(1, 5, size=500).astype(np.float64)
    one = plusplus_starts(X, w, k=9, rng=np.random.default_rng(4), starts=1)
    np.testing.assert_array_equal(one[0], kmeans_plusplus(X, 9, sample_weight=w, rng=4))


def test_batched_seeding_gives_distinct_starts_of_points_of_x():
    from kmeans_quant.engine._seeding import plusplus_starts

    rng = np.random.default_rng(12)
    X = rng.normal(size=(400, 2))
    seeds = plusplus_starts(X, np.ones(400), k=6, rng=np.random.default_rng(0), starts=5)
    assert seeds.shape == (5, 6, 2)
    for seed in seeds:
        assert np.unique(seed, axis=0).shape[0] == 6
        assert all((X == c).all(axis=1).any() for c in seed)
    assert len({seed.tobytes() for seed in seeds}) == 5
    again = plusplus_starts(X, np.ones(400), k=6, rng=np.random.default_rng(0), starts=5)
    np.testing.assert_array_equal(seeds, again)


@pytest.mark.parametrize("k", [33, 48, 63])
def test_assignment_with_padded_centres_matches_the_distance_matrix(k):
    rng = np.random.default_rng(k)
    X = rng.normal(size=(3000, 3)).astype(np.float32)
    C = rng.normal(size=(k, 3)).astype(np.float32)
    labels, d2 = assign_labels(X, C)
    D = ((X[:, None, :].astype(np.float64) - C[None].astype(np.float64)) ** 2).sum(axis=2)
    assert labels.max() < k
    np.testing.assert_allclose(D[np.arange(3000), labels], D.min(axis=1), atol=1e-4)
    np.testing.assert_allclose(d2, D.min(axis=1), atol=1e-4)


# --------------------------------------------------------------------------
# sampling mode
# --------------------------------------------------------------------------


def test_sampling_mode_fits_a_sample_and_labels_every_point():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 3)) + rng.integers(0, 5, size=(20000, 1)) * 4
    w = rng.uniform(0.5, 2.0, size=len(X))
    res = kmeans(X, 8, sample_weight=w, rng=1, sample=3000)
    assert res.sample_size == 3000
    labels, d2 = assign_labels(X, res.centers)
    np.testing.assert_array_equal(res.labels, labels)
    assert res.inertia == pytest.approx(float(w @ d2), rel=1e-9)
    full = kmeans(X, 8, sample_weight=w, rng=1)
    assert full.sample_size is None
    assert res.inertia <= 1.05 * full.inertia


def test_sampling_mode_with_a_sample_as_large_as_the_data_is_plain_kmeans():
    X = np.random.default_rng(2).normal(size=(500, 2))
    res = kmeans(X, 4, rng=3, sample=500)
    plain = kmeans(X, 4, rng=3)
    assert res.sample_size is None
    np.testing.assert_array_equal(res.centers, plain.centers)


@pytest.mark.parametrize(
    ("sample", "error", "match"),
    [
        (3, ValueError, "sample=3 must be at least k=5"),
        (0, ValueError, "sample must be a positive integer, got 0"),
        (2.5, TypeError, "sample must be a positive integer, got 2.5"),
    ],
)
def test_sampling_mode_rejects_bad_sizes(sample, error, match):
    X = np.random.default_rng(4).normal(size=(100, 2))
    with pytest.raises(error, match=match):
        kmeans(X, 5, sample=sample)
