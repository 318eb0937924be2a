r"""Dithering kernels: Floyd-Steinberg error diffusion and ordered (pattern) dithering.

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
    distance, with ties going to the lowest palette index.

What dithering can reach: the palette's convex hull
    Dithering is judged by local mean colours (:func:`_block_mean_error`,
    over 8x8 blocks): the eye averages neighbouring pixels. Any mix of
    palette colours averages to a convex combination
    :math:`\sum_j w_j p_j` (:math:`w \ge 0`, :math:`\sum_j w_j = 1`), a point
    of the palette's convex hull, so the best a dither can do for a block
    is the point of the hull nearest to the block's mean. A K-Means
    palette sits inside the cloud of image colours, so much of a photo is
    outside its hull: 34-84% of the 8x8 block means of the sample photos
    below. Leaving such a colour at its nearest palette colour, as
    nearest-colour mapping does, wastes the part of the error a mix could
    remove.

    :func:`_project_to_hull` finds that nearest point exactly. The hull's
    facets come from the subsets of palette colours whose plane has every
    colour on one side (:func:`_supporting_facets`; for large palettes
    among a growing set of candidate vertices). A colour beyond some facet
    goes to its shadow on a facet it lies over, or failing that to the
    nearest point of a facet edge; colours inside are left exactly as they
    are. Palettes that are flat (one colour, a grey line, a plane) are
    handled in their own subspace. Each distinct colour is projected once:
    0.4 s for the 1.4 million colours of a 12-megapixel photo mosaic.

Floyd-Steinberg (:func:`_floyd_steinberg`)
    Pixels are first gamut-mapped onto the hull, as above. Then they are
    visited in raster order; each takes the palette colour nearest to its
    value plus the error pushed onto it so far, and pushes its own error
    :math:`e = v - p` forward with the classic weights

    .. math:: \frac{1}{16}\begin{bmatrix} & * & 7 \\ 3 & 5 & 1\end{bmatrix}.

    Error pushed off the image is dropped. Without the gamut mapping, error
    diffusion is unstable for colours outside the hull: the part of the
    error the palette cannot express keeps its sign from pixel to pixel and
    the accumulated value runs off. The previous version clamped values to
    the image's range instead and reached only 7-36% over whole images.

    No clamp is applied after the mapping, deliberately. For a mapped colour
    on the hull's surface, choosing a palette colour inside the hull leaves
    an outward error that no later pixel can take back, so the accumulated
    value drifts outward until only the surface's own colours are nearest,
    and stays there: that is what brings the local mean onto the surface.
    The drift is bounded by the palette's shape (it reached 300-700 units on
    the sample photos) and any clamp cuts into it: the palette's bounding
    box turned chelsea's k = 16 gain from +26% to -1%, the box widened by
    64 units to +23%. Also tried and rejected: dropping the outward part of
    the accumulated error (the worst case fell to +13%), and searching only
    the colours of the surface a mapped colour lies on (+2 points, but the
    far colours of a large facet then speckle smooth areas visibly).
    ``error_limit`` stays available as an optional anti-windup, off by
    default.

    Speed: pixel ``(y, x)`` needs the errors of ``(y, x-1)``, ``(y-1, x-1)``,
    ``(y-1, x)`` and ``(y-1, x+1)`` only, so all pixels with the same
    :math:`t = x + 2y` are independent. The kernel walks the
    :math:`W + 2(H - 1)` anti-diagonal wavefronts ``t`` in order and does the
    nearest-colour search and the error scatter for a whole wavefront at once.
    In the row-major flat image a wavefront is a plain strided slice
    (flat index :math:`yW + t - 2y = t + y(W - 2)`), so no index arrays are
    built; its values are gathered from the mapped distinct colours. A pixel
    at ``t`` sends error to wavefronts ``t+1`` (right, down-left), ``t+2``
    (down) and ``t+3`` (down-right) only, so the pending error lives in a
    ring of four small buffers indexed by channel and row, not in a
    full-size error image. Within a wavefront everything is laid out
    channel-first, so each numpy call runs along the wavefront (see
    :class:`_NearestSearch`). Measured on this project's 2-core machine
    while other jobs ran, 16 colours, median of 5 runs: 1.8 s wall time for
    a 4000x3000 RGB photo (astronaut, enlarged) and 2.2 s for the
    benchmarks' 12-megapixel mosaic of six photos; ``recolor`` with this
    dither takes 2.0 s end to end. The per-pixel loop of
    :func:`_floyd_steinberg_reference` takes about 14 µs a pixel, some 3
    minutes for the same image. Large float or Oklab images, whose distinct
    colours are not cheap to find, have every pixel projected: about 5.5 s
    for the enlarged astronaut in Oklab.

    Exactness: the scatter adds the four contributions to each target pixel
    in the same order as the raster loop (from ``(y-1, x-1)``, ``(y-1, x)``,
    ``(y-1, x+1)``, ``(y, x-1)``). They go into an accumulator that starts
    at zero and is added to the pixel last, exactly as
    :func:`_floyd_steinberg_reference` does, and both use the same gamut
    mapping. Every operation is then the same IEEE operation on the same
    operands, so the two kernels give identical labels, not merely close
    ones, in float32 and float64 alike.

Ordered dithering (:func:`_ordered`)
    Knoll's pattern dithering (as described by Yliluoma, below): every
    distinct colour :math:`g` gets a *mixing plan*, :math:`N = n^2` palette
    colours whose mean approximates :math:`g`, built by error diffusion
    along the plan (:func:`_mixing_plans`), sorted by brightness; the pixel
    at :math:`(y, x)` takes plan entry :math:`B_n[y \bmod n, x \bmod n]` of
    its colour, with :math:`B_n` the Bayer matrix (:func:`_bayer_matrix`).
    A flat area thus shows its whole plan in every :math:`n \times n` tile,
    and a plan can mix colours in any direction, where the previous version
    (one threshold offset along the grey axis) mixed only along grey and
    reached 7-25%. For a colour outside the hull the plan's error grows in
    the direction the palette cannot follow, and the plan leans on the
    palette colours farthest that way, which moves its mean to the hull's
    side; measured, this beat planning for the gamut-mapped colour (+30%
    against +26% on chelsea, k = 16), so ordered dithering does not map
    first. Plan length was measured at 16, 32 and 64 (+22%, +27%, +30% on
    chelsea, k = 16): the default 8x8 matrix uses 64. Knoll's error factor
    is kept at 1 (plain error diffusion along the plan; 0.75 gave +28%).
    Every plan step runs for all colours at once. Above 2**18 distinct
    colours, colours are pooled on a grid first (:func:`_plan_goals`);
    pooling the sample photos on grids of step 2-4 moved the figures below
    by under a point. Measured as for
    Floyd-Steinberg: 1.3 s for the enlarged astronaut and 1.1 s for the
    mosaic.

Quality, measured (scratch benchmark, not part of the tests)
    Local mean-colour error over the whole image (:func:`_block_mean_error`:
    squared difference of 8x8 block means, summed over channels, averaged
    over blocks), in uint8 units squared, with palettes from
    ``extract_palette(image, k)`` and images from ``skimage.data``.
    Percentages are reductions against nearest-colour mapping (``recolor``).
    "beyond" is the share of blocks whose mean lies more than 1 unit from
    the palette's hull; "bound" is the mean squared distance of the block
    means to the hull, the error no dither can remove.

    ========= == ====== ======= ============ ============ ============
    image     k  beyond recolor bound        FS           ordered 8x8
    ========= == ====== ======= ============ ============ ============
    chelsea   8  70%    149.2   78.6 (+47%)  101.6 (+32%) 98.4 (+34%)
    chelsea   16 42%    58.7    28.5 (+51%)  43.3 (+26%)  40.9 (+30%)
    coffee    8  60%    193.3   85.6 (+56%)  110.1 (+43%) 105.3 (+45%)
    coffee    16 34%    74.2    17.0 (+77%)  37.4 (+50%)  30.3 (+59%)
    astronaut 8  84%    366.9   152.7 (+58%) 209.5 (+43%) 201.4 (+45%)
    astronaut 16 53%    139.2   24.4 (+82%)  58.2 (+58%)  49.9 (+64%)
    rocket    8  67%    134.8   39.8 (+71%)  57.5 (+57%)  60.1 (+55%)
    rocket    16 51%    54.1    8.1 (+85%)   17.1 (+68%)  18.3 (+66%)
    ========= == ====== ======= ============ ============ ============

    Both methods remove 26-68% of the error, about half to four fifths of
    what any dither could. The held-out scikit-learn photos (china,
    flower) gave +30% to +43%. The bundled copy of chelsea gives the same
    figures as the first two rows, which the tests hold to at least +20%.

References
    R. W. Floyd and L. Steinberg, "An adaptive algorithm for spatial
    greyscale", Proceedings of the SID 17(2), 1976.
    J. Yliluoma, "Arbitrary-palette positional dithering algorithm",
    https://bisqwit.iki.fi/story/howto/dither/jy/ (Knoll's algorithm).
"""

