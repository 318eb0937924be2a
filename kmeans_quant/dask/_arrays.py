"""Dask arrays: the palette of an image larger than memory, and its recolouring."""

from __future__ import annotations

from typing import Any

import dask
import dask.array as da
import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import recolor as _recolor_in_memory
from .._dtypes import INT_MAX
from .._fit.pipeline import fit_options, palette_of_table
from .._validation import PixelFormat, check_choice, check_code_dtype, check_image
from ..color_table import color_table, merge_tables
from ..histogram import ColorHistogram
from ..image import fit_palette
from ..palette import Palette
from ._reduce import tree_merge

__all__ = ["histogram", "extract_palette", "recolor"]

# Side of the Bayer matrix of kmeans_quant.dither.ordered (its default size).
_BAYER = 8
# What recolor does block by block (Floyd-Steinberg cannot; see recolor).
_BLOCK_DITHERS = ("none", "ordered")


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------


def _check_array(x: Any, name: str = "x", *, floats: bool = True) -> da.Array:
    """A Dask image: its type, shape, dtype (uint8, uint16, or float unless
    ``floats`` is false) and chunks. Float values outside [0, 1] are found
    block by block when computed, as ValueErrors."""
    if not isinstance(x, da.Array):
        raise TypeError(f"{name} must be a dask.array.Array, got {type(x).__name__}")
    if not (x.ndim == 2 or (x.ndim == 3 and x.shape[2] in (3, 4))):
        raise ValueError(f"expected {name} of shape (H, W), (H, W, 3) or (H, W, 4), got {x.shape}")
    if not floats or x.dtype.kind != "f":
        if floats and x.dtype not in INT_MAX:
            raise TypeError(
                f"{name} dtype must be uint8, uint16 or float with values in [0, 1], got {x.dtype}"
            )
        check_code_dtype(x.dtype, f"{name} dtype")
    if x.size == 0:
        raise ValueError(f"{name} is empty, got shape {x.shape}")
    if x.ndim == 3 and len(x.chunks[2]) > 1:
        raise ValueError(
            f"{name} is chunked along the channel axis (chunks {x.chunks[2]}); a block must "
            f"hold whole pixels: use {name}.rechunk({{2: -1}})"
        )
    return x


# --------------------------------------------------------------------------
# histograms: count blocks on the workers, merge in a tree
# --------------------------------------------------------------------------


def _block_histogram(block: NDArray, transparent: str) -> ColorHistogram:
    return ColorHistogram.from_image(block, transparent=transparent)


def histogram(x: da.Array) -> ColorHistogram:
    r"""The colour histogram of a Dask image, counted block by block.

    Each block is counted on a worker and the histograms are added up in a
    tree of fan-in 8; the result equals
    ``ColorHistogram.from_image(x.compute())``.

    Parameters
    ----------
    x : dask.array.Array, shape (H, W), (H, W, 3) or (H, W, 4), uint8 or uint16
        Any chunking in rows and columns; one chunk along channels. Float
        images have no histogram (as in memory: see
        :mod:`kmeans_quant.histogram`); :func:`extract_palette` takes them.

    Returns
    -------
    ColorHistogram

    Raises
    ------
    TypeError
        ``x`` not a Dask array, or not uint8/uint16.
    ValueError
        Wrong shape, empty, or chunked along the channel axis.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from kmeans_quant.dask import histogram
    >>> x = da.from_array(np.array([[1, 2], [2, 2]], dtype=np.uint8), chunks=1)
    >>> histogram(x).counts
    array([1, 3])
    """
    x = _check_array(x, floats=False)
    return _histogram(x)


def _histogram(x: da.Array) -> ColorHistogram:
    blocks = x.to_delayed().ravel().tolist()
    count = dask.delayed(_block_histogram, pure=True)
    # Whether any pixel is visible is a property of the whole image, so
    # blocks skip transparent pixels and the rare image with no visible
    # pixel at all is counted a second time, every pixel included.
    (hist,) = dask.compute(tree_merge([count(b, "skip") for b in blocks]))
    if hist.n_pixels == 0:
        (hist,) = dask.compute(tree_merge([count(b, "count") for b in blocks]))
    return hist


def extract_palette(
    x: da.Array,
    k: int,
    *,
    rng: Any = 0,
    method: str = "kmeans",
    space: str = "rgb",
    max_iter: int = 300,
    tol: float = 1e-4,
) -> Palette:
    r"""The ``k``-colour palette of a Dask image, equal to the in-memory one.

    Counts colours per block on the workers, merges the histograms in a
    tree, and fits once on the client (:func:`kmeans_quant.fit_palette`).
    The result equals ``kmeans_quant.extract_palette(x.compute(), k, ...)``
    bit for bit: same colours, counts and order.

    Parameters
    ----------
    x : dask.array.Array, shape (H, W), (H, W, 3) or (H, W, 4)
        uint8, uint16, or float with values in [0, 1], as in memory. Any
        chunking in rows and columns; one chunk along channels. Fully
        transparent pixels are left out as in the in-memory function.
    k : int
        Maximum number of colours, at least 1.
    rng, method, space, max_iter, tol
        As in :func:`kmeans_quant.extract_palette`.

    Returns
    -------
    Palette

    Raises
    ------
    TypeError, ValueError
        As for :func:`histogram`, and bad fit options.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import kmeans_quant
    >>> from kmeans_quant.dask import extract_palette
    >>> img = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    >>> pal = extract_palette(da.from_array(img, chunks=(25, 30, 3)), 4)
    >>> ref = kmeans_quant.extract_palette(img, 4)
    >>> bool((pal.colors == ref.colors).all() and (pal.counts == ref.counts).all())
    True
    """
    x = _check_array(x)
    # Check the options (the shared checks) before any work is sent out.
    opt = fit_options(k, rng=rng, max_iter=max_iter, tol=tol, method=method, space=space)
    if x.dtype.kind == "f":
        # Float colours have no integer code: the blocks' colour tables
        # themselves are merged, and fitted as the in-memory function fits.
        colors, counts = _merged_table(x)
        fmt = PixelFormat(np.dtype(x.dtype), colors.shape[1])
        return palette_of_table(colors, counts, fmt=fmt, opt=opt)
    return fit_palette(
        _histogram(x), k, rng=opt.rng, method=method, space=space, max_iter=max_iter, tol=tol
    )


