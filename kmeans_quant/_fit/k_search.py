r"""The search for the fewest colours that reach a quality target.

The fewest colours that reach a target MSE are found on the image's
colour histogram pooled on a grid of cells ``2**(8 - _SEARCH_BITS)``
units wide (:func:`kmeans_quant.color_table.pool_on_grid`). For centres
:math:`c` the squared error of keeping each cell together,
:math:`J_{\text{cells}}(c) + S_{\text{within}}`, bounds the error of the
colour-by-colour mapping from above, with :math:`S_{\text{within}}` the
scatter of the colours about their cell means (computed once). So an
estimate that reaches the target is a safe choice. The search doubles
``k`` until the target is reached, then bisects; every fit is a warm
start: the centres of the largest smaller ``k`` fitted so far, plus new
centres drawn in one batch with probability proportional to weight times
squared distance (one round of k-means||, Bahmani et al., 2012),
followed by a few Lloyd iterations (:func:`kmeans_quant.engine._lloyd.fit_weighted`).

The bound is safe but not tight, so the k it finds may be more than
needed. The palettes themselves settle it (:func:`fewest`): the fit for
that k, and when it reaches the target, a search below it on the error of
the fitted palettes, measured exactly. The answer is the fewest colours
whose palette reaches the target, assuming (as K-Means nearly always
gives) that more colours never do worse.

:func:`search_k` runs the search, :func:`fewest` settles it, and
:func:`table_mse` measures the chosen palette exactly; the scale itself is
:mod:`kmeans_quant.quality`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ..color_table import pool_on_grid
from ..engine._lloyd import FitSettings, fit_weighted
from ..engine._steps import label_points

__all__ = ["search_k", "fewest", "table_mse"]

# Grid of the search: cells 4 units wide.
_SEARCH_BITS = 6
# Lloyd iterations per candidate k (each starts warm).
_SEARCH_ITER = 12


def _grow(X: NDArray, w: NDArray, centers: NDArray, *, k: int, rng: np.random.Generator) -> NDArray:
    r"""``centers`` plus ``k - len(centers)`` points of ``X`` drawn at once with
    probability proportional to :math:`w\,D(x)^2` (one k-means|| round; the
    Lloyd iterations that follow do the rest). Fewer rows come back when too
    few points lie off the centres; the engine completes them by k-means++.
    """
    nearest = centers[label_points(X, centers)]
    p = w * np.einsum("ij,ij->i", X - nearest, X - nearest)
    n_new = min(k - centers.shape[0], int(np.count_nonzero(p)))
    if n_new == 0:
        return centers
    picks = rng.choice(X.shape[0], size=n_new, replace=False, p=p / p.sum())
    return np.concatenate([centers, X[np.sort(picks)]])


def search_k(
    X: NDArray, w: NDArray, *, target_mse: float, k_max: int, rng: np.random.Generator
) -> int:
    """Fewest colours, at most ``k_max``, whose estimated MSE is at most ``target_mse``.

    ``X`` (n, c) are distinct colours in 0-255 units weighted by pixel
    counts ``w``; the estimate is the cell bound of this module's
    docstring. Returns ``min(k_max, n)`` when the target is out of reach.
    """
    k_max = min(k_max, X.shape[0])
    if target_mse == math.inf:
        return 1
    X64 = X.astype(np.float64)
    w64 = w.astype(np.float64)
    means, weight = pool_on_grid(X64, w64, _SEARCH_BITS)
    scatter = float(w64 @ np.einsum("ij,ij->i", X64, X64)) - float(
        weight @ np.einsum("ij,ij->i", means, means)
    )
    n_values = float(w64.sum()) * X.shape[1]
    centers: dict[int, NDArray] = {}

    def reaches(k: int) -> bool:
        if k >= means.shape[0]:
            return scatter / n_values <= target_mse
        below = [j for j in centers if j < k]
        init: str | NDArray = (
            _grow(means, weight, centers[max(below)], k=k, rng=rng) if below else "k-means++"
        )
        settings = FitSettings(k=k, init=init, max_iter=_SEARCH_ITER, tol=1e-4, rng=rng)
        fit = fit_weighted(means, weight, settings)
        centers[k] = fit.centers
        return (fit.inertia + scatter) / n_values <= target_mse

    # Doubling: the first k that reaches the target brackets the answer.
    lo, hi = 0, 1
    while not reaches(hi):
        if hi >= k_max:
            return k_max
        lo, hi = hi, min(2 * hi, k_max)
    # Bisection between a k that misses (lo) and one that reaches (hi).
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reaches(mid):
            hi = mid
        else:
            lo = mid
    return hi


def fewest(error_of: Callable[[int], float], *, k_hi: int, err_hi: float, target: float) -> int:
    r"""The smallest ``k`` in ``[1, k_hi]`` with ``error_of(k) <= target``.

    ``err_hi = error_of(k_hi)`` reaches the target, and the error is taken
    to fall as ``k`` grows. The answer stays bracketed between a ``k`` that
    misses and one that reaches; the next ``k`` tried is where the model
    :math:`e(k) = a k^{-p}` through the bracket's ends meets the target
    (:math:`p = 2/3`, the rate of quantizing 3-D data, while the lower end
    is unknown), and the middle when the model has not halved the bracket
    twice in a row. A few calls of ``error_of`` on photos, at most about
    ``3 log2(k_hi)``.

    >>> fewest(lambda k: 1000 / k, k_hi=64, err_hi=1000 / 64, target=20.0)
    50
    """
    lo, hi = 0, k_hi
    err_lo = math.inf
    stalled = 0
    while hi - lo > 1:
        p = 2.0 / 3.0
        if lo > 0 and err_hi > 0:
            p = math.log(err_lo / err_hi) / math.log(hi / lo)
        if stalled >= 2 or err_hi <= 0 or target <= 0 or p <= 0:  # no model: bisect
            k, stalled = (lo + hi) // 2, 0
        else:
            k = min(max(math.ceil(hi * (err_hi / target) ** (1.0 / p)), lo + 1), hi - 1)
        width = hi - lo
        err = error_of(k)
        if err <= target:
            hi, err_hi = k, err
        else:
            lo, err_lo = k, err
        stalled = stalled + 1 if 2 * (hi - lo) > width else 0
    return hi


def table_mse(colors: NDArray, counts: NDArray, mapped: NDArray, to_units: float) -> float:
    """Per-channel MSE, 0-255 units, of mapping each colour of a table to ``mapped``.

    ``colors`` and ``mapped`` (n, c) are in the image's dtype, ``to_units``
    its factor to 0-255 units, ``counts`` the pixels of each colour.
    """
    d = (colors.astype(np.float64) - mapped) * to_units
    total = float(counts.sum()) * colors.shape[1]
    return float(counts.astype(np.float64) @ np.einsum("ij,ij->i", d, d)) / max(total, 1.0)
