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
computes in a loop). It is found fast by screening: one matrix product
estimates every distance in float64 as
:math:`E_j = \lVert p_j\rVert^2 - 2\,x\cdot p_j + \lVert x\rVert^2`,
within :math:`\delta = 32\,\epsilon_{64}(\lVert x\rVert^2 + \max_j
\lVert p_j\rVert^2)` of the true :math:`T_j`, while :math:`D_j` is within
:math:`5\epsilon T_j` of it (:math:`\epsilon` the unit roundoff of the
colours' dtype). When the :math:`(m+1)`-th smallest estimate exceeds the
:math:`m`-th by more than :math:`8\epsilon(E_{(m)} + E_{(m+1)}) + 4\delta`,
every colour in the estimated set has a smaller :math:`D` than every colour
outside it, so the set is exact; the other rows (near-ties) are computed
exactly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..engine._steps import BLAS_ONE_THREAD

__all__ = ["CANDIDATES", "nearest_sets"]

#: Palette colours a pixel may take under error diffusion: the ones nearest
#: to its own colour. Four is the most that mix to a point inside a
#: tetrahedron of palette colours; docs/benchmarks.md ("What the eye sees")
#: has the measurements behind the choice.
CANDIDATES = 4


def _exact_sets(colors: NDArray, palette: NDArray, m: int) -> NDArray[np.intp]:
    """The ``m`` nearest palette rows of every colour by channel-order sums."""
    dist = np.zeros((colors.shape[0], palette.shape[0]), dtype=colors.dtype)
    for ch in range(colors.shape[1]):
        diff = colors[:, ch, None] - palette[None, :, ch]
        dist += diff * diff
    rows = np.arange(colors.shape[0])
    picked = np.empty((colors.shape[0], m), dtype=np.intp)
    for i in range(m):  # argmin takes the first minimum: ties to the lowest index
        j = dist.argmin(axis=1)
        picked[:, i] = j
        dist[rows, j] = np.inf
    return picked


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
    p64 = palette.astype(np.float64)
    coef = np.vstack([-2.0 * p64.T, np.einsum("ij,ij->i", p64, p64)[None]])
    rel = 8 * float(np.finfo(colors.dtype).eps)
    absolute = 4 * 32 * float(np.finfo(np.float64).eps)
    pal_sq = float(coef[c].max())
    out = np.empty((g, m), dtype=np.intp)
    # Blocks of colours small enough for OpenBLAS to keep each product on
    # the calling thread; the buffers are reused from block to block.
    block = max(1, BLAS_ONE_THREAD // (k * (c + 1)))
    xa = np.ones((min(block, g), c + 1))  # [x, 1]
    est = np.empty((min(block, g), k))
    picked = np.empty((min(block, g), m + 1), dtype=np.intp)
    vals = np.empty((min(block, g), m + 1))
    all_rows = np.arange(min(block, g))
    for lo in range(0, g, block):
        n = min(block, g - lo)
        x, rows = xa[:n], all_rows[:n]
        x[:, :c] = colors[lo : lo + n]
        e = np.matmul(x, coef, out=est[:n])  # E_j - ||x||^2
        x_sq = np.einsum("ij,ij->i", x[:, :c], x[:, :c])
        # The m + 1 smallest estimates by repeated arg-mins (each a fast
        # contiguous pass; a partition of the row costs more for m = 4).
        for i in range(m + 1):
            j = e.argmin(axis=1)
            picked[:n, i] = j
            vals[:n, i] = e[rows, j]
            e[rows, j] = np.inf
        e_m, e_next = vals[:n, m - 1] + x_sq, vals[:n, m] + x_sq
        slack = rel * (e_m + e_next) + absolute * (x_sq + pal_sq)
        sets = picked[:n, :m].copy()
        unsure = np.flatnonzero(e_next - e_m <= slack)
        if unsure.size:
            sets[unsure] = _exact_sets(colors[lo + unsure], palette, m)
        sets.sort(axis=1)
        out[lo : lo + n] = sets
    return out
