r"""The image API: :func:`quantize`, :func:`extract_palette`, :func:`recolor`, :func:`fit_palette`.

They take uint8, uint16 or float ([0, 1]) arrays of shape (H, W), (H, W, 3)
or (H, W, 4), or PIL images. Alpha is carried through unchanged, unless
``alpha="fit"`` makes it part of the colour (:mod:`kmeans_quant._alpha_fit`).

How a palette is fitted
    The distinct colours (:mod:`kmeans_quant.color_table`) are clustered with
    their pixel counts as weights, which is the K-Means objective over all
    pixels at a cost that follows the number of colours:

    .. math:: \sum_{\text{pixels } p} \min_j \lVert x_p - c_j \rVert^2
              = \sum_{\text{colours } u} n_u \min_j \lVert u - c_j \rVert^2 .

    The fit runs coarse to fine (:mod:`kmeans_quant._palette_fit`); centres
    are rounded to the image's dtype. ``method=`` picks a classic baseline
    instead, and ``space="oklab"`` fits and maps in Oklab.

How pixels are mapped
    Every distinct colour goes to its nearest palette colour, ties to the
    lexicographically smallest, so the result depends only on the set of
    palette colours. For uint8 images the search is exact, and
    :func:`quantize` is exactly ``recolor(image, extract_palette(image, k))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._alpha_fit import (
    alpha_palette,
    check_alpha_fit,
    fit_rgba,
    map_rgba,
    recolor_rgba,
    rgba_source,
)
from ._fit_space import fit_to_image, image_to_fit
from ._palette_fit import fit_colors
from ._pil import as_array
from ._validation import (
    DITHERS,
    METHODS,
    SPACES,
    PreparedImage,
    RNGLike,
    check_choice,
    check_image,
    check_k,
    check_palette,
    check_positive_int,
    check_rng,
    check_tol,
    to_dtype,
)
from .baselines import median_cut, uniform_palette
from .color_table import CODE_LAYOUT, ColorTable, color_table, merge_tables, pack_colors
from .dither import dither_indices
from .histogram import ColorHistogram, merge
from .palette import Palette
from .steps import label_points

__all__ = ["quantize", "extract_palette", "recolor", "fit_palette"]


# --------------------------------------------------------------------------
# private kernels
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Source:
    """A checked image, its colour table, and the pixel counts that fit."""

    prep: PreparedImage
    table: ColorTable
    fit_counts: NDArray[np.int64]  # per distinct colour: visible pixels only


def _source(image: Any, name: str = "image") -> _Source:
    prep = check_image(as_array(image), name)
    table = color_table(prep.pixels)
    # Fully transparent pixels show nothing, so they do not pull the
    # palette; an image with no visible pixel at all is fitted whole.
    return _Source(prep, table, table.visible_counts(prep.alpha))


@dataclass(frozen=True, eq=False)
class _FitOptions:
    """The validated options of a palette fit."""

    k: int
    method: str
    space: str
    rng: np.random.Generator
    max_iter: int
    tol: float


def _fit_options(
    k: Any, rng: RNGLike, max_iter: Any, tol: Any, method: Any, space: Any
) -> _FitOptions:
    return _FitOptions(
        k=check_k(k),
        method=check_choice(method, "method", METHODS),
        space=check_choice(space, "space", SPACES),
        rng=check_rng(rng),
        max_iter=check_positive_int(max_iter, "max_iter"),
        tol=check_tol(tol),
    )


def _nearest(
    colors: NDArray, palette: NDArray, prep: PreparedImage, space: str
) -> NDArray[np.intp]:
    """Index into ``palette`` of the nearest entry for every colour.

    Both arrays are in the image's dtype and ``palette`` is sorted and
    unique, so the lowest-index tie-break is a lexicographic one. For
    uint8 in RGB the work is done in float32 on values centred on 128:
    every intermediate is an integer below 2**24, hence exact. Other cases
    compute in float64, in the chosen colour space.
    """
    if space == "rgb" and colors.dtype == np.uint8:
        X = colors.astype(np.float32) - 128
        P = palette.astype(np.float32) - 128
    elif space == "rgb":
        X = colors.astype(np.float64)
        P = palette.astype(np.float64)
    else:
        X = image_to_fit(colors, prep, space).astype(np.float64)
        P = image_to_fit(palette, prep, space).astype(np.float64)
    return label_points(X, P)


def _map_to_palette(
    colors: NDArray, counts: NDArray, palette: NDArray, prep: PreparedImage, space: str
) -> tuple[NDArray, NDArray[np.intp], NDArray[np.int64]]:
    """Map a colour table onto ``palette``; drop unused entries; sort by count.

    Returns the palette (most frequent first), each colour's index into it,
    and the pixel count of each palette entry. A palette entry is kept when
    at least one colour maps to it, even if only invisible pixels have it.
    """
    canon = np.unique(palette, axis=0)
    labels = _nearest(colors, canon, prep, space)
    used = np.bincount(labels, minlength=canon.shape[0]) > 0
    counts = np.rint(np.bincount(labels, weights=counts, minlength=canon.shape[0]))
    counts = counts.astype(np.int64)
    order = np.lexsort((np.arange(canon.shape[0]), -counts))
    order = order[used[order]]
    rank = np.empty(canon.shape[0], dtype=np.intp)
    rank[order] = np.arange(order.size)
    return canon[order], rank[labels], counts[order]


def _fit_palette(
    colors: NDArray, counts: NDArray, prep: PreparedImage, opt: _FitOptions
) -> NDArray:
    """Palette colours (image dtype, possibly repeated) for a colour table."""
    if colors.shape[0] <= opt.k:
        # Every colour keeps itself (transparent ones too), so the image
        # comes back unchanged.
        return colors
    keep = counts > 0
    colors, counts = colors[keep], counts[keep]
    if colors.shape[0] <= opt.k:
        return colors
    if opt.method == "uniform":
        return to_dtype(uniform_palette(opt.k, colors.shape[1]) / prep.to_units, prep.dtype)
    X = image_to_fit(colors, prep, opt.space)
    if opt.method == "median-cut":
        centers = median_cut(X, counts, opt.k)
    else:
        centers = fit_colors(
            X,
            counts.astype(np.float32),
            opt.k,
            rng=opt.rng,
            max_iter=opt.max_iter,
            tol=opt.tol,
            lattice=opt.space == "rgb" and prep.dtype == np.uint8,
        )
    return fit_to_image(centers, prep, opt.space)


def _palette_of_table(
    colors: NDArray, counts: NDArray, prep: PreparedImage, opt: _FitOptions
) -> Palette:
    """Fit and map a colour table (colours sorted, counts of visible pixels)."""
    fitted = _fit_palette(colors, counts, prep, opt)
    pal, _, pal_counts = _map_to_palette(colors, counts, fitted, prep, opt.space)
    return Palette(pal, pal_counts)


def _palette_of(src: _Source, opt: _FitOptions) -> tuple[Palette, NDArray[np.intp]]:
    """Fit and map one image: its palette and each distinct colour's index."""
    colors = _fit_palette(src.table.colors, src.fit_counts, src.prep, opt)
    pal, labels, counts = _map_to_palette(
        src.table.colors, src.fit_counts, colors, src.prep, opt.space
    )
    return Palette(pal, counts), labels


