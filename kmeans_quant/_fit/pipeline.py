"""The steps of the image pipeline behind :mod:`kmeans_quant.image`.

An image becomes a :class:`Source` (checked pixels, alpha, colour table and
the counts that fit); :func:`palette_of` fits a palette to its colour table
(:func:`fit_table`) and maps every colour onto it (:func:`map_to_palette`);
:func:`expand` paints the pixels, :func:`dithered` dithers them; with a
quality target, :func:`choose` searches the number of colours. The public
functions in :mod:`kmeans_quant.image` validate their options into a
:class:`FitOptions` and chain these steps. No input validation here beyond
what those functions have done.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from .._dtypes import full_scale
from .._pil import as_array
from .._validation import (
    DITHERS,
    METHODS,
    MODES,
    SPACES,
    PixelFormat,
    PreparedImage,
    RNGLike,
    check_choice,
    check_fraction,
    check_image,
    check_importance,
    check_k,
    check_palette,
    check_positive_int,
    check_rng,
    check_tol,
    to_dtype,
)
from ..color_table import ColorTable, color_table, gather_rows, grid_cells, merge_tables
from ..dither import dither_indices
from ..engine._steps import label_points
from ..importance import dither_level, map_of_pixels
from ..palette import Palette, add_missing
from ..quality import QualityChoice, QualityTooLow, mse_to_quality, quality_to_mse
from .alpha_fit import RGBASource, check_alpha_fit, fit_rgba, map_rgba
from .baselines import median_cut, uniform_palette
from .k_search import fewest, search_k, table_mse
from .mapping import Mapping, rank_by_count
from .palette_fit import fit_colors
from .space import fit_to_image, image_to_fit

__all__ = [
    "Source",
    "source",
    "resolve_mode",
    "FitOptions",
    "fit_options",
    "with_fixed",
    "check_dither",
    "nearest",
    "map_to_palette",
    "fit_table",
    "palette_of_table",
    "palette_of",
    "keep_fixed",
    "Chosen",
    "choose",
    "expand",
    "dithered",
    "sources",
    "merged_table",
    "merged_weights",
    "alpha_fitted",
    "rgba_palette",
]


@dataclass(frozen=True, eq=False)
class Source:
    """A checked image, its colour table, and the pixel counts that fit."""

    prep: PreparedImage
    table: ColorTable
    fit_counts: NDArray[np.int64]  # per distinct colour: visible pixels only
    level: NDArray[np.float32] | None = None  # per pixel: dithering level, from the importance
    fit_weights: NDArray[np.float64] | None = None  # per distinct colour: summed importance
    _points: dict[str, NDArray[np.float32]] = dataclasses.field(default_factory=dict)

    @property
    def weights(self) -> NDArray:
        """What each distinct colour weighs in the fit: its importance, else its count."""
        return self.fit_counts if self.fit_weights is None else self.fit_weights

    def points(self, space: str) -> NDArray[np.float32]:
        """The distinct colours in the fit space of ``space``, converted once."""
        if space not in self._points:
            self._points[space] = image_to_fit(self.table.colors, self.prep, space)
        return self._points[space]


def source(image: Any, name: str = "image", importance: Any = None) -> Source:
    """Check ``image``, count its colours, and weigh them by ``importance``
    (None, ``"auto"`` or an (H, W) array; see :func:`resolve_mode`)."""
    prep = check_image(as_array(image), name)
    given = check_importance(importance, prep.shape)
    table = color_table(prep.pixels)
    # Fully transparent pixels show nothing, so they do not pull the
    # palette; an image with no visible pixel at all is fitted whole.
    counts = table.visible_counts(prep.alpha)
    if given is None:
        return Source(prep, table, counts)
    if isinstance(given, str):
        pixel_map = map_of_pixels(prep.pixels, prep.shape, full_scale(prep.dtype))
    else:
        pixel_map = given
    pixel_map = pixel_map.reshape(-1)
    fit_map = pixel_map
    if prep.alpha is not None and counts is not table.counts:
        fit_map = pixel_map * (prep.alpha.reshape(-1) > 0)
    weights = table.total(fit_map)
    # The map is this function's own (computed, or the checked copy of the
    # given one): its memory takes the dithering levels.
    return Source(prep, table, counts, dither_level(pixel_map, out=pixel_map), weights)


def resolve_mode(mode: Any, space: Any, importance: Any) -> tuple[str, Any]:
    """The fit space and importance a ``mode`` stands for, given the explicit ones.

    ``"mse"`` is the K-Means recipe: RGB unless ``space`` says otherwise,
    every pixel counting once unless an ``importance`` is given.
    ``"perceptual"`` fits and maps in Oklab with the importance map
    computed from the image unless one is given.
    """
    mode = check_choice(mode, "mode", MODES)
    if mode == "perceptual":
        if space not in (None, "oklab"):
            raise ValueError(
                f"mode='perceptual' fits in Oklab: leave space unset or 'oklab', got {space!r}"
            )
        return "oklab", "auto" if importance is None else importance
    return ("rgb" if space is None else space), importance


@dataclass(frozen=True, eq=False)
class FitOptions:
    """The validated options of a palette fit."""

    k: int
    method: str
    space: str
    rng: np.random.Generator
    max_iter: int
    tol: float
    fixed: NDArray | None = None  # palette entries kept exactly, image dtype


def fit_options(
    k: Any, *, rng: RNGLike, max_iter: Any, tol: Any, method: Any, space: Any
) -> FitOptions:
    """Check the options every palette fit takes."""
    return FitOptions(
        k=check_k(k),
        method=check_choice(method, "method", METHODS),
        space=check_choice(space, "space", SPACES),
        rng=check_rng(rng),
        max_iter=check_positive_int(max_iter, "max_iter"),
        tol=check_tol(tol),
    )


def with_fixed(opt: FitOptions, fixed: Any, fmt: PixelFormat) -> FitOptions:
    """``opt`` with the checked ``fixed`` colours (image dtype, distinct)."""
    if fixed is None:
        return opt
    colors = np.unique(check_palette(fixed, channels=fmt.channels, dtype=fmt.dtype), axis=0)
    if colors.shape[0] > opt.k:
        raise ValueError(f"fixed has {colors.shape[0]} distinct colours, more than k={opt.k}")
    if opt.method != "kmeans":
        raise ValueError(f"fixed colours need method='kmeans', got method={opt.method!r}")
    return dataclasses.replace(opt, fixed=colors)


def check_dither(dither: Any, strength: Any) -> tuple[str, float]:
    """The dither name (None means 'none') and a strength in [0, 1]."""
    dither = check_choice("none" if dither is None else dither, "dither", DITHERS)
    fraction = check_fraction(strength, "dither_strength")
    return ("none" if fraction == 0 else dither), fraction


def nearest(
    colors: NDArray,
    palette: NDArray,
    *,
    fmt: PixelFormat,
    space: str,
    points: NDArray | None = None,
) -> NDArray[np.intp]:
    """Index into ``palette`` of the nearest entry for every colour.

    Both arrays are in the image's dtype and ``palette`` is sorted and
    unique, so the lowest-index tie-break is a lexicographic one. For
    uint8 in RGB the work is done in float32 on values centred on 128:
    every intermediate is an integer below 2**24, hence exact. Other RGB
    cases compute in float64; many uint16 colours against a short palette
    are first screened by grid cells (:func:`_screened_nearest`), with the
    same labels. In Oklab the fit space's values (``points``, the colours
    already converted, when given), centred on 128, are compared in
    float32.
    """
    if space != "rgb":
        X = image_to_fit(colors, fmt, space) if points is None else points
        centre = np.float32(128)
        return label_points(X - centre, image_to_fit(palette, fmt, space) - centre)
    if colors.dtype == np.uint8:
        X = colors.astype(np.float32) - 128
        P = palette.astype(np.float32) - 128
    elif colors.dtype == np.uint16 and _screen_pays(colors, palette):
        return _screened_nearest(colors, palette)
    else:
        X = colors.astype(np.float64)
        P = palette.astype(np.float64)
    return label_points(X, P)


# The cell screen of 16-bit colours: cells keep the top _SCREEN_BITS bits of
# each channel; it runs from _SCREEN_MIN_COLORS colours on and for palettes
# of at most _SCREEN_MAX_K entries (see docs/internals.md).
_SCREEN_BITS = 6
_SCREEN_MIN_COLORS = 1 << 18
_SCREEN_MAX_K = 16
# Distance-matrix elements per block of the screen.
_SCREEN_BLOCK = 1 << 18


def _screen_pays(colors: NDArray, palette: NDArray) -> bool:
    return colors.shape[0] >= _SCREEN_MIN_COLORS and palette.shape[0] <= _SCREEN_MAX_K


def _screened_nearest(colors: NDArray, palette: NDArray) -> NDArray[np.intp]:
    r""":func:`nearest` for many uint16 colours in RGB, screened by grid cells.

    The colours are grouped into cells of :math:`w = 2^{16 - b}` values per
    channel (``b = _SCREEN_BITS``) with centres :math:`p`, so every colour
    of a cell is :math:`x = p + e` with :math:`|e_j| \le h = (w - 1) / 2`.
    Let :math:`c` be the palette entry nearest to :math:`p`. For any other
    entry :math:`q`,

    .. math::

        \lVert x - q \rVert^2 - \lVert x - c \rVert^2
        = \lVert p - q \rVert^2 - \lVert p - c \rVert^2 - 2 e \cdot (q - c)
        \ge \lVert p - q \rVert^2 - \lVert p - c \rVert^2 - 2h \lVert q - c \rVert_1,

    so when the right-hand side is positive for every :math:`q`, :math:`c`
    is the strict nearest entry of every colour in the cell. Only the
    colours of the other cells are searched over the whole palette. The
    centres are half-integers and the entries integers, so every term is
    exact in float64 and the labels equal
    :func:`kmeans_quant.engine._steps.label_points` on float64 colours, ties to the
    lowest index included.
    """
    c = colors.shape[1]
    shift = 16 - _SCREEN_BITS
    levels = 1 << _SCREEN_BITS
    cell_of, cells = grid_cells([colors[:, j] >> shift for j in range(c)], levels)
    place = levels ** np.arange(c - 1, -1, -1)
    half = ((1 << shift) - 1) / 2
    centres = ((cells[:, None] // place) % levels << shift) + half
    P = palette.astype(np.float64)
    # slack[c, q] = 2h ||q - c||_1; -inf on the diagonal leaves c itself out.
    slack = (2 * half) * np.abs(P[:, None, :] - P[None, :, :]).sum(axis=2)
    np.fill_diagonal(slack, -np.inf)
    minus_2P = -2 * P.T
    p_sq = np.einsum("ij,ij->i", P, P)
    best = np.empty(cells.size, dtype=np.intp)
    sure = np.empty(cells.size, dtype=bool)
    step = max(1, _SCREEN_BLOCK // P.shape[0])
    for lo in range(0, cells.size, step):
        rows = slice(lo, lo + step)
        # ||p - q||^2 - ||p||^2, and its margin over the nearest entry.
        D = centres[rows] @ minus_2P
        D += p_sq
        near = np.argmin(D, axis=1)
        D -= np.take_along_axis(D, near[:, None], axis=1)
        D -= slack[near]
        best[rows] = near
        sure[rows] = D.min(axis=1) > 0
    labels = best[cell_of]
    unsure = np.flatnonzero(~sure[cell_of])
    if unsure.size:
        labels[unsure] = label_points(colors[unsure].astype(np.float64), P)
    return labels


def map_to_palette(
    colors: NDArray,
    counts: NDArray,
    *,
    palette: NDArray,
    fmt: PixelFormat,
    space: str,
    points: NDArray | None = None,
) -> Mapping:
    """Map a colour table onto ``palette``; drop unused entries; sort by count.

    Returns the palette (most frequent first), each colour's index into it,
    and the pixel count of each palette entry (:func:`rank_by_count`).
    ``points`` are the colours in the fit space, when already converted.
    """
    canon = np.unique(palette, axis=0)
    labels = nearest(colors, canon, fmt=fmt, space=space, points=points)
    return rank_by_count(canon, labels, counts)


def fit_table(
    colors: NDArray,
    counts: NDArray,
    *,
    fmt: PixelFormat,
    opt: FitOptions,
    points: NDArray | None = None,
) -> NDArray:
    """Palette colours (image dtype, possibly repeated) for a colour table.

    ``counts`` weigh the colours in the fit (pixel counts, or summed
    importance); ``points`` are the colours in the fit space, when already
    converted.
    """
    if points is None:
        points = image_to_fit(colors, fmt, opt.space)
    n_free = opt.k - (0 if opt.fixed is None else opt.fixed.shape[0])
    if colors.shape[0] <= n_free:
        # Every colour keeps itself (transparent ones too), so the image
        # comes back unchanged.
        return colors if opt.fixed is None else np.concatenate([opt.fixed, colors])
    keep = counts > 0
    if not keep.all():  # invisible colours do not pull the palette
        colors, counts, points = colors[keep], counts[keep], points[keep]
    if colors.shape[0] <= n_free:
        return colors if opt.fixed is None else np.concatenate([opt.fixed, colors])
    if opt.fixed is not None:
        fixed_fit = image_to_fit(opt.fixed, fmt, opt.space)
        centers = fit_colors(
            points,
            counts.astype(np.float32),
            opt.k,
            rng=opt.rng,
            max_iter=opt.max_iter,
            tol=opt.tol,
            fixed=fixed_fit,
        )
        palette = fit_to_image(centers, fmt, opt.space)
        palette[: opt.fixed.shape[0]] = opt.fixed  # exact, whatever the rounding did
        return palette
    if opt.method == "uniform":
        return to_dtype(uniform_palette(opt.k, colors.shape[1]) / fmt.to_units, fmt.dtype)
    if opt.method == "median-cut":
        centers = median_cut(points, counts, opt.k)
    else:
        centers = fit_colors(
            points,
            counts.astype(np.float32),
            opt.k,
            rng=opt.rng,
            max_iter=opt.max_iter,
            tol=opt.tol,
            lattice=opt.space == "rgb" and fmt.dtype == np.uint8,
        )
    return fit_to_image(centers, fmt, opt.space)


def palette_of_table(
    colors: NDArray,
    counts: NDArray,
    *,
    fmt: PixelFormat,
    opt: FitOptions,
    weights: NDArray | None = None,
) -> Palette:
    """Fit and map a colour table (colours sorted, counts of visible pixels).

    ``weights`` (one per colour) replace the counts in the fit when given.
    """
    fitted = fit_table(colors, counts if weights is None else weights, fmt=fmt, opt=opt)
    mapping = map_to_palette(colors, counts, palette=fitted, fmt=fmt, space=opt.space)
    return Palette(mapping.palette, mapping.counts)


def palette_of(src: Source, opt: FitOptions) -> tuple[Palette, NDArray[np.intp]]:
    """Fit and map one image: its palette and each distinct colour's index."""
    points = src.points(opt.space)
    fitted = fit_table(src.table.colors, src.weights, fmt=src.prep, opt=opt, points=points)
    mapping = map_to_palette(
        src.table.colors,
        src.fit_counts,
        palette=fitted,
        fmt=src.prep,
        space=opt.space,
        points=points,
    )
    return Palette(mapping.palette, mapping.counts), mapping.labels


