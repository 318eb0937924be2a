r"""Reading and writing image files, atomically, with indexed PNG and GIF.

:func:`read_image` gives every file as one of the arrays the image API
accepts: ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA, in uint8
or uint16 (float only for float TIFFs with values in [0, 1]).

:func:`write_image` writes through a temporary file that is renamed over
the destination (:mod:`kmeans_quant._atomic`), so a reader or a crash sees
either the old file or the complete new one.

Why palette-mode files
    A quantized image with :math:`m \le 256` colours is stored best as a
    palette plus one index per pixel: PNG then uses 1, 2, 4 or 8 bits per
    pixel instead of 24, which is most of the size saving quantization is
    for. GIF can only store images this way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._atomic import atomic_write
from ._dtypes import to_uint8
from ._validation import check_image, check_palette
from .color_table import color_table, index_of_codes, pack_colors
from .palette import Palette

__all__ = ["read_image", "write_image", "IMAGE_EXTENSIONS"]

#: File extensions :func:`write_image` can write, lower case.
IMAGE_EXTENSIONS = (".png", ".gif", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")

# Formats that hold at most 8 bits per channel: uint16 and float images are
# scaled to uint8 for them. TIFF keeps 16 bits, PNG for grey images only.
_EIGHT_BIT_ONLY = (".gif", ".jpg", ".jpeg", ".bmp", ".webp")
# Formats that cannot store an alpha channel at all.
_NO_ALPHA = (".jpg", ".jpeg")
# Pillow modes that imageio would hand over in a colour model other than RGB.
_TO_RGB_MODES = ("CMYK", "YCbCr", "LAB", "HSV")
# Alpha below this is "transparent" in a GIF, which has no partial alpha.
_GIF_ALPHA_THRESHOLD = 128


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------


def _normalise_read(arr: NDArray, path: str) -> NDArray:
    """Bring what imageio read to one of the layouts the image API accepts."""
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3 and arr.shape[2] == 2:  # grey + alpha -> RGBA
        arr = np.concatenate([np.repeat(arr[..., :1], 3, axis=2), arr[..., 1:]], axis=2)
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise ValueError(
            f"cannot use image {path!r}: expected shape (H, W), (H, W, 3) or (H, W, 4), "
            f"got {arr.shape}"
        )
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * np.uint8(255)
    if arr.dtype in (np.uint8, np.uint16):
        return np.ascontiguousarray(arr)
    if arr.dtype.kind in "iu" and arr.size and arr.min() >= 0 and arr.max() <= 65535:
        return arr.astype(np.uint16)  # e.g. Pillow's 32-bit "I" mode holding 16-bit data
    if arr.dtype.kind == "f" and np.isfinite(arr).all() and arr.min() >= 0 and arr.max() <= 1:
        return np.ascontiguousarray(arr)
    raise ValueError(
        f"cannot use image {path!r}: pixel type {arr.dtype} with values outside "
        "the uint8, uint16 or float [0, 1] ranges is not supported"
    )


def _header(name: str) -> dict[str, Any]:
    """Mode and info of an image file without decoding its pixels.

    Pillow reads only the header; imageio's ``immeta`` also looks for EXIF,
    which for a PNG means decoding the whole image once more. Files Pillow
    cannot open go to imageio.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(name) as im:
            return {**im.info, "mode": im.mode, "format": im.format}
    except (UnidentifiedImageError, OSError, ValueError):
        import imageio.v3 as iio

        return dict(iio.immeta(name, index=0))


# Formats decoded by Pillow directly, as imageio's Pillow plugin would; this
# spares the command line imageio's import. Others go through imageio.
_PILLOW_FORMATS = ("PNG", "JPEG", "BMP")


def _decode(name: str, fmt: str | None, mode: str | None) -> NDArray:
    """The first frame's pixels, converted to ``mode`` if given."""
    if fmt in _PILLOW_FORMATS:
        from PIL import Image

        with Image.open(name) as im:
            if mode is not None:
                im = im.convert(mode)
            elif im.mode == "P":
                im = im.convert("RGB")
            return np.asarray(im)
    import imageio.v3 as iio

    kwargs = {} if mode is None else {"mode": mode}
    return np.asarray(iio.imread(name, index=0, **kwargs))