from __future__ import annotations

from itertools import combinations, product

import numpy as np
from numpy.typing import NDArray

# Floyd-Steinberg weights (Floyd & Steinberg, 1976): right, down-left, down,
# down-right. All are dyadic, so they are exact in any float type.
_FS_RIGHT, _FS_DOWN_LEFT, _FS_DOWN, _FS_DOWN_RIGHT = 7 / 16, 3 / 16, 5 / 16, 1 / 16

# Hull geometry, relative to the palette's extent: singular values below
# _FLAT_TOL make the palette flat in that direction; colours within
# _INSIDE_TOL of the hull count as inside and are left exactly as they are.
_FLAT_TOL = 1e-7
_INSIDE_TOL = 1e-9
# Palettes up to this size have their facets found among all point subsets
# (2024 triples); larger ones start from a few extreme points.
_ALL_SUBSETS_MAX = 24
_SUBSET_BLOCK = 4096
# Points per block when projecting: (block, facets) scratch stays a few MB.
_POINT_BLOCK = 1 << 15
# OpenBLAS keeps a product on one thread while rows * columns * inner <= 2**18.
_BLAS_ONE_THREAD = 1 << 18

# Colours of images up to this many pixels are found by sorting them
# (numpy.unique) when they are not 8-bit values; larger ones are not sorted.
_SORT_MAX_PIXELS = 1 << 18
# Ordered dithering computes one mixing plan per distinct colour; above this
# many colours, colours are pooled on a grid first (see _plan_goals).
_MAX_GOALS = 1 << 18
# Pixels per band when reading labels out of the plans.
_LABEL_BAND = 1 << 20


