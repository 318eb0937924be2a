"""What the command line does with each file: read, quantize, write, report.

The ``kmeans-quant`` command (:mod:`kmeans_quant.cli`) plans the jobs and
runs them through :func:`process_job` (one image) and
:func:`process_animation` (all frames of an animation); the Dask backend
(:mod:`kmeans_quant.dask`) runs :func:`process_job` on its workers, which is
what makes its files identical to a one-process run.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
from numpy.typing import NDArray

from ._atomic import atomic_path
from ._dtypes import from_uint8, full_scale, to_uint8
from .color_table import color_table, merge_tables
from .frames import ANIMATION_EXTENSIONS, Animation, quantize_frames, read_frames, write_frames
from .image import extract_palette, quantize, recolor
from .io import open_image, write_image
from .metrics import mse
from .palette import Palette, by_count
from .quality import QualityTooLow

#: The command's name, as it prints it.
PROG = "kmeans-quant"
#: The file name that stands for standard input or output.
STDIO = "-"


class RunError(Exception):
    """A file or the data let us down: exit status 1."""


class Skipped(RunError):
    """``--skip-if-larger`` kept an output from being written: exit status 98."""


class QualityMissed(RunError):
    """``--quality``'s minimum was out of reach, nothing written: exit status 99."""


@dataclass
class Job:
    """One input file and the output it is written to."""

    source: Path
    output: Path


def match_palette(image: NDArray, colors8: NDArray) -> tuple[NDArray, NDArray]:
    """``image`` and palette colours made compatible for :func:`recolor`.

    A grey image meets a colour palette by becoming RGB, unless the palette
    is all grey, when it stays grey; an RGB image takes a grey palette as
    grey RGB colours.
    """
    if colors8.shape[1] == 3 and image.ndim == 2:
        if (colors8 == colors8[:, :1]).all():
            colors8 = colors8[:, :1]
        else:
            image = np.repeat(image[..., None], 3, axis=2)
    elif colors8.shape[1] == 1 and image.ndim == 3:
        colors8 = np.repeat(colors8, 3, axis=1)
    return image, from_uint8(colors8, image.dtype)


def shared_palette(images: list[NDArray], k: int, seed: int, fit_kw: dict) -> NDArray:
    """One uint8 palette fitted on the pixels of all images together.

    The images, made 8-bit and (when any is colour) RGB, go to
    :func:`extract_palette` as a list, which adds up their colour
    histograms: the K-Means objective over every pixel of every image,
    without a copy of all the pixels.
    """
    colour = any(im.ndim == 3 for im in images)
    eight_bit = []
    for im in images:
        px = to_uint8(im if im.ndim == 2 else im[..., :3])
        if colour and px.ndim == 2:
            px = np.repeat(px[..., None], 3, axis=2)
        eight_bit.append(px)
    pal = extract_palette(eight_bit, k, rng=seed, **fit_kw)
    colors = np.asarray(pal.colors)
    return colors.reshape(-1, 1) if colors.ndim == 1 else colors


def used_palette(out: NDArray) -> Palette:
    """The colours ``out`` actually uses, with counts, most frequent first."""
    pixels = out if out.ndim == 2 else out[..., :3]
    table = color_table(np.ascontiguousarray(pixels).reshape(out.shape[0] * out.shape[1], -1))
    return by_count(table.colors, table.counts)


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024**2:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024**2:.1f} MiB"


def note_truecolour(job: Job, used: Palette, stderr: TextIO) -> None:
    if len(used) > 256 and job.output.suffix.lower() == ".png":
        print_notes(
            [f"{job.output}: {len(used)} colours do not fit a palette; written as truecolour"],
            stderr,
        )


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def report_line(job: Job, what: str) -> str:
    """The line printed for a written output: what it holds and the file sizes."""
    before, after = job.source.stat().st_size, job.output.stat().st_size
    return f"{job.source.name} -> {job.output}: {what}, {human_size(before)} -> {human_size(after)}"


@contextlib.contextmanager
def write_errors(output: Path) -> Iterator[None]:
    """Turn a failed write of ``output`` into a one-line RunError."""
    try:
        yield
    except FileExistsError:
        raise RunError(f"{str(output)!r} already exists; use --force to overwrite it") from None
    except OSError as exc:
        raise RunError(f"cannot write {str(output)!r}: {exc.strerror or exc}") from None


