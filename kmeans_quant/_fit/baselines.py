r"""The classic palettes K-Means is measured against: median cut and a uniform grid.

Both work on a colour table (each distinct colour once, in 0-255 units,
with its pixel count) and return a palette in the same units; the image
API rounds it to the image's dtype and maps every pixel to its nearest
palette colour, exactly as it does for a K-Means palette. They are private
kernels: the image API validates ``k`` and the table before calling them.

Median cut (Heckbert, 1982)
    Start from one box around all colours. Repeatedly take the box with the
    largest *pixel count times longest side* and cut it across that side at
    its weighted median, so each half holds about half its pixels, until
    there are ``k`` boxes or no box can be cut (every box is one colour).
    Each box's colour is the count-weighted mean of the colours in it.

    Heckbert leaves the choice of box open; implementations split the box
    with the most pixels, the longest side, or the product. The product is
    used here: the longest side alone spends colours on long, nearly empty
    boxes made by a few outlier pixels, and the count alone keeps cutting
    small dense boxes that are already good enough (the comparison is in
    ``docs/internals.md``).

Uniform quantization
    A fixed grid, independent of the image: channel ``j`` gets ``n_j``
    equal bins over [0, 255] and each bin is represented by its centre,
    :math:`(i + 1/2) \cdot 255 / n_j`. The levels per channel differ by at
    most one and their product is the largest such product not above
    ``k``. For a fixed number of colours, the expected squared error of a
    uniform grid on uniformly spread data is
    :math:`\sum_j (255 / n_j)^2 / 12`, which is smallest when the
    :math:`n_j` are equal, hence near-equal levels. The extra levels go
    first to green, then red, then blue, in the order of their weight in
    luminance (Rec. 709: 0.7152, 0.2126, 0.0722). So k = 16 gives
    R x G x B = 2 x 3 x 2 = 12 colours, k = 64 gives 4 x 4 x 4, and
    k = 256 gives 6 x 7 x 6 = 252.

References
----------
P. Heckbert, "Color image quantization for frame buffer display",
Computer Graphics (SIGGRAPH '82) 16(3), 297-307, 1982.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["median_cut", "uniform_palette", "uniform_levels"]

# Which channel gets an extra uniform level first, for RGB: G, R, B.
_RGB_LEVEL_ORDER = (1, 0, 2)


# --------------------------------------------------------------------------
# median cut
# --------------------------------------------------------------------------


def _box_priority(X: NDArray, w: NDArray, idx: NDArray[np.intp]) -> tuple[float, int]:
    """Priority of a box for splitting, and the axis to cut it across.

    The axis is the box's longest side (lowest index on ties); the priority
    is the box's total weight times that side's length, 0 when the box holds
    a single colour and cannot be cut.
    """
    pts = X[idx]
    sides = pts.max(axis=0) - pts.min(axis=0)
    axis = int(np.argmax(sides))
    return float(sides[axis] * w[idx].sum()), axis


def _cut_at_median(
    X: NDArray, w: NDArray, idx: NDArray[np.intp], axis: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Split a box's colours across ``axis`` at their weighted median.

    The cut falls between two distinct values (colours equal along the axis
    stay together), at the place where the weight on the low side is
    closest to half the box's weight. Requires at least two distinct values
    along ``axis``; both halves are then non-empty.
    """
    order = np.argsort(X[idx, axis], kind="stable")
    values = X[idx[order], axis]
    below = np.cumsum(w[idx[order]])
    # candidate cut p: colours order[:p] go low, order[p:] go high
    cuts = np.flatnonzero(values[1:] != values[:-1]) + 1
    p = cuts[np.argmin(np.abs(below[cuts - 1] - below[-1] / 2))]
    return idx[order[:p]], idx[order[p:]]


