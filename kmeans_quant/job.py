"""The one per-file job of ``kmeans-quant``: read, palette, map or dither, write, report.

Every way into the command runs :func:`run_job` on each file: one input or
many, folders, ``--shared-palette``, ``--palette-in``, standard input and
output, and Dask workers (:mod:`kmeans_quant.dask`). They differ only in
where the palette comes from and where the job runs:

* fitted on the file itself (palette None);
* fitted on all inputs together: :func:`count_colours` on every input
  (all frames of an animation), :func:`shared_layout` to agree on one
  dtype and channel layout, :func:`in_layout` and :func:`merge_counted`
  to add the counts up, :func:`fit_counted` to fit once;
* given (``--palette-in``).

The job reads a still image or all frames of an animation, keeps the ICC
profile, the frame durations and the loop count, maps or dithers, and
writes a file (atomically) or the bytes for standard output. What it is
asked to do is a :class:`JobOptions`, a small frozen record: the same
record on every path, in every process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from ._atomic import atomic_path
from ._dtypes import from_uint8, full_scale, to_uint8
from ._fit.alpha_fit import alpha_palette
from ._fit.pipeline import (
    fit_options,
    keep_fixed,
    palette_of_table,
    resolve_mode,
    rgba_palette,
    with_fixed,
)
from ._validation import PixelFormat
from .color_table import color_table, merge_tables
from .frames import ANIMATION_EXTENSIONS, Animation, quantize_frames, read_frames, write_frames
from .image import extract_palette, quantize, recolor
from .importance import importance_map
from .io import human_size, open_image, write_image
from .metrics import mse
from .palette import Palette, add_missing, by_count
from .quality import QualityTooLow

#: The command's name, as it prints it.
PROG = "kmeans-quant"
#: The file name that stands for standard input or output.
STDIO = "-"
#: Colours when neither -k nor --quality says otherwise.
DEFAULT_K = 16
#: The most colours ``--quality`` may choose when -k does not say.
QUALITY_K = 256
#: Formats whose files hold animations the job keeps whole.
ANIMATED_FORMATS = ("GIF", "PNG", "WEBP")


class RunError(Exception):
    """A file or the data let us down (one line for the user)."""


class Skipped(RunError):
    """``--skip-if-larger`` kept an output from being written."""


class QualityMissed(RunError):
    """``--quality``'s minimum was out of reach; nothing written."""


# --------------------------------------------------------------------------
# what the job is asked to do
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class JobOptions:
    """What every file's job does, as the command line asked (frozen; the defaults live here).

    Attributes
    ----------
    k : int
        Most colours (with ``quality``: the most the search may choose).
    seed : int
        Seed of every fit.
    mode, method : str
        As for :func:`kmeans_quant.quantize`. The default mode is
        ``"perceptual"``: the best-looking file for its size.
    space : str or None
        As for :func:`kmeans_quant.quantize` (None: the mode's).
    dither : str or None
        As for :func:`kmeans_quant.quantize`; None is Floyd-Steinberg, except
        where alpha is fitted with the colour (:meth:`fits_alpha`), which is
        not dithered (see :meth:`dither_for`).
    dither_strength : float
        In [0, 1], as for :func:`kmeans_quant.quantize`.
    quality : (int, int) or None
        ``(min, max)`` on the 0-100 scale: the fewest colours reaching max.
    fixed : tuple of (r, g, b), or None
        8-bit colours every fitted palette keeps exactly.
    per_frame_palette : bool
        Animations: one palette per frame instead of one for all.
    skip_if_larger : bool
        Write no output that is not smaller than its input.
    optimize : bool
        Compress PNGs with the most effort.
    force : bool
        Replace existing outputs.
    report : bool
        Compute the report line (its error measure costs a pass over the pixels).
    """

    k: int = DEFAULT_K
    seed: int = 0
    mode: str = "perceptual"
    method: str = "kmeans"
    space: str | None = None
    dither: str | None = None
    dither_strength: float = 1.0
    quality: tuple[int, int] | None = None
    fixed: tuple[tuple[int, int, int], ...] | None = None
    per_frame_palette: bool = False
    skip_if_larger: bool = False
    optimize: bool = False
    force: bool = False
    report: bool = True

    @property
    def fixed8(self) -> NDArray[np.uint8] | None:
        """The fixed colours as a uint8 array ``(f, 3)``, or None."""
        return None if self.fixed is None else np.array(self.fixed, dtype=np.uint8)

    def fits_alpha(self, see_through: bool) -> bool:
        """Whether to fit alpha as part of the colour (pngquant's way): for images
        with transparency, where the options combine with it."""
        plain = (
            self.method == "kmeans"
            and self.space in (None, "rgb")
            and self.dither in (None, "none")
        )
        return see_through and plain and self.quality is None and self.fixed is None

    def dither_for(self, alpha_fitted: bool) -> str:
        """The dithering asked for, or by default Floyd-Steinberg (none where
        alpha is fitted with the colour, which error diffusion does not take)."""
        if self.dither is not None:
            return self.dither
        return "none" if alpha_fitted else "floyd-steinberg"

    @property
    def weighs(self) -> bool:
        """Whether fits weigh pixels by importance (the perceptual mode)."""
        return self.mode == "perceptual"


