"""The ``kmeans-quant`` command (also ``python -m kmeans_quant``).

Quantizes image files to ``k`` colours and writes palette-mode PNGs (or
any format by extension), plus the palette if asked. Run with no input it
quantizes the bundled sample photo into the current folder, with its
palette as JSON next to it.

Exit status: 0 on success, 2 for a wrong command line (unknown option,
bad ``-k``, ``-o`` with several inputs, an output that would replace an
input, ...), 1 when files let it down (missing or unreadable input, an
output that exists without ``--force``, a folder that cannot be written),
99 when ``--quality``'s minimum was out of reach, 98 when
``--skip-if-larger`` kept an output from being written, 130 (143, 129)
when stopped by SIGINT (SIGTERM, SIGHUP). Errors are one
``kmeans-quant: error: ...`` line on stderr, never a traceback; no
temporary or partial file is left behind, whatever stops the run.
"""

from __future__ import annotations

import sys

try:  # Ctrl-C while the modules load: a message, no traceback
    import argparse
    import contextlib
    import importlib.resources
    import os
    import signal
    import tempfile
    from collections.abc import Callable, Iterator, Sequence
    from dataclasses import dataclass
    from pathlib import Path
    from typing import Any, NoReturn, TextIO

    import numpy as np
    from numpy.typing import NDArray

    from . import __version__
    from ._atomic import atomic_path
    from ._dtypes import from_uint8, full_scale, to_uint8
    from ._validation import DITHERS, METHODS, SPACES
    from .color_table import color_table, merge_tables
    from .frames import (
        ANIMATION_EXTENSIONS,
        Animation,
        quantize_frames,
        read_frames,
        write_frames,
    )
    from .image import extract_palette, quantize, recolor
    from .io import IMAGE_EXTENSIONS, open_image, write_image
    from .metrics import mse
    from .palette import Palette, by_count
    from .palette_io import PALETTE_EXTENSIONS, load_palette, save_palette
    from .quality import QualityTooLow
except KeyboardInterrupt:
    sys.stderr.write("kmeans-quant: interrupted\n")
    sys.exit(130)

__all__ = ["main"]

PROG = "kmeans-quant"
DEFAULT_K = 16
SAMPLE = "chelsea.png"
_CHOICES = {"dither": DITHERS, "space": SPACES, "method": METHODS}


class UsageError(Exception):
    """The command line itself is wrong: exit status 2."""


class RunError(Exception):
    """A file or the data let us down: exit status 1."""


class Skipped(RunError):
    """``--skip-if-larger`` kept an output from being written: exit status 98."""


class QualityMissed(RunError):
    """``--quality``'s minimum was out of reach, nothing written: exit status 99."""


EXIT_SKIPPED = 98
EXIT_QUALITY = 99
#: Stands for standard input (as an input) and standard output (as an output).
STDIO = "-"
_SIGNALS = ("SIGTERM", "SIGHUP")


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


