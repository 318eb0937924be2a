r"""Palettes with alpha: K-Means in premultiplied RGBA (pngquant's approach).

A pixel of colour :math:`(r, g, b)` and opacity :math:`a \in [0, 1]` is
the point

.. math:: x = (a r,\; a g,\; a b,\; 255 a)

in 0-255 units. Over a background :math:`B`, the pixel shows
:math:`a\,c + (1 - a) B`, so two pixels whose premultiplied points are
close look alike over any background, and a colour change under low
alpha moves the point (and costs) proportionally less. K-Means on these
points, weighted by pixel counts, minimises

.. math:: \sum_{\text{pixels } p} \min_j \lVert x_p - c_j \rVert^2 .

Fully transparent pixels all show nothing: they share one palette entry
of colour and alpha 0 and are left out of the fit, which gets ``k - 1``
entries for the visible pixels (``k`` if no pixel is transparent).
Centres are turned back into straight colour and alpha (divide by the
alpha) and rounded to the image's dtype.

Four channels have too many grid cells for the coarse-to-fine fit of
:mod:`kmeans_quant._fit.palette_fit`; large colour tables are pooled on a
6-bit grid (cells 4 units wide, :math:`2^{24}` codes) for the k-means++
starts, then refined on the distinct colours themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._dtypes import full_scale
from .._pil import as_array
from .._validation import (
    ALPHAS,
    PixelFormat,
    PreparedImage,
    check_choice,
    check_image,
    check_importance,
    check_palette,
    rgba_pixels,
    to_dtype,
)
from ..color_table import ColorTable, color_table, pool_on_grid
from ..engine._lloyd import FitSettings, fit_weighted, fit_weighted_centers
from ..engine._steps import label_points
from ..importance import map_of_pixels
from ..palette import Palette
from .mapping import Mapping, rank_by_count

__all__ = [
    "premultiply",
    "unpremultiply",
    "fit_rgba",
    "map_rgba",
    "RGBASource",
    "check_alpha_fit",
    "rgba_source",
    "alpha_palette",
    "recolor_rgba",
]

# Distinct colours per cluster below which the colours are fitted directly.
_POOL_MIN_RATIO = 8
_POOL_BITS = 6
_STARTS = 3
_REFINE_ITER = 20


def premultiply(rgba: NDArray, fmt: PixelFormat) -> NDArray[np.float64]:
    """``(m, 4)`` colours in the image's dtype -> premultiplied points in 0-255 units."""
    units = rgba.astype(np.float64) * fmt.to_units
    out = np.empty_like(units)
    out[:, :3] = units[:, :3] * (units[:, 3:] / 255.0)
    out[:, 3] = units[:, 3]
    return out


def unpremultiply(points: NDArray, fmt: PixelFormat) -> NDArray:
    """Premultiplied points -> ``(m, 4)`` straight colours in the image's dtype."""
    alpha = np.clip(points[:, 3], 0.0, 255.0)
    rgb = np.zeros((points.shape[0], 3))
    seen = alpha > 0
    rgb[seen] = np.clip(points[seen, :3] * (255.0 / alpha[seen, None]), 0.0, 255.0)
    colors = to_dtype(np.concatenate([rgb, alpha[:, None]], axis=1) / fmt.to_units, fmt.dtype)
    colors[colors[:, 3] == 0] = 0  # one transparent colour
    return colors


def _fit_points(
    X: NDArray, w: NDArray, k: int, *, rng: np.random.Generator, max_iter: int, tol: float
) -> NDArray:
    """Weighted K-Means centres for ``k < len(X)`` premultiplied points."""
    plain = FitSettings(k=k, init="k-means++", max_iter=max_iter, tol=tol, rng=rng)
    if X.shape[0] < _POOL_MIN_RATIO * k:
        return fit_weighted_centers(X, w, plain)
    means, weight = pool_on_grid(X, w, _POOL_BITS)
    if means.shape[0] <= k:
        return fit_weighted_centers(X, w, plain)
    runs = [fit_weighted(means, weight, plain) for _ in range(_STARTS)]
    start = min(runs, key=lambda r: r.inertia).centers
    refine = FitSettings(k=k, init=start, max_iter=min(_REFINE_ITER, max_iter), tol=tol, rng=rng)
    return fit_weighted_centers(X, w, refine)


