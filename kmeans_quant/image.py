r"""The image API: :func:`quantize`, :func:`extract_palette`, :func:`recolor`, :func:`fit_palette`.

They take uint8, uint16 or float ([0, 1]) arrays of shape (H, W), (H, W, 3)
or (H, W, 4), or PIL images. Alpha is carried through unchanged, unless
``alpha="fit"`` makes it part of the colour (:mod:`kmeans_quant._fit.alpha_fit`).

How a palette is fitted
    The distinct colours (:mod:`kmeans_quant.color_table`) are clustered with
    their pixel counts as weights, which is the K-Means objective over all
    pixels at a cost that follows the number of colours:

    .. math:: \sum_{\text{pixels } p} \min_j \lVert x_p - c_j \rVert^2
              = \sum_{\text{colours } u} n_u \min_j \lVert u - c_j \rVert^2 .

    The fit runs coarse to fine (:mod:`kmeans_quant._fit.palette_fit`); centres
    are rounded to the image's dtype. ``method=`` picks a classic baseline
    instead, and ``space="oklab"`` fits and maps in Oklab. With
    ``mode="perceptual"`` (or an ``importance=`` map) each colour weighs the
    summed importance of its pixels instead of their count
    (:mod:`kmeans_quant.importance`): :math:`n_u` becomes
    :math:`\sum_{p:\,x_p = u} w_p`.

How pixels are mapped
    Every distinct colour goes to its nearest palette colour, ties to the
    lexicographically smallest, so the result depends only on the set of
    palette colours. For uint8 images the search is exact, and
    :func:`quantize` is exactly ``recolor(image, extract_palette(image, k))``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._fit.alpha_fit import alpha_palette, check_alpha_fit, recolor_rgba, rgba_source
from ._fit.pipeline import (
    alpha_fitted,
    check_dither,
    choose,
    dithered,
    expand,
    fit_options,
    keep_fixed,
    merged_table,
    merged_weights,
    nearest,
    palette_of,
    palette_of_table,
    resolve_mode,
    rgba_palette,
    source,
    sources,
    with_fixed,
)
from ._validation import SPACES, PixelFormat, RNGLike, check_choice, check_palette, check_quality
from .histogram import ColorHistogram
from .palette import Palette
from .quality import QualityChoice

__all__ = ["quantize", "extract_palette", "recolor", "fit_palette", "choose_k"]

# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------


def extract_palette(
    image: NDArray | Sequence[NDArray],
    k: int,
    *,
    rng: RNGLike = 0,
    mode: str = "mse",
    method: str = "kmeans",
    space: str | None = None,
    importance: str | ArrayLike | None = None,
    max_iter: int = 300,
    tol: float = 1e-4,
    alpha: str = "keep",
    fixed: ArrayLike | None = None,
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
    mode : {'mse', 'perceptual'}, default 'mse'
        ``'mse'`` is the K-Means recipe: every pixel counts once and
        distances are RGB distances, so the palette minimises the mean
        squared error. ``'perceptual'`` is still K-Means, on what the eye
        sees: the fit and "nearest" are in Oklab and every pixel is weighed
        by how visible an error there would be
        (:func:`kmeans_quant.importance.importance_map`: smooth areas,
        where bands show, count more than texture and noise).
    method : {'kmeans', 'median-cut', 'uniform'}, default 'kmeans'
        K-Means, Heckbert's median cut, or a fixed uniform RGB grid (the
        classic baselines, in the fit space).
    space : {'rgb', 'oklab'}, optional
        Colour space of the fit and of "nearest": plain RGB values, or
        Oklab, where distances follow perceived colour difference. By
        default the mode's: RGB for ``'mse'``, Oklab for ``'perceptual'``
        (which takes no other).
    importance : 'auto' or array_like of shape (H, W), optional
        Each pixel's weight in the fit: K-Means then minimises
        :math:`\sum_p w_p \min_j \lVert x_p - c_j\rVert^2`. ``'auto'``
        computes :func:`~kmeans_quant.importance.importance_map` (the
        default of ``mode='perceptual'``); an array gives your own weights
        (finite, non-negative, one image only). Counts in the returned
        palette stay pixel counts.
    max_iter : int, default 300
        Maximum Lloyd iterations of the main fit.
    tol : float, default 1e-4
        Relative tolerance on centre shift (see :func:`kmeans_quant.kmeans`).
    alpha : {'keep', 'fit'}, default 'keep'
        For RGBA images: ``'keep'`` fits the colours only (alpha is left as
        it is); ``'fit'`` makes alpha part of the colour, fitting K-Means in
        premultiplied RGBA (see :mod:`kmeans_quant._fit.alpha_fit`), so the
        palette has at most ``k`` (colour, alpha) entries, all fully
        transparent pixels on one entry of colour and alpha 0. ``'fit'``
        needs RGBA images and the defaults of ``method`` and ``space``.
    fixed : array_like, shape (f, c), optional
        Colours (in the image's units, ``f <= k``) that the palette must
        contain exactly, such as white and black; the other ``k - f`` are
        fitted around them (K-Means with these centres held still). Fixed
        colours no pixel is nearest to come last, with count 0.

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

    Keeping white in a 2-colour palette:

    >>> extract_palette(img, 2, fixed=[[255, 255, 255]]).colors
    array([[150,  22,  22],
           [255, 255, 255]], dtype=uint8)
    """
    fit_space, importance = resolve_mode(mode, space, importance)
    opt = fit_options(k, rng=rng, max_iter=max_iter, tol=tol, method=method, space=fit_space)
    if (
        isinstance(image, (list, tuple))
        and importance is not None
        and not isinstance(importance, str)
    ):
        raise ValueError(
            "importance for several images must be None or 'auto' (a map belongs "
            f"to one image), got {type(importance).__name__}"
        )
    if alpha_fitted(alpha, opt, space=space, fixed=fixed):
        rgba = sources(image, lambda im, name: rgba_source(im, name, importance))
        colors, counts = merged_table(rgba)
        mapping = rgba_palette(
            colors, counts, fmt=rgba[0].prep, opt=opt, weights=merged_weights(rgba)
        )
        return alpha_palette(mapping.palette, mapping.counts)
    srcs = sources(image, lambda im, name: source(im, name, importance))
    opt = with_fixed(opt, fixed, srcs[0].prep)
    colors, counts = merged_table(srcs)
    palette = palette_of_table(
        colors, counts, fmt=srcs[0].prep, opt=opt, weights=merged_weights(srcs)
    )
    return keep_fixed(palette, opt.fixed)


