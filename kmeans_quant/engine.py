r"""The K-Means engine: Lloyd's iterations from k-means++ starts to convergence.

One loop, :func:`_lloyd`, runs the algorithm and yields every iteration.
:func:`kmeans` keeps only the last iteration; :func:`kmeans_steps` hands each
one to the caller. Both therefore run exactly the same code.

Convergence rule
    Let :math:`c^{(t)}` be the centres after update ``t`` and
    :math:`\Delta_t = \sum_j \lVert c^{(t)}_j - c^{(t-1)}_j \rVert^2` the
    total squared centre shift. Iteration stops as soon as either

    * no label changed in the assignment that followed the update, or
    * :math:`\Delta_t \le \mathrm{tol} \cdot \bar\sigma^2`, where
      :math:`\bar\sigma^2` is the mean over features of the (weighted)
      variance of ``X``: the tolerance scales with the data, as in
      scikit-learn,

    or after ``max_iter`` updates. ``tol=0`` therefore runs until the labels
    are stable (or ``max_iter``). Every iteration ends with an assignment, so
    the returned labels are always those of the returned centres.

Over-relaxation (``relax`` > 1)
    Near a local optimum Lloyd's iterations creep: each update moves the
    centres a little further the same way. With ``relax = a > 1`` the update
    first tries the step stretched by ``a``,

    .. math:: \tilde c^{(t)} = c^{(t-1)} + a\,(m^{(t)} - c^{(t-1)}),

    where :math:`m^{(t)}` are the cluster means that plain Lloyd would take,
    and assigns the points to :math:`\tilde c^{(t)}`. The plain step's
    inertia is at most :math:`J(m^{(t)}, l^{(t-1)})`, the means with the
    labels they were computed from; the stretched step is kept only if its
    inertia (after the new assignment) is strictly below that bound, and
    otherwise the plain step is taken. Inertia therefore still never rises,
    and an accepted trial always beats what plain Lloyd guarantees. (Merely
    beating the inertia before the update is too weak: at ``relax = 2`` the
    centres can then bounce around their means for hundreds of iterations.)
    A trial that changes no label is rejected too, since for fixed labels
    the means are the best centres. So the loop still ends on a plain step
    with unchanged labels, or on the shift rule, which applies to every
    step; the last allowed iteration is always plain. The cost is one extra
    assignment for each rejected trial.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import (
    RNGLike,
    check_data,
    check_init,
    check_k,
    check_k_fits,
    check_positive_int,
    check_relax,
    check_rng,
    check_sample_weight,
    check_tol,
)
from .seeding import _kmeans_plusplus, _random_init
from .steps import (
    _assign,
    _augment_points,
    _centers_from_sums,
    _cluster_sums,
    _row_norms_sq,
    _spread_offsets,
    _sq_dist_to,
    _weighted_points_t,
)

__all__ = ["KMeansResult", "KMeansStep", "kmeans", "kmeans_steps"]


@dataclass(frozen=True, eq=False)
class KMeansResult:
    """Outcome of :func:`kmeans`.

    Attributes
    ----------
    centers : ndarray, shape (k, n_features)
        Final centres.
    labels : ndarray of intp, shape (n_samples,)
        Index of each point's nearest centre in ``centers``.
    inertia : float
        :math:`\\sum_i w_i \\lVert x_i - c_{l_i} \\rVert^2`.
    n_iter : int
        Number of update steps run.
    converged : bool
        Whether the stopping rule was met before ``max_iter``.
    """

    centers: NDArray[np.floating]
    labels: NDArray[np.intp]
    inertia: float
    n_iter: int
    converged: bool


@dataclass(frozen=True, eq=False)
class KMeansStep:
    """One iteration of :func:`kmeans_steps`.

    Attributes
    ----------
    iteration : int
        0 for the starting centres, then 1, 2, ... after each update.
    centers : ndarray, shape (k, n_features)
        Centres after this iteration's update.
    labels : ndarray of intp, shape (n_samples,)
        Assignment of every point to those centres.
    inertia : float
        Weighted sum of squared distances for ``centers`` and ``labels``.
    shift : float
        Total squared centre movement of this update (NaN at iteration 0).
    converged : bool
        True on the record where the stopping rule fired.
    relaxed : bool
        True if this update took the over-relaxed step (``relax`` > 1 only).
    """

    iteration: int
    centers: NDArray[np.floating]
    labels: NDArray[np.intp]
    inertia: float
    shift: float
    converged: bool
    relaxed: bool = False


# --------------------------------------------------------------------------
# the loop itself, on clean, centred data
# --------------------------------------------------------------------------

# A record of the loop: iteration, centres, labels, total squared centre
# shift of the update, whether the stopping rule fired, and whether the
# update was the over-relaxed one.
_Record = tuple[int, NDArray, NDArray, float, bool, bool]


def _energy(centers: NDArray, sums: NDArray, weights: NDArray) -> float:
    r"""Inertia up to a constant, from the cluster sums of an assignment.

    With :math:`S_j = \sum_{l_i = j} w_i x_i` and :math:`W_j = \sum_{l_i = j} w_i`,

    .. math:: \sum_i w_i \lVert x_i - c_{l_i} \rVert^2
              = \sum_i w_i \lVert x_i \rVert^2
              + \sum_j \left( W_j \lVert c_j \rVert^2 - 2\, c_j \cdot S_j \right),

    and the first term does not depend on the centres or the labels, so the
    second compares two (centres, labels) pairs at O(k d) cost.
    """
    c = centers.astype(np.float64)
    return float(weights @ np.einsum("ij,ij->i", c, c) - 2 * np.einsum("ij,ij->", c, sums))


def _lloyd(
    X: NDArray,
    w: NDArray,
    centers: NDArray,
    max_iter: int,
    tol_abs: float,
    relax: float = 1.0,
) -> Iterator[_Record]:
    """Lloyd's iterations from ``centers``: one record per iteration.

    Iteration 0 assigns every point to its nearest starting centre; each
    later one moves every centre to the weighted mean of its points
    (update), then every point to its nearest centre (assignment), and
    stops by the rule in this module's docstring. With ``relax > 1`` the
    update first tries the over-relaxed step described there; the two
    inertias are compared through :func:`_energy`, from the cluster sums
    that the next update needs anyway.

    Every assignment computes the full distance matrix. Hamerly's bounds
    (2010), which skip points whose label cannot change, were tried: on
    colour data (3 features) the per-point bookkeeping cost as much as the
    distance rows it saved, so the loop stays plain.
    """
    k = centers.shape[0]
    Xa = _augment_points(X)
    x_sq = _row_norms_sq(X)
    wXT = _weighted_points_t(X, w)
    offsets = _spread_offsets(X.shape[0], k)

    labels, _ = _assign(Xa, x_sq, centers, want_min=False)
    yield 0, centers, labels, float("nan"), False, False
    known: tuple[NDArray, NDArray] | None = None  # cluster sums of `labels`, if computed
    for it in range(1, max_iter + 1):
        # Update: centres to the weighted means of their clusters.
        old = centers
        sums, weights = known or _cluster_sums(wXT, w, labels, k, offsets)
        means = _centers_from_sums(X, w, wXT, labels, sums, weights,
                                   partial(_sq_dist_to, X, old, labels))
        relaxed, known = False, None
        if relax != 1.0 and it < max_iter:
            trial = old + relax * (means - old)
            trial_labels, _ = _assign(Xa, x_sq, trial, want_min=False)
            # A trial that moves no label is never kept: for unchanged labels
            # the means are the best centres, and the plain step reaches them.
            if not np.array_equal(trial_labels, labels):
                trial_sums = _cluster_sums(wXT, w, trial_labels, k, offsets)
                # The plain step reaches at least J(means, labels); the trial
                # has to beat that, not merely the inertia before the update.
                if _energy(trial, *trial_sums) < _energy(means, sums, weights):
                    relaxed, known = True, trial_sums
                    centers, new_labels = trial, trial_labels
        if not relaxed:
            centers = means
            # Assignment: points to their nearest new centre.
            new_labels, _ = _assign(Xa, x_sq, centers, want_min=False)
        shift = float(np.square(centers - old, dtype=np.float64).sum())
        done = shift <= tol_abs or (not relaxed and np.array_equal(new_labels, labels))
        labels = new_labels
        yield it, centers, labels, shift, done, relaxed
        if done:
            return


def _inertia(X: NDArray, w: NDArray, centers: NDArray, labels: NDArray) -> float:
    r""":math:`\sum_i w_i \lVert x_i - c_{l_i} \rVert^2`, accumulated in float64."""
    return float(np.multiply(w, _sq_dist_to(X, centers, labels), dtype=np.float64).sum())


def _tol_abs(X: NDArray, w: NDArray, tol: float) -> float:
    """``tol`` times the mean weighted per-feature variance of (centred) X."""
    if tol == 0:
        return 0.0
    w64 = w.astype(np.float64)
    total = w64.sum()
    mean = (w64 @ X) / total
    var = (w64 @ np.square(X, dtype=np.float64)) / total - np.square(mean)
    return float(tol * var.mean())


def _start(
    X: NDArray, w: NDArray, k: int, init: Any, rng: np.random.Generator
) -> NDArray:
    if isinstance(init, str):
        if init == "k-means++":
            return _kmeans_plusplus(X, w, k, rng)
        return _random_init(X, w, k, rng)
    return init.astype(X.dtype, copy=True)


def _run(
    X: NDArray,
    w: NDArray,
    k: int,
    init: Any,
    max_iter: int,
    tol: float,
    rng: np.random.Generator,
    relax: float = 1.0,
) -> Iterator[tuple[_Record, Callable[[], float]]]:
    """Clean-input K-Means: centre the data, seed, then yield :func:`_lloyd`'s
    records with the centres shifted back, each with a function that
    computes its inertia (only records that are handed out need one)."""
    mean = ((w.astype(np.float64) @ X) / w.sum(dtype=np.float64)).astype(X.dtype)
    Xc = X - mean
    init_c = init if isinstance(init, str) else init - mean
    centers = _start(Xc, w, k, init_c, rng)
    tol_abs = _tol_abs(Xc, w, tol)
    for it, c, lab, shift, done, relaxed in _lloyd(Xc, w, centers, max_iter, tol_abs, relax):
        yield (it, c + mean, lab, shift, done, relaxed), partial(_inertia, Xc, w, c, lab)


def _step(item: tuple[_Record, Callable[[], float]]) -> KMeansStep:
    (it, centers, labels, shift, done, relaxed), inertia = item
    return KMeansStep(it, centers, labels, inertia(), shift, done, relaxed)


def _last(*args: Any) -> tuple[_Record, Callable[[], float]]:
    """The last record of :func:`_run` (same arguments) and its inertia function."""
    # Keep only the newest record while running the loop to its end.
    (last,) = deque(_run(*args), maxlen=1)
    return last


def _fit(*args: Any) -> KMeansStep:
    """Clean-input K-Means to the end: the last record of :func:`_run` (same
    arguments). Only the last record's inertia is computed."""
    return _step(_last(*args))


