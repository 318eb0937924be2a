r"""The image API: :func:`quantize`, :func:`extract_palette`, :func:`recolor`.

All three work on plain ndarrays: uint8 or uint16 images of shape (H, W),
(H, W, 3) or (H, W, 4), and float images with values in [0, 1]. Alpha is
carried through unchanged; a 2-D array is a grayscale image.

How a palette is fitted
    The image's distinct colours are counted (:mod:`kmeans_quant.colors`)
    and clustered with their counts as weights, which is the K-Means
    objective over all pixels,

    .. math:: \mathrm{SSE} = \sum_{\text{pixels } p}
              \min_j \lVert x_p - c_j \rVert^2
              = \sum_{\text{colours } u} n_u \min_j \lVert u - c_j \rVert^2 ,

    at a cost that follows the number of colours, not of pixels. Centres
    are rounded to the image's dtype to give the palette.

How pixels are mapped
    Every distinct colour goes to its nearest palette colour, with ties
    going to the lexicographically smallest palette colour, so the result
    depends only on the set of palette colours and not on their order.
    For uint8 images this search is exact (integer distances computed
    without round-off). :func:`quantize` is therefore exactly
    ``recolor(image, extract_palette(image, k))``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._fitting import fit_colors
from ._image_input import PreparedImage, prepare_image
from ._validation import (
    RNGLike,
    check_k,
    check_positive_int,
    check_rng,
    check_tol,
)
from .colors import ColorTable, color_table
from .steps import _assign, _augment_points, _row_norms_sq

__all__ = ["Palette", "quantize", "extract_palette", "recolor"]


@dataclass(frozen=True, eq=False)
class Palette:
    """Colours of a quantized image with the number of pixels of each.

    Attributes
    ----------
    colors : ndarray, shape (m, c)
        The colours, in the image's dtype (uint8 for 8-bit images), most
        frequent first; ``c`` is 3 for RGB and RGBA images, 1 for grayscale.
    counts : ndarray of int64, shape (m,)
        Pixels mapped to each colour; they sum to the image's pixel count.
    """

    colors: NDArray
    counts: NDArray[np.int64]

    @property
    def proportions(self) -> NDArray[np.float64]:
        """Fraction of the pixels that each colour covers; sums to 1."""
        return self.counts / self.counts.sum()

    def __len__(self) -> int:
        return int(self.colors.shape[0])


# --------------------------------------------------------------------------
# private kernels
# --------------------------------------------------------------------------

def _nearest(colors: NDArray, palette: NDArray) -> NDArray[np.intp]:
    """Index into ``palette`` of the nearest entry for every colour.

    Both arrays are in the image's dtype and ``palette`` is sorted and
    unique, so argmin's lowest-index tie-break is a lexicographic one. For
    uint8 the work is done in float32 on values centred on 128: every
    intermediate is an integer below 2**24, hence exact.
    """
    if colors.dtype == np.uint8:
        X = colors.astype(np.float32) - 128
        P = palette.astype(np.float32) - 128
    else:
        X = colors.astype(np.float64)
        P = palette.astype(np.float64)
    return _assign(_augment_points(X), _row_norms_sq(X), P, want_min=False)[0]


def _to_dtype(values: NDArray, prep: PreparedImage) -> NDArray:
    """Values in the image's own units, clipped and cast to its dtype."""
    if prep.dtype.kind == "f":
        return np.clip(values, 0.0, 1.0).astype(prep.dtype)
    return np.clip(np.rint(values), 0, prep.max_value).astype(prep.dtype)


def _map_to_palette(
    prep: PreparedImage, table: ColorTable, palette: NDArray
) -> tuple[NDArray, NDArray[np.intp], NDArray[np.int64]]:
    """Map the colour table onto ``palette``; drop unused entries; sort by count.

    Returns the palette (most frequent first), each distinct colour's index
    into it, and the pixel count of each palette entry.
    """
    canon = np.unique(palette, axis=0)
    labels = _nearest(table.colors, canon)
    counts = np.bincount(labels, weights=table.counts, minlength=canon.shape[0])
    counts = np.rint(counts).astype(np.int64)
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] > 0]
    rank = np.empty(canon.shape[0], dtype=np.intp)
    rank[order] = np.arange(order.size)
    return canon[order], rank[labels], counts[order]