@dataclass(frozen=True)
class Job:
    """One input and the output it is written to.

    ``source`` and ``output`` may be :data:`STDIO`; ``stdin`` then holds
    standard input's bytes. With ``stage_to`` the file is written there and
    the caller moves it to ``output`` (the Dask backend does, once all
    files are done); reports still name ``output``.
    """

    source: Path
    output: Path
    stdin: bytes | None = None
    stage_to: Path | None = None

    @property
    def name(self) -> str:
        """How reports name the input."""
        return "stdin" if str(self.source) == STDIO else self.source.name

    @property
    def to_stdout(self) -> bool:
        return str(self.output) == STDIO

    @property
    def target(self) -> str:
        """How reports name the output."""
        return "stdout" if self.to_stdout else str(self.output)


@dataclass(frozen=True, eq=False)
class JobResult:
    """What a job did: the colours its output uses, its report line, the image for stdout."""

    used: Palette  #: colours the output uses, with pixel counts (alpha left out)
    line: str  #: the report line ("" when the options ask for no report)
    stdout: bytes | None = None  #: the encoded image, when the output is standard output


@dataclass(frozen=True, eq=False)
class Outcome:
    """A job's result, or the error that stopped it; with the notes it made either way."""

    result: JobResult | None
    error: RunError | None
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------
# the job
# --------------------------------------------------------------------------


def run_job(
    job: Job,
    options: JobOptions,
    palette: Palette | None = None,
    stage: Callable[[str], None] | None = None,
) -> Outcome:
    """Read, quantize (or map onto ``palette``), write and report one input.

    Parameters
    ----------
    job : Job
        The input and its output.
    options : JobOptions
    palette : Palette, optional
        A palette to map onto instead of fitting one: a shared fit
        (:func:`fit_counted`) or ``--palette-in`` (uint8 colours).
    stage : callable, optional
        Called with the name of each step as it starts (read, fit, map,
        dither, write), for progress.

    Returns
    -------
    Outcome
        The result, or the error (a :class:`RunError`, whose message is the
        line to print) that a file or its data caused; never raises for those.
    """
    notes: list[str] = []
    try:
        result = _job(job, options, palette, stage or (lambda name: None), notes)
    except RunError as exc:
        return Outcome(None, exc, tuple(notes))
    except (OSError, ValueError, TypeError) as exc:
        return Outcome(None, RunError(describe_error(exc)), tuple(notes))
    return Outcome(result, None, tuple(notes))