def fit_rgba(
    colors: NDArray,
    counts: NDArray,
    *,
    fmt: PixelFormat,
    k: int,
    rng: np.random.Generator,
    max_iter: int,
    tol: float,
) -> NDArray:
    """Palette entries ``(m, 4)``, ``m <= k``, for distinct RGBA ``colors`` with ``counts``."""
    clear = colors[:, 3] == 0
    visible = ~clear & (counts > 0)
    entries = [np.zeros((1, 4), fmt.dtype)] if clear.any() or not visible.any() else []
    k_visible = k - len(entries)
    vis = colors[visible]
    if vis.shape[0] and k_visible > 0:
        if vis.shape[0] <= k_visible:
            entries.append(vis)
        else:
            X = premultiply(vis, fmt)
            w = counts[visible].astype(np.float64)
            centers = _fit_points(X, w, k_visible, rng=rng, max_iter=max_iter, tol=tol)
            entries.append(unpremultiply(centers, fmt))
    return np.unique(np.concatenate(entries), axis=0)


def map_rgba(colors: NDArray, counts: NDArray, *, palette: NDArray, fmt: PixelFormat) -> Mapping:
    """Map distinct RGBA ``colors`` onto ``palette``; drop unused entries; sort by count.

    Fully transparent colours go to the palette's transparent entry when it
    has one, every other colour to the entry nearest in premultiplied RGBA
    (ties: the lexicographically smallest entry).
    """
    canon = np.unique(palette, axis=0)
    labels = label_points(premultiply(colors, fmt), premultiply(canon, fmt))
    transparent = np.flatnonzero(canon[:, 3] == 0)
    if transparent.size:
        labels[colors[:, 3] == 0] = transparent[0]
    return rank_by_count(canon, labels, counts)


@dataclass(frozen=True, eq=False)
class RGBASource:
    """A checked RGBA image and the table of its distinct (colour, alpha) values."""

    prep: PreparedImage
    table: ColorTable
    weights: NDArray | None = None  # per (colour, alpha): summed importance, if weighed

    @property
    def fit_counts(self) -> NDArray[np.int64]:
        """Every pixel counts: the fully transparent ones take the clear entry."""
        return self.table.counts


def check_alpha_fit(alpha: Any, *, method: str, space: str, dither: str) -> bool:
    """Whether alpha is fitted as part of the colour; refuses what that cannot combine with."""
    if check_choice(alpha, "alpha", ALPHAS) == "keep":
        return False
    for name, value, only in (
        ("method", method, "kmeans"),
        ("space", space, "rgb"),
        ("dither", dither, "none"),
    ):
        if value != only:
            raise ValueError(
                f"alpha='fit' works with {name}={only!r} only (K-Means in premultiplied "
                f"RGBA), got {name}={value!r}"
            )
    return True


def rgba_source(image: Any, name: str = "image", importance: Any = None) -> RGBASource:
    """The RGBA table of ``image``; with ``importance``, its colours' summed importance."""
    prep = check_image(as_array(image), name)
    given = check_importance(importance, prep.shape)
    table = color_table(rgba_pixels(prep, name))
    if given is None:
        return RGBASource(prep, table)
    if isinstance(given, str):
        given = map_of_pixels(prep.pixels, prep.shape, full_scale(prep.dtype))
    return RGBASource(prep, table, table.total(given.reshape(-1)))


def alpha_palette(entries: NDArray, counts: NDArray) -> Palette:
    return Palette(entries[:, :3], counts, alpha=entries[:, 3].copy())


def recolor_rgba(src: RGBASource, palette: Palette) -> NDArray:
    """Map an RGBA image onto a palette that carries alpha."""
    prep = src.prep
    colors = check_palette(palette, channels=3, dtype=prep.dtype)
    alpha = check_palette(np.asarray(palette.alpha).reshape(-1, 1), channels=1, dtype=prep.dtype)
    if alpha.shape[0] != colors.shape[0]:
        raise ValueError(f"palette has {colors.shape[0]} colours but {alpha.shape[0]} alpha values")
    entries = np.concatenate([colors, alpha], axis=1)
    mapping = map_rgba(src.table.colors, src.table.counts, palette=entries, fmt=prep)
    return src.table.paint(mapping.labels, mapping.palette).reshape(prep.shape)