def _fit_palette(
    prep: PreparedImage, table: ColorTable, k: int, rng: np.random.Generator,
    max_iter: int, tol: float,
) -> tuple[Palette, NDArray[np.intp]]:
    """Fit and map: the palette and each distinct colour's palette index."""
    if table.colors.shape[0] <= k:
        colors = table.colors
    else:
        X = table.colors.astype(np.float32) * np.float32(prep.to_units)
        w = table.counts.astype(np.float32)
        centers = fit_colors(X, w, k, rng, max_iter, tol)
        colors = _to_dtype(centers / prep.to_units, prep)
    pal, labels, counts = _map_to_palette(prep, table, colors)
    return Palette(pal, counts), labels


def _expand(prep: PreparedImage, table: ColorTable, palette: NDArray,
            labels: NDArray[np.intp]) -> NDArray:
    small = np.uint8 if palette.shape[0] <= 256 else np.uint16
    pixel_labels = table.expand(labels.astype(small))
    return prep.rebuild(palette[pixel_labels])


def _check_palette(palette: Any, prep: PreparedImage) -> NDArray:
    """Palette colours as ``(m, c)`` in the image's dtype, range-checked."""
    colors = palette.colors if isinstance(palette, Palette) else palette
    if colors is None or not hasattr(colors, "__len__"):
        raise TypeError(
            f"palette must be a Palette or an array of shape (m, 3), got {type(palette).__name__}"
        )
    arr = np.asarray(colors)
    c = prep.pixels.shape[1]
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"palette must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim == 1 and c == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[1] != c or arr.shape[0] == 0:
        raise ValueError(
            f"palette must have shape (m, {c}) with m >= 1 for this image, got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError("palette contains NaN or infinite values")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0 or hi > prep.max_value:
        raise ValueError(
            f"palette values must lie in [0, {prep.max_value:g}] for a {prep.dtype} image, "
            f"got range [{lo:g}, {hi:g}]"
        )
    return _to_dtype(arr, prep)


def _common(k: Any, rng: RNGLike, max_iter: Any, tol: Any):
    return check_k(k), check_rng(rng), check_positive_int(max_iter, "max_iter"), check_tol(tol)


# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------

def extract_palette(
    image: NDArray,
    k: int,
    *,
    rng: RNGLike = 0,
    max_iter: int = 300,
    tol: float = 1e-4,
) -> Palette:
    r"""The ``k`` colours that best represent an image, by K-Means.

    Fits K-Means to the image's distinct colours weighted by their pixel
    counts (the same objective as on every pixel), rounds the centres to
    the image's dtype, and counts the pixels nearest to each.

    Parameters
    ----------
    image : ndarray, shape (H, W), (H, W, 3) or (H, W, 4)
        uint8, uint16, or float with values in [0, 1]. Alpha is ignored.
    k : int
        Maximum number of colours, at least 1.
    rng : int or numpy.random.Generator, default 0
        Seed for k-means++. The default makes the result reproducible.
    max_iter : int, default 300
        Maximum Lloyd iterations of the main fit.
    tol : float, default 1e-4
        Relative tolerance on centre shift (see :func:`kmeans_quant.kmeans`).

    Returns
    -------
    Palette
        ``colors`` (m, c) in the image's dtype with ``m <= k``, ``counts``
        summing to ``H * W``, most frequent first, and ``proportions``.
        When the image has at most ``k`` colours they are returned as is.

    Raises
    ------
    TypeError
        ``image`` not an ndarray or of an unsupported dtype; bad ``k``/``rng``.
    ValueError
        Wrong shape, empty, NaN/inf, or float values outside [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import extract_palette
    >>> img = np.zeros((4, 4, 3), dtype=np.uint8)
    >>> img[:, :3] = [200, 30, 30]          # 12 red pixels, 4 black ones
    >>> pal = extract_palette(img, 8)
    >>> pal.colors
    array([[200,  30,  30],
           [  0,   0,   0]], dtype=uint8)
    >>> pal.counts, pal.proportions
    (array([12,  4]), array([0.75, 0.25]))
    """
    prep = prepare_image(image)
    k, gen, max_iter, tol = _common(k, rng, max_iter, tol)
    table = color_table(prep.pixels)
    return _fit_palette(prep, table, k, gen, max_iter, tol)[0]


def quantize(
    image: NDArray,
    k: int,
    *,
    rng: RNGLike = 0,
    max_iter: int = 300,
    tol: float = 1e-4,
) -> NDArray:
    r"""Reduce an image to at most ``k`` colours with K-Means.

    Each pixel is replaced by its nearest colour of
    :func:`extract_palette`'s palette; the result equals
    ``recolor(image, extract_palette(image, k))`` exactly, and is computed
    in one pass over the pixels.

    Parameters
    ----------
    image : ndarray, shape (H, W), (H, W, 3) or (H, W, 4)
        uint8, uint16, or float with values in [0, 1]. Alpha is kept as is.
    k : int
        Maximum number of colours, at least 1. An image with at most ``k``
        colours comes back unchanged.
    rng : int or numpy.random.Generator, default 0
        Seed for k-means++; the same call always gives the same output.
    max_iter : int, default 300
        Maximum Lloyd iterations of the main fit.
    tol : float, default 1e-4
        Relative tolerance on centre shift (see :func:`kmeans_quant.kmeans`).

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``, with at most ``k`` distinct colours.

    Raises
    ------
    TypeError, ValueError
        As for :func:`extract_palette`.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import quantize
    >>> rng = np.random.default_rng(0)
    >>> img = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    >>> out = quantize(img, 4)
    >>> out.shape, out.dtype, len(np.unique(out.reshape(-1, 3), axis=0))
    ((32, 32, 3), dtype('uint8'), 4)
    """
    prep = prepare_image(image)
    k, gen, max_iter, tol = _common(k, rng, max_iter, tol)
    table = color_table(prep.pixels)
    if table.colors.shape[0] <= k:
        return image.copy()
    palette, labels = _fit_palette(prep, table, k, gen, max_iter, tol)
    return _expand(prep, table, palette.colors, labels)


def recolor(image: NDArray, palette: Palette | ArrayLike) -> NDArray:
    r"""Replace every pixel by its nearest palette colour.

    .. math:: y_p = \arg\min_{c \in P} \lVert x_p - c \rVert^2

    with ties going to the lexicographically smallest colour. Distances are
    computed once per distinct colour, in blocks, so memory stays bounded.

    Parameters
    ----------
    image : ndarray, shape (H, W), (H, W, 3) or (H, W, 4)
        uint8, uint16, or float with values in [0, 1]. Alpha is kept as is.
    palette : Palette or array_like, shape (m, 3) (``(m,)`` or ``(m, 1)`` for grayscale)
        Colours in the image's own value range (0-255 for uint8, [0, 1]
        for float); values are rounded to the image's dtype.

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``, every colour from ``palette``.

    Raises
    ------
    TypeError, ValueError
        Bad image (as for :func:`extract_palette`), or a palette of the wrong
        shape, type or value range.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import recolor
    >>> img = np.array([[[10, 10, 10], [250, 240, 230]]], dtype=np.uint8)
    >>> recolor(img, [[0, 0, 0], [255, 255, 255]])
    array([[[  0,   0,   0],
            [255, 255, 255]]], dtype=uint8)
    """
    prep = prepare_image(image)
    colors = _check_palette(palette, prep)
    table = color_table(prep.pixels)
    pal, labels, _ = _map_to_palette(prep, table, colors)
    return _expand(prep, table, pal, labels)
