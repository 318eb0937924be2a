r"""Dithering kernels: Floyd-Steinberg error diffusion and ordered (Bayer) dithering.

Both kernels map an image onto a fixed palette and return, for every pixel,
the index of the palette colour it gets. They are private kernels in the
sense of the house style: no input validation beyond making the arrays
contiguous floats; the public layer (``recolor(..., dither=...)``) checks
the image and palette first.

Conventions shared by both kernels
    ``pixels`` has shape ``(H, W, c)`` with ``c`` = 1 or 3, in the image's
    own value units (0-255 for uint8, [0, 1] for float images); ``palette``
    has shape ``(m, c)`` in the same units. Work is done in float32 (float64
    if the pixels are float64). "Nearest" means smallest squared Euclidean
    distance, computed channel by channel as :math:`\sum_c (v_c - p_{jc})^2`
    (never through the :math:`\lVert v\rVert^2 - 2 v\cdot p + \lVert p\rVert^2`
    expansion, so exact ties stay exact), with ties going to the lowest
    palette index.

Floyd-Steinberg (:func:`_floyd_steinberg`)
    Pixels are visited in raster order; each takes the palette colour nearest
    to its value plus the error pushed onto it so far, and pushes its own
    error :math:`e = v - p` forward with the classic weights

    .. math:: \frac{1}{16}\begin{bmatrix} & * & 7 \\ 3 & 5 & 1\end{bmatrix}.

    Error pushed off the image is dropped. Clamp: before the nearest colour
    is chosen, the value is clamped channel by channel to the range that the
    image's pixels and the palette span together. For a photo that is the
    valid range (0-255) or a little less, and the kernel needs no dtype to
    know it. Clamping to the palette's own bounding box was tried and
    rejected: it throws away the excess of every pixel brighter or darker
    than the palette (a white whisker), whose neighbours should absorb it,
    and made the local mean-colour error worse than no dithering at all on
    chelsea (-12% at k=8).

    Optional anti-windup (``error_limit``, off by default). Error diffusion
    is only stable for colours inside the convex hull of the palette. A
    K-Means palette lies inside the cloud of image colours, so many colours
    are outside its hull. There the error keeps the same sign from pixel to
    pixel and the accumulated value runs off until the clamp stops it, which
    picks wrong colours and smears them across the next edge. Clipping the
    accumulated error to ``±error_limit`` per channel bounds that. A limit of
    about the median nearest-neighbour distance of the palette helps
    whole-image figures (table below), but it also stops genuine mixing
    across gaps wider than the limit, so on representable blocks it is
    sometimes worse. Projecting colours onto the hull first (gamut mapping)
    would be the principled cure, and it is not done here.

    Speed: pixel ``(y, x)`` needs the errors of ``(y, x-1)``, ``(y-1, x-1)``,
    ``(y-1, x)`` and ``(y-1, x+1)`` only, so all pixels with the same
    :math:`t = x + 2y` are independent. The kernel walks the
    :math:`W + 2(H - 1)` anti-diagonal wavefronts ``t`` in order and does the
    nearest-colour search and the error scatter for a whole wavefront at once.
    In the row-major flat image a wavefront is a plain strided slice
    (flat index :math:`yW + t - 2y = t + y(W - 2)`), so no index arrays are
    built. A pixel at ``t`` sends error to wavefronts ``t+1`` (right,
    down-left), ``t+2`` (down) and ``t+3`` (down-right) only, so the pending
    error lives in a ring of four small buffers indexed by channel and
    row, not in a full-size error image. Within a wavefront everything is
    laid out channel-first, so each numpy call runs along the wavefront (see
    :class:`_NearestSearch`). Measured on this project's 2-core machine while
    other jobs ran: a 4000x3000 RGB photo (astronaut, resized) with a
    16-colour palette takes a median of 1.4-2.0 s wall time over 5 runs
    (1.3 s of CPU). The per-pixel loop of :func:`_floyd_steinberg_reference`
    takes about 12 µs a pixel, some 2.5 minutes for the same image.
    :func:`_ordered` takes 0.5 s.

    Exactness: the scatter adds the four contributions to each target pixel
    in the same order as the raster loop (from ``(y-1, x-1)``, ``(y-1, x)``,
    ``(y-1, x+1)``, ``(y, x-1)``). They go into an accumulator that starts
    at zero and is added to the pixel last, exactly as
    :func:`_floyd_steinberg_reference` does. Every operation is then the
    same IEEE operation on the same operands, so the two kernels give
    identical labels, not merely close ones, in float32 and float64 alike.

Ordered dithering (:func:`_ordered`)
    A Bayer threshold map :math:`B_n` (``n`` a power of two) with values
    :math:`\frac{b + 1/2}{n^2} - \frac12 \in (-\frac12, \frac12)` is tiled
    over the image and, scaled by a spread :math:`s`, added to every channel
    before the nearest-colour search:
    :math:`l_{yx} = \arg\min_j \lVert x_{yx} + s\,B_n[y \bmod n, x \bmod n]
    \,\mathbf 1 - p_j\rVert^2`. The spread is the median over palette colours
    of the distance to the nearest other colour, divided by
    :math:`\sqrt c`. The reason: the offset moves a colour along the grey
    diagonal :math:`\mathbf 1`, where a shift of :math:`s` per channel is a
    Euclidean move of :math:`s\sqrt c`. With this spread, a pixel lying
    between two neighbouring palette colours along the diagonal is split
    between them in proportion to where it lies. For a black/white palette
    a grey level :math:`g` becomes a fraction :math:`g/255` of white pixels,
    to within :math:`1/(2n^2)`. Factors of 0.75-2 times this spread were
    measured. None did clearly better on all three photos, and larger ones
    add visible noise. The offset only mixes colours that differ along the
    grey axis, which limits what ordered dithering can do for hue
    differences.

Quality, measured (scratch benchmark, not part of the tests)
    Local mean-colour error (:func:`_block_mean_error`: squared difference of
    8x8 block means, summed over channels, averaged over blocks), in uint8
    units squared, with palettes from ``extract_palette(image, k)``. The
    first figure is over the whole image. The figure in brackets is over
    the blocks whose mean colour lies inside the palette's convex hull
    (:func:`_hull_distance_sq` at most 1), the only colours any dither can
    reproduce. The share of such blocks is in the "hull" column.
    Percentages are reductions against nearest-colour mapping (``recolor``).
    "FS, limit" uses ``error_limit`` = median nearest-neighbour palette
    distance.

    ========= == ==== ============ =========== =========== ===========
    image     k  hull recolor      FS          FS, limit   ordered 8x8
    ========= == ==== ============ =========== =========== ===========
    chelsea   8  30%  149.2 (47.2) +18% (+79%) +18% (+59%) +7% (+21%)
    chelsea   16 56%  58.7 (17.5)  +7% (+51%)  +15% (+54%) +7% (+25%)
    coffee    8  39%  193.3 (103)  +36% (+83%) +31% (+48%) +19% (+22%)
    coffee    16 65%  74.2 (48.6)  +26% (+58%) +39% (+54%) +15% (+16%)
    astronaut 8  16%  366.9 (177)  +14% (+86%) +26% (+87%) +25% (+72%)
    astronaut 16 45%  139.2 (86.4) +33% (+49%) +48% (+62%) +16% (+33%)
    ========= == ==== ============ =========== =========== ===========

    On colours the palette can represent, Floyd-Steinberg removes half to
    six sevenths of the local mean-colour error. Over whole images it
    removes much less, 7-36%, because 35-85% of the blocks lie outside the
    palette's hull, where no dither can reach the original mean. The
    figures move by several points when the palette fit changes; the same
    photos with the palette fit of an earlier commit gave FS +24%/+21% on
    chelsea.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Floyd-Steinberg weights (Floyd & Steinberg, 1976): right, down-left, down,
# down-right. All are dyadic, so they are exact in any float type.
_FS_RIGHT, _FS_DOWN_LEFT, _FS_DOWN, _FS_DOWN_RIGHT = 7 / 16, 3 / 16, 5 / 16, 1 / 16

# Pixels per block in _ordered (rounded up to whole rows of Bayer tiles):
# the (c, m, n) scratch of 2**14 pixels against 16 RGB colours is 3 MiB of
# float32, big enough to amortise call overhead and small enough to stay
# cheap whatever the image size.
_ORDERED_BLOCK = 1 << 14


def _as_float_image(pixels: NDArray, palette: NDArray) -> tuple[NDArray, NDArray]:
    """``(H, W, c)`` pixels and ``(m, c)`` palette, C-contiguous, one float dtype."""
    px = np.asarray(pixels)
    dtype = np.float64 if px.dtype == np.float64 else np.float32
    if px.ndim == 2:
        px = px[..., None]
    px = np.ascontiguousarray(px, dtype=dtype)
    pal = np.ascontiguousarray(palette, dtype=dtype).reshape(-1, px.shape[2])
    return px, pal


class _NearestSearch:
    r"""Nearest palette colour for batches of pixels stored as columns.

    Calling it with ``values`` of shape (c, n), ``n <= n_max``, returns the
    index of the nearest palette colour of every column, ties to the lowest
    index. Scratch buffers are allocated once and reused, since the
    Floyd-Steinberg kernel calls this thousands of times.

    Everything is laid out (.., m, n), so each numpy call is a long,
    contiguous pass along the batch rather than many short ones over the
    palette. The distance is :math:`(v_0 - p_0)^2 + (v_1 - p_1)^2 + \dots`
    added in channel order, the same operations as in
    :func:`_floyd_steinberg_reference`, so the two agree bit for bit.

    numpy's ``argmin(axis=0)`` would copy to a transposed layout and search
    each short column on its own. Instead: the column minima, a mask of the
    entries equal to them, and a max-reduction of ``(m - j) * mask``, whose
    largest value belongs to the first minimum, exactly as argmin's would.
    """

    def __init__(self, pal: NDArray, n_max: int) -> None:
        m, c = pal.shape
        self.m = m
        self.pal_cols = np.ascontiguousarray(pal.T)[:, :, None]  # (c, m, 1)
        rank_dtype = np.min_scalar_type(m)
        self.rank_of = np.arange(m, 0, -1, dtype=rank_dtype)[:, None]  # m - j
        self.diff = np.empty((c, m, n_max), dtype=pal.dtype)
        self.flags = np.empty((m, n_max), dtype=bool)
        self.ranks = np.empty((m, n_max), dtype=rank_dtype)

    def __call__(self, values: NDArray) -> NDArray[np.intp]:
        c, n = values.shape
        diff = np.subtract(values[:, None, :], self.pal_cols, out=self.diff[:, :, :n])
        np.multiply(diff, diff, out=diff)
        dist = diff[0]
        for ch in range(1, c):
            dist += diff[ch]
        flags, ranks = self.flags[:, :n], self.ranks[:, :n]
        np.equal(dist, dist.min(axis=0), out=flags)
        np.multiply(flags, self.rank_of, out=ranks)
        return np.subtract(self.m, ranks.max(axis=0), dtype=np.intp)


def _value_bounds(px: NDArray, pal: NDArray) -> tuple[NDArray, NDArray]:
    """Per-channel range of the pixels and palette together, as (c, 1) columns."""
    # Reduce over rows first: a reduction whose inner loop runs over the c
    # channels of (H*W, c) is some 30 times slower.
    lo = np.minimum(px.min(axis=0).min(axis=0), pal.min(axis=0))
    hi = np.maximum(px.max(axis=0).max(axis=0), pal.max(axis=0))
    return lo[:, None], hi[:, None]


def _floyd_steinberg(
    pixels: NDArray, palette: NDArray, *, error_limit: float | None = None
) -> NDArray[np.intp]:
    r"""Floyd-Steinberg error diffusion onto a palette, by wavefronts.

    Visiting pixels in raster order, pixel :math:`(y, x)` takes

    .. math:: v_{yx} = \operatorname{clamp}(x_{yx} + a_{yx}), \qquad
              l_{yx} = \arg\min_j \lVert v_{yx} - p_j \rVert^2, \qquad
              e_{yx} = v_{yx} - p_{l_{yx}},

    and adds :math:`\tfrac{7}{16}e` to :math:`a_{y,x+1}`, :math:`\tfrac{3}{16}e`
    to :math:`a_{y+1,x-1}`, :math:`\tfrac{5}{16}e` to :math:`a_{y+1,x}` and
    :math:`\tfrac{1}{16}e` to :math:`a_{y+1,x+1}` (dropped outside the image).
    ``clamp`` limits each channel to the range the pixels and palette span.
    The result is identical to :func:`_floyd_steinberg_reference`; the pixels
    are processed a wavefront :math:`x + 2y = t` at a time (see the module
    docstring).

    Parameters
    ----------
    pixels : ndarray, shape (H, W, c) or (H, W)
        Pixel values in the image's units (0-255 for uint8); c = 1 or 3.
        float32 is used unless the pixels are float64.
    palette : ndarray, shape (m, c)
        Palette colours in the same units.
    error_limit : float, optional
        Anti-windup, off by default (classic Floyd-Steinberg). If given, the
        accumulated error :math:`a_{yx}` is clipped to
        ``[-error_limit, error_limit]`` per channel before it is added, so a
        colour the palette cannot mix (outside its convex hull) cannot drag
        the value ever further away; see the module docstring for figures.

    Returns
    -------
    ndarray of intp, shape (H, W)
        Index into ``palette`` of each pixel's colour.

    Examples
    --------
    A grey ramp onto black and white: 128 becomes white, its error of -127
    darkens the next pixel (64 - 127 * 7/16 = 8.44) to black, and so on.

    >>> import numpy as np
    >>> ramp = np.array([[[128.0], [64.0], [200.0]]])
    >>> _floyd_steinberg(ramp, np.array([[0.0], [255.0]]))
    array([[1, 0, 1]])
    """
    px, pal = _as_float_image(pixels, palette)
    H, W, c = px.shape
    m = pal.shape[0]
    labels = np.zeros((H, W), dtype=np.intp)
    if m == 1 or px.size == 0:
        return labels
    # Scatter weights in the order the scatter below uses them.
    weights = np.array(
        [_FS_DOWN_LEFT, _FS_RIGHT, _FS_DOWN, _FS_DOWN_RIGHT], dtype=px.dtype
    )[:, None, None]
    limit = None if error_limit is None else px.dtype.type(error_limit)
    lo, hi = _value_bounds(px, pal)
    # Everything per wavefront is channel-first, (c, n), so inner loops run
    # along the wavefront rather than over 1-3 channels.
    pal_t = np.ascontiguousarray(pal.T)
    flat = px.reshape(H * W, c)
    flat_labels = labels.reshape(H * W)
    # Consecutive pixels of a wavefront are W - 2 apart in the flat image.
    # For W <= 2 a wavefront holds at most one pixel and any step will do.
    step = W - 2 if W > 2 else 1
    # Pending error for wavefronts t, t+1, t+2, t+3 in slots t % 4, by
    # channel and row y; row H catches error pushed below the last row.
    pending = np.zeros((4, c, H + 1), dtype=px.dtype)
    n_max = min(H, (W + 1) // 2)
    nearest = _NearestSearch(pal, n_max)
    value_buf = np.empty((c, n_max), dtype=px.dtype)
    color_buf = np.empty((c, n_max), dtype=px.dtype)
    share_buf = np.empty((4, c, n_max), dtype=px.dtype)
    for t in range(W + 2 * (H - 1)):
        # Rows of wavefront t: 0 <= t - 2y <= W - 1.
        y0 = max(0, (t - W + 2) // 2)
        y1 = min(H - 1, t // 2)
        n = y1 - y0 + 1
        start = t + y0 * (W - 2)
        pix = slice(start, start + (n - 1) * step + 1, step)
        rows, below = slice(y0, y1 + 1), slice(y0 + 1, y1 + 2)
        slot = t & 3

        acc = pending[slot, :, rows]
        if limit is not None:
            np.maximum(acc, -limit, out=acc)
            np.minimum(acc, limit, out=acc)
        v = np.add(flat[pix].T, acc, out=value_buf[:, :n])
        pending[slot] = 0  # free the slot for wavefront t + 4
        np.maximum(v, lo, out=v)
        np.minimum(v, hi, out=v)
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


def _floyd_steinberg_reference(
    pixels: NDArray, palette: NDArray, *, error_limit: float | None = None
) -> NDArray[np.intp]:
    r"""Floyd-Steinberg with a plain loop over pixels: the test oracle.

    The same maths as :func:`_floyd_steinberg`, written the way it is usually
    taught, one pixel at a time in raster order. It exists so the tests can
    hold the wavefront kernel equal to it; at some 15 µs a pixel it is
    roughly 100 times slower and meant for small images only.

    Parameters
    ----------
    pixels : ndarray, shape (H, W, c) or (H, W)
        Pixel values in the image's units.
    palette : ndarray, shape (m, c)
        Palette colours in the same units.
    error_limit : float, optional
        As for :func:`_floyd_steinberg`.

    Returns
    -------
    ndarray of intp, shape (H, W)
        Index into ``palette`` of each pixel's colour.

    Examples
    --------
    >>> import numpy as np
    >>> ramp = np.array([[[128.0], [64.0], [200.0]]])
    >>> _floyd_steinberg_reference(ramp, np.array([[0.0], [255.0]]))
    array([[1, 0, 1]])
    """
    px, pal = _as_float_image(pixels, palette)
    H, W, c = px.shape
    m = pal.shape[0]
    dtype = px.dtype.type
    w_right, w_down_left, w_down, w_down_right = (
        dtype(w) for w in (_FS_RIGHT, _FS_DOWN_LEFT, _FS_DOWN, _FS_DOWN_RIGHT)
    )
    lo, hi = (bound[:, 0] for bound in _value_bounds(px, pal))
    # Accumulated error, padded by one column each side and one row below so
    # error pushed off the image lands somewhere harmless; pixel (y, x) is
    # at pending[y, x + 1].
    pending = np.zeros((H + 1, W + 2, c), dtype=px.dtype)
    labels = np.zeros((H, W), dtype=np.intp)
    for y in range(H):
        for x in range(W):
            acc = pending[y, x + 1]
            if error_limit is not None:
                acc = np.minimum(np.maximum(acc, dtype(-error_limit)), dtype(error_limit))
            v = np.minimum(np.maximum(px[y, x] + acc, lo), hi)
            dist = np.zeros(m, dtype=px.dtype)
            for ch in range(c):
                diff = v[ch] - pal[:, ch]
                dist += diff * diff
            j = int(np.argmin(dist))  # first minimum: ties to the lowest index
            labels[y, x] = j
            e = v - pal[j]
            pending[y, x + 2] += e * w_right
            pending[y + 1, x] += e * w_down_left
            pending[y + 1, x + 1] += e * w_down
            pending[y + 1, x + 2] += e * w_down_right
    return labels


def _bayer_matrix(size: int) -> NDArray[np.intp]:
    r"""The ``size`` x ``size`` Bayer index matrix, ``size`` a power of two.

    Built by the recursion :math:`B_{2n} = \begin{bmatrix} 4B_n & 4B_n + 2 \\
    4B_n + 3 & 4B_n + 1\end{bmatrix}` from :math:`B_1 = [0]`; it holds each
    of :math:`0, \dots, n^2 - 1` once, and any two consecutive values are as
    far apart in the tile as possible.

    Examples
    --------
    >>> _bayer_matrix(4)
    array([[ 0,  8,  2, 10],
           [12,  4, 14,  6],
           [ 3, 11,  1,  9],
           [15,  7, 13,  5]])
    """
    b = np.zeros((1, 1), dtype=np.intp)
    while b.shape[0] < size:
        b = np.block([[4 * b, 4 * b + 2], [4 * b + 3, 4 * b + 1]])
    return b


def _palette_spread(pal: NDArray) -> float:
    """Per-channel dither amplitude: median nearest-neighbour distance / sqrt(c)."""
    m, c = pal.shape
    if m < 2:
        return 0.0
    diff = pal[:, None, :].astype(np.float64) - pal[None, :, :]
    d2 = np.einsum("ijc,ijc->ij", diff, diff)
    np.fill_diagonal(d2, np.inf)
    return float(np.median(np.sqrt(d2.min(axis=1))) / np.sqrt(c))


def _ordered(pixels: NDArray, palette: NDArray, *, size: int = 8) -> NDArray[np.intp]:
    r"""Ordered (Bayer) dithering onto a palette.

    .. math:: l_{yx} = \arg\min_j \bigl\lVert x_{yx}
              + s\,T[y \bmod n, x \bmod n]\,\mathbf 1 - p_j \bigr\rVert^2,
              \qquad T = \frac{B_n + 1/2}{n^2} - \frac12 ,

    where :math:`B_n` is the Bayer matrix (:func:`_bayer_matrix`), so
    :math:`T` takes :math:`n^2` evenly spaced values in :math:`(-1/2, 1/2)`,
    and the spread :math:`s` is the median distance from a palette colour
    to its nearest other colour divided by :math:`\sqrt c` (see the module
    docstring for why). Ties go to the lowest palette index. Every pixel is
    independent, so the whole image is done in vectorized blocks.

    Parameters
    ----------
    pixels : ndarray, shape (H, W, c) or (H, W)
        Pixel values in the image's units (0-255 for uint8); c = 1 or 3.
    palette : ndarray, shape (m, c)
        Palette colours in the same units.
    size : int, default 8
        Side of the Bayer matrix, a power of two; ``size**2`` levels are
        rendered between two palette colours.

    Returns
    -------
    ndarray of intp, shape (H, W)
        Index into ``palette`` of each pixel's colour.

    Examples
    --------
    Mid-grey onto black and white is half white, in a checkerboard for the
    2x2 matrix:

    >>> import numpy as np
    >>> grey = np.full((2, 4, 1), 128.0)
    >>> _ordered(grey, np.array([[0.0], [255.0]]), size=2)
    array([[0, 1, 0, 1],
           [1, 0, 1, 0]])
    """
    px, pal = _as_float_image(pixels, palette)
    H, W, c = px.shape
    m = pal.shape[0]
    labels = np.zeros((H, W), dtype=np.intp)
    if m == 1 or px.size == 0:
        return labels
    bayer = _bayer_matrix(size)
    n = bayer.shape[0]
    threshold = (bayer + 0.5) / (n * n) - 0.5
    offset = (threshold * _palette_spread(pal)).astype(px.dtype)
    flat_labels = labels.reshape(-1)
    rows = max(1, _ORDERED_BLOCK // W)
    # Offsets for a band of rows: the tile repeated across the width, and
    # down a whole number of tiles so every band starts in phase.
    rows = -(-rows // n) * n
    band_offset = np.tile(offset, (rows // n, -(-W // n)))[:, :W, None]
    block = min(rows, H) * W
    nearest = _NearestSearch(pal, block)
    for y0 in range(0, H, rows):
        y1 = min(H, y0 + rows)
        v = px[y0:y1] + band_offset[: y1 - y0]
        values = np.ascontiguousarray(v.reshape(-1, c).T)
        flat_labels[y0 * W : y1 * W] = nearest(values)
    return labels


def _block_mean_error(a: NDArray, b: NDArray, block: int = 8) -> float:
    r"""Local mean-colour error between two images of the same shape.

    .. math:: E = \frac{1}{|\mathcal B|} \sum_{\beta \in \mathcal B}
              \lVert \bar a_\beta - \bar b_\beta \rVert^2

    over the ``block`` x ``block`` tiles :math:`\beta` that fit wholly in the
    image (a partial last row or column of tiles is left out), with
    :math:`\bar a_\beta` the mean colour of tile :math:`\beta`. This is what
    dithering is for: a viewer sees local averages, and dithering trades
    per-pixel error for averages closer to the original.

    Parameters
    ----------
    a, b : ndarray, shape (H, W) or (H, W, c)
        The two images, in the same units.
    block : int, default 8
        Tile side in pixels.

    Returns
    -------
    float
        The mean squared difference of tile means, summed over channels.

    Examples
    --------
    >>> import numpy as np
    >>> grey = np.full((8, 8), 128.0)
    >>> checker = np.indices((8, 8)).sum(axis=0) % 2 * 255.0
    >>> _block_mean_error(grey, checker), _block_mean_error(grey, np.zeros((8, 8)))
    (0.25, 16384.0)
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    hb, wb = a.shape[0] // block, a.shape[1] // block
    c = a.shape[2]

    def tile_means(img: NDArray) -> NDArray:
        tiles = img[: hb * block, : wb * block].reshape(hb, block, wb, block, c)
        return tiles.mean(axis=(1, 3))

    d = tile_means(a) - tile_means(b)
    return float(np.einsum("ijc,ijc->ij", d, d).mean())