def _job(
    job: Job,
    options: JobOptions,
    palette: Palette | None,
    stage: Callable[[str], None],
    notes: list[str],
) -> JobResult:
    stage("read")
    picture = read_input(job)
    notes.extend(picture.notes)
    suffix = output_suffix(job, picture.format)
    content = picture.content
    if isinstance(content, Animation) and suffix not in ANIMATION_EXTENSIONS:
        raise RunError(
            f"{job.name!r} has {len(content)} frames; write it as one of "
            f"{', '.join(ANIMATION_EXTENSIONS)} to keep them"
        )
    mapped = map_content(content, options, palette, stage=stage, name=job.name)
    stage("write")
    limit = picture.size if options.skip_if_larger else None
    written = write_output(
        job, mapped, options=options, suffix=suffix, icc_profile=picture.icc_profile, limit=limit
    )
    used = used_palette(mapped.out)
    if isinstance(mapped.out, Sequence):
        what = "palettes per frame" if options.per_frame_palette else f"{len(used)} colours"
        line = f"{len(mapped.out)} frames, {what}"
    else:
        entries = palette_entries(mapped.out)
        if entries > 256 and suffix == ".png":
            what = (
                "colour and alpha pairs"
                if mapped.out.ndim == 3 and mapped.out.shape[2] == 4
                else "colours"
            )
            notes.append(
                f"{job.target}: {entries} {what} do not fit a palette; written as truecolour"
            )
        line = f"{len(used)} colours"
        if options.report:
            line += ", " + error_text(mapped.reference, mapped.out)
    report = ""
    if options.report:
        sizes = f"{human_size(picture.size)} -> {human_size(written.size)}"
        report = f"{job.name} -> {job.target}: {line}, {sizes}"
    return JobResult(used, report, written.data)


# --------------------------------------------------------------------------
# read
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Picture:
    """What the read step gives: the pixels (or frames) and what else of the file is kept."""

    content: NDArray | Animation
    icc_profile: bytes | None
    format: str | None
    size: int  #: bytes of the input file
    notes: tuple[str, ...]


@contextlib.contextmanager
def _input_path(job: Job) -> Iterator[Path]:
    """The file to read: the source, or standard input's bytes in a temporary file."""
    if job.stdin is None:
        yield job.source
        return
    with tempfile.TemporaryDirectory(prefix="kmeans-quant-") as folder:
        path = Path(folder) / "stdin"
        path.write_bytes(job.stdin)
        try:
            yield path
        except (OSError, ValueError) as exc:  # name the input as the user knows it
            raise RunError(describe_error(exc).replace(repr(str(path)), "stdin")) from None


def read_input(job: Job, *, all_frames: bool = False) -> Picture:
    """Read a job's input: its first frame, or every frame when it is an animation.

    A file of several frames (GIF, APNG, WebP) is read whole; so is a
    one-frame GIF written as GIF, which keeps its duration and loop count.
    ``all_frames`` reads every frame of any animated format.
    """
    with _input_path(job) as path:
        info = open_image(path)
        gif_to_gif = info.format == "GIF" and output_suffix(job, info.format) == ".gif"
        animated = info.format in ANIMATED_FORMATS and (
            info.n_frames > 1 or all_frames or gif_to_gif
        )
        content: NDArray | Animation = read_frames(path) if animated else info.image
        size = len(job.stdin) if job.stdin is not None else path.stat().st_size
        notes = info.notes
        if job.stdin is not None:
            notes = tuple(n.replace(str(path), "stdin") for n in notes)
    return Picture(content, info.icc_profile, info.format, size, notes)


def output_suffix(job: Job, fmt: str | None) -> str:
    """The output's format as an extension: standard output gets the input's
    format when it is GIF, PNG otherwise."""
    if not job.to_stdout:
        return job.output.suffix.lower()
    return ".gif" if fmt == "GIF" else ".png"


# --------------------------------------------------------------------------
# palette, and map or dither
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Mapped:
    """The quantized image (or frames) and what it is measured against."""

    out: NDArray | list[NDArray]
    reference: NDArray | None  #: the image as mapped (still images)
    timing: Animation | None  #: durations, loop and profile (animations)
    fixed: NDArray | None  #: fixed colours in the output's units


def see_through(image: NDArray) -> bool:
    """Whether some pixel of ``image`` is not fully opaque."""
    return (
        image.ndim == 3
        and image.shape[2] == 4
        and bool(image[..., 3].min() < full_scale(image.dtype))
    )


def fixed_in(image: NDArray, options: JobOptions) -> NDArray | None:
    """The 8-bit fixed colours in ``image``'s units and channels (grey when all are grey)."""
    fixed = options.fixed8
    if fixed is None:
        return None
    if image.ndim == 2 and (fixed == fixed[:, :1]).all():
        fixed = fixed[:, :1]
    return from_uint8(fixed, image.dtype)


