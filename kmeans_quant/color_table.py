"""Colour tables: the distinct colours of pixels, their counts, and grids of cells.

K-Means on an image only needs each distinct colour once, weighted by its
pixel count: the weighted objective is the same sum of squared errors as on
every pixel. A photo has far fewer distinct colours than pixels, and the
colour table also turns "label every pixel" into "label every colour, then
look the label up", which is what :func:`kmeans_quant.recolor` does.

This module is the one home of the operations on colour tables:

* packing 8- and 16-bit colours into integer codes (``r << 16 | g << 8 | b``
  for 8 bits), so counting is a dense count over all codes or a sort of 1-D
  codes instead of a sort of rows (:func:`pack_colors`, :func:`distinct_codes`); other
  dtypes fall back to ``numpy.unique(..., axis=0)``;
* the table itself (:func:`color_table`) and merging tables or codes with
  their counts (:func:`merge_tables`, :func:`merge_codes`), which the
  histograms, shared palettes and animations all use;
* numbering the occupied cells of a grid (:func:`grid_cells`) and pooling
  weighted points per cell (:func:`pool`, :func:`pool_on_grid`), which the
  palette fit and ordered dithering both use.

How the thresholds below were chosen is in ``docs/internals.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ColorTable",
    "color_table",
    "merge_tables",
    "merge_codes",
    "CODE_LAYOUT",
    "pack_colors",
    "unpack_colors",
    "distinct_codes",
    "index_of_codes",
    "grid_cells",
    "pool",
    "pool_on_grid",
    "gather_rows",
]

# From this many pixels on (and always for one channel) the 8-bit colours are
# counted in a dense array over all codes, which then becomes the lookup
# table from code to colour index; fewer are sorted (see docs/internals.md).
_DENSE_MIN_PIXELS = 1 << 22
# Below this many pixels, finding each pixel's colour by binary search beats
# filling a lookup table over all 2**24 codes.
_LUT_MIN_PIXELS = 1 << 16
# Pixels per block when codes are formed block by block (1 MiB of codes).
_BLOCK = 1 << 18
# Pixels per block of ColorTable.total: few blocks, as each adds a bincount
# over all the colours.
_WIDE_BLOCK = 1 << 21


@dataclass(frozen=True, eq=False)
class ColorTable:
    """The distinct colours of a set of pixels and the way back to pixels.

    Attributes
    ----------
    colors : ndarray, shape (m, c)
        Each distinct colour once, in the pixels' dtype, sorted (by packed
        code for 8-bit data, lexicographically otherwise).
    counts : ndarray of int64, shape (m,)
        Pixels of each colour; sums to the number of pixels.
    """

    colors: NDArray
    counts: NDArray[np.int64]
    _pixels: NDArray | None  # 8-bit paths: the pixels themselves (not copied)
    _color_codes: NDArray | None  # 8-bit sorted path: code of every distinct colour
    _lut: NDArray | None  # 8-bit dense path: colour index of every possible code
    _inverse: NDArray[np.intp] | None  # generic path: colour index per pixel
    _cache: dict[str, NDArray] = field(default_factory=dict, repr=False)  # pixel_index, once

    def _blocks(self, lookup: NDArray | None = None) -> Iterator[tuple[slice, NDArray]]:
        """``(rows, colour index of those pixels)`` for blocks of the 8-bit pixels.

        With ``lookup`` (an array over all codes) the blocks carry
        ``lookup[code]`` instead of the colour index.
        """
        pixels = cast(NDArray, self._pixels)
        lookup = self._lut if lookup is None else lookup
        for start in range(0, pixels.shape[0], _BLOCK):
            rows = slice(start, start + _BLOCK)
            codes = pack_colors(pixels[rows])
            if lookup is not None:
                yield rows, lookup[codes]
            else:
                yield rows, np.searchsorted(cast(NDArray, self._color_codes), codes)

    def expand(self, values: NDArray) -> NDArray:
        """Give every pixel the value of its colour: ``values[colour_of_pixel]``.

        ``values`` has shape ``(m, ...)``, one entry per distinct colour.
        """
        if self._inverse is not None:
            return values[self._inverse]
        pixels = cast(NDArray, self._pixels)
        out = np.empty((pixels.shape[0],) + values.shape[1:], values.dtype)
        if self._lut is None and pixels.shape[0] >= _LUT_MIN_PIXELS:
            # A lookup table by packed code: one gather per pixel, no search.
            lut = np.empty((_code_space(pixels.shape[1]),) + values.shape[1:], values.dtype)
            lut[cast(NDArray, self._color_codes)] = values
            for rows, value in self._blocks(lut):
                out[rows] = value
            return out
        for rows, index in self._blocks():
            out[rows] = values[index]
        return out

    def paint(self, labels: NDArray, palette: NDArray) -> NDArray:
        """Give every pixel its colour's palette entry: ``palette[labels[colour_of_pixel]]``.

        ``labels`` has one palette index per distinct colour; ``palette``
        has shape ``(k, ...)``. The labels go to the pixels in one byte (two
        above 256 entries), then the palette rows are gathered block by
        block, so no intp index per pixel is ever held.

        >>> import numpy as np
        >>> t = color_table(np.array([[9, 0, 0], [1, 2, 3], [9, 0, 0]], dtype=np.uint8))
        >>> t.paint(np.array([1, 0]), np.array([[7, 7, 7], [5, 5, 5]], dtype=np.uint8))
        array([[7, 7, 7],
               [5, 5, 5],
               [7, 7, 7]], dtype=uint8)
        """
        small = np.uint8 if palette.shape[0] <= 256 else np.uint16
        return gather_rows(palette, self.expand(labels.astype(small)))

    def pixel_index(self) -> NDArray:
        """Index into ``colors`` of every pixel (int32, or intp for huge tables).

        Computed once per table and kept (4 bytes a pixel): error diffusion
        and the per-colour sums of :meth:`total` both read it. The array is
        shared: read it, do not write to it.
        """
        if self._inverse is not None:
            return self._inverse
        if "index" not in self._cache:
            m = self.colors.shape[0]
            self._cache["index"] = self.expand(
                np.arange(m, dtype=np.int32 if m < 2**31 else np.intp)
            )
        return self._cache["index"]

    def visible_counts(self, alpha: NDArray | None, rule: str = "auto") -> NDArray[np.int64]:
        """Pixels of each colour that count for a fit, by the transparency ``rule``.

        Fully transparent pixels (``alpha == 0``) show nothing. ``"auto"``
        leaves them out when at least one pixel is visible and counts every
        pixel when none is; ``"skip"`` always leaves them out (their colours
        keep a count of 0); ``"count"`` counts them. Without alpha every
        pixel counts.
        """
        if alpha is None or rule == "count":
            return self.counts
        visible = alpha.reshape(-1) > 0
        if visible.all() or (rule == "auto" and not visible.any()):
            return self.counts
        return self.count(visible)

    def total(self, weights: NDArray) -> NDArray[np.float64]:
        """Sum of ``weights`` (one per pixel, raster order) over each colour's pixels.

        >>> import numpy as np
        >>> t = color_table(np.array([[9, 0, 0], [1, 2, 3], [9, 0, 0]], dtype=np.uint8))
        >>> t.total(np.array([0.5, 2.0, 0.25])).tolist()
        [2.0, 0.75]
        """
        m = self.colors.shape[0]
        if self._inverse is None and self._lut is None:
            # Sorted path: sort the codes again, sum each run.
            order = _order_24(pack_colors(cast(NDArray, self._pixels)))
            starts = np.zeros(m, dtype=np.intp)
            np.cumsum(self.counts[:-1], out=starts[1:])
            return np.add.reduceat(weights[order].astype(np.float64), starts)
        # Block by block, so the index and the weights are widened (to intp
        # and float64, as bincount needs) a block at a time.
        index = self.pixel_index()
        sums = np.zeros(m, dtype=np.float64)
        for start in range(0, index.shape[0], _WIDE_BLOCK):
            rows = slice(start, start + _WIDE_BLOCK)
            sums += np.bincount(
                index[rows].astype(np.intp), weights[rows].astype(np.float64), minlength=m
            )
        return sums

    def count(self, mask: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Pixels of each colour among those where ``mask`` (one flag per pixel) is set."""
        m = self.colors.shape[0]
        if self._inverse is not None:
            return np.bincount(self._inverse[mask], minlength=m).astype(np.int64)
        counts = np.zeros(m, dtype=np.int64)
        for rows, index in self._blocks():
            np.add.at(counts, index[mask[rows]], np.int64(1))
        return counts


