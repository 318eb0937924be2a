"""The ``kmeans-quant`` command (also ``python -m kmeans_quant``).

Quantizes image files to ``k`` colours and writes palette-mode PNGs (or
any format by extension), plus the palette if asked. Run with no input it
quantizes the bundled sample photo into the current folder, with its
palette as JSON next to it.

A run checks the command line (:func:`_refuse_meaningless`), makes the
job's options record (:func:`_job_options`), plans where every output goes
(:func:`_inputs`, :func:`_plan`), checks the files before any work
(:func:`_check_files`), finds the palette when it is not fitted per file
(:func:`_palette_in` or a shared fit), and runs the one per-file job of
:mod:`kmeans_quant.job` on every file, here or on Dask workers; a
:class:`_Report` prints what each job did and gives the exit status.

Exit statuses are :class:`~kmeans_quant.cli._args.Exit`. Errors are one
``kmeans-quant: error: ...`` line on stderr, never a traceback; no
temporary or partial file is left behind, whatever stops the run.
"""

from __future__ import annotations

import sys

try:  # Ctrl-C while the modules load: a message, no traceback
    import argparse
    import contextlib
    import dataclasses
    import gc
    import importlib.resources
    import logging
    import os
    import signal
    from collections.abc import Sequence
    from dataclasses import dataclass
    from pathlib import Path
    from typing import Any, TextIO

    import numpy as np

    from ..io import IMAGE_EXTENSIONS
    from ..job import (
        PROG,
        QUALITY_K,
        STDIO,
        Job,
        JobOptions,
        Outcome,
        QualityMissed,
        RunError,
        Skipped,
        describe_error,
        merge_palettes,
        run_job,
        shared_palette,
    )
    from ..palette import Palette
    from ..palette_io import PALETTE_EXTENSIONS, load_palette, save_palette
    from ._args import (
        DEFAULTS,
        EXT_SUFFIXES,
        SAMPLE,
        Exit,
        UsageError,
        build_parser,
    )
except KeyboardInterrupt:
    sys.stderr.write("kmeans-quant: interrupted\n")
    sys.exit(130)

__all__ = ["main", "build_parser"]

_SIGNALS = ("SIGTERM", "SIGHUP")
# Loggers that would print Dask's tracebacks past the command's one line.
_DASK_LOGGERS = ("asyncio", "distributed", "tornado")


# --------------------------------------------------------------------------
# the command line: what cannot be combined, and the job's options
# --------------------------------------------------------------------------


def _refuse_meaningless(args: argparse.Namespace) -> None:
    """Usage errors for options that mean nothing together (before any file is touched)."""
    if args.palette_in:
        for flag, on in (
            ("-k", args.k is not None),
            ("--method", args.method != DEFAULTS.method),
            ("--fixed-colors", args.fixed_colors),
            ("--per-frame-palette", args.per_frame_palette),
        ):
            if on:
                raise UsageError(
                    f"{flag} has no effect with --palette-in (the palette sets the colours)"
                )
    if args.per_frame_palette and args.shared_palette:
        raise UsageError("--per-frame-palette and --shared-palette ask for opposite things")
    if args.output and len(args.inputs) > 1:
        raise UsageError(f"-o/--output takes one input, got {len(args.inputs)}; use --out-dir")
    if args.mode == "perceptual" and args.space == "rgb":
        raise UsageError("--space rgb needs --mode mse (the perceptual mode fits in Oklab)")
    if args.dither_strength is not None and args.dither == "none":
        raise UsageError("--dither-strength has no effect with --dither none")
    if args.quality is not None:
        for flag, on in (
            ("--palette-in", args.palette_in),
            ("--shared-palette", args.shared_palette),
            ("--fixed-colors", args.fixed_colors),
            (f"--method {args.method}", args.method != "kmeans"),
        ):
            if on:
                raise UsageError(f"--quality cannot be combined with {flag}")
    if args.ext is not None:
        if args.output:
            raise UsageError("--ext and -o/--output both name the output; give one")
        if not args.ext.lower().endswith(EXT_SUFFIXES):
            raise UsageError(
                f"--ext {args.ext!r} must end in one of {', '.join(EXT_SUFFIXES)}, "
                "e.g. --ext -fs8.png"
            )
    if args.scheduler is not None and not args.scheduler.strip():
        raise UsageError("--scheduler needs an address, e.g. tcp://host:8786")
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


