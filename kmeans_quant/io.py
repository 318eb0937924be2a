r"""Reading and writing image files, atomically, with indexed PNG and GIF.

:func:`read_image` gives every file as one of the arrays the image API
accepts: ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA, in uint8
or uint16 (float only for float TIFFs with values in [0, 1]).

:func:`write_image` writes through a temporary file that is renamed over
the destination (:mod:`kmeans_quant._atomic`), so a reader or a crash sees
either the old file or the complete new one. PNG and GIF are written as
palette-mode files whenever the colours fit (:mod:`kmeans_quant.indexed`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._atomic import atomic_write, destination
from ._dtypes import to_uint8
from ._indexing import as_rgb, distinct_colors, index_rgb, palette_colors_uint8, pil_indexed
from ._pil import error_reason, open_pillow, pil_to_array
from ._validation import check_image
from .indexed import IndexedImage, index_image, to_pil_image
from .palette import Palette

__all__ = [
    "read_image",
    "open_image",
    "ImageFile",
    "write_image",
    "index_image",
    "IndexedImage",
    "to_pil_image",
    "IMAGE_EXTENSIONS",
    "human_size",
    "frame_count",
]

#: File extensions :func:`write_image` can write, lower case.
IMAGE_EXTENSIONS = (".png", ".gif", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")

# Formats that hold at most 8 bits per channel: uint16 and float images are
# scaled to uint8 for them. TIFF keeps 16 bits, PNG for grey images only.
_EIGHT_BIT_ONLY = (".gif", ".jpg", ".jpeg", ".bmp", ".webp")
# Formats that cannot store an alpha channel at all.
_NO_ALPHA = (".jpg", ".jpeg")
# The EXIF tag that says how to turn the stored pixels for viewing.
_ORIENTATION = 0x0112
# Formats whose files carry an ICC profile (through Pillow).
_ICC_FORMATS = (".png", ".jpg", ".jpeg", ".webp")


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------


def _normalise_read(arr: NDArray, path: str) -> NDArray:
    """Bring what a reader gave to one of the layouts the image API accepts."""
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


@dataclass(frozen=True, eq=False)
class ImageFile:
    """What :func:`open_image` read: the pixels and what else of the file is kept.

    Attributes
    ----------
    image : ndarray, shape (H, W), (H, W, 3) or (H, W, 4)
        The first frame (or page), EXIF orientation applied.
    icc_profile : bytes or None
        The embedded ICC colour profile, to be written back with the output.
    n_frames : int
        Frames of an animation or pages of a multi-page TIFF (1 otherwise).
    notes : tuple of str
        One-line remarks about what was not read as stored (a 16-bit PNG
        read as 8-bit, the first page of several, a very large image).
    format : str or None
        The file format as Pillow names it (``"PNG"``, ``"GIF"``, ``"JPEG"``, ...).
    """

    image: NDArray
    icc_profile: bytes | None
    n_frames: int
    notes: tuple[str, ...]
    format: str | None = None


def _png_depth(path: str) -> tuple[int, int] | None:
    """Bit depth and colour type from a PNG's IHDR chunk, or None if not a PNG."""
    with open(path, "rb") as f:
        head = f.read(26)
    if len(head) < 26 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return head[24], head[25]


def _orient(image: NDArray, orientation: int) -> NDArray:
    """Apply an EXIF orientation (1-8) to ``image``: pixels as a viewer shows them.

    >>> import numpy as np
    >>> _orient(np.array([[1, 2], [3, 4]]), 6)   # "rotate 90 degrees clockwise to view"
    array([[3, 1],
           [4, 2]])
    """
    turns = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
        8: lambda a: np.rot90(a, 1),
    }
    turn = turns.get(int(orientation))
    return image if turn is None else np.ascontiguousarray(turn(image))


def human_size(n: int) -> str:
    """A byte count for people: ``'512 B'``, ``'1.5 KiB'``, ``'3.0 MiB'``, ``'4.1 GiB'``.

    >>> human_size(512), human_size(1536), human_size(3 << 30)
    ('512 B', '1.5 KiB', '3.0 GiB')
    """
    if n < 1024:
        return f"{n} B"
    for unit, scale in (("KiB", 1 << 10), ("MiB", 1 << 20)):
        if n < scale << 10:
            return f"{n / scale:.1f} {unit}"
    return f"{n / (1 << 30):.1f} GiB"


