"""Pillow images in and out, without importing Pillow until one is met.

:func:`as_array` turns a ``PIL.Image.Image`` into one of the arrays the
image API accepts and leaves anything else alone; it looks Pillow up in
``sys.modules``, so ``import kmeans_quant`` never imports Pillow (an object
can only be a Pillow image if Pillow is already imported).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Modes Pillow converts to RGB (their colour model is not RGB).
_TO_RGB = ("CMYK", "YCbCr", "LAB", "HSV")
# Modes with alpha that come back as straight (not premultiplied) RGBA.
_TO_RGBA = ("LA", "La", "RGBa", "PA")
# 16- and 32-bit integer grey modes, read as uint16.
_WIDE_GREY = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def is_pil_image(obj: Any) -> bool:
    """Whether ``obj`` is a ``PIL.Image.Image`` (False when Pillow is not imported)."""
    module = sys.modules.get("PIL.Image")
    return module is not None and isinstance(obj, module.Image)


def pil_to_array(im: Any) -> NDArray:
    """The pixels of a Pillow image as ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)``.

    ``P`` images give RGB, RGBA when they have transparency, or grey when
    every palette entry is grey; ``1`` gives
    uint8 0/255; ``L`` grey uint8; ``LA`` and premultiplied modes RGBA;
    ``CMYK``, ``YCbCr``, ``LAB`` and ``HSV`` RGB; ``I;16`` (and ``I`` with
    values in 0-65535) grey uint16; ``F`` float when its values lie in
    [0, 1]. Anything else is converted to RGB or RGBA by Pillow.
    """
    mode = im.mode
    if mode == "P" and "transparency" not in im.info and _grey_palette(im):
        im = im.convert("L")
    elif mode == "P" or mode == "PA":
        im = im.convert("RGBA" if mode == "PA" or "transparency" in im.info else "RGB")
    elif mode == "1":
        im = im.convert("L")
    elif mode in _TO_RGB:
        im = im.convert("RGB")
    elif mode in _TO_RGBA:
        im = im.convert("RGBA")
    elif mode not in ("L", "RGB", "RGBA", "F") + _WIDE_GREY:
        im = im.convert("RGBA" if "A" in mode else "RGB")
    arr = np.asarray(im)
    if mode in _WIDE_GREY:
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise ValueError(
                f"Pillow image of mode {mode!r} has values in [{arr.min()}, {arr.max()}], "
                "outside the 0-65535 a uint16 image holds"
            )
        return arr.astype(np.uint16)
    return np.ascontiguousarray(arr)


def _grey_palette(im: Any) -> bool:
    """Whether every colour of a "P" image's palette is grey (R = G = B)."""
    raw = im.getpalette("RGB") or []
    entries = np.asarray(raw, dtype=np.uint8).reshape(-1, 3)
    return bool((entries == entries[:, :1]).all())


def as_array(image: Any) -> Any:
    """``image`` as an ndarray if it is a Pillow image, else unchanged."""
    return pil_to_array(image) if is_pil_image(image) else image