def read_image(path: str | os.PathLike) -> NDArray:
    """Read an image file into an array the image API accepts.

    Any format imageio reads (PNG, JPEG, GIF, TIFF, BMP, WebP, ...). Only
    the first frame of an animation or multi-page file is read. Palette
    images come back as RGB, or RGBA when they have transparency; 1-bit
    images as uint8 0/255; grey + alpha as RGBA.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Returns
    -------
    ndarray, shape (H, W), (H, W, 3) or (H, W, 4)
        uint8 or uint16 (float in [0, 1] for float TIFFs).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    IsADirectoryError
        ``path`` is a folder.
    ValueError
        The file is empty or not an image ("not an image file"), cannot be
        decoded, or holds pixel data (shape or value range) that no image
        function accepts.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from kmeans_quant.io import read_image, write_image
    >>> img = np.zeros((2, 3, 3), dtype=np.uint8); img[0, 0] = [255, 128, 0]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = write_image(os.path.join(d, "tiny.png"), img)
    ...     back = read_image(os.path.join(d, "tiny.png"))
    >>> back.shape, back.dtype, bool((back == img).all())
    ((2, 3, 3), dtype('uint8'), True)
    """
    name = os.fspath(path)
    p = Path(name)
    if not p.exists():
        raise FileNotFoundError(f"no such image file: {name!r}")
    if p.is_dir():
        raise IsADirectoryError(f"expected an image file, got the folder {name!r}")
    try:
        meta = _header(name)
        mode = meta.get("mode")
        kwargs: dict[str, Any] = {}
        if mode in ("P", "PA") and ("transparency" in meta or mode == "PA"):
            kwargs["mode"] = "RGBA"  # imageio would otherwise drop the tRNS alpha
        elif mode in ("La", "RGBa"):
            kwargs["mode"] = "RGBA"  # undo premultiplied alpha
        elif mode in _TO_RGB_MODES:
            kwargs["mode"] = "RGB"
        arr = _decode(name, meta.get("format"), kwargs.get("mode"))
    except Exception as exc:  # imageio raises many types for undecodable data
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if p.stat().st_size == 0:
            reason = "not an image file (it is empty)"
        elif "Could not find a backend" in reason or "cannot identify image" in reason:
            reason = "not an image file (no reader recognises its contents)"
        raise ValueError(f"cannot read image {name!r}: {reason}") from exc
    return _normalise_read(arr, name)


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------


def _palette_colors(palette: Palette | ArrayLike, image: NDArray) -> NDArray[np.uint8]:
    """Palette colours, given in ``image``'s units, as uint8 ``(m, c)``."""
    channels = 1 if image.ndim == 2 else 3
    return to_uint8(check_palette(palette, channels=channels, dtype=image.dtype))


def _distinct_colors(image8: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The distinct colours (alpha ignored) of a uint8 image, shape ``(m, c)``."""
    px = image8.reshape(-1, 1) if image8.ndim == 2 else image8[..., :3].reshape(-1, 3)
    return color_table(np.ascontiguousarray(px)).colors


def _palette_indices(rgb: NDArray[np.uint8], palette: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Index into ``palette`` of every pixel of ``rgb`` (n, c), which must be exact."""
    index = index_of_codes(pack_colors(rgb), pack_colors(palette), rgb.shape[1])
    missing = index < 0
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} pixels have colours that are not in the palette "
            f"(first one: {rgb[np.argmax(missing)].tolist()}); pass the palette the "
            "image was recoloured with, or palette=None"
        )
    return index.astype(np.uint8)


