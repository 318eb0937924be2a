r"""Ordered dithering with Knoll's mixing plans on a Bayer matrix.

Every distinct colour :math:`g` gets a *mixing plan*, :math:`N = n^2`
palette colours whose mean approximates :math:`g`, built by error diffusion
along the plan (:func:`mixing_plans`) and sorted by brightness; the pixel at
:math:`(y, x)` takes plan entry :math:`B_n[y \bmod n, x \bmod n]` of its
colour, with :math:`B_n` the Bayer matrix (:func:`bayer_matrix`). A flat
area thus shows its whole plan in every :math:`n \times n` tile. Plans are
made once per distinct colour, all colours advancing together; above
:func:`goal_budget` distinct colours (a number proportional to the pixels
over the cost of a plan step), colours are pooled on a grid first
(:func:`plan_goals`). A plan mixes only the colour's candidates, the
palette colours nearest to it (:func:`~kmeans_quant.dither._candidates.nearest_sets`),
and its error fades (:data:`~kmeans_quant.dither._error_diffusion.CARRY`), so
the pattern's contrast follows the palette's spacing where the colour is:
a plan never reaches for a far colour. How the plan length and the other
choices were made is in ``docs/internals.md``.

References
----------
J. Yliluoma, "Arbitrary-palette positional dithering algorithm",
https://bisqwit.iki.fi/story/howto/dither/jy/ (Knoll's algorithm).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..color_table import grid_cells, pool
from ._candidates import CANDIDATES, nearest_sets
from ._error_diffusion import CARRY

__all__ = [
    "bayer_matrix",
    "goal_budget",
    "plan_goals",
    "mixing_plans",
    "ordered",
    "MAX_GOALS",
    "MIN_GOALS",
]

#: Most mixing plans made for one image; more distinct colours are pooled.
MAX_GOALS = 1 << 17
#: Fewest mixing plans the pixel budget of :func:`goal_budget` goes down to.
MIN_GOALS = 1 << 14
# Goals per block of the plan steps: a block's (goals, candidates) scratch
# stays in cache.
_PLAN_BLOCK = 1 << 13
# Pixels per band when reading labels out of the plans.
_LABEL_BAND = 1 << 20


def bayer_matrix(size: int) -> NDArray[np.intp]:
    r"""The ``size`` x ``size`` Bayer index matrix, ``size`` a power of two.

    Built by the recursion :math:`B_{2n} = \begin{bmatrix} 4B_n & 4B_n + 2 \\
    4B_n + 3 & 4B_n + 1\end{bmatrix}` from :math:`B_1 = [0]`; it holds each
    of :math:`0, \dots, n^2 - 1` once, and any two consecutive values are as
    far apart in the tile as possible.

    Examples
    --------
    >>> from kmeans_quant.dither._ordered import bayer_matrix
    >>> bayer_matrix(4)
    array([[ 0,  8,  2, 10],
           [12,  4, 14,  6],
           [ 3, 11,  1,  9],
           [15,  7, 13,  5]])
    """
    b = np.zeros((1, 1), dtype=np.intp)
    while b.shape[0] < size:
        b = np.block([[4 * b, 4 * b + 2], [4 * b + 3, 4 * b + 1]])
    return b


def _as_uint8(colors: NDArray) -> NDArray[np.uint8] | None:
    """The colours as uint8 if every value is a whole number in 0-255, else None."""
    if colors.min() < 0 or colors.max() > 255:
        return None
    u8 = colors.astype(np.uint8)
    return u8 if np.array_equal(u8, colors) else None


def goal_budget(pixels: int, n_colors: int, max_goals: int = MAX_GOALS) -> int:
    r"""How many mixing plans to make for ``pixels`` pixels and a palette of ``n_colors``.

    A plan step costs about :math:`48 + m'` units, with :math:`m' = \min(m,
    4)` the colour's candidates among a palette of :math:`m` colours.
    Making plans for

    .. math:: \min\Bigl(\texttt{max\_goals},\ \max\bigl(2^{14},\
              \Bigl\lfloor \frac{P}{48 + m'} \Bigr\rfloor\bigr)\Bigr)

    goals keeps their cost a fraction of nearest-colour mapping's for the
    :math:`P` pixels; small images keep up to :math:`2^{14}` plans.

    Examples
    --------
    >>> from kmeans_quant.dither._ordered import goal_budget
    >>> goal_budget(12_000_000, 16), goal_budget(4_000_000, 256), goal_budget(1000, 16)
    (131072, 76923, 16384)
    """
    step_cost = 48 + min(n_colors, CANDIDATES)
    return min(max_goals, max(MIN_GOALS, pixels // step_cost))


def plan_goals(
    colors: NDArray, counts: NDArray, max_goals: int
) -> tuple[NDArray[np.float64], NDArray | None]:
    r"""The colours to make mixing plans for, and each distinct colour's one.

    The distinct colours themselves when there are at most ``max_goals`` of
    them (the second result is then None). Otherwise colours are pooled on
    a grid of step :math:`q u` per channel, with :math:`u` = 1 for 8-bit
    values and 1/255 of the value range otherwise, and :math:`q` the
    smallest integer (found in a step or two) that leaves at most
    ``max_goals`` occupied cells; each cell's goal is the mean colour of
    its pixels (colours weighted by ``counts``), so over all pixels the
    goals keep the image's mean.

    Parameters
    ----------
    colors : ndarray, shape (g, c)
        Distinct colours.
    counts : ndarray, shape (g,)
        Pixels of each.
    max_goals : int
        Most goals to return.

    Returns
    -------
    goals : ndarray of float64, shape (n_goals, c)
    goal_of_color : ndarray of int, shape (g,), or None
        Index into ``goals`` of every distinct colour; None when the goals
        are the colours.
    """
    g, c = colors.shape
    if g <= max_goals:
        return colors.astype(np.float64), None
    # Column by column: a contiguous pass each, where an axis-0 reduction
    # of a (g, c) array walks c values at a time.
    lo = np.array([colors[:, ch].min() for ch in range(c)])
    hi = np.array([colors[:, ch].max() for ch in range(c)])
    u8 = _as_uint8(colors)
    span = float((hi - lo).max())
    unit = 1.0 if u8 is not None or span == 0 else span / 255
    # Occupied cells fall roughly as 1/q**2 on photos: that gives the first
    # guess from the colour count, and the next from the cell count.
    q = int(np.ceil(np.sqrt(g / max_goals)))
    while True:
        step = q * unit
        levels = int(span // step) + 1
        if u8 is not None:  # whole-number steps: integer division is exact
            lo8 = lo.astype(np.uint8)
            digits = [(u8[:, ch] - lo8[ch]) // np.uint16(q) for ch in range(c)]
        else:
            digits = [
                np.minimum(((colors[:, ch] - lo[ch]) / step).astype(np.int32), levels - 1)
                for ch in range(c)
            ]
        index, cells = grid_cells(digits, levels)
        if cells.size <= max_goals:
            break
        q = max(q + 1, int(np.ceil(q * np.sqrt(cells.size / max_goals))))
    goals, _ = pool(colors.astype(np.float64), counts, index, cells.size)
    return goals, index


def mixing_plans(goals: NDArray, palette: NDArray, n_plan: int) -> NDArray:
    r"""Knoll's mixing plan of ``n_plan`` palette colours for each goal, among its candidates.

    For a goal :math:`g` with candidates :math:`C(g)` (the
    :data:`~kmeans_quant.dither._candidates.CANDIDATES` palette colours
    nearest to it) and accumulated error :math:`\epsilon_0 = 0`,

    .. math:: j_i = \arg\min_{j \in C(g)} \lVert g + \epsilon_i - p_j \rVert^2, \qquad
              \epsilon_{i+1} = \gamma\,\epsilon_i + g - p_{j_i},
              \qquad i = 0, \dots, N - 1,

    with :math:`\gamma` = :data:`~kmeans_quant.dither._error_diffusion.CARRY`:
    error diffusion along the plan. For a goal among its candidates the
    plan's mean approaches :math:`g`; for a goal no mix of its candidates
    reaches, :math:`\gamma < 1` keeps the error bounded, and the plan stays
    with the colours around the goal instead of reaching for the far side
    of the palette, which would show as a high-contrast pattern. Plans are
    sorted by palette colour brightness (sum of channels, ties by index),
    as Knoll does, so that a Bayer matrix spreads each colour of the plan
    evenly over the tile.

    All goals advance together, one step at a time; the squared distances
    to the candidates are summed in channel order, ties to the lowest index.

    Parameters
    ----------
    goals : ndarray, shape (g, c)
        Colours to make plans for.
    palette : ndarray, shape (m, c)
        The palette.
    n_plan : int
        Plan length :math:`N`.

    Returns
    -------
    ndarray of unsigned int, shape (g, n_plan)
        Palette indices of each plan, in brightness order.

    Examples
    --------
    A grey of 100 between black and 200 is half each; 50 is a quarter
    200 and three quarters black:

    >>> import numpy as np
    >>> from kmeans_quant.dither._ordered import mixing_plans
    >>> pal = np.array([[0.0], [200.0]])
    >>> mixing_plans(np.array([[100.0], [50.0]]), pal, 8)
    array([[0, 0, 0, 0, 1, 1, 1, 1],
           [0, 0, 0, 0, 0, 0, 1, 1]], dtype=uint8)
    """
    pal = np.asarray(palette, dtype=np.float64)
    return _by_brightness(_knoll_steps(np.asarray(goals, dtype=np.float64), pal, n_plan), pal)


def _by_brightness(plans: NDArray, pal: NDArray) -> NDArray:
    """Plans ``(n_plan, g)`` as rows ``(g, n_plan)`` sorted by palette brightness."""
    m = pal.shape[0]
    order = np.argsort(pal.sum(axis=1), kind="stable")
    rank = np.empty(m, dtype=plans.dtype)
    rank[order] = np.arange(m)
    # A stable sort of small integers is a radix sort: linear in the entries.
    return order.astype(plans.dtype)[np.sort(rank[plans.T], axis=1, kind="stable")]


def _knoll_steps(g: NDArray, pal: NDArray, n_plan: int) -> NDArray:
    """Unsorted plans, shape ``(n_plan, g)``, each step a choice among the goal's candidates."""
    n, c = g.shape
    sets = nearest_sets(g, pal)  # (n, m') indices, ascending
    m = sets.shape[1]
    plans = np.empty((n_plan, n), dtype=np.min_scalar_type(pal.shape[0] - 1))
    pal_t = np.ascontiguousarray(pal.T)
    rows = np.arange(n)
    for s0 in range(0, n, _PLAN_BLOCK):
        s1 = min(n, s0 + _PLAN_BLOCK)
        block = sets[s0:s1]
        cand = np.take(pal_t, block, axis=1)  # (c, b, m'): channel-first
        goal = np.ascontiguousarray(g[s0:s1].T)  # (c, b)
        err = np.zeros_like(goal)
        dist = np.empty((s1 - s0, m))
        diff = np.empty((s1 - s0, m))
        for i in range(n_plan):
            target = goal + err
            for ch in range(c):
                np.subtract(target[ch, :, None], cand[ch], out=diff)
                if ch == 0:
                    np.multiply(diff, diff, out=dist)
                else:
                    dist += np.multiply(diff, diff, out=diff)
            j = block[rows[: s1 - s0], dist.argmin(axis=1)]  # first minimum: lowest index
            plans[i, s0:s1] = j
            err *= CARRY
            err += goal
            err -= np.take(pal_t, j, axis=1)
    return plans


def ordered(
    colors: NDArray,
    counts: NDArray,
    inverse: NDArray,
    palette: NDArray,
    shape: tuple[int, int],
    *,
    size: int = 8,
    max_goals: int = MAX_GOALS,
) -> NDArray[np.unsignedinteger]:
    r"""Ordered dithering onto a palette with Knoll's mixing plans.

    Each colour :math:`g` gets a plan of :math:`N = n^2` palette colours
    whose mean approximates it (:func:`mixing_plans`); the pixel at
    :math:`(y, x)` takes entry :math:`B_n[y \bmod n, x \bmod n]` of its
    colour's plan, :math:`B_n` the Bayer matrix (:func:`bayer_matrix`):

    .. math:: l_{yx} = \mathrm{plan}(x_{yx})\bigl[B_n[y \bmod n, x \bmod n]\bigr].

    Parameters
    ----------
    colors : ndarray, shape (g, c)
        The image's distinct colours, in the palette's units.
    counts : ndarray, shape (g,)
        Pixels of each colour.
    inverse : ndarray of int, shape (H * W,)
        Index into ``colors`` of every pixel, in raster order.
    palette : ndarray, shape (m, c)
        Palette colours.
    shape : (int, int)
        ``(H, W)``.
    size : int, default 8
        Side of the Bayer matrix, a power of two; plans have ``size**2``
        entries.
    max_goals : int, default MAX_GOALS
        Most plans to make; more distinct colours than
        :func:`goal_budget` allows are pooled on a grid.

    Returns
    -------
    labels : ndarray of uint8 (uint16 above 256 colours), shape (H, W)
        The palette entry each pixel shows.

    Examples
    --------
    Mid-grey onto black and white is half white, in a checkerboard for the
    2x2 matrix:

    >>> import numpy as np
    >>> from kmeans_quant.dither._ordered import ordered
    >>> grey = np.array([[128.0]])
    >>> ordered(grey, np.array([8]), np.zeros(8, int), np.array([[0.0], [255.0]]), (2, 4),
    ...         size=2)
    array([[0, 1, 0, 1],
           [1, 0, 1, 0]], dtype=uint8)
    """
    H, W = shape
    # Labels in the smallest unsigned type that holds them (one byte up to
    # 256 colours): a whole image of intp labels would be 8 bytes a pixel.
    labels = np.zeros((H, W), dtype=np.min_scalar_type(max(palette.shape[0] - 1, 0)))
    if palette.shape[0] == 1 or H * W == 0:
        return labels
    budget = goal_budget(H * W, palette.shape[0], max_goals)
    goals, goal_of_color = plan_goals(colors, counts, budget)
    bayer = bayer_matrix(size)
    n = bayer.shape[0]
    plans = mixing_plans(goals, palette, n * n).ravel()
    # Where each colour's plan starts in the flat plans.
    offset = np.int32 if plans.size < 2**31 else np.intp
    start = np.arange(goals.shape[0], dtype=offset) * offset(n * n)
    if goal_of_color is not None:
        start = start[goal_of_color]
    # Plan entry of every pixel of a band of whole tile rows: the Bayer
    # matrix tiled across the width, so every band starts in phase.
    rows = -(-max(1, _LABEL_BAND // W) // n) * n
    band_slot = np.tile(bayer.astype(offset), (rows // n, -(-W // n)))[:, :W].reshape(-1)
    flat_labels = labels.reshape(-1)
    for y0 in range(0, H, rows):
        y1 = min(H, y0 + rows)
        band = slice(y0 * W, y1 * W)
        entry = np.take(start, inverse[band])
        entry += band_slot[: (y1 - y0) * W]
        flat_labels[band] = np.take(plans, entry)
    return labels