def gather_rows(rows: NDArray, index: NDArray) -> NDArray:
    """``rows[index]`` for a long ``index`` (any integer dtype), gathered block by block.

    ``np.take`` widens its index to intp; block by block, no intp copy of a
    whole image's index is ever held.

    >>> import numpy as np
    >>> gather_rows(np.array([[0, 0], [9, 9]]), np.array([1, 0, 1], dtype=np.uint8))
    array([[9, 9],
           [0, 0],
           [9, 9]])
    """
    out = np.empty(index.shape + rows.shape[1:], rows.dtype)
    flat_index = index.reshape(-1)
    flat_out = out.reshape((-1,) + rows.shape[1:])
    for start in range(0, flat_index.shape[0], _BLOCK):
        block = slice(start, start + _BLOCK)
        np.take(rows, flat_index[block], axis=0, out=flat_out[block])
    return out


def _code_space(channels: int) -> int:
    return 1 << (8 * channels)


#: Bits per channel and code dtype for each dtype whose colours pack into codes.
CODE_LAYOUT: dict[np.dtype, tuple[int, np.dtype[np.unsignedinteger]]] = {
    np.dtype(np.uint8): (8, np.dtype(np.uint32)),
    np.dtype(np.uint16): (16, np.dtype(np.uint64)),
}