def _fit_centers(*args: Any) -> NDArray:
    """Like :func:`_fit`, but only the final centres (no inertia is computed)."""
    (_, centers, *_), _ = _last(*args)
    return centers


def _validate(
    X: ArrayLike,
    k: Any,
    sample_weight: ArrayLike | None,
    init: Any,
    max_iter: Any,
    tol: Any,
    rng: RNGLike,
    relax: Any,
) -> tuple[NDArray, NDArray, int, Any, int, float, np.random.Generator, float]:
    X = check_data(X)
    k = check_k(k)
    check_k_fits(k, X.shape[0])
    w = check_sample_weight(sample_weight, X.shape[0], X.dtype)
    init = check_init(init, k, X, ("k-means++", "random"))
    return (X, w, k, init, check_positive_int(max_iter, "max_iter"),
            check_tol(tol), check_rng(rng), check_relax(relax))


# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------

def kmeans(
    X: ArrayLike,
    k: int,
    *,
    sample_weight: ArrayLike | None = None,
    init: str | ArrayLike = "k-means++",
    max_iter: int = 300,
    tol: float = 1e-4,
    rng: RNGLike = None,
    relax: float = 1.0,
) -> KMeansResult:
    r"""Cluster points with K-Means (Lloyd's algorithm, k-means++ starts).

    Minimises the weighted inertia

    .. math:: J = \sum_{i=1}^{n} w_i \min_j \lVert x_i - c_j \rVert^2

    by alternating the assignment step (each point to its nearest centre)
    and the update step (each centre to the weighted mean of its points).
    Neither step can raise :math:`J`, so it falls until the stopping rule of
    :mod:`kmeans_quant.engine` fires. A weight ``m`` counts a point ``m``
    times, so fitting distinct values weighted by their counts gives the
    same objective as fitting every repeated value.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        The points. float32 is computed in float32, anything else in float64.
    k : int
        Number of clusters, ``1 <= k <= n_samples``.
    sample_weight : array_like, shape (n_samples,), optional
        Non-negative weight of each point; ones by default.
    init : {'k-means++', 'random'} or array_like, shape (k, n_features)
        Greedy k-means++ (default), ``k`` distinct points drawn in proportion
        to their weight, or the starting centres themselves.
    max_iter : int, default 300
        Maximum number of update steps.
    tol : float, default 1e-4
        Stop when the total squared centre shift is at most ``tol`` times
        the mean per-feature variance of ``X``. ``0`` waits for stable labels.
    rng : int, numpy.random.Generator or None
        Seed or generator for the random starts. The same int gives the same
        result; None draws fresh entropy.
    relax : float, default 1.0
        Over-relaxation factor in ``[1, 8]``. ``1`` is plain Lloyd. Above 1,
        each update first tries moving the centres ``relax`` times as far as
        plain Lloyd would and keeps that step only if it ends below the
        inertia plain Lloyd guarantees (see :mod:`kmeans_quant.engine`).
        It usually helps most when the
        start is already close to an optimum, as in the palette fit's
        refinement stage; from a cold start it may land in a different local
        optimum than plain Lloyd.

    Returns
    -------
    KMeansResult
        ``centers`` (k, n_features), ``labels`` (n_samples,), ``inertia``,
        ``n_iter`` and ``converged``. The labels are the nearest centres of
        the returned ``centers``.

    Raises
    ------
    TypeError
        Non-numeric ``X``, a non-integer ``k`` or ``max_iter``, a bad ``rng``.
    ValueError
        ``X`` not 2-D, empty, NaN or infinite; ``k`` out of range; negative
        weights; ``init`` of the wrong shape or name; ``tol < 0``.

    Notes
    -----
    Clusters that lose all their points are moved onto the point farthest
    from its own centre, so no centre is ever NaN. Computation happens on
    data centred on its weighted mean, which keeps round-off in the
    expanded distance formula small.

    References
    ----------
    S. P. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf.
    Theory 28(2), 1982. D. Arthur and S. Vassilvitskii, "k-means++: the
    advantages of careful seeding", Proc. SODA 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import kmeans
    >>> X = np.array([[0.0, 0.0], [0.0, 2.0], [10.0, 0.0], [10.0, 2.0]])
    >>> res = kmeans(X, 2, rng=0)
    >>> res.centers[np.argsort(res.centers[:, 0])]
    array([[ 0.,  1.],
           [10.,  1.]])
    >>> res.inertia
    4.0
    """
    last = _fit(*_validate(X, k, sample_weight, init, max_iter, tol, rng, relax))
    return KMeansResult(last.centers, last.labels, last.inertia, last.iteration, last.converged)


