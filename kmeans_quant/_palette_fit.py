"""Fitting a palette to an image's colour table, coarse to fine.

The objective is the exact K-Means objective over all pixels, expressed on
the distinct colours weighted by their counts. Photos still have 10^4-10^6
distinct colours, so the fit runs coarse to fine, all through the one engine
(:func:`kmeans_quant.engine.fit_weighted`):

1. Pool the colours into a coarse grid of cells (``_COARSE_BITS`` bits per
   channel, more if that leaves fewer than ``_COARSE_MIN_CELLS_PER_K`` cells
   per cluster), each cell represented by the weighted mean of its colours
   and their total count (:func:`kmeans_quant.color_table.pool_on_grid`).
   Clustering these means with their weights minimises the true objective
   among assignments that keep each cell together (the within-cell scatter
   is a constant), at a small fraction of the work.
2. K-Means has local optima, so several k-means++ starts (``_n_starts``:
   many for small k, where runs are cheap and optima far apart) each run
   Lloyd's iterations to convergence on the cells; the lowest inertia wins.
3. Refine from those centres on a fine grid (``_REFINE_BITS`` bits: cells 2
   units wide, at most 8 colours each) with up to ``_REFINE_ITER``
   over-relaxed Lloyd iterations (``_REFINE_RELAX``), which lets the coarse
   cells split across cluster boundaries.

Small colour tables skip the coarse stage. ``fixed`` centres are the first
rows of every start and never move (:func:`kmeans_quant.engine.fit_weighted`
with ``n_fixed``), so only the others are fitted. How the constants were tuned,
and what each stage costs in error, is in ``docs/internals.md``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .color_table import pool_on_grid
from .engine import FitSettings, fit_weighted, fit_weighted_centers

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


def _n_starts(k: int) -> int:
    return max(1, min(_MAX_STARTS, _START_BUDGET // k))


def fit_colors(
    X: NDArray,
    w: NDArray,
    k: int,
    *,
    rng: np.random.Generator,
    max_iter: int,
    tol: float,
    fixed: NDArray | None = None,
) -> NDArray:
    """Centres ``(k, c)`` for colours ``X`` (0-255 units) weighted by ``w``.

    Requires ``k < len(X)``. With ``fixed`` (f, c), ``f < k``, the first
    ``f`` centres are exactly ``fixed`` and the other ``k - f`` are fitted.
    """
    n_fixed = 0 if fixed is None else fixed.shape[0]
    start = "k-means++" if fixed is None else fixed.astype(X.dtype)
    plain = FitSettings(k=k, init=start, max_iter=max_iter, tol=tol, rng=rng, n_fixed=n_fixed)
    if X.shape[0] < _COARSE_MIN_RATIO * k:
        return fit_weighted_centers(X, w, plain)
    bits = _COARSE_BITS
    means, weight = pool_on_grid(X, w, bits)
    while means.shape[0] < _COARSE_MIN_CELLS_PER_K * k and bits < 7:
        bits += 1
        means, weight = pool_on_grid(X, w, bits)
    if means.shape[0] <= k:
        return fit_weighted_centers(X, w, plain)
    runs = [fit_weighted(means, weight, plain) for _ in range(_n_starts(k))]
    centers = min(runs, key=lambda r: r.inertia).centers
    if bits < _REFINE_BITS:
        X, w = pool_on_grid(X, w, _REFINE_BITS)
    refine = FitSettings(
        k=k,
        init=centers,
        max_iter=min(_REFINE_ITER, max_iter),
        tol=tol,
        rng=rng,
        relax=_REFINE_RELAX,
        n_fixed=n_fixed,
    )
    return fit_weighted_centers(X, w, refine)