def _job_options(args: argparse.Namespace) -> JobOptions:
    """The job's frozen options record, from the parsed command line."""
    k = args.k if args.k is not None else QUALITY_K if args.quality is not None else DEFAULTS.k
    strength = DEFAULTS.dither_strength if args.dither_strength is None else args.dither_strength
    return JobOptions(
        k=k,
        seed=args.seed,
        mode=args.mode,
        method=args.method,
        space=args.space,
        dither=args.dither,
        dither_strength=strength,
        quality=args.quality,
        fixed=None if not args.fixed_colors else tuple(args.fixed_colors),
        per_frame_palette=args.per_frame_palette,
        skip_if_larger=args.skip_if_larger,
        optimize=args.optimize,
        force=args.force,
        report=not args.quiet,
    )


# --------------------------------------------------------------------------
# the plan: inputs, where each output goes, and the files checked up front
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Input:
    """An input file and the folder its output goes to (unless -o names it)."""

    path: Path
    folder: Path
    mirrored: bool = False  #: found in a folder input; its folder may need creating


def _output_tag(args: argparse.Namespace, k: int) -> str:
    if args.palette_in:
        return Path(args.palette_in).stem
    if args.quality is not None:
        return f"q{args.quality[0]}-{args.quality[1]}"
    return f"k{k}"


def _inputs(args: argparse.Namespace, tag: str) -> list[_Input]:
    """The given files, and with --recursive the images in given folders.

    Images found in a folder keep their place in its tree: their outputs go
    to the same sub-folder of --out-dir (of the folder itself without it).
    Files that look like this run's outputs (ending in ``_TAG`` or
    ``--ext``) are left out, so a second run over a folder does not
    quantize the first run's results.
    """
    out_dir = Path(args.out_dir) if args.out_dir else None
    found: list[_Input] = []
    for name in args.inputs:
        path = Path(name)
        if name == STDIO or not path.is_dir():
            found.append(_Input(path, out_dir or Path(".")))
            continue
        if not args.recursive:
            raise RunError(
                f"input {name!r} is a folder; use --recursive to quantize the images in it"
            )
        images = sorted(
            f
            for f in path.rglob("*")
            if f.is_file()
            and f.suffix.lower() in IMAGE_EXTENSIONS
            and not f.stem.endswith(f"_{tag}")
            and not (args.ext and f.name.endswith(args.ext))
        )
        if not images:
            raise RunError(f"folder {name!r} holds no image files")
        for f in images:
            sub = f.parent.relative_to(path)
            found.append(_Input(f, (out_dir / sub) if out_dir else f.parent, out_dir is not None))
    return found


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


def _plan(args: argparse.Namespace, inputs: list[_Input], k: int) -> list[Job]:
    """Where each output goes; refuses collisions and overwriting inputs."""
    if args.output:
        if args.output != STDIO:
            _check_extension(args.output, IMAGE_EXTENSIONS, "output")
        jobs = [Job(inputs[0].path, Path(args.output))]
    else:
        tag = _output_tag(args, k)
        jobs = [
            Job(i.path, Path(STDIO))
            if str(i.path) == STDIO
            else Job(
                i.path,
                i.folder / (i.path.stem + args.ext if args.ext else f"{i.path.stem}_{tag}.png"),
            )
            for i in inputs
        ]
    seen: dict[Path, Path] = {}
    for job in jobs:
        if job.to_stdout:
            continue
        key = job.output.resolve()
        if key in seen:
            raise UsageError(
                f"inputs {str(seen[key])!r} and {str(job.source)!r} would both be written "
                f"to {str(job.output)!r}; quantize them separately with -o"
            )
        seen[key] = job.source
        for i in inputs:
            if _same_file(job.output, i.path):
                raise UsageError(
                    f"output {str(job.output)!r} would replace the input {str(i.path)!r}"
                )
    if sum(j.to_stdout for j in jobs) and len(jobs) > 1:
        raise UsageError("only one image can be written to standard output")
    return jobs


def _palette_out(args: argparse.Namespace, inputs: list[_Input], jobs: list[Job]) -> Path | None:
    """Where the palette goes: --palette-out, or beside the sample's output."""
    palette_out = Path(args.palette_out) if args.palette_out else None
    if palette_out is None and not args.inputs:
        palette_out = jobs[0].output.with_name(jobs[0].output.stem + "_palette.json")
    if palette_out is not None:
        for i in inputs:
            if str(i.path) != STDIO and _same_file(palette_out, i.path):
                raise UsageError(f"--palette-out {str(palette_out)!r} would replace an input")
        if any(palette_out.resolve() == j.output.resolve() for j in jobs):
            raise UsageError(f"--palette-out {str(palette_out)!r} is also an image output")
    return palette_out