def pack_colors(colors: NDArray) -> NDArray:
    """Pack each row of 1 to 4 uint8 or uint16 channels into one integer code.

    The first channel is most significant, so code order is the
    lexicographic order of the colours. uint8 colours give uint32 codes,
    uint16 colours uint64 codes.

    >>> import numpy as np
    >>> pack_colors(np.array([[1, 2, 3]], dtype=np.uint8))
    array([66051], dtype=uint32)
    """
    bits, code_dtype = CODE_LAYOUT[colors.dtype]
    codes = colors[:, 0].astype(code_dtype)
    for j in range(1, colors.shape[1]):  # at most 3 more channels
        codes <<= np.asarray(bits, dtype=code_dtype)
        codes |= colors[:, j]
    return codes


def unpack_colors(codes: NDArray, dtype: np.dtype, channels: int) -> NDArray:
    """Inverse of :func:`pack_colors`: ``(m, channels)`` colours of ``dtype``."""
    bits, code_dtype = CODE_LAYOUT[np.dtype(dtype)]
    # A little-endian view holds the channels as the code's digits, last first.
    little = np.ascontiguousarray(codes, dtype=code_dtype.newbyteorder("<"))
    digits = little.view(f"<u{bits // 8}").reshape(codes.size, 8 * code_dtype.itemsize // bits)
    return digits[:, channels - 1 :: -1].astype(dtype, order="C")


def index_of_codes(codes: NDArray, known: NDArray, channels: int) -> NDArray:
    """Index into ``known`` (distinct 8-bit codes, any order) of every code; -1 if absent.

    ``codes`` and ``known`` pack ``channels`` uint8 channels
    (:func:`pack_colors`). Many codes (an eighth of the code space or more)
    go through a lookup table over the code space (one gather each, int16
    when ``known`` is short: 2 bytes per possible code and per code); fewer
    go through a sorted search.

    >>> import numpy as np
    >>> index_of_codes(np.array([7, 3, 9], np.uint32), np.array([9, 7], np.uint32), 1)
    array([ 1, -1,  0], dtype=int16)
    """
    small = np.int16 if known.size < 2**15 else np.int32
    # The table costs 2 bytes per possible code: worth it for many codes only.
    if codes.size < _code_space(channels) // 8:
        order = np.argsort(known, kind="stable")
        pos = np.minimum(np.searchsorted(known[order], codes), known.size - 1)
        return np.where(known[order[pos]] == codes, order[pos], -1).astype(small)
    lut = np.full(_code_space(channels), -1, dtype=small)
    lut[known] = np.arange(known.size, dtype=small)
    return lut[codes]


def _order_24(codes: NDArray[np.uint32]) -> NDArray[np.intp]:
    """Stable order that sorts 24-bit ``codes``.

    Least significant digit first: the low 16 bits, then the high 8. NumPy
    sorts integers of at most 16 bits stably by radix, in linear time, so
    the two passes beat one comparison sort of the uint32 codes.
    """
    order = np.argsort((codes & 0xFFFF).astype(np.uint16), kind="stable")
    high = (codes >> 16).astype(np.uint8)[order]
    return order[np.argsort(high, kind="stable")]


def distinct_codes(codes: NDArray[np.uint32]) -> tuple[NDArray[np.uint32], NDArray[np.intp]]:
    """Distinct 24-bit ``codes`` in increasing order and how often each occurs."""
    ordered = codes[_order_24(codes)]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return ordered[starts], np.diff(np.append(starts, ordered.size))


def _radix_order(codes: NDArray, n_bits: int) -> NDArray[np.signedinteger]:
    """Stable order that sorts ``codes`` (of at most ``n_bits`` bits), 16 bits at a time.

    Least significant digit first, each pass a stable sort of 16-bit keys,
    which NumPy does by radix in linear time. The digits are read as a
    little-endian uint16 view of the codes, so each pass gathers 2-byte
    digits rather than shifting gathered codes.
    """
    little = np.ascontiguousarray(codes, dtype=codes.dtype.newbyteorder("<"))
    digits = little.view("<u2").reshape(codes.size, -1)
    # int32 positions halve the bytes each later pass gathers.
    order = np.argsort(digits[:, 0], kind="stable").astype(_index_dtype(codes.size))
    for j in range(1, -(-n_bits // 16)):
        digit = np.ascontiguousarray(digits[:, j])
        order = order[np.argsort(digit[order], kind="stable")]
    return order


def _index_dtype(n: int) -> type[np.signedinteger]:
    return np.int32 if n < 2**31 else np.intp


def _sorted_table(codes: NDArray, n_bits: int) -> tuple[NDArray, NDArray, NDArray]:
    """Distinct ``codes`` in increasing order, their counts, and each code's index among them."""
    order = _radix_order(codes, n_bits)
    ordered = codes[order]
    new = np.empty(ordered.size, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    index_dtype = _index_dtype(starts.size)
    inverse = np.empty(codes.size, dtype=index_dtype)
    run = np.cumsum(new, dtype=index_dtype)
    run -= 1
    inverse[order] = run
    return np.compress(new, ordered), np.diff(starts, append=ordered.size), inverse


def color_table(pixels: NDArray) -> ColorTable:
    """Count the distinct colours of ``pixels``, shape ``(n, c)``.

    Parameters
    ----------
    pixels : ndarray, shape (n_pixels, n_channels)
        Pixel values, already validated (any numeric dtype, ``n_pixels >= 1``).

    Returns
    -------
    ColorTable
        Distinct colours, their counts, and the map back to pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant.color_table import color_table
    >>> t = color_table(np.array([[9, 0, 0], [1, 2, 3], [9, 0, 0]], dtype=np.uint8))
    >>> t.colors
    array([[1, 2, 3],
           [9, 0, 0]], dtype=uint8)
    >>> t.counts
    array([1, 2])
    >>> t.expand(np.array([10, 20]))
    array([20, 10, 20])
    """
    n, c = pixels.shape
    if pixels.dtype == np.uint8 and c in (1, 3):
        if n >= _DENSE_MIN_PIXELS or c == 1:
            return _dense_table(pixels)
        color_codes, counts = distinct_codes(pack_colors(pixels))
        colors = unpack_colors(color_codes, np.dtype(np.uint8), c)
        return ColorTable(colors, counts.astype(np.int64), pixels, color_codes, None, None)
    if pixels.dtype == np.uint16 and c <= 3:
        # Packed 16c-bit codes, sorted by radix: linear in the pixels.
        color_codes, counts, inverse = _sorted_table(pack_colors(pixels), 16 * c)
        colors = unpack_colors(color_codes, np.dtype(np.uint16), c)
        return ColorTable(colors, counts.astype(np.int64), None, None, None, inverse)
    colors, inverse, counts = np.unique(pixels, axis=0, return_inverse=True, return_counts=True)
    return ColorTable(colors, counts.astype(np.int64), None, None, None, inverse.reshape(-1))


def _dense_table(pixels: NDArray) -> ColorTable:
    """The table of 8-bit ``pixels`` counted in one array over all codes.

    The count array (uint32, or uint64 from 2**32 pixels on) is filled block
    by block, so no code is kept per pixel, and is then overwritten with
    each occupied code's colour index: the same memory becomes the lookup
    table that :meth:`ColorTable.expand` reads.
    """
    n, c = pixels.shape
    dtype = np.uint32 if n < 2**32 else np.uint64
    lut = np.zeros(_code_space(c), dtype=dtype)
    one = dtype(1)
    for start in range(0, n, _BLOCK):
        np.add.at(lut, pack_colors(pixels[start : start + _BLOCK]), one)
    color_codes = np.flatnonzero(lut).astype(np.uint32)
    counts = lut[color_codes].astype(np.int64)
    lut[color_codes] = np.arange(color_codes.size, dtype=dtype)
    colors = unpack_colors(color_codes, np.dtype(np.uint8), c)
    return ColorTable(colors, counts, pixels, None, lut, None)


def merge_codes(codes: Sequence[NDArray], counts: Sequence[NDArray]) -> tuple[NDArray, NDArray]:
    """Distinct codes in increasing order, with the counts of equal codes added.

    Integer counts add up as int64, float weights as float64.

    ``codes[i]`` and ``counts[i]`` are one table (of any order, with
    repeats). One stable sort of all the codes does the work: NumPy sorts
    32- and 64-bit integers stably with timsort, which on sorted tables
    merges runs, linear for two of them.

    Examples
    --------
    >>> import numpy as np
    >>> merge_codes([np.array([3, 9], np.uint32), np.array([9, 4], np.uint32)],
    ...             [np.array([1, 2]), np.array([5, 1])])
    (array([3, 4, 9], dtype=uint32), array([1, 1, 7]))
    """
    all_codes = np.concatenate(codes)
    all_counts = np.concatenate(counts)
    wide = np.float64 if all_counts.dtype.kind == "f" else np.int64
    all_counts = all_counts.astype(wide, copy=False)
    if all_codes.size == 0:
        return all_codes, all_counts
    order = np.argsort(all_codes, kind="stable")
    all_codes, all_counts = all_codes[order], all_counts[order]
    starts = np.flatnonzero(np.concatenate(([True], all_codes[1:] != all_codes[:-1])))
    return all_codes[starts], np.add.reduceat(all_counts, starts)


def merge_tables(tables: Sequence[tuple[NDArray, NDArray]]) -> tuple[NDArray, NDArray]:
    """Distinct colours and summed counts of several ``(colors, counts)`` tables.

    The histogram of a set of images is the sum of their histograms, so a
    palette fitted to the merged table is the K-Means palette of all their
    pixels taken together. The colours come out in lexicographic order.
    uint8 and uint16 colours of up to four channels are merged as packed
    codes (:func:`merge_codes`); other dtypes by ``numpy.unique``. Integer
    counts sum to int64; float weights (an importance summed per colour)
    stay float64.

    Parameters
    ----------
    tables : sequence of (colors, counts)
        At least one; ``colors`` of shape ``(m_i, c)``, all of one dtype and
        ``c``, in any order and possibly repeated; ``counts`` of shape
        ``(m_i,)``, whole numbers, or float weights.

    Returns
    -------
    colors : ndarray, shape (m, c)
    counts : ndarray of int64 (float64 for float weights), shape (m,)

    Raises
    ------
    ValueError
        No tables, or tables of different dtypes or channel counts.

    Examples
    --------
    >>> import numpy as np
    >>> a = color_table(np.array([[1, 1, 1], [2, 2, 2]], dtype=np.uint8))
    >>> b = color_table(np.array([[2, 2, 2], [2, 2, 2]], dtype=np.uint8))
    >>> colors, counts = merge_tables([(a.colors, a.counts), (b.colors, b.counts)])
    >>> colors.tolist(), counts.tolist()
    ([[1, 1, 1], [2, 2, 2]], [1, 3])
    """
    if not tables:
        raise ValueError("merge_tables needs at least one table, got none")
    first = tables[0][0]
    for i, (colors, _) in enumerate(tables):
        if colors.dtype != first.dtype or colors.shape[1:] != first.shape[1:]:
            raise ValueError(
                "tables must share dtype and channels to merge: tables[0] has "
                f"{first.dtype} colours of shape {first.shape}, tables[{i}] "
                f"{colors.dtype} of shape {colors.shape}"
            )
    if first.dtype in CODE_LAYOUT and first.shape[1] <= 4:
        codes, counts = merge_codes(
            [pack_colors(colors) for colors, _ in tables],
            [n if n.dtype.kind == "f" else np.rint(n).astype(np.int64) for _, n in tables],
        )
        return unpack_colors(codes, first.dtype, first.shape[1]), counts
    colors = np.concatenate([c for c, _ in tables])
    weights = np.concatenate([n for _, n in tables])
    merged, inverse = np.unique(colors, axis=0, return_inverse=True)
    summed = np.bincount(inverse.reshape(-1), weights=weights, minlength=merged.shape[0])
    if weights.dtype.kind == "f":
        return merged, summed
    return merged, np.rint(summed).astype(np.int64)


# --------------------------------------------------------------------------
# grids of cells
# --------------------------------------------------------------------------


def grid_cells(digits: list[NDArray], levels: int) -> tuple[NDArray[np.int32], NDArray[np.intp]]:
    """Number the occupied cells of a grid and give each point its cell.

    ``digits`` holds, per channel, each point's cell coordinate in
    ``[0, levels)``; a cell's code reads the coordinates as base-``levels``
    digits, first channel most significant. Codes are below
    ``levels ** c <= 2**24``, so occupied cells are found with a flag array
    rather than a sort.

    Returns
    -------
    index : ndarray of int32, shape (n,)
        Each point's cell, occupied cells numbered in increasing code order.
    cells : ndarray of intp, shape (n_cells,)
        The codes of the occupied cells, increasing.

    Examples
    --------
    >>> import numpy as np
    >>> grid_cells([np.array([1, 0, 1]), np.array([2, 2, 2])], 4)
    (array([1, 0, 1], dtype=int32), array([2, 6]))
    """
    codes = digits[0].astype(np.int32)
    for d in digits[1:]:
        codes *= levels
        codes += d
    n_codes = levels ** len(digits)
    seen = np.zeros(n_codes, dtype=bool)
    seen[codes] = True
    cells = np.flatnonzero(seen)
    lut = np.empty(n_codes, dtype=np.int32)
    lut[cells] = np.arange(cells.size, dtype=np.int32)
    return lut[codes], cells


def pool(X: NDArray, w: NDArray, index: NDArray, n_cells: int) -> tuple[NDArray, NDArray]:
    r"""Weighted mean and total weight of the points in each cell.

    .. math:: \bar x_g = \frac{\sum_{i \in g} w_i x_i}{\sum_{i \in g} w_i}

    The products :math:`w_i x_i` are formed in the inputs' dtypes, the sums
    in float64. Every cell must hold positive weight.

    Returns
    -------
    means : ndarray of float64, shape (n_cells, c)
    weights : ndarray of float64, shape (n_cells,)
    """
    weights = np.bincount(index, weights=w, minlength=n_cells)
    sums = np.stack(
        [np.bincount(index, weights=w * X[:, j], minlength=n_cells) for j in range(X.shape[1])],
        axis=1,
    )
    return sums / weights[:, None], weights


def pool_on_grid(X: NDArray, w: NDArray, bits: int) -> tuple[NDArray, NDArray]:
    """Pool points in 0-255 units on a grid of ``2**bits`` cells per channel.

    Cells are ``2**(8 - bits)`` units wide (values outside [0, 255] go to the
    edge cells) and come in increasing code order. Means and weights are
    returned in ``X``'s dtype.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0, 0.0], [2.0, 2.0, 2.0], [200.0, 0.0, 0.0]])
    >>> means, weights = pool_on_grid(X, np.array([1.0, 3.0, 1.0]), 5)
    >>> means, weights
    (array([[  1.5,   1.5,   1.5],
           [200. ,   0. ,   0. ]]), array([4., 1.]))
    """
    digits = [np.clip(X[:, j], 0, 255).astype(np.int32) >> (8 - bits) for j in range(X.shape[1])]
    index, cells = grid_cells(digits, 1 << bits)
    del digits
    means, weights = pool(X, w, index=index, n_cells=cells.size)
    return means.astype(X.dtype), weights.astype(X.dtype)
