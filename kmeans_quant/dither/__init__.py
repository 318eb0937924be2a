r"""Dithering: mapping an image onto a fixed palette so local means match the original.

The way to dither an image is :func:`kmeans_quant.recolor` (or
:func:`kmeans_quant.quantize`) with ``dither="floyd-steinberg"`` or
``dither="ordered"``. This package holds what they run: one public
dispatch, :func:`dither_indices`, which works on an image's colour table
(its distinct colours, their counts and every pixel's colour index), over
private kernels:

* Floyd-Steinberg error diffusion among each colour's nearest palette
  colours (``_candidates``), processed by anti-diagonal wavefronts
  (``_error_diffusion``);
* Knoll's pattern dithering with mixing plans on a Bayer matrix
  (``_ordered``); large palettes make their plans by grid look-ups.

Their plain-loops oracle is :func:`kmeans_quant.naive.floyd_steinberg`.
They are judged by SSIMULACRA2 against the bytes of the written file (the
benchmark report's "What the eye sees"); the design and its measurements
are in ``docs/internals.md``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .._validation import check_choice, check_fraction
from ..engine._steps import label_points
from ._error_diffusion import floyd_steinberg
from ._ordered import ordered

__all__ = ["dither_indices", "DITHER_METHODS"]

#: The dithering methods :func:`dither_indices` runs.
DITHER_METHODS = ("floyd-steinberg", "ordered")


def _check_table(
    colors: NDArray, counts: NDArray, inverse: NDArray, palette: NDArray, shape: tuple[int, int]
) -> None:
    """Raise unless the arrays form one colour table of an ``shape`` image and a palette."""
    if not (isinstance(colors, np.ndarray) and colors.ndim == 2 and colors.dtype.kind == "f"):
        got = (
            f"{colors.dtype} of shape {colors.shape}" if isinstance(colors, np.ndarray) else colors
        )
        raise TypeError(f"colors must be a 2-D float array (g, c), got {got!r}")
    g, c = colors.shape
    pal = np.asarray(palette)
    if pal.ndim != 2 or pal.shape[1] != c or pal.shape[0] == 0:
        raise ValueError(f"palette must have shape (m, {c}) with m >= 1, got {pal.shape}")
    if np.shape(counts) != (g,):
        raise ValueError(f"counts must have shape ({g},), one per colour, got {np.shape(counts)}")
    if (
        len(shape) != 2
        or not all(isinstance(s, (int, np.integer)) and s >= 0 for s in shape)
        or np.shape(inverse) != (shape[0] * shape[1],)
    ):
        raise ValueError(
            f"inverse must have shape (H * W,) for shape (H, W), got {np.shape(inverse)} "
            f"for shape {shape!r}"
        )
    inv = np.asarray(inverse)
    if inv.dtype.kind not in "iu" or (inv.size and (inv.min() < 0 or inv.max() >= g)):
        raise ValueError(f"inverse must hold colour indices in [0, {g}), got dtype {inv.dtype}")


def dither_indices(
    method: str,
    *,
    colors: NDArray,
    counts: NDArray,
    inverse: NDArray,
    palette: NDArray,
    shape: tuple[int, int],
    strength: float = 1.0,
    level: NDArray | None = None,
) -> NDArray[np.unsignedinteger]:
    r"""Palette index of every pixel of an image, dithered by ``method``.

    ``"floyd-steinberg"`` lets each pixel take one of the 4 palette colours
    nearest to its own colour (those that can mix to it) and diffuses 0.8
    of its error onto its unvisited neighbours with the weights
    :math:`\tfrac{7}{16}` (right), :math:`\tfrac{3}{16}`,
    :math:`\tfrac{5}{16}`, :math:`\tfrac{1}{16}` (the row below), in
    raster order.
    ``"ordered"`` gives every colour a plan of 64 palette entries whose
    mean approximates it (Knoll's method) and lets the 8x8 Bayer matrix
    pick one entry of the plan per pixel.

    Parameters
    ----------
    method : {'floyd-steinberg', 'ordered'}
        How to dither.
    colors : ndarray of float32 or float64, shape (g, c)
        The image's distinct colours, in the units the error is measured
        in; the arithmetic is done in this dtype.
    counts : ndarray, shape (g,)
        Pixels of each colour.
    inverse : ndarray of int, shape (H * W,)
        Index into ``colors`` of every pixel, in raster order.
    palette : ndarray, shape (m, c)
        Palette colours in the units of ``colors``.
    shape : (int, int)
        ``(H, W)``.
    strength : float, default 1.0
        In [0, 1]: scales the share of each error Floyd-Steinberg passes
        on; ordered dithering plans for :math:`p + s (g - p)` instead of
        each colour :math:`g`, with :math:`p` its nearest palette colour.
    level : ndarray, shape (H * W,), optional
        Each pixel's Floyd-Steinberg level in [0, 1], multiplying the error
        it passes on (:func:`kmeans_quant.importance.dither_level`).

    Returns
    -------
    ndarray of uint8 (uint16 above 256 colours), shape (H, W)
        Index into ``palette`` of each pixel's colour.

    Raises
    ------
    TypeError
        ``colors`` not a 2-D float array, ``strength`` not a number.
    ValueError
        An unknown ``method``, ``strength`` outside [0, 1], arrays that do
        not fit together, or a ``level`` of the wrong shape or outside
        [0, 1].

    References
    ----------
    R. W. Floyd and L. Steinberg, "An adaptive algorithm for spatial
    greyscale", Proc. SID 17(2), 1976. J. Yliluoma, "Arbitrary-palette
    positional dithering algorithm", https://bisqwit.iki.fi/story/howto/dither/jy/
    (Knoll's algorithm).

    Examples
    --------
    A grey ramp onto black and white: 128 takes white and passes on
    :math:`0.8 \cdot 7/16 \cdot (-127)`, so 64 becomes 19.55 and takes black.

    >>> import numpy as np
    >>> from kmeans_quant.dither import dither_indices
    >>> colors = np.array([[64.0], [128.0], [200.0]])
    >>> dither_indices("floyd-steinberg", colors=colors, counts=np.ones(3),
    ...                inverse=np.array([1, 0, 2]), palette=np.array([[0.0], [255.0]]),
    ...                shape=(1, 3))
    array([[1, 0, 1]], dtype=uint8)
    """
    method = check_choice(method, "method", DITHER_METHODS)
    strength = check_fraction(strength, "strength")
    _check_table(colors, counts, inverse=inverse, palette=palette, shape=shape)
    palette = np.ascontiguousarray(palette, dtype=colors.dtype)
    if level is not None:
        level = np.asarray(level, dtype=colors.dtype)
        if level.shape != np.shape(inverse):
            raise ValueError(
                f"level must have shape {np.shape(inverse)}, one per pixel, got {level.shape}"
            )
        if level.size and (not np.isfinite(level).all() or level.min() < 0 or level.max() > 1):
            raise ValueError(
                f"level must lie in [0, 1], got range [{level.min():.3g}, {level.max():.3g}]"
            )
    if method == "floyd-steinberg":
        return floyd_steinberg(
            colors, inverse, palette=palette, shape=shape, strength=strength, level=level
        )
    if strength != 1.0:
        nearest = palette[label_points(colors, palette)]
        colors = (nearest + strength * (colors - nearest)).astype(colors.dtype)
    return ordered(colors, counts, inverse=inverse, palette=palette, shape=shape)
