r"""The few palette colours each colour may be dithered with.

Error diffusion chooses, for every pixel, among the :math:`m` palette
colours nearest to the pixel's own colour (its *candidates*), not among the
whole palette. Mixing those can reproduce any colour near the source, while
an error that has grown large can no longer pull in a far colour: that far
colour is what shows as a speckle (a near-white dot on a blue sky).

:func:`nearest_sets` finds the candidate set of every distinct colour. The
set is defined by exact arithmetic: the squared distance
:math:`D_j = (x_0 - p_{j0})^2 + (x_1 - p_{j1})^2 + \dots`, summed in channel
order in the colours' dtype, and the :math:`m` smallest :math:`D_j`, ties
to the lowest index (the set :func:`kmeans_quant.naive.floyd_steinberg`
computes in a loop). It is found cell by cell: a bound per cell of a grid
over the colours leaves each colour a short list of palette colours to
measure exactly (:func:`_cell_sets`), so the work per colour hardly grows
with the palette.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["CANDIDATES", "nearest_sets"]

#: Palette colours a pixel may take under error diffusion: the ones nearest
#: to its own colour. Four is the most that mix to a point inside a
#: tetrahedron of palette colours; docs/benchmarks.md ("What the eye sees")
#: has the measurements behind the choice.
CANDIDATES = 4
# Cells per channel of the grid of :func:`_cell_sets`, and colours per block of its search.
_CELL_LEVELS = 32
_CELL_BLOCK = 1 << 15
# Elements of one (cells, palette) block of the cells' bounds.
_BOUND_ELEMENTS = 1 << 18


def nearest_sets(colors: NDArray, palette: NDArray, m: int = CANDIDATES) -> NDArray[np.intp]:
    r"""Indices of the ``m`` palette colours nearest to every colour, ascending.

    No input validation: the image pipeline calls it with clean arrays.

    Parameters
    ----------
    colors : ndarray of float32 or float64, shape (g, c)
        Distinct colours.
    palette : ndarray, shape (k, c)
        Palette colours, in ``colors``' dtype.
    m : int, default CANDIDATES
        Set size; a palette of at most ``m`` colours gives every colour the
        whole palette.

    Returns
    -------
    ndarray of intp, shape (g, min(m, k))
        Row ``i`` holds the indices of the ``m`` palette colours nearest to
        ``colors[i]`` (squared distances summed in channel order, ties to the
        lowest index), sorted by index.

    Examples
    --------
    >>> import numpy as np
    >>> pal = np.array([[0.0], [10.0], [20.0], [30.0], [40.0]], dtype=np.float32)
    >>> nearest_sets(np.array([[12.0], [40.0]], dtype=np.float32), pal, 2)
    array([[1, 2],
           [3, 4]])
    """
    g, c = colors.shape
    k = palette.shape[0]
    if k <= m:
        return np.broadcast_to(np.arange(k), (g, k)).copy()
    return _cell_sets(colors, palette, m)


def _cell_sets(colors: NDArray, palette: NDArray, m: int) -> NDArray[np.intp]:
    r""":func:`nearest_sets` of many palette colours, cell by cell.

    The colours are grouped into the cells of a grid over their box. For a
    cell whose colours span the box :math:`[a, b]`, every palette colour
    :math:`q` is at least :math:`\underline d(q) = \lVert \max(a - q, 0,
    q - b)\rVert^2` and at most :math:`\overline d(q) = \sum_i \max((q_i -
    a_i)^2, (q_i - b_i)^2)` from each of them. With :math:`T` the
    :math:`m`-th smallest :math:`\overline d`, every colour of the cell has
    :math:`m` palette colours within :math:`T`, so a palette colour with
    :math:`\underline d(q) > T` (beyond a margin for rounding) is in no
    colour's set. The others form the cell's list, in ascending index
    order, and each colour's set is found among its cell's list by exact
    channel-order sums (ties to the lowest index): the sets
    :func:`nearest_sets` defines.
    """
    g, c = colors.shape
    k = palette.shape[0]
    lo, hi = colors.min(axis=0), colors.max(axis=0)
    width = np.maximum((hi - lo) / _CELL_LEVELS, np.finfo(np.float32).tiny)
    digits = np.minimum(((colors - lo) / width).astype(np.int64), _CELL_LEVELS - 1)
    cell = digits[:, 0]
    for ch in range(1, c):
        cell = cell * _CELL_LEVELS + digits[:, ch]
    order = np.argsort(cell, kind="stable")
    cell_sorted = cell[order]
    starts = np.flatnonzero(np.concatenate(([True], cell_sorted[1:] != cell_sorted[:-1])))
    members = colors[order].astype(np.float64)
    a = np.minimum.reduceat(members, starts, axis=0)  # (cells, c): the box of each cell
    b = np.maximum.reduceat(members, starts, axis=0)
    p64 = palette.astype(np.float64)
    # Rounding of the exact sums (in the colours' dtype) and of these bounds.
    eps = 8 * float(np.finfo(colors.dtype).eps)
    keep = np.empty((starts.size, k), dtype=bool)
    step = max(1, _BOUND_ELEMENTS // (k * c))
    for c0 in range(0, starts.size, step):
        box = slice(c0, c0 + step)
        d_min = np.zeros((a[box].shape[0], k))
        d_max = np.zeros_like(d_min)
        for ch in range(c):
            to_a = p64[None, :, ch] - a[box, ch, None]  # >= 0 where q is above a
            to_b = p64[None, :, ch] - b[box, ch, None]  # <= 0 where q is below b
            gap = np.maximum(-to_a, 0) + np.maximum(to_b, 0)
            d_min += gap * gap
            d_max += np.maximum(to_a * to_a, to_b * to_b)
        bound = np.partition(d_max, m - 1, axis=1)[:, m - 1 : m]
        keep[box] = d_min <= bound * (1 + eps) + eps
    lengths = keep.sum(axis=1)
    # The palette plus a row far from every colour (its squared distance
    # stays finite in float32): the padding, never among the m nearest.
    far = np.full((1, c), 1e18, dtype=colors.dtype)
    pad_pal = np.concatenate([palette.astype(colors.dtype), far])
    cell_of = np.repeat(np.arange(starts.size), np.diff(np.append(starts, g)))
    out = np.empty((g, m), dtype=np.intp)
    for s0 in range(0, g, _CELL_BLOCK):
        s1 = min(g, s0 + _CELL_BLOCK)
        cells = cell_of[s0:s1]
        first, last = cells[0], cells[-1] + 1
        width_l = int(lengths[first:last].max())
        # Each cell's kept palette colours, in ascending order, padded with k.
        lists = np.full((last - first, width_l), k, dtype=np.intp)
        row, col = np.nonzero(keep[first:last])
        starts_of_row = np.concatenate(([0], np.cumsum(lengths[first:last])[:-1]))
        lists[row, np.arange(row.size) - starts_of_row[row]] = col
        cand = lists[cells - first]  # (n, L) palette indices
        x = colors[order[s0:s1]]
        dist = np.zeros(cand.shape, dtype=colors.dtype)
        for ch in range(c):
            diff = x[:, ch, None] - pad_pal[cand, ch]
            dist += diff * diff
        rows = np.arange(s1 - s0)
        picked = np.empty((s1 - s0, m), dtype=np.intp)
        for i in range(m):  # argmin takes the first minimum: ties to the lowest index
            j = dist.argmin(axis=1)
            picked[:, i] = cand[rows, j]
            dist[rows, j] = np.inf
        out[order[s0:s1]] = np.sort(picked, axis=1)
    return out
