"""Fitting a palette to an image's colour table, fast.

The objective is the exact K-Means objective over all pixels, expressed on
the distinct colours weighted by their counts. Photos still have 10^4-10^6
distinct colours, so the fit runs coarse to fine, all through the one engine
(:func:`kmeans_quant.engine._fit`):

1. Pool the colours into a coarse grid of cells (``_COARSE_BITS`` bits per
   channel, more if that leaves fewer than ``_COARSE_MIN_CELLS_PER_K`` cells
   per cluster), each cell represented by the weighted mean of its colours
   and their total count. Clustering these means with their weights
   minimises the true objective among assignments that keep each cell
   together (the within-cell scatter is a constant), at a small fraction of
   the work.
2. K-Means has local optima, and one run from k-means++ lands a few percent
   above the best of several runs often enough to matter. So several
   k-means++ starts (``_n_starts``: many for small k, where runs are cheap
   and optima far apart) each run Lloyd's iterations to convergence on the
   cells; the lowest inertia wins.
3. Refine from those centres on a fine grid (``_REFINE_BITS`` bits: cells 2
   units wide, at most 8 colours each) with up to ``_REFINE_ITER``
   over-relaxed Lloyd iterations (``_REFINE_RELAX``, see
   :mod:`kmeans_quant.engine`), which lets the coarse cells split across
   cluster boundaries. The fine grid holds 1.4-2.8x fewer points than the
   exact colours of the sample photos, at a small cost in error: mean MSE
   ratio to scikit-learn 0.979 / 0.996 / 1.006 at k = 16 / 64 / 256 on the
   tuning photos (two seeds), against 0.979 / 0.995 / 1.001 when refining
   on the exact colours.

Small colour tables skip the coarse stage. The constants were tuned on six
sample photos (chelsea, coffee, astronaut, rocket, china, flower) against
scikit-learn's ``KMeans(n_clusters=k, random_state=0)`` on all pixels; the
benchmarks (``benchmarks/``) check them on other photos too.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .engine import _fit, _fit_centers

_COARSE_BITS = 5
_COARSE_MIN_CELLS_PER_K = 4
# Colours per cluster below which the coarse stage is not worth it.
_COARSE_MIN_RATIO = 8
# Starts: max(1, min(_MAX_STARTS, _START_BUDGET // k)).
_START_BUDGET = 256
_MAX_STARTS = 6
_REFINE_BITS = 7
_REFINE_ITER = 10
# Over-relaxation of the refinement (see kmeans_quant.engine).
_REFINE_RELAX = 3.0


# Grids with at most this many cells are pooled with a dense bincount over
# every cell; finer ones sort the occupied cell codes.
_DENSE_MAX_CELLS = 1 << 16


def _cell_index(code: NDArray, n_codes: int) -> tuple[NDArray[np.intp], int]:
    """Index of each code among the distinct codes in increasing order, and their number."""
    if n_codes <= _DENSE_MAX_CELLS:
        rank = np.cumsum(np.bincount(code, minlength=n_codes) > 0) - 1
        return rank[code], int(rank[-1]) + 1
    order = np.argsort(code, kind="stable")
    ordered = code[order]
    ids = np.empty(code.size, dtype=np.intp)
    ids[0] = 0
    np.cumsum(ordered[1:] != ordered[:-1], out=ids[1:])
    inv = np.empty(code.size, dtype=np.intp)
    inv[order] = ids
    return inv, int(ids[-1]) + 1


def _pool(X: NDArray, w: NDArray, bits: int) -> tuple[NDArray, NDArray]:
    """Weighted mean colour and total weight of each occupied grid cell.

    ``X`` is in 0-255 units, shape ``(m, c)`` (values outside go to the edge
    cells); cells are ``2**(8 - bits)`` units wide per channel. Cells come in
    increasing order of their code (the channels' cell numbers, first channel
    most significant).
    """
    m, c = X.shape
    cell = np.clip(X, 0, 255).astype(np.int32) >> (8 - bits)
    code = cell[:, 0]
    for j in range(1, c):  # at most 2 more channels
        code = (code << bits) | cell[:, j]
    inv, n_cells = _cell_index(code, 1 << (bits * c))
    weight = np.bincount(inv, weights=w, minlength=n_cells)
    sums = np.stack([np.bincount(inv, weights=w * X[:, j], minlength=n_cells)
                     for j in range(c)], axis=1)
    means = (sums / weight[:, None]).astype(X.dtype)
    return means, weight.astype(X.dtype)


def _n_starts(k: int) -> int:
    return max(1, min(_MAX_STARTS, _START_BUDGET // k))


def fit_colors(
    X: NDArray,
    w: NDArray,
    k: int,
    rng: np.random.Generator,
    max_iter: int,
    tol: float,
) -> NDArray:
    """Centres ``(k, c)`` for colours ``X`` (0-255 units) weighted by ``w``.

    Requires ``k < len(X)``.
    """
    if X.shape[0] < _COARSE_MIN_RATIO * k:
        return _fit_centers(X, w, k, "k-means++", max_iter, tol, rng)
    bits = _COARSE_BITS
    means, weight = _pool(X, w, bits)
    while means.shape[0] < _COARSE_MIN_CELLS_PER_K * k and bits < 7:
        bits += 1
        means, weight = _pool(X, w, bits)
    if means.shape[0] <= k:
        return _fit_centers(X, w, k, "k-means++", max_iter, tol, rng)
    runs = [_fit(means, weight, k, "k-means++", max_iter, tol, rng)
            for _ in range(_n_starts(k))]
    centers = min(runs, key=lambda r: r.inertia).centers
    if bits < _REFINE_BITS < 8:
        X, w = _pool(X, w, _REFINE_BITS)
    return _fit_centers(X, w, k, centers, min(_REFINE_ITER, max_iter), tol, rng, _REFINE_RELAX)
