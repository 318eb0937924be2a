"""The plain-loops K-Means (kmeans_quant.naive) as the engine's oracle.

Hand-computed cases check each loop step on its own; the oracle tests then
run the loops and the vectorized engine from the same starting centres (or
the same seed) and require the same labels, iteration count and stopping
verdict, and centres and inertia equal to 1e-9.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

import kmeans_quant
from kmeans_quant import naive
from kmeans_quant.engine import KMeansResult

CHELSEA = Path(kmeans_quant.__file__).parent / "data" / "chelsea.png"


# ---------------------------------------------------------------- data


def chelsea_pixels() -> np.ndarray:
    """The colours of a 24 x 20 crop of the cat (fur and background), as floats."""
    img = iio.imread(CHELSEA)
    return img[90:114, 190:210].reshape(-1, 3).astype(np.float64)


def gaussian_blobs(seed: int = 0) -> np.ndarray:
    """Five overlapping 2-D Gaussian blobs, 60 points each."""
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 0.0], [4.0, 0.5], [1.0, 4.0], [5.0, 5.0], [-3.0, 3.0]])
    return np.concatenate([m + rng.normal(size=(60, 2)) for m in means])


DATASETS = {"chelsea_pixels": (chelsea_pixels, 6), "blobs": (gaussian_blobs, 5)}


def assert_same_result(a: KMeansResult, b: KMeansResult) -> None:
    """The oracle's standard: equal labels and counts, floats to 1e-9."""
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_allclose(a.centers, b.centers, rtol=1e-9, atol=1e-9)
    assert a.n_iter == b.n_iter
    assert a.converged == b.converged
    assert a.inertia == pytest.approx(b.inertia, rel=1e-9)


# ---------------------------------------------------------------- step functions, by hand


def test_euclidean_distance_sq_hand_computed():
    assert naive.euclidean_distance_sq([0.0, 0.0], [3.0, 4.0]) == 25.0
    # (1-4)^2 + (2-2)^2 + (3-(-1))^2 = 9 + 0 + 16
    assert naive.euclidean_distance_sq([1, 2, 3], [4, 2, -1]) == 25.0
    assert naive.euclidean_distance_sq([7.5], [7.5]) == 0.0


def test_nearest_center_picks_minimum_and_lowest_index_on_ties():
    centers = [[0.0, 0.0], [10.0, 0.0], [4.0, 3.0]]
    # distances^2 from (4, 0): 16, 36, 9
    assert naive.nearest_center([4.0, 0.0], centers) == (2, 9.0)
    # (5, 0) is 25 from centres 0 and 1 and 9 + 1 = 10 from centre 2
    assert naive.nearest_center([5.0, 0.0], centers) == (2, 10.0)
    # (5, -10) is 125 from centres 0 and 1 (a tie) and 1 + 169 from centre 2
    assert naive.nearest_center([5.0, -10.0], centers) == (0, 125.0)
    # duplicated centres: the first copy wins
    assert naive.nearest_center([1.0], [[3.0], [2.0], [2.0]]) == (1, 1.0)


def test_assign_points_hand_computed():
    X = [[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]]
    C = [[0.0, 0.0], [5.0, 4.0]]
    labels, d2 = naive.assign_points(X, C)
    assert labels == [0, 0, 1]
    assert d2 == [0.0, 1.0, 1.0]


def test_update_centers_weighted_means_hand_computed():
    X = [[0.0, 0.0], [2.0, 0.0], [10.0, 4.0], [20.0, 8.0]]
    # cluster 0: plain mean (1, 0); cluster 1: (1*10 + 3*20) / 4 = 17.5, (4 + 24) / 4 = 7
    centers = naive.update_centers(X, [0, 0, 1, 1], 2, sample_weight=[1, 1, 1, 3])
    assert centers == [[1.0, 0.0], [17.5, 7.0]]


def test_update_centers_empty_cluster_takes_farthest_point():
    X = [[0.0], [1.0], [2.0], [30.0]]
    # Cluster 1 is empty; point 3 (squared distance 400) is the farthest and
    # moves to it, so cluster 0 keeps {0, 1, 2} with mean 1.
    centers = naive.update_centers(X, [0, 0, 0, 0], 2, min_sq_dist=[100, 81, 64, 400])
    assert centers == [[1.0], [30.0]]


