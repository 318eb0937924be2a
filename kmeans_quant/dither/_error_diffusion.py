r"""Floyd-Steinberg error diffusion, one anti-diagonal wavefront at a time.

Pixels are first gamut-mapped onto the palette's convex hull
(:mod:`kmeans_quant.dither._gamut`). Then they are visited in raster order;
each takes the palette colour nearest to its value plus the error pushed
onto it so far, and pushes its own error :math:`e = v - p` forward with the
classic weights

.. math:: \frac{1}{16}\begin{bmatrix} & * & 7 \\ 3 & 5 & 1\end{bmatrix}.

Error pushed off the image is dropped; no clamp is applied after the
gamut mapping (``docs/internals.md`` says why).

Pixel ``(y, x)`` needs the errors of ``(y, x-1)``, ``(y-1, x-1)``,
``(y-1, x)`` and ``(y-1, x+1)`` only, so all pixels with the same
:math:`t = x + 2y` are independent: the kernel walks the
:math:`W + 2(H - 1)` wavefronts ``t`` in order and does the nearest-colour
search and the error scatter for a whole wavefront at once. In the
row-major flat image a wavefront is a strided slice (flat index
:math:`t + y(W - 2)`). A pixel at ``t`` sends error to wavefronts ``t+1``,
``t+2`` and ``t+3`` only, so the pending error lives in a ring of four
small buffers indexed by channel and row.

For palettes of more than 24 colours the nearest-colour search is
screened by one matrix product per block of pixels, and only near-ties,
where its float64 estimate could order two colours differently from the
channel-order sum, are searched by that sum (:class:`_ScreenedSearch`).
Above 128 colours each pixel is searched among the few colours that can be
nearest anywhere in its cell of a grid (:mod:`._nearest`), with the
same labels.

A one-pixel row or column is a single chain, one pixel per wavefront;
it is cut into segments walked together from guessed incoming errors and
re-walked until those settle (:func:`_diffuse_chain`), which gives the
same labels.

Exactness: the scatter adds the four contributions to each target pixel in
the same order as the raster loop of :func:`kmeans_quant.naive.floyd_steinberg`,
into an accumulator that starts at zero and is added to the pixel last,
and the distances are summed in channel order as there. Every operation is
then the same IEEE operation on the same operands, so the two give
identical labels, in float32 and float64 alike.

References
----------
R. W. Floyd and L. Steinberg, "An adaptive algorithm for spatial greyscale",
Proceedings of the SID 17(2), 1976.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..engine._steps import FirstMin
from ._gamut import project_to_hull
from ._nearest import CandidateSearch

__all__ = ["floyd_steinberg", "FS_WEIGHTS"]

#: Floyd-Steinberg weights (right, down-left, down, down-right). All are
#: dyadic, so they are exact in any float type.
FS_WEIGHTS = (7 / 16, 3 / 16, 5 / 16, 1 / 16)
# Palettes of more colours than _SCREEN_ABOVE are screened by a matrix
# product (:class:`_ScreenedSearch`); from _CANDIDATES_ABOVE colours up to
# _CANDIDATES_UP_TO (its table of pairwise distances grows with the square)
# they are searched through candidate lists (:class:`CandidateSearch`), whose
# cost hardly depends on the palette's size, with the screen as fallback.
_SCREEN_ABOVE = 24
_CANDIDATES_ABOVE = 128
_CANDIDATES_UP_TO = 1024
# Batches of at most this many pixels skip the screen of _ScreenedSearch.
_FEW = 32


class _NearestSearch:
    r"""Nearest palette colour for batches of pixels stored as columns.

    Calling it with ``values`` of shape (c, n), ``n <= n_max``, returns the
    index of the nearest palette colour of every column, ties to the lowest
    index. Everything is laid out (.., m, n), so each numpy call is a long,
    contiguous pass along the batch. The distance is
    :math:`(v_0 - p_0)^2 + (v_1 - p_1)^2 + \dots` added in channel order.
    """

    def __init__(self, pal: NDArray, n_max: int) -> None:
        m, c = pal.shape
        self.pal_cols = np.ascontiguousarray(pal.T)[:, :, None]  # (c, m, 1)
        self.diff = np.empty((c, m, n_max), dtype=pal.dtype)
        self.first_min = FirstMin(m, n_max)

    def __call__(self, values: NDArray) -> NDArray[np.intp]:
        c, n = values.shape
        diff = np.subtract(values[:, None, :], self.pal_cols, out=self.diff[:, :, :n])
        np.multiply(diff, diff, out=diff)
        dist = diff[0]
        for ch in range(1, c):
            dist += diff[ch]
        return self.first_min(dist)[0]


class _ScreenedSearch:
    r"""The labels of :class:`_NearestSearch`, screened by one matrix product.

    The squared distances are first estimated in float64 as
    :math:`E_j = \lVert p_j\rVert^2 - 2\,v\cdot p_j + \lVert v\rVert^2`
    (one product, then a contiguous arg-min per pixel), within
    :math:`\delta = 32\,\epsilon_{64} (\lVert v\rVert^2 + \max_j
    \lVert p_j\rVert^2)` of the true :math:`T_j`. The channel-order sum
    :math:`D_j` in ``values``' dtype (unit roundoff :math:`\epsilon`) is
    within :math:`5\epsilon T_j` of :math:`T_j`, every term being
    non-negative. So when the runner-up :math:`E_{j_2}` exceeds the minimum
    :math:`E_{j_1}` by more than :math:`8\epsilon (E_{j_1} + E_{j_2}) + 4\delta`,
    :math:`D_{j_1}` is the strict minimum of every :math:`D_j` and
    :math:`j_1` is the label the exact search gives; the other pixels
    (near-ties) are searched exactly by :class:`_NearestSearch`.
    """

    def __init__(self, pal: NDArray, n_max: int) -> None:
        m, c = pal.shape
        p64 = pal.astype(np.float64)
        self.coef = np.vstack([-2.0 * p64.T, np.einsum("ij,ij->i", p64, p64)[None]])
        self.exact = _NearestSearch(pal, n_max)
        self.rel = 8 * float(np.finfo(pal.dtype).eps)
        self.abs = 4 * 32 * float(np.finfo(np.float64).eps)
        self.pal_sq = float(self.coef[c].max())
        # Pixels per product: the (block, m) distances stay in cache.
        self.block = min(n_max, max(64, (1 << 16) // m))
        self.t = np.ones((c + 1, n_max))
        self.dist = np.empty((self.block, m))

    def __call__(self, values: NDArray) -> NDArray[np.intp]:
        c, n = values.shape
        if n <= _FEW:  # the screen's fixed cost is not worth it
            return self.exact(values)
        t = self.t[:, :n]
        t[:c] = values
        v_sq = np.einsum("cn,cn->n", t[:c], t[:c])
        lab = np.empty(n, dtype=np.intp)
        tied = np.zeros(n, dtype=bool)
        for s0 in range(0, n, self.block):
            s1 = min(n, s0 + self.block)
            d = np.matmul(t[:, s0:s1].T, self.coef, out=self.dist[: s1 - s0])
            rows = np.arange(s1 - s0)
            j = d.argmin(axis=1)
            lab[s0:s1] = j
            first = d[rows, j]
            d[rows, j] = np.inf
            second = d[rows, d.argmin(axis=1)]
            vs = v_sq[s0:s1]
            slack = self.rel * (first + second + 2 * vs) + self.abs * (vs + self.pal_sq)
            tied[s0:s1] = second - first <= slack
        if tied.any():
            idx = np.flatnonzero(tied)
            lab[idx] = self.exact(np.ascontiguousarray(values[:, idx]))
        return lab


def _nearest_search(pal: NDArray, n_max: int) -> _NearestSearch | _ScreenedSearch | CandidateSearch:
    """The nearest-colour search for batches of up to ``n_max`` pixels."""
    m = pal.shape[0]
    if m <= _SCREEN_ABOVE:
        return _NearestSearch(pal, n_max)
    if _CANDIDATES_ABOVE < m <= _CANDIDATES_UP_TO:
        return CandidateSearch(pal, n_max, _ScreenedSearch(pal, n_max))
    return _ScreenedSearch(pal, n_max)


def _diffuse_chain(
    values: NDArray, pal: NDArray, weight: float, max_passes: int = 8
) -> NDArray[np.intp] | None:
    r"""Error diffusion along one line of pixels, by segments speculated in parallel.

    Pixel :math:`i` of the line takes :math:`v_i = x_i + a_i`,
    :math:`l_i = \arg\min_j \lVert v_i - p_j\rVert^2`, and passes
    :math:`a_{i+1} = w (v_i - p_{l_i})` on (:math:`a_0 = 0`). The line is cut
    into :math:`S` segments of :math:`L` pixels, all walked together, each
    from a guessed incoming :math:`a`; a pass then restarts every segment
    whose incoming :math:`a` (the end of the previous segment) changed,
    stopping a segment as soon as its :math:`a` equals, bit for bit, the one
    the previous pass had at that pixel (from there on the previous pass's
    results hold). When no incoming value changes, every segment started
    from the exact end of the one before it, segment 0 from the exact
    :math:`a_0`, so the labels are those of the sequential walk. The
    arithmetic is the wavefront kernel's, operation for operation.

    Parameters
    ----------
    values : ndarray, shape (c, n)
        The line's gamut-mapped values.
    pal : ndarray, shape (m, c)
        The palette, in ``values``' dtype.
    weight : float
        :math:`w`, the share of the error passed to the next pixel.
    max_passes : int, default 8
        Passes to try before giving up.

    Returns
    -------
    ndarray of intp, shape (n,), or None
        The labels; None when the passes did not settle.
    """
    c, n = values.shape
    dtype = values.dtype
    w = dtype.type(weight)
    seg = max(128, int(np.sqrt(n)))
    n_seg = -(-n // seg)
    vals = np.zeros((c, n_seg * seg), dtype=dtype)
    vals[:, :n] = values
    # Step i of every segment: vals[i] has shape (c, n_seg).
    vals = np.ascontiguousarray(vals.reshape(c, n_seg, seg).transpose(2, 0, 1))
    labels = np.zeros((seg, n_seg), dtype=np.intp)
    passed = np.zeros((seg, c, n_seg), dtype=dtype)  # a passed on after each step
    pal_t = np.ascontiguousarray(pal.T)
    nearest = _nearest_search(pal, n_seg)
    incoming = np.zeros((c, n_seg), dtype=dtype)
    active = np.arange(n_seg)
    for p in range(max_passes):
        carry = incoming[:, active]
        for i in range(seg):
            v = vals[i][:, active]
            v += carry
            lab = nearest(v)
            e = np.subtract(v, np.take(pal_t, lab, axis=1), out=v)
            carry = np.multiply(e, w, out=e)
            if p > 0:  # segments back on the previous pass's track stop here
                moved = (carry != passed[i][:, active]).any(axis=0)
                labels[i, active] = lab
                passed[i][:, active] = carry
                active, carry = active[moved], carry[:, moved]
                if active.size == 0:
                    break
            else:
                labels[i] = lab
                passed[i] = carry
        new_incoming = np.zeros_like(incoming)
        new_incoming[:, 1:] = passed[-1][:, :-1]
        active = np.flatnonzero((new_incoming != incoming).any(axis=0))
        incoming = new_incoming
        if active.size == 0:
            return labels.T.reshape(-1)[:n]
    return None


def floyd_steinberg(
    colors: NDArray,
    inverse: NDArray,
    palette: NDArray,
    shape: tuple[int, int],
    *,
    strength: float = 1.0,
) -> NDArray[np.intp]:
    r"""Floyd-Steinberg error diffusion onto a palette, after gamut mapping.

    Every colour outside the palette's convex hull is first replaced by the
    nearest point of the hull (:func:`~kmeans_quant.dither.project_to_hull`),
    giving :math:`x'_{yx}`. Then, visiting pixels in raster order, pixel
    :math:`(y, x)` takes

    .. math:: v_{yx} = x'_{yx} + a_{yx}, \qquad
              l_{yx} = \arg\min_j \lVert v_{yx} - p_j \rVert^2, \qquad
              e_{yx} = v_{yx} - p_{l_{yx}},

    and adds :math:`\tfrac{7}{16}e` to :math:`a_{y,x+1}`, :math:`\tfrac{3}{16}e`
    to :math:`a_{y+1,x-1}`, :math:`\tfrac{5}{16}e` to :math:`a_{y+1,x}` and
    :math:`\tfrac{1}{16}e` to :math:`a_{y+1,x+1}` (dropped outside the image).

    Parameters
    ----------
    colors : ndarray of float32 or float64, shape (g, c)
        The image's distinct colours (a colour table), in the units of the
        palette; the arithmetic is done in this dtype.
    inverse : ndarray of int, shape (H * W,)
        Index into ``colors`` of every pixel, in raster order.
    palette : ndarray, shape (m, c)
        Palette colours, cast to ``colors``' dtype.
    shape : (int, int)
        ``(H, W)``.
    strength : float, default 1.0
        Share of each pixel's error :math:`e` that is passed on (the
        weights above are multiplied by it); 0 is nearest-colour mapping
        of the gamut-mapped colours.

    Returns
    -------
    ndarray of intp, shape (H, W)
        Index into ``palette`` of each pixel's colour.

    Examples
    --------
    A grey ramp onto black and white: 128 becomes white, its error of -127
    darkens the next pixel (64 - 127 * 7/16 = 8.44) to black, and so on.

    >>> import numpy as np
    >>> from kmeans_quant.dither import floyd_steinberg
    >>> colors = np.array([[64.0], [128.0], [200.0]])
    >>> floyd_steinberg(colors, np.array([1, 0, 2]), np.array([[0.0], [255.0]]), (1, 3))
    array([[1, 0, 1]])
    """
    H, W = shape
    dtype = colors.dtype
    pal = np.ascontiguousarray(palette, dtype=dtype)
    c = pal.shape[1]
    labels = np.zeros((H, W), dtype=np.intp)
    if pal.shape[0] == 1 or H * W == 0:
        return labels
    mapped = project_to_hull(colors, pal).astype(dtype)
    right, down_left, down, down_right = FS_WEIGHTS
    if H == 1 or W == 1:  # one line: error only goes along it
        line = _diffuse_chain(
            np.ascontiguousarray(mapped.T)[:, inverse], pal, right if H == 1 else down
        )
        if line is not None:
            return line.reshape(H, W)
    # Scatter weights in the order the scatter below uses them.
    weights = np.array([down_left, right, down, down_right], dtype=dtype)[:, None, None]
    if strength != 1.0:
        weights *= dtype.type(strength)
    # Everything per wavefront is channel-first, (c, n), so inner loops run
    # along the wavefront rather than over 1-3 channels.
    pal_t = np.ascontiguousarray(pal.T)
    colors_t = np.ascontiguousarray(mapped.T)
    flat_labels = labels.reshape(H * W)
    # Consecutive pixels of a wavefront are W - 2 apart in the flat image.
    # For W <= 2 a wavefront holds at most one pixel and any step will do.
    step = W - 2 if W > 2 else 1
    # Pending error for wavefronts t, t+1, t+2, t+3 in slots t % 4, by
    # channel and row y; row H catches error pushed below the last row.
    pending = np.zeros((4, c, H + 1), dtype=dtype)
    n_max = min(H, (W + 1) // 2)
    nearest = _nearest_search(pal, n_max)
    value_buf = np.empty((c, n_max), dtype=dtype)
    color_buf = np.empty((c, n_max), dtype=dtype)
    share_buf = np.empty((4, c, n_max), dtype=dtype)
    for t in range(W + 2 * (H - 1)):
        # Rows of wavefront t: 0 <= t - 2y <= W - 1.
        y0 = max(0, (t - W + 2) // 2)
        y1 = min(H - 1, t // 2)
        n = y1 - y0 + 1
        start = t + y0 * (W - 2)
        pix = slice(start, start + (n - 1) * step + 1, step)
        rows, below = slice(y0, y1 + 1), slice(y0 + 1, y1 + 2)
        slot = t & 3

        # The wavefront's gamut-mapped values plus their pending error.
        v = value_buf[:, :n]
        np.take(colors_t, inverse[pix], axis=1, out=v)
        v += pending[slot, :, rows]
        pending[slot] = 0  # free the slot for wavefront t + 4
        lab = nearest(v)
        flat_labels[pix] = lab
        e = np.subtract(v, np.take(pal_t, lab, axis=1, out=color_buf[:, :n]), out=v)

        share = np.multiply(e, weights, out=share_buf[:, :, :n])
        # Down-left before right: pixel (y, x) then receives its wavefront
        # t+1 errors in raster order ((y-1, x+1) before (y, x-1)).
        nxt = (t + 1) & 3
        pending[nxt, :, below] += share[0]
        pending[nxt, :, rows] += share[1]
        pending[(t + 2) & 3, :, below] += share[2]
        pending[(t + 3) & 3, :, below] += share[3]
    return labels
