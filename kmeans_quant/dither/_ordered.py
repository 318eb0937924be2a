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
(:func:`plan_goals`). For palettes of :data:`GRID_MIN_COLORS` colours or
more, a plan step looks its colour up on a grid of cells
(:func:`grid_mixing_plans`) instead of searching the whole palette. How the
plan length and the other choices were made is in ``docs/internals.md``.

References
----------
J. Yliluoma, "Arbitrary-palette positional dithering algorithm",
https://bisqwit.iki.fi/story/howto/dither/jy/ (Knoll's algorithm).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..color_table import grid_cells, pool
from ..engine._steps import label_points

__all__ = [
    "bayer_matrix",
    "goal_budget",
    "plan_goals",
    "mixing_plans",
    "grid_mixing_plans",
    "ordered",
    "MAX_GOALS",
    "MIN_GOALS",
    "GRID_MIN_COLORS",
    "GRID_CELLS",
]

#: Most mixing plans made for one image; more distinct colours are pooled.
MAX_GOALS = 1 << 17
#: Fewest mixing plans the pixel budget of :func:`goal_budget` goes down to.
MIN_GOALS = 1 << 14
#: Palettes of at least this many colours make their plans on a grid of cells.
GRID_MIN_COLORS = 64
#: Cells of each grid of :func:`grid_mixing_plans` (within a row of cells per axis).
GRID_CELLS = 1 << 16
# How far the grids of grid_mixing_plans reach beyond the palette's box on
# every side, as shares of its widest extent: a fine grid near the palette,
# a coarse one for the targets of goals outside its hull, which run away.
_GRID_MARGINS = (0.1, 1.0)
# Pixels per band when reading labels out of the plans.
_LABEL_BAND = 1 << 20
# Goals per block of the grid plan steps.
_GRID_BLOCK = 1 << 14


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
    64)` for a palette of :math:`m` colours: a search of the whole palette
    below :data:`GRID_MIN_COLORS` colours, a grid look-up from there on.
    Making plans for

    .. math:: \min\Bigl(\texttt{max\_goals},\ \max\bigl(2^{14},\
              \Bigl\lfloor \frac{P}{48 + m'} \Bigr\rfloor\bigr)\Bigr)

    goals keeps their cost a fraction of nearest-colour mapping's for the
    :math:`P` pixels; small images keep up to :math:`2^{14}` plans.

    Examples
    --------
    >>> from kmeans_quant.dither._ordered import goal_budget
    >>> goal_budget(12_000_000, 16), goal_budget(12_000_000, 256), goal_budget(1000, 16)
    (131072, 107142, 16384)
    """
    step_cost = 48 + min(n_colors, GRID_MIN_COLORS)
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
    r"""Knoll's mixing plan of ``n_plan`` palette colours for every goal colour.

    For a goal :math:`g`, with accumulated error :math:`\epsilon_0 = 0`,

    .. math:: j_i = \arg\min_j \lVert g + \epsilon_i - p_j \rVert^2, \qquad
              \epsilon_{i+1} = \epsilon_i + g - p_{j_i},
              \qquad i = 0, \dots, N - 1,

    so :math:`\sum_i p_{j_i} = N g - \epsilon_N`: error diffusion along the
    plan, whose mean misses :math:`g` by :math:`\epsilon_N / N`. For a goal
    inside the palette's hull :math:`\epsilon` stays about a palette step,
    so the plan is within a step divided by :math:`N` of the goal. For a
    goal outside, :math:`\epsilon` grows along the direction the palette
    cannot follow and the plan leans on the colours farthest that way,
    which moves its mean from the nearest palette colour towards the
    goal's side of the hull. Plans are sorted by palette colour brightness
    (sum of channels, ties by index), as Knoll does, so that a Bayer matrix
    spreads each colour of the plan evenly over the tile.

    All goals advance together, one step at a time; the squared distance
    is computed as :math:`\lVert p_j\rVert^2 - 2\,t\cdot p_j` (the goal's
    own :math:`\lVert t\rVert^2` does not change the arg-min) by one matrix
    product with :math:`t` extended by a 1, exact for whole-number colours,
    and ties go to the lowest index.

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
    """Unsorted plans, shape ``(n_plan, g)``, each step a search of the whole palette."""
    n, c = g.shape
    m = pal.shape[0]
    # Distances (b, m) come out of one product, and each row's first
    # minimum is one contiguous argmin; goals and errors stay channel-first.
    coef_t = np.vstack([-2.0 * pal.T, np.einsum("ij,ij->i", pal, pal)[None]])  # (c+1, m)
    pal_t = np.ascontiguousarray(pal.T)
    plans = np.empty((n_plan, n), dtype=np.min_scalar_type(m - 1))
    block = min(max(256, (1 << 14) // m), 1024)
    dist = np.empty((min(n, block), m))
    for s0 in range(0, n, block):
        gb = np.ascontiguousarray(g[s0 : s0 + block].T)  # (c, b)
        b = gb.shape[1]
        t = np.ones((c + 1, b))  # goal + accumulated error, then a row of 1
        target = t[:c]
        target[:] = gb
        d = dist[:b]
        for i in range(n_plan):
            np.matmul(t.T, coef_t, out=d)
            j = d.argmin(axis=1)
            plans[i, s0 : s0 + b] = j
            target += gb
            target -= np.take(pal_t, j, axis=1)
    return plans


def grid_mixing_plans(
    goals: NDArray, palette: NDArray, n_plan: int, n_cells: int = GRID_CELLS
) -> NDArray:
    r"""Mixing plans as :func:`mixing_plans` makes them, each step a grid look-up.

    The first step searches the whole palette (a goal that is a palette
    colour leaves no error and keeps that colour as its whole plan). For
    the others, two grids of about ``n_cells`` equal cubic cells cover the
    palette's bounding box widened on every side by a tenth of its widest
    extent (fine cells), and by the whole of it (coarse cells); every cell
    notes the palette colour nearest its centre (one nearest-colour search
    over the cell centres). A step takes the colour of the cell its target
    :math:`g + \epsilon_i` falls in, in the fine grid if it lies there, else
    in the coarse one: the nearest colour, or one at most the cell's
    half-diagonal farther, whose error the next steps carry on as before.
    A target off both grids (the error of a goal outside the palette's
    hull keeps growing) is searched over the whole palette, as in
    :func:`mixing_plans`. The O(m) search of a step becomes O(1) for the
    targets on a grid.

    Parameters
    ----------
    goals, palette, n_plan
        As for :func:`mixing_plans`.
    n_cells : int, default GRID_CELLS
        Cells of each grid: the cell side is the ``c``-th root of the
        widened box's volume over ``n_cells``.

    Returns
    -------
    ndarray of unsigned int, shape (g, n_plan)
        The plans, as from :func:`mixing_plans`.

    Examples
    --------
    A grey of 50 between black and 200 is a quarter 200, as with the full
    search:

    >>> import numpy as np
    >>> from kmeans_quant.dither._ordered import grid_mixing_plans
    >>> grid_mixing_plans(np.array([[50.0]]), np.array([[0.0], [200.0]]), 8)
    array([[0, 0, 0, 0, 0, 0, 1, 1]], dtype=uint8)
    """
    g = np.asarray(goals, dtype=np.float64)
    pal = np.asarray(palette, dtype=np.float64)
    n = g.shape[0]
    grids = [_NearestGrid.around(pal, margin, n_cells) for margin in _GRID_MARGINS]
    pal_t = np.ascontiguousarray(pal.T)
    plans = np.empty((n_plan, n), dtype=np.min_scalar_type(pal.shape[0] - 1))
    # The first step searches the whole palette; a goal that is a palette
    # colour leaves no error, so that colour is its whole plan.
    plans[0] = label_points(g, pal)
    own = (pal[plans[0]] == g).all(axis=1)
    for s0 in range(0, n, _GRID_BLOCK):
        gb = np.ascontiguousarray(g[s0 : s0 + _GRID_BLOCK].T)  # (c, b)
        target = 2 * gb - np.take(pal_t, plans[0, s0 : s0 + gb.shape[1]], axis=1)
        for i in range(1, n_plan):
            j = plans[i, s0 : s0 + gb.shape[1]]
            # Each grid takes the targets the finer one left; the rest are
            # searched over the whole palette.
            todo: NDArray | None = None
            for grid in grids:
                todo = grid.look_up(target, j, todo)
                if todo.size == 0:
                    break
            else:
                j[todo] = label_points(target[:, todo].T, pal)
            target += gb
            target -= np.take(pal_t, j, axis=1)
    plans[:, own] = plans[0, own]
    return _by_brightness(plans, pal)


class _NearestGrid(NamedTuple):
    """Cubic cells over a box, each noting the palette colour nearest its centre."""

    scale: float  # 1 / cell side
    shift: NDArray  # (c, 1): a target t is in cell floor(t * scale + shift)
    levels: tuple[int, ...]  # cells per channel
    bound: NDArray  # (c, 1): the levels as unsigned integers
    nearest: NDArray  # palette index per cell, raster order

    @classmethod
    def around(cls, pal: NDArray, margin: float, n_cells: int) -> _NearestGrid:
        """About ``n_cells`` cells over the palette's box widened by ``margin`` x its width."""
        c = pal.shape[1]
        lo, hi = pal.min(axis=0), pal.max(axis=0)
        widest = float((hi - lo).max())
        lo, hi = lo - margin * widest, hi + margin * widest
        # Cubes of the box's volume over n_cells: narrow channels (a and b
        # of Oklab) get fewer cells, not coarser ones.
        volume = float(np.prod(hi - lo))
        side = max((volume / n_cells) ** (1 / c), np.finfo(np.float64).tiny)
        levels = tuple(int(v) for v in np.floor((hi - lo) / side) + 1)
        axes = [lo[ch] + side * np.arange(levels[ch]) for ch in range(c)]
        centres = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, c)
        nearest = label_points(centres, pal).astype(np.min_scalar_type(pal.shape[0] - 1))
        # Cell i is centred on lo + i * side, so t is nearest the centre of
        # cell floor((t - lo) / side + 1/2).
        bound = np.array(levels, dtype=np.uintp)[:, None]
        return cls(1.0 / side, (0.5 - lo / side)[:, None], levels, bound, nearest)

    def look_up(self, target: NDArray, out: NDArray, todo: NDArray | None) -> NDArray:
        """Fill ``out`` at the ``todo`` columns of ``target`` (all if None); return
        the columns whose target lies off the grid (their entry is a border cell's)."""
        t = target if todo is None else target[:, todo]
        q = t * self.scale
        q += self.shift
        cells = q.astype(np.intp)
        # Negative cells wrap to huge unsigned values, so one comparison
        # finds the targets off either side.
        off = (cells.view(np.uintp) >= self.bound).any(axis=0)
        index = np.ravel_multi_index(cells, self.levels, mode="clip")
        if todo is None:
            np.take(self.nearest, index, out=out)
            return np.flatnonzero(off)
        out[todo] = self.nearest[index]
        return todo[off]


def ordered(
    colors: NDArray,
    counts: NDArray,
    inverse: NDArray,
    palette: NDArray,
    shape: tuple[int, int],
    *,
    size: int = 8,
    max_goals: int = MAX_GOALS,
) -> NDArray[np.intp]:
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
    labels : ndarray of intp, shape (H, W)
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
           [1, 0, 1, 0]])
    """
    H, W = shape
    labels = np.zeros((H, W), dtype=np.intp)
    if palette.shape[0] == 1 or H * W == 0:
        return labels
    budget = goal_budget(H * W, palette.shape[0], max_goals)
    goals, goal_of_color = plan_goals(colors, counts, budget)
    bayer = bayer_matrix(size)
    n = bayer.shape[0]
    make_plans = grid_mixing_plans if palette.shape[0] >= GRID_MIN_COLORS else mixing_plans
    plans = make_plans(goals, palette, n * n).ravel()
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
