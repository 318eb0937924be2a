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

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._dtypes import to_uint8
from ._indexing import (
    IndexedImage,
    as_rgb,
    index_rgb,
    palette_colors_uint8,
    palette_indices,
    pil_indexed,
)
from ._validation import check_image
from .palette import Palette

__all__ = ["IndexedImage", "index_image", "to_pil_image", "palette_indices", "pil_indexed"]


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
