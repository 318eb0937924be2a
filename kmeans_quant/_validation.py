"""Input checks shared by the public functions.

Every public function validates and normalises its input here, once, and
then hands clean arrays to private kernels that assume them (the layering
scikit-learn uses). Messages name the problem and the offending value.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._dtypes import INT_MAX, full_scale
from .color_table import CODE_LAYOUT
from .palette import Palette

__all__ = [
    "RNGLike",
    "METHODS",
    "SPACES",
    "DITHERS",
    "ALPHAS",
    "check_k",
    "check_rng",
    "check_positive_int",
    "check_choice",
    "check_tol",
    "check_fraction",
    "check_quality",
    "MAX_RELAX",
    "check_relax",
    "check_data",
    "check_sample_weight",
    "check_k_fits",
    "WeightedData",
    "check_weighted_data",
    "check_init",
    "PixelFormat",
    "PreparedImage",
    "check_code_dtype",
    "check_image",
    "rgba_pixels",
    "to_dtype",
    "check_palette",
]

RNGLike = int | np.random.Generator | None

#: The choices of the image API's string options; the CLI offers the same.
METHODS = ("kmeans", "median-cut", "uniform")
SPACES = ("rgb", "oklab")
DITHERS = ("none", "floyd-steinberg", "ordered")
ALPHAS = ("keep", "fit")
MODES = ("mse", "perceptual")


def check_k(k: Any, name: str = "k") -> int:
    """Return ``k`` as a Python int, or raise if it is not a positive integer.

    Booleans, floats (even ``2.0``), strings and None are rejected: silently
    truncating ``2.5`` or accepting ``True`` as 1 hides bugs in the caller.
    """
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {k!r}")
    if k < 1:
        raise ValueError(f"{name} must be a positive integer, got {k!r}")
    return int(k)


def check_rng(rng: Any) -> np.random.Generator:
    """Make the one ``np.random.Generator`` a public call passes down.

    ``None`` gives fresh OS entropy, an int seeds a new Generator, and a
    Generator is used as is (so its state advances). Global state is never
    touched.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, numbers.Integral):
        raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, got {rng!r}")
    if rng < 0:
        raise ValueError(f"rng seed must be non-negative, got {rng!r}")
    return np.random.default_rng(int(rng))


def check_positive_int(value: Any, name: str) -> int:
    """Like :func:`check_k`, for other counts such as ``max_iter``."""
    return check_k(value, name)


def check_choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of the strings ``allowed``, else raise ValueError."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def check_tol(tol: Any) -> float:
    """Return ``tol`` as a float, or raise unless it is a finite number >= 0."""
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol must be a non-negative number, got {tol!r}")
    if not math.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a non-negative finite number, got {tol!r}")
    return float(tol)


