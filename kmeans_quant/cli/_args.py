"""The ``kmeans-quant`` command line's arguments: the parser and its argument types."""

from __future__ import annotations

import argparse
import enum
from typing import NoReturn

from .. import __version__
from .._validation import DITHERS, METHODS, MODES, SPACES
from ..job import DEFAULT_K, PROG, QUALITY_K, JobOptions

#: The photo the command quantizes when given no input.
SAMPLE = "chelsea.png"
#: The choices of the string options, as the image API has them.
CHOICES = {"mode": MODES, "dither": DITHERS, "space": SPACES, "method": METHODS}
#: The options' defaults: those of the job's options record, in one place.
DEFAULTS = JobOptions()
#: Output suffixes --ext accepts (the name ends in one of them).
EXT_SUFFIXES = (".png", ".gif")


class Exit(enum.IntEnum):
    """The command's exit statuses (a signal gives 128 + its number)."""

    OK = 0
    FAILED = 1  #: a file could not be read or written
    USAGE = 2  #: the command line is wrong
    SKIPPED = 98  #: --skip-if-larger kept an output from being written
    QUALITY = 99  #: --quality's minimum was out of reach
    INTERRUPTED = 130  #: Ctrl-C (SIGINT)


class UsageError(Exception):
    """The command line itself is wrong: exit status :attr:`Exit.USAGE`."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage and exits; we want one line and to
    # decide the exit ourselves, so main() can also be called from Python.
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _int_at_least(text: str, low: int, what: str) -> int:
    """``text`` as an integer of at least ``low``; ``what`` names the range in the message."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a {what} integer, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be a {what} integer, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    return _int_at_least(text, 1, "positive")


def _seed(text: str) -> int:
    return _int_at_least(text, 0, "non-negative")


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
            f"Exit status: {Exit.OK} ok, {Exit.FAILED} a file could not be read or written, "
            f"{Exit.USAGE} bad command line, {Exit.SKIPPED} --skip-if-larger skipped an "
            f"output, {Exit.QUALITY} --quality's MIN not reached, 128 + N stopped by "
            "signal N."
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
        f"default {QUALITY_K})",
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
        help="output name is STEM + SUFFIX, ending in .png or .gif, e.g. --ext -fs8.png",
    )
    p.add_argument(
        "-r",
        "--recursive",
        action="store_true",
        help="quantize the images in folder inputs; their outputs mirror the folder's tree "
        "under --out-dir (next to each input without it)",
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
        default=None,
        help=f"share of the dithering, 0..1 (default {DEFAULTS.dither_strength:g})",
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
    p.add_argument(
        "--seed", type=_seed, default=DEFAULTS.seed, help=f"random seed (default {DEFAULTS.seed})"
    )
    helps = {
        "mode": f"default {DEFAULTS.mode}: K-Means in Oklab on pixels weighed by where an "
        "error would show, the best-looking file for its size; mse: the K-Means recipe, "
        "lowest mean squared error",
        "dither": "default floyd-steinberg (none for images with transparency, whose "
        "alpha is fitted with the colour)",
        "space": "default: the mode's (oklab for perceptual, rgb for mse)",
        "method": f"default {DEFAULTS.method}",
    }
    for name, choices in CHOICES.items():
        default = getattr(DEFAULTS, name)
        p.add_argument(f"--{name}", choices=choices, default=default, help=helps[name])
    p.add_argument(
        "--palette-out", metavar="FILE", help="also write the palette (.json, .gpl or .png swatch)"
    )
    p.add_argument(
        "--palette-in",
        metavar="FILE",
        help="map the images onto this palette instead of fitting one",
    )
    p.add_argument(
        "--shared-palette",
        action="store_true",
        help="fit one palette on all inputs together (every frame of animations)",
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
        help="run the files on a local Dask cluster of N processes (kmeans_quant[dask]); "
        "the outputs are those of one process",
    )
    engine.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster at ADDRESS, e.g. tcp://host:8786",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p