def _project_rows_to_simplex(V: NDArray) -> NDArray:
    """Euclidean projection of every row of ``V`` onto the probability simplex.

    The sort-based rule (Held, Wolfe & Crowder, 1974): with ``u`` the row
    sorted in decreasing order, ``rho`` the last index where
    ``u_rho > (sum(u[:rho+1]) - 1) / (rho + 1)``, subtract that threshold and
    clip at zero.
    """
    n, m = V.shape
    U = -np.sort(-V, axis=1)
    excess = np.cumsum(U, axis=1) - 1
    ok = U * np.arange(1, m + 1) > excess
    rho = m - 1 - np.argmax(ok[:, ::-1], axis=1)
    theta = excess[np.arange(n), rho] / (rho + 1)
    return np.maximum(V - theta[:, None], 0)


def _hull_distance_sq(points: NDArray, palette: NDArray, *, n_iter: int = 1000) -> NDArray:
    r"""Squared distance from each point to the convex hull of the palette.

    The colours a dither can produce on average over an area are the convex
    combinations :math:`\sum_j w_j p_j` (:math:`w \ge 0`, :math:`\sum w = 1`)
    of the palette, so this is how far each local mean colour lies beyond
    what any dithering could reach:

    .. math:: d^2(x) = \min_{w \in \Delta} \Bigl\lVert \sum_j w_j p_j - x
              \Bigr\rVert^2 ,

    solved for all points at once by accelerated projected gradient (FISTA)
    on the weights. The returned values come from feasible weights, so they
    are never below the true distance and approach it as ``n_iter`` grows.
    Used to tell the local colours dithering can reproduce from those it
    cannot, in benchmarks and tests.

    Parameters
    ----------
    points : ndarray, shape (n, c)
        Colours to measure.
    palette : ndarray, shape (m, c)
        The palette.
    n_iter : int, default 1000
        Gradient steps.

    Returns
    -------
    ndarray of float64, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> bw = np.array([[0.0, 0.0, 0.0], [255.0, 255.0, 255.0]])
    >>> d2 = _hull_distance_sq(np.array([[100.0, 100, 100], [100, 100, 106]]), bw)
    >>> np.round(d2, 3)
    array([ 0., 24.])
    """
    P = np.asarray(palette, dtype=np.float64)
    X = np.asarray(points, dtype=np.float64).reshape(-1, P.shape[1])
    # Work in units of the palette's size so the step length is well scaled.
    scale = max(float(np.abs(P).max()), 1e-12)
    P, X = P / scale, X / scale
    step = 1.0 / (2 * np.linalg.norm(P, 2) ** 2)  # 1 / Lipschitz constant
    w = np.full((X.shape[0], P.shape[0]), 1.0 / P.shape[0])
    z, t = w, 1.0
    for _ in range(n_iter):
        grad = 2 * (z @ P - X) @ P.T
        w_next = _project_rows_to_simplex(z - step * grad)
        t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
        z = w_next + (t - 1) / t_next * (w_next - w)
        w, t = w_next, t_next
    d = w @ P - X
    return np.einsum("ij,ij->i", d, d) * scale**2
