r"""K-Means written as plain loops: the teaching text and the tests' oracle.

Everything here is the textbook algorithm spelled out one number at a time:
a point is a list of floats, and every distance, sum and mean is a Python
loop over points, clusters and channels, with the maths in the comments
beside it. NumPy only holds the input and output arrays, and the random
Generator supplies the draws. Nothing is vectorized, so each line can be
checked against the formula it computes.

The module has two jobs, for K-Means and for the pixel maps built on it
(:func:`recolor`, :func:`floyd_steinberg`).

Teaching text
    Read :func:`kmeans` top to bottom: seed with :func:`kmeans_plusplus`,
    then alternate :func:`update_centers` and :func:`assign_points` until
    :func:`centers_shift` falls under :func:`scaled_tolerance` or no label
    changes.

Oracle
    It follows the rules of the vectorized engine (:mod:`kmeans_quant.engine`)
    exactly: the same iteration structure and stopping rule, the same
    lowest-index tie-break, the same relocation of empty clusters, and the
    same use of the random Generator in k-means++. Given the same starting
    centres (or the same seed) both return the same labels and the same
    centres up to round-off, and the tests hold them to that. The only
    arithmetic differences are that the engine works in the data's dtype
    (float32 stays float32) on data centred on its mean, with the expanded
    distance formula, while this module computes
    :math:`\sum_f (x_f - c_f)^2` directly in double precision. So an exact
    tie in distance (a point exactly halfway between two centres) may be
    broken differently by the two, because the engine's distances carry
    round-off of about ``1e-16`` relative.

Speed
    Every distance is a Python loop over channels, so this runs hundreds of
    times slower than the engine, the gap growing with ``n k d``; the
    benchmark suite measures it (``docs/benchmarks.md``). Use it to read
    and to check, never to fit real images.

The step functions (:func:`euclidean_distance_sq` to :func:`inertia`) do
not validate their input: like the engine's private kernels they take the
clean sequences that :func:`kmeans` hands them. :func:`kmeans`,
:func:`kmeans_plusplus` and :func:`recolor` check their arguments first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import (
    RNGLike,
    check_image,
    check_init,
    check_palette,
    check_positive_int,
    check_rng,
    check_tol,
    check_weighted_data,
)
from .dither._candidates import CANDIDATES
from .dither._error_diffusion import CARRY
from .engine._lloyd import KMeansResult

__all__ = [
    "euclidean_distance_sq",
    "nearest_center",
    "assign_points",
    "update_centers",
    "centers_shift",
    "scaled_tolerance",
    "inertia",
    "sample_index",
    "kmeans_plusplus",
    "kmeans",
    "recolor",
    "floyd_steinberg",
]

Point = Sequence[float]


# --------------------------------------------------------------------------
# distances and the assignment step
# --------------------------------------------------------------------------


def euclidean_distance_sq(x: Point, c: Point) -> float:
    r"""Squared Euclidean distance between two points.

    .. math:: \lVert x - c \rVert^2 = \sum_{f=1}^{d} (x_f - c_f)^2

    Parameters
    ----------
    x, c : sequence of float, length d
        The two points.

    Returns
    -------
    float

    Examples
    --------
    >>> from kmeans_quant.naive import euclidean_distance_sq
    >>> euclidean_distance_sq([0.0, 0.0], [3.0, 4.0])
    25.0
    """
    total = 0.0
    for f in range(len(x)):
        diff = float(x[f]) - float(c[f])
        total += diff * diff
    return total


def nearest_center(x: Point, centers: Sequence[Point]) -> tuple[int, float]:
    r"""Index of the centre nearest to ``x``, and the squared distance to it.

    .. math:: j^* = \arg\min_j \lVert x - c_j \rVert^2

    Ties go to the lowest index: a later centre must be strictly nearer to
    take over.

    Parameters
    ----------
    x : sequence of float, length d
        The point.
    centers : sequence of k points
        The centres, ``k >= 1``.

    Returns
    -------
    index : int
    distance_sq : float

    Examples
    --------
    >>> from kmeans_quant.naive import nearest_center
    >>> nearest_center([1.0], [[0.0], [1.5], [3.0]])
    (1, 0.25)
    >>> nearest_center([1.0], [[2.0], [0.0]])  # a tie: the first centre keeps it
    (0, 1.0)
    """
    best_j = 0
    best_d = euclidean_distance_sq(x, centers[0])
    for j in range(1, len(centers)):
        d = euclidean_distance_sq(x, centers[j])
        if d < best_d:  # strict: on a tie the earlier centre stays
            best_j, best_d = j, d
    return best_j, best_d


def assign_points(X: Sequence[Point], centers: Sequence[Point]) -> tuple[list[int], list[float]]:
    r"""Assignment step: every point to its nearest centre.

    .. math:: l_i = \arg\min_j \lVert x_i - c_j \rVert^2, \qquad
              D_i = \min_j \lVert x_i - c_j \rVert^2

    Parameters
    ----------
    X : sequence of n points
    centers : sequence of k points

    Returns
    -------
    labels : list of int, length n
    min_sq_dist : list of float, length n
        :math:`D_i`, used by :func:`update_centers` to refill empty clusters.

    Examples
    --------
    >>> from kmeans_quant.naive import assign_points
    >>> assign_points([[0.0], [1.0], [9.0]], [[0.0], [10.0]])
    ([0, 0, 1], [0.0, 1.0, 1.0])
    """
    labels = []
    min_sq = []
    for x in X:
        j, d = nearest_center(x, centers)
        labels.append(j)
        min_sq.append(d)
    return labels, min_sq


# --------------------------------------------------------------------------
# the update step
# --------------------------------------------------------------------------


def _farthest_unused(min_sq: Sequence[float], used: set[int]) -> int:
    """The point farthest from its centre among those not yet handed out.

    Among equal distances the *higher* index wins: the engine sorts the
    distances with a stable ascending sort and reads it backwards, and the
    oracle must hand out the same points in the same order.
    """
    best = -1
    for i in range(len(min_sq)):
        if i in used:
            continue
        if best < 0 or min_sq[i] >= min_sq[best]:  # >=: later index wins ties
            best = i
    return best


def update_centers(
    X: Sequence[Point],
    labels: Sequence[int],
    k: int,
    *,
    sample_weight: Sequence[float] | None = None,
    min_sq_dist: Sequence[float] | None = None,
) -> list[list[float]]:
    r"""Update step: each centre to the weighted mean of its points.

    .. math:: c_j = \frac{\sum_{i:\,l_i = j} w_i\, x_i}{\sum_{i:\,l_i = j} w_i}

    A cluster whose points weigh nothing in total is *empty*: its mean is
    0/0. The empty clusters, in increasing index, each take the point
    farthest from its own centre (by ``min_sq_dist``), the farthest point
    going to the first empty cluster, the next farthest to the second, and
    so on; the point's weight leaves its old cluster, unless that would
    leave the old cluster empty, in which case the empty one stays empty.
    A cluster still empty at the end (possible only when there are fewer
    distinct points than clusters) is put on the farthest point of all.
    These are exactly the rules of the engine.

    Parameters
    ----------
    X : sequence of n points
    labels : sequence of int, length n
        Cluster of each point, in ``[0, k)``.
    k : int
        Number of clusters.
    sample_weight : sequence of float, length n, optional
        Non-negative weights; ones by default.
    min_sq_dist : sequence of float, length n, optional
        Squared distance of each point to its current centre; zeros by
        default (then ties make the last points count as the farthest).

    Returns
    -------
    list of k lists of d floats
        The new centres.

    Examples
    --------
    >>> from kmeans_quant.naive import update_centers
    >>> update_centers([[0.0], [2.0], [10.0]], [0, 0, 1], 2)
    [[1.0], [10.0]]
    >>> update_centers([[0.0], [2.0]], [0, 0], 1, sample_weight=[3.0, 1.0])
    [[0.5]]

    Cluster 1 has no points, so it takes the point farthest from its
    centre (10.0, at squared distance 81 from the old centre 1.0):

    >>> update_centers([[0.0], [2.0], [10.0]], [0, 0, 0], 2,
    ...                min_sq_dist=[1.0, 1.0, 81.0])
    [[1.0], [10.0]]
    """
    n = len(X)
    d = len(X[0])
    w = [1.0] * n if sample_weight is None else [float(v) for v in sample_weight]
    dist = [0.0] * n if min_sq_dist is None else [float(v) for v in min_sq_dist]

    # Per cluster: W_j = sum of w_i and S_j = sum of w_i x_i over its points.
    weight = [0.0] * k
    sums = [[0.0] * d for _ in range(k)]
    for i in range(n):
        j = labels[i]
        weight[j] += w[i]
        for f in range(d):
            sums[j][f] += w[i] * float(X[i][f])

    # Empty clusters (W_j = 0), in increasing j, take the farthest points.
    empty = [j for j in range(k) if weight[j] == 0]
    used: set[int] = set()
    for j in empty:
        i = _farthest_unused(dist, used)
        if i < 0:  # more empty clusters than points: nothing left to hand out
            break
        used.add(i)
        old = labels[i]
        if weight[old] > w[i]:  # moving i must not empty its own cluster
            for f in range(d):
                sums[old][f] -= w[i] * float(X[i][f])
            weight[old] -= w[i]
            sums[j] = [w[i] * float(X[i][f]) for f in range(d)]
            weight[j] = w[i]

    # The means c_j = S_j / W_j; a cluster still empty sits on the farthest point.
    farthest = 0
    for i in range(1, n):
        if dist[i] > dist[farthest]:  # strict: first of equal maxima
            farthest = i
    centers = []
    for j in range(k):
        if weight[j] > 0:
            centers.append([sums[j][f] / weight[j] for f in range(d)])
        else:
            centers.append([float(v) for v in X[farthest]])
    return centers


# --------------------------------------------------------------------------
# convergence and the objective
# --------------------------------------------------------------------------


def centers_shift(old: Sequence[Point], new: Sequence[Point]) -> float:
    r"""Total squared movement of the centres in one update.

    .. math:: \Delta = \sum_{j=1}^{k} \lVert c^{new}_j - c^{old}_j \rVert^2

    Examples
    --------
    >>> from kmeans_quant.naive import centers_shift
    >>> centers_shift([[0.0, 0.0], [1.0, 1.0]], [[3.0, 4.0], [1.0, 2.0]])
    26.0
    """
    total = 0.0
    for j in range(len(old)):
        total += euclidean_distance_sq(new[j], old[j])
    return total


def scaled_tolerance(X: Sequence[Point], weights: Sequence[float], tol: float) -> float:
    r"""The absolute shift threshold: ``tol`` times the mean feature variance.

    .. math:: \bar x_f = \frac{\sum_i w_i x_{if}}{\sum_i w_i}, \quad
              \sigma_f^2 = \frac{\sum_i w_i (x_{if} - \bar x_f)^2}{\sum_i w_i},
              \quad \mathrm{tol}_{abs} = \mathrm{tol} \cdot
              \frac{1}{d} \sum_{f=1}^{d} \sigma_f^2

    Scaling by the data's spread makes ``tol`` mean the same for pixels in
    0-255 as for data in [0, 1]. ``tol = 0`` gives 0.

    Examples
    --------
    >>> from kmeans_quant.naive import scaled_tolerance
    >>> scaled_tolerance([[0.0, 0.0], [2.0, 4.0]], [1.0, 1.0], 0.5)  # (1 + 4) / 2 * 0.5
    1.25
    """
    if tol == 0:
        return 0.0
    n = len(X)
    d = len(X[0])
    total_w = 0.0
    for i in range(n):
        total_w += weights[i]
    variance_sum = 0.0
    for f in range(d):
        mean = 0.0
        for i in range(n):
            mean += weights[i] * float(X[i][f])
        mean /= total_w
        var = 0.0
        for i in range(n):
            diff = float(X[i][f]) - mean
            var += weights[i] * diff * diff
        variance_sum += var / total_w
    return tol * (variance_sum / d)


def inertia(weights: Sequence[float], min_sq_dist: Sequence[float]) -> float:
    r"""The K-Means objective for an assignment.

    .. math:: J = \sum_{i=1}^{n} w_i \lVert x_i - c_{l_i} \rVert^2
              = \sum_i w_i D_i

    Examples
    --------
    >>> from kmeans_quant.naive import inertia
    >>> inertia([1.0, 2.0], [4.0, 0.5])
    5.0
    """
    total = 0.0
    for i in range(len(weights)):
        total += float(weights[i]) * float(min_sq_dist[i])
    return total


# --------------------------------------------------------------------------
# seeding: greedy weighted k-means++
# --------------------------------------------------------------------------


def sample_index(cumulative: Sequence[float], target: float) -> int:
    r"""Invert a cumulative distribution: the first index whose total exceeds ``target``.

    With :math:`F_i = \sum_{m \le i} p_m` and ``target`` uniform on
    :math:`[0, F_n)`, index ``i`` comes out with probability
    :math:`p_i / F_n`. Entries of zero mass are never chosen (their
    :math:`F_i` equals the previous one), and a target at or beyond the
    last total (all mass zero, or round-off) gives the last index.

    Examples
    --------
    >>> from kmeans_quant.naive import sample_index
    >>> sample_index([1.0, 1.0, 3.0], 0.5), sample_index([1.0, 1.0, 3.0], 1.0)
    (0, 2)
    >>> sample_index([0.0, 0.0], 0.0)
    1
    """
    for i in range(len(cumulative)):
        if cumulative[i] > target:
            return i
    return len(cumulative) - 1


def _running_sum(values: Sequence[float]) -> list[float]:
    """:math:`F_i = v_0 + ... + v_i`, added left to right."""
    out = []
    total = 0.0
    for v in values:
        total += v
        out.append(total)
    return out


def _plusplus_lists(
    X: Sequence[Point], weights: Sequence[float], k: int, rng: np.random.Generator
) -> list[list[float]]:
    """Greedy weighted k-means++ on clean lists; the draws follow the engine's."""
    n = len(X)
    n_local_trials = 2 + int(math.log(k))

    # First centre: point i with probability w_i / sum(w).
    cumulative = _running_sum(weights)
    first = sample_index(cumulative, rng.uniform() * cumulative[-1])
    centers = [[float(v) for v in X[first]]]
    # D(x_i)^2: squared distance from each point to its nearest chosen centre.
    closest = [euclidean_distance_sq(X[i], X[first]) for i in range(n)]

    for _ in range(1, k):
        # Candidates drawn with probability w_i D(x_i)^2 / sum_m w_m D(x_m)^2.
        cumulative = _running_sum([weights[i] * closest[i] for i in range(n)])
        best_cand, best_pot, best_closest = -1, 0.0, closest
        for u in rng.uniform(size=n_local_trials):
            cand = sample_index(cumulative, float(u) * cumulative[-1])
            # If cand joined the centres, D(x_i)^2 would become
            # min(D(x_i)^2, ||x_i - x_cand||^2) and the potential
            # phi = sum_i w_i D(x_i)^2 would drop; keep the lowest phi.
            new_closest = [min(closest[i], euclidean_distance_sq(X[i], X[cand])) for i in range(n)]
            pot = inertia(weights, new_closest)
            if best_cand < 0 or pot < best_pot:  # strict: first of equal potentials
                best_cand, best_pot, best_closest = cand, pot, new_closest
        centers.append([float(v) for v in X[best_cand]])
        closest = best_closest
    return centers