def _as_float_image(pixels: NDArray, palette: NDArray) -> tuple[NDArray, NDArray]:
    """``(H, W, c)`` pixels and ``(m, c)`` palette, C-contiguous, one float dtype."""
    px = np.asarray(pixels)
    dtype = np.float64 if px.dtype == np.float64 else np.float32
    if px.ndim == 2:
        px = px[..., None]
    px = np.ascontiguousarray(px, dtype=dtype)
    pal = np.ascontiguousarray(palette, dtype=dtype).reshape(-1, px.shape[2])
    return px, pal


# ---------------------------------------------------------------------------
# The palette's convex hull: the colours any dither can mix
# ---------------------------------------------------------------------------

def _affine_frame(pal: NDArray) -> tuple[NDArray, NDArray, float]:
    """Centre, orthonormal basis ``(c, r)`` and extent of the palette's affine hull.

    ``r`` is the palette's affine dimension: 0 for one colour, 1 for colours
    on a line (a grey palette in RGB), 2 for a plane, 3 in general.
    """
    centre = pal.mean(axis=0)
    extent = float(np.abs(pal - centre).max())
    if extent == 0.0:
        return centre, np.zeros((pal.shape[1], 0)), 0.0
    _, sing, vt = np.linalg.svd(pal - centre, full_matrices=False)
    r = int((sing > _FLAT_TOL * extent).sum())
    return centre, vt[:r].T, extent


def _facet_normals(a: NDArray, b: NDArray, c: NDArray | None) -> NDArray:
    """Normals (not unit) of segments ``ab`` in 2-D, or triangles ``abc`` in 3-D."""
    if c is None:
        d = b - a
        return np.stack([-d[:, 1], d[:, 0]], axis=1)
    return np.cross(b - a, c - a)