def _indexed_image(image8: NDArray[np.uint8], palette: NDArray[np.uint8], gif: bool):
    """A Pillow "P" image for ``image8`` (RGB or RGBA), or None if it cannot be one.

    RGBA images for PNG get one palette entry per (colour, alpha) pair in
    use plus a tRNS chunk, when there are at most 256 pairs. GIF has only
    one transparent entry: pixels with alpha below 128 take it.
    """
    from PIL import Image

    h, w = image8.shape[:2]
    rgb = image8[..., :3].reshape(-1, 3)
    idx = _palette_indices(rgb, palette)
    pal = palette
    transparency: Any = None
    if image8.shape[2] == 4:
        alpha = image8[..., 3].reshape(-1)
        if gif:
            clear = alpha < _GIF_ALPHA_THRESHOLD
            if clear.any():
                if palette.shape[0] >= 256:
                    raise ValueError(
                        "a GIF with transparency can hold at most 255 colours, "
                        f"got a palette of {palette.shape[0]}"
                    )
                transparency = palette.shape[0]
                pal = np.vstack([palette, np.zeros((1, 3), np.uint8)])
                idx = np.where(clear, np.uint8(transparency), idx)
        elif (alpha != 255).any():
            pairs = idx.astype(np.uint32) << 8 | alpha
            used, idx32 = np.unique(pairs, return_inverse=True)
            if used.size > 256:
                return None
            pal = palette[(used >> 8).astype(np.intp)]
            transparency = (used & 0xFF).astype(np.uint8).tobytes()
            idx = idx32.reshape(-1).astype(np.uint8)
    im = Image.frombytes("P", (w, h), np.ascontiguousarray(idx).tobytes())
    im.putpalette(np.ascontiguousarray(pal, dtype=np.uint8).tobytes(), rawmode="RGB")
    if transparency is not None:
        im.info["transparency"] = transparency
    return im


# zlib level of PNGs written without optimize=True: the measured trade-off
# of size against time is in docs/benchmarks.md ("End to end").
_PNG_LEVEL = 6


def _save_pillow(im, tmp: Path, ext: str, optimize: bool) -> None:
    kwargs: dict[str, Any] = {"format": "GIF" if ext == ".gif" else "PNG"}
    if ext == ".gif":
        kwargs["optimize"] = False  # keep our palette order exactly
    elif optimize:
        kwargs["optimize"] = True  # Pillow: zlib level 9, the most effort
    else:
        kwargs["compress_level"] = _PNG_LEVEL
    if "transparency" in im.info:
        kwargs["transparency"] = im.info["transparency"]
    im.save(tmp, **kwargs)


