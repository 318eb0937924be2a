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
    are stable (or ``max_iter``). Callers inside the package may add a third
    rule (``min_gain`` of :class:`FitSettings`): stop when an iteration
    lowers the inertia by at most ``min_gain`` times its new value. Every
    iteration ends with an assignment, so the returned labels are always
    those of the returned centres.

Over-relaxation (``relax`` > 1)
    Near a local optimum Lloyd's iterations creep: each update moves the
    centres a little further the same way. With ``relax = a > 1`` the update
    first tries the step stretched by ``a``,

    .. math:: \tilde c^{(t)} = c^{(t-1)} + a\,(m^{(t)} - c^{(t-1)}),

    where :math:`m^{(t)}` are the cluster means plain Lloyd would take. The
    trial is kept only if it moves some label and its inertia is strictly
    below :math:`J(m^{(t)}, l^{(t-1)})`, the bound the plain step is sure to
    reach; otherwise the plain step is taken. Inertia therefore never
    rises, the last allowed iteration is plain, and the cost is one extra
    assignment per rejected trial (``docs/internals.md`` says why the bound,
    and not the inertia before the update, is the test).
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import (
    RNGLike,
    check_init,
    check_positive_int,
    check_relax,
    check_rng,
    check_sample,
    check_tol,
    check_weighted_data,
)
from ._seeding import plusplus_centers, random_centers
from ._steps import Points, label_points, own_sq_distances, weighted_sum

__all__ = [
    "KMeansResult",
    "KMeansStep",
    "DuplicateCentersWarning",
    "kmeans",
    "kmeans_steps",
    # the engine without validation, for callers inside the package
    "FitSettings",
    "LloydRecord",
    "centred",
    "fit_records",
    "fit_weighted",
    "fit_weighted_centers",
]