def median_cut(colors: NDArray, counts: NDArray, k: int) -> NDArray[np.float64]:
    r"""Median-cut palette (Heckbert, 1982) of a colour table.

    Boxes are split, one at a time, in order of pixel count times longest
    side, at the weighted median along that side; the palette is each box's
    count-weighted mean colour,

    .. math:: p_B = \frac{\sum_{u \in B} n_u\, u}{\sum_{u \in B} n_u}.

    Parameters
    ----------
    colors : ndarray, shape (m, c)
        Distinct colours in 0-255 units (any float or integer dtype).
    counts : ndarray, shape (m,)
        Pixel count of each colour, all positive.
    k : int
        Maximum number of palette colours, at least 1.

    Returns
    -------
    ndarray of float64, shape (k', c)
        ``k' = min(k, m)`` colours, each inside the bounding box of the
        input (so within [0, 255]). Deterministic: no randomness is used.
        With ``m <= k`` the colours themselves are returned.

    Examples
    --------
    Two groups of four pixels each; the weighted median along red falls
    between them, and each box becomes its weighted mean:

    >>> import numpy as np
    >>> colors = np.array([[10, 10, 10], [20, 10, 10], [200, 50, 50], [210, 60, 50]])
    >>> counts = np.array([3, 1, 2, 2])
    >>> median_cut(colors, counts, 2)
    array([[ 12.5,  10. ,  10. ],
           [205. ,  55. ,  50. ]])
    """
    X = np.asarray(colors, dtype=np.float64)
    w = np.asarray(counts, dtype=np.float64)
    m, c = X.shape
    if m <= k:
        return X.copy()
    boxes = [np.arange(m)]
    first = _box_priority(X, w, boxes[0])
    priority, axes = [first[0]], [first[1]]
    while len(boxes) < k:  # at most k - 1 cuts; each cut is vectorized
        j = int(np.argmax(priority))
        if priority[j] <= 0:  # every box is a single colour
            break
        low, high = _cut_at_median(X, w, idx=boxes[j], axis=axes[j])
        boxes[j] = low
        boxes.append(high)
        priority[j], axes[j] = _box_priority(X, w, low)
        p, a = _box_priority(X, w, high)
        priority.append(p)
        axes.append(a)
    label = np.empty(m, dtype=np.intp)
    for b, idx in enumerate(boxes):
        label[idx] = b
    n_boxes = len(boxes)
    weight = np.bincount(label, weights=w, minlength=n_boxes)
    sums = np.stack(
        [np.bincount(label, weights=w * X[:, j], minlength=n_boxes) for j in range(c)], axis=1
    )
    return sums / weight[:, None]


# --------------------------------------------------------------------------
# uniform quantization
# --------------------------------------------------------------------------


def uniform_levels(k: int, channels: int) -> tuple[int, ...]:
    """Levels per channel: near-equal (differing by at most one), product <= k.

    Start from the largest ``n`` with ``n ** channels <= k`` and give one
    more level to as many channels as still fit, in the order G, R, B for
    RGB (channel order otherwise).

    >>> uniform_levels(16, 3), uniform_levels(64, 3), uniform_levels(256, 3)
    ((2, 3, 2), (4, 4, 4), (6, 7, 6))
    """
    n = max(1, int(round(k ** (1.0 / channels))))
    while n**channels > k:  # correct float round-off in the root
        n -= 1
    while (n + 1) ** channels <= k:
        n += 1
    levels = [n] * channels
    order = _RGB_LEVEL_ORDER if channels == 3 else range(channels)
    for ch in order:
        # one more level in a channel multiplies the count by (n + 1) / n
        if int(np.prod(levels)) // n * (n + 1) > k:
            break
        levels[ch] += 1
    return tuple(levels)


def uniform_palette(k: int, channels: int) -> NDArray[np.float64]:
    r"""Uniform-quantization palette: a regular grid of bin centres in [0, 255].

    Channel ``j`` is cut into ``n_j`` equal bins and represented by their
    centres :math:`(i + 1/2) \cdot 255 / n_j`, with the ``n_j`` from the rule
    in the module docstring (near-equal, product at most ``k``, extra levels
    to G, then R, then B).

    Parameters
    ----------
    k : int
        Maximum number of palette colours, at least 1.
    channels : int
        Colour channels: 3 for RGB, 1 for grey.

    Returns
    -------
    ndarray of float64, shape (prod(n_j), channels)
        The grid, first channel varying slowest. It does not depend on any
        image.

    Examples
    --------
    >>> uniform_palette(4, 1)
    array([[ 31.875],
           [ 95.625],
           [159.375],
           [223.125]])
    >>> p = uniform_palette(16, 3)
    >>> p.shape, np.unique(p[:, 1])
    ((12, 3), array([ 42.5, 127.5, 212.5]))
    """
    levels = uniform_levels(k, channels)
    axes = [(np.arange(n) + 0.5) * (255.0 / n) for n in levels]
    grid = np.meshgrid(*axes, indexing="ij")
    return np.stack(grid, axis=-1).reshape(-1, channels)
