r"""Colour spaces: the sRGB transfer function, Oklab and CIELAB.

Every public function takes an array of shape ``(..., 3)`` (a single colour,
a list of colours, an image, a stack of images) and returns one of the same
shape; each raises TypeError for non-numeric or boolean data and ValueError
when the last axis is not of length 3 (or, for sRGB and linear input,
for integer data above 1, which is 8-bit data). sRGB values are floats in
[0, 1]; divide 8-bit data by 255 first.
float32 input gives float32 output; anything else gives float64 (the
arithmetic is always done in float64). NaN propagates; it is not an error.

The conversions
    sRGB (IEC 61966-2-1) is a non-linear encoding of *linear* light:

    .. math:: C_\text{lin} = \begin{cases}
              C / 12.92 & C \le 0.04045 \\
              \left(\frac{C + 0.055}{1.055}\right)^{2.4} & C > 0.04045
              \end{cases}

    Both directions are extended to negative values by odd symmetry (as CSS
    Color 4 does), so out-of-gamut colours that come back from Oklab or
    CIELAB survive a round trip instead of turning into NaN.

    Oklab (Ottosson, 2020) takes linear sRGB to a cone-like space with his
    matrix :math:`M_1`, applies a cube root, and mixes the result with
    :math:`M_2`: :math:`(L, a, b)^T = M_2 \sqrt[3]{M_1 \, c_\text{lin}}`.
    L runs from 0 (black) to 1 (white); a and b are about -0.3 to 0.3 in
    the sRGB gamut. Euclidean distance in Oklab tracks perceived colour
    difference better than distance in sRGB, which is why palettes can be
    fitted there.

    CIELAB (CIE 1976) goes through CIE XYZ under the D65 white:

    .. math:: L^* = 116 f(Y/Y_n) - 16,\quad
              a^* = 500\,(f(X/X_n) - f(Y/Y_n)),\quad
              b^* = 200\,(f(Y/Y_n) - f(Z/Z_n)),

    with :math:`f(t) = t^{1/3}` above :math:`(6/29)^3` and the tangent line
    :math:`t / (3 (6/29)^2) + 4/29` below. The sRGB-to-XYZ matrix is derived
    from the sRGB primaries and the D65 chromaticity (0.3127, 0.3290), and
    the white :math:`(X_n, Y_n, Z_n)` is that matrix applied to RGB white, so
    every grey has :math:`a^* = b^* = 0` exactly (up to rounding). ΔE76 is the
    Euclidean distance in CIELAB; about 2.3 is a just-noticeable difference.

One precision caveat: the published IEC constants make the two halves of
the transfer curve miss each other by 2.3e-9 at the joint (0.04045 / 12.92
is a little above 0.0031308), so sRGB values in the sliver
(0.0404499, 0.04045] come back from linear light off by up to 3e-8. No
8-bit value lies there; everywhere else round trips are exact to about
1e-12.

References
----------
IEC 61966-2-1:1999, Default RGB colour space - sRGB.
B. Ottosson, "A perceptual color space for image processing", 2020,
https://bottosson.github.io/posts/oklab/.
CIE 15:2004, Colorimetry, 3rd edition (CIELAB, CIE 1976 colour difference).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "srgb_to_linear",
    "linear_to_srgb",
    "srgb_to_oklab",
    "srgb8_to_oklab",
    "oklab_to_srgb",
    "srgb_to_lab",
    "lab_to_srgb",
    "delta_e_76",
]

# --------------------------------------------------------------------------
# constants
# --------------------------------------------------------------------------

# IEC 61966-2-1 transfer function: the joint in encoded and in linear units.
_SRGB_JOINT = 0.04045
_LINEAR_JOINT = 0.0031308

# Ottosson (2020): linear sRGB -> "LMS", and cube-rooted LMS -> Oklab. The
# inverses are computed rather than copied: the published inverse matrices
# are rounded to 10 decimals from float32 values, which would cap round
# trips at about 1e-8.
_LMS_FROM_LINEAR = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ]
)
_OKLAB_FROM_LMS = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ]
)
_LINEAR_FROM_LMS = np.linalg.inv(_LMS_FROM_LINEAR)
_LMS_FROM_OKLAB = np.linalg.inv(_OKLAB_FROM_LMS)


def _xyz_from_rgb_matrix(primaries: NDArray, white_xy: NDArray) -> NDArray:
    """Linear RGB -> XYZ matrix from primary and white chromaticities (xy).

    Each column is a primary's XYZ (Y = 1), scaled so that RGB (1, 1, 1)
    lands on the white point with Y = 1.
    """

    def xyz(xy: NDArray) -> NDArray:
        x, y = xy[..., 0], xy[..., 1]
        return np.stack([x / y, np.ones_like(x), (1 - x - y) / y], axis=-1)

    columns = xyz(primaries).T
    scale = np.linalg.solve(columns, xyz(white_xy))
    return columns * scale


# sRGB primaries (R, G, B) and D65 white, as xy chromaticities (IEC 61966-2-1).
_XYZ_FROM_LINEAR = _xyz_from_rgb_matrix(
    np.array([[0.64, 0.33], [0.30, 0.60], [0.15, 0.06]]), np.array([0.3127, 0.3290])
)
_LINEAR_FROM_XYZ = np.linalg.inv(_XYZ_FROM_LINEAR)
_WHITE_XYZ = _XYZ_FROM_LINEAR.sum(axis=1)  # (0.95046, 1, 1.08906)

# CIELAB's f(t) switches from a cube root to its tangent line at t = delta**3.
_DELTA = 6.0 / 29.0


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------


def _check_colors(x: Any, name: str, *, unit_range: bool) -> tuple[NDArray[np.float64], np.dtype]:
    """``x`` as float64 of shape ``(..., 3)`` and the dtype to return in.

    ``unit_range`` marks inputs meant to lie in [0, 1]: integer arrays with
    values above 1 there are almost surely 8-bit data, which is refused.
    """
    if x is None:
        raise TypeError(f"{name} must be an array of shape (..., 3), got None")
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim == 0 or arr.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (..., 3), got shape {arr.shape}")
    if unit_range and arr.dtype.kind in "iu" and arr.size and arr.max() > 1:
        raise ValueError(
            f"{name} must hold values in [0, 1], got integers up to {arr.max()}; "
            "for 8-bit data divide by 255 first"
        )
    out = np.dtype(np.float32) if arr.dtype == np.float32 else np.dtype(np.float64)
    return arr.astype(np.float64, copy=False), out


def _convert(
    x: Any, name: str, kernel: Callable[[NDArray], NDArray], *, unit_range: bool
) -> NDArray[np.floating]:
    """Validate ``x``, run a float64 kernel on it, return in the caller's float type."""
    arr, out = _check_colors(x, name, unit_range=unit_range)
    return kernel(arr).astype(out, copy=False)


