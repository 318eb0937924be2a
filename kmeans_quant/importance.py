r"""Where a colour error would show: the importance map of an image.

An error of the same size is not equally visible everywhere. On a smooth
sky, wall or studio background a palette step shows as a hard band; in
foliage, fur, gravel or noise the texture hides it (contrast masking). The
importance map gives every pixel a weight in :math:`[\mathrm{FLOOR}, 1]`:
1 where the image is smooth, falling towards ``FLOOR`` as the local
activity grows.

The activity is measured on the luma :math:`Y' = 0.299 R' + 0.587 G' +
0.114 B'` of the gamma-encoded colour (the value itself for grey images), in
[0, 1]. At each pixel the absolute second differences across and down,

.. math:: d = \lvert Y'_{y,x-1} + Y'_{y,x+1} - 2Y'_{y,x}\rvert
            + \lvert Y'_{y-1,x} + Y'_{y+1,x} - 2Y'_{y,x}\rvert,

(the luma continued linearly beyond the image) are averaged over the
:math:`(2r+1)^2` window around it, giving :math:`a`, and

.. math:: w = \mathrm{FLOOR} + \frac{1 - \mathrm{FLOOR}}{1 + (a / a_0)^2}.

A second difference is zero on any linear ramp, so a smooth gradient
(where banding is worst) keeps the full weight, while texture, noise and
edges lower it. With these weights the palette fit spends its colours
where an error would be seen; the same map tells error diffusion where
dithering pays (:func:`dither_level`).

The constants (``RADIUS``, ``A0``, ``FLOOR``) were chosen by SSIMULACRA2 per
byte over sample photos; ``docs/benchmarks.md`` ("What the eye sees") has
the measurements.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._dtypes import full_scale
from ._pil import as_array
from ._validation import check_image

__all__ = [
    "importance_map",
    "map_of_pixels",
    "dither_level",
    "RADIUS",
    "A0",
    "FLOOR",
    "DITHER_FLOOR",
]

#: Half-width of the window the activity is averaged over (5 x 5 pixels).
RADIUS = 2
#: Activity (mean absolute second difference of luma, in [0, 1] units) at
#: which the weight has fallen half-way from 1 to FLOOR.
A0 = 0.02
#: The weight of the busiest pixels: texture still needs its colours, only
#: less precisely.
FLOOR = 0.15
#: The dithering level of the busiest pixels (see :func:`dither_level`).
DITHER_FLOOR = 0.5
# Luma weights of gamma-encoded R', G', B' (ITU-R BT.601).
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# Rows per strip: the work runs strip by strip so that its scratch stays
# a few MB whatever the image size.
_STRIP = 256


def _box_sum(a: NDArray, r: int, axis: int) -> NDArray:
    """Sum over the 2r+1 neighbours along ``axis`` of a 2-D array padded by r there."""
    n = a.shape[axis] - 2 * r

    def part(i: int) -> NDArray:
        return a[i : i + n] if axis == 0 else a[:, i : i + n]

    out = part(0).copy()
    for i in range(1, 2 * r + 1):
        out += part(i)
    return out


def _luma(pixels: NDArray, scale: float) -> NDArray[np.float32]:
    """Luma in [0, 1] of (n, c) pixel rows: the value for grey, Y' for colour."""
    if pixels.shape[1] == 1:
        return pixels[:, 0].astype(np.float32) * np.float32(1 / scale)
    # Three multiply-adds, not a matrix-vector product: a BLAS call with an
    # inner dimension of 3 gains nothing from threads.
    w = _LUMA / np.float32(scale)
    y = pixels[:, 0] * w[0]
    y += pixels[:, 1] * w[1]
    y += pixels[:, 2] * w[2]
    return y


def _weights_of_activity(a: NDArray[np.float32]) -> NDArray[np.float32]:
    a *= np.float32(1 / A0)
    np.square(a, out=a)
    a += np.float32(1)
    np.reciprocal(a, out=a)
    a *= np.float32(1 - FLOOR)
    a += np.float32(FLOOR)
    return a


