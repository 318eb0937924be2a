"""Checks for the notebook exercises: your steps against the library's two versions.

Each check runs your function on a few small cases and compares the result
with two references that the test suite holds equal to each other: the
plain-loops oracle :mod:`kmeans_quant.naive` (one number at a time, the
maths beside each line) and the vectorized engine
(:func:`kmeans_quant.assign_labels`, :func:`kmeans_quant.update_centers`).
A failure names the case, the point or centre that differs, and the
expected and computed values, so you can find the slip.

>>> from checks import check_assignment
>>> import numpy as np
>>> check_assignment(lambda X, C: np.zeros(len(X), dtype=int))
Traceback (most recent call last):
...
AssertionError: assignment, case 'toy': point 2 at [4, 0] should get label 1 (squared ...
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kmeans_quant import assign_labels, naive, update_centers


def _cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, points X, centres C): a hand-made toy, a tie, random 2-D and RGB data."""
    rng = np.random.default_rng(2024)
    toy_X = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [5.0, 1.0], [4.0, 1.0]])
    tie_X = np.array([[1.0, 0.0], [0.0, 0.0], [2.0, 0.0]])  # point 0 is equidistant
    blobs = np.concatenate([rng.normal(size=(40, 2)) + c for c in ([0, 0], [6, 1], [2, 6])])
    rgb = rng.integers(0, 256, size=(200, 3)).astype(np.float64)
    return [
        ("toy", toy_X, np.array([[0.0, 0.5], [4.0, 0.0]])),
        ("tie (lowest index wins)", tie_X, np.array([[0.0, 0.0], [2.0, 0.0]])),
        ("three blobs", blobs, blobs[[0, 50, 100]]),
        ("random RGB colours", rgb, rgb[:8]),
    ]


def _fmt(v) -> str:
    return "[" + ", ".join(f"{float(x):.4g}" for x in np.ravel(v)) + "]"


def check_assignment(assign: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    r"""Check ``assign(X, C) -> labels``: each point's nearest centre, ties to the lowest index.

    .. math:: l_i = \arg\min_j \lVert x_i - c_j \rVert^2

    Raises AssertionError naming the first point whose label is wrong.
    """
    for name, X, C in _cases():
        got = np.asarray(assign(X.copy(), C.copy()))
        if got.shape != (len(X),):
            raise AssertionError(
                f"assignment, case {name!r}: expected one label per point, shape "
                f"({len(X)},), got shape {got.shape}"
            )
        oracle, _ = naive.assign_points(X.tolist(), C.tolist())
        engine, _ = assign_labels(X, C)
        # The two references agree; if not, the library itself is broken.
        assert list(engine) == oracle, f"naive and engine disagree on case {name!r}"
        d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
        for i in np.flatnonzero(got != engine):
            want, have = int(engine[i]), int(got[i])
            have_d = (
                f"squared distance {d2[i, have]:.4g} to centre {have}"
                if 0 <= have < len(C)
                else "which is not a centre index"
            )
            raise AssertionError(
                f"assignment, case {name!r}: point {i} at {_fmt(X[i])} should get label "
                f"{want} (squared distance {d2[i, want]:.4g} to centre {want}), got {have} "
                f"({have_d})"
            )
    print(f"assignment: all {len(_cases())} cases agree with kmeans_quant.naive and the engine")


def check_update(update: Callable[[np.ndarray, np.ndarray, int], np.ndarray]) -> None:
    r"""Check ``update(X, labels, k) -> centres``: each centre the mean of its points.

    .. math:: c_j = \frac{1}{|S_j|} \sum_{i \in S_j} x_i

    The cases have no empty cluster. Raises AssertionError naming the first
    centre that differs (by more than 1e-9 relative).
    """
    for name, X, C in _cases():
        labels, d2 = assign_labels(X, C)
        k = len(C)
        got = np.asarray(update(X.copy(), labels.copy(), k), dtype=float)
        if got.shape != C.shape:
            raise AssertionError(
                f"update, case {name!r}: expected centres of shape {C.shape} (k, n_features), "
                f"got shape {got.shape}"
            )
        oracle = np.array(naive.update_centers(X.tolist(), labels.tolist(), k))
        engine = update_centers(X, labels, k, min_sq_dist=d2)
        assert np.allclose(oracle, engine, rtol=1e-12, atol=1e-9), name
        bad = ~np.isclose(got, engine, rtol=1e-9, atol=1e-9).all(axis=1)
        for j in np.flatnonzero(bad):
            members = np.flatnonzero(labels == j)
            raise AssertionError(
                f"update, case {name!r}: centre {j} (mean of the {len(members)} points "
                f"labelled {j}) should be {_fmt(engine[j])}, got {_fmt(got[j])}"
            )
    print(f"update: all {len(_cases())} cases agree with kmeans_quant.naive and the engine")