# --------------------------------------------------------------------------
# private kernels: float64 (..., 3) in, float64 (..., 3) out, no validation
# --------------------------------------------------------------------------


def _srgb_to_linear(v: NDArray) -> NDArray:
    a = np.abs(v)
    lin = np.where(a <= _SRGB_JOINT, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)
    return np.copysign(lin, v)


def _linear_to_srgb(v: NDArray) -> NDArray:
    a = np.abs(v)
    enc = np.where(a <= _LINEAR_JOINT, 12.92 * a, 1.055 * a ** (1 / 2.4) - 0.055)
    return np.copysign(enc, v)


def _times(x: NDArray, matrix: NDArray) -> NDArray:
    """``x @ matrix.T`` for colours (..., 3), as a plain loop over the rows.

    A BLAS product with an inner dimension of 3 gains nothing from threads
    and, with other work on the cores, waits for them.
    """
    return np.einsum("...j,ij->...i", x, matrix)


def _srgb_to_oklab(rgb: NDArray) -> NDArray:
    return _linear_to_oklab(_srgb_to_linear(rgb))


def _linear_to_oklab(linear: NDArray) -> NDArray:
    # cbrt, not ** (1/3): out-of-gamut colours can have negative LMS.
    return _times(np.cbrt(_times(linear, _LMS_FROM_LINEAR)), _OKLAB_FROM_LMS)


def _oklab_to_srgb(lab: NDArray) -> NDArray:
    lms = _times(lab, _LMS_FROM_OKLAB) ** 3
    return _linear_to_srgb(_times(lms, _LINEAR_FROM_LMS))


def _srgb_to_lab(rgb: NDArray) -> NDArray:
    t = (_srgb_to_linear(rgb) @ _XYZ_FROM_LINEAR.T) / _WHITE_XYZ
    f = np.where(t > _DELTA**3, np.cbrt(t), t / (3 * _DELTA**2) + 4.0 / 29.0)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return np.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], axis=-1)


def _lab_to_srgb(lab: NDArray) -> NDArray:
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    t = np.where(f > _DELTA, f**3, 3 * _DELTA**2 * (f - 4.0 / 29.0))
    return _linear_to_srgb((t * _WHITE_XYZ) @ _LINEAR_FROM_XYZ.T)


# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------