def kmeans_plusplus(
    X: ArrayLike,
    k: int,
    *,
    sample_weight: ArrayLike | None = None,
    rng: RNGLike = None,
) -> NDArray[np.floating]:
    r"""Greedy weighted k-means++ seeding, written in loops.

    The first centre is point :math:`i` with probability
    :math:`w_i / \sum_m w_m`. Each next centre is the best of
    :math:`2 + \lfloor \ln k \rfloor` candidates, each drawn with
    probability

    .. math:: p_i = \frac{w_i D(x_i)^2}{\sum_m w_m D(x_m)^2},

    :math:`D(x)` being the distance to the nearest centre chosen so far;
    the best candidate is the one leaving the smallest potential
    :math:`\phi = \sum_i w_i D(x_i)^2`.

    The Generator is used exactly as :func:`kmeans_quant.kmeans_plusplus`
    uses it (one ``rng.uniform()``, then ``rng.uniform(size=n_trials)`` per
    further centre, inverted through the cumulative distribution), so the
    same seed gives the same centres unless round-off decides a draw.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        The points.
    k : int
        Number of centres, ``1 <= k <= n_samples``.
    sample_weight : array_like, shape (n_samples,), optional
        Non-negative weights; ones by default.
    rng : int, numpy.random.Generator or None
        Source of the draws.

    Returns
    -------
    ndarray, shape (k, n_features)
        The centres, points of ``X``, in ``X``'s float dtype.

    Raises
    ------
    TypeError, ValueError
        Bad ``X``, ``k``, weights or ``rng``, or ``k > n_samples``.

    References
    ----------
    D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
    seeding", Proc. SODA 2007, pp. 1027-1035.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import naive
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]])
    >>> C = naive.kmeans_plusplus(X, 2, rng=0)
    >>> sorted(bool(c[0] > 5) for c in C)  # one start in each group
    [False, True]
    """
    X, k, w = check_weighted_data(X, k, sample_weight)
    centers = _plusplus_lists(X.tolist(), w.tolist(), k, check_rng(rng))
    return np.array(centers, dtype=X.dtype)


