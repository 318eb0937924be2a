r"""Frame sequences: animated GIF, APNG and animated WebP, read and written whole.

:func:`read_frames` gives an :class:`Animation`: every frame as a full
picture (Pillow composes each frame onto what the previous ones left, by
their disposal and blend settings), each frame's duration, the loop count
and the colour profile. :func:`write_frames` writes one back, keeping the
frame count, the durations, the loop count and the transparency.

Quantize them with :func:`quantize_frames`, which takes and gives an
:class:`Animation` (or a plain list of frames): one palette fitted on the
frames' merged colour histogram (no flicker) or one per frame. A GIF
holds at most 256 colours per frame; :func:`write_frames` writes all
frames with one palette, so a colour that stays put in the picture keeps
its index in every frame.

Memory: the frames are held as uint8 (4 bytes per pixel with alpha, 3
without); the fit works on their merged histogram and each frame is
recoloured on its own, so no frame is ever held as float. An animation
whose frames would decode to more than :data:`MAX_ANIMATION_BYTES` bytes
(4 bytes a pixel, as Pillow gives them) is refused before any frame is
decoded; quantizing one needs about twice that at its peak (the frames
and their quantized copies). Files are written to a temporary name and
moved into place: a failure (a corrupt frame, a full disk) leaves nothing.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._atomic import atomic_write, destination
from ._dtypes import to_uint8
from ._indexing import GIF_ALPHA_THRESHOLD
from ._pil import open_pillow
from ._validation import RNGLike, check_k, check_rng
from .color_table import merge_tables
from .histogram import ColorHistogram, merge
from .image import extract_palette, quantize, recolor
from .importance import importance_map
from .indexed import IndexedImage, palette_indices, pil_indexed
from .io import frame_count, human_size
from .palette import Palette

__all__ = [
    "Animation",
    "read_frames",
    "write_frames",
    "quantize_frames",
    "ANIMATION_EXTENSIONS",
    "MAX_ANIMATION_BYTES",
]

#: Extensions :func:`write_frames` writes: GIF, APNG (``.png``/``.apng``), WebP.
ANIMATION_EXTENSIONS = (".gif", ".png", ".apng", ".webp")

#: Bytes of decoded frames (frames x height x width x 4, RGBA as Pillow
#: decodes them) above which :func:`read_frames` refuses a file: 1 GiB.
MAX_ANIMATION_BYTES = 1 << 30

_MAX_GIF_COLORS = 256
_FORMATS = {".gif": "GIF", ".png": "PNG", ".apng": "PNG", ".webp": "WEBP"}


@dataclass(frozen=True, eq=False)
class Animation:
    """The frames of an animation and how they are played.

    Attributes
    ----------
    frames : list of ndarray
        Full pictures, uint8, all of one shape ``(H, W, 3)``, or
        ``(H, W, 4)`` when any frame has transparency.
    durations_ms : list of int
        How long each frame is shown, in milliseconds (0 as some files have
        it: players then choose their own short delay).
    loop : int or None
        Times the animation repeats (0: forever); None when the file
        stores no loop setting (it plays once).
    icc_profile : bytes or None
        The embedded ICC colour profile, if any.
    """

    frames: list[NDArray[np.uint8]]
    durations_ms: list[int]
    loop: int | None = 0
    icc_profile: bytes | None = field(default=None)

    def __len__(self) -> int:
        return len(self.frames)


def read_frames(path: str | os.PathLike) -> Animation:
    """Read every frame of an animated GIF, APNG or WebP (or any image: one frame).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    Animation

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        ``path`` is missing or a folder.
    ValueError
        Not an image, frames that would decode to more than
        :data:`MAX_ANIMATION_BYTES` (checked before decoding), or a frame
        that cannot be decoded (the message names it and the file).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from kmeans_quant.frames import read_frames, write_frames
    >>> frames = [np.full((4, 6, 3), v, np.uint8) for v in (0, 120, 240)]
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "fade.gif"
    >>> _ = write_frames(out, frames, durations_ms=[100, 200, 300], loop=2)
    >>> anim = read_frames(out)
    >>> len(anim), anim.durations_ms, anim.loop, anim.frames[1][0, 0].tolist()
    (3, [100, 200, 300], 2, [120, 120, 120])
    """
    name = os.fspath(path)
    with open_pillow(name) as (im, _):
        n = frame_count(im, name)
        w, h = im.size
        decoded = n * w * h * 4
        if decoded > MAX_ANIMATION_BYTES:
            raise ValueError(
                f"cannot read {name!r}: {n} frames of {w}x{h} decode to {human_size(decoded)}, "
                f"more than the {human_size(MAX_ANIMATION_BYTES)} an animation may take"
            )
        loop = im.info.get("loop")
        icc = im.info.get("icc_profile") or None
        frames: list[NDArray[np.uint8]] = []
        durations: list[int] = []
        for i in range(n):
            try:
                im.seek(i)
                frames.append(np.asarray(im.convert("RGBA")))
            except Exception as exc:  # Pillow raises many types for broken data
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise ValueError(
                    f"cannot read frame {i + 1} of {n} of {name!r}: {reason or type(exc).__name__}"
                ) from exc
            durations.append(int(round(float(im.info.get("duration", 0) or 0))))
    if all((f[..., 3] == 255).all() for f in frames):
        for i, f in enumerate(frames):  # one frame at a time: no second copy of them all
            frames[i] = np.ascontiguousarray(f[..., :3])
    return Animation(frames, durations, None if loop is None else int(loop), icc)


def _check_frames(frames: Sequence[Any] | Animation) -> list[NDArray[np.uint8]]:
    """The frames as uint8 RGB or RGBA arrays of one shape."""
    from ._pil import as_array

    if isinstance(frames, Animation):
        frames = frames.frames
    arrays = [np.asarray(as_array(f)) for f in frames]
    if not arrays:
        raise ValueError("expected at least one frame, got none")
    first = arrays[0].shape
    for i, f in enumerate(arrays):
        if f.dtype not in (np.uint8, np.uint16) or f.ndim != 3 or f.shape[2] not in (3, 4):
            raise ValueError(
                f"expected uint8 frames of shape (H, W, 3) or (H, W, 4), frame {i} has dtype "
                f"{f.dtype} and shape {f.shape}"
            )
        if f.shape != first:
            raise ValueError(
                f"all frames must have the same shape, frame 0 is {first} and "
                f"frame {i} is {f.shape}"
            )
    return [to_uint8(f) for f in arrays]


def _check_durations(durations_ms: int | Sequence[int], n: int) -> list[int]:
    """One whole number of milliseconds, 0 or more, per frame."""
    if isinstance(durations_ms, Sequence) or isinstance(durations_ms, np.ndarray):
        durations = [int(d) for d in durations_ms]
    else:
        durations = [int(durations_ms)] * n
    if len(durations) != n:
        raise ValueError(f"expected {n} durations (one per frame), got {len(durations)}")
    if min(durations) < 0:
        raise ValueError(f"durations must be milliseconds >= 0, got {min(durations)}")
    return durations


def shared_colors(frames: list[NDArray[np.uint8]]) -> NDArray[np.uint8]:
    """The distinct RGB colours of all frames (alpha ignored), from their merged histograms."""
    hist = merge(ColorHistogram.from_image(f[..., :3], transparent="count") for f in frames)
    return hist.colors


def _index_frames(
    frames: list[NDArray[np.uint8]], gif: bool
) -> tuple[list[NDArray[np.uint8]], IndexedImage] | None:
    """Index every frame into one palette, or None if more than 256 entries are needed.

    The palette is the colours of all frames (RGB), or for RGBA frames the
    (colour, alpha) pairs, every fully transparent pixel on one entry (for
    GIF: alpha below 128 on the one transparent entry).
    """
    if frames[0].shape[2] == 3:
        colors = shared_colors(frames)
        if colors.shape[0] > 256:
            return None
        maps = [palette_indices(f.reshape(-1, 3), colors).astype(np.uint8) for f in frames]
        return [m.reshape(f.shape[:2]) for m, f in zip(maps, frames, strict=True)], IndexedImage(
            maps[0].reshape(frames[0].shape[:2]), colors, None
        )
    threshold = GIF_ALPHA_THRESHOLD if gif else 1
    rgba = []
    for f in frames:
        px = f.reshape(-1, 4).copy()
        clear = px[:, 3] < threshold
        px[clear] = 0
        if gif:
            px[~clear, 3] = 255
        rgba.append(px)
    distinct = [np.unique(px, axis=0) for px in rgba]
    entries, _ = merge_tables([(u, np.ones(u.shape[0], np.int64)) for u in distinct])
    if entries.shape[0] > 256:
        return None
    order = np.argsort(entries[:, 3] == 255, kind="stable")  # see-through entries first
    entries = entries[order]
    maps = [
        palette_indices(px, entries).astype(np.uint8).reshape(f.shape[:2])
        for px, f in zip(rgba, frames, strict=True)
    ]
    opacity = entries[:, 3].copy()
    return maps, IndexedImage(maps[0], entries[:, :3].copy(), opacity)


def write_frames(
    path: str | os.PathLike,
    frames: Sequence[Any] | Animation,
    *,
    durations_ms: int | Sequence[int] | None = None,
    loop: int | None = 0,
    force: bool = False,
    icc_profile: bytes | None = None,
) -> Path:
    r"""Save frames as an animated GIF, APNG or WebP, by the extension.

    The frames are written as they are when they fit the format. For GIF
    (at most 256 colours) and APNG, frames with at most 256 colours in
    total (RGBA: (colour, alpha) pairs, all fully transparent pixels
    counting as one) are written as palette images sharing one palette;
    GIF frames with more colours are first mapped to one K-Means palette
    of 256 colours fitted on all frames together
    (:func:`kmeans_quant.quantize_frames`), so the GIF never flickers.
    WebP is written lossless.

    Parameters
    ----------
    path : str or os.PathLike
        Destination ending in ``.gif``, ``.png``/``.apng`` or ``.webp``.
    frames : sequence of ndarray or PIL.Image.Image, or Animation
        The pictures, in order, all the same size; uint8 (or uint16,
        written as 8-bit) RGB or RGBA. An :class:`Animation` brings its
        durations, loop count and profile (the keywords override them).
    durations_ms : int or sequence of int
        How long each frame is shown, in milliseconds: one number for all,
        or one per frame, 0 or more (0 is kept: players then use a short
        delay of their own). GIF stores hundredths of a second, so durations
        are rounded to 10 ms by the format.
    loop : int or None, default 0
        Times the animation repeats; 0 means forever, None stores no loop
        setting (played once).
    force : bool, default False
        Overwrite ``path`` if it exists.
    icc_profile : bytes, optional
        Colour profile to embed (APNG and WebP).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        No frames, a frame that is not uint8 RGB/RGBA, frames that differ in
        shape, durations that are not one number >= 0 per frame, or an
        extension that is not an animation format.
    FileExistsError
        If ``path`` exists and ``force`` is False.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant.frames import write_frames
    >>> ramp = np.linspace(0, 255, 32).astype(np.uint8)
    >>> frames = [np.stack([np.roll(ramp, s)[None, :].repeat(8, 0)] * 3, axis=-1)
    ...           for s in range(0, 32, 8)]
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "ramp.gif"
    >>> write_frames(out, frames, durations_ms=100).name
    'ramp.gif'
    >>> from PIL import Image
    >>> with Image.open(out) as im:
    ...     im.n_frames, im.info["duration"]
    (4, 100)
    """
    dest, ext = destination(path, ANIMATION_EXTENSIONS, "the animation ")
    if isinstance(frames, Animation):
        durations_ms = frames.durations_ms if durations_ms is None else durations_ms
        icc_profile = frames.icc_profile if icc_profile is None else icc_profile
    if durations_ms is None:
        raise ValueError("durations_ms is required (one number, or one per frame)")
    arrays = _check_frames(frames)
    durations = _check_durations(durations_ms, len(arrays))
    images = _pillow_frames(arrays, ext)

    from PIL import Image

    options: dict[str, Any] = {"format": _FORMATS[ext], "save_all": True, "duration": durations}
    if loop is not None:
        options["loop"] = int(loop)
    transparent = arrays[0].shape[2] == 4
    if ext == ".gif":
        # Full frames: each replaces the last (restored to the background
        # first when frames have transparency); optimize=False keeps the
        # shared palette as it is.
        options.update(disposal=2 if transparent else 1, optimize=False)
    elif ext == ".webp":
        options.update(lossless=True)
        if icc_profile:
            options["icc_profile"] = icc_profile
    else:
        options.update(disposal=0, blend=0, default_image=False)
        if icc_profile:
            options["icc_profile"] = icc_profile
    if "transparency" in images[0].info:
        options["transparency"] = images[0].info["transparency"]
    first: Image.Image = images[0]

    def write(tmp: Path) -> None:
        first.save(tmp, append_images=images[1:], **options)

    atomic_write(dest, write, force=force)
    return dest


def _pillow_frames(arrays: list[NDArray[np.uint8]], ext: str) -> list[Any]:
    """Pillow images for the frames: palette images sharing one palette where they fit."""
    from PIL import Image

    if ext == ".webp":
        return [Image.fromarray(f) for f in arrays]
    indexed = _index_frames(arrays, gif=ext == ".gif")
    if indexed is None and ext == ".gif":
        arrays = quantize_frames(arrays, _MAX_GIF_COLORS - (arrays[0].shape[2] == 4))
        indexed = _index_frames(arrays, gif=True)
    if indexed is None:
        return [Image.fromarray(f) for f in arrays]
    maps, shared = indexed
    return [pil_indexed(shared._replace(indices=m)) for m in maps]


# The options quantize_frames passes on to quantize / extract_palette.
_FitKeywords = dict[str, Any]


@overload
def quantize_frames(
    frames: Animation,
    k: int | None = None,
    *,
    per_frame_palette: bool = False,
    rng: RNGLike = 0,
    mode: str = "mse",
    method: str = "kmeans",
    space: str | None = None,
    dither: str = "none",
    max_iter: int = 300,
    tol: float = 1e-4,
    alpha: str = "keep",
    fixed: ArrayLike | None = None,
    dither_strength: float = 1.0,
    quality: tuple[int, int] | None = None,
) -> Animation: ...


@overload
def quantize_frames(
    frames: Sequence[Any],
    k: int | None = None,
    *,
    per_frame_palette: bool = False,
    rng: RNGLike = 0,
    mode: str = "mse",
    method: str = "kmeans",
    space: str | None = None,
    dither: str = "none",
    max_iter: int = 300,
    tol: float = 1e-4,
    alpha: str = "keep",
    fixed: ArrayLike | None = None,
    dither_strength: float = 1.0,
    quality: tuple[int, int] | None = None,
) -> list[NDArray]: ...


def quantize_frames(
    frames: Animation | Sequence[Any],
    k: int | None = None,
    *,
    per_frame_palette: bool = False,
    rng: RNGLike = 0,
    mode: str = "mse",
    method: str = "kmeans",
    space: str | None = None,
    dither: str = "none",
    max_iter: int = 300,
    tol: float = 1e-4,
    alpha: str = "keep",
    fixed: ArrayLike | None = None,
    dither_strength: float = 1.0,
    quality: tuple[int, int] | None = None,
) -> Animation | list[NDArray]:
    r"""Reduce the frames of an animation to at most ``k`` colours, without flicker.

    By default all frames share one palette: :func:`extract_palette` of the
    frames together (their colour histograms merged, so the fit is K-Means
    over every pixel of every frame), and every frame is mapped onto it
    with :func:`recolor`. A colour that stays put in the picture then keeps
    the same palette colour in every frame. With ``per_frame_palette=True``
    each frame is quantized on its own (:func:`quantize`), which fits each
    frame better but lets still areas flicker.

    Parameters
    ----------
    frames : Animation, or sequence of ndarray or PIL.Image.Image
        An :class:`Animation` (as :func:`read_frames` gives), or the frames
        themselves, each as :func:`quantize` accepts; all share channel
        layout and dtype (in a plain list their sizes may differ).
    k : int, optional
        Maximum number of colours (per frame with ``per_frame_palette``);
        required unless ``quality`` is given, when it defaults to 256.
    per_frame_palette : bool, default False
        One palette per frame instead of one for all.
    rng, mode, method, space, dither, max_iter, tol, alpha, fixed, dither_strength
        As for :func:`quantize`; with ``mode='perceptual'`` every frame's
        pixels are weighed by that frame's importance map.
    quality : (int, int), optional
        As for :func:`quantize`, judged over the pixels of all frames
        together (of each frame with ``per_frame_palette``). The shared
        palette is the one ``quantize`` chooses for all frames' pixels taken
        as one image, which is held once more in memory for the search.

    Returns
    -------
    Animation or list of ndarray
        An :class:`Animation` with the quantized frames and the input's
        durations, loop count and profile when given one; otherwise one
        quantized frame per input frame, each of its frame's shape and dtype.

    Raises
    ------
    TypeError, ValueError
        As for :func:`quantize`; an empty ``frames``; frames that cannot
        share a palette.
    QualityTooLow
        ``quality``'s minimum is out of reach with ``k`` colours.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import quantize_frames
    >>> rng = np.random.default_rng(0)
    >>> frames = [rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8) for _ in range(3)]
    >>> out = quantize_frames(frames, 4)
    >>> len(np.unique(np.concatenate([f.reshape(-1, 3) for f in out]), axis=0))
    4

    An :class:`Animation` comes back as one, with its timing:

    >>> from kmeans_quant.frames import Animation
    >>> anim = quantize_frames(Animation(frames, [40, 0, 80], loop=3), 4)
    >>> len(anim), anim.durations_ms, anim.loop
    (3, [40, 0, 80], 3)
    """
    if isinstance(frames, Animation):
        out = quantize_frames(
            frames.frames,
            k,
            per_frame_palette=per_frame_palette,
            rng=rng,
            mode=mode,
            method=method,
            space=space,
            dither=dither,
            max_iter=max_iter,
            tol=tol,
            alpha=alpha,
            fixed=fixed,
            dither_strength=dither_strength,
            quality=quality,
        )
        return dataclasses.replace(frames, frames=out)
    if isinstance(frames, (str, bytes)) or not isinstance(frames, Sequence):
        raise TypeError(
            f"frames must be an Animation or a list or tuple of images, got {type(frames).__name__}"
        )
    if len(frames) == 0:
        raise ValueError("frames is empty; give at least one frame")
    gen = check_rng(rng)
    fit: _FitKeywords = {
        "mode": mode,
        "method": method,
        "space": space,
        "max_iter": max_iter,
        "tol": tol,
    }
    mapping: _FitKeywords = {
        "dither": dither,
        "mode": mode,
        "space": space,
        "dither_strength": dither_strength,
    }
    if per_frame_palette:
        each = {**fit, **mapping, "alpha": alpha, "fixed": fixed, "quality": quality}
        return [quantize(f, k, rng=gen, **each) for f in frames]
    palette: Palette | NDArray
    if quality is not None:
        palette = _quality_palette(frames, k, quality=quality, rng=gen, fit=fit)
    else:
        palette = extract_palette(
            list(frames), check_k(k), rng=gen, alpha=alpha, fixed=fixed, **fit
        )
    return [recolor(f, palette, **mapping) for f in frames]


def _quality_palette(
    frames: Sequence[Any],
    k: int | None,
    *,
    quality: tuple[int, int],
    rng: np.random.Generator,
    fit: _FitKeywords,
) -> NDArray:
    """The colours :func:`quantize` with ``quality`` gives all frames' pixels as one image.

    The pixels are stacked into one column: its colour table is the frames'
    merged one, so the search and the fit see every pixel of every frame. In
    the perceptual mode each pixel keeps the weight of its own frame's
    importance map.
    """
    from ._pil import as_array

    arrays = [np.asarray(as_array(f)) for f in frames]
    layout = {(a.dtype, a.shape[2:]) for a in arrays}
    if len(layout) > 1:
        raise ValueError(
            "frames for a shared palette must have the same channels and dtype, got "
            + ", ".join(sorted(f"{dt} {shape or '(grey)'}" for dt, shape in layout))
        )
    c = 1 if arrays[0].ndim == 2 else arrays[0].shape[2]
    column = np.concatenate([a.reshape(-1, 1, c) for a in arrays])
    weights = None
    if fit["mode"] == "perceptual":
        weights = np.concatenate([importance_map(a).reshape(-1, 1) for a in arrays])
    out = quantize(column, k, quality=quality, rng=rng, importance=weights, **fit)
    return np.unique(out.reshape(-1, c)[:, : min(c, 3)], axis=0)