def srgb_to_linear(rgb: ArrayLike) -> NDArray[np.floating]:
    r"""Decode sRGB values to linear light (IEC 61966-2-1).

    .. math:: C_\text{lin} = C / 12.92 \ \text{if}\ C \le 0.04045, \quad
              \left(\tfrac{C + 0.055}{1.055}\right)^{2.4} \ \text{otherwise},

    applied to each channel, extended to negative values by odd symmetry.

    Parameters
    ----------
    rgb : array_like, shape (..., 3)
        sRGB values in [0, 1].

    Returns
    -------
    ndarray, shape (..., 3)
        Linear-light values; float32 for float32 input, else float64.

    Raises
    ------
    TypeError
        Non-numeric or boolean data.
    ValueError
        Last axis not of length 3, or integer data above 1 (8-bit values).

    Examples
    --------
    >>> from kmeans_quant.colorspace import srgb_to_linear
    >>> srgb_to_linear([0.0, 0.5, 1.0])
    array([0.        , 0.21404114, 1.        ])
    """
    return _convert(rgb, "rgb", _srgb_to_linear, unit_range=True)


def linear_to_srgb(linear: ArrayLike) -> NDArray[np.floating]:
    r"""Encode linear light as sRGB (IEC 61966-2-1); inverse of :func:`srgb_to_linear`.

    .. math:: C = 12.92\, C_\text{lin} \ \text{if}\ C_\text{lin} \le 0.0031308, \quad
              1.055\, C_\text{lin}^{1/2.4} - 0.055 \ \text{otherwise}.

    Parameters
    ----------
    linear : array_like, shape (..., 3)
        Linear-light values, nominally in [0, 1]. Values outside are encoded
        too (odd symmetry below 0), not clipped.

    Returns
    -------
    ndarray, shape (..., 3)
        sRGB values; float32 for float32 input, else float64.

    Examples
    --------
    >>> from kmeans_quant.colorspace import linear_to_srgb
    >>> linear_to_srgb([0.0, 0.18, 1.0]).round(4)    # 18% grey is sRGB 0.46
    array([0.    , 0.4614, 1.    ])
    """
    return _convert(linear, "linear", _linear_to_srgb, unit_range=True)


def srgb_to_oklab(rgb: ArrayLike) -> NDArray[np.floating]:
    r"""Convert sRGB to Oklab (Ottosson, 2020).

    .. math:: (L, a, b)^T = M_2 \, \sqrt[3]{M_1 \, c_\text{lin}}

    where :math:`c_\text{lin}` is linear sRGB, :math:`M_1` Ottosson's
    linear-sRGB-to-LMS matrix and the cube root taken per channel.

    Parameters
    ----------
    rgb : array_like, shape (..., 3)
        sRGB values in [0, 1], as for :func:`srgb_to_linear`.

    Returns
    -------
    ndarray, shape (..., 3)
        Oklab ``(L, a, b)``: L in [0, 1], a and b roughly within +-0.32 for
        sRGB colours. float32 for float32 input, else float64.

    References
    ----------
    B. Ottosson, "A perceptual color space for image processing", 2020.

    Examples
    --------
    >>> from kmeans_quant.colorspace import srgb_to_oklab
    >>> srgb_to_oklab([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]).round(4)
    array([[1.    , 0.    , 0.    ],
           [0.628 , 0.2249, 0.1258]])
    """
    return _convert(rgb, "rgb", _srgb_to_oklab, unit_range=True)


_LINEAR_OF_8BIT: list[NDArray] = []  # the transfer function at k / 255, made on first use


def srgb8_to_oklab(rgb8: ArrayLike) -> NDArray[np.float64]:
    r"""Oklab of 8-bit sRGB colours, through a table of the transfer function.

    The same values as ``srgb_to_oklab(rgb8 / 255)``, bit for bit: the
    linear values come from a table of :func:`srgb_to_linear` at the 256
    code values instead of a power per channel of every colour.

    Parameters
    ----------
    rgb8 : array_like of uint8, shape (..., 3)
        sRGB code values 0-255.

    Returns
    -------
    ndarray of float64, shape (..., 3)
        Oklab ``(L, a, b)``.

    Raises
    ------
    TypeError
        ``rgb8`` is not uint8.
    ValueError
        Its last axis is not of length 3.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant.colorspace import srgb8_to_oklab, srgb_to_oklab
    >>> rgb8 = np.array([[255, 0, 0], [12, 200, 99]], dtype=np.uint8)
    >>> bool((srgb8_to_oklab(rgb8) == srgb_to_oklab(rgb8 / 255)).all())
    True
    """
    arr = np.asarray(rgb8)
    if arr.dtype != np.uint8:
        raise TypeError(f"rgb8 must be uint8 sRGB code values, got dtype {arr.dtype}")
    if arr.ndim == 0 or arr.shape[-1] != 3:
        raise ValueError(f"rgb8 must have shape (..., 3), got shape {arr.shape}")
    if not _LINEAR_OF_8BIT:
        _LINEAR_OF_8BIT.append(_srgb_to_linear(np.arange(256, dtype=np.float64) / 255.0))
    return _linear_to_oklab(_LINEAR_OF_8BIT[0][arr])