# --------------------------------------------------------------------------
# K-Means
# --------------------------------------------------------------------------


def _check_init(init: Any, k: int, X: NDArray) -> NDArray | str:
    """'k-means++' or a (k, d) array of starting centres in X's dtype."""
    if isinstance(init, str) and init == "random":
        raise ValueError(
            "init='random' is not implemented in kmeans_quant.naive (its draws could "
            "not follow the engine's); use 'k-means++' or an array of centres"
        )
    return check_init(init, k, X=X, names=("k-means++",))


def kmeans(
    X: ArrayLike,
    k: int,
    *,
    sample_weight: ArrayLike | None = None,
    init: str | ArrayLike = "k-means++",
    max_iter: int = 300,
    tol: float = 1e-4,
    rng: RNGLike = None,
) -> KMeansResult:
    r"""K-Means (Lloyd's algorithm) in plain loops; mirrors :func:`kmeans_quant.kmeans`.

    Minimises :math:`J = \sum_i w_i \min_j \lVert x_i - c_j \rVert^2`:

    0. seed the centres (k-means++ or given) and assign every point;
    1. update: each centre to the weighted mean of its points;
    2. assign: each point to its nearest new centre;
    3. stop if the centres moved by at most :func:`scaled_tolerance` in
       total (:func:`centers_shift`) or no label changed, else go to 1;
       give up after ``max_iter`` updates.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        The points. Arithmetic is in double precision; the centres come
        back in ``X``'s float dtype.
    k : int
        Number of clusters, ``1 <= k <= n_samples``.
    sample_weight : array_like, shape (n_samples,), optional
        Non-negative weights; ones by default.
    init : 'k-means++' or array_like, shape (k, n_features)
        The engine's ``'random'`` is refused: see Raises.
    max_iter : int, default 300
        Maximum number of update steps.
    tol : float, default 1e-4
        Relative tolerance on the centre shift; ``0`` waits for stable labels.
    rng : int, numpy.random.Generator or None
        Seed or Generator for k-means++.

    Returns
    -------
    KMeansResult
        ``centers``, ``labels``, ``inertia``, ``n_iter`` (updates run) and
        ``converged``, as from :func:`kmeans_quant.kmeans`.

    Raises
    ------
    TypeError
        Non-numeric ``X``, a non-integer ``k`` or ``max_iter``, a bad ``rng``.
    ValueError
        Bad ``X``, ``k`` out of range, bad weights, ``init`` of the wrong
        shape or name (including ``'random'``), ``tol < 0``.

    References
    ----------
    S. P. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf.
    Theory 28(2), 1982. D. Arthur and S. Vassilvitskii, "k-means++: the
    advantages of careful seeding", Proc. SODA 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import naive
    >>> X = np.array([[0.0], [1.0], [9.0], [10.0]])
    >>> res = naive.kmeans(X, 2, init=[[0.0], [1.0]])
    >>> res.centers.ravel(), res.labels, res.inertia, res.n_iter, res.converged
    (array([0.5, 9.5]), array([0, 0, 1, 1]), 1.0, 2, True)
    """
    X, k, w = check_weighted_data(X, k, sample_weight)
    init = _check_init(init, k, X)
    max_iter = check_positive_int(max_iter, "max_iter")
    tol = check_tol(tol)
    gen = check_rng(rng)

    points = X.tolist()
    weights = w.tolist()
    if isinstance(init, str):
        centers = _plusplus_lists(points, weights, k, gen)
    else:
        centers = init.tolist()
    tol_abs = scaled_tolerance(points, weights, tol)

    # Iteration 0: assign every point to its nearest starting centre.
    labels, min_sq = assign_points(points, centers)
    n_iter = 0
    converged = False
    for iteration in range(1, max_iter + 1):
        new_centers = update_centers(points, labels, k, sample_weight=weights, min_sq_dist=min_sq)
        shift = centers_shift(centers, new_centers)
        new_labels, min_sq = assign_points(points, new_centers)
        converged = shift <= tol_abs or new_labels == labels
        centers, labels, n_iter = new_centers, new_labels, iteration
        if converged:
            break
    return KMeansResult(
        centers=np.array(centers, dtype=X.dtype),
        labels=np.array(labels, dtype=np.intp),
        inertia=inertia(weights, min_sq),
        n_iter=n_iter,
        converged=converged,
    )