def _expand(src: _Source, palette: NDArray, labels: NDArray[np.intp]) -> NDArray:
    """Paint every pixel with ``palette[label of its colour]``."""
    small = np.uint8 if palette.shape[0] <= 256 else np.uint16
    pixel_labels = src.table.expand(labels.astype(small))
    return src.prep.rebuild(palette[pixel_labels])


def _dithered(src: _Source, palette: NDArray, dither: str, space: str) -> NDArray:
    """Map every pixel onto ``palette`` with error diffusion or a Bayer map.

    Dithering works on the image's colour table, in the space of the
    mapping: image units for RGB (float32, or float64 for float64 images),
    the fit space of :mod:`kmeans_quant._fit_space` for Oklab.
    """
    prep, table = src.prep, src.table
    canon = np.unique(palette, axis=0)
    colors: NDArray
    pal: NDArray
    if space == "rgb":
        work = np.float64 if prep.dtype == np.float64 else np.float32
        colors, pal = table.colors.astype(work), canon.astype(work)
    else:
        colors, pal = image_to_fit(table.colors, prep, space), image_to_fit(canon, prep, space)
    labels = dither_indices(
        dither,
        colors=colors,
        counts=table.counts,
        inverse=table.pixel_index(),
        palette=pal,
        shape=(prep.shape[0], prep.shape[1]),
    )
    return prep.rebuild(canon[labels.reshape(-1)])


def _sources(images: Any) -> list[_Source]:
    """One image, or a list/tuple of images sharing a channel layout and dtype."""
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError("images is an empty sequence; give at least one image")
        srcs = [_source(im, f"images[{i}]") for i, im in enumerate(images)]
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
    return [_source(images)]