def write_image(
    path: str | os.PathLike,
    image: NDArray,
    *,
    palette: Palette | ArrayLike | None = None,
    force: bool = False,
    optimize: bool = False,
) -> Path:
    """Write an image file atomically, as a palette-mode PNG or GIF when possible.

    The format follows the extension (see ``IMAGE_EXTENSIONS``). With a
    ``palette`` of at most 256 colours that covers every pixel, ``.png``
    and ``.gif`` are written in palette ("P") mode: 1 to 8 bits per pixel.
    Otherwise imageio writes the pixels as they are.

    How special cases are stored:

    * RGBA to PNG: palette mode with a tRNS (per-entry alpha) chunk when
      there are at most 256 (colour, alpha) pairs, else truecolour RGBA.
    * GIF without a palette: the image's own colours if there are at most
      256, else ValueError (no silent re-quantization).
    * RGBA to GIF: pixels with alpha < 128 become the one transparent entry
      (so the palette may have at most 255 colours); partial alpha is lost.
    * Grey ``(H, W)`` to PNG: 8- or 16-bit greyscale, which reads back as
      ``(H, W)``; to GIF: palette mode with grey entries.
    * uint16 images keep 16 bits in TIFF and in grey PNG; everywhere else
      they are rounded to 8 bits (Pillow, which imageio uses for PNG,
      neither writes nor reads 16-bit colour PNGs: use ``.tif`` to keep
      them). Float images are written as uint8.
    * JPEG cannot hold alpha: RGBA to ``.jpg`` raises ValueError. WebP is
      written lossless, JPEG at quality 95.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; its folder must exist.
    image : ndarray, shape (H, W), (H, W, 3) or (H, W, 4)
        uint8, uint16, or float with values in [0, 1].
    palette : Palette or array_like, shape (m, c), optional
        The colours of ``image`` (``c`` = 3, or 1 for grey), for instance the
        one it was recoloured with. Every pixel's colour must be in it.
    force : bool, default False
        Replace an existing file at ``path``; without it an existing file is
        an error and is left untouched.
    optimize : bool, default False
        Compress palette-mode PNGs with the most zlib effort (level 9):
        a few per cent smaller, many times slower. By default level 6.

    Returns
    -------
    pathlib.Path
        The destination, as a Path.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``force`` is False.
    FileNotFoundError
        The destination folder does not exist.
    TypeError, ValueError
        Unsupported extension or image, alpha for JPEG, a palette that does
        not match the image.
    OSError
        The file could not be written; nothing is left behind.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> from kmeans_quant.io import write_image
    >>> img = np.zeros((4, 4, 3), dtype=np.uint8); img[:2] = [250, 200, 0]
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = write_image(os.path.join(d, "two.png"), img, palette=[[0, 0, 0], [250, 200, 0]])
    ...     with Image.open(out) as im:
    ...         print(im.mode, len(im.getpalette()) // 3)
    P 2
    """
    dest = Path(os.fspath(path))
    ext = dest.suffix.lower()
    if ext not in IMAGE_EXTENSIONS:
        raise ValueError(
            f"cannot write {str(dest)!r}: unsupported extension {dest.suffix!r}; "
            f"use one of {', '.join(IMAGE_EXTENSIONS)}"
        )
    check_image(image)
    if ext in _NO_ALPHA and image.ndim == 3 and image.shape[2] == 4:
        raise ValueError(
            f"cannot write {str(dest)!r}: JPEG has no alpha channel; "
            "write .png, .tif or .webp, or drop the alpha first"
        )
    pal8 = None if palette is None else _palette_colors(palette, image)
    # Pillow, which imageio uses for PNG, handles 16-bit colour PNGs in
    # neither direction, so only grey PNGs (and TIFFs) keep 16 bits.
    eight_bit = (
        ext in _EIGHT_BIT_ONLY or image.dtype.kind == "f" or (ext == ".png" and image.ndim == 3)
    )
    data = to_uint8(image) if eight_bit else np.ascontiguousarray(image)

    if ext == ".gif" and (pal8 is None or pal8.shape[0] > 256):
        # GIF is palette-only; left to Pillow, more than 256 colours would be
        # re-quantized silently, so take the image's own colours or refuse.
        pal8 = _distinct_colors(data)
        if pal8.shape[0] > 256:
            raise ValueError(
                f"cannot write {str(dest)!r}: a GIF holds at most 256 colours, "
                f"the image has {pal8.shape[0]}; quantize it first or write .png"
            )

    # Grey PNGs stay 8-bit greyscale, which reads back as (H, W).
    if (
        pal8 is not None
        and pal8.shape[0] <= 256
        and data.dtype == np.uint8
        and (ext == ".gif" or (ext == ".png" and data.ndim == 3))
    ):
        rgb = data if data.ndim == 3 else np.repeat(data[..., None], 3, axis=2)
        pal_rgb = pal8 if pal8.shape[1] == 3 else np.repeat(pal8, 3, axis=1)
        indexed = _indexed_image(rgb, np.ascontiguousarray(pal_rgb), ext == ".gif")
        if indexed is not None:
            atomic_write(dest, lambda tmp: _save_pillow(indexed, tmp, ext, optimize), force=force)
            return dest

    kwargs: dict[str, Any] = {}
    if ext in (".jpg", ".jpeg"):
        kwargs["quality"] = 95
    elif ext == ".webp":
        kwargs["lossless"] = True

    def _write(tmp: Path) -> None:
        import imageio.v3 as iio

        iio.imwrite(tmp, data, extension=ext, **kwargs)

    atomic_write(dest, _write, force=force)
    return dest
