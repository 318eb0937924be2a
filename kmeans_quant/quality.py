r"""The quality target: a 0-100 scale on the mean squared error, and the search for k.

The scale
    Quality :math:`q \in \{0, \dots, 100\}` stands for a largest allowed
    mean squared error per colour channel, in 0-255 units (the MSE of
    :func:`kmeans_quant.metrics.mse` for uint8 images),

    .. math:: \mathrm{MSE}_{\max}(q) = \frac{65536}{6}\left(
              \max\!\left(0, \frac{0.016}{q + 0.001} - 0.001\right)
              + \frac{2.5}{(210 + q)^{1.2}} \cdot \frac{100.1 - q}{100}\right),

    with :math:`\mathrm{MSE}_{\max}(0) = \infty` and
    :math:`\mathrm{MSE}_{\max}(100) = 0` (lossless). This is the curve
    libimagequant (pngquant) uses, which was fitted to resemble libjpeg's
    quality numbers, converted from its internal unit to the per-channel
    MSE on the 0-255 scale (the factor 65536/6), so ``--quality 65-80``
    means roughly what it means to pngquant users. Some values:

    ======= ===== ===== ===== ===== ===== =====
    q       10    30    50    65    80    90
    MSE max 44.6  26.7  17.3  11.3  6.1   2.9
    ======= ===== ===== ===== ===== ===== =====

    An image's quality is the largest :math:`q` whose
    :math:`\mathrm{MSE}_{\max}(q)` its MSE does not exceed
    (:func:`mse_to_quality`). The MSE is that of plain nearest-colour
    mapping, measured on the visible pixels; dithering changes individual
    pixels but not the palette the quality was judged on.

The search for k
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
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from .color_table import pool_on_grid
from .engine._lloyd import FitSettings, fit_weighted
from .engine._steps import label_points

__all__ = ["quality_to_mse", "mse_to_quality", "QualityChoice", "QualityTooLow"]

# Grid of the search: cells 4 units wide.
_SEARCH_BITS = 6
# Lloyd iterations per candidate k (each starts warm).
_SEARCH_ITER = 12


def quality_to_mse(quality: float) -> float:
    """The largest per-channel MSE (0-255 units) that still has quality ``quality``.

    Examples
    --------
    >>> from kmeans_quant.quality import quality_to_mse
    >>> round(quality_to_mse(80), 2), quality_to_mse(100), quality_to_mse(0)
    (6.09, 0.0, inf)
    """
    q = float(quality)
    if q <= 0:
        return math.inf
    if q >= 100:
        return 0.0
    fudge = max(0.0, 0.016 / (q + 0.001) - 0.001)
    return 65536 / 6 * (fudge + 2.5 / (210 + q) ** 1.2 * (100.1 - q) / 100)


def mse_to_quality(mse: float) -> int:
    """The quality (0-100) of a result with per-channel MSE ``mse`` (0-255 units).

    Examples
    --------
    >>> from kmeans_quant.quality import mse_to_quality
    >>> mse_to_quality(0.0), mse_to_quality(6.0), mse_to_quality(1e6)
    (100, 80, 0)
    """
    for q in range(100, 0, -1):
        if mse <= quality_to_mse(q) * (1 + 1e-9):
            return q
    return 0


class QualityChoice(NamedTuple):
    """The colours a quality target asked for, and what they reached."""

    k: int  #: colours used (the palette's size)
    mse: float  #: per-channel MSE of nearest-colour mapping, 0-255 units
    quality: int  #: :func:`mse_to_quality` of ``mse``


class QualityTooLow(ValueError):
    """Even the most colours allowed stay below the minimum quality.

    ``choice`` says what the most colours reached.
    """

    def __init__(self, message: str, choice: QualityChoice) -> None:
        super().__init__(message)
        self.choice = choice


def _grow(X: NDArray, w: NDArray, centers: NDArray, k: int, rng: np.random.Generator) -> NDArray:
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
            _grow(means, weight, centers[max(below)], k, rng) if below else "k-means++"
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


def table_mse(colors: NDArray, counts: NDArray, mapped: NDArray, to_units: float) -> float:
    """Per-channel MSE, 0-255 units, of mapping each colour of a table to ``mapped``.

    ``colors`` and ``mapped`` (n, c) are in the image's dtype, ``to_units``
    its factor to 0-255 units, ``counts`` the pixels of each colour.
    """
    d = (colors.astype(np.float64) - mapped) * to_units
    total = float(counts.sum()) * colors.shape[1]
    return float(counts.astype(np.float64) @ np.einsum("ij,ij->i", d, d)) / max(total, 1.0)
