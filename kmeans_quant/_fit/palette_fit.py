"""Fitting a palette to an image's colour table, coarse to fine.

The objective is the exact K-Means objective over all pixels, expressed on
the distinct colours weighted by their counts. Photos still have 10^4-10^6
distinct colours, so the fit runs coarse to fine, all through the one engine
(:func:`kmeans_quant.engine._lloyd.fit_weighted`):

1. Pool the colours into the fine grid (``_REFINE_BITS`` bits per channel,
   cells 2 units wide) and those cells into a coarse grid (``_COARSE_BITS``
   bits; more if that leaves fewer than ``_COARSE_MIN_CELLS_PER_K`` cells
   per cluster, fewer, down to ``_COARSEST_BITS``, while at least
   ``_COARSE_MAX_CELLS_PER_K`` are left), each cell represented by the
   weighted mean of its colours and their total count
   (:func:`kmeans_quant.color_table.pool_on_grid`). Clustering these means
   with their weights minimises the true objective among assignments that
   keep each cell together (the within-cell scatter is a constant), at a
   small fraction of the work.
2. K-Means has local optima, so several k-means++ starts (``_n_starts``:
   many for small k, where runs are cheap and optima far apart), seeded
   together, are raced on the cells
   (:func:`kmeans_quant.engine._starts.fit_best_of`): all run ``_START_PROBE``
   Lloyd iterations, the better half goes on for twice as many, until
   ``_FINALISTS`` are left, which run to ``_START_ITER`` iterations; the
   lowest inertia wins. A grid of more than ``_LARGE_GRID_CELLS`` cells
   (all-distinct noise) has its starts drawn on a coarser grid
   (:func:`_seed_cells`) and is raced with over-relaxed iterations
   (``_REFINE_RELAX``, at most ``_START_ITER_RELAXED``).
3. Refine from those centres on the fine grid (one bit coarser above
   ``_REFINE_MAX_CELLS`` cells) with up to ``_REFINE_ITER`` over-relaxed
   Lloyd iterations, which lets the coarse cells split across cluster
   boundaries; it stops early after an iteration that lowers the inertia
   by at most ``_REFINE_MIN_GAIN`` of it.

The coarse stage pays only when there are many colours per centre: with
fewer than ``_COARSE_MIN_RATIO`` per centre (flat graphics), or little work
in all (colours x (k + ``_UPDATE_COST``) at most ``_EXACT_MAX_WORK``), the
exact colours are fitted directly, from several starts when that is cheap
(:func:`_exact_starts`), to stable labels; for uint8 RGB images those
centres are then polished on the integer lattice (:func:`_polish`).
Single-channel tables (grey images) are not clustered by Lloyd's iterations
at all: one dimension has an exact solution by dynamic programming
(:func:`_optimal_1d`). ``fixed`` centres are the first rows of every start
and never move (:func:`kmeans_quant.engine._lloyd.fit_weighted` with
``n_fixed``), so only the others are fitted. How the constants were tuned,
and what each stage costs in error, is in ``docs/internals.md``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..color_table import pool_on_grid
from ..engine._lloyd import FitSettings, fit_weighted_centers
from ..engine._starts import fit_best_of, fit_starts
from ..engine._steps import assign_labels, update_centers, weighted_sum

__all__ = ["fit_colors"]

_COARSE_BITS = 5
_COARSE_MIN_CELLS_PER_K = 4
# The coarse grid is coarsened, down to _COARSEST_BITS, while it keeps at
# least this many cells per cluster.
_COARSE_MAX_CELLS_PER_K = 64
_COARSEST_BITS = 4
# A race on a grid of more than _LARGE_GRID_CELLS cells (all-distinct noise)
# draws its k-means++ starts on the coarsest grid, down to _SEED_BITS, that
# still has at least _SEED_CELLS_PER_K cells per cluster, and is
# over-relaxed (_REFINE_RELAX), for at most _START_ITER_RELAXED iterations.
_LARGE_GRID_CELLS = 1 << 14
_SEED_CELLS_PER_K = 16
_SEED_BITS = 3
# The exact colours are fitted directly when there are fewer than
# _COARSE_MIN_RATIO per cluster, or when colours * (k + _UPDATE_COST) is at
# most _EXACT_MAX_WORK (an iteration's update costs about as much per colour
# as _UPDATE_COST distances).
_COARSE_MIN_RATIO = 64
_EXACT_MAX_WORK = 1 << 16
_UPDATE_COST = 4
# Exact fits: starts while colours * k * starts stays within this budget,
# at most _EXACT_MAX_STARTS.
_EXACT_START_BUDGET = 1 << 24
_EXACT_MAX_STARTS = 24
# Starts: max(1, min(_MAX_STARTS, _START_BUDGET // k)).
_START_BUDGET = 256
_MAX_STARTS = 6
# Lloyd iterations of each coarse start at most (the refinement goes on).
_START_ITER = 30
_START_ITER_RELAXED = 15
# The race of the starts: iterations before the first cut, and how many
# starts run to the end.
_START_PROBE = 2
_FINALISTS = 2
_REFINE_BITS = 7
# A fine grid with more cells than this is coarsened by a bit: colours
# spread so evenly (noise) gain nothing from the finer cells.
_REFINE_MAX_CELLS = 1 << 17
_REFINE_ITER = 10
# The refinement stops early after an iteration that lowers the inertia by
# at most this fraction.
_REFINE_MIN_GAIN = 3e-4
# Over-relaxation of the refinement (see kmeans_quant.engine).
_REFINE_RELAX = 3.0
# Most rounds of Lloyd's iterations on the integer lattice (see _polish).
_POLISH_ITER = 5
# Single-channel tables are fitted exactly (_optimal_1d) up to this much work.
_DP_MAX_WORK = 1 << 22


def _dp_work(n: int, k: int) -> int:
    """Cells of the cost matrix and of the bands :func:`_optimal_1d` computes."""
    return max((n + 1) ** 2, (n - k + 1) ** 2 * k)


def _n_starts(k: int) -> int:
    return max(1, min(_MAX_STARTS, _START_BUDGET // k))


def _exact_starts(n: int, k: int) -> int:
    return max(1, min(_EXACT_MAX_STARTS, _EXACT_START_BUDGET // (n * k)))


def _polish(X: NDArray, w: NDArray, centers: NDArray) -> NDArray:
    r"""Lloyd's iterations with the centres kept on the integer lattice.

    For fixed labels the best integer centre of a cluster is its mean
    rounded channel by channel (the squared error separates by channel), and
    for fixed centres the nearest ones are the best labels, so neither step
    can raise the error of the rounded palette. Stops when the rounded
    centres no longer move.
    """
    c = np.rint(centers)
    for _ in range(_POLISH_ITER):
        labels, dist = assign_labels(X, c)
        new = np.rint(update_centers(X, labels, c.shape[0], sample_weight=w, min_sq_dist=dist))
        if np.array_equal(new, c):
            break
        c = new
    return c


def fit_colors(
    X: NDArray,
    w: NDArray,
    k: int,
    *,
    rng: np.random.Generator,
    max_iter: int,
    tol: float,
    lattice: bool = False,
    fixed: NDArray | None = None,
) -> NDArray:
    """Centres ``(k, c)`` for colours ``X`` (0-255 units) weighted by ``w``.

    Requires ``k < len(X)``. With ``fixed`` (f, c), ``f < k``, the first
    ``f`` centres are exactly ``fixed`` and the other ``k - f`` are fitted.
    With ``lattice`` (and no ``fixed``), the exact-colour fits (few colours
    per centre) end with whole-number centres polished on the integer
    lattice (:func:`_polish`). One channel without ``fixed`` gets the
    optimal centres (:func:`_optimal_1d`; whole numbers with ``lattice``),
    whatever ``max_iter`` and ``tol``.
    """
    n_fixed = 0 if fixed is None else fixed.shape[0]
    start = "k-means++" if fixed is None else fixed.astype(X.dtype)
    plain = FitSettings(k=k, init=start, max_iter=max_iter, tol=tol, rng=rng, n_fixed=n_fixed)
    n = X.shape[0]
    if X.shape[1] == 1 and not n_fixed and _dp_work(n, k) <= _DP_MAX_WORK:
        return _optimal_1d(X, w, k, lattice=lattice)
    if n < _COARSE_MIN_RATIO * k or n * (k + _UPDATE_COST) <= _EXACT_MAX_WORK:
        # Few colours per centre: fit them exactly, from several starts
        # when they are cheap, to stable labels.
        exact = FitSettings(k=k, init=start, max_iter=max_iter, tol=0.0, rng=rng, n_fixed=n_fixed)
        runs = fit_starts(X, w, exact, starts=_exact_starts(n, k))
        if lattice and not n_fixed:  # the polish would move fixed centres
            runs = [_polish(X, w, c) for c in runs]
        return min(runs, key=lambda c: _sse(X, w, c)) if len(runs) > 1 else runs[0]
    return _coarse_to_fine(X, w, plain, max_iter=max_iter)


def _optimal_1d(x: NDArray, w: NDArray, k: int, *, lattice: bool) -> NDArray:
    r"""The globally optimal ``k`` centres ``(k, 1)`` of values ``x`` weighted by ``w``.

    In one dimension every cluster of an optimal solution is a run of
    consecutive sorted values, so the best partition of the first ``j``
    values into ``m`` runs satisfies

    .. math:: E_m(j) = \min_{i < j} \; E_{m-1}(i) + \mathrm{cost}(i, j),
              \qquad \mathrm{cost}(i, j) = Q_{ij} - 2 c_{ij} S_{ij} + c_{ij}^2 W_{ij},

    with :math:`W, S, Q` the sums of :math:`w, wx, wx^2` over values
    ``i .. j-1`` and :math:`c_{ij}` their mean (dynamic programming,
    Bellman 1973). With ``lattice`` the mean is rounded, which gives the
    best whole-number centre of the run (the error is a parabola in
    :math:`c`). Only ``j`` that leave room for the remaining runs are
    computed, so step ``m`` is an ``(n - k + 1)``-square band of the cost
    matrix. ``x`` holds distinct values, more than ``k`` of them.
    """
    order = np.argsort(x[:, 0], kind="stable")
    v = x[order, 0].astype(np.float64)
    wt = w[order].astype(np.float64)
    n = v.size
    W, S, Q = (np.concatenate(([0.0], np.cumsum(a))) for a in (wt, wt * v, wt * v * v))
    # cost[j, i] of the run i .. j-1 (rows j = end, columns i = start); inf unless i < j.
    Wd = W[:, None] - W[None, :]
    Sd = S[:, None] - S[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        c = Sd / Wd
    if lattice:
        c = np.rint(c)
    cost = (Q[:, None] - Q[None, :]) - 2 * c * Sd + c * c * Wd
    cost[np.tril_indices(n + 1, 0)[::-1]] = np.inf
    band = n - k + 1
    best = cost[1 : band + 1, 0].copy()  # E_1(j), j = 1 .. band
    starts = np.empty((k, band), dtype=np.intp)
    starts[0] = 0
    for m in range(2, k + 1):  # E_m(j), j = m .. m + band - 1, from E_{m-1}(i), i = m-1 ..
        step = cost[m : m + band, m - 1 : m - 1 + band] + best[None, :]
        starts[m - 1] = np.argmin(step, axis=1)
        best = step[np.arange(band), starts[m - 1]]
    # Walk back from j = n: run m covers values i .. j-1.
    centers = np.empty((k, 1))
    j = n
    for m in range(k, 0, -1):  # k sequential look-ups
        i = m - 1 + int(starts[m - 1][j - m])
        centers[m - 1, 0] = c[j, i]
        j = i
    return centers.astype(x.dtype)


def _sse(X: NDArray, w: NDArray, centers: NDArray) -> float:
    """Weighted sum of squared distances of the colours to their nearest centre."""
    return float(
        weighted_sum(w.astype(np.float64), assign_labels(X, centers)[1].astype(np.float64))
    )


def _seed_cells(
    means: NDArray, weight: NDArray, *, k: int, bits: int
) -> tuple[NDArray, NDArray] | None:
    """The coarsest grid below ``bits`` (down to ``_SEED_BITS``) with at least
    ``_SEED_CELLS_PER_K`` cells per cluster, pooled from the cells of the
    ``bits`` grid (each lies inside one cell of every coarser grid); None if
    no coarser grid has that many."""
    cells = None
    for b in range(bits - 1, _SEED_BITS - 1, -1):
        coarser = pool_on_grid(means, weight, b)
        if coarser[0].shape[0] < _SEED_CELLS_PER_K * k:
            break
        cells = coarser
    return cells


def _coarse_to_fine(X: NDArray, w: NDArray, plain: FitSettings, *, max_iter: int) -> NDArray:
    """Starts on coarse grid cells, the best refined on the fine grid: the centres."""
    k, n_fixed = plain.k, plain.n_fixed
    # Every cell of a coarser grid is a union of cells of each finer one, so
    # each grid is pooled from the cells of a finer grid rather than from
    # all the colours.
    fine, fine_w = pool_on_grid(X, w, _REFINE_BITS)
    bits = _COARSE_BITS
    means, weight = pool_on_grid(fine, fine_w, bits)
    while means.shape[0] < _COARSE_MIN_CELLS_PER_K * k and bits < _REFINE_BITS:
        bits += 1
        means, weight = (fine, fine_w) if bits == _REFINE_BITS else pool_on_grid(fine, fine_w, bits)
    while bits > _COARSEST_BITS and means.shape[0] >= _COARSE_MAX_CELLS_PER_K * k:
        coarser = pool_on_grid(means, weight, bits - 1)
        if coarser[0].shape[0] < _COARSE_MAX_CELLS_PER_K * k:
            break
        bits -= 1
        means, weight = coarser
    if means.shape[0] <= k:
        return fit_weighted_centers(X, w, plain)
    large = means.shape[0] > _LARGE_GRID_CELLS
    starts = FitSettings(
        k=k,
        init=plain.init,
        max_iter=min(_START_ITER_RELAXED if large else _START_ITER, max_iter),
        tol=plain.tol,
        rng=plain.rng,
        relax=_REFINE_RELAX if large else 1.0,
        n_fixed=n_fixed,
    )
    centers = fit_best_of(
        means,
        weight,
        starts,
        starts=_n_starts(k),
        probe=_START_PROBE,
        finalists=_FINALISTS,
        seed_on=_seed_cells(means, weight, k=k, bits=bits) if large and not n_fixed else None,
    )
    if bits < _REFINE_BITS:
        if fine.shape[0] > _REFINE_MAX_CELLS and bits < _REFINE_BITS - 1:
            fine, fine_w = pool_on_grid(fine, fine_w, _REFINE_BITS - 1)
        X, w = fine, fine_w
    refine = FitSettings(
        k=k,
        init=centers,
        max_iter=min(_REFINE_ITER, max_iter),
        tol=plain.tol,
        rng=plain.rng,
        relax=_REFINE_RELAX,
        n_fixed=n_fixed,
        min_gain=_REFINE_MIN_GAIN,
    )
    return fit_weighted_centers(X, w, refine)
