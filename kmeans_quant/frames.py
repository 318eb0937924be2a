"""Write a sequence of RGB frames as one animated file.

An animated GIF holds at most 256 colours per frame. Rather than let the
encoder pick a palette per frame (frames then flicker where their palettes
differ), :func:`write_frames` fits *one* palette to all frames with the
library's own :func:`~kmeans_quant.extract_palette` and maps every frame
onto it with :func:`~kmeans_quant.recolor`, so a colour that stays put in
the picture stays the same index in every frame.

Pillow (which imageio already installs) encodes the GIF; the file is
written to a temporary name and moved into place, so a failure never
leaves a partial file behind.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ._atomic import atomic_write
from .image import extract_palette, recolor

__all__ = ["write_frames"]

_MAX_GIF_COLORS = 256


def _check_frames(frames: Sequence[NDArray]) -> list[NDArray[np.uint8]]:
    """Validate the frames: at least one, all uint8 RGB of one size."""
    frames = [np.asarray(f) for f in frames]
    if not frames:
        raise ValueError("expected at least one frame, got none")
    first = frames[0].shape
    for i, f in enumerate(frames):
        if f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
            raise ValueError(
                f"expected uint8 frames of shape (H, W, 3), frame {i} has dtype "
                f"{f.dtype} and shape {f.shape}"
            )
        if f.shape != first:
            raise ValueError(
                f"all frames must have the same shape, frame 0 is {first} and "
                f"frame {i} is {f.shape}"
            )
    return frames


def _check_durations(durations_ms: int | Sequence[int], n: int) -> list[int]:
    """One positive whole number of milliseconds per frame."""
    if isinstance(durations_ms, Sequence) or isinstance(durations_ms, np.ndarray):
        durations = [int(d) for d in durations_ms]
    else:
        durations = [int(durations_ms)] * n
    if len(durations) != n:
        raise ValueError(f"expected {n} durations (one per frame), got {len(durations)}")
    if min(durations) <= 0:
        raise ValueError(f"durations must be positive milliseconds, got {min(durations)}")
    return durations


def write_frames(
    path: str | os.PathLike,
    frames: Sequence[NDArray[np.uint8]],
    *,
    durations_ms: int | Sequence[int],
    loop: int = 0,
    force: bool = False,
) -> Path:
    r"""Save RGB frames as an animated GIF with one shared palette.

    The palette is the K-Means palette of all frames together (their colour
    histograms summed), with at most 256 colours; every frame is then
    mapped to its nearest palette colours. When the frames hold 256
    distinct colours or fewer in total, the palette is exactly those
    colours and the GIF is lossless.

    Parameters
    ----------
    path : str or os.PathLike
        Destination, normally ending in ``.gif``.
    frames : sequence of ndarray, each uint8 of shape (H, W, 3)
        The pictures, in order, all the same size.
    durations_ms : int or sequence of int
        How long each frame is shown, in milliseconds: one number for all,
        or one per frame. GIF stores hundredths of a second, so durations
        are rounded to 10 ms by the format.
    loop : int, default 0
        Times the animation repeats; 0 means forever.
    force : bool, default False
        Overwrite ``path`` if it exists.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If there are no frames, a frame is not uint8 RGB, the frames differ
        in shape, or the durations are not one positive number per frame.
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
    frames = _check_frames(frames)
    durations = _check_durations(durations_ms, len(frames))
    palette = extract_palette(frames, _MAX_GIF_COLORS)
    colors = np.clip(np.rint(palette.colors), 0, 255).astype(np.uint8)

    from PIL import Image  # Pillow comes with imageio

    # Every recoloured pixel is exactly a palette colour, so Pillow's own
    # nearest-colour conversion only looks up its index: a distance of 0.
    swatch = Image.new("P", (1, 1))
    swatch.putpalette(colors.reshape(-1).tolist())
    images = [
        Image.fromarray(recolor(f, palette)).quantize(palette=swatch, dither=Image.Dither.NONE)
        for f in frames
    ]

    def write(tmp: Path) -> None:
        # disposal=1 keeps each full frame; optimize=False stops Pillow from
        # re-ordering the shared palette per frame.
        images[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=durations,
            loop=loop,
            disposal=1,
            optimize=False,
        )

    atomic_write(path, write, force=force)
    return Path(path)
