"""The space the image pipeline fits and maps colours in, and the way back.

The palette fit works in "0-255 units" whatever the image's dtype, so one
set of tuning constants serves uint8, uint16 and float images alike. In
RGB that is the colour scaled to 0-255. In Oklab it is Oklab stored as
``255 * (L, a + 1/2, b + 1/2)``: one scale for all three axes keeps
Euclidean distance proportional to Oklab distance (K-Means is unchanged by
the shift); 255 makes L span 0-255 like an RGB channel, and the shift puts
a and b (about -0.32 to 0.28 over the sRGB gamut) inside [0, 255] too, so
code that bins 0-255 units (the coarse grid of the palette fit) works
unchanged. Over the sRGB gamut the shifted values span
[0, 255] x [68, 198] x [48, 179]. The conversions themselves live in
:mod:`kmeans_quant.colorspace`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .._validation import SPACES, PixelFormat, check_choice, to_dtype
from ..colorspace import oklab_to_srgb, srgb8_to_oklab, srgb_to_oklab

__all__ = [
    "to_fit_space",
    "from_fit_space",
    "image_to_fit",
    "fit_to_image",
]

_FIT_SCALE = 255.0
_FIT_SHIFT = np.array([0.0, 0.5, 0.5])


def to_fit_space(colors: NDArray, space: str) -> NDArray[np.float32]:
    """Colours in 0-255 sRGB units, shape ``(m, c)``, in the space K-Means fits in.

    ``c`` is 3 (RGB) or 1 (grey). For ``"rgb"`` the colours come back as
    float32 unchanged. For ``"oklab"`` they are Oklab scaled and shifted
    (see the module docstring): RGB gives ``(m, 3)`` and grey gives
    ``(m, 1)`` holding 255 * L (a grey's a and b are 0). All values lie in
    [0, 255].

    >>> import numpy as np
    >>> to_fit_space(np.array([[255.0, 255, 255], [0, 0, 0]]), "oklab").round(3)
    array([[255. , 127.5, 127.5],
           [  0. , 127.5, 127.5]], dtype=float32)
    """
    check_choice(space, "space", SPACES)
    if space == "rgb":
        return np.asarray(colors, dtype=np.float32)
    c = colors.shape[1]
    rgb = np.asarray(colors, dtype=np.float64) / 255.0
    if c == 1:
        rgb = np.repeat(rgb, 3, axis=1)
    fit = (srgb_to_oklab(rgb) + _FIT_SHIFT) * _FIT_SCALE
    return fit[:, :c].astype(np.float32)


def from_fit_space(values: NDArray, space: str) -> NDArray[np.float32]:
    """Inverse of :func:`to_fit_space`: 0-255 sRGB floats, clipped to the gamut.

    Centres fitted in Oklab are means of in-gamut colours, but the sRGB
    gamut is not convex in Oklab, so a mean can fall slightly outside; each
    channel is clipped to [0, 255].

    >>> import numpy as np
    >>> x = np.array([[12.0, 200, 99], [255, 0, 128]])
    >>> from_fit_space(to_fit_space(x, "oklab"), "oklab").round(2)
    array([[ 12., 200.,  99.],
           [255.,   0., 128.]], dtype=float32)
    """
    check_choice(space, "space", SPACES)
    vals: NDArray = np.asarray(values, dtype=np.float64)
    if space == "oklab":
        c = vals.shape[1]
        lab = vals / _FIT_SCALE - _FIT_SHIFT[:c]
        if c == 1:
            lab = np.concatenate([lab, np.zeros((lab.shape[0], 2))], axis=1)
        rgb = oklab_to_srgb(lab) * 255.0
        vals = rgb.mean(axis=1, keepdims=True) if c == 1 else rgb
    return np.clip(vals, 0.0, 255.0).astype(np.float32)


def image_to_fit(colors: NDArray, fmt: PixelFormat, space: str) -> NDArray[np.float32]:
    """Colours in the image's dtype -> the float32 space the fit runs in.

    8-bit colours go to Oklab through a table of the transfer function
    (:func:`~kmeans_quant.colorspace.srgb8_to_oklab`), with the same values.
    """
    if space == "oklab" and colors.dtype == np.uint8:
        c = colors.shape[1]
        rgb8 = np.repeat(colors, 3, axis=1) if c == 1 else colors
        fit = (srgb8_to_oklab(rgb8) + _FIT_SHIFT) * _FIT_SCALE
        return fit[:, :c].astype(np.float32)
    units = colors.astype(np.float32) * np.float32(fmt.to_units)
    return to_fit_space(units, space)


def fit_to_image(values: NDArray, fmt: PixelFormat, space: str) -> NDArray:
    """Fitted centres -> palette colours in the image's dtype."""
    return to_dtype(from_fit_space(values, space) / fmt.to_units, fmt.dtype)
