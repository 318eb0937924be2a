"""Fitting a palette to an image's colour table, fast.

The objective is the exact K-Means objective over all pixels, expressed on
the distinct colours weighted by their counts. Photos still have 10^5-10^6
distinct colours, so the fit runs coarse to fine, all through the one engine:

1. Pool the colours into a coarse grid of cells (``_COARSE_BITS`` bits per
   channel), each cell represented by the weighted mean of its colours and
   their total count. Clustering these means with their weights minimises
   the true objective among assignments that keep each cell together (the
   within-cell scatter is a constant), so the answer is close to the exact
   one at a small fraction of the work. k-means++ seeding and Lloyd run here
   to convergence.
2. Refine from those centres on the exact colours with a few more Lloyd
   iterations, which lets cells split across cluster boundaries.

Small colour tables skip the coarse stage.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .engine import _fit

# Bits per channel of the coarse grid, and how many Lloyd iterations the
# refinement on exact colours may take. Tuned with benchmarks/ (see docs).
_COARSE_BITS = 5
_INIT_BUDGET = 128  # coarse runs: max(1, min(8, _INIT_BUDGET // k))
_MID_BITS = 0  # 0: no intermediate grid
_REFINE_ITER = 20
_REFINE_BITS = 8  # 8: refine on the exact colours
_COARSE_TOL_FACTOR = 1.0
# Below this many distinct colours per cluster the coarse stage is not worth it.
_COARSE_MIN_RATIO = 8
# The grid is refined (one more bit, up to 7) until it has at least this
# many occupied cells per cluster: colours packed tightly (a dull photo, or
# Oklab, whose units are about twice as coarse as RGB's) need finer cells.
_COARSE_MIN_CELLS_PER_K = 4


def _pool(X: NDArray, w: NDArray, bits: int) -> tuple[NDArray, NDArray]:
    """Weighted mean colour and total weight of each occupied grid cell.

    ``X`` is in 0-255 units, shape ``(m, c)``; cells are ``2**(8 - bits)``
    units wide per channel.
    """
    m, c = X.shape
    cell = np.minimum(X, 255).astype(np.int64) >> (8 - bits)
    code = cell[:, 0]
    for j in range(1, c):  # at most 2 more channels
        code = (code << bits) | cell[:, j]
    used, inv = np.unique(code, return_inverse=True)
    n_cells = used.size
    weight = np.bincount(inv, weights=w, minlength=n_cells)
    flat = (inv[:, None] * c + np.arange(c)).ravel()
    sums = np.bincount(flat, weights=(w[:, None] * X).ravel(), minlength=n_cells * c)
    means = (sums.reshape(n_cells, c) / weight[:, None]).astype(X.dtype)
    return means, weight.astype(X.dtype)


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
    if X.shape[0] >= _COARSE_MIN_RATIO * k:
        bits = _COARSE_BITS
        means, weight = _pool(X, w, bits)
        while means.shape[0] < _COARSE_MIN_CELLS_PER_K * k and bits < 7:
            bits += 1
            means, weight = _pool(X, w, bits)
        if means.shape[0] > k:
            n_init = max(1, min(8, _INIT_BUDGET // k))
            runs = [_fit(means, weight, k, "k-means++", max_iter, tol * _COARSE_TOL_FACTOR, rng)
                    for _ in range(n_init)]
            centers = min(runs, key=lambda r: r.inertia).centers
            if _MID_BITS:
                mm, mw = _pool(X, w, _MID_BITS)
                centers = _fit(mm, mw, k, centers, max_iter, tol, rng).centers
            if _REFINE_ITER:
                if _REFINE_BITS < 8:
                    fm, fw = _pool(X, w, _REFINE_BITS)
                else:
                    fm, fw = X, w
                centers = _fit(fm, fw, k, centers, _REFINE_ITER, tol, rng).centers
            return centers
    return _fit(X, w, k, "k-means++", max_iter, tol, rng).centers
