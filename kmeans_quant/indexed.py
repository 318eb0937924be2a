r"""What a palette-mode file stores: an index per pixel and a palette.

A quantized image with :math:`m \le 256` colours is stored best as a
palette plus one index per pixel: PNG then uses 1, 2, 4 or 8 bits per
pixel instead of 24, which is most of the size saving quantization is for,
and GIF can only store images this way. :func:`index_image` gives that
index map and palette (with per-entry alpha for RGBA images) without
refitting; :func:`to_pil_image` makes a Pillow "P" image of it;
:mod:`kmeans_quant.io` and :mod:`kmeans_quant.frames` write them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._dtypes import to_uint8
from ._validation import check_image, check_palette
from .color_table import color_table, index_of_codes, pack_colors
from .palette import Palette

__all__ = ["IndexedImage", "index_image", "to_pil_image", "palette_indices", "pil_indexed"]

# Alpha below this is "transparent" in a GIF, which has no partial alpha.
_GIF_ALPHA_THRESHOLD = 128


def palette_colors_uint8(palette: Palette | ArrayLike, image: NDArray) -> NDArray[np.uint8]:
    """Palette colours, given in ``image``'s units, as uint8 ``(m, c)``."""
    channels = 1 if image.ndim == 2 else 3
    return to_uint8(check_palette(palette, channels=channels, dtype=image.dtype))


