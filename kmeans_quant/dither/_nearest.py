r"""Exact nearest palette colour through candidate lists on a grid of cells.

Error diffusion looks up the nearest palette colour of every pixel's value,
and its labels must be exactly those of the full search (the oracle,
:func:`kmeans_quant.naive.floyd_steinberg`): the smallest distance
:math:`D_j = (v_0 - p_{j0})^2 + (v_1 - p_{j1})^2 + \dots`, added in channel
order in the values' dtype, ties to the lowest index. With many palette
colours most of them can never be nearest to a value in a small region, so
:class:`CandidateSearch` keeps, for every cubic cell of a grid over the
palette's box widened by half its width, the short list of colours that can
be, and computes :math:`D_j` for those alone.

Why the lists are exact. For a cell of centre :math:`q` and half-side
:math:`h`, every :math:`x` in it is :math:`q + e` with
:math:`\lVert e \rVert_\infty \le h`, and for two colours

.. math:: \lVert x - p_j \rVert^2 - \lVert x - p_m \rVert^2
          = T_j(q) - T_m(q) - 2 e \cdot (p_j - p_m)
          \ge T_j(q) - T_m(q) - 2 h \lVert p_j - p_m \rVert_1 ,

with :math:`T_j(q) = \lVert q - p_j \rVert^2`. When that lower bound
exceeds :math:`\gamma\,B`, with :math:`B` a bound on
:math:`T_j(x) + T_m(x)` over the cell and :math:`\gamma = 8\epsilon` for
the values' unit roundoff :math:`\epsilon` (each computed :math:`D` is
within :math:`5\epsilon T` of the true one), then :math:`D_j > D_m` for
every value in the cell, so :math:`j` is never the full search's answer
there and leaves the list. Every colour is tested against the four colours
nearest the cell's centre. Lists keep palette order and are padded with
their last entry, so the first minimum over a list is the lowest palette
index among the tied colours, as in the full search. A value off the grid
(whose clipped cell index lands in the outermost, guard layer) or in a cell
of a list longer than ``LIST_MAX`` is searched over the whole palette by
the fallback search.

Cells are filled the first time a value falls in them, so the cost of the
lists follows the region the values visit, not the grid's size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ..engine._steps import BLAS_ONE_THREAD, FirstMin

__all__ = ["CandidateSearch", "LIST_MAX", "GRID_CELLS"]

#: Longest candidate list; cells with more candidates use the full search.
LIST_MAX = 16
#: Cells of the grid, about.
GRID_CELLS = 1 << 17
# The grid covers the palette's box widened by this share of its widest side.
_MARGIN = 1.0
# Colours each candidate is tested against: the ones nearest the cell's centre.
_RIVALS = 4
# Candidates searched for every value at once; longer lists go on for the
# values that have them.
_SHORT = 6
# Searches for batches of this many values or more fill the cells over the
# palette's box up front; smaller ones fill each cell when first visited.
_PREFILL_FROM = 256


class CandidateSearch:
    r"""The labels of the full nearest-colour search, from candidate lists per cell.

    Calling it with ``values`` of shape (c, n), ``n <= n_max``, returns the
    index of the nearest palette colour of every column, ties to the lowest
    index, identical to the full search (this module's docstring says why).

    Parameters
    ----------
    pal : ndarray, shape (m, c)
        The palette, in the values' dtype.
    n_max : int
        Most values per call.
    fallback : callable
        The full search, called on the values the lists cannot settle.
    """

    def __init__(
        self, pal: NDArray, n_max: int, fallback: Callable[[NDArray], NDArray[np.intp]]
    ) -> None:
        m, c = pal.shape
        self.fallback = fallback
        self.pal_t = np.ascontiguousarray(pal.T)
        p64 = pal.astype(np.float64)
        self.p64 = p64
        self.p_sq = np.einsum("ij,ij->i", p64, p64)
        # Pairwise L1 distances of the palette, for the cells' bound.
        self.l1 = np.abs(p64[:, None, :] - p64[None, :, :]).sum(axis=2)
        self.gamma = 8 * float(np.finfo(pal.dtype).eps)
        lo, hi = p64.min(axis=0), p64.max(axis=0)
        widest = float((hi - lo).max())
        margin = max(_MARGIN * widest, 1.0)
        lo, hi = lo - margin, hi + margin
        volume = float(np.prod(hi - lo))
        side = (volume / GRID_CELLS) ** (1 / c)
        # The first and last layers of every channel are guard layers:
        # truncation sends values just below the grid to the first, and the
        # clipped index sends values off the grid to one or the other. Cell
        # i covers [lo + (i - 1) side, lo + i side).
        levels = np.floor((hi - lo) / side).astype(np.intp) + 3
        self.levels = tuple(int(v) for v in levels)
        self.side = side
        self.lo = lo
        # The cell index q = (v - lo) / side + 1 is rounded twice in the
        # values' dtype, so a value may lie this far outside its cell.
        q_max = float(np.abs(lo).max()) / side + float(levels.max()) + 2
        self.slop = 4 * float(np.finfo(pal.dtype).eps) * q_max * side
        self.scale = pal.dtype.type(1.0 / side)
        self.shift = (1.0 - lo / side).astype(pal.dtype)[:, None]
        n_cells = int(np.prod(levels))
        index_dtype = np.min_scalar_type(m - 1)
        self.lists = np.zeros((LIST_MAX, n_cells), dtype=index_dtype)
        self.lists_flat = self.lists.reshape(-1)
        # 0: not filled yet; -1: the full search; else the list's length.
        self.length = np.zeros(n_cells, dtype=np.int8)
        guard = np.zeros(levels, dtype=bool)
        for ch in range(c):
            guard[(slice(None),) * ch + (0,)] = True
            guard[(slice(None),) * ch + (-1,)] = True
        self.length[guard.reshape(-1)] = -1
        self.first_min = {L: FirstMin(L, n_max) for L in range(1, LIST_MAX + 1)}
        strides = np.cumprod((1,) + self.levels[:0:-1])[::-1]  # flat index step per channel
        steps = np.stack(np.meshgrid(*[[-1, 0, 1]] * c, indexing="ij")).reshape(c, -1)
        self.neighbours = strides @ steps
        self.n_cells = n_cells
        if n_max >= _PREFILL_FROM:
            # Gamut-mapped values lie in the palette's hull, hence in its box,
            # and most diffused values near them: fill those cells at once.
            box = [
                np.arange(max(1, int(a)), min(top - 1, int(b) + 1) + 1)
                for a, b, top in zip(
                    (p64.min(axis=0) - lo) / side,
                    (p64.max(axis=0) - lo) / side + 1,
                    levels,
                    strict=True,
                )
            ]
            grid = np.stack(np.meshgrid(*box, indexing="ij")).reshape(c, -1)
            self._fill(np.ravel_multi_index(grid, self.levels))
        self.q = np.empty((c, n_max), dtype=pal.dtype)
        self.cols = np.empty(c * LIST_MAX * n_max, dtype=pal.dtype)

    def _fill(self, cells: NDArray[np.intp]) -> None:
        r"""Candidate lists of the (distinct) ``cells``.

        A colour can be nearest somewhere in a cell only if
        :math:`\sqrt{T_j(q)} \le \sqrt{\min_m T_m(q)} + 2r`, with :math:`r`
        the cell's half-diagonal; the (cell, colour) pairs that pass this
        (widened by a thousandth) are then tested against the cell's rivals
        by the bound of this module's docstring.
        """
        c = self.p64.shape[1]
        ijk = np.stack(np.unravel_index(cells, self.levels), axis=1).astype(np.float64)
        centres = self.lo + (ijk - 0.5) * self.side
        # Half-side, widened for values the cell index rounds into the cell.
        h = 0.5 * self.side + self.slop
        r = h * np.sqrt(c)
        T = np.empty((cells.size, self.p64.shape[0]))
        step = max(1, BLAS_ONE_THREAD // (T.shape[1] * c))  # BLAS on one thread
        for lo in range(0, cells.size, step):
            np.matmul(centres[lo : lo + step], self.p64.T, out=T[lo : lo + step])
        T *= -2
        T += self.p_sq
        T += np.einsum("ij,ij->i", centres, centres)[:, None]
        np.maximum(T, 0, out=T)
        near = np.sqrt(T.min(axis=1))
        ball = ((near + 2 * r) * (1 + 1e-3) + 1e-3 * self.side) ** 2
        row, col = np.nonzero(T <= ball[:, None])  # by cell, colours in order
        rivals = np.argpartition(T, min(_RIVALS, T.shape[1]) - 1, axis=1)[:, :_RIVALS]
        t_pair = T[row, col]
        reach = (np.sqrt(t_pair) + r) ** 2  # T_j(x) <= reach over the cell
        keep = np.ones(row.size, dtype=bool)
        for a in range(rivals.shape[1]):
            m = rivals[row, a]
            t_m = T[row, m]
            gap = t_pair - t_m - 2 * h * self.l1[col, m]
            keep &= gap <= self.gamma * (reach + (np.sqrt(t_m) + r) ** 2) + 1e-9 * (t_pair + 1)
        row, col = row[keep], col[keep]
        count = np.bincount(row, minlength=cells.size)
        fits = count <= LIST_MAX
        self.length[cells] = np.where(fits, count, -1).astype(np.int8)
        # Slot of each kept pair in its cell's list, in palette order.
        slot = np.arange(row.size) - (np.cumsum(count) - count)[row]
        ok = fits[row]
        self.lists[slot[ok], cells[row[ok]]] = col[ok]
        # Pad every list with its last member.
        fitting, n_fit = cells[fits], count[fits]
        pad = np.minimum(np.arange(LIST_MAX)[:, None], n_fit[None, :] - 1)
        self.lists[:, fitting] = self.lists[pad, fitting[None, :]]

    def _around(self, cells: NDArray[np.intp]) -> NDArray[np.intp]:
        """The unfilled cells of the blocks of 3 x 3 x .. cells centred on ``cells``.

        Values wander from cell to neighbouring cell, so filling the
        neighbours with a new cell saves many later calls of :meth:`_fill`.
        New cells are never guard cells, so their neighbours are all cells.
        """
        block = np.unique((cells[:, None] + self.neighbours).reshape(-1))
        return block[np.take(self.length, block) == 0]

    def __call__(self, values: NDArray) -> NDArray[np.intp]:
        c, n = values.shape
        q = np.multiply(values, self.scale, out=self.q[:, :n])
        q += self.shift
        # Off the grid, the clipped index lands in a guard layer.
        index = np.ravel_multi_index(q.astype(np.intp), self.levels, mode="clip")
        length = np.take(self.length, index)
        if not length.all():
            new = index[length == 0]
            if new.size:
                self._fill(self._around(new))
                length = np.take(self.length, index)
        if length.min() > 0:
            return self._search(values, index, length)
        labels = np.empty(n, dtype=np.intp)
        fast = length > 0
        some = np.flatnonzero(fast)
        if some.size:
            labels[some] = self._search(
                np.ascontiguousarray(values[:, some]), index[some], length[some]
            )
        rest = np.flatnonzero(~fast)
        labels[rest] = self.fallback(np.ascontiguousarray(values[:, rest]))
        return labels

    def _search(
        self, values: NDArray, index: NDArray[np.intp], length: NDArray
    ) -> NDArray[np.intp]:
        """Nearest among the candidates of each value's cell (``length`` of them).

        Every value's first ``_SHORT`` candidates are searched together; the
        values with longer lists then search the rest, and a later candidate
        wins only if strictly nearer (lists are in palette order).
        """
        L = int(length.max())
        if L <= _SHORT:
            return self._first_of(values, index, 0, L)[0].astype(np.intp)
        labels, best = self._first_of(values, index, 0, _SHORT)
        long = np.flatnonzero(length > _SHORT)
        more, dist = self._first_of(
            np.ascontiguousarray(values[:, long]), index[long], _SHORT, int(length[long].max())
        )
        nearer = dist < best[long]
        labels[long[nearer]] = more[nearer]
        return labels.astype(np.intp)

    def _first_of(
        self, values: NDArray, index: NDArray[np.intp], start: int, stop: int
    ) -> tuple[NDArray[np.intp], NDArray]:
        """Nearest among candidates ``start .. stop - 1``, and its distance."""
        c, n = values.shape
        L = stop - start
        # Slot s of cell i is element s * n_cells + i of the flat lists.
        cand = np.take(self.lists[start:stop], index, axis=1)  # (L, n)
        cols = self.cols[: c * L * n].reshape(c, L, n)
        np.take(self.pal_t, cand, axis=1, out=cols)
        np.subtract(values[:, None, :], cols, out=cols)
        np.multiply(cols, cols, out=cols)
        dist = cols[0]
        for ch in range(1, c):
            dist += cols[ch]
        pos, best = self.first_min[L](dist)
        pos *= self.n_cells
        pos += index
        pos += start * self.n_cells
        return np.take(self.lists_flat, pos), best
