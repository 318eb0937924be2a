"""The image dtypes kmeans_quant accepts and the value scale of each.

uint8 images hold 0-255, uint16 images 0-65535 and float images [0, 1].
Palettes, colour tables and files move between these scales here and
nowhere else.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "INT_MAX",
    "full_scale",
    "to_uint8",
    "from_uint8",
]

#: Full intensity of each integer image dtype.
INT_MAX = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}


def full_scale(dtype: np.dtype) -> float:
    """The value of full intensity for an accepted image dtype: 255, 65535 or 1."""
    return 1.0 if np.dtype(dtype).kind == "f" else float(INT_MAX[np.dtype(dtype)])


def to_uint8(values: NDArray) -> NDArray[np.uint8]:
    """uint8 version of uint8, uint16 or float [0, 1] values, rounded to nearest.

    >>> import numpy as np
    >>> to_uint8(np.array([0, 257, 65535], dtype=np.uint16))
    array([  0,   1, 255], dtype=uint8)
    >>> to_uint8(np.array([0.0, 0.5, 1.0]))
    array([  0, 128, 255], dtype=uint8)
    """
    if values.dtype == np.uint8:
        return values
    if values.dtype == np.uint16:
        return ((values.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return np.rint(np.clip(values, 0, 1) * 255).astype(np.uint8)


def from_uint8(values: NDArray[np.uint8], dtype: np.dtype) -> NDArray:
    """uint8 values in the scale of ``dtype``: exact for uint16 (x 257) and float (/ 255).

    >>> import numpy as np
    >>> from_uint8(np.array([0, 1, 255], dtype=np.uint8), np.dtype(np.uint16))
    array([    0,   257, 65535], dtype=uint16)
    """
    dtype = np.dtype(dtype)
    if dtype == np.uint16:
        return values.astype(np.uint16) * np.uint16(257)
    if dtype.kind == "f":
        return values.astype(np.float64) / 255.0
    return values