def keep_fixed(palette: Palette, fixed: NDArray | None) -> Palette:
    """``palette`` plus the ``fixed`` colours no pixel maps to, with count 0, last."""
    return add_missing(palette, fixed)


class Chosen(NamedTuple):
    """A quality target's choice, its palette and each distinct colour's index."""

    choice: QualityChoice
    palette: Palette
    labels: NDArray[np.intp]


def choose(src: Source, opt: FitOptions, quality: tuple[int, int]) -> Chosen:
    """The fewest colours (at most ``opt.k``) whose fitted palette reaches
    ``quality``'s max. Raises QualityTooLow below the min.

    The search on the histogram bounds k from above (:func:`search_k`); the
    fits settle it (:func:`~kmeans_quant._fit.k_search.fewest`). Every fit
    starts from a copy of ``opt.rng``, so the chosen palette is the one
    ``quantize(image, k)`` gives; ``opt.rng`` then advances as that fit did.
    """
    if opt.method != "kmeans" or opt.fixed is not None:
        raise ValueError("quality needs method='kmeans' and no fixed colours")
    visible = src.fit_counts > 0
    colors = src.table.colors[visible] if visible.any() else src.table.colors
    counts = src.fit_counts[visible] if visible.any() else src.table.counts
    k_bound = search_k(
        image_to_fit(colors, src.prep, "rgb"),
        counts.astype(np.float64),
        target_mse=quality_to_mse(quality[1]),
        k_max=opt.k,
        rng=copy.deepcopy(opt.rng),
    )
    fits: dict[int, _Fitted] = {}

    def error_of(k: int) -> float:
        rng = copy.deepcopy(opt.rng)
        palette, labels = palette_of(src, dataclasses.replace(opt, k=k, rng=rng))
        err = table_mse(
            src.table.colors,
            src.fit_counts,
            mapped=np.asarray(palette.colors)[labels],
            to_units=src.prep.to_units,
        )
        fits[k] = _Fitted(palette, labels, err, rng)
        return err

    # The target as mse_to_quality judges it (which forgives rounding).
    target = quality_to_mse(quality[1]) * (1 + 1e-9)
    k = k_bound
    if error_of(k_bound) <= target:
        k = fewest(error_of, k_hi=k_bound, err_hi=fits[k_bound].err, target=target)
    fit = fits[k]
    opt.rng.bit_generator.state = fit.rng.bit_generator.state
    choice = QualityChoice(k=len(fit.palette), mse=fit.err, quality=mse_to_quality(fit.err))
    if choice.quality < quality[0]:
        raise QualityTooLow(
            f"quality {choice.quality} (MSE {fit.err:.2f}) with {choice.k} colours is below "
            f"the minimum {quality[0]}",
            choice,
        )
    return Chosen(choice, fit.palette, fit.labels)