def map_content(
    content: NDArray | Animation,
    options: JobOptions,
    palette: Palette | None,
    *,
    stage: Callable[[str], None],
    name: str,
) -> Mapped:
    """Quantize a still image or an animation, or map it onto ``palette``."""
    frames = content.frames if isinstance(content, Animation) else [content]
    clear = any(map(see_through, frames))
    if palette is not None:
        # A palette with alpha maps images with transparency in colour and alpha.
        alpha_fitted = palette.alpha is not None and clear
    else:
        alpha_fitted = options.fits_alpha(clear)
    dither = options.dither_for(alpha_fitted)
    step = "dither" if dither != "none" else "map"
    mapping: dict[str, Any] = {
        "dither": dither,
        "mode": options.mode,
        "space": options.space,
        "dither_strength": options.dither_strength,
    }
    fit: dict[str, Any] = {"rng": options.seed, "method": options.method}  # the rest: in mapping
    if palette is not None:
        stage(step)
        if isinstance(content, Animation):
            frames = [onto_palette(f, palette, mapping)[1] for f in content.frames]
            return Mapped(frames, None, content, None)
        reference, out = onto_palette(content, palette, mapping)
        return Mapped(out, reference, None, fixed_in(content, options))
    alpha = "fit" if alpha_fitted else "keep"
    try:
        if isinstance(content, Animation):
            stage(f"fit + {step}")
            first = content.frames[0]
            anim = quantize_frames(
                content,
                options.k,
                per_frame_palette=options.per_frame_palette,
                alpha=alpha,
                fixed=fixed_in(first, options),
                quality=options.quality,
                **fit,
                **mapping,
            )
            return Mapped(anim.frames, None, content, fixed_in(first, options))
        image = content
        fixed = fixed_in(image, options)
        if step == "dither" and options.quality is None:
            # Two steps, so that progress can tell the fit from the dithering;
            # quantize(...) equals recolor(extract_palette(...)) exactly.
            stage("fit")
            pal = extract_palette(
                image,
                options.k,
                alpha=alpha,
                fixed=fixed,
                mode=options.mode,
                space=options.space,
                **fit,
            )
            stage("dither")
            return Mapped(recolor(image, pal, **mapping), image, None, fixed)
        stage(f"fit + {step}")
        out = quantize(
            image, options.k, alpha=alpha, fixed=fixed, quality=options.quality, **fit, **mapping
        )
        return Mapped(out, image, None, fixed)
    except QualityTooLow as exc:
        raise QualityMissed(f"{name}: {exc}; not written") from None


def onto_palette(
    image: NDArray, palette: Palette, mapping: dict[str, Any]
) -> tuple[NDArray, NDArray]:
    """``image`` as mapped (see :func:`matched`) and its pixels mapped onto ``palette``."""
    reference, colours = matched(image, palette)
    return reference, recolor(reference, colours, **mapping)


def matched(image: NDArray, palette: Palette) -> tuple[NDArray, Palette | NDArray]:
    """``image`` and ``palette`` made compatible for :func:`recolor`.

    The palette comes in the image's dtype (from uint8, or as it is when it
    was fitted in that dtype). A grey image meets a colour palette by
    becoming RGB, unless the palette is all grey, when it stays grey; an
    RGB image takes a grey palette as grey RGB colours. A palette with
    alpha (a shared fit of images with transparency) maps an image with
    transparency in colour and alpha together (as RGBA); an image without
    any stays opaque, mapped onto the entries' colours.
    """
    colors = np.asarray(palette.colors).reshape(len(palette), -1)

    def units(values: NDArray) -> NDArray:
        return values if values.dtype == image.dtype else from_uint8(to_uint8(values), image.dtype)

    if palette.alpha is not None and see_through(image):
        return image, Palette(units(colors), palette.counts, units(np.asarray(palette.alpha)))
    if colors.shape[1] == 3 and image.ndim == 2:
        if (colors == colors[:, :1]).all():
            colors = colors[:, :1]
        else:
            image = np.repeat(image[..., None], 3, axis=2)
    elif colors.shape[1] == 1 and image.ndim == 3:
        colors = np.repeat(colors, 3, axis=1)
    return image, units(colors)