def check_fraction(value: Any, name: str) -> float:
    """Return ``value`` as a float, or raise unless it is a number in [0, 1]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}")
    number = float(value)
    if not math.isfinite(number) or not 0 <= number <= 1:
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return number


def check_importance(importance: Any, shape: tuple[int, ...]) -> str | NDArray[np.float32] | None:
    """None, ``"auto"``, or an (H, W) array of finite weights >= 0, some positive, as float32."""
    if importance is None or (isinstance(importance, str) and importance == "auto"):
        return importance
    if isinstance(importance, str):
        raise ValueError(f"importance must be None, 'auto' or an (H, W) array, got {importance!r}")
    arr = np.asarray(importance)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"importance must be an array of numbers, got dtype {arr.dtype}")
    if arr.shape != tuple(shape[:2]):
        raise ValueError(
            f"importance must have the image's shape (H, W) = {tuple(shape[:2])}, got {arr.shape}"
        )
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise ValueError("importance must be finite, got NaN or inf values")
    if arr.size and (arr.min() < 0 or arr.max() == 0):
        raise ValueError(
            "importance must be >= 0 with at least one positive weight, got range "
            f"[{float(arr.min()):.3g}, {float(arr.max()):.3g}]"
        )
    return arr


def check_quality(quality: Any) -> tuple[int, int]:
    """``(min, max)`` integers with ``0 <= min <= max <= 100``, else raise."""
    if (
        not isinstance(quality, (tuple, list))
        or len(quality) != 2
        or not all(
            isinstance(q, numbers.Integral) and not isinstance(q, (bool, np.bool_)) for q in quality
        )
    ):
        raise TypeError(f"quality must be a pair of integers (min, max), got {quality!r}")
    lo, hi = int(quality[0]), int(quality[1])
    if not 0 <= lo <= hi <= 100:
        raise ValueError(f"quality must satisfy 0 <= min <= max <= 100, got {quality!r}")
    return lo, hi


# Largest over-relaxation factor accepted. The palette fit uses 3; much
# longer steps throw the trial centres far past their clusters.
MAX_RELAX = 8.0


def check_relax(relax: Any) -> float:
    """Return ``relax`` as a float, or raise unless ``1 <= relax <= MAX_RELAX``."""
    if isinstance(relax, (bool, np.bool_)) or not isinstance(relax, numbers.Real):
        raise TypeError(f"relax must be a number in [1, {MAX_RELAX:g}], got {relax!r}")
    if not math.isfinite(relax) or not 1 <= float(relax) <= MAX_RELAX:
        raise ValueError(f"relax must lie in [1, {MAX_RELAX:g}], got {relax!r}")
    return float(relax)


def check_data(X: Any) -> NDArray[np.floating]:
    """Return ``X`` as a C-contiguous 2-D float array, float32 kept as float32.

    Integer and boolean data become float64. Complex, object and string data
    are refused, as are NaN and infinity.
    """
    if X is None:
        raise TypeError("X must be an array of shape (n_samples, n_features), got None")
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"X must hold real numbers, got an array of dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-D of shape (n_samples, n_features), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"X is empty, got shape {arr.shape}")
    dtype = arr.dtype if arr.dtype in (np.float32, np.float64) else np.float64
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not np.isfinite(arr).all():
        raise ValueError("X contains NaN or infinite values")
    return arr


def check_sample_weight(sample_weight: Any, n: int, dtype: np.dtype) -> NDArray[np.floating]:
    """Return weights of shape ``(n,)``: ones when None, else checked >= 0."""
    if sample_weight is None:
        return np.ones(n, dtype=dtype)
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold real numbers, got dtype {w.dtype}")
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},) to match X, got shape {w.shape}")
    w = np.ascontiguousarray(w, dtype=dtype)
    if not np.isfinite(w).all():
        raise ValueError("sample_weight contains NaN or infinite values")
    if (w < 0).any():
        raise ValueError(f"sample_weight must be non-negative, got minimum {float(w.min()):g}")
    if not (w > 0).any():
        raise ValueError("sample_weight must have at least one positive entry")
    return w


def check_k_fits(k: int, n: int) -> None:
    """Raise unless ``k`` clusters can be drawn from ``n`` samples."""
    if k > n:
        raise ValueError(f"k={k} must not exceed n_samples={n}")


class WeightedData(NamedTuple):
    """Checked K-Means input: the points, the number of clusters, the weights."""

    X: NDArray[np.floating]  # (n, d), C-contiguous, float32 or float64
    k: int  # 1 <= k <= n
    w: NDArray[np.floating]  # (n,), non-negative, in X's dtype


def check_weighted_data(X: Any, k: Any, sample_weight: Any) -> WeightedData:
    """The checks every K-Means entry point starts with: ``X``, ``k`` and the weights."""
    X = check_data(X)
    k = check_k(k)
    check_k_fits(k, X.shape[0])
    return WeightedData(X, k, check_sample_weight(sample_weight, X.shape[0], X.dtype))


def check_sample(sample: Any, k: int) -> int | None:
    """``sample`` (points to fit on) as an int of at least ``k``, or None."""
    if sample is None:
        return None
    m = check_positive_int(sample, "sample")
    if m < k:
        raise ValueError(f"sample={m} must be at least k={k}")
    return m


def check_init(init: Any, k: int, X: NDArray, names: tuple[str, ...]) -> NDArray | str:
    """One of the strategy ``names``, or a ``(k, d)`` array of starting centres.

    An array comes back checked, in ``X``'s dtype.
    """
    if isinstance(init, str):
        if init not in names:
            choices = ", ".join(repr(n) for n in names)
            raise ValueError(f"init must be {choices} or an array of centres, got {init!r}")
        return init
    C = check_data(init).astype(X.dtype, copy=False)
    if C.shape != (k, X.shape[1]):
        raise ValueError(
            f"init centres must have shape (k, n_features) = ({k}, {X.shape[1]}), got {C.shape}"
        )
    return C


# --------------------------------------------------------------------------
# images and palettes
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PixelFormat:
    """How colours are stored: their dtype and number of channels.

    All that fitting and mapping a palette needs to know of an image (or of
    a histogram of one).
    """

    dtype: np.dtype
    channels: int  # 1 (grey), 3 (RGB), or 4 (RGBA when alpha is fitted)

    @property
    def to_units(self) -> float:
        """Factor taking this dtype's values to the 0-255 scale the fit works in."""
        return 255.0 / full_scale(self.dtype)

    @property
    def max_value(self) -> float:
        return full_scale(self.dtype)


@dataclass(frozen=True, eq=False)
class PreparedImage(PixelFormat):
    """A validated image: colour pixels ``(n, c)``, alpha, and how to rebuild it."""

    pixels: NDArray  # (n, c), c = 1 (grey) or 3, C-contiguous, image dtype
    alpha: NDArray | None  # (H, W) or None
    shape: tuple[int, ...]

    def rebuild(self, colors: NDArray) -> NDArray:
        """Put ``(n, c)`` colours (and the untouched alpha) back into image shape."""
        if self.alpha is None:
            return colors.reshape(self.shape)
        out = np.empty(self.shape, dtype=self.dtype)
        out[..., :3] = colors.reshape(self.shape[:2] + (3,))
        out[..., 3] = self.alpha
        return out


