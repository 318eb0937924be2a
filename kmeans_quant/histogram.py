r"""Colour histograms that merge by addition, and the palette fitted on one.

K-Means over the pixels of an image equals K-Means over its distinct
colours weighted by their pixel counts, and the count of a colour in a set
of images (or in the blocks of one image) is the sum of its counts in each:

.. math:: n_u(A \cup B) = n_u(A) + n_u(B) .

So the data-sized work (reading pixels and counting colours) can run
anywhere, block by block, and the palette is fitted once on the merged
histogram, whose size is bounded by the number of distinct colours, not
of pixels. :mod:`kmeans_quant.dask` builds on this.

How colours are stored
    Each colour is packed into one unsigned integer *code*, its channels
    most significant first: ``r << 2s | g << s | b`` with ``s`` the bits per
    channel (8 for uint8, 16 for uint16), or the grey value itself. uint8
    images get uint32 codes, uint16 images uint64 codes. Code order is the
    lexicographic order of the colours, the order in which
    :func:`kmeans_quant.extract_palette` sees them, which matters because
    the k-means++ seeding depends on it. A histogram is the sorted unique
    codes and their int64 counts, nothing else, so it pickles to about 12
    (uint8) or 16 (uint16) bytes per colour.

Float images are refused: a float colour has no exact integer code of
bounded size (three float32 channels are 96 bits), and rounding them would
break the promise that :func:`kmeans_quant.fit_palette` equals
``extract_palette``.
Convert them to uint8 or uint16 first.

Merging is :func:`kmeans_quant.color_table.merge_codes`: one stable sort of
the concatenated codes, which for sorted inputs is a merge of runs (linear
for two histograms), then the counts of equal codes added.

With ``alpha="fit"`` (:meth:`ColorHistogram.from_image`) the histogram
counts (colour, alpha) values instead, four channels to a code, for the
palettes of :func:`kmeans_quant.fit_palette` that fit alpha as part of the
colour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._validation import ALPHAS, check_choice, check_code_dtype, check_image, rgba_pixels
from .color_table import CODE_LAYOUT, color_table, merge_codes, pack_colors, unpack_colors

__all__ = ["ColorHistogram", "merge"]

# How fully transparent RGBA pixels are counted (see ColorHistogram.from_image).
_TRANSPARENT = ("auto", "skip", "count")


@dataclass(frozen=True, eq=False)
class ColorHistogram:
    r"""The distinct colours of some pixels and how many pixels have each.

    Build one with :meth:`from_image`; add histograms with ``+`` or
    :func:`merge`; fit a palette with :func:`kmeans_quant.fit_palette`.

    Attributes
    ----------
    codes : ndarray of uint32 (uint8 images) or uint64 (uint16), shape (m,)
        Packed colours (see the module notes), strictly increasing.
    counts : ndarray of int64, shape (m,)
        Pixels of each colour; may be 0 for a colour that only fully
        transparent pixels have (it still takes part in the mapping, as in
        :func:`kmeans_quant.extract_palette`).
    dtype : numpy.dtype
        The image dtype, uint8 or uint16.
    channels : int
        1 (grey) or 3 (RGB; alpha is not part of the colour), or 4 (RGBA
        values, counted with ``alpha="fit"``).

    Raises
    ------
    TypeError
        ``dtype`` not uint8/uint16.
    ValueError
        ``channels`` not 1, 3 or 4, codes not strictly increasing or out of
        range, counts of another shape or negative.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant.histogram import ColorHistogram
    >>> img = np.array([[[9, 0, 0], [1, 2, 3], [9, 0, 0]]], dtype=np.uint8)
    >>> h = ColorHistogram.from_image(img)
    >>> h.codes, h.counts
    (array([   66051, 589824], dtype=uint32), array([1, 2]))
    >>> h.colors
    array([[1, 2, 3],
           [9, 0, 0]], dtype=uint8)
    >>> (h + h).counts, (h + h).n_pixels
    (array([2, 4]), 6)
    """

    codes: NDArray
    counts: NDArray[np.int64]
    dtype: np.dtype
    channels: int

    def __post_init__(self) -> None:
        dt = check_code_dtype(self.dtype, "dtype")
        if self.channels not in (1, 3, 4):
            raise ValueError(f"channels must be 1, 3 or 4, got {self.channels!r}")
        bits, code_dtype = CODE_LAYOUT[dt]
        codes = np.ascontiguousarray(self.codes)
        counts = np.ascontiguousarray(self.counts)
        if codes.ndim != 1 or codes.dtype != code_dtype:
            raise ValueError(
                f"codes must be a 1-D {code_dtype} array for {dt} colours, "
                f"got shape {codes.shape} dtype {codes.dtype}"
            )
        if counts.shape != codes.shape or counts.dtype != np.int64:
            raise ValueError(
                f"counts must be int64 of shape {codes.shape}, "
                f"got shape {counts.shape} dtype {counts.dtype}"
            )
        if codes.size and not (codes[1:] > codes[:-1]).all():
            raise ValueError("codes must be strictly increasing")
        if codes.size and int(codes[-1]) >> (bits * self.channels):
            raise ValueError(
                f"codes must be below 2**{bits * self.channels} for {self.channels}-channel "
                f"{dt} colours, got {int(codes[-1])}"
            )
        if counts.size and counts.min() < 0:
            raise ValueError("counts must be non-negative")
        object.__setattr__(self, "dtype", dt)
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "counts", counts)

    # ---------------------------------------------------------------- views

    @property
    def colors(self) -> NDArray:
        """The colours, shape (m, channels), in ``dtype``, in code order."""
        return unpack_colors(self.codes, self.dtype, self.channels)

    @property
    def n_pixels(self) -> int:
        """Pixels counted: the sum of ``counts``."""
        return int(self.counts.sum())

    def __len__(self) -> int:
        return int(self.codes.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ColorHistogram):
            return NotImplemented
        return (
            self.dtype == other.dtype
            and self.channels == other.channels
            and np.array_equal(self.codes, other.codes)
            and np.array_equal(self.counts, other.counts)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable arrays inside

    def __repr__(self) -> str:
        return (
            f"ColorHistogram({len(self)} colours, {self.n_pixels} pixels, "
            f"{self.channels}-channel {self.dtype})"
        )

    def __add__(self, other: ColorHistogram) -> ColorHistogram:
        if not isinstance(other, ColorHistogram):
            return NotImplemented
        return merge([self, other])

    def __radd__(self, other: Any) -> ColorHistogram:
        # sum(histograms) starts from 0
        if isinstance(other, int) and other == 0:
            return self
        return NotImplemented

    def __reduce__(self):
        # Exactly the four fields: the arrays pickle as raw bytes.
        return (ColorHistogram, (self.codes, self.counts, self.dtype.str, self.channels))

    # ---------------------------------------------------------------- making

    @classmethod
    def from_image(
        cls, image: NDArray, *, transparent: str = "auto", alpha: str = "keep"
    ) -> ColorHistogram:
        """Count the colours of an image (or of a block of one).

        Parameters
        ----------
        image : ndarray, shape (H, W), (H, W, 3) or (H, W, 4), uint8 or uint16
            Alpha, if any, is not part of the colour (unless ``alpha="fit"``).
        transparent : {'auto', 'skip', 'count'}, default 'auto'
            How fully transparent pixels (alpha 0) are counted. ``'auto'``
            is :func:`kmeans_quant.extract_palette`'s rule: they are left out
            if the image has at least one visible pixel, and all pixels
            count if none is visible. ``'skip'`` always leaves them out
            (their colours stay, with count 0) and ``'count'`` always counts
            them; blocks of one image use ``'skip'``, since only the whole
            image can tell whether any pixel is visible.
        alpha : {'keep', 'fit'}, default 'keep'
            ``'fit'`` counts the (colour, alpha) values of an RGBA image, for
            ``fit_palette(..., alpha="fit")``: every pixel counts, the fully
            transparent ones included (they take the palette's clear entry),
            so ``transparent`` must stay ``'auto'``.

        Returns
        -------
        ColorHistogram
            The image's colours in code order, with their pixel counts.

        Raises
        ------
        TypeError
            ``image`` not an ndarray, or not uint8/uint16 (floats included).
        ValueError
            Wrong shape, empty, an unknown ``transparent`` or ``alpha``,
            ``alpha='fit'`` for an image without alpha or with
            ``transparent`` other than ``'auto'``.

        Examples
        --------
        >>> import numpy as np
        >>> from kmeans_quant.histogram import ColorHistogram
        >>> rgba = np.zeros((1, 3, 4), dtype=np.uint8)
        >>> rgba[0, :2, 3] = 255                 # two visible black pixels
        >>> rgba[0, 2] = [255, 255, 255, 0]      # one invisible white one
        >>> ColorHistogram.from_image(rgba).counts
        array([2, 0])
        >>> ColorHistogram.from_image(rgba, transparent="count").counts
        array([2, 1])
        >>> ColorHistogram.from_image(rgba, alpha="fit").colors
        array([[  0,   0,   0, 255],
               [255, 255, 255,   0]], dtype=uint8)
        """
        if isinstance(image, np.ndarray):
            check_code_dtype(image.dtype, "image dtype")
        check_choice(transparent, "transparent", _TRANSPARENT)
        if check_choice(alpha, "alpha", ALPHAS) == "fit":
            if transparent != "auto":
                raise ValueError(
                    "alpha='fit' counts every pixel, the transparent ones too; "
                    f"leave transparent='auto', got transparent={transparent!r}"
                )
            prep = check_image(image)
            table = color_table(rgba_pixels(prep))
            return cls(pack_colors(table.colors), table.counts, prep.dtype, 4)
        prep = check_image(image)
        table = color_table(prep.pixels)
        counts = table.visible_counts(prep.alpha, transparent)
        # The table is sorted lexicographically, which is code order.
        return cls(pack_colors(table.colors), counts.astype(np.int64), prep.dtype, prep.channels)

    def as_rgb(self) -> ColorHistogram:
        """The same pixels as RGB: a grey ``g`` becomes ``(g, g, g)``.

        The map is increasing in ``g``, so the codes stay sorted. An RGB
        histogram is returned as is; one of (colour, alpha) values
        (``channels == 4``) raises ValueError.

        Examples
        --------
        >>> import numpy as np
        >>> from kmeans_quant.histogram import ColorHistogram
        >>> grey = ColorHistogram.from_image(np.array([[0, 7, 7]], dtype=np.uint8))
        >>> grey.as_rgb().colors
        array([[0, 0, 0],
               [7, 7, 7]], dtype=uint8)
        """
        if self.channels == 3:
            return self
        if self.channels == 4:
            raise ValueError("a histogram of (colour, alpha) values has no RGB form")
        bits, code_dtype = CODE_LAYOUT[self.dtype]
        spread = code_dtype.type((1 << 2 * bits) + (1 << bits) + 1)
        return ColorHistogram(self.codes * spread, self.counts, self.dtype, 3)


# --------------------------------------------------------------------------
# merging
# --------------------------------------------------------------------------


def merge(histograms: Iterable[ColorHistogram]) -> ColorHistogram:
    r"""The histogram of all the pixels of several histograms: counts added.

    Associative and commutative, so the parts can be merged in any order
    or tree (as a distributed reduction does) with the same result.

    Parameters
    ----------
    histograms : iterable of ColorHistogram
        At least one; all of the same ``dtype`` and ``channels`` (use
        :meth:`ColorHistogram.as_rgb` to mix grey with RGB).

    Returns
    -------
    ColorHistogram
        The union of the colours, each with the sum of its counts.

    Raises
    ------
    TypeError
        An element is not a ColorHistogram.
    ValueError
        No histograms, or mismatched dtype/channels.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant.histogram import ColorHistogram, merge
    >>> a = ColorHistogram.from_image(np.array([[1, 2]], dtype=np.uint8))
    >>> b = ColorHistogram.from_image(np.array([[2, 2, 5]], dtype=np.uint8))
    >>> m = merge([a, b])
    >>> m.colors.ravel(), m.counts
    (array([1, 2, 5], dtype=uint8), array([1, 3, 1]))
    """
    hs = list(histograms)
    if not hs:
        raise ValueError("merge needs at least one histogram, got none")
    for i, h in enumerate(hs):
        if not isinstance(h, ColorHistogram):
            raise TypeError(f"histograms[{i}] must be a ColorHistogram, got {type(h).__name__}")
    first = hs[0]
    for i, h in enumerate(hs[1:], start=1):
        if (h.dtype, h.channels) != (first.dtype, first.channels):
            raise ValueError(
                "histograms must have the same dtype and channels to merge: "
                f"histograms[0] is {first.channels}-channel {first.dtype}, "
                f"histograms[{i}] is {h.channels}-channel {h.dtype}"
            )
    if len(hs) == 1:
        return first
    codes, counts = merge_codes([h.codes for h in hs], [h.counts for h in hs])
    return ColorHistogram(codes, counts, first.dtype, first.channels)