def test_update_centers_several_empty_clusters_in_order():
    X = [[0.0], [1.0], [5.0], [9.0]]
    # Clusters 1 and 2 are empty. Farthest first: point 3 (d^2 = 16) goes to
    # cluster 1, then point 2 (9) to cluster 2; cluster 0 keeps {0, 1}.
    centers = naive.update_centers(X, [0, 0, 0, 0], 3, min_sq_dist=[1.0, 0.0, 9.0, 16.0])
    assert centers == [[0.5], [9.0], [5.0]]
    # Now clusters 1 and 3 are empty and points 2, 3 form cluster 2. Point 3
    # moves to cluster 1; point 2 is then cluster 2's last point and may not
    # leave, so cluster 3 stays empty and sits on the farthest point (9.0).
    centers = naive.update_centers(X, [0, 0, 2, 2], 4, min_sq_dist=[1.0, 0.0, 9.0, 16.0])
    assert centers == [[0.5], [9.0], [5.0], [9.0]]


def test_update_centers_donor_keeps_its_last_point():
    X = [[0.0], [1.0], [50.0]]
    # Cluster 1 holds only point 2, the farthest; it may not be emptied, so
    # cluster 2 (empty) ends on the farthest point too.
    centers = naive.update_centers(X, [0, 0, 1], 3, min_sq_dist=[0.25, 0.25, 4.0])
    assert centers == [[0.5], [50.0], [50.0]]


def test_update_centers_left_empty_sits_on_the_first_farthest_point():
    # Cluster 2 is empty; the farthest point (a tie: the later index, 1) is
    # cluster 1's only point and stays. Cluster 2 then sits on the first of
    # the equally farthest points, point 0.
    centers = naive.update_centers([[0.0], [5.0]], [0, 1], 3, min_sq_dist=[0.0, 0.0])
    assert centers == [[0.0], [5.0], [0.0]]


def test_update_centers_equal_distances_hand_out_the_last_point_first():
    # Mirrors the engine's reversed stable sort: with equal distances the
    # highest index is "farthest".
    centers = naive.update_centers([[0.0], [1.0], [2.0]], [0, 0, 0], 2)
    assert centers == [[0.5], [2.0]]


def test_centers_shift_and_tolerance_and_inertia_hand_computed():
    assert naive.centers_shift([[0.0, 0.0], [1.0, 1.0]], [[3.0, 4.0], [1.0, 2.0]]) == 26.0
    # weighted mean of x: (0*3 + 4*1) / 4 = 1, variance (3*1 + 1*9) / 4 = 3;
    # y is constant (variance 0); mean variance 1.5, times tol 0.1
    X = [[0.0, 7.0], [4.0, 7.0]]
    assert naive.scaled_tolerance(X, [3.0, 1.0], 0.1) == pytest.approx(0.15, rel=1e-15)
    assert naive.scaled_tolerance(X, [3.0, 1.0], 0.0) == 0.0
    assert naive.inertia([1.0, 2.0, 0.0], [4.0, 0.5, 99.0]) == 5.0


def test_sample_index_inverts_the_cumulative_distribution():
    cumulative = [1.0, 1.0, 4.0, 6.0]  # masses 1, 0, 3, 2
    assert naive.sample_index(cumulative, 0.0) == 0
    assert naive.sample_index(cumulative, 0.999) == 0
    assert naive.sample_index(cumulative, 1.0) == 2  # the zero mass is skipped
    assert naive.sample_index(cumulative, 5.5) == 3
    assert naive.sample_index(cumulative, 6.0) == 3  # at the end: clipped to n - 1
    assert naive.sample_index([0.0, 0.0, 0.0], 0.0) == 2


# ---------------------------------------------------------------- k-means++


def test_kmeans_plusplus_hand_cases():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    # all weight on point 2: the first draw can only pick it
    for seed in range(5):
        np.testing.assert_array_equal(
            naive.kmeans_plusplus(X, 1, sample_weight=[0, 0, 1, 0], rng=seed), [[2.0]]
        )
    # two far groups: one start in each, whatever the seed
    Y = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]])
    for seed in range(5):
        C = naive.kmeans_plusplus(Y, 2, rng=seed)
        assert sorted(bool(c[0] > 5) for c in C) == [False, True]


def test_kmeans_plusplus_equal_potentials_keep_the_first_candidate():
    # The heavy middle point is the first centre; -1 and +1 then leave the
    # same potential, so which one wins depends only on the order of the
    # draws. Both versions must keep the first drawn of equal candidates.
    X = np.array([[-1.0], [0.0], [1.0]])
    w = [1.0, 1e6, 1.0]
    seconds = set()
    for seed in range(20):
        fast = kmeans_quant.kmeans_plusplus(X, 2, sample_weight=w, rng=seed)
        slow = naive.kmeans_plusplus(X, 2, sample_weight=w, rng=seed)
        np.testing.assert_array_equal(fast, slow)
        seconds.add(float(slow[1, 0]))
    assert seconds == {-1.0, 1.0}