def distinct_colors(image8: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The distinct colours (alpha ignored) of a uint8 image, shape ``(m, c)``."""
    px = image8.reshape(-1, 1) if image8.ndim == 2 else image8[..., :3].reshape(-1, 3)
    return color_table(np.ascontiguousarray(px)).colors


def palette_indices(colors: NDArray, palette: NDArray) -> NDArray[np.signedinteger]:
    """Index into ``palette`` (m, c) of every row of ``colors`` (n, c), which must be exact.

    Both are uint8 or uint16 of the same dtype; the indices come in the
    smallest signed integer type that holds them (int16 for short uint8
    palettes). Raises ValueError naming the first colour that is not in the
    palette.

    >>> import numpy as np
    >>> palette_indices(np.array([[9, 9, 9], [0, 0, 0]], np.uint8),
    ...                 np.array([[0, 0, 0], [9, 9, 9]], np.uint8))
    array([1, 0], dtype=int16)
    """
    if colors.dtype == np.uint8:  # a lookup table over the code space when it pays
        index = index_of_codes(pack_colors(colors), pack_colors(palette), colors.shape[1])
        missing = index < 0
    else:
        pal_codes = pack_colors(palette)
        order = np.argsort(pal_codes, kind="stable")
        codes = pack_colors(colors)
        pos = np.minimum(np.searchsorted(pal_codes[order], codes), pal_codes.size - 1)
        missing = pal_codes[order[pos]] != codes
        index = order[pos]
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} pixels have colours that are not in the palette "
            f"(first one: {colors[np.argmax(missing)].tolist()}); pass the palette the "
            "image was recoloured with, or palette=None"
        )
    return index


class IndexedImage(NamedTuple):
    """What a palette-mode file stores: one index per pixel and the palette.

    ``indices`` (H, W) uint8 index ``colors`` (m, 3) uint8; ``alpha`` (m,)
    uint8 is each entry's opacity, or None when every entry is opaque.
    """

    indices: NDArray[np.uint8]
    colors: NDArray[np.uint8]
    alpha: NDArray[np.uint8] | None


def index_rgb(image8: NDArray[np.uint8], palette: NDArray[np.uint8] | None, gif: bool):
    """The :class:`IndexedImage` of a uint8 RGB or RGBA image, or None if it needs > 256 entries.

    Without ``palette`` the image's own colours are the palette. RGBA:
    for PNG, one entry per (colour, alpha) pair in use, every fully
    transparent pixel on one entry of colour and alpha 0, the entries that
    are not opaque first (the tRNS chunk then stops early); for GIF, which
    has one transparent entry and no partial alpha, alpha below 128 takes
    that entry.
    """
    h, w = image8.shape[:2]
    rgb = np.ascontiguousarray(image8[..., :3]).reshape(-1, 3)
    alpha = image8[..., 3].reshape(-1) if image8.shape[2] == 4 else None
    if alpha is not None and (alpha == 255).all():
        alpha = None
    if alpha is not None:  # what cannot be seen need not be in the palette
        rgb = _hide(rgb, alpha < (_GIF_ALPHA_THRESHOLD if gif else 1))
    if palette is None:
        palette = color_table(rgb).colors
    idx = palette_indices(rgb, palette)
    if alpha is None:
        if palette.shape[0] > 256:
            return None
        return IndexedImage(idx.astype(np.uint8).reshape(h, w), palette, None)
    if gif:
        clear = alpha < _GIF_ALPHA_THRESHOLD
        n = palette.shape[0]
        if not clear.any():
            return IndexedImage(idx.astype(np.uint8).reshape(h, w), palette, None)
        if n >= 256:
            raise ValueError(
                f"a GIF with transparency can hold at most 255 colours, got a palette of {n}"
            )
        with_clear = np.where(clear, n, idx).astype(np.uint8)
        entries = np.vstack([palette, np.zeros((1, 3), np.uint8)])
        opacity = np.append(np.full(n, 255, np.uint8), np.uint8(0))
        return IndexedImage(with_clear.reshape(h, w), entries, opacity)
    pairs = idx.astype(np.uint32) << 8 | alpha
    pairs[alpha == 0] = 0  # one entry for everything invisible
    used, inverse = np.unique(pairs, return_inverse=True)
    if used.size > 256:
        return None
    opacity = (used & 0xFF).astype(np.uint8)
    entries = palette[(used >> 8).astype(np.intp)]
    entries[opacity == 0] = 0
    order = np.argsort(opacity == 255, kind="stable")  # the see-through entries first
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    indices = rank[inverse.reshape(-1)].astype(np.uint8).reshape(h, w)
    return IndexedImage(indices, entries[order], opacity[order])


def _hide(rgb: NDArray[np.uint8], hidden: NDArray[np.bool_]) -> NDArray[np.uint8]:
    """``rgb`` with the colours of ``hidden`` pixels replaced by a visible pixel's colour."""
    if not hidden.any() or hidden.all():
        return rgb
    out = rgb.copy()
    out[hidden] = rgb[np.argmin(hidden)]
    return out


def pil_indexed(ix: IndexedImage) -> Any:
    """A Pillow "P" image for an :class:`IndexedImage` (tRNS in ``info``)."""
    from PIL import Image

    h, w = ix.indices.shape
    im = Image.frombytes("P", (w, h), np.ascontiguousarray(ix.indices).tobytes())
    im.putpalette(np.ascontiguousarray(ix.colors, dtype=np.uint8).tobytes(), rawmode="RGB")
    if ix.alpha is not None:
        see_through = np.flatnonzero(ix.alpha != 255)
        if see_through.size == 1 and ix.alpha[see_through[0]] == 0:
            im.info["transparency"] = int(see_through[0])
        else:
            im.info["transparency"] = ix.alpha[: see_through.max() + 1].tobytes()
    return im


def index_image(image: NDArray, palette: Palette | ArrayLike | None = None) -> IndexedImage:
    """What a palette-mode PNG of ``image`` stores: the index map and the palette.

    No fitting: the colours must already be few (the output of
    :func:`kmeans_quant.quantize` or :func:`kmeans_quant.recolor`). With
    ``palette``, the entries come in its order (RGB images), otherwise the
    image's distinct colours are the entries. For RGBA images each
    (colour, alpha) pair in use is one entry and all fully transparent
    pixels share one entry of colour and alpha 0.

    Parameters
    ----------
    image : ndarray or PIL.Image.Image, shape (H, W), (H, W, 3) or (H, W, 4)
        uint8, uint16 or float; values are rounded to 8 bits.
    palette : Palette or array_like, shape (m, c), optional
        The colours of ``image``; every pixel's colour must be in it.

    Returns
    -------
    IndexedImage
        ``indices`` (H, W) uint8, ``colors`` (m, 3) uint8, ``alpha`` (m,)
        uint8 or None.

    Raises
    ------
    ValueError
        More than 256 entries would be needed, or a pixel colour is not in
        ``palette``.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant.indexed import index_image
    >>> img = np.array([[[9, 9, 9], [0, 0, 0], [9, 9, 9]]], dtype=np.uint8)
    >>> ix = index_image(img)
    >>> ix.indices, ix.colors
    (array([[1, 0, 1]], dtype=uint8), array([[0, 0, 0],
           [9, 9, 9]], dtype=uint8))
    """
    from ._pil import as_array

    image = as_array(image)
    check_image(image)
    data = to_uint8(image)
    pal8 = None if palette is None else palette_colors_uint8(palette, image)
    rgb, pal_rgb = as_rgb(data, pal8)
    ix = index_rgb(rgb, pal_rgb, gif=False)
    if ix is None:
        raise ValueError("image has more than 256 distinct colours (with alpha); quantize it first")
    return ix


def as_rgb(data: NDArray, pal8: NDArray | None) -> tuple[NDArray, NDArray | None]:
    """A grey image and palette as RGB ones (grey entries)."""
    rgb = data if data.ndim == 3 else np.repeat(data[..., None], 3, axis=2)
    if pal8 is not None and pal8.shape[1] == 1:
        pal8 = np.repeat(pal8, 3, axis=1)
    return rgb, None if pal8 is None else np.ascontiguousarray(pal8)


def to_pil_image(image: NDArray, palette: Palette | ArrayLike | None = None) -> Any:
    """A ``PIL.Image.Image`` of a quantized image: mode "P" with its palette when it fits.

    With at most 256 distinct colours (RGBA: (colour, alpha) pairs, all
    fully transparent pixels counting as one) the image is in palette mode,
    transparency in ``info["transparency"]`` as Pillow's PNG writer takes
    it. Otherwise it is "L", "I;16", "RGB" or "RGBA" as the array is.

    Parameters
    ----------
    image : ndarray, shape (H, W), (H, W, 3) or (H, W, 4)
        uint8, uint16, or float in [0, 1].
    palette : Palette or array_like, optional
        As for :func:`index_image`: the entries' order.

    Returns
    -------
    PIL.Image.Image

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import quantize
    >>> from kmeans_quant.indexed import to_pil_image
    >>> img = np.random.default_rng(0).integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    >>> im = to_pil_image(quantize(img, 4))
    >>> im.mode, len(im.getpalette()) // 3
    ('P', 4)
    """
    from PIL import Image

    try:
        return pil_indexed(index_image(image, palette))
    except ValueError:
        if palette is not None:
            raise
    data = np.ascontiguousarray(to_uint8(image) if image.dtype.kind == "f" else image)
    if data.dtype == np.uint16 and data.ndim == 3:
        data = to_uint8(data)
    return Image.fromarray(data)
