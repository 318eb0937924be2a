"""Collections of files on a Dask cluster, and the command line's --workers/--scheduler."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import dask
import numpy as np
from numpy.typing import NDArray

from .._dtypes import to_uint8
from ..histogram import ColorHistogram
from ..image import fit_palette
from ..io import read_image

# The command line's own per-file step runs on the workers, which is what
# makes the files identical to a one-process run.
from ..job import Job, RunError, merge_palettes, process_job
from ..palette import Palette
from ..palette_io import save_palette
from ._reduce import compute, tree_merge

__all__ = ["quantize_files", "run_cli"]

_STAGE_PREFIX = ".kmeans-quant-"


# --------------------------------------------------------------------------
# collections of files
# --------------------------------------------------------------------------


def _file_histogram(path: Path) -> ColorHistogram:
    """The CLI's shared-palette pixels of one file: uint8, alpha dropped."""
    image = read_image(path)
    return ColorHistogram.from_image(to_uint8(image if image.ndim == 2 else image[..., :3]))


def _write_one(
    source: Path,
    staged: Path,
    k: int,
    palette8: NDArray | None,
    seed: int,
    fit_kw: dict,
    map_kw: dict,
) -> tuple[Palette, str]:
    """Quantize one file into ``staged`` with the CLI's own per-file step."""
    args = argparse.Namespace(seed=seed, force=False)
    return process_job(Job(source, staged), read_image(source), args, k, palette8, fit_kw, map_kw)


def _quantize_jobs(
    jobs: Sequence[Job],
    k: int,
    *,
    shared: bool,
    palette8: NDArray | None,
    seed: int,
    fit_kw: dict,
    map_kw: dict,
    force: bool,
    client: Any,
    progress: TextIO | None,
) -> list[tuple[Palette, str]]:
    """Quantize ``jobs`` on the cluster; all outputs appear, or none.

    Returns each job's used palette and the CLI's report line.
    """
    if shared and palette8 is None:
        count = dask.delayed(_file_histogram, pure=True)
        (hist,) = compute([tree_merge([count(j.source) for j in jobs])], client)
        palette8 = fit_palette(hist, k, rng=seed, **fit_kw).colors
    stages: dict[Path, Path] = {}
    try:
        for job in jobs:
            parent = job.output.parent
            if parent not in stages:
                stages[parent] = Path(tempfile.mkdtemp(prefix=_STAGE_PREFIX, dir=parent))
        staged = [stages[j.output.parent] / j.output.name for j in jobs]
        write = dask.delayed(_write_one, pure=True)
        tasks = [
            write(j.source, s, k, palette8, seed, fit_kw, map_kw)
            for j, s in zip(jobs, staged, strict=True)
        ]
        results = compute(tasks, client, progress)
        for job in jobs:
            if job.output.exists() and not force:
                raise FileExistsError(
                    f"{str(job.output)!r} appeared while quantizing; use force to overwrite it"
                )
        for job, s in zip(jobs, staged, strict=True):
            os.replace(s, job.output)
    finally:
        for stage in stages.values():
            _remove(stage)
    return [
        (used, line.replace(str(s), str(job.output), 1))
        for (used, line), job, s in zip(results, jobs, staged, strict=True)
    ]


def _remove(stage: Path, attempts: int = 20) -> None:
    """Remove a staging folder, also if a task still running writes into it."""
    for _ in range(attempts):
        shutil.rmtree(stage, ignore_errors=True)
        if not stage.exists():
            return
        time.sleep(0.1)


def _failure(exc: BaseException) -> str:
    name = type(exc).__name__
    if name in ("KilledWorker", "CommClosedError", "FutureCancelledError"):
        return f"a worker died during the run ({name}: {exc}); no output files were written"
    return f"{name}: {exc}; no output files were written"