# --------------------------------------------------------------------------
# shared palettes: count every input, agree on a layout, add up, fit once
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Counted:
    """The distinct colours of one input (all its frames) and the pixels of each.

    ``colors`` (m, c) are in the file's dtype, with c = 1 (grey), 3 (RGB)
    or 4 (RGBA, alpha last); ``counts`` (m,) int64; ``weights`` (m,), in
    the perceptual mode, the pixels' importance summed per colour.
    """

    colors: NDArray
    counts: NDArray[np.int64]
    weights: NDArray[np.float64] | None = None

    @property
    def kind(self) -> tuple[np.dtype, int, bool]:
        """dtype, channels, and whether some pixel is not fully opaque."""
        c = self.colors.shape[1]
        top = full_scale(self.colors.dtype)
        return self.colors.dtype, c, bool(c == 4 and (self.colors[:, 3] < top).any())


@dataclass(frozen=True)
class Layout:
    """The one dtype and channel layout the inputs of a shared fit are counted in."""

    dtype: np.dtype
    channels: int  #: 1 or 3 (colour channels)
    alpha: bool  #: whether alpha is fitted with the colour (the entries then have 4 channels)


def count_colours(job: Job, weigh: bool = False) -> Counted:
    """Read an input (every frame of an animation) and count its colours.

    With ``weigh``, also sum each frame's importance map per colour.
    """
    content = read_input(job, all_frames=True).content
    frames = content.frames if isinstance(content, Animation) else [content]
    tables, weighed = [], []
    for f in frames:
        table = color_table(np.ascontiguousarray(f).reshape(f.shape[0] * f.shape[1], -1))
        tables.append((table.colors, table.counts))
        if weigh:
            weighed.append((table.colors, table.total(importance_map(f).reshape(-1))))
    if len(tables) == 1:
        return Counted(*tables[0], weighed[0][1] if weigh else None)
    colors, counts = merge_tables(tables)
    return Counted(colors, counts, merge_tables(weighed)[1] if weigh else None)


def shared_layout(kinds: Sequence[tuple[np.dtype, int, bool]], options: JobOptions) -> Layout:
    """The layout every input of a shared fit is counted in.

    One dtype when all inputs have it, else uint8; RGB when any input has
    colour; alpha fitted with the colour when some input has transparency
    and the options allow it (:meth:`JobOptions.fits_alpha`).
    """
    dtypes = {dt for dt, _, _ in kinds}
    dtype = dtypes.pop() if len(dtypes) == 1 else np.dtype(np.uint8)
    channels = 3 if any(c >= 3 for _, c, _ in kinds) else 1
    alpha = options.fits_alpha(any(s for _, _, s in kinds))
    return Layout(np.dtype(dtype), 3 if alpha else channels, alpha)


def in_layout(counted: Counted, layout: Layout) -> Counted:
    """One input's counts in the shared layout.

    Without alpha fitting, only pixels that are not fully transparent
    count (every pixel of an input that has none visible), as in
    :func:`kmeans_quant.extract_palette`.
    """
    colors, counts, weights = counted.colors, counted.counts, counted.weights
    if colors.dtype != layout.dtype:
        colors = to_uint8(colors)
    c = colors.shape[1]
    alpha = colors[:, 3:] if c == 4 else None
    colors = colors[:, : min(c, 3)]
    if layout.channels == 3 and colors.shape[1] == 1:
        colors = np.repeat(colors, 3, axis=1)
    if layout.alpha:
        if alpha is None:
            alpha = np.full((colors.shape[0], 1), full_scale(colors.dtype), colors.dtype)
        colors = np.concatenate([colors, alpha], axis=1)
    elif alpha is not None and (alpha[:, 0] > 0).any():
        counts = np.where(alpha[:, 0] > 0, counts, 0)
        if weights is not None:
            weights = np.where(alpha[:, 0] > 0, weights, 0.0)
    colors = np.ascontiguousarray(colors)
    merged, summed = merge_tables([(colors, counts)])
    if weights is None:
        return Counted(merged, summed)
    return Counted(merged, summed, merge_tables([(colors, weights)])[1])


def merge_counted(parts: list[Counted]) -> Counted:
    """Counts (and weights) of several inputs (in one layout) added up."""
    if len(parts) == 1:
        return parts[0]
    colors, counts = merge_tables([(p.colors, p.counts) for p in parts])
    if any(p.weights is None for p in parts):
        return Counted(colors, counts)
    weights = merge_tables([(p.colors, cast(NDArray, p.weights)) for p in parts])[1]
    return Counted(colors, counts, weights)