def oklab_to_srgb(lab: ArrayLike) -> NDArray[np.floating]:
    r"""Convert Oklab to sRGB; inverse of :func:`srgb_to_oklab`.

    .. math:: c_\text{lin} = M_1^{-1} \left(M_2^{-1} (L, a, b)^T\right)^3

    then encoded with :func:`linear_to_srgb`.

    Parameters
    ----------
    lab : array_like, shape (..., 3)
        Oklab ``(L, a, b)``.

    Returns
    -------
    ndarray, shape (..., 3)
        sRGB values, **not clipped**: colours outside the sRGB gamut come
        back below 0 or above 1. Clip with ``np.clip(x, 0, 1)`` to display.

    Examples
    --------
    >>> from kmeans_quant.colorspace import oklab_to_srgb
    >>> oklab_to_srgb([0.62795536, 0.22486306, 0.1258463]).round(4)
    array([ 1., -0.,  0.])
    """
    return _convert(lab, "lab", _oklab_to_srgb, unit_range=False)


def srgb_to_lab(rgb: ArrayLike) -> NDArray[np.floating]:
    r"""Convert sRGB to CIELAB (CIE 1976 :math:`L^* a^* b^*`, D65 white).

    .. math:: L^* = 116 f(Y/Y_n) - 16,\quad
              a^* = 500\,(f(X/X_n) - f(Y/Y_n)),\quad
              b^* = 200\,(f(Y/Y_n) - f(Z/Z_n))

    where XYZ is linear sRGB times the sRGB-to-XYZ matrix and
    :math:`f(t) = t^{1/3}` for :math:`t > (6/29)^3`, else
    :math:`t / (3 (6/29)^2) + 4/29`.

    Parameters
    ----------
    rgb : array_like, shape (..., 3)
        As for :func:`srgb_to_oklab`.

    Returns
    -------
    ndarray, shape (..., 3)
        ``(L*, a*, b*)`` with L* in [0, 100]; greys have a* = b* = 0.

    Examples
    --------
    >>> from kmeans_quant.colorspace import srgb_to_lab
    >>> print(srgb_to_lab([0.0, 0.0, 1.0]).round(2))   # pure blue
    [  32.3    79.2  -107.86]
    """
    return _convert(rgb, "rgb", _srgb_to_lab, unit_range=True)


def lab_to_srgb(lab: ArrayLike) -> NDArray[np.floating]:
    r"""Convert CIELAB (D65) to sRGB; inverse of :func:`srgb_to_lab`.

    Parameters
    ----------
    lab : array_like, shape (..., 3)
        ``(L*, a*, b*)``.

    Returns
    -------
    ndarray, shape (..., 3)
        sRGB values, not clipped (out-of-gamut colours leave [0, 1]).

    Examples
    --------
    >>> from kmeans_quant.colorspace import lab_to_srgb
    >>> lab_to_srgb([70.0, 5.0, 10.0]).round(4)
    array([0.7359, 0.6566, 0.601 ])
    """
    return _convert(lab, "lab", _lab_to_srgb, unit_range=False)


def delta_e_76(lab1: ArrayLike, lab2: ArrayLike) -> NDArray[np.floating]:
    r"""CIE 1976 colour difference: Euclidean distance in CIELAB.

    .. math:: \Delta E^*_{76} = \sqrt{(\Delta L^*)^2 + (\Delta a^*)^2 + (\Delta b^*)^2}

    Parameters
    ----------
    lab1, lab2 : array_like, shape (..., 3)
        CIELAB colours (see :func:`srgb_to_lab`); the two shapes must
        broadcast against each other.

    Returns
    -------
    ndarray, shape (...)
        One difference per colour pair; about 2.3 is just noticeable.

    Raises
    ------
    TypeError
        Non-numeric or boolean data.
    ValueError
        Last axis not of length 3, or shapes that do not broadcast.

    Examples
    --------
    >>> from kmeans_quant.colorspace import delta_e_76
    >>> delta_e_76([50.0, 0.0, 0.0], [[53.0, 4.0, 0.0], [50.0, 0.0, 0.0]])
    array([5., 0.])
    """
    a, out_a = _check_colors(lab1, "lab1", unit_range=False)
    b, out_b = _check_colors(lab2, "lab2", unit_range=False)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"lab1 and lab2 must have broadcastable shapes, got {a.shape} and {b.shape}"
        ) from None
    out = np.result_type(out_a, out_b)
    return np.sqrt(np.sum((a - b) ** 2, axis=-1)).astype(out, copy=False)