def _rgba_palette(colors: NDArray, counts: NDArray, prep: PreparedImage, opt: _FitOptions):
    """Fit and map an RGBA colour table: the mapping of :func:`map_rgba`."""
    fitted = fit_rgba(
        colors, counts, prep, k=opt.k, rng=opt.rng, max_iter=opt.max_iter, tol=opt.tol
    )
    return map_rgba(colors, counts, fitted, prep)


# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------


def extract_palette(
    image: NDArray | Sequence[NDArray],
    k: int,
    *,
    rng: RNGLike = 0,
    method: str = "kmeans",
    space: str = "rgb",
    max_iter: int = 300,
    tol: float = 1e-4,
    alpha: str = "keep",
) -> Palette:
    r"""The ``k`` colours that best represent an image (or several), by K-Means.

    Fits K-Means to the image's distinct colours weighted by their pixel
    counts (the same objective as on every pixel), rounds the centres to
    the image's dtype, and counts the pixels nearest to each. Given a list
    of images, their colour histograms are added up first, so the palette
    is the one K-Means gives for all their pixels together (one palette for
    the frames of an animation or a photo set).

    Parameters
    ----------
    image : ndarray or PIL.Image.Image, or list/tuple of them
        Shape (H, W), (H, W, 3) or (H, W, 4); uint8, uint16, or float with
        values in [0, 1]. Several images must share channel layout and dtype
        (their sizes may differ). Fully transparent pixels of RGBA images
        are left out of the fit. A Pillow image is converted by its mode
        (``P`` to RGB or RGBA, ``LA`` to RGBA, ``CMYK`` to RGB, ``I;16``
        to uint16 grey, ...).
    k : int
        Maximum number of colours, at least 1.
    rng : int or numpy.random.Generator, default 0
        Seed for k-means++. The default makes the result reproducible.
    method : {'kmeans', 'median-cut', 'uniform'}, default 'kmeans'
        K-Means, Heckbert's median cut, or a fixed uniform RGB grid (the
        classic baselines; see :mod:`kmeans_quant.baselines`).
    space : {'rgb', 'oklab'}, default 'rgb'
        Colour space of the fit and of "nearest": plain RGB values, or
        Oklab, where distances follow perceived colour difference.
    max_iter : int, default 300
        Maximum Lloyd iterations of the main fit.
    tol : float, default 1e-4
        Relative tolerance on centre shift (see :func:`kmeans_quant.kmeans`).
    alpha : {'keep', 'fit'}, default 'keep'
        For RGBA images: ``'keep'`` fits the colours only (alpha is left as
        it is); ``'fit'`` makes alpha part of the colour, fitting K-Means in
        premultiplied RGBA (see :mod:`kmeans_quant._alpha_fit`), so the
        palette has at most ``k`` (colour, alpha) entries, all fully
        transparent pixels on one entry of colour and alpha 0. ``'fit'``
        needs RGBA images and the defaults of ``method`` and ``space``.

    Returns
    -------
    Palette
        ``colors`` (m, c) in the image's dtype with ``m <= k``, ``counts``
        summing to the number of (visible) pixels, most frequent first, and
        ``proportions``. An image with at most ``k`` colours gives them as is.
        With ``alpha='fit'`` the palette also has ``alpha`` (m,) and the
        counts include the transparent pixels.

    Raises
    ------
    TypeError
        ``image`` not an ndarray or of an unsupported dtype; bad ``k``/``rng``.
    ValueError
        Wrong shape, empty, NaN/inf, float values outside [0, 1], an unknown
        ``method``/``space``, or images that cannot share a palette.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import extract_palette
    >>> img = np.zeros((4, 4, 3), dtype=np.uint8)
    >>> img[:, :3] = [200, 30, 30]          # 12 red pixels, 4 black ones
    >>> pal = extract_palette(img, 8)
    >>> pal.colors
    array([[200,  30,  30],
           [  0,   0,   0]], dtype=uint8)
    >>> pal.counts, pal.proportions
    (array([12,  4]), array([0.75, 0.25]))

    One palette for two frames:

    >>> frame2 = np.full((2, 2, 3), 255, dtype=np.uint8)
    >>> extract_palette([img, frame2], 8).counts
    array([12,  4,  4])
    """
    opt = _fit_options(k, rng, max_iter, tol, method, space)
    if check_alpha_fit(alpha, method=opt.method, space=opt.space, dither="none"):
        if isinstance(image, (list, tuple)) and not image:
            raise ValueError("images is an empty sequence; give at least one image")
        many = image if isinstance(image, (list, tuple)) else [image]
        rgba = [rgba_source(im, f"images[{i}]") for i, im in enumerate(many)]
        colors, counts = merge_tables([(r.table.colors, r.table.counts) for r in rgba])
        mapping = _rgba_palette(colors, counts, rgba[0].prep, opt)
        return alpha_palette(mapping.palette, mapping.counts)
    srcs = _sources(image)
    if len(srcs) == 1:
        return _palette_of(srcs[0], opt)[0]
    prep = srcs[0].prep
    if prep.dtype in CODE_LAYOUT:  # histograms merge packed codes, linear in colours
        merged = merge(
            ColorHistogram(pack_colors(s.table.colors), s.fit_counts, prep.dtype, prep.channels)
            for s in srcs
        )
        colors, counts = merged.colors, merged.counts
    else:
        colors, counts = merge_tables([(s.table.colors, s.fit_counts) for s in srcs])
    return _palette_of_table(colors, counts, prep, opt)