def file_palette(used: Palette, fixed: NDArray | None) -> NDArray:
    """The palette written into the file: the used colours (plus any fixed
    colours, in the image's units, that no pixel took), ordered by luma, which makes neighbouring
    indices similar colours and the PNG smaller (see docs/benchmarks.md)."""
    colors = np.asarray(used.colors).reshape(len(used), -1)
    if fixed is not None and fixed.shape[1] == colors.shape[1]:
        missing = ~(fixed[:, None, :] == colors[None, :, :]).all(axis=2).any(axis=1)
        colors = np.concatenate([colors, fixed[missing].astype(colors.dtype)])
    luma = colors.astype(np.float64) @ ([0.299, 0.587, 0.114] if colors.shape[1] == 3 else [1.0])
    return colors[np.argsort(luma, kind="stable")]


def write_output(
    job: Job,
    out: NDArray,
    palette: NDArray,
    args: argparse.Namespace,
    limit: int | None,
    *,
    icc_profile: bytes | None = None,
) -> int:
    """Write ``out`` to ``job.output`` (a file, atomically, or stdout); return its size.

    With ``limit``, an output of ``limit`` bytes or more is not written
    (Skipped). A file is complete and renamed into place only at the end.
    """
    optimize = bool(getattr(args, "optimize", False))
    if str(job.output) == STDIO:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder) / f"out{Path(job.source).suffix.lower() or '.png'}"
            if tmp.suffix not in (".png", ".gif"):
                tmp = tmp.with_suffix(".png")
            write_image(tmp, out, palette=palette, optimize=optimize, icc_profile=icc_profile)
            data = tmp.read_bytes()
        if limit is not None and len(data) >= limit:
            raise Skipped(f"{display_name(job.source)}: not written, {len(data)} B is not smaller")
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return len(data)
    try:
        if limit is None:
            write_image(
                job.output,
                out,
                palette=palette,
                force=args.force,
                optimize=optimize,
                icc_profile=icc_profile,
            )
            return job.output.stat().st_size
        # Written in full beside the destination, measured, then renamed or dropped.
        with atomic_path(job.output, force=args.force) as tmp:
            write_image(
                tmp, out, palette=palette, force=True, optimize=optimize, icc_profile=icc_profile
            )
            size = tmp.stat().st_size
            if size >= limit:
                raise Skipped(
                    f"{str(job.output)!r} not written: {human_size(size)} is not smaller than "
                    f"the input's {human_size(limit)}"
                )
    except FileExistsError:
        raise RunError(f"{str(job.output)!r} already exists; use --force to overwrite it") from None
    except OSError as exc:
        raise RunError(f"cannot write {str(job.output)!r}: {exc.strerror or exc}") from None
    return size


def display_name(path: Path) -> str:
    return "stdin" if str(path) == STDIO else path.name


def process_job(
    job: Job,
    image: NDArray,
    args: argparse.Namespace,
    k: int,
    palette8: NDArray | None,
    fit_kw: dict,
    map_kw: dict,
    icc_profile: bytes | None = None,
    stage: Callable[[str], None] | None = None,
) -> tuple[Palette, str]:
    """Quantize one image, write it, and return its used palette and report line.

    ``stage`` is called with the name of each step as it starts. With
    ``args.quiet`` the report line is empty.
    """
    stage = stage or (lambda name: None)
    fixed = fit_kw.get("fixed")
    dither = map_kw.get("dither", "none")
    if palette8 is None:
        if dither != "none" and "quality" not in fit_kw:
            # Two steps, so that progress can tell the fit from the dithering;
            # quantize(...) equals recolor(extract_palette(...)) exactly.
            stage("fit")
            pal = extract_palette(image, k, rng=args.seed, **fit_kw)
            stage("dither")
            out = recolor(image, pal, **map_kw)
        else:
            stage("fit + " + ("map" if dither == "none" else "dither"))
            alpha = alpha_mode(image, fit_kw, map_kw)
            try:
                out = quantize(image, k, rng=args.seed, alpha=alpha, **{**fit_kw, **map_kw})
            except QualityTooLow as exc:
                raise QualityMissed(f"{display_name(job.source)}: {exc}; not written") from None
        reference = image
    else:
        reference, colors = match_palette(image, palette8)
        stage("dither" if dither != "none" else "map")
        out = recolor(reference, colors, **map_kw)
    used = used_palette(out)
    stage("write")
    before = None if str(job.source) == STDIO else job.source.stat().st_size
    limit = before if getattr(args, "skip_if_larger", False) else None
    fixed8 = None if fixed is None else np.asarray(fixed)
    after = write_output(job, out, file_palette(used, fixed8), args, limit, icc_profile=icc_profile)
    if getattr(args, "quiet", False):
        return used, ""  # nobody reads the report: its error measure is not computed
    err = mse(reference, out)
    peak = full_scale(out.dtype)
    score = f"PSNR {10 * np.log10(peak**2 / err):.2f} dB" if err else "PSNR inf dB"
    sizes = f"{'stdin' if before is None else human_size(before)} -> {human_size(after)}"
    line = (
        f"{display_name(job.source)} -> {job.output}: {len(used)} colours, "
        f"MSE {err:.2f}, {score}, {sizes}"
    )
    return used, line