class _Fitted(NamedTuple):
    """One fit of the quality search: palette, labels, error, the generator after it."""

    palette: Palette
    labels: NDArray[np.intp]
    err: float
    rng: np.random.Generator


def expand(src: Source, palette: NDArray, labels: NDArray[np.intp]) -> NDArray:
    """Paint every pixel with ``palette[label of its colour]``."""
    return src.prep.rebuild(src.table.paint(labels, palette))


def dithered(
    src: Source, palette: NDArray, *, method: str, space: str, strength: float = 1.0
) -> NDArray:
    """Map every pixel onto ``palette`` with error diffusion or a Bayer map.

    Dithering works on the image's colour table, in the space of the
    mapping: image units for RGB (float32, or float64 for float64 images),
    the fit space of :mod:`kmeans_quant._fit.space` for Oklab. Where the
    source has an importance map, Floyd-Steinberg diffuses each pixel's
    error by its :func:`~kmeans_quant.importance.dither_level`.
    """
    prep, table = src.prep, src.table
    canon = np.unique(palette, axis=0)
    colors: NDArray
    pal: NDArray
    if space == "rgb":
        work = np.float64 if prep.dtype == np.float64 else np.float32
        colors, pal = table.colors.astype(work), canon.astype(work)
    else:
        colors, pal = src.points(space), image_to_fit(canon, prep, space)
    level = None
    if src.level is not None and method == "floyd-steinberg":
        level = src.level.astype(colors.dtype, copy=False)
    labels = dither_indices(
        method,
        colors=colors,
        counts=table.counts,
        inverse=table.pixel_index(),
        palette=pal,
        shape=(prep.shape[0], prep.shape[1]),
        strength=strength,
        level=level,
    )
    return prep.rebuild(gather_rows(canon, labels.reshape(-1)))