def _block_table(block: NDArray, transparent: str) -> tuple[NDArray, NDArray]:
    """A float block's distinct colours and their counts (``transparent`` as for histograms)."""
    prep = check_image(block, "x")  # values in [0, 1], as in memory
    table = color_table(prep.pixels)
    return table.colors, table.visible_counts(prep.alpha, transparent)


def _merged_table(x: da.Array) -> tuple[NDArray, NDArray]:
    """The colour table of a float Dask image: block tables merged in a tree."""
    blocks = x.to_delayed().ravel().tolist()
    table = dask.delayed(_block_table, pure=True)
    (merged,) = dask.compute(tree_merge([table(b, "skip") for b in blocks], merge_tables))
    if merged[1].sum() == 0:  # no visible pixel at all: every pixel counts
        (merged,) = dask.compute(tree_merge([table(b, "count") for b in blocks], merge_tables))
    return merged


# --------------------------------------------------------------------------
# recolouring block by block
# --------------------------------------------------------------------------


def _recolor_block(
    block: NDArray, palette: NDArray, dither: str, space: str, block_info: dict | None = None
) -> NDArray:
    if dither != "ordered":
        return _recolor_in_memory(block, palette, space=space)
    # Pad top and left to the previous multiple of the Bayer size with copies
    # of the edge pixels: no new colour, and the tile starts in phase.
    if block_info is None:
        raise ValueError("ordered dithering of a block needs its location (block_info)")
    (y0, _), (x0, _) = block_info[0]["array-location"][:2]
    py, px = y0 % _BAYER, x0 % _BAYER
    pad = ((py, 0), (px, 0)) + ((0, 0),) * (block.ndim - 2)
    padded = np.pad(block, pad, mode="edge") if py or px else block
    out = _recolor_in_memory(padded, palette, dither="ordered", space=space)
    return out[py:, px:]


def recolor(
    x: da.Array,
    palette: Palette | ArrayLike,
    *,
    dither: str = "none",
    space: str = "rgb",
) -> da.Array:
    r"""Map every pixel of a Dask image onto ``palette``, block by block.

    Lazy: returns a Dask array of the same shape, dtype and chunks, equal
    to ``kmeans_quant.recolor(x.compute(), palette, ...)``.

    Parameters
    ----------
    x : dask.array.Array, shape (H, W), (H, W, 3) or (H, W, 4)
        uint8, uint16, or float with values in [0, 1], as in memory. Any
        chunking in rows and columns; one chunk along channels.
    palette : Palette or array_like, shape (m, c)
        As in :func:`kmeans_quant.recolor`.
    dither : {'none', 'ordered'}, default 'none'
        Nearest colour, or ordered dithering with the Bayer phase continued
        across blocks (exact for images of at most 16,384 distinct colours;
        see the module notes). Floyd-Steinberg is refused.
    space : {'rgb', 'oklab'}, default 'rgb'

    Returns
    -------
    dask.array.Array

    Raises
    ------
    TypeError, ValueError
        As for :func:`histogram`; a bad palette or ``space``;
        ``dither='floyd-steinberg'`` or an unknown ``dither``.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from kmeans_quant.dask import recolor
    >>> x = da.from_array(np.array([[10, 200], [90, 250]], dtype=np.uint8), chunks=1)
    >>> recolor(x, [[0], [255]]).compute()
    array([[  0, 255],
           [  0, 255]], dtype=uint8)
    """
    x = _check_array(x)
    if dither == "floyd-steinberg":
        raise ValueError(
            "dither='floyd-steinberg' cannot run block by block: each pixel's error "
            "spreads into the next rows and columns, across block boundaries; use "
            "dither='ordered' (exact blockwise) or 'none', or quantize in memory"
        )
    check_choice(dither, "dither", _BLOCK_DITHERS)
    # The in-memory function checks palette and space on one pixel of this
    # kind, and gives the palette in the image's dtype.
    probe = np.zeros((1, 1) + x.shape[2:], dtype=x.dtype)
    colors = palette.colors if isinstance(palette, Palette) else palette
    _recolor_in_memory(probe, colors, space=space)
    colors = np.asarray(colors)
    return x.map_blocks(
        _recolor_block,
        dtype=x.dtype,
        palette=colors,
        dither=dither,
        space=space,
        meta=np.empty((0,) * x.ndim, dtype=x.dtype),
    )