# --------------------------------------------------------------------------
# recolouring an image
# --------------------------------------------------------------------------


def recolor(image: NDArray, palette: ArrayLike) -> NDArray:
    r"""Replace every pixel by its nearest palette colour, one pixel at a time.

    .. math:: y_p = P_{j^*}, \qquad j^* = \arg\min_j \lVert x_p - P_j \rVert^2

    with ties going to the lowest palette index (:func:`nearest_center`).
    :func:`kmeans_quant.recolor` breaks ties towards the lexicographically
    smallest colour instead, so the two agree whenever the palette is
    sorted that way (as ``np.unique(palette, axis=0)`` sorts it).

    Parameters
    ----------
    image : ndarray, shape (H, W), (H, W, 3) or (H, W, 4)
        Any image :func:`kmeans_quant.recolor` accepts; alpha is kept.
    palette : array_like, shape (m, 3) (``(m,)`` or ``(m, 1)`` for (H, W)), or a Palette
        Colours in the image's units, rounded to its dtype as
        :func:`kmeans_quant.recolor` rounds them.

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``.

    Raises
    ------
    TypeError, ValueError
        As :func:`kmeans_quant.recolor`: a bad image, or a palette of the
        wrong shape, type or value range.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import naive
    >>> img = np.array([[[10, 10, 10], [250, 240, 230]]], dtype=np.uint8)
    >>> naive.recolor(img, [[0, 0, 0], [255, 255, 255]])
    array([[[  0,   0,   0],
            [255, 255, 255]]], dtype=uint8)
    """
    prep = check_image(image)
    pal = check_palette(palette, channels=prep.channels, dtype=prep.dtype)
    colors = pal.tolist()
    out = np.empty_like(prep.pixels)
    for i, pixel in enumerate(prep.pixels.tolist()):
        j, _ = nearest_center(pixel, colors)
        out[i] = pal[j]
    return prep.rebuild(out)


