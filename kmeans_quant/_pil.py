"""Pillow images in and out, without importing Pillow until one is met.

:func:`as_array` turns a ``PIL.Image.Image`` into one of the arrays the
image API accepts and leaves anything else alone; it looks Pillow up in
``sys.modules``, so ``import kmeans_quant`` never imports Pillow (an object
can only be a Pillow image if Pillow is already imported).
:func:`open_pillow` opens a file with Pillow for :mod:`kmeans_quant.io`
and :mod:`kmeans_quant.frames`, turning its many errors into one-line
messages.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "is_pil_image",
    "pil_to_array",
    "as_array",
    "Opened",
    "open_pillow",
    "error_reason",
]

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


class Opened(NamedTuple):
    """A Pillow image and one-line notes about opening it."""

    image: Any
    notes: list[str]


@contextlib.contextmanager
def open_pillow(name: str) -> Iterator[Opened]:
    """Open ``name`` with Pillow; decoding problems become one-line ValueErrors.

    An image above Pillow's hard decompression-bomb limit (twice
    ``PIL.Image.MAX_IMAGE_PIXELS``) is refused with a ValueError naming
    its size; one above the limit itself is opened, with a one-line note
    instead of Pillow's Python warning.
    """
    from PIL import Image

    p = Path(name)
    if not p.exists():
        raise FileNotFoundError(f"no such image file: {name!r}")
    if p.is_dir():
        raise IsADirectoryError(f"expected an image file, got the folder {name!r}")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", Image.DecompressionBombWarning)
            im = Image.open(name)
    except Image.DecompressionBombError as exc:
        raise ValueError(
            f"cannot read image {name!r}: {str(exc).split(', could be')[0]}; "
            "refused as a possible decompression bomb"
        ) from None
    except Exception as exc:  # Pillow raises many types for undecodable data
        reason = error_reason(exc)
        if p.stat().st_size == 0:
            reason = "not an image file (it is empty)"
        elif isinstance(exc, Image.UnidentifiedImageError):
            reason = "not an image file (no reader recognises its contents)"
        raise ValueError(f"cannot read image {name!r}: {reason}") from exc
    notes = [
        f"{name}: {str(w.message).split(', could be')[0]} (large; reading it anyway)"
        for w in caught
        if issubclass(w.category, Image.DecompressionBombWarning)
    ]
    with im:
        yield Opened(im, notes)


def error_reason(exc: BaseException) -> str:
    """The first line of an exception's message (its type name if it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
