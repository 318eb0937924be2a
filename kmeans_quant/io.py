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

import contextlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._atomic import atomic_write
from ._dtypes import to_uint8
from ._validation import check_image, check_palette
from .color_table import color_table, pack_colors
from .palette import Palette

__all__ = [
    "read_image",
    "open_image",
    "ImageFile",
    "write_image",
    "index_image",
    "IndexedImage",
    "to_pil_image",
    "palette_indices",
    "IMAGE_EXTENSIONS",
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
# Alpha below this is "transparent" in a GIF, which has no partial alpha.
_GIF_ALPHA_THRESHOLD = 128


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
    """

    image: NDArray
    icc_profile: bytes | None
    n_frames: int
    notes: tuple[str, ...]


def _png_depth(path: str) -> tuple[int, int] | None:
    """Bit depth and colour type from a PNG's IHDR chunk, or None if not a PNG."""
    with open(path, "rb") as f:
        head = f.read(26)
    if len(head) < 26 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return head[24], head[25]


def orient(image: NDArray, orientation: int) -> NDArray:
    """Apply an EXIF orientation (1-8) to ``image``: pixels as a viewer shows them.

    >>> import numpy as np
    >>> orient(np.array([[1, 2], [3, 4]]), 6)   # "rotate 90 degrees clockwise to view"
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


class _Opened(NamedTuple):
    """A Pillow image and one-line notes about opening it."""

    image: Any
    notes: list[str]


@contextlib.contextmanager
def open_pillow(name: str) -> Iterator[_Opened]:
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
        raise ValueError(f"cannot read image {name!r}: {_reason(exc)}") from exc
    notes = [
        f"{name}: {str(w.message).split(', could be')[0]} (large; reading it anyway)"
        for w in caught
        if issubclass(w.category, Image.DecompressionBombWarning)
    ]
    with im:
        yield _Opened(im, notes)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def open_image(path: str | os.PathLike) -> ImageFile:
    """Read an image file's first frame, its colour profile and how many frames it has.

    Like :func:`read_image`, which returns ``open_image(path).image``.
    """
    from ._pil import pil_to_array

    name = os.fspath(path)
    with open_pillow(name) as (im, notes):
        fmt = im.format
        n_frames = int(getattr(im, "n_frames", 1))
        icc = im.info.get("icc_profile") or None
        try:
            orientation = int(im.getexif().get(_ORIENTATION, 1))
        except Exception:  # a broken EXIF block is not worth refusing the picture for
            orientation = 1
        try:
            if fmt == "TIFF":
                import imageio.v3 as iio

                # tifffile (through imageio) keeps 16-bit and float samples.
                arr = np.asarray(iio.imread(name, page=0))
            else:
                im.seek(0)
                arr = pil_to_array(im)
        except ValueError:
            raise
        except Exception as exc:
            raise ValueError(f"cannot read image {name!r}: {_reason(exc)}") from exc
    if fmt == "TIFF" and n_frames > 1:
        notes.append(f"{name}: read the first page of {n_frames}")
    depth = _png_depth(name) if fmt == "PNG" else None
    if depth is not None and depth[0] == 16 and depth[1] in (2, 4, 6):
        notes.append(
            f"{name}: 16-bit colour PNG read as 8-bit (Pillow reads 8 bits of it; TIFF keeps 16)"
        )
    image = orient(_normalise_read(arr, name), orientation)
    return ImageFile(image, icc, n_frames, tuple(notes))


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
        The file is not an image Pillow can decode, is larger than Pillow's
        decompression-bomb limit, or holds pixel data (shape or value
        range) that no image function accepts.

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


def _palette_colors(palette: Palette | ArrayLike, image: NDArray) -> NDArray[np.uint8]:
    """Palette colours, given in ``image``'s units, as uint8 ``(m, c)``."""
    channels = 1 if image.ndim == 2 else 3
    return to_uint8(check_palette(palette, channels=channels, dtype=image.dtype))


def _distinct_colors(image8: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The distinct colours (alpha ignored) of a uint8 image, shape ``(m, c)``."""
    px = image8.reshape(-1, 1) if image8.ndim == 2 else image8[..., :3].reshape(-1, 3)
    return color_table(np.ascontiguousarray(px)).colors


def palette_indices(colors: NDArray, palette: NDArray) -> NDArray[np.intp]:
    """Index into ``palette`` (m, c) of every row of ``colors`` (n, c), which must be exact.

    Both are uint8 or uint16 of the same dtype. Raises ValueError naming the
    first colour that is not in the palette.

    >>> import numpy as np
    >>> palette_indices(np.array([[9, 9, 9], [0, 0, 0]], np.uint8),
    ...                 np.array([[0, 0, 0], [9, 9, 9]], np.uint8))
    array([1, 0])
    """
    pal_codes = pack_colors(palette)
    order = np.argsort(pal_codes, kind="stable")
    sorted_codes = pal_codes[order]
    codes = pack_colors(colors)
    pos = np.minimum(np.searchsorted(sorted_codes, codes), sorted_codes.size - 1)
    missing = sorted_codes[pos] != codes
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} pixels have colours that are not in the palette "
            f"(first one: {colors[np.argmax(missing)].tolist()}); pass the palette the "
            "image was recoloured with, or palette=None"
        )
    return order[pos]


class IndexedImage(NamedTuple):
    """What a palette-mode file stores: one index per pixel and the palette.

    ``indices`` (H, W) uint8 index ``colors`` (m, 3) uint8; ``alpha`` (m,)
    uint8 is each entry's opacity, or None when every entry is opaque.
    """

    indices: NDArray[np.uint8]
    colors: NDArray[np.uint8]
    alpha: NDArray[np.uint8] | None


def _index(image8: NDArray[np.uint8], palette: NDArray[np.uint8] | None, gif: bool):
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
    >>> from kmeans_quant.io import index_image
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
    pal8 = None if palette is None else _palette_colors(palette, image)
    rgb, pal_rgb = _as_rgb(data, pal8)
    ix = _index(rgb, pal_rgb, gif=False)
    if ix is None:
        raise ValueError("image has more than 256 distinct colours (with alpha); quantize it first")
    return ix


def _as_rgb(data: NDArray, pal8: NDArray | None) -> tuple[NDArray, NDArray | None]:
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
    >>> from kmeans_quant.io import to_pil_image
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


def _save_pillow(im: Any, tmp: Path, ext: str, icc_profile: bytes | None) -> None:
    kwargs: dict[str, Any] = {"format": "GIF" if ext == ".gif" else "PNG"}
    if ext == ".gif":
        kwargs["optimize"] = False  # keep our palette order exactly
    else:
        kwargs["optimize"] = True
        if icc_profile:
            kwargs["icc_profile"] = icc_profile
    if "transparency" in im.info:
        kwargs["transparency"] = im.info["transparency"]
    im.save(tmp, **kwargs)


def destination(path: str | os.PathLike, allowed: tuple[str, ...], what: str) -> tuple[Path, str]:
    """``path`` as a Path and its lower-case extension, which must be in ``allowed``."""
    dest = Path(os.fspath(path))
    ext = dest.suffix.lower()
    if ext not in allowed:
        raise ValueError(
            f"cannot write {what}{str(dest)!r}: unsupported extension "
            f"{dest.suffix or '(none)'!r}; use one of {', '.join(allowed)}"
        )
    return dest, ext


def write_image(
    path: str | os.PathLike,
    image: NDArray,
    *,
    palette: Palette | ArrayLike | None = None,
    force: bool = False,
    icc_profile: bytes | None = None,
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
    pal8 = None if palette is None else _palette_colors(palette, image)
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
        rgb, pal_rgb = _as_rgb(data, pal8)
        indexed = _index(rgb, pal_rgb, gif=ext == ".gif")
        if indexed is not None:
            im = pil_indexed(indexed)
            atomic_write(dest, lambda tmp: _save_pillow(im, tmp, ext, icc_profile), force=force)
            return dest
    if ext == ".gif":
        # Left to Pillow, more than 256 colours would be re-quantized silently.
        raise ValueError(
            f"cannot write {str(dest)!r}: a GIF holds at most 256 colours, "
            f"the image has {_distinct_colors(data).shape[0]}; quantize it first or write .png"
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