def frame_count(im: Any, name: str) -> int:
    """Frames of an opened Pillow image; a file cut short is a ValueError naming it.

    Pillow counts a GIF's frames by reading through them, so a truncated
    file fails here, with an IndexError or a struct.error of its own.
    """
    try:
        return int(getattr(im, "n_frames", 1))
    except Exception as exc:  # Pillow raises many types for broken data
        raise ValueError(
            f"cannot read image {name!r}: its frames cannot be counted, the file looks "
            f"truncated or damaged ({error_reason(exc)})"
        ) from exc


def open_image(path: str | os.PathLike) -> ImageFile:
    """Read an image file's first frame, its colour profile and how many frames it has.

    Like :func:`read_image`, which returns ``open_image(path).image``.
    """

    name = os.fspath(path)
    with open_pillow(name) as (im, notes):
        fmt = im.format
        n_frames = frame_count(im, name)
        icc = im.info.get("icc_profile") or None
        try:
            orientation = int(im.getexif().get(_ORIENTATION, 1))
        except Exception:  # a broken EXIF block is not worth refusing the picture for
            orientation = 1
        try:
            if fmt == "TIFF":
                import imageio.v3 as iio

                # tifffile (through imageio) keeps 16-bit and float samples; the
                # extension picks it also for a file without one (standard input).
                arr = np.asarray(iio.imread(name, page=0, extension=".tif"))
            else:
                im.seek(0)
                arr = pil_to_array(im)
        except ValueError:
            raise
        except Exception as exc:
            raise ValueError(f"cannot read image {name!r}: {error_reason(exc)}") from exc
    if fmt == "TIFF" and n_frames > 1:
        notes.append(f"{name}: read the first page of {n_frames}")
    depth = _png_depth(name) if fmt == "PNG" else None
    if depth is not None and depth[0] == 16 and depth[1] in (2, 4, 6):
        notes.append(
            f"{name}: 16-bit colour PNG read as 8-bit (Pillow reads 8 bits of it; TIFF keeps 16)"
        )
    image = _orient(_normalise_read(arr, name), orientation)
    return ImageFile(image, icc, n_frames, tuple(notes), fmt)