_S = TypeVar("_S", Source, RGBASource)


def sources(images: Any, read: Callable[[Any, str], _S]) -> list[_S]:
    """One image, or a list/tuple of images sharing a channel layout and dtype, each ``read``.

    ``read`` is :func:`source` or :func:`~kmeans_quant._fit.alpha_fit.rgba_source`.
    """
    if not isinstance(images, (list, tuple)):
        return [read(images, "image")]
    if not images:
        raise ValueError("images is an empty sequence; give at least one image")
    srcs = [read(im, f"images[{i}]") for i, im in enumerate(images)]
    first = srcs[0].prep
    for i, s in enumerate(srcs[1:], start=1):
        if (s.prep.channels, s.prep.dtype) != (first.channels, first.dtype):
            raise ValueError(
                "images for a shared palette must have the same number of colour "
                f"channels and dtype: images[0] is {first.channels}-channel "
                f"{first.dtype}, images[{i}] is {s.prep.channels}-channel "
                f"{s.prep.dtype}"
            )
    return srcs


def merged_table(srcs: list[Source] | list[RGBASource]) -> tuple[NDArray, NDArray[np.int64]]:
    """The colour table of all the pixels of ``srcs``: colours and the counts that fit."""
    if len(srcs) == 1:
        return srcs[0].table.colors, srcs[0].fit_counts
    return merge_tables([(s.table.colors, s.fit_counts) for s in srcs])


