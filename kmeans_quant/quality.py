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
    :func:`kmeans_quant.choose_k` (and ``quantize(..., quality=...)``)
    find the fewest colours that reach ``max`` by a doubling-then-bisection
    search over warm-started fits on a pooled histogram, whose estimate is
    safe but not tight, then settle it on the fitted palettes themselves;
    how is in :mod:`kmeans_quant._fit.k_search`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["quality_to_mse", "mse_to_quality", "QualityChoice", "QualityTooLow"]


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
    """The colours a quality target asked for, and what they reached.

    What :func:`kmeans_quant.choose_k` returns, and what
    :class:`QualityTooLow` carries.

    Attributes
    ----------
    k : int
        Colours used: the size of the palette fitted for the target.
    mse : float
        Per-channel MSE of nearest-colour mapping onto that palette, in
        0-255 units, over the visible pixels.
    quality : int
        :func:`mse_to_quality` of ``mse``, 0-100.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import choose_k
    >>> ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
    >>> choose_k(ramp, (0, 80))
    QualityChoice(k=31, mse=6.00390625, quality=80)
    """

    k: int
    mse: float
    quality: int


class QualityTooLow(ValueError):
    """Even the most colours allowed stay below the minimum quality.

    Raised by :func:`kmeans_quant.choose_k` and by
    :func:`kmeans_quant.quantize` with ``quality=(min, max)`` when the
    palette of the most colours allowed reaches a quality below ``min``.
    A subclass of ValueError.

    Attributes
    ----------
    choice : QualityChoice
        What the most colours allowed reached.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import QualityTooLow, quantize
    >>> ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
    >>> try:
    ...     quantize(ramp, 4, quality=(90, 100))
    ... except QualityTooLow as exc:
    ...     print(exc.choice.k, exc.choice.quality < 90)
    4 True
    """

    def __init__(self, message: str, choice: QualityChoice) -> None:
        super().__init__(message)
        self.choice = choice
