"""Checking an image argument and splitting it into colour pixels and alpha."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Value of full intensity per supported dtype kind; colours are fitted in
# "0-255 units" whatever the dtype, so one set of tuning constants serves all.
_INT_MAX = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}


@dataclass(frozen=True, eq=False)
class PreparedImage:
    """A validated image: colour pixels ``(n, c)``, alpha, and how to rebuild."""

    pixels: NDArray  # (n, c), c = 1 (grey) or 3, C-contiguous, image dtype
    alpha: NDArray | None  # (H, W) or None
    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def to_units(self) -> float:
        """Factor taking this dtype's values to the 0-255 fitting scale."""
        if self.dtype.kind == "f":
            return 255.0
        return 255.0 / _INT_MAX[self.dtype]

    @property
    def max_value(self) -> float:
        return 1.0 if self.dtype.kind == "f" else float(_INT_MAX[self.dtype])

    def rebuild(self, colors: NDArray) -> NDArray:
        """Put ``(n, c)`` colours (and the untouched alpha) back into image shape."""
        if self.alpha is None:
            return colors.reshape(self.shape)
        out = np.empty(self.shape, dtype=self.dtype)
        out[..., :3] = colors.reshape(self.shape[:2] + (3,))
        out[..., 3] = self.alpha
        return out


def prepare_image(image: Any, name: str = "image") -> PreparedImage:
    """Validate ``image`` and return its colour pixels and alpha.

    Accepted: uint8 or uint16 of shape (H, W), (H, W, 3) or (H, W, 4), and
    float16/32/64 with values in [0, 1]. A 2-D array is a grayscale image.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy.ndarray of shape (H, W), (H, W, 3) or (H, W, 4), "
            f"got {type(image).__name__}"
        )
    dt = image.dtype
    if not (dt in _INT_MAX or dt.kind == "f"):
        hint = ""
        if dt.kind in "iu" and dt.kind != "b":
            hint = "; convert 0-255 data with image.astype(np.uint8)"
        raise TypeError(
            f"{name} dtype must be uint8, uint16 or float with values in [0, 1], "
            f"got {dt}{hint}"
        )
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        raise ValueError(
            f"expected an {name} of shape (H, W), (H, W, 3) or (H, W, 4), got {image.shape}"
        )
    if image.size == 0:
        raise ValueError(f"{name} is empty, got shape {image.shape}")
    if dt.kind == "f":
        if not np.isfinite(image).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        lo, hi = float(image.min()), float(image.max())
        if lo < 0 or hi > 1:
            hint = (
                "; it looks like 0-255 data: divide by 255 or convert to uint8"
                if hi <= 255 and lo >= 0 else ""
            )
            raise ValueError(
                f"float {name} values must lie in [0, 1], got range [{lo:g}, {hi:g}]{hint}"
            )
    if image.ndim == 2:
        pixels = np.ascontiguousarray(image).reshape(-1, 1)
        alpha = None
    elif image.shape[2] == 3:
        pixels = np.ascontiguousarray(image).reshape(-1, 3)
        alpha = None
    else:
        pixels = np.ascontiguousarray(image[..., :3]).reshape(-1, 3)
        alpha = image[..., 3].copy()
    return PreparedImage(pixels, alpha, image.shape, dt)