def _check_files(
    args: argparse.Namespace,
    inputs: list[_Input],
    jobs: list[Job],
    *,
    palette_out: Path | None,
    force: bool,
) -> None:
    """Inputs exist, outputs may be written: fail before any work is done.

    Creates --out-dir, and in it the folders that mirror folder inputs.
    """
    for i in inputs:
        if str(i.path) == STDIO:
            continue
        if not i.path.exists():
            raise RunError(f"no such input file: {str(i.path)!r}")
        if i.path.is_dir():
            raise RunError(f"input {str(i.path)!r} is a folder, not an image file")
    folders = [Path(args.out_dir)] if args.out_dir else []
    folders += sorted({i.folder for i in inputs if i.mirrored})
    for folder in folders:
        if folder.exists() and not folder.is_dir():
            raise RunError(f"output folder {str(folder)!r} exists and is not a folder")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunError(
                f"cannot create output folder {str(folder)!r}: {exc.strerror or exc}"
            ) from None
    targets = [j.output for j in jobs if not j.to_stdout]
    for t in targets + ([palette_out] if palette_out else []):
        if not t.parent.is_dir():
            raise RunError(f"cannot write {str(t)!r}: folder {str(t.parent)!r} does not exist")
        if not os.access(t.parent, os.W_OK):
            raise RunError(f"cannot write {str(t)!r}: folder {str(t.parent)!r} is not writable")
        if t.is_dir():
            raise RunError(f"cannot write {str(t)!r}: it is a folder")
        if t.exists() and not force:
            raise RunError(f"{str(t)!r} already exists; use --force to overwrite it")


def _palette_in(args: argparse.Namespace) -> Palette | None:
    """The --palette-in palette (uint8 colours), or None."""
    if not args.palette_in:
        return None
    try:
        palette = load_palette(args.palette_in)
    except (OSError, ValueError) as exc:
        raise RunError(describe_error(exc)) from None
    if len(palette) > 256:
        raise RunError(
            f"--palette-in {args.palette_in!r} has {len(palette)} colours, more "
            "than the 256 a palette holds; is it a photo rather than a swatch?"
        )
    return Palette(np.asarray(palette.colors), np.zeros(len(palette), np.int64))


def _read_stdin(jobs: list[Job]) -> list[Job]:
    """Jobs with standard input's bytes in the job that reads it."""
    if not any(str(j.source) == STDIO for j in jobs):
        return jobs
    data = sys.stdin.buffer.read()
    return [dataclasses.replace(j, stdin=data) if str(j.source) == STDIO else j for j in jobs]


# --------------------------------------------------------------------------
# running the jobs and reporting them
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


class _Report:
    """What every job did, printed as it comes in, and the exit status of the run."""

    def __init__(self, *, lines: _Lines, stderr: TextIO, image_out: Any, quiet: bool) -> None:
        self.lines, self.stderr, self.image_out, self.quiet = lines, stderr, image_out, quiet
        self.used: list[Palette] = []
        self.failed = self.missed = self.skipped = 0

    def add(self, outcome: Outcome) -> None:
        for note in outcome.notes:
            print(f"{PROG}: note: {note}", file=self.stderr)
        error = outcome.error
        if isinstance(error, Skipped):
            self.skipped += 1
            if not self.quiet:
                print(f"{PROG}: skipped: {error}", file=self.stderr)
            return
        if error is not None:
            self.missed += isinstance(error, QualityMissed)
            self.failed += not isinstance(error, QualityMissed)
            print(f"{PROG}: error: {error}", file=self.stderr)
            return
        assert outcome.result is not None
        if outcome.result.stdout is not None:
            self.image_out.write(outcome.result.stdout)
            self.image_out.flush()
        if outcome.result.line:
            self.lines.print(outcome.result.line)
        self.used.append(outcome.result.used)

    def status(self) -> int:
        if self.failed:
            return int(Exit.FAILED)
        return int(Exit.QUALITY if self.missed else Exit.SKIPPED if self.skipped else Exit.OK)


def _run_here(
    jobs: list[Job],
    options: JobOptions,
    *,
    palette: Palette | None,
    shared: bool,
    report: _Report,
    progress: _Progress,
) -> None:
    """Every job in this process, one after the other."""
    if shared and palette is None:
        palette = shared_palette(jobs, options)
    for i, job in enumerate(jobs):
        progress.show(i, job.name)
        outcome = run_job(job, options, palette, stage=progress.stage)
        progress.clear()
        report.add(outcome)
    progress.show(len(jobs), "done")
    progress.clear()