def merge_palettes(palettes: list[Palette]) -> Palette:
    """Colours of several used palettes with their counts added up, in 8 bits.

    Palettes of 16-bit outputs are rounded to 8 bits first, so files of
    mixed depths merge in one scale.
    """
    colors, counts = merge_tables(
        [(to_uint8(np.asarray(p.colors).reshape(len(p), -1)), p.counts) for p in palettes]
    )
    return by_count(colors, counts)


def alpha_mode(image: NDArray, fit_kw: dict, map_kw: dict) -> str:
    """Fit alpha as part of the colour (pngquant's way) for RGBA inputs, where it combines."""
    see_through = image.ndim == 3 and image.shape[2] == 4
    see_through = see_through and bool(image[..., 3].min() < full_scale(image.dtype))
    chosen = (
        fit_kw.get("method", "kmeans"),
        fit_kw.get("space", "rgb"),
        map_kw.get("dither", "none"),
    )
    plain = chosen == ("kmeans", "rgb", "none")
    return "fit" if see_through and plain else "keep"


def print_notes(notes: Sequence[str], stderr: TextIO) -> None:
    for note in notes:
        print(f"{PROG}: note: {note}", file=stderr)


def read_input(path: Path, stderr: TextIO) -> tuple[NDArray | Animation, bytes | None]:
    """An input's first frame (notes printed), or all its frames when it is animated."""
    info = open_image(path)
    print_notes(info.notes, stderr)
    if info.n_frames > 1 and path.suffix.lower() in ANIMATION_EXTENSIONS:
        return read_frames(path), info.icc_profile
    return info.image, info.icc_profile


def process_animation(
    job: Job, anim: Animation, args: argparse.Namespace, k: int, *, fit_kw: dict, map_kw: dict
) -> tuple[Palette, str]:
    """Quantize every frame, write the animation, return the used palette and report line."""
    alpha = alpha_mode(anim.frames[0], fit_kw, map_kw)
    out = quantize_frames(
        anim.frames,
        k,
        per_frame_palette=args.per_frame_palette,
        rng=args.seed,
        alpha=alpha,
        **{**fit_kw, **map_kw},
    )
    if job.output.suffix.lower() not in ANIMATION_EXTENSIONS:
        raise RunError(
            f"{str(job.source)!r} has {len(anim)} frames; write it as one of "
            f"{', '.join(ANIMATION_EXTENSIONS)} to keep them"
        )
    with write_errors(job.output):
        write_frames(
            job.output,
            out,
            durations_ms=anim.durations_ms,
            loop=anim.loop,
            force=args.force,
            icc_profile=anim.icc_profile,
        )
    used = merge_palettes([used_palette(f) for f in out])
    colours = "palettes per frame" if args.per_frame_palette else f"{len(used)} colours"
    return used, report_line(job, f"{len(anim)} frames, {colours}")


def read_stdin(folder: str) -> Path:
    """Standard input saved to a file in ``folder`` (imageio reads files)."""
    path = Path(folder) / "stdin"
    path.write_bytes(sys.stdin.buffer.read())
    return path


def fixed_for(image: NDArray, fit_kw: dict) -> dict:
    """``fit_kw`` with the uint8 ``--fixed-colors`` in ``image``'s units and channels."""
    fixed = fit_kw.get("fixed")
    if fixed is None:
        return fit_kw
    if image.ndim == 2 and (fixed == fixed[:, :1]).all():
        fixed = fixed[:, :1]
    return {**fit_kw, "fixed": from_uint8(fixed, image.dtype)}
