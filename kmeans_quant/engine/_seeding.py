r"""Choosing the starting centres: greedy weighted k-means++ and random picks.

k-means++ (Arthur & Vassilvitskii, 2007) picks the first centre at random,
then each next one with probability proportional to :math:`w_i D(x_i)^2`,
the weighted squared distance to the nearest centre chosen so far. Spreading
the starts out this way makes Lloyd's iterations converge faster and to a
better optimum, in expectation within :math:`O(\log k)` of the best.

The *greedy* variant draws several candidates per pick and keeps the one
that lowers the potential :math:`\phi = \sum_i w_i D(x_i)^2` the most;
scikit-learn uses :math:`2 + \lfloor \ln k \rfloor` candidates, and so do we.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import RNGLike, check_rng, check_weighted_data
from ._steps import BLAS_ONE_THREAD, CHUNK_BLOCKS, THREAD_MIN_ELEMENTS, row_norms_sq, transposed
from ._threads import get_num_threads, run_chunks

__all__ = ["kmeans_plusplus", "plusplus_centers", "plusplus_starts", "random_centers"]


def plusplus_centers(
    X: NDArray,
    w: NDArray,
    *,
    k: int,
    rng: np.random.Generator,
    given: NDArray | None = None,
) -> NDArray:
    """Greedy weighted k-means++ on clean input. Returns ``(k, d)`` centres.

    With ``given`` (g, d), ``1 <= g <= k``, those are the first ``g``
    centres and the other ``k - g`` are drawn as if k-means++ had chosen
    them: a warm start, or centres that must stay where they are.
    """
    return plusplus_starts(X, w, k=k, rng=rng, starts=1, given=given)[0]


def plusplus_starts(
    X: NDArray,
    w: NDArray,
    *,
    k: int,
    rng: np.random.Generator,
    starts: int,
    given: NDArray | None = None,
) -> NDArray:
    """``starts`` independent greedy k-means++ seedings, ``(starts, k, d)``, drawn together.

    Every pick is made for all the starts at once: one uniform draw per
    start for the first centre, then ``(starts, n_trials)`` draws per
    further centre, so one start uses the Generator exactly as a lone
    seeding does. ``given`` (g, d) fixes the first ``g`` centres of every
    start (see :func:`plusplus_centers`).

    Works in float64 on the points laid out as the rows of
    ``[X^T; 1; ||x||^2]``, so that one product with ``[-2c, ||c||^2, 1]``
    gives the squared distances from every candidate ``c`` to every point
    as contiguous rows, with no further pass over them. The starts' CDFs
    are searched as one increasing array (each offset by the totals of the
    starts before it).
    """
    n, d = X.shape
    n_local_trials = 2 + int(math.log(k))
    w64 = w.astype(np.float64, copy=False)
    points = np.empty((d + 2, n))
    transposed(X, out=points[:d])
    points[d] = 1
    points[d + 1] = row_norms_sq(X)
    centers = np.empty((starts, k, d), dtype=X.dtype)
    every = np.arange(starts)

    def nearer(idx: NDArray, closest: NDArray | None) -> tuple[NDArray, NDArray]:
        """Squared distances from the points ``idx`` to every point, each
        lowered to ``closest`` (one row per start, ``idx`` grouped by start),
        and the potential ``sum_i w_i d_i`` of every row.

        Large ones are cut into chunks of columns that threads take one at a
        time; each chunk's potentials are kept apart and added in chunk
        order, so the result does not depend on the number of threads.
        """
        rows = idx.size
        # Row r: [-2 x, ||x||^2, 1] of candidate x = X[idx[r]].
        coef = np.empty((rows, d + 2))
        np.multiply(X[idx], -2, out=coef[:, :d])
        coef[:, d] = points[d + 1, idx]
        coef[:, d + 1] = 1
        D = np.empty((rows, n))
        per_start = D.reshape(starts, rows // starts, n)
        # Column blocks small enough for BLAS to stay on one thread.
        block = max(1, BLAS_ONE_THREAD // (rows * (d + 2)))
        if rows * n < THREAD_MIN_ELEMENTS and n <= block:  # one product: no chunks
            np.matmul(coef, points, out=D)
            np.maximum(D, 0, out=D)
            if closest is not None:
                np.minimum(per_start, closest[:, None, :], out=per_start)
            return D, np.einsum("rn,n->r", D, w64)  # no BLAS: see weighted_sum
        chunk = block * CHUNK_BLOCKS
        parts = np.empty((-(-n // chunk), rows))

        def work(lo: int, hi: int) -> None:
            for b0 in range(lo, hi, block):
                b1 = min(b0 + block, hi)
                np.matmul(coef, points[:, b0:b1], out=D[:, b0:b1])
            part = D[:, lo:hi]
            np.maximum(part, 0, out=part)
            if closest is not None:
                mine = per_start[:, :, lo:hi]
                np.minimum(mine, closest[:, None, lo:hi], out=mine)
            parts[lo // chunk] = np.einsum("rn,n->r", part, w64[lo:hi])

        big = rows * n >= THREAD_MIN_ELEMENTS
        run_chunks(work, n, chunk=chunk, threads=get_num_threads() if big else 1)
        return D, parts.sum(axis=0)

    if given is None:
        # First centre: one point drawn with probability proportional to weight.
        cum_w = np.cumsum(w64)
        draws = rng.uniform(size=starts) * cum_w[-1]
        first = np.minimum(np.searchsorted(cum_w, draws, side="right"), n - 1)
        centers[:, 0] = X[first]
        closest = nearer(first, None)[0]
        n_given = 1
    else:
        # D(x)^2 to the nearest given centre, one centre at a time.
        n_given = given.shape[0]
        centers[:, :n_given] = given
        closest = np.full(n, np.inf)
        for g in given.astype(np.float64):
            g_dot = np.einsum("j,jn->n", g, points[:d])  # no BLAS: see weighted_sum
            np.minimum(closest, points[d + 1] - 2 * g_dot + g @ g, out=closest)
        np.maximum(closest, 0, out=closest)
        closest = np.tile(closest, (starts, 1))
    weighted = np.empty((starts, n))
    cdf = np.empty((starts, n))

    for c in range(n_given, k):  # the k sequential picks: inherently a loop
        # Draw candidates with probability w_i * D(x_i)^2 by inverting the CDF.
        np.cumsum(np.multiply(w64, closest, out=weighted), axis=1, out=cdf)
        if starts == 1:
            targets = rng.uniform(size=(1, n_local_trials))
            targets *= cdf[0, -1]
            cand = cdf[0].searchsorted(targets, side="right")
            np.minimum(cand, n - 1, out=cand)
        else:
            totals = cdf[:, -1].copy()
            targets = rng.uniform(size=(starts, n_local_trials)) * totals[:, None]
            base = np.concatenate(([0.0], np.cumsum(totals[:-1])))
            cdf += base[:, None]
            targets += base[:, None]
            flat = np.searchsorted(cdf.reshape(-1), targets.reshape(-1), side="right")
            cand = np.minimum(flat.reshape(starts, -1) - every[:, None] * n, n - 1)
        # Potential left if each candidate were added; keep the best one.
        d_cand, potential = nearer(cand.reshape(-1), closest)
        best = np.argmin(potential.reshape(starts, n_local_trials), axis=1)
        centers[:, c] = X[cand[every, best]]
        closest = d_cand.reshape(starts, n_local_trials, n)[every, best]
    return centers


def random_centers(X: NDArray, w: NDArray, *, k: int, rng: np.random.Generator) -> NDArray:
    """``k`` distinct points drawn with probability proportional to weight."""
    p = w.astype(np.float64) / w.sum(dtype=np.float64)
    positive = int(np.count_nonzero(p))
    if positive < k:
        raise ValueError(
            f"init='random' needs at least k={k} points of positive weight, got {positive}"
        )
    idx = rng.choice(X.shape[0], size=k, replace=False, p=p)
    return X[np.sort(idx)].copy()


def kmeans_plusplus(
    X: ArrayLike,
    k: int,
    *,
    sample_weight: ArrayLike | None = None,
    rng: RNGLike = None,
) -> NDArray[np.floating]:
    r"""Choose ``k`` starting centres by greedy weighted k-means++.

    The first centre is a point drawn with probability proportional to its
    weight. Each further centre is chosen among :math:`2 + \lfloor \ln k
    \rfloor` candidates drawn with probability

    .. math:: p_i = \frac{w_i\, D(x_i)^2}{\sum_j w_j\, D(x_j)^2},

    where :math:`D(x)` is the distance from ``x`` to the nearest centre
    chosen so far; the candidate that leaves the smallest potential
    :math:`\sum_i w_i D(x_i)^2` wins.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        The points. float32 stays float32; other types become float64.
    k : int
        Number of centres, ``1 <= k <= n_samples``.
    sample_weight : array_like, shape (n_samples,), optional
        Non-negative weights; a point of weight ``m`` counts as ``m`` copies.
    rng : int, numpy.random.Generator or None
        Source of randomness. The same int gives the same centres.

    Returns
    -------
    ndarray, shape (k, n_features)
        Centres, each one of the points of ``X``.

    Raises
    ------
    ValueError, TypeError
        Bad ``X``, ``k``, weights or ``rng``, or ``k > n_samples``.

    References
    ----------
    D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
    seeding", Proc. SODA 2007, pp. 1027-1035.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import kmeans_plusplus
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]])
    >>> C = kmeans_plusplus(X, 2, rng=0)
    >>> C.shape
    (2, 2)
    >>> sorted(bool(c[0] > 5) for c in C)  # one start in each group
    [False, True]
    """
    data = check_weighted_data(X, k, sample_weight)
    return plusplus_centers(data.X, data.w, k=data.k, rng=check_rng(rng))
