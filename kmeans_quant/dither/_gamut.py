r"""The palette's convex hull: the colours any dither can mix, and gamut mapping.

Any mix of palette colours averages to a convex combination
:math:`\sum_j w_j p_j` (:math:`w \ge 0`, :math:`\sum_j w_j = 1`), a point of
the palette's convex hull, so the best a dither can do for an area is the
point of the hull nearest to the area's mean colour. :func:`project_to_hull`
finds that point exactly. The hull's facets come from the subsets of
palette colours whose plane has every colour on one side
(:func:`_supporting_facets`; for large palettes among a growing set of
candidate vertices). A colour beyond some facet goes to its shadow on a
facet it lies over, or failing that to the nearest point of a facet edge;
colours inside are left exactly as they are. Palettes that are flat (one
colour, a grey line, a plane) are handled in their own subspace.
"""

from __future__ import annotations

from itertools import combinations, product

import numpy as np
from numpy.typing import NDArray

from ..engine._steps import BLAS_ONE_THREAD, first_min

__all__ = ["Hull", "project_to_hull", "hull_distance_sq"]

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
            for sign, facet in (
                (1.0, (side <= tol).all(axis=0)),
                (-1.0, (side >= -tol).all(axis=0)),
            ):
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


def _thin_product(a: NDArray, b: NDArray) -> NDArray:
    """``a @ b`` for a short ``a`` (k, r) and a long ``b`` (r, n), in float64.

    With r of 1-3, a product this thin is cheap, but OpenBLAS would run it
    on several threads, whose start-up costs more than the sums; so it is
    done in column chunks small enough to stay on one thread.
    """
    k, r = a.shape
    n = b.shape[1]
    out = np.empty((k, n))
    chunk = max(1, BLAS_ONE_THREAD // (k * r))
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
    e = first_min(dist)
    cols = np.arange(z.shape[1])
    return a[e].T + t[e, cols] * d[e].T, dist[e, cols]


class Hull:
    r"""The convex hull of a palette, for projecting colours onto it.

    Built once per palette. Works in
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
        edges = np.unique(
            np.sort(np.concatenate([idx[:, [0, 1]], idx[:, [1, 2]], idx[:, [0, 2]]]), axis=1),
            axis=0,
        )
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
        f = first_min(~over)
        cols = np.arange(zo.shape[1])
        has = over[f, cols]
        near = np.empty_like(zo)
        near[:, has] = zo[:, has] - so[f[has], cols[has]] * self.normals[f[has]].T
        near[:, ~has] = _segment_nearest(np.compress(~has, zo, axis=1), self.seg_a, self.seg_d)[0]
        zp[:, moved] = near
        return zp, moved


def project_to_hull(points: NDArray, palette: NDArray) -> NDArray:
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
    >>> project_to_hull(np.array([[200.0, 100.0, 0.0], [300.0, 300.0, 300.0]]), bw)
    array([[100., 100., 100.],
           [255., 255., 255.]])
    """
    return Hull(palette).project(points)


def hull_distance_sq(points: NDArray, palette: NDArray) -> NDArray:
    r"""Squared distance from each colour to the convex hull of the palette.

    The colours a dither can produce on average over an area are the convex
    combinations :math:`\sum_j w_j p_j` (:math:`w \ge 0`, :math:`\sum w = 1`)
    of the palette, so this is how far a local mean colour lies beyond what
    any dithering could reach: :math:`d^2(x) = \lVert x - \pi(x)\rVert^2`
    with :math:`\pi` the projection of :func:`project_to_hull`.

    Takes the arguments of :func:`project_to_hull` (``points`` may also
    be any array whose last axis holds the ``c`` channels) and returns one
    float64 per colour, shape ``(n,)``.

    Examples
    --------
    >>> import numpy as np
    >>> bw = np.array([[0.0, 0.0, 0.0], [255.0, 255.0, 255.0]])
    >>> from kmeans_quant.dither._gamut import hull_distance_sq
    >>> hull_distance_sq(np.array([[100.0, 100, 100], [100, 100, 106]]), bw)
    array([ 0., 24.])
    """
    x = np.asarray(points, dtype=np.float64)
    x = x.reshape(-1, np.asarray(palette).shape[1])
    d = x - project_to_hull(x, palette)
    return np.einsum("ij,ij->i", d, d)