def fit_counted(counted: Counted, layout: Layout, options: JobOptions) -> Palette:
    """The palette fitted once on the inputs' added-up counts.

    The same fit as :func:`kmeans_quant.extract_palette` of all the inputs
    (in the shared layout) together: for one input, its palette bit for bit.
    """
    dt = layout.dtype
    fmt = PixelFormat(np.dtype(dt), layout.channels)
    space, _ = resolve_mode(options.mode, options.space, None)
    opt = fit_options(
        options.k,
        rng=options.seed,
        max_iter=300,
        tol=1e-4,
        method=options.method,
        space=space,
    )
    weights = counted.weights
    if layout.alpha:
        opt = dataclasses.replace(opt, space="rgb")  # premultiplied RGBA, whatever the mode
        mapping = rgba_palette(counted.colors, counted.counts, fmt=fmt, opt=opt, weights=weights)
        return alpha_palette(mapping.palette, mapping.counts)
    fixed = options.fixed8
    if fixed is not None:
        if layout.channels == 1 and (fixed == fixed[:, :1]).all():
            fixed = fixed[:, :1]
        fixed = from_uint8(fixed, dt)
    opt = with_fixed(opt, fixed, fmt)
    palette = palette_of_table(counted.colors, counted.counts, fmt=fmt, opt=opt, weights=weights)
    return keep_fixed(palette, opt.fixed)


def shared_palette(jobs: Sequence[Job], options: JobOptions) -> Palette:
    """One palette fitted on every pixel of every input, in this process.

    Raises RunError (naming the file) if an input cannot be read.
    """
    counted = []
    for job in jobs:
        try:
            counted.append(count_colours(job, weigh=options.weighs))
        except RunError:
            raise
        except (OSError, ValueError) as exc:
            raise RunError(describe_error(exc)) from None
    layout = shared_layout([c.kind for c in counted], options)
    return fit_counted(merge_counted([in_layout(c, layout) for c in counted]), layout, options)


# --------------------------------------------------------------------------
# write
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """Bytes written, and the encoded image when it went to standard output."""

    size: int
    data: bytes | None


def file_palette(out: NDArray, fixed: NDArray | None) -> NDArray:
    """The palette written into the file: the colours ``out`` uses (and any fixed
    colours no pixel took), ordered by luma, which makes neighbouring indices
    similar colours and the PNG smaller (see docs/benchmarks.md)."""
    held = used_palette(out)
    if (
        fixed is not None
        and fixed.shape[1] == np.asarray(held.colors).reshape(len(held), -1).shape[1]
    ):
        held = add_missing(held, fixed)
    colors = np.asarray(held.colors).reshape(len(held), -1)
    luma = colors.astype(np.float64) @ ([0.299, 0.587, 0.114] if colors.shape[1] == 3 else [1.0])
    return colors[np.argsort(luma, kind="stable")]


def _encode(
    path: Path, mapped: Mapped, *, options: JobOptions, icc_profile: bytes | None, force: bool
) -> None:
    """Write the still image or the animation to ``path``."""
    if mapped.timing is not None:
        assert isinstance(mapped.out, list)
        write_frames(
            path,
            dataclasses.replace(mapped.timing, frames=mapped.out),
            loop=mapped.timing.loop,
            force=force,
        )
        return
    assert isinstance(mapped.out, np.ndarray)
    write_image(
        path,
        mapped.out,
        palette=file_palette(mapped.out, mapped.fixed),
        force=force,
        optimize=options.optimize,
        icc_profile=icc_profile,
    )


