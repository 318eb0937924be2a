r"""The two steps of Lloyd's algorithm, vectorized: assignment and update.

These are the functions the engine runs on every iteration, and the ones a
learner can call one at a time. Each public function checks its input and
hands clean arrays to a private kernel; the engine calls the kernels directly.

Assignment
    Every point goes to its nearest centre. The squared distances come from
    the expansion

    .. math:: \lVert x - c \rVert^2 = \lVert x \rVert^2 - 2\,x \cdot c
              + \lVert c \rVert^2 ,

    so the whole ``(n, k)`` matrix costs one matrix product. The kernel folds
    ``-2 x . c + ||c||^2`` into a single product of augmented matrices
    ``[x, 1] @ [-2c, ||c||^2]^T``, takes the row minima, then adds
    ``||x||^2`` back, which does not change which centre is nearest. It works
    through the rows in blocks so memory stays bounded for any ``n``.

Update
    Each centre moves to the weighted mean of its points,
    :math:`c_j = \sum_{i: l_i = j} w_i x_i / \sum_{i: l_i = j} w_i`,
    computed with :func:`numpy.bincount`. A cluster left with no points is
    moved onto the point farthest from its own centre, so no centre is NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_data, check_k, check_sample_weight
from ._threads import get_num_threads, run_chunks

__all__ = [
    "squared_distances",
    "assign_labels",
    "update_centers",
    # the kernels without validation, for callers inside the package
    "BLAS_ONE_THREAD",
    "FirstMin",
    "Points",
    "first_min",
    "label_points",
    "own_sq_distances",
    "row_norms_sq",
]

# OpenBLAS runs a product on one thread while rows * columns * inner
# <= 2**18. Spawning threads for thin products costs far more than it
# saves, so blocked kernels size their blocks to stay under this.
BLAS_ONE_THREAD = 1 << 18
# Elements of one (rows, k) block of the distance matrix: for colours
# (inner dimension d + 1 = 4) the product stays on one thread, and a
# 256 KiB float32 block still sits in L2 for the minimum search.
_BLOCK_ELEMENTS = BLAS_ONE_THREAD // 4
# Fewest rows of a block, whatever k and the number of features.
_MIN_BLOCK_ROWS = 16


# --------------------------------------------------------------------------
# private kernels: clean, C-contiguous float input of one dtype, no checks
# --------------------------------------------------------------------------


def _augment_points(X: NDArray) -> NDArray:
    """``[X, 1]``: points with a column of ones, shape ``(n, d + 1)``."""
    Xa = np.empty((X.shape[0], X.shape[1] + 1), dtype=X.dtype)
    Xa[:, :-1] = X
    Xa[:, -1] = 1
    return Xa


def _augment_centers(centers: NDArray) -> NDArray:
    """``[-2c, ||c||^2]``, shape ``(k, d + 1)``, transposed for the product."""
    Ca = np.empty((centers.shape[0], centers.shape[1] + 1), dtype=centers.dtype)
    Ca[:, :-1] = -2 * centers
    Ca[:, -1] = np.einsum("ij,ij->i", centers, centers)
    return np.ascontiguousarray(Ca.T)


def row_norms_sq(X: NDArray) -> NDArray:
    """``||x_i||^2`` of every row of ``X``."""
    return np.einsum("ij,ij->i", X, X)


# OpenBLAS shares a matrix-vector product among its threads above about
# 9216 elements (2304 * its threshold of 4), and its waiting threads spin.
_GEMV_ONE_THREAD = 8192


def weighted_sum(
    w64: NDArray[np.float64], X: NDArray, *, square: bool = False
) -> NDArray[np.float64]:
    """``w64 @ X`` (or ``w64 @ X**2`` with ``square``), the weighted sum of the rows of ``X``.

    Summed block by block, each block's product small enough for OpenBLAS to
    keep on the calling thread: on a busy machine its spinning helper threads
    cost far more than the product. With ``square`` each block is squared in
    float64 on its own, so no squared copy of ``X`` is ever held.
    """
    rows = max(1, _GEMV_ONE_THREAD // max(1, X[0].size if X.ndim > 1 else 1))

    def part(lo: int) -> NDArray[np.float64]:
        block = X[lo : lo + rows]
        return w64[lo : lo + rows] @ (np.square(block, dtype=np.float64) if square else block)

    total = part(0)
    for lo in range(rows, X.shape[0], rows):
        total += part(lo)
    return total


# Rows per block of the blocked transposes: a block of each side stays in cache.
_TRANSPOSE_ROWS = 1024


def transposed(X: NDArray, scale: NDArray | None = None, out: NDArray | None = None) -> NDArray:
    """``X.T`` (times ``scale[:, None]`` first, if given) as a C-contiguous array.

    Copied block by block of rows: numpy's transposing copy of a whole large
    array misses the cache on every element (5x slower at 10**6 x 64).
    """
    n = X.shape[0]
    if out is None:
        out = np.empty(
            X.shape[::-1], dtype=np.result_type(X, scale) if scale is not None else X.dtype
        )
    for lo in range(0, n, _TRANSPOSE_ROWS):
        block = X[lo : lo + _TRANSPOSE_ROWS]
        if scale is not None:
            block = scale[lo : lo + _TRANSPOSE_ROWS, None] * block
        out[:, lo : lo + _TRANSPOSE_ROWS] = block.T
    return out


def _block_rows(k: int, inner: int) -> int:
    """Rows of one block of the distance matrix against ``k`` centres.

    ``inner`` is the product's inner dimension (features + 1). Blocks hold
    at most ``_BLOCK_ELEMENTS`` distances and at most ``BLAS_ONE_THREAD``
    multiply-adds, so OpenBLAS runs each product on the calling thread.
    """
    return max(_MIN_BLOCK_ROWS, min(_BLOCK_ELEMENTS, BLAS_ONE_THREAD // inner) // max(k, 1))


class FirstMin:
    """Row of the first minimum in each column of ``(k, n)`` blocks, like ``argmin(axis=0)``.

    numpy's ``argmin(axis=0)`` copies to a transposed layout and searches
    each short column on its own. Instead: the column minima, a mask of the
    entries equal to them, and a max-reduction of ``(k - row) * mask``,
    whose largest value belongs to the first minimum. Every pass runs along
    the long axis. The ranks ``k - row`` are stored in the smallest unsigned
    type that holds ``k`` (uint8 up to 255 rows). Scratch buffers for
    blocks of up to ``n_max`` columns are allocated once and reused.

    Examples
    --------
    >>> import numpy as np
    >>> first_min = FirstMin(3, 4)
    >>> labels, best = first_min(np.array([[2.0, 0, 5, 1], [1, 0, 5, 1], [1, 3, 4, 0]]))
    >>> labels, best
    (array([1, 0, 2, 2]), array([1., 0., 4., 0.]))
    """

    def __init__(self, k: int, n_max: int) -> None:
        rank_dtype = np.min_scalar_type(k)
        self.k = k
        self.rank_of = np.arange(k, 0, -1, dtype=rank_dtype)[:, None]  # k - row
        self.flags = np.empty((k, n_max), dtype=bool)
        self.ranks = np.empty((k, n_max), dtype=rank_dtype)

    def __call__(self, d: NDArray, out: NDArray | None = None) -> tuple[NDArray, NDArray]:
        """Labels (into ``out`` if given, any integer dtype) and the column minima of ``d``."""
        n = d.shape[1]
        best = d.min(axis=0)
        flags, ranks = self.flags[:, :n], self.ranks[:, :n]
        np.equal(d, best, out=flags)
        np.multiply(flags, self.rank_of, out=ranks)
        if out is None:
            out = np.empty(n, dtype=np.intp)
        np.subtract(self.k, ranks.max(axis=0), out=out, casting="unsafe")
        return out, best


def first_min(d: NDArray) -> NDArray[np.intp]:
    """One-off :class:`FirstMin`: the row of the first minimum of every column of ``d``."""
    return FirstMin(d.shape[0], d.shape[1])(d)[0]


def _assign_columns(
    Xa: NDArray, CaT: NDArray, labels: NDArray, min_sq: NDArray | None, start: int, stop: int
) -> None:
    """Fill ``labels[start:stop]`` (and ``min_sq``) from ``(k, rows)`` blocks.

    For few centres the minimum over centres is a reduction over k
    contiguous rows (:class:`FirstMin`), which beats numpy's row-wise argmin.
    """
    k = CaT.shape[1]
    step = _block_rows(k, Xa.shape[1])
    rows = min(step, stop - start)
    Ca = np.ascontiguousarray(CaT.T)
    # The rows, transposed into a contiguous buffer: BLAS takes a
    # transposed view too, but copy + product is faster.
    points = np.empty((Xa.shape[1], rows), dtype=Xa.dtype)
    buf = np.empty((k, rows), dtype=Xa.dtype)
    nearest = FirstMin(k, rows)
    for lo in range(start, stop, step):
        hi = min(lo + step, stop)
        n = hi - lo
        block = buf[:, :n]
        np.copyto(points[:, :n], Xa[lo:hi].T)
        np.matmul(Ca, points[:, :n], out=block)
        _, best = nearest(block, out=labels[lo:hi])
        if min_sq is not None:
            min_sq[lo:hi] = best


def _assign_rows(
    Xa: NDArray, CaT: NDArray, labels: NDArray, min_sq: NDArray | None, start: int, stop: int
) -> None:
    """Fill ``labels[start:stop]`` (and ``min_sq``) from ``(rows, k)`` blocks and argmin."""
    k = CaT.shape[1]
    step = _block_rows(k, Xa.shape[1])
    buf = np.empty((min(step, stop - start), k), dtype=Xa.dtype)
    all_rows = np.arange(buf.shape[0]) if min_sq is not None else None
    for lo in range(start, stop, step):
        hi = min(lo + step, stop)
        block = buf[: hi - lo]
        np.matmul(Xa[lo:hi], CaT, out=block)
        lab = labels[lo:hi]
        block.argmin(axis=1, out=lab)
        if min_sq is not None:
            min_sq[lo:hi] = block[all_rows[: hi - lo], lab]  # type: ignore[index]


# Up to this many centres the nearest one is found along the centre axis of
# (k, rows) blocks (_assign_columns).
_COLUMNS_MAX_K = 32
# The same when the assignment is big enough to be split across threads:
# the (k, rows) path makes several short NumPy calls per block, which queue
# for the GIL on several threads.
_COLUMNS_MAX_K_THREADED = 8


# numpy's argmin along rows of 33 to 63 elements is about twice as slow per
# element as along rows of 64, so the (rows, k) path pads such centres to 64.
_ROWS_PAD_K = 64


def _pad_centers(CaT: NDArray, width: int) -> NDArray:
    """``CaT`` with columns added up to ``width`` that are never the nearest.

    A pad column is ``[0, ..., 0, big]``: its "distance" from every point
    is ``big``, far above any real one.
    """
    padded = np.zeros((CaT.shape[0], width), dtype=CaT.dtype)
    padded[:, : CaT.shape[1]] = CaT
    padded[-1, CaT.shape[1] :] = np.finfo(CaT.dtype).max / 4
    return padded


# Distance-matrix elements from which the assignment is shared among threads
# (kmeans_quant.engine._threads), in chunks of CHUNK_BLOCKS blocks.
THREAD_MIN_ELEMENTS = 1 << 20
CHUNK_BLOCKS = 4


def _assign(
    Xa: NDArray, x_sq: NDArray, centers: NDArray, want_min: bool = True
) -> tuple[NDArray[np.intp], NDArray | None]:
    """Nearest centre of every point, and the squared distance to it.

    ``Xa`` is ``[X, 1]`` from :func:`_augment_points` and ``x_sq`` the squared
    row norms of ``X``. Ties go to the lowest centre index. Distances that
    round-off pushes below zero are clipped to zero. With ``want_min=False``
    the distances are not gathered (None is returned in their place).

    Large assignments are cut into chunks of whole blocks that threads take
    one at a time (:func:`kmeans_quant.engine._threads.run_chunks`): NumPy
    releases the GIL in the matrix product and in argmin. The blocks, the
    kernel and every row's arithmetic are the same whatever the number of
    threads, so the output is too.
    """
    n = Xa.shape[0]
    k = centers.shape[0]
    CaT = _augment_centers(centers)
    labels = np.empty(n, dtype=np.intp)
    min_sq = np.empty(n, dtype=Xa.dtype) if want_min else None
    big = n * k >= THREAD_MIN_ELEMENTS
    rows = k > (_COLUMNS_MAX_K_THREADED if big else _COLUMNS_MAX_K)
    if _COLUMNS_MAX_K < k < _ROWS_PAD_K:
        CaT = _pad_centers(CaT, _ROWS_PAD_K)
    kernel = _assign_rows if rows else _assign_columns
    if not big:
        kernel(Xa, CaT, labels, min_sq, 0, n)
    else:
        run_chunks(
            partial(kernel, Xa, CaT, labels, min_sq),
            n,
            chunk=CHUNK_BLOCKS * _block_rows(CaT.shape[1], Xa.shape[1]),
            threads=get_num_threads(),
        )
    if want_min:
        min_sq += x_sq
        np.maximum(min_sq, 0, out=min_sq)
    return labels, min_sq


def label_points(X: NDArray, centers: NDArray) -> NDArray[np.intp]:
    """Nearest centre of every row of ``X`` on clean input (no validation): ties to the lowest.

    The kernel behind :func:`assign_labels`, for callers inside the package
    that have validated already (the image API's palette mapping).
    """
    return _assign(_augment_points(X), row_norms_sq(X), centers, want_min=False)[0]


def own_sq_distances(X: NDArray, centers: NDArray, labels: NDArray[np.intp]) -> NDArray:
    """``||x_i - c_{l_i}||^2`` computed directly: O(n d), no cancellation.

    Block by block of rows, so no difference array the size of ``X`` is held.
    """
    out = np.empty(X.shape[0], dtype=np.result_type(X, centers))
    step = max(1, _BLOCK_ELEMENTS // max(1, X.shape[1]))
    for lo in range(0, X.shape[0], step):
        diff = X[lo : lo + step] - centers[labels[lo : lo + step]]
        np.einsum("ij,ij->i", diff, diff, out=out[lo : lo + step])
    return out


def _pairwise_sq(X: NDArray, x_sq: NDArray, C: NDArray) -> NDArray:
    """The full ``(n, m)`` matrix of squared distances, clipped at zero."""
    D = X @ (-2 * C).T
    D += x_sq[:, None]
    D += row_norms_sq(C)[None, :]
    np.maximum(D, 0, out=D)
    return D


# np.bincount adds each weight into its bin in turn, so runs of points with
# the same label (common: colour tables are sorted, neighbours look alike)
# wait on one another's additions. Cycling every point through _SPREAD
# copies of the histogram breaks those chains.
_SPREAD = 4


def _spread_offsets(n: int, k: int) -> NDArray[np.intp]:
    """Offset of each point's histogram copy: ``(i mod _SPREAD) * k``."""
    return (np.arange(n, dtype=np.intp) % _SPREAD) * k


def _cluster_sums(
    wXT: NDArray,
    w: NDArray,
    labels: NDArray[np.intp],
    k: int,
    offsets: NDArray[np.intp] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-cluster sums of ``w x`` and of ``w``, in float64.

    bincount takes 1-D weights, so one call per feature (d = 3 for colours)
    rather than one over (cluster, feature) codes, which would first have
    to build an (n, d) index array. ``offsets``, from
    :func:`_spread_offsets` (computed here if not given), spreads the points
    over several copies of each histogram that are added up at the end.
    """
    d = wXT.shape[0]
    if offsets is None:
        offsets = _spread_offsets(labels.size, k)
    bins = labels + offsets
    size = _SPREAD * k

    def hist(weights: NDArray) -> NDArray[np.float64]:
        return np.bincount(bins, weights=weights, minlength=size).reshape(_SPREAD, k).sum(axis=0)

    sums = np.empty((k, d), dtype=np.float64)
    for j in range(d):
        sums[:, j] = hist(wXT[j])
    return sums, hist(w)


def _centers_from_sums(
    X: NDArray,
    w: NDArray,
    wXT: NDArray,
    labels: NDArray[np.intp],
    sums: NDArray[np.float64],
    weights: NDArray[np.float64],
    far_sq: NDArray | Callable[[], NDArray],
) -> NDArray:
    """Centres ``sums / weights``, with empty clusters relocated.

    An empty cluster (total weight 0) takes the point farthest (by
    ``far_sq``, its squared distance to its own centre) from its centre;
    the point's weight leaves its old cluster. With several empty clusters
    the farthest points are handed out in decreasing distance (the rule
    scikit-learn also follows). ``far_sq`` may be a function, called only
    when some cluster is empty. ``sums`` and ``weights`` are not modified.
    """
    k, d = sums.shape
    if weights.all():  # the usual case: no cluster is empty
        return (sums / weights[:, None]).astype(X.dtype)
    empty = np.flatnonzero(weights == 0)
    if empty.size:
        sums, weights = sums.copy(), weights.copy()
        far_sq = far_sq() if callable(far_sq) else far_sq
        far = np.argsort(far_sq, kind="stable")[::-1][: empty.size]
        for j, i in zip(empty, far, strict=True):  # at most k items, only when clusters empty
            old = labels[i]
            if weights[old] > w[i]:  # never empty the donor cluster itself
                sums[old] -= wXT[:, i]
                weights[old] -= w[i]
                sums[j] = wXT[:, i]
                weights[j] = w[i]
    centers = np.empty((k, d), dtype=X.dtype)
    filled = weights > 0
    centers[filled] = sums[filled] / weights[filled, None]
    # Only reachable when points run out (k > distinct points): put the
    # centre on the farthest point anyway rather than leave garbage.
    if not filled.all():
        far_sq = far_sq() if callable(far_sq) else far_sq
        centers[~filled] = X[np.argmax(far_sq)]
    return centers


def _update(
    X: NDArray,
    w: NDArray,
    wXT: NDArray,
    labels: NDArray[np.intp],
    far_sq: NDArray | Callable[[], NDArray],
    k: int,
) -> NDArray:
    """Weighted means of the clusters, empty clusters relocated.

    ``wXT`` is ``(w[:, None] * X).T`` as a C-contiguous ``(d, n)`` array,
    precomputed once per fit. Sums are accumulated in float64 whatever the
    data's dtype, then cast back. See :func:`_centers_from_sums` for empty
    clusters.
    """
    sums, weights = _cluster_sums(wXT, w, labels, k)
    return _centers_from_sums(X, w, wXT, labels, sums, weights, far_sq)


def _weighted_points_t(X: NDArray, w: NDArray) -> NDArray:
    """``(w[:, None] * X).T``, C-contiguous: the layout :func:`_update` wants."""
    return transposed(X, scale=w)


@dataclass(frozen=True, eq=False)
class Points:
    """Weighted points with the layouts the kernels want, computed once per fit.

    The engine's loop (:func:`kmeans_quant.engine._lloyd`) runs its two
    steps through :meth:`assign` and :meth:`sums` / :meth:`means`.
    """

    X: NDArray  # (n, d)
    w: NDArray  # (n,)
    Xa: NDArray  # [X, 1] for the assignment's product
    x_sq: NDArray  # ||x||^2
    wXT: NDArray  # (w[:, None] * X).T for the update's sums
    offsets: NDArray[np.intp]  # histogram copy of each point in the update

    @classmethod
    def of(cls, X: NDArray, w: NDArray, k: int) -> Points:
        return cls(
            X,
            w,
            _augment_points(X),
            row_norms_sq(X),
            _weighted_points_t(X, w),
            _spread_offsets(X.shape[0], k),
        )

    def assign(self, centers: NDArray) -> NDArray[np.intp]:
        """Assignment step: the nearest centre of every point."""
        return _assign(self.Xa, self.x_sq, centers, want_min=False)[0]

    def sums(self, labels: NDArray[np.intp], k: int) -> tuple[NDArray, NDArray]:
        """Per-cluster sums of ``w x`` and ``w`` for ``labels``."""
        return _cluster_sums(self.wXT, self.w, labels, k, self.offsets)

    def means(
        self, labels: NDArray[np.intp], sums: tuple[NDArray, NDArray], old: NDArray
    ) -> NDArray:
        """Update step: cluster means from their sums, empty clusters relocated."""
        return _centers_from_sums(
            self.X,
            self.w,
            self.wXT,
            labels,
            *sums,
            far_sq=partial(own_sq_distances, self.X, old, labels),
        )


# --------------------------------------------------------------------------
# public step functions: validate once, then call the kernels
# --------------------------------------------------------------------------


def _check_centers(centers: ArrayLike, d: int, dtype: np.dtype) -> NDArray:
    C = check_data(centers).astype(dtype, copy=False)
    if C.shape[1] != d:
        raise ValueError(f"centers must have {d} features to match X, got shape {C.shape}")
    return np.ascontiguousarray(C)


def squared_distances(X: ArrayLike, centers: ArrayLike) -> NDArray[np.floating]:
    r"""Squared Euclidean distance from every point to every centre.

    .. math:: D_{ij} = \lVert x_i - c_j \rVert^2
              = \lVert x_i \rVert^2 - 2\, x_i \cdot c_j + \lVert c_j \rVert^2

    computed with one matrix product; values that round-off makes slightly
    negative are clipped to zero.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        The points.
    centers : array_like, shape (n_centers, n_features)
        The centres.

    Returns
    -------
    ndarray, shape (n_samples, n_centers)
        ``D[i, j]``, in X's float dtype (float32 stays float32).

    Raises
    ------
    ValueError, TypeError
        If either array is not 2-D real data or their widths differ.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import squared_distances
    >>> squared_distances(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 0.0]]))
    array([[ 0.],
           [25.]])
    """
    X = check_data(X)
    C = _check_centers(centers, X.shape[1], X.dtype)
    return _pairwise_sq(X, row_norms_sq(X), C)


def assign_labels(
    X: ArrayLike, centers: ArrayLike
) -> tuple[NDArray[np.intp], NDArray[np.floating]]:
    r"""Assignment step: the nearest centre of every point.

    .. math:: l_i = \arg\min_j \lVert x_i - c_j \rVert^2

    Ties go to the lowest centre index. The distance matrix is built in row
    blocks, so memory stays bounded whatever ``n_samples`` is.

    Parameters
    ----------
    X, centers : array_like
        As for :func:`squared_distances`, with ``k`` centres.

    Returns
    -------
    labels : ndarray of intp, shape (n_samples,)
        Index of the nearest centre.
    min_sq_dist : ndarray, shape (n_samples,)
        Squared distance to that centre.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import assign_labels
    >>> labels, d2 = assign_labels([[0.0], [1.0], [9.0]], [[0.0], [10.0]])
    >>> labels
    array([0, 0, 1])
    >>> d2
    array([0., 1., 1.])
    """
    X = check_data(X)
    C = _check_centers(centers, X.shape[1], X.dtype)
    labels, min_sq = _assign(_augment_points(X), row_norms_sq(X), C, want_min=True)
    return labels, cast(NDArray[np.floating], min_sq)


def update_centers(
    X: ArrayLike,
    labels: ArrayLike,
    k: int,
    *,
    sample_weight: ArrayLike | None = None,
    min_sq_dist: ArrayLike | None = None,
) -> NDArray[np.floating]:
    r"""Update step: move each centre to the weighted mean of its points.

    .. math:: c_j = \frac{\sum_{i:\,l_i = j} w_i\, x_i}{\sum_{i:\,l_i = j} w_i}

    A cluster with no points would be 0/0. Instead it takes the point
    farthest from its own centre (``min_sq_dist``, the second output of
    :func:`assign_labels`); among equally far points the one with the
    higher index wins, so without ``min_sq_dist`` (every point equally far)
    the last points are used.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        The points.
    labels : array_like of int, shape (n_samples,)
        Cluster of each point, in ``[0, k)``.
    k : int
        Number of clusters.
    sample_weight : array_like, shape (n_samples,), optional
        Non-negative weight of each point; ones by default.
    min_sq_dist : array_like, shape (n_samples,), optional
        Squared distance of each point to its current centre.

    Returns
    -------
    ndarray, shape (k, n_features)
        The new centres.

    Examples
    --------
    >>> from kmeans_quant import update_centers
    >>> update_centers([[0.0], [2.0], [10.0]], [0, 0, 1], 2)
    array([[ 1.],
           [10.]])
    >>> update_centers([[0.0], [2.0]], [0, 0], 1, sample_weight=[3, 1])
    array([[0.5]])
    """
    X = check_data(X)
    k = check_k(k)
    n = X.shape[0]
    lab = np.asarray(labels)
    if lab.shape != (n,) or lab.dtype.kind not in "iu":
        raise ValueError(
            f"labels must be integers of shape ({n},), got dtype {lab.dtype} and shape {lab.shape}"
        )
    if n and (lab.min() < 0 or lab.max() >= k):
        raise ValueError(f"labels must lie in [0, {k}), got range [{lab.min()}, {lab.max()}]")
    w = check_sample_weight(sample_weight, n, X.dtype)
    if min_sq_dist is None:
        dist = np.zeros(n, dtype=X.dtype)
    else:
        dist = np.asarray(min_sq_dist, dtype=X.dtype)
        if dist.shape != (n,):
            raise ValueError(f"min_sq_dist must have shape ({n},), got {dist.shape}")
    return _update(X, w, _weighted_points_t(X, w), lab.astype(np.intp, copy=False), dist, k)