class DuplicateCentersWarning(UserWarning):
    """:func:`kmeans` returned fewer distinct centres than ``k`` (too few distinct points)."""


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
        Number of update steps run. When the loop stops because an
        assignment changed no label, scikit-learn's ``n_iter_`` is one more
        for the same run (it counts that last assignment as an iteration).
    converged : bool
        Whether the stopping rule was met before ``max_iter``.
    sample_size : int or None
        With ``kmeans(..., sample=m)``: the number of points the centres
        were fitted on (``labels`` and ``inertia`` are still over every
        point). None when the centres were fitted on every point.
    """

    centers: NDArray[np.floating]
    labels: NDArray[np.intp]
    inertia: float
    n_iter: int
    converged: bool
    sample_size: int | None = None


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


class LloydRecord(NamedTuple):
    """One iteration of :func:`_lloyd`."""

    iteration: int
    centers: NDArray
    labels: NDArray[np.intp]
    shift: float  # total squared centre shift of the update (NaN at iteration 0)
    converged: bool  # the stopping rule fired on this record
    relaxed: bool  # the update was the over-relaxed one


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


def _relaxed_step(
    pts: Points,
    *,
    old: NDArray,
    means: NDArray,
    labels: NDArray[np.intp],
    sums: tuple[NDArray, NDArray],
    relax: float,
) -> tuple[NDArray, NDArray[np.intp], tuple[NDArray, NDArray]] | None:
    """The over-relaxed update, if it beats plain Lloyd: centres, labels, their sums.

    Tries ``old + relax * (means - old)`` and keeps it only if its labels
    differ from ``labels`` and its inertia is below ``J(means, labels)``,
    the bound the plain step is guaranteed to reach. None otherwise.
    """
    k = old.shape[0]
    trial = old + relax * (means - old)
    trial_labels = pts.assign(trial)
    # For unchanged labels the means are the best centres: never keep such a trial.
    if np.array_equal(trial_labels, labels):
        return None
    trial_sums = pts.sums(trial_labels, k)
    if _energy(trial, *trial_sums) < _energy(means, *sums):
        return trial, trial_labels, trial_sums
    return None


def _held(sums: tuple[NDArray, NDArray], n_fixed: int) -> tuple[NDArray, NDArray]:
    """Cluster sums in which an empty fixed cluster does not count as empty,
    so that the update does not hand it a point it would then not move to."""
    weights = sums[1]
    if n_fixed == 0 or weights[:n_fixed].all():
        return sums
    weights = weights.copy()
    weights[:n_fixed][weights[:n_fixed] == 0] = 1
    return sums[0], weights


def _lloyd(
    pts: Points,
    centers: NDArray,
    *,
    max_iter: int,
    tol_abs: float,
    relax: float = 1.0,
    n_fixed: int = 0,
    min_gain: float = 0.0,
) -> Iterator[LloydRecord]:
    """Lloyd's iterations from ``centers``: one record per iteration.

    Iteration 0 assigns every point to its nearest starting centre; each
    later one moves every centre to the weighted mean of its points
    (update), then every point to its nearest centre (assignment), and
    stops by the rule in this module's docstring. With ``relax > 1`` each
    update but the last allowed one first tries the over-relaxed step
    (:func:`_relaxed_step`). The first ``n_fixed`` centres never move:
    the update leaves them where they are, so each step still minimises
    the inertia over the centres that are free. With ``min_gain > 0`` the
    loop also stops after an iteration that lowers the inertia by at most
    ``min_gain`` times its new value (the inertia comes from the cluster
    sums, :func:`_energy`, which the next update needs anyway).
    """
    k = centers.shape[0]
    labels = pts.assign(centers)
    yield LloydRecord(0, centers, labels, float("nan"), False, False)
    known = None  # cluster sums of `labels`, when an accepted trial computed them
    if min_gain:
        # sum_i w_i ||x_i||^2: with it, _energy becomes the inertia itself.
        # (No BLAS call: its idle threads would compete with the assignment's.)
        base = float(np.einsum("ij,ij,i->", pts.X, pts.X, pts.w, dtype=np.float64))
        known = pts.sums(labels, k)
        inertia = base + _energy(centers, *known)
    for iteration in range(1, max_iter + 1):
        # Update: centres to the weighted means of their clusters.
        sums = known or pts.sums(labels, k)
        means = pts.means(labels, _held(sums, n_fixed), centers)
        means[:n_fixed] = centers[:n_fixed]
        relaxed = None
        if relax != 1.0 and iteration < max_iter:
            relaxed = _relaxed_step(
                pts, old=centers, means=means, labels=labels, sums=sums, relax=relax
            )
        if relaxed is None:
            # Assignment: points to their nearest new centre.
            new_centers, new_labels, known = means, pts.assign(means), None
        else:
            new_centers, new_labels, known = relaxed
        shift = float(np.square(new_centers - centers, dtype=np.float64).sum())
        converged = shift <= tol_abs or (relaxed is None and np.array_equal(new_labels, labels))
        if min_gain and not converged:
            known = known or pts.sums(new_labels, k)
            new_inertia = base + _energy(new_centers, *known)
            converged = inertia - new_inertia <= min_gain * new_inertia
            inertia = new_inertia
        centers, labels = new_centers, new_labels
        yield LloydRecord(iteration, centers, labels, shift, converged, relaxed is not None)
        if converged:
            return


def _inertia(X: NDArray, w: NDArray, centers: NDArray, labels: NDArray) -> float:
    r""":math:`\sum_i w_i \lVert x_i - c_{l_i} \rVert^2`, accumulated in float64."""
    return float(np.multiply(w, own_sq_distances(X, centers, labels), dtype=np.float64).sum())


def _tol_abs(X: NDArray, w: NDArray, tol: float) -> float:
    """``tol`` times the mean weighted per-feature variance of (centred) X."""
    if tol == 0:
        return 0.0
    w64 = w.astype(np.float64)
    total = w64.sum()
    mean = weighted_sum(w64, X) / total
    var = weighted_sum(w64, X, square=True) / total - np.square(mean)
    return float(tol * var.mean())


@dataclass(frozen=True, eq=False)
class FitSettings:
    """Everything about a K-Means run but the data, already validated.

    The argument record of :func:`fit_weighted`, which callers inside the
    package use to run the engine on input they have checked.
    """

    k: int
    init: str | NDArray  # 'k-means++', 'random' or (g, d) centres, g <= k
    max_iter: int
    tol: float
    rng: np.random.Generator
    relax: float = 1.0
    # The first n_fixed rows of an array `init` stay put (fixed palette entries).
    n_fixed: int = 0
    # Stop when an iteration lowers the inertia by at most this fraction (see _lloyd).
    min_gain: float = 0.0


def _start(X: NDArray, w: NDArray, s: FitSettings, init: str | NDArray) -> NDArray:
    """Starting centres; an array ``init`` of fewer than ``k`` rows is
    completed by k-means++ (a warm start, or fixed centres plus free ones)."""
    if not isinstance(init, str) and init.shape[0] < s.k:
        return plusplus_centers(X, w, k=s.k, rng=s.rng, given=init.astype(X.dtype))
    if isinstance(init, str):
        if init == "k-means++":
            return plusplus_centers(X, w, k=s.k, rng=s.rng)
        return random_centers(X, w, k=s.k, rng=s.rng)
    return init.astype(X.dtype, copy=True)


def centred(X: NDArray, w: NDArray) -> tuple[NDArray, NDArray]:
    """``X`` minus its weighted mean, and that mean (in ``X``'s dtype)."""
    mean = (weighted_sum(w.astype(np.float64), X) / w.sum(dtype=np.float64)).astype(X.dtype)
    return X - mean, mean


def fit_records(
    X: NDArray, w: NDArray, s: FitSettings
) -> Iterator[tuple[LloydRecord, Callable[[], float]]]:
    """Clean-input K-Means: centre the data, seed, then yield :func:`_lloyd`'s
    records with the centres shifted back, each with a function that
    computes its inertia (only records that are handed out need one)."""
    Xc, mean = centred(X, w)
    centers = _start(Xc, w, s, init=s.init if isinstance(s.init, str) else s.init - mean)
    pts = Points.of(Xc, w, s.k)
    for rec in _lloyd(
        pts,
        centers,
        max_iter=s.max_iter,
        tol_abs=_tol_abs(Xc, w, s.tol),
        relax=s.relax,
        n_fixed=s.n_fixed,
        min_gain=s.min_gain,
    ):
        yield (
            rec._replace(centers=rec.centers + mean),
            partial(_inertia, Xc, w, rec.centers, rec.labels),
        )


def _step(item: tuple[LloydRecord, Callable[[], float]]) -> KMeansStep:
    rec, inertia = item
    return KMeansStep(
        iteration=rec.iteration,
        centers=rec.centers,
        labels=rec.labels,
        inertia=inertia(),
        shift=rec.shift,
        converged=rec.converged,
        relaxed=rec.relaxed,
    )


def _last(X: NDArray, w: NDArray, s: FitSettings) -> tuple[LloydRecord, Callable[[], float]]:
    """The last record of :func:`fit_records` and its inertia function."""
    # Keep only the newest record while running the loop to its end.
    (last,) = deque(fit_records(X, w, s), maxlen=1)
    return last


def fit_weighted(X: NDArray, w: NDArray, s: FitSettings) -> KMeansStep:
    """K-Means to the end on clean input (no validation): the last record, with its inertia.

    ``X`` is a C-contiguous float array ``(n, d)``, ``w`` positive weights
    of its dtype; this is :func:`kmeans` without the checks, for callers
    that have validated already (the palette fit).
    """
    return _step(_last(X, w, s))


def fit_weighted_centers(X: NDArray, w: NDArray, s: FitSettings) -> NDArray:
    """Like :func:`fit_weighted`, but only the final centres (no inertia is computed)."""
    return _last(X, w, s)[0].centers


class _Checked(NamedTuple):
    """The arguments of :func:`kmeans` once checked: what :func:`fit_weighted` takes."""

    X: NDArray
    w: NDArray
    settings: FitSettings


def _check(
    X: ArrayLike,
    k: Any,
    *,
    sample_weight: ArrayLike | None,
    init: Any,
    max_iter: Any,
    tol: Any,
    rng: RNGLike,
    relax: Any,
) -> _Checked:
    """Check the arguments of :func:`kmeans` (and :func:`kmeans_steps`, which shares them)."""
    X, k, w = check_weighted_data(X, k, sample_weight)
    settings = FitSettings(
        k=k,
        init=check_init(init, k, X=X, names=("k-means++", "random")),
        max_iter=check_positive_int(max_iter, "max_iter"),
        tol=check_tol(tol),
        rng=check_rng(rng),
        relax=check_relax(relax),
    )
    return _Checked(X, w, settings)


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
    sample: int | None = None,
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
        Over-relaxation factor in ``[1, 8]``; ``1`` is plain Lloyd. Above 1,
        each update first tries moving the centres ``relax`` times as far
        and keeps that step only if it beats what plain Lloyd guarantees
        (see :mod:`kmeans_quant.engine`); from a cold start it may land in
        a different local optimum than plain Lloyd.
    sample : int, optional
        Sampling mode: fit the centres on ``sample`` points drawn uniformly
        without replacement (with their weights), then assign every point
        to its nearest centre; k-means++ draws its starts from ``64 k`` of
        the sampled points. Much faster for large ``n_samples``, at a
        higher inertia than fitting every point; ``sample >= n_samples``
        fits every point. The result says so in ``sample_size``.

    Returns
    -------
    KMeansResult
        ``centers`` (k, n_features), ``labels`` (n_samples,), ``inertia``,
        ``n_iter``, ``converged`` and ``sample_size``. The labels are the
        nearest centres of the returned ``centers``, and the inertia is over
        every point, in sampling mode too.

    Raises
    ------
    TypeError
        Non-numeric ``X``, a non-integer ``k`` or ``max_iter``, a bad ``rng``.
    ValueError
        ``X`` not 2-D, empty, NaN or infinite; ``k`` out of range; negative
        weights; ``init`` of the wrong shape or name; ``tol < 0``;
        ``sample < k``.

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

    In sampling mode the centres come from ``sample`` of the points:

    >>> big = np.random.default_rng(0).normal(size=(10000, 2))
    >>> kmeans(big, 3, rng=0, sample=1000).sample_size
    1000
    """
    Xv, w, settings = _check(
        X,
        k,
        sample_weight=sample_weight,
        init=init,
        max_iter=max_iter,
        tol=tol,
        rng=rng,
        relax=relax,
    )
    m = check_sample(sample, settings.k)
    if m is None or m >= Xv.shape[0]:
        last = fit_weighted(Xv, w, settings)
        m = None
    else:
        last = _fit_sample(Xv, w, settings, m)
    n_distinct = np.unique(last.centers, axis=0).shape[0]
    if n_distinct < last.centers.shape[0]:
        warnings.warn(
            f"kmeans found {n_distinct} distinct clusters, fewer than k={k}: X has fewer "
            "distinct points (of positive weight) than k, so some centres coincide",
            DuplicateCentersWarning,
            stacklevel=2,
        )
    return KMeansResult(
        centers=last.centers,
        labels=last.labels,
        inertia=last.inertia,
        n_iter=last.iteration,
        converged=last.converged,
        sample_size=m,
    )


# In sampling mode, k-means++ draws its starts from at most this many
# points per centre of the sample.
_SEED_PER_CENTER = 64


def _fit_sample(X: NDArray, w: NDArray, s: FitSettings, m: int) -> KMeansStep:
    """The sampling mode of :func:`kmeans`: fit ``m`` points drawn uniformly
    without replacement, then assign every point (labels and inertia over all).

    k-means++ seeds from ``_SEED_PER_CENTER * k`` of the sampled points (all
    of them if fewer), as scikit-learn's MiniBatchKMeans seeds from
    ``init_size`` points.
    """
    rows = np.sort(s.rng.choice(X.shape[0], size=m, replace=False))
    Xs, ws = X[rows], w[rows]
    seed_n = _SEED_PER_CENTER * s.k
    if isinstance(s.init, str) and s.init == "k-means++" and seed_n < m:
        few = np.sort(s.rng.choice(m, size=seed_n, replace=False))
        Xf, wf = Xs[few], ws[few]
        Xfc, mean = centred(Xf, wf)
        s = replace(s, init=plusplus_centers(Xfc, wf, k=s.k, rng=s.rng) + mean)
    fit = fit_weighted(Xs, ws, s)
    Xc, mean = centred(X, w)
    centers = fit.centers.astype(X.dtype)
    labels = label_points(Xc, centers - mean)
    return replace(fit, labels=labels, inertia=_inertia(Xc, w, centers - mean, labels))


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
    # locals() here is exactly the arguments, as given.
    return (_step(item) for item in fit_records(*_check(**locals())))