def write_output(
    job: Job,
    mapped: Mapped,
    *,
    options: JobOptions,
    suffix: str,
    icc_profile: bytes | None,
    limit: int | None,
) -> Written:
    """Write the job's output: a file (atomically) or the bytes for standard output.

    With ``limit``, an output of ``limit`` bytes or more is not written
    (:class:`Skipped`). A file is complete and renamed into place only at
    the end; nothing is left behind otherwise.
    """
    kw = {"options": options, "icc_profile": icc_profile}
    if job.to_stdout:
        with tempfile.TemporaryDirectory(prefix="kmeans-quant-") as folder:
            tmp = Path(folder) / f"out{suffix}"
            _encode(tmp, mapped, force=True, **kw)  # type: ignore[arg-type]
            data = tmp.read_bytes()
        if limit is not None and len(data) >= limit:
            raise Skipped(_not_smaller(job, len(data), limit))
        return Written(len(data), data)
    dest = job.stage_to or job.output
    force = options.force or job.stage_to is not None
    try:
        if limit is None:
            _encode(dest, mapped, force=force, **kw)  # type: ignore[arg-type]
            return Written(dest.stat().st_size, None)
        # Written in full beside the destination, measured, then renamed or dropped.
        with atomic_path(dest, force=force) as tmp:
            _encode(tmp, mapped, force=True, **kw)  # type: ignore[arg-type]
            size = tmp.stat().st_size
            if size >= limit:
                raise Skipped(_not_smaller(job, size, limit))
        return Written(size, None)
    except FileExistsError:
        raise RunError(f"{str(job.output)!r} already exists; use --force to overwrite it") from None
    except OSError as exc:
        raise RunError(f"cannot write {str(job.output)!r}: {exc.strerror or exc}") from None


def _not_smaller(job: Job, size: int, limit: int) -> str:
    where = "stdout" if job.to_stdout else repr(str(job.output))
    return (
        f"{where} not written: {human_size(size)} is not smaller than the input's "
        f"{human_size(limit)}"
    )


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------


def used_palette(out: NDArray | Sequence[NDArray]) -> Palette:
    """The colours an output (all frames of an animation) uses, with counts,
    most frequent first; alpha is left out."""
    frames = [out] if isinstance(out, np.ndarray) else list(out)
    tables = []
    for f in frames:
        pixels = f if f.ndim == 2 else f[..., :3]
        t = color_table(np.ascontiguousarray(pixels).reshape(f.shape[0] * f.shape[1], -1))
        tables.append((t.colors, t.counts))
    colors, counts = tables[0] if len(tables) == 1 else merge_tables(tables)
    return by_count(colors, counts)


def palette_entries(out: NDArray) -> int:
    """Palette entries a PNG of ``out`` needs: its colours, or for RGBA its
    (colour, alpha) pairs with every fully transparent pixel on one entry."""
    if not (out.ndim == 3 and out.shape[2] == 4):
        return len(used_palette(out))
    px = out.reshape(-1, 4).copy()
    px[px[:, 3] == 0] = 0
    return color_table(px).colors.shape[0]


def visible_mse(reference: NDArray, out: NDArray) -> float:
    """Mean squared error of the colour channels over the pixels ``reference``
    shows (alpha above 0), in 8-bit units (0-255), whatever the dtype.

    An image with no visible pixel has error 0.
    """
    if reference.ndim == 3 and reference.shape[2] == 4:
        seen = reference[..., 3] > 0
        if not seen.any():
            return 0.0
        if not seen.all():
            reference, out = reference[seen][None], out[seen][None]
    return mse(reference, out) * (255.0 / full_scale(reference.dtype)) ** 2


def error_text(reference: NDArray | None, out: NDArray) -> str:
    """``MSE x, PSNR y dB`` of a still output, over visible pixels, in 8-bit units."""
    assert reference is not None
    err = visible_mse(reference, out)
    psnr = f"{10 * np.log10(255.0**2 / err):.2f}" if err else "inf"
    return f"MSE {err:.2f}, PSNR {psnr} dB"


def merge_palettes(palettes: list[Palette]) -> Palette:
    """Colours of several used palettes with their counts added up, in 8 bits.

    Palettes of 16-bit outputs are rounded to 8 bits first, so files of
    mixed depths merge in one scale; grey palettes become grey RGB when
    colour ones are among them.
    """
    tables = [(to_uint8(np.asarray(p.colors).reshape(len(p), -1)), p.counts) for p in palettes]
    if len({c.shape[1] for c, _ in tables}) > 1:
        tables = [(np.repeat(c, 3, axis=1) if c.shape[1] == 1 else c, n) for c, n in tables]
    colors, counts = merge_tables(tables)
    return by_count(colors, counts)


def describe_error(exc: BaseException) -> str:
    """One line for an error: the file and the reason for OS errors, else the message."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__