def quantize_files(
    paths: Sequence[str | os.PathLike],
    k: int,
    out_dir: str | os.PathLike,
    *,
    shared_palette: bool = True,
    client: Any = None,
    rng: int = 0,
    method: str = "kmeans",
    space: str = "rgb",
    dither: str = "none",
    force: bool = False,
) -> list[Path]:
    r"""Quantize image files on a cluster, as ``kmeans-quant --out-dir`` does.

    Writes ``out_dir/STEM_kK.png`` for every input, byte for byte the file
    ``kmeans-quant PATHS... -k K [--shared-palette] --out-dir OUT_DIR``
    writes. With ``shared_palette`` the workers read and count every file
    (uint8 pixels, alpha dropped, grey spread to RGB if any input has
    colour, as the command does), the histograms are added in a tree, the
    palette is fitted once on the client, and the workers read each file
    again to recolour and write it. Without it every file is quantized on
    its own, on a worker.

    Nothing is written unless every file succeeds (see the module notes).

    Parameters
    ----------
    paths : sequence of path-like
        Input images (any format :func:`kmeans_quant.io.read_image` reads).
    k : int
        Number of colours, at least 1.
    out_dir : path-like
        Output folder (created), visible to the workers at the same path.
    shared_palette : bool, default True
        One palette for all files, or one per file.
    client : distributed.Client, optional
        Where to run; default Dask's current scheduler (the active
        ``distributed.Client`` if there is one, else local threads).
    rng : int, default 0
        Seed, as ``--seed``.
    method, space, dither : str
        As the command's options; ``dither='floyd-steinberg'`` is fine here,
        every file being recoloured whole.
    force : bool, default False
        Replace existing outputs.

    Returns
    -------
    list of pathlib.Path
        The written files, in the order of ``paths``.

    Raises
    ------
    FileNotFoundError
        A missing input.
    FileExistsError
        An output exists and ``force`` is false.
    ValueError
        No paths, bad ``k``/options, or two inputs with the same output name.
    RuntimeError
        The run failed (an unreadable file, a worker that died, ...); no
        output file was written.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from kmeans_quant.io import write_image
    >>> from kmeans_quant.dask import quantize_files
    >>> d = tempfile.mkdtemp()
    >>> rng = np.random.default_rng(0)
    >>> paths = [os.path.join(d, f"{n}.png") for n in "ab"]
    >>> for p in paths:
    ...     _ = write_image(p, rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    >>> [p.name for p in quantize_files(paths, 4, os.path.join(d, "out"))]
    ['a_k4.png', 'b_k4.png']
    """
    if isinstance(paths, (str, os.PathLike)) or not len(paths):
        raise ValueError("paths must be a non-empty sequence of image paths")
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if not isinstance(rng, (int, np.integer)) or isinstance(rng, bool) or rng < 0:
        raise ValueError(f"rng must be a non-negative integer seed, got {rng!r}")
    choices = {
        "method": (method, ("kmeans", "median-cut", "uniform")),
        "space": (space, ("rgb", "oklab")),
        "dither": (dither, ("none", "floyd-steinberg", "ordered")),
    }
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise ValueError(
                f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}"
            )
    sources = [Path(p) for p in paths]
    for s in sources:
        if not s.is_file():
            raise FileNotFoundError(f"no such input file: {str(s)!r}")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [Job(s, folder / f"{s.stem}_k{k}.png") for s in sources]
    seen: dict[Path, Path] = {}
    for job in jobs:
        if job.output in seen:
            raise ValueError(
                f"inputs {str(seen[job.output])!r} and {str(job.source)!r} "
                f"would both be written to {str(job.output)!r}"
            )
        seen[job.output] = job.source
        if job.output.exists() and not force:
            raise FileExistsError(f"{str(job.output)!r} already exists; pass force=True")
    fit_kw = {n: v for n, v in (("method", method), ("space", space)) if v != choices[n][1][0]}
    map_kw = {n: v for n, v in (("dither", dither), ("space", space)) if v != choices[n][1][0]}
    try:
        _quantize_jobs(
            jobs,
            k,
            shared=shared_palette,
            palette8=None,
            seed=int(rng),
            fit_kw=fit_kw,
            map_kw=map_kw,
            force=force,
            client=client,
            progress=None,
        )
    except Exception as exc:
        raise RuntimeError(_failure(exc)) from exc
    return [j.output for j in jobs]


# --------------------------------------------------------------------------
# the command line's --workers / --scheduler
# --------------------------------------------------------------------------


@contextlib.contextmanager
def _cluster(args: argparse.Namespace):
    """A client on ``--scheduler``, or on a local cluster of ``--workers`` processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask without distributed
        raise RunError(
            '--workers/--scheduler need distributed: pip install "kmeans_quant[dask]"'
        ) from None
    if args.scheduler:
        try:
            client = Client(args.scheduler)
        except (OSError, TimeoutError) as exc:
            raise RunError(f"cannot connect to scheduler {args.scheduler!r}: {exc}") from None
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_cli(
    args: argparse.Namespace,
    jobs: list[Job],
    *,
    k: int,
    palette8: NDArray | None,
    fit_kw: dict,
    map_kw: dict,
    palette_out: Path | None,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    """Run a checked ``kmeans-quant`` plan on a Dask cluster; return the exit status.

    Called by :mod:`kmeans_quant.cli` for ``--workers``/``--scheduler``
    once the plan and the files have been checked. Prints what the command
    prints; the progress bar is distributed's, on ``stderr`` when it is a
    terminal. Unlike the one-process command, one failing file fails the
    run, and no output is written. ``palette8`` is the ``--palette-in``
    palette the command has loaded, or None.
    """
    shared = bool(args.shared_palette) and palette8 is None
    with _cluster(args) as client:
        try:
            results = _quantize_jobs(
                jobs,
                k,
                shared=shared,
                palette8=palette8,
                seed=args.seed,
                fit_kw=fit_kw,
                map_kw=map_kw,
                force=args.force,
                client=client,
                progress=stderr,
            )
        except RunError:
            raise
        except Exception as exc:
            raise RunError(_failure(exc)) from None
    for _, line in results:
        print(line, file=stdout)
    if palette_out is not None:
        used = [u for u, _ in results]
        merged = used[0] if len(used) == 1 else merge_palettes(used)
        try:
            save_palette(merged, palette_out, force=args.force)
        except OSError as exc:
            raise RunError(f"cannot write {str(palette_out)!r}: {exc}") from None
        print(f"palette ({len(merged)} colours) -> {palette_out}", file=stdout)
    return 0
