"""The ``kmeans-quant`` command (also ``python -m kmeans_quant``).

Quantizes image files to ``k`` colours and writes palette-mode PNGs (or
any format by extension), plus the palette if asked. Run with no input it
quantizes the bundled sample photo into the current folder, with its
palette as JSON next to it.

Exit status: 0 on success, 2 for a wrong command line (unknown option,
bad ``-k``, ``-o`` with several inputs, an output that would replace an
input, ...), 1 when files let it down (missing or unreadable input, an
output that exists without ``--force``, a folder that cannot be written).
Errors are one ``kmeans-quant: error: ...`` line on stderr, never a
traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.resources
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TextIO

import numpy as np
from numpy.typing import NDArray

from . import __version__
from ._dtypes import from_uint8, full_scale, to_uint8
from ._validation import DITHERS, METHODS, SPACES
from .color_table import color_table, merge_tables
from .frames import ANIMATION_EXTENSIONS, Animation, quantize_frames, read_frames, write_frames
from .image import extract_palette, quantize, recolor
from .io import IMAGE_EXTENSIONS, open_image, write_image
from .metrics import mse, psnr
from .palette import Palette, by_count
from .palette_io import PALETTE_EXTENSIONS, load_palette, save_palette

__all__ = ["main"]

PROG = "kmeans-quant"
DEFAULT_K = 16
SAMPLE = "chelsea.png"
_CHOICES = {"dither": DITHERS, "space": SPACES, "method": METHODS}


class UsageError(Exception):
    """The command line itself is wrong: exit status 2."""


class RunError(Exception):
    """A file or the data let us down: exit status 1."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage and exits; we want one line and to
    # decide the exit ourselves, so main() can also be called from Python.
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``kmeans-quant`` (for ``--help`` and docs)."""
    p = _Parser(
        prog=PROG,
        description=(
            "Reduce images to k colours with K-Means. Writes palette-mode PNG (or GIF) "
            "when the output ends in .png (.gif), other formats by extension. "
            f"With no IN, quantizes the bundled sample photo ({SAMPLE}) into the "
            "current folder together with its palette."
        ),
        epilog=(
            "Outputs default to STEM_kK.png (STEM_PALETTE.png with --palette-in) in the "
            "current folder or --out-dir. "
            "Existing files are never replaced without --force, inputs never. "
            "Exit status: 0 ok, 1 a file could not be read or written, 2 bad command line."
        ),
    )
    p.add_argument("inputs", nargs="*", metavar="IN", help="image files to quantize")
    p.add_argument(
        "-k",
        "--colors",
        dest="k",
        type=_positive_int,
        default=None,
        help=f"number of colours (default {DEFAULT_K})",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file (only with one input); format from extension",
    )
    where.add_argument("--out-dir", metavar="DIR", help="folder for the outputs (created)")
    p.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    for name, choices in _CHOICES.items():
        p.add_argument(
            f"--{name}", choices=choices, default=choices[0], help=f"default {choices[0]}"
        )
    p.add_argument(
        "--palette-out", metavar="FILE", help="also write the palette (.json, .gpl or .png swatch)"
    )
    p.add_argument(
        "--palette-in",
        metavar="FILE",
        help="map the images onto this palette instead of fitting one",
    )
    p.add_argument(
        "--shared-palette", action="store_true", help="fit one palette on all inputs together"
    )
    p.add_argument(
        "--per-frame-palette",
        action="store_true",
        help="animations: fit one palette per frame (default: one for all frames)",
    )
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    engine = p.add_mutually_exclusive_group()
    engine.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="run on a local Dask cluster of N processes (kmeans_quant[dask])",
    )
    engine.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster at ADDRESS, e.g. tcp://host:8786",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


# --------------------------------------------------------------------------
# checking the plan before doing any work
# --------------------------------------------------------------------------


@dataclass
class Job:
    """One input file and the output it is written to."""

    source: Path
    output: Path


def _api_keywords(args: argparse.Namespace) -> tuple[dict, dict]:
    """Keywords for the fitting call and for the mapping call."""
    return (
        {"method": args.method, "space": args.space},
        {"dither": args.dither, "space": args.space},
    )


def _check_extension(path: str, allowed: Sequence[str], what: str) -> None:
    ext = Path(path).suffix.lower()
    if ext not in allowed:
        raise UsageError(
            f"{what} {path!r}: unsupported extension {Path(path).suffix or '(none)'!r}; "
            f"use one of {', '.join(allowed)}"
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _plan(args: argparse.Namespace, sources: list[Path], k: int) -> list[Job]:
    """Where each output goes; refuses collisions and overwriting inputs."""
    if args.output:
        _check_extension(args.output, IMAGE_EXTENSIONS, "output")
        jobs = [Job(sources[0], Path(args.output))]
    else:
        folder = Path(args.out_dir) if args.out_dir else Path(".")
        tag = f"k{k}" if not args.palette_in else Path(args.palette_in).stem
        jobs = [Job(s, folder / f"{s.stem}_{tag}.png") for s in sources]
    seen: dict[Path, Path] = {}
    for job in jobs:
        key = job.output.resolve()
        if key in seen:
            raise UsageError(
                f"inputs {str(seen[key])!r} and {str(job.source)!r} would both be written "
                f"to {str(job.output)!r}; quantize them separately with -o"
            )
        seen[key] = job.source
        for s in sources:
            if _same_file(job.output, s):
                raise UsageError(f"output {str(job.output)!r} would replace the input {str(s)!r}")
    return jobs


def _check_files(
    args: argparse.Namespace, sources: list[Path], jobs: list[Job], palette_out: Path | None
) -> None:
    """Inputs exist, outputs may be written: fail before any work is done."""
    for s in sources:
        if not s.exists():
            raise RunError(f"no such input file: {str(s)!r}")
        if s.is_dir():
            raise RunError(f"input {str(s)!r} is a folder, not an image file")
    if args.out_dir:
        out_dir = Path(args.out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise RunError(f"output folder {args.out_dir!r} exists and is not a folder")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunError(
                f"cannot create output folder {args.out_dir!r}: {exc.strerror or exc}"
            ) from None
    targets = [j.output for j in jobs] + ([palette_out] if palette_out else [])
    for t in targets:
        if not t.parent.is_dir():
            raise RunError(f"cannot write {str(t)!r}: folder {str(t.parent)!r} does not exist")
        if not os.access(t.parent, os.W_OK):
            raise RunError(f"cannot write {str(t)!r}: folder {str(t.parent)!r} is not writable")
        if t.is_dir():
            raise RunError(f"cannot write {str(t)!r}: it is a folder")
        if t.exists() and not args.force:
            raise RunError(f"{str(t)!r} already exists; use --force to overwrite it")


# --------------------------------------------------------------------------
# the work
# --------------------------------------------------------------------------


def _match_palette(image: NDArray, colors8: NDArray) -> tuple[NDArray, NDArray]:
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


def _shared_palette(images: list[NDArray], k: int, seed: int, fit_kw: dict) -> NDArray:
    """One uint8 palette fitted on the pixels of all images together.

    The pixels are stacked into one ``(N, 1, c)`` image, so the fit is the
    K-Means objective over every pixel of every image.
    """
    colour = any(im.ndim == 3 for im in images)
    columns = []
    for im in images:
        px = to_uint8(im if im.ndim == 2 else im[..., :3])
        if colour and px.ndim == 2:
            px = np.repeat(px[..., None], 3, axis=2)
        columns.append(px.reshape(-1, 1, *px.shape[2:]))
    stacked = np.concatenate(columns, axis=0)
    pal = extract_palette(stacked, k, rng=seed, **fit_kw)
    colors = np.asarray(pal.colors)
    return colors.reshape(-1, 1) if colors.ndim == 1 else colors


def _used_palette(out: NDArray) -> Palette:
    """The colours ``out`` actually uses, with counts, most frequent first."""
    pixels = out if out.ndim == 2 else out[..., :3]
    table = color_table(np.ascontiguousarray(pixels).reshape(out.shape[0] * out.shape[1], -1))
    return by_count(table.colors, table.counts)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024**2:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024**2:.1f} MiB"


class _Progress:
    """A one-line progress bar on stderr, drawn only on a terminal."""

    def __init__(self, total: int, stream: TextIO, width: int = 24) -> None:
        self.total, self.stream, self.width = total, stream, width
        isatty = getattr(stream, "isatty", None)
        self.on = total > 1 and bool(isatty and isatty())
        self._len = 0

    def show(self, done: int, label: str) -> None:
        if not self.on:
            return
        fill = self.width * done // self.total
        line = f"[{'#' * fill}{'.' * (self.width - fill)}] {done}/{self.total} {label}"
        self.stream.write("\r" + line.ljust(self._len))
        self.stream.flush()
        self._len = len(line)

    def clear(self) -> None:
        if self.on and self._len:
            self.stream.write("\r" + " " * self._len + "\r")
            self.stream.flush()
            self._len = 0


def _note_truecolour(job: Job, used: Palette, stderr: TextIO) -> None:
    if len(used) > 256 and job.output.suffix.lower() == ".png":
        _notes(
            [f"{job.output}: {len(used)} colours do not fit a palette; written as truecolour"],
            stderr,
        )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def _report(job: Job, what: str) -> str:
    """The line printed for a written output: what it holds and the file sizes."""
    before, after = job.source.stat().st_size, job.output.stat().st_size
    return f"{job.source.name} -> {job.output}: {what}, {_size(before)} -> {_size(after)}"


@contextlib.contextmanager
def _writing(output: Path) -> Iterator[None]:
    """Turn a failed write of ``output`` into a one-line RunError."""
    try:
        yield
    except FileExistsError:
        raise RunError(f"{str(output)!r} already exists; use --force to overwrite it") from None
    except OSError as exc:
        raise RunError(f"cannot write {str(output)!r}: {exc.strerror or exc}") from None


def process_job(
    job: Job,
    image: NDArray,
    args: argparse.Namespace,
    k: int,
    palette8: NDArray | None,
    fit_kw: dict,
    map_kw: dict,
    icc_profile: bytes | None = None,
) -> tuple[Palette, str]:
    """Quantize one image, write it, and return its used palette and report line."""
    if palette8 is None:
        alpha = _alpha_mode(image, fit_kw, map_kw)
        out = quantize(image, k, rng=args.seed, alpha=alpha, **{**fit_kw, **map_kw})
        reference = image
    else:
        reference, colors = _match_palette(image, palette8)
        out = recolor(reference, colors, **map_kw)
    used = _used_palette(out)
    with _writing(job.output):
        write_image(job.output, out, palette=used, force=args.force, icc_profile=icc_profile)
    scores = f"MSE {mse(reference, out):.2f}, PSNR {psnr(reference, out):.2f} dB"
    return used, _report(job, f"{len(used)} colours, {scores}")


def merge_palettes(palettes: list[Palette]) -> Palette:
    """Colours of several used palettes with their counts added up, in 8 bits.

    Palettes of 16-bit outputs are rounded to 8 bits first, so files of
    mixed depths merge in one scale.
    """
    colors, counts = merge_tables(
        [(to_uint8(np.asarray(p.colors).reshape(len(p), -1)), p.counts) for p in palettes]
    )
    return by_count(colors, counts)


def _alpha_mode(image: NDArray, fit_kw: dict, map_kw: dict) -> str:
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


def _notes(notes: Sequence[str], stderr: TextIO) -> None:
    for note in notes:
        print(f"{PROG}: note: {note}", file=stderr)


def _read_input(path: Path, stderr: TextIO) -> tuple[NDArray | Animation, bytes | None]:
    """An input's first frame (notes printed), or all its frames when it is animated."""
    info = open_image(path)
    _notes(info.notes, stderr)
    if info.n_frames > 1 and path.suffix.lower() in ANIMATION_EXTENSIONS:
        return read_frames(path), info.icc_profile
    return info.image, info.icc_profile