def _run_on_dask(
    args: argparse.Namespace,
    jobs: list[Job],
    options: JobOptions,
    *,
    palette: Palette | None,
    shared: bool,
    report: _Report,
    stderr: TextIO,
) -> None:
    """Every job on a Dask cluster (--workers, --scheduler): the same job, elsewhere."""
    try:  # the optional extra: imported only when asked for
        from .. import dask as on_dask
    except ImportError:
        raise UsageError(
            '--workers/--scheduler need Dask: pip install "kmeans_quant[dask]"'
        ) from None
    with _quiet_logs(), on_dask.connect(workers=args.workers, scheduler=args.scheduler) as client:
        if shared and palette is None:
            palette = on_dask.fit_shared(jobs, options, client)
        outcomes = on_dask.run_jobs(jobs, options, palette=palette, client=client, progress=stderr)
    for outcome in outcomes:
        report.add(outcome)


@contextlib.contextmanager
def _quiet_logs() -> Any:
    """Distributed's and asyncio's own log lines off while the run is on Dask.

    The command reports every failure in one line; a run that is stopped
    leaves client tasks whose exceptions asyncio would print as tracebacks
    when they are collected, which happens here, while the logs are off.
    """
    loggers = [logging.getLogger(name) for name in _DASK_LOGGERS]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        gc.collect()
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)


def _save_palette_out(report: _Report, palette_out: Path | None, force: bool) -> None:
    """Write the colours of all outputs, merged, to --palette-out."""
    if palette_out is None or not report.used:
        return
    used = report.used
    merged = used[0] if len(used) == 1 else merge_palettes(used)
    try:
        save_palette(merged, palette_out, force=force)
    except OSError as exc:
        raise RunError(f"cannot write {str(palette_out)!r}: {describe_error(exc)}") from None
    report.lines.print(f"palette ({len(merged)} colours) -> {palette_out}")


def _run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    _refuse_meaningless(args)
    options = _job_options(args)
    with contextlib.ExitStack() as stack:
        if args.inputs:
            inputs = _inputs(args, _output_tag(args, options.k))
        else:
            # The bundled sample: its own outputs are replaced on a second run.
            options = dataclasses.replace(options, force=True)
            resource = importlib.resources.files("kmeans_quant") / "data" / SAMPLE
            inputs = [_Input(stack.enter_context(importlib.resources.as_file(resource)), Path("."))]
        if len(inputs) > 1 and args.output:
            raise UsageError(f"-o/--output takes one input, got {len(inputs)}; use --out-dir")
        jobs = _plan(args, inputs, options.k)
        palette_out = _palette_out(args, inputs, jobs)
        _check_files(args, inputs, jobs, palette_out=palette_out, force=options.force)
        palette = _palette_in(args)
        jobs = _read_stdin(jobs)
        to_stdout = any(j.to_stdout for j in jobs)
        report = _Report(
            # With an image on stdout, the report goes to stderr.
            lines=_Lines(stderr if to_stdout else stdout, args.quiet),
            stderr=stderr,
            image_out=getattr(stdout, "buffer", stdout),
            quiet=args.quiet,
        )
        if args.workers or args.scheduler:
            _run_on_dask(
                args,
                jobs,
                options,
                palette=palette,
                shared=args.shared_palette,
                report=report,
                stderr=stderr,
            )
        else:
            progress = _Progress(len(jobs), stderr, verbose=args.verbose)
            _run_here(
                jobs,
                options,
                palette=palette,
                shared=args.shared_palette,
                report=report,
                progress=progress,
            )
        _save_palette_out(report, palette_out, options.force)
    return report.status()


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
            return int(_run(args, stdout, stderr))
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        print(f"{PROG}: error: {exc} (see {PROG} --help)", file=stderr)
        return int(Exit.USAGE)
    except RunError as exc:
        print(f"{PROG}: error: {exc}", file=stderr)
        return int(Exit.FAILED)
    except _Stopped as exc:
        print(f"{PROG}: stopped by {signal.Signals(exc.signum).name}", file=stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=stderr)
        return int(Exit.INTERRUPTED)
    except Exception as exc:  # a bug: still one line, but say what it was
        print(f"{PROG}: error: unexpected {type(exc).__name__}: {exc}", file=stderr)
        return int(Exit.FAILED)
