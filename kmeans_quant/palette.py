"""Palettes: colours with the number of pixels of each.

:class:`Palette` is what :func:`kmeans_quant.extract_palette` returns and
what :func:`kmeans_quant.recolor` and the palette files take;
:func:`by_count` puts colours with their counts into the one order every
result uses, most frequent first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Palette", "by_count", "add_missing"]


@dataclass(frozen=True, eq=False)
class Palette:
    """Colours of a quantized image with the number of pixels of each.

    Attributes
    ----------
    colors : ndarray, shape (m, c)
        The colours, in the image's dtype (uint8 for 8-bit images), most
        frequent first; ``c`` is 3 for RGB and RGBA images, 1 for grayscale.
    counts : ndarray of int64, shape (m,)
        Pixels mapped to each colour. They sum to the image's pixel count
        (for RGBA images fitted with ``alpha="keep"``: its pixels that are
        not fully transparent).
    alpha : ndarray, shape (m,), or None
        The opacity of each entry, in the image's dtype, when the palette
        was fitted with alpha as part of the colour
        (``extract_palette(rgba, k, alpha="fit")``); the fully transparent
        pixels then share one entry of alpha 0 and colour 0. None otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> pal = Palette(np.array([[200, 30, 30], [0, 0, 0]], np.uint8), np.array([12, 4]))
    >>> len(pal), pal.proportions
    (2, array([0.75, 0.25]))
    """

    colors: NDArray
    counts: NDArray[np.int64]
    alpha: NDArray | None = None

    @property
    def proportions(self) -> NDArray[np.float64]:
        """Fraction of the pixels that each colour covers; sums to 1.

        NaN for every colour when all counts are zero (a palette read from a
        file that stores no counts).
        """
        total = self.counts.sum()
        out = np.full(self.counts.shape, np.nan)
        return np.divide(self.counts, total, out=out, where=total > 0)

    def __len__(self) -> int:
        return int(self.colors.shape[0])

    @property
    def rgba(self) -> NDArray:
        """The entries as ``(m, 4)`` colour and alpha (alpha at full scale if None).

        >>> import numpy as np
        >>> pal = Palette(np.array([[9, 9, 9]], np.uint8), np.array([1]))
        >>> pal.rgba
        array([[  9,   9,   9, 255]], dtype=uint8)
        """
        colors = self.colors.reshape(len(self), -1)
        if colors.shape[1] == 1:
            colors = np.repeat(colors, 3, axis=1)
        if self.alpha is not None:
            alpha = self.alpha.astype(colors.dtype)
        else:
            top = 1 if colors.dtype.kind == "f" else np.iinfo(colors.dtype).max
            alpha = np.full(len(self), top, dtype=colors.dtype)
        return np.concatenate([colors, alpha[:, None]], axis=1)


def by_count(colors: ArrayLike, counts: ArrayLike, alpha: ArrayLike | None = None) -> Palette:
    """A :class:`Palette` of ``colors`` ordered most frequent first (ties: given order).

    This is the order of every palette the image API returns.

    Parameters
    ----------
    colors : array_like, shape (m, c)
        The colours, in any dtype.
    counts : array_like of int, shape (m,)
        Pixels of each colour, non-negative.
    alpha : array_like, shape (m,), optional
        The opacity of each colour.

    Returns
    -------
    Palette

    Raises
    ------
    ValueError
        ``colors`` not 2-D, or ``counts`` / ``alpha`` of another length, or
        negative or fractional counts.

    Examples
    --------
    >>> import numpy as np
    >>> pal = by_count(np.array([[0, 0, 0], [9, 9, 9], [5, 5, 5]], np.uint8), [1, 3, 1])
    >>> pal.colors.tolist(), pal.counts.tolist()
    ([[9, 9, 9], [0, 0, 0], [5, 5, 5]], [3, 1, 1])
    """
    colors = np.asarray(colors)
    raw = np.asarray(counts)
    if colors.ndim != 2:
        raise ValueError(f"colors must have shape (m, c), got {colors.shape}")
    m = colors.shape[0]
    if raw.shape != (m,):
        raise ValueError(f"counts must have shape ({m},), one per colour, got {raw.shape}")
    count = raw.astype(np.int64)
    bad = (count != raw) | (count < 0)
    if bad.any():
        raise ValueError(f"counts must be non-negative whole numbers, got {raw[bad][0].item()!r}")
    if alpha is not None:
        alpha = np.asarray(alpha)
        if alpha.shape != (m,):
            raise ValueError(f"alpha must have shape ({m},), one per colour, got {alpha.shape}")
    order = np.argsort(-count, kind="stable")
    return Palette(colors[order], count[order], None if alpha is None else alpha[order])


def add_missing(palette: Palette, colors: NDArray | None) -> Palette:
    """``palette`` plus those of ``colors`` (m, c) it does not hold, with count 0, last.

    How fixed colours that no pixel took stay in a palette.

    >>> import numpy as np
    >>> pal = Palette(np.array([[9, 9, 9]], np.uint8), np.array([4]))
    >>> more = add_missing(pal, np.array([[0, 0, 0], [9, 9, 9]], np.uint8))
    >>> more.colors.tolist(), more.counts.tolist()
    ([[9, 9, 9], [0, 0, 0]], [4, 0])
    """
    if colors is None:
        return palette
    held = np.asarray(palette.colors).reshape(len(palette), -1)
    missing = ~(colors[:, None, :] == held[None, :, :]).all(axis=2).any(axis=1)
    if not missing.any():
        return palette
    return Palette(
        np.concatenate([held, colors[missing].astype(held.dtype)]),
        np.concatenate([palette.counts, np.zeros(int(missing.sum()), np.int64)]),
    )