@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("weighted", [False, True])
def test_kmeans_plusplus_same_seed_same_centres_and_draws(name, weighted):
    make, k = DATASETS[name]
    X = make()
    w = np.random.default_rng(7).uniform(0.5, 3.0, len(X)) if weighted else None
    for seed in range(4):
        g_fast, g_naive = np.random.default_rng(seed), np.random.default_rng(seed)
        fast = kmeans_quant.kmeans_plusplus(X, k, sample_weight=w, rng=g_fast)
        slow = naive.kmeans_plusplus(X, k, sample_weight=w, rng=g_naive)
        np.testing.assert_array_equal(fast, slow)
        # Both consumed the Generator identically: the next draws agree.
        np.testing.assert_array_equal(g_fast.uniform(size=3), g_naive.uniform(size=3))


def test_kmeans_plusplus_keeps_float32():
    X = gaussian_blobs().astype(np.float32)
    C = naive.kmeans_plusplus(X, 3, rng=0)
    assert C.dtype == np.float32
    np.testing.assert_array_equal(C, kmeans_quant.kmeans_plusplus(X, 3, rng=0))


# ---------------------------------------------------------------- the oracle


@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("tol", [0.0, 1e-4, 1e-2])
def test_same_start_same_result(name, weighted, tol):
    make, k = DATASETS[name]
    X = make()
    w = np.random.default_rng(3).integers(1, 5, len(X)).astype(float) if weighted else None
    # k random points as starts: worse than k-means++, so the runs are longer
    init = X[np.random.default_rng(11).choice(len(X), k, replace=False)]
    fast = kmeans_quant.kmeans(X, k, sample_weight=w, init=init, tol=tol)
    slow = naive.kmeans(X, k, sample_weight=w, init=init, tol=tol)
    assert slow.n_iter >= 5  # a real run, not a start that is already a fixed point
    assert_same_result(fast, slow)


def test_tolerance_can_stop_before_the_labels_settle():
    X = chelsea_pixels()
    init = X[np.random.default_rng(11).choice(len(X), 6, replace=False)]
    exact = naive.kmeans(X, 6, init=init, tol=0)
    loose = naive.kmeans(X, 6, init=init, tol=1e-2)
    # tol = 1e-2 stops on the shift rule well before the labels stop changing
    assert loose.converged and loose.n_iter < exact.n_iter
    assert loose.inertia >= exact.inertia
    assert_same_result(kmeans_quant.kmeans(X, 6, init=init, tol=1e-2), loose)


@pytest.mark.parametrize("name", list(DATASETS))
def test_same_seed_same_result(name):
    make, k = DATASETS[name]
    X = make()
    for seed in (0, 1):
        assert_same_result(kmeans_quant.kmeans(X, k, rng=seed), naive.kmeans(X, k, rng=seed))


def test_max_iter_cap_agrees_and_reports_not_converged():
    X = gaussian_blobs(seed=2)
    init = X[:5]  # five starts in one blob: many updates are needed
    fast = kmeans_quant.kmeans(X, 5, init=init, max_iter=2, tol=0)
    slow = naive.kmeans(X, 5, init=init, max_iter=2, tol=0)
    assert slow.n_iter == 2 and not slow.converged
    assert_same_result(fast, slow)