# --------------------------------------------------------------------------
# Floyd-Steinberg error diffusion
# --------------------------------------------------------------------------


def floyd_steinberg(
    pixels: NDArray,
    palette: NDArray,
    *,
    strength: float = 1.0,
    level: NDArray | None = None,
    candidates: int = CANDIDATES,
    carry: float = CARRY,
) -> NDArray[np.intp]:
    r"""Floyd-Steinberg error diffusion in a plain loop over pixels.

    Pixels are visited in raster order. Pixel :math:`(y, x)` of colour
    :math:`x` first finds its candidates: the ``candidates`` palette
    colours nearest to :math:`x` (ties to the lowest index). It adds the
    error pushed onto it so far, :math:`v = x + a_{yx}`, takes the candidate
    :math:`p_j` nearest to :math:`v` (ties to the lowest index), and pushes
    :math:`e = \lambda_{yx}(v - p_j)` onto its unvisited neighbours with the
    weights

    .. math:: \frac{\gamma}{16}\begin{bmatrix} & * & 7 \\ 3 & 5 & 1\end{bmatrix},
              \qquad \gamma = \mathrm{carry} \times \mathrm{strength}.

    Error pushed off the image is dropped. With ``candidates`` at least the
    palette size, ``carry=1`` and no ``level`` this is the textbook
    algorithm. It is the oracle of
    :func:`kmeans_quant.dither._error_diffusion.floyd_steinberg`, which gives
    exactly these labels: all arithmetic is in the pixels' float dtype
    (float32 unless they are float64), the distances summed channel by
    channel, as the kernel does.

    Parameters
    ----------
    pixels : ndarray, shape (H, W, c) or (H, W)
        Pixel values.
    palette : ndarray, shape (m, c)
        Palette colours in the same units.
    strength : float, default 1.0
        Scales the share of the error passed on.
    level : ndarray, shape (H, W), optional
        :math:`\lambda`, each pixel's dithering level (1 when not given).
    candidates : int, default CANDIDATES
        How many of the palette colours nearest to a pixel's own colour it
        may take.
    carry : float, default CARRY
        Share of the error passed on at ``strength=1``.

    Returns
    -------
    labels : ndarray of intp, shape (H, W)
        ``labels[y, x]`` is the palette row pixel ``(y, x)`` takes.

    Examples
    --------
    Two greys of 100 onto black and white, textbook rules: the first goes
    black and passes 7/16 of its error of 100 on, so the second, at 143.75,
    goes white.

    >>> import numpy as np
    >>> from kmeans_quant import naive
    >>> naive.floyd_steinberg(np.array([[100.0, 100.0]]), np.array([[0.0], [255.0]]), carry=1)
    array([[0, 1]])
    """
    px = np.asarray(pixels)
    dtype = np.float64 if px.dtype == np.float64 else np.float32
    if px.ndim == 2:
        px = px[..., None]
    px = px.astype(dtype)
    H, W, c = px.shape
    pal = np.asarray(palette, dtype=dtype).reshape(-1, c)
    m = pal.shape[0]
    labels = np.zeros((H, W), dtype=np.intp)
    if m == 1:
        return labels
    lam = np.ones((H, W), dtype=dtype) if level is None else np.asarray(level, dtype=dtype)
    right, down_left, down, down_right = (dtype(w / 16 * carry * strength) for w in (7, 3, 5, 1))
    # Accumulated error, padded by one column each side and one row below so
    # error pushed off the image lands somewhere harmless; pixel (y, x) is
    # at pending[y, x + 1].
    pending = np.zeros((H + 1, W + 2, c), dtype=dtype)
    for y in range(H):
        for x in range(W):
            own = _sq_distances(px[y, x], pal)
            near = []  # the candidates, nearest first, ties to the lowest index
            for _ in range(min(candidates, m)):
                best = -1
                for j in range(m):
                    if j not in near and (best < 0 or own[j] < own[best]):
                        best = j
                near.append(best)
            v = px[y, x] + pending[y, x + 1]
            dist = _sq_distances(v, pal)
            j = -1
            for i in sorted(near):  # strictly nearer only: ties to the lowest index
                if j < 0 or dist[i] < dist[j]:
                    j = i
            labels[y, x] = j
            e = (v - pal[j]) * lam[y, x]
            pending[y, x + 2] += e * right
            pending[y + 1, x] += e * down_left
            pending[y + 1, x + 1] += e * down
            pending[y + 1, x + 2] += e * down_right
    return labels


def _sq_distances(v: NDArray, pal: NDArray) -> NDArray:
    """Squared distance from ``v`` to every palette row, summed channel by channel."""
    dist: NDArray = np.zeros(pal.shape[0], dtype=pal.dtype)
    for ch in range(pal.shape[1]):
        diff = v[ch] - pal[:, ch]
        dist += diff * diff
    return dist