def kmeans_steps(
    X: ArrayLike,
    k: int,
    *,
    sample_weight: ArrayLike | None = None,
    init: str | ArrayLike = "k-means++",
    max_iter: int = 300,
    tol: float = 1e-4,
    rng: RNGLike = None,
    relax: float = 1.0,
) -> Iterator[KMeansStep]:
    r"""Run :func:`kmeans` one iteration at a time, yielding each.

    Takes exactly the parameters of :func:`kmeans` and runs the same loop;
    the first record (``iteration == 0``) holds the starting centres and the
    assignment to them, each later record the centres after one update and
    the assignment to them. The last record equals :func:`kmeans`'s result
    for the same call, and ``inertia`` never rises from one record to the
    next.

    Parameters
    ----------
    X, k, sample_weight, init, max_iter, tol, rng, relax
        As for :func:`kmeans`. Input is checked before the first record.

    Yields
    ------
    KMeansStep
        ``iteration``, ``centers``, ``labels``, ``inertia``, ``shift``,
        ``converged``, ``relaxed``.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import kmeans_steps
    >>> X = np.array([[0.0], [1.0], [9.0], [10.0]])
    >>> for step in kmeans_steps(X, 2, init=[[0.0], [1.0]]):
    ...     print(step.iteration, step.centers.ravel().round(3), round(step.inertia, 3))
    0 [0. 1.] 145.0
    1 [0.    6.667] 17.556
    2 [0.5 9.5] 1.0

    The point at 1 changed sides in iteration 1; iteration 2 moved no label,
    so the loop stopped there.
    """
    args = _validate(X, k, sample_weight, init, max_iter, tol, rng, relax)
    return (_step(item) for item in _run(*args))