def _supporting_facets(q: NDArray, tol: float) -> tuple[NDArray, NDArray, NDArray]:
    """Facets of conv(``q``) among all ``r``-subsets of the points ``q``, ``r`` = 2 or 3.

    A subset is a facet when every point lies on one side of the line
    (plane) through it, within ``tol``. Enumerating subsets costs
    :math:`O(m^{r+1})`, so for large palettes it runs on a growing set of
    candidate vertices: start from the points extreme along a few fixed
    directions, and while some point lies outside the candidates' hull, add
    the point farthest beyond each facet it violates. A point inside the
    candidates' hull is not a vertex of the whole hull, so the result is
    exact. Coplanar points (common: palettes hold integer colours) give
    overlapping facets, which is harmless: each lies on the boundary.

    Returns
    -------
    idx : ndarray of intp, shape (F, r)
        Point indices of each facet.
    normals : ndarray, shape (F, r)
        Unit outward normals.
    offsets : ndarray, shape (F,)
        ``normals @ x <= offsets`` for every ``x`` in the hull.
    """
    m, r = q.shape
    extent = float(np.abs(q).max())
    if m <= _ALL_SUBSETS_MAX:
        keep = np.arange(m)
    else:
        dirs = np.array(list(product((-1, 0, 1), repeat=r))[: 3**r // 2])  # one of each +-pair
        proj = q @ dirs.T
        keep = np.unique(np.concatenate([proj.argmax(axis=0), proj.argmin(axis=0)]))
    while True:
        pts = q[keep]
        subsets = np.array(list(combinations(range(len(keep)), r)), dtype=np.intp)
        found_idx, found_n, found_off = [], [], []
        for s0 in range(0, len(subsets), _SUBSET_BLOCK):
            sub = subsets[s0 : s0 + _SUBSET_BLOCK]
            a = pts[sub[:, 0]]
            n = _facet_normals(a, pts[sub[:, 1]], pts[sub[:, 2]] if r == 3 else None)
            length = np.sqrt(np.einsum("ij,ij->i", n, n))
            ok = length > _FLAT_TOL * extent ** (r - 1)  # skip degenerate subsets
            sub, a, n = sub[ok], a[ok], n[ok] / length[ok, None]
            off = np.einsum("ij,ij->i", n, a)
            side = pts @ n.T - off
            # Every point below the plane: n points out; every point above:
            # -n does. Both (candidates all in one plane) keeps both sides.
            for sign, facet in ((1.0, (side <= tol).all(axis=0)),
                                (-1.0, (side >= -tol).all(axis=0))):
                found_idx.append(keep[sub[facet]])
                found_n.append(sign * n[facet])
                found_off.append(sign * off[facet])
        idx = np.concatenate(found_idx)
        normals, offsets = np.concatenate(found_n), np.concatenate(found_off)
        beyond = q @ normals.T - offsets  # (m, F)
        violated = beyond.max(axis=0) > tol
        if not violated.any():
            return idx, normals, offsets
        keep = np.union1d(keep, beyond[:, violated].argmax(axis=0))


def _first_min(d: NDArray) -> NDArray[np.intp]:
    """Row of the first minimum in each column of ``d`` (k, n), like ``argmin(axis=0)``.

    numpy's argmin over axis 0 copies to a transposed layout and searches
    each short column on its own. Instead: the column minima, a mask of the
    entries equal to them, and a max-reduction of ``(k - row) * mask``,
    whose largest value belongs to the first minimum. Every pass runs along
    the long axis.
    """
    k = d.shape[0]
    rank_of = np.arange(k, 0, -1, dtype=np.min_scalar_type(k))[:, None]
    return np.subtract(k, ((d == d.min(axis=0)) * rank_of).max(axis=0), dtype=np.intp)


def _thin_product(a: NDArray, b: NDArray) -> NDArray:
    """``a @ b`` for a short ``a`` (k, r) and a long ``b`` (r, n), in float64.

    With r of 1-3, a product this thin is cheap, but OpenBLAS runs it on
    several threads once k * r * n exceeds 2**18, and starting them costs
    far more than the sums: on this project's 2-core machine a (54, 3) by
    (3, 32768) product took 15 ms that way, 9 ms as an einsum and 1 ms in
    chunks small enough to stay on one thread, which is what this does.
    """
    k, r = a.shape
    n = b.shape[1]
    out = np.empty((k, n))
    chunk = max(1, _BLAS_ONE_THREAD // (k * r))
    for s0 in range(0, n, chunk):
        np.matmul(a, b[:, s0 : s0 + chunk], out=out[:, s0 : s0 + chunk])
    return out


def _segment_nearest(z: NDArray, a: NDArray, d: NDArray) -> tuple[NDArray, NDArray]:
    """Nearest point to each column of ``z`` (r, n) on any segment ``a + t d``, t in [0, 1].

    Returns the points (r, n) and their squared distances (n,).
    """
    dd = np.einsum("ec,ec->e", d, d)[:, None]
    za = _thin_product(a, z)
    w = _thin_product(d, z)
    w -= np.einsum("ec,ec->e", a, d)[:, None]  # (z - a) . d
    t = np.clip(w / dd, 0.0, 1.0)
    # |z - a - t d|^2 = |z|^2 - 2 z.a + |a|^2 + t (t |d|^2 - 2 (z - a).d)
    dist = np.einsum("cn,cn->n", z, z) - 2 * za + np.einsum("ec,ec->e", a, a)[:, None]
    dist += t * (t * dd - 2 * w)
    e = _first_min(dist)
    cols = np.arange(z.shape[1])
    return a[e].T + t[e, cols] * d[e].T, dist[e, cols]


class _Hull:
    r"""The convex hull of a palette, for projecting colours onto it.

    Built once per palette (about a millisecond for 16 colours). Works in
    the palette's own affine subspace (:func:`_affine_frame`), so flat
    palettes (collinear, coplanar) are handled exactly: the part of a colour
    off that subspace is simply dropped, since the hull lies inside it.

    Products go through :func:`_thin_product`, and columns are picked
    with ``np.compress``, which keeps them row-major (``z[:, mask]`` would
    not).
    """

    def __init__(self, palette: NDArray) -> None:
        pal = np.asarray(palette, dtype=np.float64)
        self.palette = pal
        self.centre, self.basis, extent = _affine_frame(pal)
        self.r = self.basis.shape[1]
        self.tol = _INSIDE_TOL * max(extent, 1e-300)
        self.q = (pal - self.centre) @ self.basis
        if self.r == 1:
            self.lo, self.hi = float(self.q.min()), float(self.q.max())
        elif self.r >= 2:
            idx, self.normals, self.offsets = _supporting_facets(self.q, self.tol)
            if self.r == 2:
                self.seg_a, self.seg_d = self.q[idx[:, 0]], self.q[idx[:, 1]] - self.q[idx[:, 0]]
            else:
                self._triangles(idx)

    def _triangles(self, idx: NDArray) -> None:
        """Edges of the facets, and each facet's three in-plane inward edge normals."""
        q = self.q
        edges = np.unique(np.sort(np.concatenate([idx[:, [0, 1]], idx[:, [1, 2]],
                                                  idx[:, [0, 2]]]), axis=1), axis=0)
        self.seg_a, self.seg_d = q[edges[:, 0]], q[edges[:, 1]] - q[edges[:, 0]]
        # A point whose shadow on a facet's plane satisfies all three
        # w . z >= w . a lies over the triangle; w is in the plane, so it can
        # be tested on the point itself.
        ws, wo = [], []
        for i, j, k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
            a, b, c = q[idx[:, i]], q[idx[:, j]], q[idx[:, k]]
            w = np.cross(self.normals, b - a)
            w /= np.sqrt(np.einsum("ij,ij->i", w, w))[:, None]
            w *= np.sign(np.einsum("ij,ij->i", w, c - a))[:, None]
            ws.append(w)
            wo.append(np.einsum("ij,ij->i", w, a))
        self.edge_w = np.stack(ws, axis=1).reshape(-1, 3)  # (3F, 3), facet-major
        self.edge_off = np.stack(wo, axis=1).reshape(-1)  # (3F,)

    def project(self, points: NDArray) -> NDArray:
        """Nearest hull point of every row of ``points``; rows inside come back unchanged."""
        x = np.asarray(points, dtype=np.float64)
        out = x.copy()
        for s0 in range(0, x.shape[0], _POINT_BLOCK):
            xb = out[s0 : s0 + _POINT_BLOCK]
            if self.r == 0:
                xb[np.abs(xb - self.palette[0]).max(axis=1) > self.tol] = self.palette[0]
                continue
            rel = (xb - self.centre).T  # (c, b)
            z = _thin_product(self.basis.T, rel)
            zp, moved = self._project_reduced(z)
            if self.r < x.shape[1]:
                off = rel - _thin_product(self.basis, z)
                moved |= np.einsum("cn,cn->n", off, off) > self.tol**2
            xb[moved] = self.centre + _thin_product(self.basis, np.compress(moved, zp, axis=1)).T
        return out

    def _project_reduced(self, z: NDArray) -> tuple[NDArray, NDArray]:
        """Project columns ``z`` (r, n) given in the subspace's coordinates; say which moved."""
        if self.r == 1:
            zp = np.clip(z, self.lo, self.hi)
            return zp, np.abs(zp - z)[0] > self.tol
        side = _thin_product(self.normals, z)
        side -= self.offsets[:, None]  # > 0: beyond the facet's plane
        moved = side.max(axis=0) > self.tol
        zp = z.copy()
        zo = np.compress(moved, z, axis=1)
        if self.r == 2:
            zp[:, moved] = _segment_nearest(zo, self.seg_a, self.seg_d)[0]
            return zp, moved
        # A point beyond a facet whose shadow on the facet's plane falls in
        # the triangle has that shadow as its nearest hull point: the whole
        # hull lies behind the plane. Otherwise the nearest point is on an
        # edge.
        so = np.compress(moved, side, axis=1)
        over = _thin_product(self.edge_w, zo)
        over = over >= (self.edge_off - self.tol)[:, None]
        over = over.reshape(len(so), 3, -1).all(axis=1) & (so > self.tol)
        f = _first_min(~over)
        cols = np.arange(zo.shape[1])
        has = over[f, cols]
        near = np.empty_like(zo)
        near[:, has] = zo[:, has] - so[f[has], cols[has]] * self.normals[f[has]].T
        near[:, ~has] = _segment_nearest(np.compress(~has, zo, axis=1), self.seg_a, self.seg_d)[0]
        zp[:, moved] = near
        return zp, moved


def _project_to_hull(points: NDArray, palette: NDArray) -> NDArray:
    r"""Nearest point of the palette's convex hull to each colour (gamut mapping).

    .. math:: \pi(x) = \arg\min_{y \in \operatorname{conv}\{p_j\}} \lVert y - x \rVert

    Colours already in the hull (within a relative 1e-9 of its size) are
    returned unchanged, bit for bit. The hull is found exactly, by its
    facets (:func:`_supporting_facets`); a colour beyond it goes to the
    nearest point of its facets and edges. Flat palettes (one colour, a
    line, a plane) are handled in their own subspace.

    Parameters
    ----------
    points : ndarray, shape (n, c)
        Colours to map.
    palette : ndarray, shape (m, c)
        The palette.

    Returns
    -------
    ndarray of float64, shape (n, c)

    Examples
    --------
    With black and white in RGB the hull is the grey diagonal, and a colour
    goes to the grey of the same mean:

    >>> import numpy as np
    >>> bw = np.array([[0.0, 0.0, 0.0], [255.0, 255.0, 255.0]])
    >>> _project_to_hull(np.array([[200.0, 100.0, 0.0], [300.0, 300.0, 300.0]]), bw)
    array([[100., 100., 100.],
           [255., 255., 255.]])
    """
    return _Hull(palette).project(points)


def _hull_distance_sq(points: NDArray, palette: NDArray) -> NDArray:
    r"""Squared distance from each colour to the convex hull of the palette.

    The colours a dither can produce on average over an area are the convex
    combinations :math:`\sum_j w_j p_j` (:math:`w \ge 0`, :math:`\sum w = 1`)
    of the palette, so this is how far a local mean colour lies beyond what
    any dithering could reach: :math:`d^2(x) = \lVert x - \pi(x)\rVert^2`
    with :math:`\pi` the projection of :func:`_project_to_hull`.

    Parameters
    ----------
    points : ndarray, shape (n, c)
        Colours to measure.
    palette : ndarray, shape (m, c)
        The palette.

    Returns
    -------
    ndarray of float64, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> bw = np.array([[0.0, 0.0, 0.0], [255.0, 255.0, 255.0]])
    >>> _hull_distance_sq(np.array([[100.0, 100, 100], [100, 100, 106]]), bw)
    array([ 0., 24.])
    """
    x = np.asarray(points, dtype=np.float64)
    x = x.reshape(-1, np.asarray(palette).shape[1])
    d = x - _project_to_hull(x, palette)
    return np.einsum("ij,ij->i", d, d)


# ---------------------------------------------------------------------------
# Distinct colours of the pixels, and colours pooled on a grid
# ---------------------------------------------------------------------------

def _channel_range(px: NDArray) -> tuple[NDArray, NDArray]:
    """Per-channel minimum and maximum of ``(H, W, c)`` pixels."""
    # Reduce over rows first: a reduction whose inner loop runs over the c
    # channels of (H*W, c) is some 30 times slower.
    return px.min(axis=0).min(axis=0), px.max(axis=0).max(axis=0)


def _as_uint8(px: NDArray, lo: NDArray, hi: NDArray) -> NDArray[np.uint8] | None:
    """The pixels as uint8 if every value is a whole number in 0-255, else None."""
    if lo.min() < 0 or hi.max() > 255:
        return None
    u8 = px.astype(np.uint8)
    return u8 if np.array_equal(u8, px) else None


def _cell_index(digits: list[NDArray], levels: int) -> tuple[NDArray, NDArray]:
    """Cell of every pixel from its per-channel cell coordinates ``digits``.

    Returns each pixel's cell index (occupied cells numbered in code order)
    and the codes of the occupied cells, code = the coordinates read as
    base-``levels`` digits. Codes are below ``levels ** c <= 2**24``, so
    occupied cells are found with a flag array rather than a sort.
    """
    codes = digits[0].astype(np.int32)
    for k in digits[1:]:
        codes *= levels
        codes += k
    n_codes = levels ** len(digits)
    seen = np.zeros(n_codes, dtype=bool)
    seen[codes] = True
    cells = np.flatnonzero(seen)
    lut = np.empty(n_codes, dtype=np.int32)
    lut[cells] = np.arange(cells.size, dtype=np.int32)
    return lut[codes], cells


def _distinct_colors(px: NDArray, u8: NDArray | None) -> tuple[NDArray, NDArray] | None:
    """Distinct colours ``(g, c)`` of ``(H, W, c)`` pixels and each pixel's colour index.

    Cheap for 8-bit values ``u8`` (packed codes) and for small images
    (``numpy.unique``); ``None`` for large images of other values, where
    sorting every pixel would cost more than the work it saves.
    """
    H, W, c = px.shape
    if u8 is not None:
        flat = u8.reshape(-1, c)
        inverse, cells = _cell_index([flat[:, ch] for ch in range(c)], 256)
        colors = np.stack(np.unravel_index(cells, (256,) * c), axis=1).astype(np.float64)
        return colors, inverse
    if H * W <= _SORT_MAX_PIXELS:
        colors, inverse = np.unique(px.reshape(-1, c), axis=0, return_inverse=True)
        return colors.astype(np.float64), inverse.reshape(-1)
    return None


def _into_hull(px: NDArray, pal: NDArray) -> tuple[NDArray, NDArray | None]:
    """The pixels' colours with every one outside the palette's hull moved onto it.

    Colours inside are untouched and the dtype is kept. Returns ``(colors,
    inverse)``: the distinct colours ``(g, c)`` and each pixel's index into
    them when those are cheap to find (:func:`_distinct_colors`), so each is
    projected once; otherwise every pixel ``(H * W, c)`` and ``None``.
    """
    H, W, c = px.shape
    hull = _Hull(pal)
    lo, hi = _channel_range(px)
    distinct = _distinct_colors(px, _as_uint8(px, lo, hi))
    if distinct is None:
        return hull.project(px.reshape(-1, c)).astype(px.dtype), None
    colors, inverse = distinct
    return hull.project(colors).astype(px.dtype), inverse


# ---------------------------------------------------------------------------
# Floyd-Steinberg error diffusion
# ---------------------------------------------------------------------------

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


def _floyd_steinberg(
    pixels: NDArray, palette: NDArray, *, error_limit: float | None = None
) -> NDArray[np.intp]:
    r"""Floyd-Steinberg error diffusion onto a palette, after gamut mapping.

    Every colour outside the palette's convex hull is first replaced by the
    nearest point of the hull (:func:`_project_to_hull`), giving
    :math:`x'_{yx}`. Then, visiting pixels in raster order, pixel
    :math:`(y, x)` takes

    .. math:: v_{yx} = x'_{yx} + a_{yx}, \qquad
              l_{yx} = \arg\min_j \lVert v_{yx} - p_j \rVert^2, \qquad
              e_{yx} = v_{yx} - p_{l_{yx}},

    and adds :math:`\tfrac{7}{16}e` to :math:`a_{y,x+1}`, :math:`\tfrac{3}{16}e`
    to :math:`a_{y+1,x-1}`, :math:`\tfrac{5}{16}e` to :math:`a_{y+1,x}` and
    :math:`\tfrac{1}{16}e` to :math:`a_{y+1,x+1}` (dropped outside the image).
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
        Anti-windup, off by default. If given, the accumulated error
        :math:`a_{yx}` is clipped to ``[-error_limit, error_limit]`` per
        channel before it is added (0 gives nearest-colour mapping of the
        gamut-mapped pixels).

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
    colors, inverse = _into_hull(px, pal)
    # Scatter weights in the order the scatter below uses them.
    weights = np.array(
        [_FS_DOWN_LEFT, _FS_RIGHT, _FS_DOWN, _FS_DOWN_RIGHT], dtype=px.dtype
    )[:, None, None]
    limit = None if error_limit is None else px.dtype.type(error_limit)
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
        # The wavefront's gamut-mapped values, channel-first.
        v = value_buf[:, :n]
        if inverse is None:
            v[:] = colors_t[:, pix]
        else:
            np.take(colors_t, inverse[pix], axis=1, out=v)
        v += acc
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


def _floyd_steinberg_reference(
    pixels: NDArray, palette: NDArray, *, error_limit: float | None = None
) -> NDArray[np.intp]:
    r"""Floyd-Steinberg with a plain loop over pixels: the test oracle.

    The same maths as :func:`_floyd_steinberg` (the same gamut mapping
    first), written the way it is usually taught, one pixel at a time in
    raster order. It exists so the tests can hold the wavefront kernel equal
    to it; at some 12 µs a pixel it is roughly 100 times slower and meant
    for small images only.

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
    labels = np.zeros((H, W), dtype=np.intp)
    if m == 1 or px.size == 0:
        return labels
    colors, inverse = _into_hull(px, pal)
    px = (colors if inverse is None else colors[inverse]).reshape(H, W, c)
    dtype = px.dtype.type
    w_right, w_down_left, w_down, w_down_right = (
        dtype(w) for w in (_FS_RIGHT, _FS_DOWN_LEFT, _FS_DOWN, _FS_DOWN_RIGHT)
    )
    # Accumulated error, padded by one column each side and one row below so
    # error pushed off the image lands somewhere harmless; pixel (y, x) is
    # at pending[y, x + 1].
    pending = np.zeros((H + 1, W + 2, c), dtype=px.dtype)
    for y in range(H):
        for x in range(W):
            acc = pending[y, x + 1]
            if error_limit is not None:
                acc = np.minimum(np.maximum(acc, dtype(-error_limit)), dtype(error_limit))
            v = px[y, x] + acc
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


# ---------------------------------------------------------------------------
# Ordered dithering with mixing plans
# ---------------------------------------------------------------------------

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


def _plan_goals(px: NDArray, max_goals: int) -> tuple[NDArray, NDArray]:
    r"""The colours to make mixing plans for, and each pixel's one.

    The distinct colours when there are at most ``max_goals`` of them (or
    they cannot be counted cheaply). Otherwise colours are pooled on a grid
    of step :math:`q u` per channel, with :math:`u` = 1 for 8-bit values
    and 1/255 of the value range otherwise, and :math:`q` the smallest
    integer (found in a step or two) that leaves at most ``max_goals``
    occupied cells; each cell's goal is the mean colour of its pixels, so
    over all pixels the goals keep the image's mean. A 12-megapixel photo
    has about a million distinct colours and needs :math:`q` = 2 or 3,
    which moves an 8-bit pixel's goal by at most :math:`q - 1` units per
    channel.

    Returns
    -------
    goals : ndarray of float64, shape (g, c)
    inverse : ndarray of int, shape (H * W,)
        Index into ``goals`` of every pixel.
    """
    H, W, c = px.shape
    lo, hi = _channel_range(px)
    u8 = _as_uint8(px, lo, hi)
    distinct = _distinct_colors(px, u8)
    if distinct is not None and len(distinct[0]) <= max_goals:
        return distinct
    flat = px.reshape(-1, c)
    span = float((hi - lo).max())
    unit = 1.0 if u8 is not None or span == 0 else span / 255
    # Occupied cells fall roughly as 1/q**2 on photos: that gives the first
    # guess from the colour count, and the next from the cell count.
    q = 1 if distinct is None else int(np.ceil(np.sqrt(len(distinct[0]) / max_goals)))
    while True:
        step = q * unit
        levels = int(span // step) + 1
        if u8 is not None:  # whole-number steps: integer division is exact
            flat8, lo8 = u8.reshape(-1, c), lo.astype(np.uint8)
            digits = [(flat8[:, ch] - lo8[ch]) // np.uint16(q) for ch in range(c)]
        else:
            digits = [np.minimum(((flat[:, ch] - lo[ch]) / step).astype(np.int32), levels - 1)
                      for ch in range(c)]
        inverse, cells = _cell_index(digits, levels)
        if cells.size <= max_goals:
            break
        q = max(q + 1, int(np.ceil(q * np.sqrt(cells.size / max_goals))))
    g = cells.size
    counts = np.bincount(inverse, minlength=g)
    goals = np.stack(
        [np.bincount(inverse, weights=flat[:, ch], minlength=g) / counts for ch in range(c)],
        axis=1,
    )
    return goals, inverse


def _mixing_plans(goals: NDArray, palette: NDArray, n_plan: int) -> NDArray:
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
    >>> pal = np.array([[0.0], [200.0]])
    >>> _mixing_plans(np.array([[100.0], [50.0]]), pal, 8)
    array([[0, 0, 0, 0, 1, 1, 1, 1],
           [0, 0, 0, 0, 0, 0, 1, 1]], dtype=uint8)
    """
    g = np.asarray(goals, dtype=np.float64)
    pal = np.asarray(palette, dtype=np.float64)
    n, c = g.shape
    m = pal.shape[0]
    # Channel-first, as in _NearestSearch: distances (m, b) come out of one
    # product, and the first minimum of each column is found by a reduction
    # along the batch rather than by argmin over many short rows.
    coef = np.hstack([-2.0 * pal, np.einsum("ij,ij->i", pal, pal)[:, None]])  # (m, c+1)
    pal_t = np.ascontiguousarray(pal.T)
    rank_dtype = np.min_scalar_type(m)
    rank_of = np.arange(m, 0, -1, dtype=rank_dtype)[:, None]  # m - j
    plans = np.empty((n_plan, n), dtype=np.min_scalar_type(m - 1))
    # Goals per block: the product stays on one BLAS thread (_thin_product).
    block = max(1, _BLAS_ONE_THREAD // (m * (c + 1)))
    b_max = min(n, block)
    dist = np.empty((m, b_max))
    flags = np.empty((m, b_max), dtype=bool)
    ranks = np.empty((m, b_max), dtype=rank_dtype)
    for s0 in range(0, n, block):
        gb = np.ascontiguousarray(g[s0 : s0 + block].T)  # (c, b)
        b = gb.shape[1]
        t = np.ones((c + 1, b))  # goal + accumulated error, then a row of 1
        target = t[:c]
        target[:] = gb
        d, fl, rk = dist[:, :b], flags[:, :b], ranks[:, :b]
        for i in range(n_plan):
            np.matmul(coef, t, out=d)
            np.equal(d, d.min(axis=0), out=fl)
            np.multiply(fl, rank_of, out=rk)
            j = np.subtract(m, rk.max(axis=0), dtype=np.intp)
            plans[i, s0 : s0 + b] = j
            target += gb
            target -= np.take(pal_t, j, axis=1)
    plans = plans.T
    order = np.argsort(pal.sum(axis=1), kind="stable")
    rank = np.empty(m, dtype=plans.dtype)
    rank[order] = np.arange(m)
    return order.astype(plans.dtype)[np.sort(rank[plans], axis=1)]


def _ordered(
    pixels: NDArray, palette: NDArray, *, size: int = 8, max_goals: int = _MAX_GOALS
) -> NDArray[np.intp]:
    r"""Ordered dithering onto a palette with Knoll's mixing plans.

    Each colour :math:`g` gets a plan of :math:`N = n^2` palette colours
    whose mean approximates it (:func:`_mixing_plans`); the pixel at
    :math:`(y, x)` takes entry :math:`B_n[y \bmod n, x \bmod n]` of its
    colour's plan, :math:`B_n` the Bayer matrix (:func:`_bayer_matrix`):

    .. math:: l_{yx} = \mathrm{plan}(x_{yx})\bigl[B_n[y \bmod n, x \bmod n]\bigr].

    So an area of one colour shows its whole plan in every :math:`n \times n`
    tile, and its mean there is the plan's mean. Plans are made once per
    distinct colour (pooled on a grid above ``max_goals`` colours, see
    :func:`_plan_goals`); every step is vectorized over all colours.

    Parameters
    ----------
    pixels : ndarray, shape (H, W, c) or (H, W)
        Pixel values in the image's units (0-255 for uint8); c = 1 or 3.
    palette : ndarray, shape (m, c)
        Palette colours in the same units.
    size : int, default 8
        Side of the Bayer matrix, a power of two; plans have ``size**2``
        entries.
    max_goals : int, default 65536
        Most plans to make; more distinct colours are pooled on a grid.

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
    goals, inverse = _plan_goals(px, max_goals)
    bayer = _bayer_matrix(size)
    n = bayer.shape[0]
    plans = _mixing_plans(goals, pal, n * n).ravel()
    # Plan entry of every pixel of a band of whole tile rows: the Bayer
    # matrix tiled across the width, so every band starts in phase.
    rows = -(-max(1, _LABEL_BAND // W) // n) * n
    band_slot = np.tile(bayer, (rows // n, -(-W // n)))[:, :W].reshape(-1)
    flat_labels = labels.reshape(-1)
    for y0 in range(0, H, rows):
        y1 = min(H, y0 + rows)
        band = slice(y0 * W, y1 * W)
        flat_labels[band] = plans[inverse[band] * (n * n) + band_slot[: (y1 - y0) * W]]
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