def importance_map(image: Any) -> NDArray[np.float32]:
    r"""How visible a colour error would be at each pixel: 1 where smooth, less in texture.

    Parameters
    ----------
    image : ndarray or PIL.Image.Image
        Shape (H, W), (H, W, 3) or (H, W, 4); uint8, uint16, or float in
        [0, 1]. Alpha is ignored.

    Returns
    -------
    ndarray of float32, shape (H, W)
        Weights in [``FLOOR``, 1] (see the module docstring for the formula).

    Raises
    ------
    TypeError, ValueError
        An image that is not one (as for :func:`kmeans_quant.quantize`).

    Examples
    --------
    A linear ramp is smooth everywhere; noise is busy everywhere:

    >>> import numpy as np
    >>> from kmeans_quant.importance import importance_map
    >>> ramp = np.tile(np.linspace(0, 255, 40).astype(np.uint8), (30, 1))
    >>> float(importance_map(ramp).min()) > 0.9
    True
    >>> noise = np.random.default_rng(0).integers(0, 256, (30, 40), dtype=np.uint8)
    >>> float(importance_map(noise).max()) < 0.2
    True
    """
    prep = check_image(as_array(image))
    return map_of_pixels(prep.pixels, prep.shape, full_scale(prep.dtype))


def map_of_pixels(pixels: NDArray, shape: tuple[int, ...], scale: float) -> NDArray[np.float32]:
    """:func:`importance_map` of an image already split into pixel rows.

    No validation: for callers that have checked the image (the image
    pipeline), which hold its pixels as rows.

    Parameters
    ----------
    pixels : ndarray, shape (H * W, c)
        Colour rows in raster order, ``c`` = 1 (grey) or 3.
    shape : tuple of int
        The image's shape, ``(H, W, ...)``.
    scale : float
        The value of full intensity (255 for uint8, 65535 for uint16, 1 for
        float images).

    Returns
    -------
    ndarray of float32, shape (H, W)

    Examples
    --------
    >>> import numpy as np
    >>> rows = np.full((12, 3), 200, dtype=np.uint8)
    >>> map_of_pixels(rows, (3, 4, 3), 255.0).tolist()[0]
    [1.0, 1.0, 1.0, 1.0]
    """
    H, W = shape[0], shape[1]
    out = np.empty((H, W), dtype=np.float32)
    r = RADIUS
    rows = pixels.reshape(H, W, -1)
    for y0 in range(0, H, _STRIP):
        y1 = min(H, y0 + _STRIP)
        # Luma of the strip plus r + 1 rows each side, edges replicated.
        lo, hi = max(0, y0 - r - 1), min(H, y1 + r + 1)
        y = _luma(rows[lo:hi].reshape(-1, rows.shape[2]), scale).reshape(hi - lo, W)
        # Beyond the image the luma goes on linearly (odd reflection), so
        # the border of a ramp reads as smooth, not as an edge.
        pad = ((r + 1 - (y0 - lo), r + 1 - (hi - y1)), (1, 1))
        y = (
            np.pad(y, pad, mode="reflect", reflect_type="odd")
            if min(H, W) > 1
            else np.pad(y, pad, mode="edge")
        )
        centre = y[1:-1, 1:-1]
        d = np.abs(y[1:-1, :-2] + y[1:-1, 2:] - 2 * centre)
        d += np.abs(y[:-2, 1:-1] + y[2:, 1:-1] - 2 * centre)
        # d has r rows of margin each side; pad r columns, then the box mean.
        d = np.pad(d, ((0, 0), (r, r)), mode="edge")
        a = _box_sum(_box_sum(d, r, axis=0), r, axis=1)
        a *= np.float32(1 / (2 * r + 1) ** 2)
        out[y0:y1] = _weights_of_activity(a)
    return out


def dither_level(importance: NDArray, out: NDArray | None = None) -> NDArray[np.float32]:
    r"""Each pixel's error-diffusion level from its importance: 1 where smooth, less in texture.

    Dithering smooths bands where the image is smooth; across edges it
    draws jagged lines, and in texture it mostly adds bytes, the texture
    hiding the steps anyway. The level maps the importance linearly from
    [``FLOOR``, 1] onto [``DITHER_FLOOR``, 1]:

    .. math:: \lambda = D + (1 - D)\,\frac{w - \mathrm{FLOOR}}{1 - \mathrm{FLOOR}},

    clipped to [D, 1] for weights given by hand. With ``out`` (float32, the
    importance's shape, possibly the importance itself) the levels are
    written there.

    >>> import numpy as np
    >>> dither_level(np.array([[FLOOR, 1.0]], dtype=np.float32)).tolist()
    [[0.5, 1.0]]
    """
    w = np.asarray(importance, dtype=np.float32)
    level = np.subtract(w, np.float32(FLOOR), out=out)
    level *= np.float32((1 - DITHER_FLOOR) / (1 - FLOOR))
    level += np.float32(DITHER_FLOOR)
    return np.clip(level, DITHER_FLOOR, 1, out=level)
