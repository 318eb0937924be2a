r"""How far a quantized image is from the original: MSE, PSNR, ΔE76 and block-mean error.

Every measure takes two images of the same shape and dtype (any image the
image API accepts: uint8, uint16 or float in [0, 1], grey, RGB or RGBA) and
compares their colour channels; an alpha channel is left out. They work
through the rows in bands of about a million values, so no float64 copy of
a whole image is ever made.

Mean squared error and PSNR
    .. math:: \mathrm{MSE} = \frac{1}{N c} \sum_{p} \sum_{j=1}^{c} (a_{pj} - b_{pj})^2,
              \qquad \mathrm{PSNR} = 10 \log_{10} \frac{V^2}{\mathrm{MSE}}

    in the image's own units, with :math:`V` the dtype's full scale (255,
    65535 or 1). For uint8 images every partial sum is an integer below
    2**53, so the MSE is exact.

Mean ΔE76
    The mean Euclidean distance in CIELAB (:func:`kmeans_quant.colorspace.delta_e_76`)
    between corresponding pixels; grey images are compared as grey RGB.

Block-mean error
    Dithering is judged by local mean colours, since the eye averages
    neighbouring pixels:

    .. math:: E = \frac{1}{|\mathcal B|} \sum_{\beta \in \mathcal B}
              \lVert \bar a_\beta - \bar b_\beta \rVert^2

    over the ``block`` x ``block`` tiles :math:`\beta` that fit wholly in the
    image (a partial last row or column of tiles is left out), with
    :math:`\bar a_\beta` the mean colour of tile :math:`\beta`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from ._dtypes import full_scale
from ._validation import check_image
from .colorspace import delta_e_76, srgb_to_lab

__all__ = ["mse", "psnr", "mean_delta_e76", "block_mean_error"]

# Values per band: each band is converted to float64 on its own.
_BAND_VALUES = 1 << 20


def _pair(a: NDArray, b: NDArray) -> tuple[NDArray, NDArray]:
    """Check two images against each other; return their colour channels, (H, W, c)."""
    pa, pb = check_image(a, "a"), check_image(b, "b")
    if a.shape != b.shape or pa.dtype != pb.dtype:
        raise ValueError(
            f"images must have the same shape and dtype, got {a.shape} {a.dtype} "
            f"and {b.shape} {b.dtype}"
        )
    h, w = a.shape[:2]
    c = pa.channels
    return pa.pixels.reshape(h, w, c), pb.pixels.reshape(h, w, c)


def _bands(height: int, row_values: int, multiple: int = 1) -> Iterator[slice]:
    """Row slices of about ``_BAND_VALUES`` values, each a multiple of ``multiple`` rows."""
    rows = max(1, _BAND_VALUES // max(1, row_values))
    rows = max(multiple, rows - rows % multiple)
    for y in range(0, height, rows):
        yield slice(y, min(height, y + rows))


def _squared_error_sum(a: NDArray, b: NDArray) -> float:
    total = 0.0
    for band in _bands(a.shape[0], a[0].size):
        d = (a[band].astype(np.float64) - b[band]).ravel()
        total += float(d @ d)
    return total


def mse(a: NDArray, b: NDArray) -> float:
    """Mean squared error over pixels and colour channels, in the images' units.

    Parameters
    ----------
    a, b : ndarray, shape (H, W), (H, W, 3) or (H, W, 4)
        Two images of the same shape and dtype; alpha is ignored.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        Either is not an image the image API accepts, or they differ in
        shape or dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant.metrics import mse
    >>> a = np.zeros((2, 2, 3), np.uint8)
    >>> b = a.copy(); b[0, 0] = [6, 0, 0]
    >>> mse(a, b)
    3.0
    """
    ca, cb = _pair(a, b)
    return _squared_error_sum(ca, cb) / ca.size


def psnr(a: NDArray, b: NDArray) -> float:
    """Peak signal-to-noise ratio in dB, peak = the dtype's full scale; inf for equal images.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant.metrics import psnr
    >>> a = np.zeros((2, 2), np.uint8)
    >>> round(psnr(a, a + 255), 6), psnr(a, a)
    (0.0, inf)
    """
    ca, cb = _pair(a, b)
    err = _squared_error_sum(ca, cb) / ca.size
    peak = full_scale(ca.dtype)
    return math.inf if err == 0 else 10 * math.log10(peak**2 / err)


def mean_delta_e76(a: NDArray, b: NDArray) -> float:
    """Mean CIELAB ΔE76 between corresponding pixels (grey compared as grey RGB).

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant.metrics import mean_delta_e76
    >>> white = np.full((1, 2, 3), 255, np.uint8)
    >>> round(mean_delta_e76(white, white * 0), 3)
    100.0
    """
    ca, cb = _pair(a, b)
    scale = full_scale(ca.dtype)
    total = 0.0
    for band in _bands(ca.shape[0], ca[0].size):
        pa = ca[band].astype(np.float64) / scale
        pb = cb[band].astype(np.float64) / scale
        if pa.shape[2] == 1:
            pa, pb = np.repeat(pa, 3, axis=2), np.repeat(pb, 3, axis=2)
        total += float(delta_e_76(srgb_to_lab(pa), srgb_to_lab(pb)).sum())
    return total / (ca.shape[0] * ca.shape[1])


def block_mean_error(a: NDArray, b: NDArray, block: int = 8) -> float:
    r"""Local mean-colour error: mean squared difference of ``block`` x ``block`` tile means.

    Parameters
    ----------
    a, b : ndarray, shape (H, W) or (H, W, c)
        Two images of the same shape, in the same units (any real dtype;
        here ``c`` may be anything, as for intermediate float images).
    block : int, default 8
        Tile side in pixels.

    Returns
    -------
    float
        The mean over whole tiles of the squared difference of tile means,
        summed over channels.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant.metrics import block_mean_error
    >>> grey = np.full((8, 8), 128.0)
    >>> checker = np.indices((8, 8)).sum(axis=0) % 2 * 255.0
    >>> block_mean_error(grey, checker), block_mean_error(grey, np.zeros((8, 8)))
    (0.25, 16384.0)
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"images must have the same shape, got {a.shape} and {b.shape}")
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    hb, wb = a.shape[0] // block, a.shape[1] // block
    c = a.shape[2]
    if hb == 0 or wb == 0:
        raise ValueError(f"images of shape {a.shape[:2]} hold no whole {block}x{block} tile")
    total = 0.0
    for band in _bands(hb * block, a[0].size, multiple=block):
        ta = a[band, : wb * block].astype(np.float64)
        tb = b[band, : wb * block].astype(np.float64)
        rows = ta.shape[0] // block
        d = ta.reshape(rows, block, wb, block, c).mean(axis=(1, 3)) - tb.reshape(
            rows, block, wb, block, c
        ).mean(axis=(1, 3))
        total += float(np.einsum("ijc,ijc->", d, d))
    return total / (hb * wb)