def read_image(path: str | os.PathLike) -> NDArray:
    """Read an image file into an array the image API accepts.

    Any format Pillow reads (PNG, JPEG, GIF, TIFF, BMP, WebP, ...); TIFF
    through imageio's tifffile reader, which keeps 16-bit and float
    samples. The EXIF orientation is applied, so the pixels are as a
    viewer shows them. Only the first frame of an animation or multi-page
    file is read (see :mod:`kmeans_quant.frames` for all frames). Palette
    images come back as RGB, or RGBA when they have transparency; 1-bit
    images as uint8 0/255; grey + alpha as RGBA; 16-bit grey PNGs as
    uint16 (16-bit colour PNGs as uint8: Pillow reads 8 bits of them).

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
        decoded, is larger than Pillow's decompression-bomb limit, or holds
        pixel data (shape or value range) that no image function accepts.

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
    return open_image(path).image


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------


# zlib level of PNGs written without optimize=True: the measured trade-off
# of size against time is in docs/benchmarks.md ("End to end").
_PNG_LEVEL = 6


def _save_pillow(
    im: Any, tmp: Path, *, ext: str, icc_profile: bytes | None, optimize: bool
) -> None:
    kwargs: dict[str, Any] = {"format": "GIF" if ext == ".gif" else "PNG"}
    if ext == ".gif":
        kwargs["optimize"] = False  # keep our palette order exactly
    else:
        if optimize:
            kwargs["optimize"] = True  # Pillow: zlib level 9, the most effort
        else:
            kwargs["compress_level"] = _PNG_LEVEL
        if icc_profile:
            kwargs["icc_profile"] = icc_profile
    if "transparency" in im.info:
        kwargs["transparency"] = im.info["transparency"]
    im.save(tmp, **kwargs)


def write_image(
    path: str | os.PathLike,
    image: NDArray,
    *,
    palette: Palette | ArrayLike | None = None,
    force: bool = False,
    icc_profile: bytes | None = None,
    optimize: bool = False,
) -> Path:
    """Write an image file atomically, as a palette-mode PNG or GIF when possible.

    The format follows the extension (see ``IMAGE_EXTENSIONS``). With a
    ``palette`` of at most 256 colours that covers every pixel, ``.png``
    and ``.gif`` are written in palette ("P") mode: 1 to 8 bits per pixel.
    Otherwise imageio writes the pixels as they are.

    How special cases are stored:

    * Without a palette, PNG and GIF use the image's own colours when
      there are at most 256; beyond that PNG is truecolour and GIF raises
      ValueError (no silent re-quantization).
    * Palette files have the smallest bit depth that holds the palette
      (1, 2, 4 or 8 bits per pixel): a two-colour image is a 1-bit PNG.
    * RGBA to PNG: one palette entry per (colour, alpha) pair in use, all
      fully transparent pixels on one entry of colour and alpha 0 (their
      stored colours are not kept), with a tRNS (per-entry alpha) chunk;
      truecolour RGBA when there are more than 256 pairs.
    * RGBA to GIF: pixels with alpha < 128 become the one transparent entry
      (so the palette may have at most 255 colours); partial alpha is lost.
    * Grey ``(H, W)`` uint8 to PNG or GIF: palette mode with grey entries,
      which reads back as ``(H, W)``; uint16 grey to PNG: 16-bit greyscale.
    * uint16 images keep 16 bits in TIFF and in grey PNG; everywhere else
      they are rounded to 8 bits (Pillow, which imageio uses for PNG,
      neither writes nor reads 16-bit colour PNGs: use ``.tif`` to keep
      them). Float images are written as uint8.
    * JPEG cannot hold alpha: RGBA to ``.jpg`` raises ValueError. WebP is
      written lossless, JPEG at quality 95.
    * ``icc_profile`` is embedded in PNG, JPEG and WebP files (TIFF, GIF
      and BMP outputs do not carry it). No EXIF is written, so no stale
      orientation either.

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
    icc_profile : bytes, optional
        An ICC colour profile to embed (for instance
        ``open_image(src).icc_profile``), where the format holds one.
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
    dest, ext = destination(path, IMAGE_EXTENSIONS, "")
    check_image(image)
    if ext in _NO_ALPHA and image.ndim == 3 and image.shape[2] == 4:
        raise ValueError(
            f"cannot write {str(dest)!r}: JPEG has no alpha channel; "
            "write .png, .tif or .webp, or drop the alpha first"
        )
    pal8 = None if palette is None else palette_colors_uint8(palette, image)
    # Pillow, which imageio uses for PNG, handles 16-bit colour PNGs in
    # neither direction, so only grey PNGs (and TIFFs) keep 16 bits.
    eight_bit = (
        ext in _EIGHT_BIT_ONLY or image.dtype.kind == "f" or (ext == ".png" and image.ndim == 3)
    )
    data = to_uint8(image) if eight_bit else np.ascontiguousarray(image)

    if ext == ".gif" and pal8 is not None and pal8.shape[0] > 256:
        pal8 = None  # GIF is palette-only: try the colours the image uses
    # Palette files whenever they fit: grey (not 16-bit), RGB and RGBA.
    if data.dtype == np.uint8 and ext in (".png", ".gif"):
        rgb, pal_rgb = as_rgb(data, pal8)
        indexed = index_rgb(rgb, pal_rgb, gif=ext == ".gif")
        if indexed is not None:
            im = pil_indexed(indexed)
            atomic_write(
                dest,
                lambda tmp: _save_pillow(
                    im, tmp, ext=ext, icc_profile=icc_profile, optimize=optimize
                ),
                force=force,
            )
            return dest
    if ext == ".gif":
        # Left to Pillow, more than 256 colours would be re-quantized silently.
        raise ValueError(
            f"cannot write {str(dest)!r}: a GIF holds at most 256 colours, "
            f"the image has {distinct_colors(data).shape[0]}; quantize it first or write .png"
        )

    kwargs: dict[str, Any] = {}
    if ext in (".jpg", ".jpeg"):
        kwargs["quality"] = 95
    elif ext == ".webp":
        kwargs["lossless"] = True
    if icc_profile and ext in _ICC_FORMATS:
        kwargs["icc_profile"] = icc_profile

    def _write(tmp: Path) -> None:
        import imageio.v3 as iio

        iio.imwrite(tmp, data, extension=ext, **kwargs)

    atomic_write(dest, _write, force=force)
    return dest