def merged_weights(srcs: list[Source] | list[RGBASource]) -> NDArray[np.float64] | None:
    """The summed importance of every colour of :func:`merged_table`, or None when unweighed."""
    tables = [(s.table.colors, s.fit_weights if isinstance(s, Source) else s.weights) for s in srcs]
    if any(w is None for _, w in tables):
        return None
    if len(tables) == 1:
        return tables[0][1]
    return merge_tables([(colors, cast(NDArray, w)) for colors, w in tables])[1]


def alpha_fitted(
    alpha: Any,
    opt: FitOptions,
    *,
    space: str | None = None,
    dither: str = "none",
    fixed: Any = None,
    quality: Any = None,
) -> bool:
    """Whether alpha is fitted as part of the colour; refuses what cannot go with that.

    ``space`` is the one the caller asked for: the Oklab a mode stands for
    (``space=None``) does not count against alpha, which is always fitted in
    premultiplied RGBA.
    """
    asked = "rgb" if space is None else space
    if not check_alpha_fit(alpha, method=opt.method, space=asked, dither=dither):
        return False
    for what, value in (("fixed colours work", fixed), ("quality works", quality)):
        if value is not None:
            raise ValueError(f"{what} with alpha='keep' only, got alpha='fit'")
    return True


def rgba_palette(
    colors: NDArray,
    counts: NDArray,
    *,
    fmt: PixelFormat,
    opt: FitOptions,
    weights: NDArray | None = None,
) -> Mapping:
    """Fit and map an RGBA colour table: the mapping of :func:`map_rgba`.

    ``weights`` (one per colour) replace the counts in the fit when given.
    """
    fitted = fit_rgba(
        colors,
        counts if weights is None else weights,
        fmt=fmt,
        k=opt.k,
        rng=opt.rng,
        max_iter=opt.max_iter,
        tol=opt.tol,
    )
    return map_rgba(colors, counts, palette=fitted, fmt=fmt)
