"""Palette-mode pixels: the index map and palette of a uint8 image, and its Pillow "P" image.

The kernels behind :mod:`kmeans_quant.indexed` (the public functions),
:func:`kmeans_quant.io.write_image` and :mod:`kmeans_quant.frames`; they take
uint8 colours that are already checked.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._dtypes import to_uint8
from ._validation import check_palette
from .color_table import color_table, index_of_codes, pack_colors
from .palette import Palette

__all__ = [
    "GIF_ALPHA_THRESHOLD",
    "IndexedImage",
    "as_rgb",
    "distinct_colors",
    "index_rgb",
    "palette_colors_uint8",
    "palette_indices",
    "pil_indexed",
]

#: Alpha below this is "transparent" in a GIF, which has no partial alpha.
GIF_ALPHA_THRESHOLD = 128


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


def index_rgb(
    image8: NDArray[np.uint8], palette: NDArray[np.uint8] | None, *, gif: bool
) -> IndexedImage | None:
    """The :class:`IndexedImage` of a uint8 RGB or RGBA image, or None if it needs > 256 entries.

    Without ``palette`` the image's own colours are the palette. RGBA:
    for PNG, one entry per (colour, alpha) pair in use, every fully
    transparent pixel on one entry of colour and alpha 0, the entries that
    are not opaque first (the tRNS chunk then stops early); for GIF, which
    has one transparent entry and no partial alpha, alpha below
    :data:`GIF_ALPHA_THRESHOLD` takes that entry.
    """
    h, w = image8.shape[:2]
    rgb = np.ascontiguousarray(image8[..., :3]).reshape(-1, 3)
    alpha = image8[..., 3].reshape(-1) if image8.shape[2] == 4 else None
    if alpha is not None and (alpha == 255).all():
        alpha = None
    if alpha is not None:  # what cannot be seen need not be in the palette
        rgb = _hide(rgb, alpha < (GIF_ALPHA_THRESHOLD if gif else 1))
    if palette is None:
        palette = color_table(rgb).colors
    idx = palette_indices(rgb, palette)
    if alpha is None:
        if palette.shape[0] > 256:
            return None
        return IndexedImage(idx.astype(np.uint8).reshape(h, w), palette, None)
    if gif:
        clear = alpha < GIF_ALPHA_THRESHOLD
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


def as_rgb(data: NDArray, pal8: NDArray | None) -> tuple[NDArray, NDArray | None]:
    """A grey image and palette as RGB ones (grey entries)."""
    rgb = data if data.ndim == 3 else np.repeat(data[..., None], 3, axis=2)
    if pal8 is not None and pal8.shape[1] == 1:
        pal8 = np.repeat(pal8, 3, axis=1)
    return rgb, None if pal8 is None else np.ascontiguousarray(pal8)