def quantize(
    image: NDArray,
    k: int,
    *,
    rng: RNGLike = 0,
    method: str = "kmeans",
    space: str = "rgb",
    dither: str = "none",
    max_iter: int = 300,
    tol: float = 1e-4,
    alpha: str = "keep",
) -> NDArray:
    r"""Reduce an image to at most ``k`` colours with K-Means.

    Each pixel is replaced by its nearest colour of
    :func:`extract_palette`'s palette (or, with ``dither``, by a dithered
    choice among them). The result equals
    ``recolor(image, extract_palette(image, k, ...), dither=..., space=...)``
    exactly, and is computed in one pass over the pixels.

    Parameters
    ----------
    image : ndarray, shape (H, W), (H, W, 3) or (H, W, 4), or PIL.Image.Image
        uint8, uint16, or float with values in [0, 1]. Alpha is kept as is
        (unless ``alpha='fit'``). A Pillow image is converted as in
        :func:`extract_palette` and the result is an ndarray.
    k : int
        Maximum number of colours, at least 1. An image with at most ``k``
        colours comes back unchanged.
    rng : int or numpy.random.Generator, default 0
        Seed for k-means++; the same call always gives the same output.
    method : {'kmeans', 'median-cut', 'uniform'}, default 'kmeans'
        How the palette is chosen (see :func:`extract_palette`).
    space : {'rgb', 'oklab'}, default 'rgb'
        Colour space of the fit, of "nearest" and of the dithering.
    dither : {'none', 'floyd-steinberg', 'ordered'}, default 'none'
        Plain nearest-colour mapping, Floyd-Steinberg error diffusion, or
        ordered dithering (Knoll's mixing plans on an 8x8 Bayer matrix); see
        :mod:`kmeans_quant.dither`.
    max_iter, tol, alpha
        As for :func:`extract_palette`. With ``alpha='fit'`` the result has
        at most ``k`` distinct (colour, alpha) values, fully transparent
        pixels all ``(0, 0, 0, 0)``.

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``, with at most ``k`` distinct colours.

    Raises
    ------
    TypeError, ValueError
        As for :func:`extract_palette`, or an unknown ``dither``.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import quantize
    >>> rng = np.random.default_rng(0)
    >>> img = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    >>> out = quantize(img, 4)
    >>> out.shape, out.dtype, len(np.unique(out.reshape(-1, 3), axis=0))
    ((32, 32, 3), dtype('uint8'), 4)
    >>> grey = np.tile(np.linspace(0, 1, 64), (8, 1))   # a float ramp
    >>> dithered = quantize(grey, 2, dither="floyd-steinberg")
    >>> sorted(np.unique(dithered).round(2).tolist())
    [0.25, 0.75]
    """
    opt = _fit_options(k, rng, max_iter, tol, method, space)
    dither = check_choice(dither, "dither", DITHERS)
    if check_alpha_fit(alpha, method=opt.method, space=opt.space, dither=dither):
        rgba = rgba_source(image)
        mapping = _rgba_palette(rgba.table.colors, rgba.table.counts, rgba.prep, opt)
        return rgba.table.expand(mapping.palette[mapping.labels]).reshape(rgba.prep.shape)
    src = _source(image)
    if src.table.colors.shape[0] <= opt.k:
        return src.prep.rebuild(src.prep.pixels.copy())
    palette, labels = _palette_of(src, opt)
    if dither != "none":
        return _dithered(src, palette.colors, dither, opt.space)
    return _expand(src, palette.colors, labels)


