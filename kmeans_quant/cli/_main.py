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
    from collections.abc import Sequence
    from pathlib import Path
    from typing import Any, TextIO

    import numpy as np
    from numpy.typing import NDArray

    from ..frames import (
        Animation,
    )
    from ..io import IMAGE_EXTENSIONS, open_image
    from ..job import (
        PROG,
        STDIO,
        Job,
        QualityMissed,
        RunError,
        Skipped,
        describe_error,
        fixed_for,
        merge_palettes,
        note_truecolour,
        print_notes,
        process_animation,
        process_job,
        read_input,
        read_stdin,
        shared_palette,
    )
    from ..palette_io import PALETTE_EXTENSIONS, load_palette, save_palette
    from ._args import (
        DEFAULT_K,
        EXIT_QUALITY,
        EXIT_SKIPPED,
        SAMPLE,
        UsageError,
        build_parser,
    )
except KeyboardInterrupt:
    sys.stderr.write("kmeans-quant: interrupted\n")
    sys.exit(130)

__all__ = ["main", "build_parser"]

_SIGNALS = ("SIGTERM", "SIGHUP")


# --------------------------------------------------------------------------
# checking the plan before doing any work
# --------------------------------------------------------------------------


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
                raise RunError(describe_error(exc)) from None
            if palette8.shape[0] > 256:
                raise RunError(
                    f"--palette-in {args.palette_in!r} has {palette8.shape[0]} colours, more "
                    "than the 256 a palette holds; is it a photo rather than a swatch?"
                )
        if any(str(s) == STDIO for s in sources):
            stdin_file = read_stdin(stack.enter_context(tempfile.TemporaryDirectory()))
            jobs = [Job(stdin_file, j.output) if str(j.source) == STDIO else j for j in jobs]
            names = {stdin_file: "stdin"}
        else:
            names = {}
        # With an image on stdout, the report goes to stderr.
        lines = _Lines(stderr if to_stdout else stdout, args.quiet)

        if args.workers or args.scheduler:
            try:  # the optional extra: imported only when asked for
                from .. import dask as on_dask
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
                    print_notes(info.notes, stderr)
                    images[i] = info.image
                except (OSError, ValueError) as exc:
                    raise RunError(describe_error(exc)) from None
            palette8 = shared_palette(list(images.values()), k, args.seed, fit_kw)

        progress = _Progress(len(jobs), stderr, verbose=args.verbose)
        used_palettes, failed, missed, skipped = [], 0, 0, 0
        for i, job in enumerate(jobs):
            progress.show(i, names.get(job.source, job.source.name))
            try:
                progress.stage("read")
                content, icc = (
                    (images.pop(i), None) if i in images else read_input(job.source, stderr)
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
                        fixed_for(first, fit_kw),
                        map_kw,
                        icc_profile=icc,
                        stage=progress.stage,
                    )
                    note_truecolour(job, used, stderr)
            except (RunError, OSError, ValueError, TypeError) as exc:
                progress.clear()
                if isinstance(exc, Skipped):
                    skipped += 1
                    if not args.quiet:
                        print(f"{PROG}: skipped: {exc}", file=stderr)
                    continue
                missed += isinstance(exc, QualityMissed)
                failed += not isinstance(exc, QualityMissed)
                print(f"{PROG}: error: {describe_error(exc)}", file=stderr)
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
                raise RunError(
                    f"cannot write {str(palette_out)!r}: {describe_error(exc)}"
                ) from None
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