def _quality(text: str) -> tuple[int, int]:
    lo_text, sep, hi_text = text.partition("-")
    try:
        lo, hi = (int(lo_text) if lo_text else 0), int(hi_text if sep else lo_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be MIN-MAX, e.g. 65-80, got {text!r}") from None
    if not 0 <= lo <= hi <= 100:
        raise argparse.ArgumentTypeError(f"needs 0 <= MIN <= MAX <= 100, got {text!r}")
    return lo, hi


def _strength(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}")
    return value


def _hex_colors(text: str) -> list[tuple[int, int, int]]:
    colors = []
    for item in text.split(","):
        h = item.strip().lstrip("#")
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        try:
            if len(h) != 6:
                raise ValueError
            colors.append((int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be hex colours like '#ffffff,#000000', got {item.strip()!r}"
            ) from None
    return colors


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
            "Outputs default to STEM_kK.png (STEM_qMIN-MAX.png with --quality, "
            "STEM_PALETTE.png with --palette-in, STEM + SUFFIX with --ext) in the "
            "current folder or --out-dir; '-' as the input reads standard input and "
            "writes standard output. "
            "Existing files are never replaced without --force, inputs never. "
            "Progress is shown on a terminal only (or with --verbose). "
            "Exit status: 0 ok, 1 a file could not be read or written, 2 bad command line, "
            "98 --skip-if-larger skipped an output, 99 --quality's MIN not reached."
        ),
    )
    p.add_argument(
        "inputs", nargs="*", metavar="IN", help="image files or folders, '-' for standard input"
    )
    p.add_argument(
        "-k",
        "--colors",
        dest="k",
        type=_positive_int,
        default=None,
        help=f"number of colours (default {DEFAULT_K}; the most colours with --quality, "
        "default 256)",
    )
    p.add_argument(
        "--quality",
        metavar="MIN-MAX",
        type=_quality,
        help="use the fewest colours that reach quality MAX (0-100, MSE-based as "
        "pngquant's); write nothing and exit 99 if MIN is out of reach",
    )
    p.add_argument(
        "--skip-if-larger",
        action="store_true",
        help="write no output that would not be smaller than its input (exit 98)",
    )
    p.add_argument(
        "--ext",
        metavar="SUFFIX",
        help="output name is STEM + SUFFIX, e.g. --ext -fs8.png",
    )
    p.add_argument(
        "-r", "--recursive", action="store_true", help="quantize the images in folder inputs"
    )
    p.add_argument(
        "--fixed-colors",
        metavar="COLOURS",
        type=_hex_colors,
        help="colours the palette keeps exactly, e.g. '#ffffff,#000000'",
    )
    p.add_argument(
        "--dither-strength",
        metavar="S",
        type=_strength,
        default=1.0,
        help="share of the dithering, 0..1 (default 1)",
    )
    p.add_argument(
        "--optimize",
        action="store_true",
        help="compress PNGs with the most effort (a few per cent smaller, much slower)",
    )
    talk = p.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    talk.add_argument(
        "-v", "--verbose", action="store_true", help="show progress even when not on a terminal"
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
    fit_kw: dict[str, Any] = {"method": args.method, "space": args.space}
    map_kw: dict[str, Any] = {"dither": args.dither, "space": args.space}
    if getattr(args, "quality", None) is not None:
        fit_kw["quality"] = args.quality
    if getattr(args, "fixed_colors", None):
        fit_kw["fixed"] = np.array(args.fixed_colors, dtype=np.uint8)
    if getattr(args, "dither_strength", 1.0) != 1.0:
        map_kw["dither_strength"] = args.dither_strength
    return fit_kw, map_kw


def _output_tag(args: argparse.Namespace, k: int) -> str:
    if args.palette_in:
        return Path(args.palette_in).stem
    if args.quality is not None:
        return f"q{args.quality[0]}-{args.quality[1]}"
    return f"k{k}"


def _expand_inputs(args: argparse.Namespace, tag: str) -> list[Path]:
    """Input files: the given ones, and with --recursive the images in given folders.

    Files in folders that look like this run's outputs (ending in ``_TAG``
    or ``--ext``) are left out, so a second run over a folder does not
    quantize the first run's results.
    """
    sources: list[Path] = []
    for name in args.inputs:
        path = Path(name)
        if name == STDIO or not path.is_dir():
            sources.append(path)
            continue
        if not args.recursive:
            raise RunError(
                f"input {name!r} is a folder; use --recursive to quantize the images in it"
            )
        found = sorted(
            f
            for f in path.rglob("*")
            if f.is_file()
            and f.suffix.lower() in IMAGE_EXTENSIONS
            and not f.stem.endswith(f"_{tag}")
            and not (args.ext and f.name.endswith(args.ext))
        )
        if not found:
            raise RunError(f"folder {name!r} holds no image files")
        sources.extend(found)
    return sources


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
        if args.output != STDIO:
            _check_extension(args.output, IMAGE_EXTENSIONS, "output")
        jobs = [Job(sources[0], Path(args.output))]
    else:
        folder = Path(args.out_dir) if args.out_dir else Path(".")
        tag = _output_tag(args, k)
        jobs = [
            Job(s, Path(STDIO))
            if str(s) == STDIO
            else Job(s, folder / (s.stem + args.ext if args.ext else f"{s.stem}_{tag}.png"))
            for s in sources
        ]
    seen: dict[Path, Path] = {}
    for job in jobs:
        if str(job.output) == STDIO:
            continue
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
        if str(s) == STDIO:
            continue
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
    targets = [j.output for j in jobs if str(j.output) != STDIO]
    for t in targets + ([palette_out] if palette_out else []):
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
    """Files and stages on one line of stderr, redrawn in place on a terminal.

    Off a terminal nothing is shown unless ``verbose``, and then each stage
    is a line of its own.
    """

    def __init__(self, total: int, stream: TextIO, width: int = 24, verbose: bool = False) -> None:
        self.total, self.stream, self.width = total, stream, width
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.on = self.tty or verbose
        self._len = 0
        self._file = (0, "")

    def show(self, done: int, label: str) -> None:
        self._file = (done, label)
        self._draw(label)

    def stage(self, name: str) -> None:
        """The current file has reached stage ``name`` (read, fit, map, dither, write)."""
        self._draw(f"{self._file[1]}: {name}")

    def _draw(self, label: str) -> None:
        if not self.on:
            return
        done = self._file[0]
        if not self.tty:
            self.stream.write(f"{done}/{self.total} {label}\n")
            self.stream.flush()
            return
        fill = self.width * done // self.total
        line = f"[{'#' * fill}{'.' * (self.width - fill)}] {done}/{self.total} {label}"
        self.stream.write("\r" + line.ljust(self._len))
        self.stream.flush()
        self._len = len(line)

    def clear(self) -> None:
        if self.tty and self._len:
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


def _file_palette(used: Palette, fixed: NDArray | None) -> NDArray:
    """The palette written into the file: the used colours (plus any fixed
    colours, in the image's units, that no pixel took), ordered by luma, which makes neighbouring
    indices similar colours and the PNG smaller (see docs/benchmarks.md)."""
    colors = np.asarray(used.colors).reshape(len(used), -1)
    if fixed is not None and fixed.shape[1] == colors.shape[1]:
        missing = ~(fixed[:, None, :] == colors[None, :, :]).all(axis=2).any(axis=1)
        colors = np.concatenate([colors, fixed[missing].astype(colors.dtype)])
    luma = colors.astype(np.float64) @ ([0.299, 0.587, 0.114] if colors.shape[1] == 3 else [1.0])
    return colors[np.argsort(luma, kind="stable")]


def _write_output(
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
            raise Skipped(f"{_name(job.source)}: not written, {len(data)} B is not smaller")
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
                    f"{str(job.output)!r} not written: {_size(size)} is not smaller than "
                    f"the input's {_size(limit)}"
                )
    except FileExistsError:
        raise RunError(f"{str(job.output)!r} already exists; use --force to overwrite it") from None
    except OSError as exc:
        raise RunError(f"cannot write {str(job.output)!r}: {exc.strerror or exc}") from None
    return size


def _name(path: Path) -> str:
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
            alpha = _alpha_mode(image, fit_kw, map_kw)
            try:
                out = quantize(image, k, rng=args.seed, alpha=alpha, **{**fit_kw, **map_kw})
            except QualityTooLow as exc:
                raise QualityMissed(f"{_name(job.source)}: {exc}; not written") from None
        reference = image
    else:
        reference, colors = _match_palette(image, palette8)
        stage("dither" if dither != "none" else "map")
        out = recolor(reference, colors, **map_kw)
    used = _used_palette(out)
    stage("write")
    before = None if str(job.source) == STDIO else job.source.stat().st_size
    limit = before if getattr(args, "skip_if_larger", False) else None
    fixed8 = None if fixed is None else np.asarray(fixed)
    after = _write_output(
        job, out, _file_palette(used, fixed8), args, limit, icc_profile=icc_profile
    )
    if getattr(args, "quiet", False):
        return used, ""  # nobody reads the report: its error measure is not computed
    err = mse(reference, out)
    peak = full_scale(out.dtype)
    quality = f"PSNR {10 * np.log10(peak**2 / err):.2f} dB" if err else "PSNR inf dB"
    line = (
        f"{_name(job.source)} -> {job.output}: {len(used)} colours, MSE {err:.2f}, {quality}, "
        f"{'stdin' if before is None else _size(before)} -> {_size(after)}"
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


class _Lines:
    """Report lines on a stream that may close (``... | head -1``).

    Once the reader has gone, lines are dropped and the batch goes on;
    the stream is pointed at os.devnull so that Python's final flush
    does not complain either.
    """

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream, self.quiet, self.closed = stream, quiet, False

    def print(self, line: str) -> None:
        if self.quiet or self.closed:
            return
        try:
            print(line, file=self.stream, flush=True)
        except BrokenPipeError:
            self.closed = True
            with contextlib.suppress(OSError, ValueError, AttributeError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.stream.fileno())


def _read_stdin(folder: str) -> Path:
    """Standard input saved to a file in ``folder`` (imageio reads files)."""
    path = Path(folder) / "stdin"
    path.write_bytes(sys.stdin.buffer.read())
    return path


def _fixed_for(image: NDArray, fit_kw: dict) -> dict:
    """``fit_kw`` with the uint8 ``--fixed-colors`` in ``image``'s units and channels."""
    fixed = fit_kw.get("fixed")
    if fixed is None:
        return fit_kw
    if image.ndim == 2 and (fixed == fixed[:, :1]).all():
        fixed = fixed[:, :1]
    return {**fit_kw, "fixed": from_uint8(fixed, image.dtype)}


def _run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if args.k is not None and args.palette_in:
        raise UsageError("-k has no effect with --palette-in (the palette sets the colours)")
    if args.method != "kmeans" and args.palette_in:
        raise UsageError("--method has no effect with --palette-in (no palette is fitted)")
    if args.output and len(args.inputs) > 1:
        raise UsageError(f"-o/--output takes one input, got {len(args.inputs)}; use --out-dir")
    if args.quality is not None:
        for flag, on in (
            ("--palette-in", args.palette_in),
            ("--shared-palette", args.shared_palette),
            ("--fixed-colors", args.fixed_colors),
            ("--workers/--scheduler", args.workers or args.scheduler),
            (f"--method {args.method}", args.method != "kmeans"),
        ):
            if on:
                raise UsageError(f"--quality cannot be combined with {flag}")
    if args.ext is not None:
        if args.output:
            raise UsageError("--ext and -o/--output both name the output; give one")
        _check_extension(args.ext, (".png", ".gif"), "--ext")
    if args.inputs.count(STDIO) > 1:
        raise UsageError("standard input ('-') can be read only once")
    if args.palette_out:
        _check_extension(args.palette_out, PALETTE_EXTENSIONS, "--palette-out")
        if len(args.inputs) > 1 and not (args.shared_palette or args.palette_in):
            raise UsageError(
                "--palette-out with several inputs needs --shared-palette (one palette for all)"
            )
    if args.palette_in:
        _check_extension(args.palette_in, PALETTE_EXTENSIONS, "--palette-in")
    fit_kw, map_kw = _api_keywords(args)
    k = (256 if args.quality is not None else DEFAULT_K) if args.k is None else args.k

    with contextlib.ExitStack() as stack:
        if args.inputs:
            sources = _expand_inputs(args, _output_tag(args, k))
        else:
            # The bundled sample: its own outputs are replaced on a second run.
            args.force = True
            resource = importlib.resources.files("kmeans_quant") / "data" / SAMPLE
            sources = [stack.enter_context(importlib.resources.as_file(resource))]
        if len(sources) > 1 and args.output:
            raise UsageError(f"-o/--output takes one input, got {len(sources)}; use --out-dir")
        jobs = _plan(args, sources, k)
        to_stdout = any(str(j.output) == STDIO for j in jobs)
        if to_stdout and len(jobs) > 1:
            raise UsageError("only one image can be written to standard output")
        palette_out = Path(args.palette_out) if args.palette_out else None
        if palette_out is None and not args.inputs:
            palette_out = jobs[0].output.with_name(jobs[0].output.stem + "_palette.json")
        if palette_out is not None:
            for s in sources:
                if str(s) != STDIO and _same_file(palette_out, s):
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
            if palette8.shape[0] > 256:
                raise RunError(
                    f"--palette-in {args.palette_in!r} has {palette8.shape[0]} colours, more "
                    "than the 256 a palette holds; is it a photo rather than a swatch?"
                )
        if any(str(s) == STDIO for s in sources):
            stdin_file = _read_stdin(stack.enter_context(tempfile.TemporaryDirectory()))
            jobs = [Job(stdin_file, j.output) if str(j.source) == STDIO else j for j in jobs]
            names = {stdin_file: "stdin"}
        else:
            names = {}
        # With an image on stdout, the report goes to stderr.
        lines = _Lines(stderr if to_stdout else stdout, args.quiet)

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

        progress = _Progress(len(jobs), stderr, verbose=args.verbose)
        used_palettes, failed, missed, skipped = [], 0, 0, 0
        for i, job in enumerate(jobs):
            progress.show(i, names.get(job.source, job.source.name))
            try:
                progress.stage("read")
                content, icc = (
                    (images.pop(i), None) if i in images else _read_input(job.source, stderr)
                )
                if isinstance(content, Animation) and palette8 is None:
                    used, line = process_animation(
                        job, content, args, k, fit_kw=fit_kw, map_kw=map_kw
                    )
                else:
                    first = content.frames[0] if isinstance(content, Animation) else content
                    used, line = process_job(
                        job,
                        first,
                        args,
                        k,
                        palette8,
                        _fixed_for(first, fit_kw),
                        map_kw,
                        icc_profile=icc,
                        stage=progress.stage,
                    )
                    _note_truecolour(job, used, stderr)
            except (RunError, OSError, ValueError, TypeError) as exc:
                progress.clear()
                if isinstance(exc, Skipped):
                    skipped += 1
                    if not args.quiet:
                        print(f"{PROG}: skipped: {exc}", file=stderr)
                    continue
                missed += isinstance(exc, QualityMissed)
                failed += not isinstance(exc, QualityMissed)
                print(f"{PROG}: error: {_describe(exc)}", file=stderr)
                continue
            progress.clear()
            if to_stdout:
                line = line.replace(f"-> {STDIO}:", "-> stdout:")
            lines.print(line.replace(str(job.source.name), names.get(job.source, job.source.name)))
            used_palettes.append(used)
        progress.show(len(jobs), "done")
        progress.clear()

        if palette_out is not None and used_palettes:
            merged = used_palettes[0] if len(used_palettes) == 1 else merge_palettes(used_palettes)
            try:
                save_palette(merged, palette_out, force=args.force)
            except OSError as exc:
                raise RunError(f"cannot write {str(palette_out)!r}: {_describe(exc)}") from None
            lines.print(f"palette ({len(merged)} colours) -> {palette_out}")
    if failed:
        return 1
    return EXIT_QUALITY if missed else EXIT_SKIPPED if skipped else 0


def _join_ext(argv: Sequence[str]) -> list[str]:
    """``--ext -fs8.png`` as ``--ext=-fs8.png``: argparse would take the
    suffix, which starts with a dash, for an option."""
    out: list[str] = []
    it = iter(argv)
    for word in it:
        if word == "--ext":
            out.append(f"--ext={next(it, '')}")
        else:
            out.append(word)
    return out


class _Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C, so temporary files go."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: Any) -> None:
    raise _Stopped(signum)


@contextlib.contextmanager
def _signals_unwind() -> Any:
    """While running, SIGTERM and SIGHUP raise :class:`_Stopped` (main thread only)."""
    previous = {}
    for name in _SIGNALS:
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            previous[signum] = signal.signal(signum, _stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


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
        wrong command line, 98 when ``--skip-if-larger`` skipped an output,
        99 when ``--quality``'s minimum was not reached, 130 when
        interrupted (128 + the signal number for SIGTERM and SIGHUP).

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
        with _signals_unwind():
            args = build_parser().parse_args(_join_ext(sys.argv[1:] if argv is None else argv))
            return _run(args, stdout, stderr)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        print(f"{PROG}: error: {exc} (see {PROG} --help)", file=stderr)
        return 2
    except RunError as exc:
        print(f"{PROG}: error: {exc}", file=stderr)
        return 1
    except _Stopped as exc:
        print(f"{PROG}: stopped by {signal.Signals(exc.signum).name}", file=stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=stderr)
        return 130
    except Exception as exc:  # a bug: still one line, but say what it was
        print(f"{PROG}: error: unexpected {type(exc).__name__}: {exc}", file=stderr)
        return 1