def quantize(
    image: NDArray,
    k: int | None = None,
    *,
    rng: RNGLike = 0,
    mode: str = "mse",
    method: str = "kmeans",
    space: str | None = None,
    importance: str | ArrayLike | None = None,
    dither: str | None = "none",
    max_iter: int = 300,
    tol: float = 1e-4,
    alpha: str = "keep",
    quality: tuple[int, int] | None = None,
    fixed: ArrayLike | None = None,
    dither_strength: float = 1.0,
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
    k : int, optional
        Maximum number of colours, at least 1. An image with at most ``k``
        colours comes back unchanged. Required unless ``quality`` is
        given, when it defaults to 256.
    rng : int or numpy.random.Generator, default 0
        Seed for k-means++; the same call always gives the same output.
    mode : {'mse', 'perceptual'}, default 'mse'
        ``'mse'``: the K-Means recipe, lowest mean squared error.
        ``'perceptual'``: K-Means in Oklab weighted by the importance map,
        and, with dithering, error diffusion that fades where the image is
        busy; the better-looking image for its file size (see
        :func:`extract_palette`).
    method : {'kmeans', 'median-cut', 'uniform'}, default 'kmeans'
        How the palette is chosen (see :func:`extract_palette`).
    space : {'rgb', 'oklab'}, optional
        Colour space of the fit, of "nearest" and of the dithering; by
        default the mode's.
    importance : 'auto' or array_like of shape (H, W), optional
        Each pixel's weight in the fit (see :func:`extract_palette`); it
        also sets how much Floyd-Steinberg diffuses each pixel's error
        (:func:`kmeans_quant.importance.dither_level`).
    dither : {'none', 'floyd-steinberg', 'ordered'} or None, default 'none'
        Plain nearest-colour mapping (also None), Floyd-Steinberg error
        diffusion among each colour's nearest palette colours, or ordered
        dithering (Knoll's mixing plans on an 8x8 Bayer matrix); see
        :mod:`kmeans_quant.dither`.
    max_iter, tol, alpha
        As for :func:`extract_palette`. With ``alpha='fit'`` the result has
        at most ``k`` distinct (colour, alpha) values, fully transparent
        pixels all ``(0, 0, 0, 0)``; it works without ``quality`` and
        ``fixed``.
    quality : (int, int), optional
        ``(min, max)`` on the 0-100 scale of :mod:`kmeans_quant.quality`:
        use the fewest colours (at most ``k``) whose MSE reaches quality
        ``max`` (:func:`choose_k`); raise :class:`~kmeans_quant.quality.QualityTooLow`
        if even ``k`` colours stay below ``min``.
    fixed : array_like, shape (f, c), optional
        Colours the palette keeps exactly (see :func:`extract_palette`).
    dither_strength : float, default 1.0
        In [0, 1]: scales the share of the error Floyd-Steinberg passes on
        (:data:`kmeans_quant.dither.CARRY` of it at 1), or how far ordered
        dithering mixes towards a colour from its nearest palette entry; 0
        is no dithering.

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``, with at most ``k`` distinct colours.

    Raises
    ------
    TypeError, ValueError
        As for :func:`extract_palette`, an unknown ``dither``, a bad
        ``dither_strength`` or ``quality``.
    QualityTooLow
        ``quality``'s minimum is out of reach with ``k`` colours.

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

    Few enough colours to reach quality 90 (MSE at most 2.9):

    >>> ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
    >>> len(np.unique(quantize(ramp, quality=(0, 90)).reshape(-1, 3), axis=0))
    45
    """
    if quality is not None:
        quality = check_quality(quality)
        k = 256 if k is None else k
    fit_space, importance = resolve_mode(mode, space, importance)
    opt = fit_options(k, rng=rng, max_iter=max_iter, tol=tol, method=method, space=fit_space)
    dither, strength = check_dither(dither, dither_strength)
    if alpha_fitted(alpha, opt, space=space, dither=dither, fixed=fixed, quality=quality):
        rgba = rgba_source(image, importance=importance)
        mapping = rgba_palette(
            rgba.table.colors, rgba.table.counts, fmt=rgba.prep, opt=opt, weights=rgba.weights
        )
        return rgba.table.paint(mapping.labels, mapping.palette).reshape(rgba.prep.shape)
    src = source(image, importance=importance)
    opt = with_fixed(opt, fixed, src.prep)
    if quality is not None:
        chosen = choose(src, opt, quality)
        palette, labels = chosen.palette, chosen.labels
    elif src.table.colors.shape[0] <= opt.k:
        return src.prep.rebuild(src.prep.pixels.copy())
    else:
        palette, labels = palette_of(src, opt)
    palette = keep_fixed(palette, opt.fixed)  # the same entries as extract_palette's
    if dither != "none":
        return dithered(src, palette.colors, method=dither, space=opt.space, strength=strength)
    return expand(src, palette.colors, labels)


def choose_k(
    image: NDArray,
    quality: tuple[int, int],
    *,
    k_max: int = 256,
    rng: RNGLike = 0,
    space: str = "rgb",
    max_iter: int = 300,
    tol: float = 1e-4,
) -> QualityChoice:
    r"""The fewest colours (at most ``k_max``) whose palette reaches a quality.

    The quality scale maps 0-100 onto a largest per-channel MSE
    (:func:`kmeans_quant.quality.quality_to_mse`). ``k`` is searched on the
    image's colour histogram with warm-started fits (see
    :mod:`kmeans_quant.quality`); the palette for the chosen ``k`` is then
    fitted as :func:`extract_palette` does and its MSE measured exactly, so
    ``quantize(image, k_max, quality=quality)`` equals
    ``quantize(image, choose_k(image, quality, k_max=k_max).k)``.

    Parameters
    ----------
    image : ndarray, shape (H, W), (H, W, 3) or (H, W, 4)
        As for :func:`quantize`.
    quality : (int, int)
        ``(min, max)`` with ``0 <= min <= max <= 100``.
    k_max : int, default 256
        Most colours allowed.
    rng, space, max_iter, tol
        As for :func:`extract_palette`.

    Returns
    -------
    QualityChoice
        ``k`` (colours in the palette), ``mse`` (per channel, 0-255 units, of
        nearest-colour mapping, visible pixels) and ``quality``.

    Raises
    ------
    QualityTooLow
        Even ``k_max`` colours stay below quality ``min``; its ``choice``
        says what they reached.
    TypeError, ValueError
        Bad image, ``quality``, ``k_max`` or other options.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import choose_k
    >>> ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
    >>> choice = choose_k(ramp, (0, 90))
    >>> choice.k, choice.quality >= 90, round(choice.mse, 2)
    (45, True, 2.89)
    """
    src = source(image)
    bounds = check_quality(quality)
    opt = fit_options(k_max, rng=rng, max_iter=max_iter, tol=tol, method="kmeans", space=space)
    return choose(src, opt, bounds).choice


def recolor(
    image: NDArray,
    palette: Palette | ArrayLike,
    *,
    dither: str | None = "none",
    mode: str = "mse",
    space: str | None = None,
    importance: str | ArrayLike | None = None,
    dither_strength: float = 1.0,
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
    dither : {'none', 'floyd-steinberg', 'ordered'} or None, default 'none'
        Nearest colour (also None), Floyd-Steinberg error diffusion, or
        ordered dithering.
    mode : {'mse', 'perceptual'}, default 'mse'
        As for :func:`quantize`: ``'perceptual'`` measures "nearest" in
        Oklab and lets Floyd-Steinberg fade where the image is busy.
    space : {'rgb', 'oklab'}, optional
        Space in which "nearest" (and the dithering error) is measured; by
        default the mode's.
    importance : 'auto' or array_like of shape (H, W), optional
        Sets each pixel's Floyd-Steinberg level
        (:func:`kmeans_quant.importance.dither_level`); ``'auto'`` (the
        default of ``mode='perceptual'``) computes it from the image.
    dither_strength : float, default 1.0
        In [0, 1], as for :func:`quantize`.

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
    dither, strength = check_dither(dither, dither_strength)
    fit_space, importance = resolve_mode(mode, space, importance)
    fit_space = check_choice(fit_space, "space", SPACES)
    if isinstance(palette, Palette) and palette.alpha is not None:
        asked = "rgb" if space is None else space
        check_alpha_fit("fit", method="kmeans", space=asked, dither=dither)
        return recolor_rgba(rgba_source(image), palette)
    # The importance only sets dithering levels: not worth computing without.
    src = source(image, importance=importance if dither == "floyd-steinberg" else None)
    colors = check_palette(palette, channels=src.prep.channels, dtype=src.prep.dtype)
    if dither != "none":
        return dithered(src, colors, method=dither, space=fit_space, strength=strength)
    canon = np.unique(colors, axis=0)
    return expand(src, canon, nearest(src.table.colors, canon, fmt=src.prep, space=fit_space))


def fit_palette(
    histogram: ColorHistogram,
    k: int,
    *,
    rng: RNGLike = 0,
    method: str = "kmeans",
    space: str = "rgb",
    max_iter: int = 300,
    tol: float = 1e-4,
    alpha: str = "keep",
    fixed: ArrayLike | None = None,
) -> Palette:
    r"""The ``k``-colour palette of the pixels a histogram counts.

    Runs the fit of :func:`extract_palette` on the histogram's colours
    weighted by their counts, the same objective over the same pixels, so
    for the histogram of an image (or the merge of the histograms of its
    blocks, or of several images) the result equals ``extract_palette`` of
    those pixels with the same options bit for bit: same colours, same
    counts, same order.

    Parameters
    ----------
    histogram : ColorHistogram
        At least one counted pixel. For ``alpha='fit'``, a histogram of
        (colour, alpha) values: ``ColorHistogram.from_image(rgba, alpha="fit")``.
    k, rng, method, space, max_iter, tol, alpha, fixed
        As for :func:`extract_palette`; ``fixed`` in the histogram's dtype.

    Returns
    -------
    Palette
        ``colors`` (m, channels) in the histogram's dtype, ``m <= k``, most
        frequent first, with their pixel counts (and ``alpha`` with
        ``alpha='fit'``).

    Raises
    ------
    TypeError
        ``histogram`` not a ColorHistogram; bad ``k``/``rng``.
    ValueError
        A histogram that counts no pixel; unknown ``method``/``space``/``alpha``;
        ``alpha='fit'`` with a histogram of colours only, or ``alpha='keep'``
        with one of (colour, alpha) values; ``fixed`` as for
        :func:`extract_palette`.

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

    With alpha as part of the colour:

    >>> rgba = np.dstack([img, np.where(img[..., 0] > 128, 255, 0).astype(np.uint8)])
    >>> h = ColorHistogram.from_image(rgba, alpha="fit")
    >>> fit_palette(h, 4, alpha="fit").alpha
    array([  0, 255, 255, 255], dtype=uint8)
    """
    if not isinstance(histogram, ColorHistogram):
        raise TypeError(f"histogram must be a ColorHistogram, got {type(histogram).__name__}")
    opt = fit_options(k, rng=rng, max_iter=max_iter, tol=tol, method=method, space=space)
    fit_alpha = alpha_fitted(alpha, opt, space=space, fixed=fixed)
    if histogram.n_pixels == 0:
        raise ValueError(
            "histogram counts no pixels (an empty histogram, or only fully transparent "
            "pixels skipped); nothing to fit"
        )
    if fit_alpha != (histogram.channels == 4):
        raise ValueError(
            f"alpha={alpha!r} needs a histogram of "
            + (
                "(colour, alpha) values, ColorHistogram.from_image(image, alpha='fit')"
                if fit_alpha
                else "colours; this one counts (colour, alpha) values: use alpha='fit'"
            )
            + f", got a {histogram.channels}-channel histogram"
        )
    fmt = PixelFormat(histogram.dtype, histogram.channels)
    if fit_alpha:
        mapping = rgba_palette(histogram.colors, histogram.counts, fmt=fmt, opt=opt)
        return alpha_palette(mapping.palette, mapping.counts)
    opt = with_fixed(opt, fixed, fmt)
    table = palette_of_table(histogram.colors, histogram.counts, fmt=fmt, opt=opt)
    return keep_fixed(table, opt.fixed)