def recolor(
    image: NDArray,
    palette: Palette | ArrayLike,
    *,
    dither: str = "none",
    space: str = "rgb",
) -> NDArray:
    r"""Replace every pixel by its nearest palette colour.

    .. math:: y_p = \arg\min_{c \in P} \lVert x_p - c \rVert^2

    with ties going to the lexicographically smallest colour. Distances are
    computed once per distinct colour, in blocks, so memory stays bounded.

    Parameters
    ----------
    image : ndarray, shape (H, W), (H, W, 3) or (H, W, 4), or PIL.Image.Image
        uint8, uint16, or float with values in [0, 1]. Alpha is kept as is,
        unless ``palette`` carries alpha. A Pillow image is converted as in
        :func:`extract_palette`.
    palette : Palette or array_like, shape (m, 3) (``(m,)`` or ``(m, 1)`` for grayscale)
        Colours in the image's own value range (0-255 for uint8, [0, 1]
        for float); values are rounded to the image's dtype. A Palette with
        ``alpha`` (from ``alpha='fit'``) maps an RGBA image in premultiplied
        RGBA, colour and alpha together.
    dither : {'none', 'floyd-steinberg', 'ordered'}, default 'none'
        Nearest colour, Floyd-Steinberg error diffusion, or ordered dithering.
    space : {'rgb', 'oklab'}, default 'rgb'
        Space in which "nearest" (and the dithering error) is measured.

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``, every colour from ``palette``.

    Raises
    ------
    TypeError, ValueError
        Bad image (as for :func:`extract_palette`), a palette of the wrong
        shape, type or value range, or an unknown ``dither``/``space``.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import recolor
    >>> img = np.array([[[10, 10, 10], [250, 240, 230]]], dtype=np.uint8)
    >>> recolor(img, [[0, 0, 0], [255, 255, 255]])
    array([[[  0,   0,   0],
            [255, 255, 255]]], dtype=uint8)
    """
    dither = check_choice(dither, "dither", DITHERS)
    space = check_choice(space, "space", SPACES)
    if isinstance(palette, Palette) and palette.alpha is not None:
        check_alpha_fit("fit", method="kmeans", space=space, dither=dither)
        return recolor_rgba(rgba_source(image), palette)
    src = _source(image)
    colors = check_palette(palette, channels=src.prep.channels, dtype=src.prep.dtype)
    if dither != "none":
        return _dithered(src, colors, dither, space)
    canon = np.unique(colors, axis=0)
    return _expand(src, canon, _nearest(src.table.colors, canon, src.prep, space))


def fit_palette(
    histogram: ColorHistogram,
    k: int,
    *,
    rng: RNGLike = 0,
    method: str = "kmeans",
    space: str = "rgb",
    max_iter: int = 300,
    tol: float = 1e-4,
) -> Palette:
    r"""The ``k``-colour palette of the pixels a histogram counts.

    Runs the fit of :func:`extract_palette` on the histogram's colours
    weighted by their counts, the same objective over the same pixels, so
    for the histogram of an image (or the merge of the histograms of its
    blocks, or of several images) the result equals ``extract_palette`` of
    those pixels bit for bit: same colours, same counts, same order.

    Parameters
    ----------
    histogram : ColorHistogram
        At least one counted pixel.
    k, rng, method, space, max_iter, tol
        As for :func:`extract_palette`.

    Returns
    -------
    Palette
        ``colors`` (m, channels) in the histogram's dtype, ``m <= k``, most
        frequent first, with their pixel counts.

    Raises
    ------
    TypeError
        ``histogram`` not a ColorHistogram; bad ``k``/``rng``.
    ValueError
        A histogram that counts no pixel; unknown ``method``/``space``.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import ColorHistogram, extract_palette, fit_palette
    >>> rng = np.random.default_rng(0)
    >>> img = rng.integers(0, 256, size=(20, 30, 3), dtype=np.uint8)
    >>> top, bottom = img[:8], img[8:]
    >>> h = ColorHistogram.from_image(top) + ColorHistogram.from_image(bottom)
    >>> pal = fit_palette(h, 4)
    >>> ref = extract_palette(img, 4)
    >>> bool((pal.colors == ref.colors).all() and (pal.counts == ref.counts).all())
    True
    """
    if not isinstance(histogram, ColorHistogram):
        raise TypeError(f"histogram must be a ColorHistogram, got {type(histogram).__name__}")
    opt = _fit_options(k, rng, max_iter, tol, method, space)
    if histogram.n_pixels == 0:
        raise ValueError(
            "histogram counts no pixels (an empty histogram, or only fully transparent "
            "pixels skipped); nothing to fit"
        )
    # What the fit needs of an image: its dtype and channels.
    prep = PreparedImage(
        np.empty((0, histogram.channels), histogram.dtype),
        None,
        (0, histogram.channels),
        histogram.dtype,
    )
    return _palette_of_table(histogram.colors, histogram.counts, prep, opt)