def check_code_dtype(dtype: Any, name: str) -> np.dtype:
    """``dtype`` as a NumPy dtype whose colours pack into exact codes (uint8, uint16)."""
    dt = np.dtype(dtype)
    if dt not in CODE_LAYOUT:
        hint = ""
        if dt.kind == "f":
            hint = (
                "; float colours have no exact integer code: convert with "
                "np.rint(image * 255).astype(np.uint8) (or * 65535 to uint16)"
            )
        raise TypeError(f"{name} must be uint8 or uint16, got {dt}{hint}")
    return dt


def check_image(image: Any, name: str = "image") -> PreparedImage:
    """Validate ``image`` and split it into colour pixels and alpha.

    Accepted: uint8 or uint16 of shape (H, W), (H, W, 3) or (H, W, 4), and
    float16/32/64 with values in [0, 1]. A 2-D array is a grayscale image.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy.ndarray of shape (H, W), (H, W, 3) or (H, W, 4), "
            f"got {type(image).__name__}"
        )
    dt = image.dtype
    if not (dt in INT_MAX or dt.kind == "f"):
        hint = ""
        if dt.kind == "u" and dt.itemsize == 2:  # uint16 in the other byte order
            hint = "; it is 16-bit data in the other byte order: use image.astype(np.uint16)"
        elif dt.kind in "iu":
            hint = "; convert 0-255 data with image.astype(np.uint8)"
        raise TypeError(
            f"{name} dtype must be uint8, uint16 or float with values in [0, 1], got {dt}{hint}"
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
                if hi <= 255 and lo >= 0
                else ""
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
    return PreparedImage(
        dtype=dt, channels=pixels.shape[1], pixels=pixels, alpha=alpha, shape=image.shape
    )


def rgba_pixels(prep: PreparedImage, name: str = "image") -> NDArray:
    """The ``(n, 4)`` colour and alpha of every pixel, for ``alpha='fit'``; raise without alpha."""
    if prep.alpha is None:
        raise ValueError(
            f"alpha='fit' needs an RGBA {name} of shape (H, W, 4), got shape {prep.shape}"
        )
    return np.concatenate([prep.pixels, prep.alpha.reshape(-1, 1)], axis=1)


def to_dtype(values: NDArray, dtype: np.dtype) -> NDArray:
    """Values in ``dtype``'s own scale, clipped (and rounded for integers) and cast."""
    if dtype.kind == "f":
        return np.clip(values, 0.0, 1.0).astype(dtype)
    return np.clip(np.rint(values), 0, full_scale(dtype)).astype(dtype)


def check_palette(
    palette: Any, *, channels: int | None = None, dtype: np.dtype | None = None
) -> NDArray:
    """Palette colours as an ``(m, c)`` array, range-checked and cast.

    With ``channels`` and ``dtype`` (an image's), the palette must have
    that many channels (a 1-D palette counts as grey) and values in that
    dtype's range; it comes back rounded to the dtype. Without them, ``c``
    may be 1 or 3 and the range follows the palette's own dtype: uint16
    0-65535, float [0, 1], other integers 0-255 (returned as uint8).
    """
    colors = palette.colors if isinstance(palette, Palette) else palette
    if colors is None or isinstance(colors, (str, bytes)) or not hasattr(colors, "__len__"):
        raise TypeError(
            f"palette must be a Palette or an array of shape (m, 3), got {palette!r:.60}"
        )
    arr = np.asarray(colors)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"palette must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim == 1 and channels in (None, 1):
        arr = arr.reshape(-1, 1)
    allowed = (1, 3) if channels is None else (channels,)
    if arr.ndim != 2 or arr.shape[1] not in allowed or arr.shape[0] == 0:
        want = "(m, 3) or (m, 1)" if channels is None else f"(m, {channels})"
        raise ValueError(
            f"palette must have shape {want} with m >= 1"
            f"{'' if channels is None else ' for this image'}, got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError("palette contains NaN or infinite values")
    if dtype is None:
        what = f"{arr.dtype} colours"
        keep = arr.dtype.kind == "f" or arr.dtype == np.uint16
        dtype = arr.dtype if keep else np.dtype(np.uint8)
    else:
        what = f"a {np.dtype(dtype)} image"
    dtype = np.dtype(dtype)
    top = full_scale(dtype)
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0 or hi > top:
        raise ValueError(
            f"palette values must lie in [0, {top:g}] for {what}, got range [{lo:g}, {hi:g}]"
        )
    return to_dtype(arr, dtype)