def process_animation(
    job: Job, anim: Animation, args: argparse.Namespace, k: int, *, fit_kw: dict, map_kw: dict
) -> tuple[Palette, str]:
    """Quantize every frame, write the animation, return the used palette and report line."""
    alpha = _alpha_mode(anim.frames[0], fit_kw, map_kw)
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
    with _writing(job.output):
        write_frames(
            job.output,
            out,
            durations_ms=anim.durations_ms,
            loop=anim.loop,
            force=args.force,
            icc_profile=anim.icc_profile,
        )
    used = merge_palettes([_used_palette(f) for f in out])
    colours = "palettes per frame" if args.per_frame_palette else f"{len(used)} colours"
    return used, _report(job, f"{len(anim)} frames, {colours}")


def _run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if args.k is not None and args.palette_in:
        raise UsageError("-k has no effect with --palette-in (the palette sets the colours)")
    if args.method != "kmeans" and args.palette_in:
        raise UsageError("--method has no effect with --palette-in (no palette is fitted)")
    if args.output and len(args.inputs) > 1:
        raise UsageError(f"-o/--output takes one input, got {len(args.inputs)}; use --out-dir")
    if args.palette_out:
        _check_extension(args.palette_out, PALETTE_EXTENSIONS, "--palette-out")
        if len(args.inputs) > 1 and not (args.shared_palette or args.palette_in):
            raise UsageError(
                "--palette-out with several inputs needs --shared-palette (one palette for all)"
            )
    if args.palette_in:
        _check_extension(args.palette_in, PALETTE_EXTENSIONS, "--palette-in")
    fit_kw, map_kw = _api_keywords(args)
    k = DEFAULT_K if args.k is None else args.k

    with contextlib.ExitStack() as stack:
        if args.inputs:
            sources = [Path(s) for s in args.inputs]
        else:
            resource = importlib.resources.files("kmeans_quant") / "data" / SAMPLE
            sources = [stack.enter_context(importlib.resources.as_file(resource))]
        jobs = _plan(args, sources, k)
        palette_out = Path(args.palette_out) if args.palette_out else None
        if palette_out is None and not args.inputs:
            palette_out = jobs[0].output.with_name(jobs[0].output.stem + "_palette.json")
        if palette_out is not None:
            for s in sources:
                if _same_file(palette_out, s):
                    raise UsageError(f"--palette-out {str(palette_out)!r} would replace an input")
            if any(palette_out.resolve() == j.output.resolve() for j in jobs):
                raise UsageError(f"--palette-out {str(palette_out)!r} is also an image output")
        _check_files(args, sources, jobs, palette_out)
        palette8 = None
        if args.palette_in:
            try:
                palette8 = np.asarray(load_palette(args.palette_in).colors)
            except (OSError, ValueError) as exc:
                raise RunError(_describe(exc)) from None

        if args.workers or args.scheduler:
            try:  # the optional extra: imported only when asked for
                from . import dask as on_dask
            except ImportError:
                raise UsageError(
                    '--workers/--scheduler need Dask: pip install "kmeans_quant[dask]"'
                ) from None
            return on_dask.run_cli(
                args,
                jobs,
                k=k,
                palette8=palette8,
                fit_kw=fit_kw,
                map_kw=map_kw,
                palette_out=palette_out,
                stdout=stdout,
                stderr=stderr,
            )

        images: dict[int, NDArray] = {}
        if args.shared_palette and palette8 is None:
            for i, job in enumerate(jobs):
                try:
                    info = open_image(job.source)
                    _notes(info.notes, stderr)
                    images[i] = info.image
                except (OSError, ValueError) as exc:
                    raise RunError(_describe(exc)) from None
            palette8 = _shared_palette(list(images.values()), k, args.seed, fit_kw)

        progress = _Progress(len(jobs), stderr)
        used_palettes, failed = [], 0
        for i, job in enumerate(jobs):
            progress.show(i, job.source.name)
            try:
                read: tuple[NDArray | Animation, bytes | None] = (
                    (images.pop(i), None) if i in images else _read_input(job.source, stderr)
                )
                content, icc = read
                if isinstance(content, Animation) and palette8 is None:
                    used, line = process_animation(
                        job, content, args, k, fit_kw=fit_kw, map_kw=map_kw
                    )
                else:
                    first = content.frames[0] if isinstance(content, Animation) else content
                    used, line = process_job(
                        job, first, args, k, palette8, fit_kw, map_kw, icc_profile=icc
                    )
                    _note_truecolour(job, used, stderr)
            except (RunError, OSError, ValueError, TypeError) as exc:
                progress.clear()
                print(f"{PROG}: error: {_describe(exc)}", file=stderr)
                failed += 1
                continue
            progress.clear()
            print(line, file=stdout)
            used_palettes.append(used)
        progress.show(len(jobs), "done")
        progress.clear()

        if palette_out is not None and used_palettes:
            merged = used_palettes[0] if len(used_palettes) == 1 else merge_palettes(used_palettes)
            try:
                save_palette(merged, palette_out, force=args.force)
            except OSError as exc:
                raise RunError(f"cannot write {str(palette_out)!r}: {_describe(exc)}") from None
            print(f"palette ({len(merged)} colours) -> {palette_out}", file=stdout)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kmeans-quant`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments, without the program name.

    Returns
    -------
    int
        0 on success, 1 when a file could not be read or written, 2 for a
        wrong command line, 130 when interrupted.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from kmeans_quant.cli import main
    >>> from kmeans_quant.io import write_image
    >>> with tempfile.TemporaryDirectory() as d:
    ...     src = os.path.join(d, "tiny.png")
    ...     _ = write_image(src, np.arange(48, dtype=np.uint8).reshape(4, 4, 3) * 5)
    ...     status = main([src, "-k", "2", "--out-dir", d])  # doctest: +ELLIPSIS
    ...     print(status, sorted(os.listdir(d)))
    tiny.png -> ...tiny_k2.png: 2 colours, MSE ..., PSNR ... dB, ... B -> ... B
    0 ['tiny.png', 'tiny_k2.png']
    """
    stdout, stderr = sys.stdout, sys.stderr
    try:
        args = build_parser().parse_args(argv)
        return _run(args, stdout, stderr)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        print(f"{PROG}: error: {exc} (see {PROG} --help)", file=stderr)
        return 2
    except RunError as exc:
        print(f"{PROG}: error: {exc}", file=stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=stderr)
        return 130
    except Exception as exc:  # a bug: still one line, but say what it was
        print(f"{PROG}: error: unexpected {type(exc).__name__}: {exc}", file=stderr)
        return 1
