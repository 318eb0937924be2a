"""Same starting centres, tol=0: our Lloyd equals scikit-learn's Lloyd.

scikit-learn's ``KMeans(init=C0, n_init=1, tol=0, algorithm="lloyd")`` is an
outside reference, so the looser tolerance applies: identical labels and
centres equal to 1e-6 relative.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import blobs, make_quadrants

from kmeans_quant import kmeans
from kmeans_quant.color_table import color_table

sk_cluster = pytest.importorskip("sklearn.cluster")


def sklearn_lloyd(X, C0, sample_weight=None, max_iter=300):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "explicit initial center position" note
        km = sk_cluster.KMeans(
            n_clusters=len(C0),
            init=C0,
            n_init=1,
            tol=0,
            algorithm="lloyd",
            max_iter=max_iter,
        ).fit(X, sample_weight=sample_weight)
    return km


def assert_same(ours, km, X):
    np.testing.assert_array_equal(ours.labels, km.labels_)
    np.testing.assert_allclose(ours.centers, km.cluster_centers_, rtol=1e-6, atol=1e-9)
    assert ours.inertia == pytest.approx(km.inertia_, rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blobs_same_init(seed):
    X = blobs(80, seed=seed, d=2) * 3 + 50
    C0 = X[np.random.default_rng(seed).choice(len(X), 5, replace=False)]
    assert_same(kmeans(X, 5, init=C0, tol=0), sklearn_lloyd(X, C0), X)


def test_pixels_same_init():
    img = make_quadrants(40, 48, noise=25, seed=3)
    X = img.reshape(-1, 3).astype(np.float64)
    C0 = X[np.random.default_rng(0).choice(len(X), 8, replace=False)]
    assert_same(kmeans(X, 8, init=C0, tol=0), sklearn_lloyd(X, C0), X)


def test_weighted_distinct_colours_same_init():
    img = make_quadrants(40, 48, noise=25, seed=4)
    table = color_table(img.reshape(-1, 3))
    X = table.colors.astype(np.float64)
    w = table.counts.astype(np.float64)
    C0 = X[:: len(X) // 6][:6]
    assert_same(kmeans(X, 6, init=C0, sample_weight=w, tol=0), sklearn_lloyd(X, C0, w), X)


def test_capped_iterations_same_init():
    X = np.random.default_rng(9).normal(size=(600, 3))
    C0 = X[:10].copy()
    for max_iter in (1, 3):
        ours = kmeans(X, 10, init=C0, tol=0, max_iter=max_iter)
        assert_same(ours, sklearn_lloyd(X, C0, max_iter=max_iter), X)


@pytest.mark.slow
def test_many_pixels_same_init():
    # 30 000 points x 16 centres: many blocks of the distance matrix.
    img = make_quadrants(150, 200, noise=30, seed=8)
    X = img.reshape(-1, 3).astype(np.float64)
    C0 = X[np.random.default_rng(2).choice(len(X), 16, replace=False)]
    assert_same(kmeans(X, 16, init=C0, tol=0), sklearn_lloyd(X, C0), X)
