r"""Floyd-Steinberg error diffusion, one anti-diagonal wavefront at a time.

Pixels are visited in raster order; each takes, among its candidates (the
:data:`~kmeans_quant.dither._candidates.CANDIDATES` palette colours
nearest to its own colour, :mod:`kmeans_quant.dither._candidates`), the
one nearest to its colour plus the error pushed onto it so far, and
pushes a share of its own error :math:`e = v - p` forward with the
classic weights

.. math:: \frac{\gamma}{16}\begin{bmatrix} & * & 7 \\ 3 & 5 & 1\end{bmatrix},
          \qquad \gamma = \mathtt{CARRY} \times \mathrm{strength},

scaled per pixel by an optional dithering level. Error pushed off the image
is dropped.

Pixel ``(y, x)`` needs the errors of ``(y, x-1)``, ``(y-1, x-1)``,
``(y-1, x)`` and ``(y-1, x+1)`` only, so all pixels with the same
:math:`t = x + 2y` are independent: the kernel walks the
:math:`W + 2(H - 1)` wavefronts ``t`` in order and does the nearest-colour
search and the error scatter for a whole wavefront at once. In the
row-major flat image a wavefront is a strided slice (flat index
:math:`t + y(W - 2)`). A pixel at ``t`` sends error to wavefronts ``t+1``,
``t+2`` and ``t+3`` only, so the pending error lives in a ring of four
small buffers indexed by channel and row.

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

from ._candidates import nearest_sets

__all__ = ["floyd_steinberg", "FS_WEIGHTS", "CARRY"]

#: Floyd-Steinberg weights (right, down-left, down, down-right). All are
#: dyadic, so they are exact in any float type.
FS_WEIGHTS = (7 / 16, 3 / 16, 5 / 16, 1 / 16)
#: Share of each pixel's error passed on at full strength. Below 1, errors
#: fade over a few pixels instead of piling up across flat areas; the value
#: is the one measured best by SSIMULACRA2 (docs/benchmarks.md, "What the
#: eye sees").
CARRY = 0.8


class _CandidateSearch:
    r"""The nearest of each pixel's candidate palette colours, for batches of pixels.

    Built from the palette and every distinct colour's candidate set (rows
    of ascending palette indices), it keeps each colour's candidate
    coordinates in one row, so a batch gathers them in one pass. Calling it
    with ``values`` of shape (c, n) and ``which``, the distinct colour of
    each of the n pixels, returns the candidate nearest to every column,
    ties to the lowest index. The distance is
    :math:`(v_0 - p_0)^2 + (v_1 - p_1)^2 + \dots` added in channel order;
    the work per pixel is the same for any palette size.
    """

    def __init__(self, pal: NDArray, sets: NDArray, n_max: int) -> None:
        g, m = sets.shape
        c = pal.shape[1]
        self.m = m
        # coords[u, ch * m + i] = channel ch of candidate i of colour u.
        self.coords = np.ascontiguousarray(pal[sets].transpose(0, 2, 1).reshape(g, c * m))
        self.flat_sets = np.ascontiguousarray(sets).reshape(-1)
        self.buf = np.empty((n_max, c * m), dtype=pal.dtype)
        self.dist = np.empty((n_max, m), dtype=pal.dtype)
        self.diff = np.empty((n_max, m), dtype=pal.dtype)

    def __call__(self, values: NDArray, which: NDArray) -> NDArray[np.intp]:
        c, n = values.shape
        m = self.m
        cand = np.take(self.coords, which, axis=0, out=self.buf[:n])
        dist, diff = self.dist[:n], self.diff[:n]
        for ch in range(c):
            np.subtract(values[ch, :, None], cand[:, ch * m : (ch + 1) * m], out=diff)
            if ch == 0:
                np.multiply(diff, diff, out=dist)
            else:
                dist += np.multiply(diff, diff, out=diff)
        pick = dist.argmin(axis=1)  # first minimum: the lowest index
        pick += which * m
        return np.take(self.flat_sets, pick)


def _diffuse_chain(
    values: NDArray,
    which: NDArray,
    nearest: _CandidateSearch,
    pal: NDArray,
    level: NDArray,
    weight: float,
    max_passes: int = 8,
) -> NDArray[np.intp] | None:
    r"""Error diffusion along one line of pixels, by segments speculated in parallel.

    Pixel :math:`i` of the line takes :math:`v_i = x_i + a_i`, its candidate
    :math:`l_i` nearest to :math:`v_i`, and passes
    :math:`a_{i+1} = (\lambda_i (v_i - p_{l_i})) w` on (:math:`a_0 = 0`). The line is
    cut into :math:`S` segments of :math:`L` pixels, all walked together,
    each from a guessed incoming :math:`a`; a pass then restarts every
    segment whose incoming :math:`a` (the end of the previous segment)
    changed, stopping a segment as soon as its :math:`a` equals, bit for
    bit, the one the previous pass had at that pixel (from there on the
    previous pass's results hold). When no incoming value changes, every
    segment started from the exact end of the one before it, segment 0
    from the exact :math:`a_0`, so the labels are those of the sequential
    walk. The arithmetic is the wavefront kernel's, operation for operation.

    Parameters
    ----------
    values : ndarray, shape (c, n)
        The line's colours.
    which : ndarray of int, shape (n,)
        Each pixel's distinct colour.
    nearest : _CandidateSearch
        The candidate search of the colours, for batches of ``n_seg``
        pixels (``n_seg`` = ceil(n / max(128, sqrt(n)))).
    pal : ndarray, shape (k, c)
        The palette, in ``values``' dtype.
    level : ndarray, shape (n,)
        :math:`\lambda_i`, each pixel's dithering level, in ``values``' dtype.
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
    seg = max(128, int(np.sqrt(n)))
    n_seg = -(-n // seg)

    def by_step(a: NDArray, fill: float | int) -> NDArray:
        """(..., n) -> (seg, ..., n_seg): step i of every segment is [i]."""
        padded = np.full((*a.shape[:-1], n_seg * seg), fill, dtype=a.dtype)
        padded[..., :n] = a
        split = padded.reshape(*a.shape[:-1], n_seg, seg)
        return np.ascontiguousarray(np.moveaxis(split, -1, 0))

    vals = by_step(values, 0)  # (seg, c, n_seg)
    step_which = by_step(which, 0)  # (seg, n_seg)
    step_level = by_step(level, 0)  # (seg, n_seg)
    w = dtype.type(weight)
    labels = np.zeros((seg, n_seg), dtype=np.intp)
    passed = np.zeros((seg, c, n_seg), dtype=dtype)  # a passed on after each step
    pal_t = np.ascontiguousarray(pal.T)
    incoming = np.zeros((c, n_seg), dtype=dtype)
    active = np.arange(n_seg)
    for p in range(max_passes):
        carry = incoming[:, active]
        for i in range(seg):
            v = vals[i][:, active]
            v += carry
            lab = nearest(v, step_which[i][active])
            e = np.subtract(v, np.take(pal_t, lab, axis=1), out=v)
            e *= step_level[i][active]
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
    level: NDArray | None = None,
) -> NDArray[np.unsignedinteger]:
    r"""Floyd-Steinberg error diffusion onto a palette, among each colour's nearest entries.

    Every distinct colour :math:`x` first gets its candidates
    :math:`C(x)`: the :data:`CANDIDATES` palette colours nearest to it
    (:func:`nearest_sets`). Then, visiting pixels in raster order, pixel
    :math:`(y, x)` takes

    .. math:: v_{yx} = x_{yx} + a_{yx}, \qquad
              l_{yx} = \arg\min_{j \in C(x_{yx})} \lVert v_{yx} - p_j \rVert^2, \qquad
              e_{yx} = \lambda_{yx} (v_{yx} - p_{l_{yx}}),

    and adds :math:`\tfrac{7}{16}\gamma e` to :math:`a_{y,x+1}`,
    :math:`\tfrac{3}{16}\gamma e` to :math:`a_{y+1,x-1}`,
    :math:`\tfrac{5}{16}\gamma e` to :math:`a_{y+1,x}` and
    :math:`\tfrac{1}{16}\gamma e` to :math:`a_{y+1,x+1}` (dropped outside
    the image), with :math:`\gamma = ` :data:`CARRY` :math:`\times`
    ``strength`` and :math:`\lambda` the pixel's dithering level.
    Restricting each pixel to its candidates keeps an error that has grown
    from pulling in a far colour (a speckle), and passing on only the
    share :math:`\gamma < 1` keeps errors from accumulating across flat
    areas.

    Parameters
    ----------
    colors : ndarray of float32 or float64, shape (g, c)
        The image's distinct colours (a colour table), in the units of the
        palette; the arithmetic is done in this dtype.
    inverse : ndarray of int, shape (H * W,)
        Index into ``colors`` of every pixel, in raster order.
    palette : ndarray, shape (k, c)
        Palette colours, cast to ``colors``' dtype.
    shape : (int, int)
        ``(H, W)``.
    strength : float, default 1.0
        Scales the share of each error that is passed on; 0 is
        nearest-colour mapping.
    level : ndarray, shape (H * W,), optional
        :math:`\lambda`, each pixel's dithering level in [0, 1] (1 when
        not given), in ``colors``' dtype.

    Returns
    -------
    ndarray of uint8 (uint16 above 256 colours), shape (H, W)
        Index into ``palette`` of each pixel's colour.

    Examples
    --------
    A flat grey of 64 onto black, grey (128) and white. 64 is as far from
    black as from grey, so it takes black (the lower index) and passes on
    :math:`0.8 \cdot 7/16 \cdot 64 = 22.4`; the next pixel, at 86.4, takes
    grey and passes on :math:`0.35 \cdot (-41.6)`; the third, at 49.44,
    takes black again, and so on.

    >>> import numpy as np
    >>> from kmeans_quant.dither._error_diffusion import floyd_steinberg
    >>> pal = np.array([[0.0], [128.0], [255.0]])
    >>> floyd_steinberg(np.array([[64.0]]), np.zeros(4, dtype=int), pal, (1, 4))
    array([[0, 1, 0, 1]], dtype=uint8)
    """
    H, W = shape
    dtype = colors.dtype
    pal = np.ascontiguousarray(palette, dtype=dtype)
    c = pal.shape[1]
    # Labels in the smallest unsigned type that holds them (one byte up to
    # 256 colours): a whole image of intp labels would be 8 bytes a pixel.
    labels = np.zeros((H, W), dtype=np.min_scalar_type(max(palette.shape[0] - 1, 0)))
    if pal.shape[0] == 1 or H * W == 0:
        return labels
    color_sets = nearest_sets(colors, pal)
    right, down_left, down, down_right = FS_WEIGHTS
    if H == 1 or W == 1:  # one line: error only goes along it
        n = H * W
        line = _diffuse_chain(
            np.ascontiguousarray(colors.T)[:, inverse],
            inverse,
            _CandidateSearch(pal, color_sets, -(-n // max(128, int(np.sqrt(n))))),
            pal,
            level=np.ones(H * W, dtype=dtype) if level is None else level,
            weight=(right if H == 1 else down) * CARRY * strength,
        )
        if line is not None:
            return line.reshape(H, W).astype(labels.dtype)
    # Scatter weights in the order the scatter below uses them.
    weights = np.array(
        [w * CARRY * strength for w in (down_left, right, down, down_right)], dtype=dtype
    )[:, None, None]
    # Everything per wavefront is channel-first, (c, n), so inner loops run
    # along the wavefront rather than over 1-3 channels.
    pal_t = np.ascontiguousarray(pal.T)
    colors_t = np.ascontiguousarray(colors.T)
    flat_labels = labels.reshape(H * W)
    # Consecutive pixels of a wavefront are W - 2 apart in the flat image.
    # For W <= 2 a wavefront holds at most one pixel and any step will do.
    step = W - 2 if W > 2 else 1
    # Pending error for wavefronts t, t+1, t+2, t+3 in slots t % 4, by
    # channel and row y; row H catches error pushed below the last row.
    pending = np.zeros((4, c, H + 1), dtype=dtype)
    n_max = min(H, (W + 1) // 2)
    nearest = _CandidateSearch(pal, color_sets, n_max)
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

        # The wavefront's colours plus their pending error.
        which = inverse[pix]
        v = value_buf[:, :n]
        np.take(colors_t, which, axis=1, out=v)
        v += pending[slot, :, rows]
        pending[slot] = 0  # free the slot for wavefront t + 4
        lab = nearest(v, which)
        flat_labels[pix] = lab
        e = np.subtract(v, np.take(pal_t, lab, axis=1, out=color_buf[:, :n]), out=v)
        if level is not None:
            e *= level[pix]

        share = np.multiply(e, weights, out=share_buf[:, :, :n])
        # Down-left before right: pixel (y, x) then receives its wavefront
        # t+1 errors in raster order ((y-1, x+1) before (y, x-1)).
        nxt = (t + 1) & 3
        pending[nxt, :, below] += share[0]
        pending[nxt, :, rows] += share[1]
        pending[(t + 2) & 3, :, below] += share[2]
        pending[(t + 3) & 3, :, below] += share[3]
    return labels