def test_inertia_is_the_weighted_sse_of_the_returned_centres():
    X = gaussian_blobs(seed=4)
    w = np.random.default_rng(0).uniform(0.1, 2.0, len(X))
    res = naive.kmeans(X, 4, sample_weight=w, rng=0)
    d2 = ((X - res.centers[res.labels]) ** 2).sum(axis=1)
    assert res.inertia == pytest.approx(float(w @ d2), rel=1e-12)
    # labels are the nearest of the returned centres
    full = ((X[:, None, :] - res.centers[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(res.labels, full.argmin(axis=1))


# ---------------------------------------------------------------- empty clusters


def test_empty_clusters_agree_and_stay_finite():
    X = np.array([[0.0], [1.0], [2.0], [3.5], [10.0], [11.0], [12.5], [40.0]])
    # Centres 100 and 200 get no points at iteration 0: both are refilled.
    init = np.array([[0.0], [1.0], [100.0], [200.0]])
    fast = kmeans_quant.kmeans(X, 4, init=init, tol=0)
    slow = naive.kmeans(X, 4, init=init, tol=0)
    assert np.isfinite(slow.centers).all()
    assert len(np.unique(slow.labels)) == 4  # every cluster ends with points
    assert_same_result(fast, slow)


def test_zero_weight_points_do_not_fill_a_cluster():
    X = gaussian_blobs(seed=5)
    w = np.ones(len(X))
    w[::7] = 0.0  # a cluster holding only these would count as empty
    init = np.concatenate([X[:3], X[::7][:2]])
    fast = kmeans_quant.kmeans(X, 5, sample_weight=w, init=init, tol=0)
    slow = naive.kmeans(X, 5, sample_weight=w, init=init, tol=0)
    assert np.isfinite(slow.centers).all()
    assert_same_result(fast, slow)


def test_more_clusters_than_distinct_points_agree():
    X = np.array([[0.0], [0.0], [0.0], [5.0], [5.0]])
    init = np.array([[0.0], [5.0], [100.0]])
    with pytest.warns(kmeans_quant.DuplicateCentersWarning):
        fast = kmeans_quant.kmeans(X, 3, init=init)
    slow = naive.kmeans(X, 3, init=init)
    # the third centre can only land on an existing point: 5.0
    np.testing.assert_array_equal(slow.centers, [[0.0], [5.0], [5.0]])
    np.testing.assert_array_equal(slow.labels, [0, 0, 0, 1, 1])
    assert slow.inertia == 0.0
    assert_same_result(fast, slow)
    # Here the farthest point (a tie: the last, 5.0) is its cluster's only
    # point, so the third centre stays empty and falls back to the first of
    # the equally farthest points, 0.0, in the loops and in the engine.
    with pytest.warns(kmeans_quant.DuplicateCentersWarning):
        fast = kmeans_quant.kmeans([[0.0], [0.0], [5.0]], 3, init=init)
    slow = naive.kmeans([[0.0], [0.0], [5.0]], 3, init=init)
    np.testing.assert_array_equal(slow.centers, [[0.0], [5.0], [0.0]])
    assert_same_result(fast, slow)


def test_float32_data_gives_float32_centres_close_to_the_engine():
    X = gaussian_blobs(seed=6).astype(np.float32)
    init = X[[0, 60, 120, 180, 240]]
    fast = kmeans_quant.kmeans(X, 5, init=init, tol=0)
    slow = naive.kmeans(X, 5, init=init, tol=0)
    assert slow.centers.dtype == np.float32
    # the engine computes in float32 and the loops in double: near, not equal
    np.testing.assert_allclose(slow.centers, fast.centers, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- recolor


def test_recolor_hand_computed_rgb_and_grey():
    img = np.array([[[10, 10, 10], [250, 240, 230]]], dtype=np.uint8)
    out = naive.recolor(img, [[0, 0, 0], [255, 255, 255]])
    np.testing.assert_array_equal(out, [[[0, 0, 0], [255, 255, 255]]])
    assert out.dtype == np.uint8
    grey = np.array([[0, 100, 128], [200, 255, 64]], dtype=np.uint8)
    # 64 is exactly halfway between 0 and 128: the lower index (0) wins
    np.testing.assert_array_equal(
        naive.recolor(grey, [0, 128, 255]), [[0, 128, 128], [255, 255, 0]]
    )
    np.testing.assert_array_equal(
        naive.recolor(grey, [128, 0, 255]), [[0, 128, 128], [255, 255, 128]]
    )


def test_recolor_float_image():
    img = np.array([[0.1, 0.45], [0.55, 0.9]])
    np.testing.assert_array_equal(naive.recolor(img, [[0.0], [1.0]]), [[0.0, 0.0], [1.0, 1.0]])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recolor_matches_the_image_api(seed):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, size=(12, 14, 3), dtype=np.uint8)
    # kmeans_quant.recolor breaks ties towards the lexicographically smallest
    # colour; sorting the palette that way makes lowest index mean the same.
    palette = np.unique(rng.integers(0, 256, size=(8, 3), dtype=np.uint8), axis=0)
    np.testing.assert_array_equal(naive.recolor(img, palette), kmeans_quant.recolor(img, palette))
    grey = img[..., 0]
    gpal = np.unique(rng.integers(0, 256, size=6, dtype=np.uint8))
    np.testing.assert_array_equal(naive.recolor(grey, gpal), kmeans_quant.recolor(grey, gpal))


def test_recolor_accepts_a_palette_object():
    img = iio.imread(CHELSEA)[100:110, 200:212]
    pal = kmeans_quant.extract_palette(img, 4)
    sorted_pal = np.unique(pal.colors, axis=0)
    np.testing.assert_array_equal(naive.recolor(img, pal), naive.recolor(img, sorted_pal))
    np.testing.assert_array_equal(naive.recolor(img, sorted_pal), kmeans_quant.quantize(img, 4))


# ---------------------------------------------------------------- errors


def test_kmeans_errors():
    X = gaussian_blobs()[:10]
    with pytest.raises(ValueError, match=r"k=11 must not exceed n_samples=10"):
        naive.kmeans(X, 11)
    with pytest.raises(ValueError, match=r"init='random' is not implemented in kmeans_quant.nai"):
        naive.kmeans(X, 2, init="random")
    with pytest.raises(ValueError, match=r"init must be 'k-means\+\+' or an array .* got 'kmeans'"):
        naive.kmeans(X, 2, init="kmeans")
    with pytest.raises(ValueError, match=r"init centres must have shape .* \(2, 2\), got \(3, 2\)"):
        naive.kmeans(X, 2, init=X[:3])
    # the shared checks of kmeans_quant._validation are wired in
    with pytest.raises(TypeError, match=r"k must be a positive integer, got 2.0"):
        naive.kmeans(X, 2.0)
    with pytest.raises(ValueError, match=r"X must be 2-D .* got shape \(10,\)"):
        naive.kmeans(X[:, 0], 2)
    with pytest.raises(TypeError, match=r"max_iter must be a positive integer, got 0.5"):
        naive.kmeans(X, 2, max_iter=0.5)
    with pytest.raises(ValueError, match=r"tol must be a non-negative finite number, got -1"):
        naive.kmeans(X, 2, tol=-1)
    with pytest.raises(ValueError, match=r"sample_weight must be non-negative"):
        naive.kmeans(X, 2, sample_weight=-np.ones(10))
    with pytest.raises(TypeError, match=r"rng must be None, an int seed or a numpy.random.Gen"):
        naive.kmeans(X, 2, rng="seed")


def test_kmeans_plusplus_errors():
    X = gaussian_blobs()[:4]
    with pytest.raises(ValueError, match=r"k=5 must not exceed n_samples=4"):
        naive.kmeans_plusplus(X, 5)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(4,\)"):
        naive.kmeans_plusplus(X, 2, sample_weight=[1.0, 2.0])


def test_recolor_errors():
    # The oracle checks its input with the same checkers, and words, as recolor.
    img = np.zeros((2, 3, 3), dtype=np.uint8)
    with pytest.raises(TypeError, match=r"image must be a numpy.ndarray .* got list"):
        naive.recolor(img.tolist(), [[0, 0, 0]])
    with pytest.raises(TypeError, match=r"image dtype must be uint8, uint16 or float .* got bool"):
        naive.recolor(np.zeros((2, 2), dtype=bool), [0])
    with pytest.raises(
        ValueError, match=r"shape \(H, W\), \(H, W, 3\) or \(H, W, 4\), got \(2, 3, 5\)"
    ):
        naive.recolor(np.zeros((2, 3, 5), dtype=np.uint8), [[0, 0, 0]])
    with pytest.raises(TypeError, match=r"palette must hold real numbers, got dtype <U3"):
        naive.recolor(img, [["red", "red", "red"]])
    with pytest.raises(ValueError, match=r"palette must have shape \(m, 3\) .* got \(2, 2\)"):
        naive.recolor(img, [[0, 0], [1, 1]])
    with pytest.raises(ValueError, match=r"palette must have shape \(m, 3\) .* got \(0, 3\)"):
        naive.recolor(img, np.zeros((0, 3)))
    with pytest.raises(
        ValueError,
        match=r"palette values must lie in \[0, 255\] for a uint8 image, got range \[0, 256\]",
    ):
        naive.recolor(img, [[0, 0, 0], [256, 0, 0]])


@pytest.mark.parametrize("shape", [(4, 5), (4, 5, 3), (4, 5, 4)])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_recolor_equals_engine_on_every_layout(shape, dtype):
    rng = np.random.default_rng(len(shape))
    img = rng.integers(0, 256, shape).astype(dtype)
    if dtype == np.uint16:
        img *= 257
    elif dtype == np.float32:
        img /= 255
    c = 1 if len(shape) == 2 else 3
    pal = np.unique(img[..., :c].reshape(-1, c)[::5], axis=0)  # lexicographic: the tie order
    np.testing.assert_array_equal(naive.recolor(img, pal), kmeans_quant.recolor(img, pal))
