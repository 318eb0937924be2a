"""Collections of files on a Dask cluster: the command line's per-file job on workers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import dask
import numpy as np

from .._fit.pipeline import resolve_mode
from .._validation import DITHERS, METHODS, MODES, SPACES, check_choice, check_k, check_rng
from ..job import (
    Counted,
    Job,
    JobOptions,
    Outcome,
    RunError,
    count_colours,
    describe_error,
    fit_counted,
    in_layout,
    merge_counted,
    run_job,
    shared_layout,
)
from ..job import shared_palette as job_shared_palette
from ..palette import Palette
from ._reduce import compute, tree_merge

__all__ = ["quantize_files", "local_cluster", "connect", "run_jobs", "fit_shared"]

_STAGE_PREFIX = ".kmeans-quant-"
#: Seconds the command line waits for a scheduler to answer.
CONNECT_TIMEOUT = 3.0


# --------------------------------------------------------------------------
# clusters
# --------------------------------------------------------------------------


@contextlib.contextmanager
def local_cluster(n_workers: int, **cluster_options: Any) -> Iterator[Any]:
    """A client on a new local cluster of ``n_workers`` one-thread processes.

    The set-up the command line's ``--workers`` and the scale-out benchmark
    use: processes (so the NumPy work runs in parallel), one thread each,
    no dashboard, logs below ERROR silenced. The cluster is closed on exit.

    Parameters
    ----------
    n_workers : int
        Worker processes, at least 1.
    **cluster_options
        Passed on to ``distributed.LocalCluster`` (they override the above).

    Yields
    ------
    distributed.Client

    Examples
    --------
    >>> from kmeans_quant.dask import local_cluster
    >>> with local_cluster(1) as client:  # doctest: +SKIP
    ...     print(len(client.scheduler_info()["workers"]))
    1
    """
    from distributed import Client, LocalCluster

    options: dict[str, Any] = {
        "n_workers": check_k(n_workers, "n_workers"),
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": None,
        # Its HTTP server (health, metrics) on a free port: none is fought over.
        "scheduler_kwargs": {"dashboard_address": ":0"},
        "silence_logs": logging.ERROR,
    }
    options.update(cluster_options)
    with LocalCluster(**options) as cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def connect(
    *, workers: int | None = None, scheduler: str | None = None, timeout: float = CONNECT_TIMEOUT
) -> Iterator[Any]:
    """A client on the scheduler at ``scheduler``, or on a local cluster of ``workers``.

    An address that is not one, a port where nothing listens, or a
    scheduler that does not answer within ``timeout`` seconds is a
    :class:`~kmeans_quant.job.RunError` naming it (one line).
    """
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask without distributed
        raise RunError(
            '--workers/--scheduler need distributed: pip install "kmeans_quant[dask]"'
        ) from None
    if scheduler is None:
        # The command says in one line what went wrong; the workers, which
        # share its terminal, say nothing (a stopped run makes them complain).
        with local_cluster(
            check_k(workers, "workers"), silence_logs=logging.CRITICAL + 1
        ) as client:
            yield client
        return
    try:
        _reachable(scheduler, timeout)
        client = Client(scheduler, timeout=timeout)
    except Exception as exc:  # distributed raises many types for a bad address
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(f"cannot connect to scheduler {scheduler!r}: {reason}") from None
    with client:
        yield client


def _reachable(address: str, timeout: float) -> None:
    """Raise unless a scheduler at ``address`` answers within ``timeout`` seconds.

    At once when nothing listens at a TCP address (distributed would retry
    until its time-out); and distributed waits for a scheduler's greeting
    with no time-out at all, so the greeting is awaited here, under one.
    """
    from distributed.comm import connect as comm_connect
    from distributed.comm import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme == "tcp":
        host, port = parse_host_port(location)
        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except ConnectionRefusedError:
            raise OSError(f"nothing listens at {host}:{port} (connection refused)") from None
        except TimeoutError:
            raise OSError(f"no answer from {host}:{port} within {timeout:g} s") from None

    async def greet() -> None:
        comm = await asyncio.wait_for(comm_connect(address, timeout=timeout), timeout)
        await comm.close()

    # In a thread of its own: the caller may be running an event loop already.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(asyncio.run, greet()).result()
        except (asyncio.TimeoutError, TimeoutError):
            raise OSError(f"no answer from {address} within {timeout:g} s") from None


def _current_client(client: Any) -> Any:
    """``client``, else the default distributed client if there is one, else None."""
    if client is not None:
        return client
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


# --------------------------------------------------------------------------
# the jobs on the workers
# --------------------------------------------------------------------------


def _count(job: Job, weigh: bool) -> Counted | RunError:
    """A file's colour counts (and importance, with ``weigh``), or the error
    reading it met (as a value, so no task fails and no worker logs a traceback)."""
    try:
        return count_colours(job, weigh)
    except RunError as exc:
        return exc
    except (OSError, ValueError, TypeError) as exc:
        return RunError(describe_error(exc))


def _kind(counted: Counted | RunError) -> Any:
    return counted if isinstance(counted, RunError) else counted.kind


def fit_shared(jobs: Sequence[Job], options: JobOptions, client: Any = None) -> Palette:
    """The palette of ``--shared-palette``, counted on the workers and fitted once.

    Each input is read and counted on a worker (all frames of an
    animation); the inputs' kinds (dtype, channels, transparency) decide the
    shared layout (:func:`kmeans_quant.job.shared_layout`); the counts,
    converted to it where they are, are added up in a tree of fan-in 8; the
    fit runs once, here. The palette is that of the one-process command,
    bit for bit. Raises :class:`~kmeans_quant.job.RunError` for an
    unreadable input.
    """
    client = _current_client(client)
    if client is None:
        return job_shared_palette(jobs, options)
    try:
        return _fit_shared(jobs, options, client)
    except RunError:
        raise
    except Exception as exc:  # the cluster let us down, not a file
        raise RunError(_failure(exc)) from None


def _fit_shared(jobs: Sequence[Job], options: JobOptions, client: Any) -> Palette:
    count = dask.delayed(_count, pure=True)
    futures = client.compute([count(j, options.weighs) for j in jobs])
    try:
        kinds = client.gather(client.map(_kind, futures, pure=False))
        for k in kinds:
            if isinstance(k, RunError):
                raise k
        layout = shared_layout(kinds, options)
        convert = dask.delayed(in_layout, pure=True)
        merged = tree_merge([convert(f, layout) for f in futures], merge_counted)
        (counted,) = compute([merged], client)
    finally:
        client.cancel(futures)
    return fit_counted(counted, layout, options)


def run_jobs(
    jobs: Sequence[Job],
    options: JobOptions,
    *,
    palette: Palette | None = None,
    client: Any = None,
    progress: TextIO | None = None,
    all_or_nothing: bool = False,
) -> list[Outcome]:
    """Run :func:`kmeans_quant.job.run_job` for every job on the cluster (``client``,
    else Dask's current scheduler).

    Each file is written first into a fresh hidden folder next to its
    output (``.kmeans-quant-*``), so a task that a dying worker leaves
    half done, or that runs again, never touches the output; when every
    task has answered, the written files are moved to their names with
    :func:`os.replace`, here. A file that fails (unreadable, skipped,
    quality missed) is that file's outcome, as in one process; with
    ``all_or_nothing`` one failure keeps every output from being moved. If
    the run itself fails (a worker that dies more often than distributed
    allows, a lost scheduler, a signal), the folders are removed and
    nothing is written.

    Returns the outcomes in the order of ``jobs``; raises
    :class:`~kmeans_quant.job.RunError` (one line) when the run failed.
    """
    client = _current_client(client)
    stages: dict[Path, Path] = {}
    try:
        staged = []
        for job in jobs:
            if job.to_stdout:
                staged.append(job)
                continue
            parent = job.output.parent
            if parent not in stages:
                stages[parent] = Path(tempfile.mkdtemp(prefix=_STAGE_PREFIX, dir=parent))
            staged.append(Job(job.source, job.output, job.stdin, stages[parent] / job.output.name))
        task = dask.delayed(run_job, pure=True)
        try:
            outcomes: list[Outcome] = compute(
                [task(j, options, palette) for j in staged], client, progress
            )
        except Exception as exc:  # the cluster let us down, not a file
            raise RunError(_failure(exc)) from None
        if all_or_nothing and any(o.error is not None for o in outcomes):
            return outcomes
        return [_move(job, o, options.force) for job, o in zip(staged, outcomes, strict=True)]
    finally:
        for stage in stages.values():
            _remove(stage)


def _move(job: Job, outcome: Outcome, force: bool) -> Outcome:
    """Move a job's staged file to its output; an output that appeared meanwhile
    without ``force`` is the job's error."""
    if outcome.error is not None or job.stage_to is None:
        return outcome
    if job.output.exists() and not force:
        error = RunError(
            f"{str(job.output)!r} appeared while quantizing; use --force to overwrite it"
        )
        return Outcome(None, error, outcome.notes)
    try:
        os.replace(job.stage_to, job.output)
    except OSError as exc:
        error = RunError(f"cannot write {str(job.output)!r}: {exc.strerror or exc}")
        return Outcome(None, error, outcome.notes)
    return outcome


def _remove(stage: Path, attempts: int = 20) -> None:
    """Remove a staging folder, also if a task still running writes into it."""
    for _ in range(attempts):
        shutil.rmtree(stage, ignore_errors=True)
        if not stage.exists():
            return
        time.sleep(0.1)


def _failure(exc: BaseException) -> str:
    """One line for a run that failed on the cluster."""
    name = type(exc).__name__
    if name in ("KilledWorker", "CommClosedError", "FutureCancelledError"):
        return f"a worker died during the run ({name}: {exc}); no output files were written"
    return f"{name}: {exc}; no output files were written"


# --------------------------------------------------------------------------
# the library's entry point
# --------------------------------------------------------------------------


def quantize_files(
    paths: Sequence[str | os.PathLike],
    k: int,
    out_dir: str | os.PathLike,
    *,
    shared_palette: bool = True,
    client: Any = None,
    rng: Any = 0,
    mode: str = "perceptual",
    method: str = "kmeans",
    space: str | None = None,
    dither: str | None = None,
    force: bool = False,
) -> list[Path]:
    r"""Quantize image files on a cluster, as ``kmeans-quant --out-dir`` does.

    Writes ``out_dir/STEM_kK.png`` for every input, byte for byte the file
    ``kmeans-quant PATHS... -k K [--shared-palette] --out-dir OUT_DIR``
    writes: the command's own per-file job (:mod:`kmeans_quant.job`) runs
    on the workers. With ``shared_palette`` the workers read and count
    every file, the counts are added up in a tree, the palette is fitted
    once on the client (:func:`fit_shared`), and the workers read each
    file again to map and write it. Without it every file is quantized on
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
    rng : int or numpy.random.Generator, default 0
        Seed, as ``--seed``; a Generator gives one seed for the run.
    mode, method, space, dither : str
        As the command's options, with its defaults (``space=None``: the
        mode's; ``dither=None``: Floyd-Steinberg except where alpha is
        fitted); Floyd-Steinberg is fine here, every file being recoloured
        whole.
    force : bool, default False
        Replace existing outputs.

    Returns
    -------
    list of pathlib.Path
        The written files, in the order of ``paths``.

    Raises
    ------
    TypeError
        ``k`` or ``rng`` of the wrong type (a float ``k`` included).
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
    k = check_k(k)
    seed = rng if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
    gen = check_rng(rng)  # the shared checks: type and sign
    if seed is None:
        seed = int(gen.integers(2**32))
    options = JobOptions(
        k=k,
        seed=int(seed),
        mode=check_choice(mode, "mode", MODES),
        method=check_choice(method, "method", METHODS),
        space=None if space is None else check_choice(space, "space", SPACES),
        dither=None if dither is None else check_choice(dither, "dither", DITHERS),
        force=bool(force),
        report=False,
    )
    resolve_mode(options.mode, options.space, None)  # a space the mode does not take
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
    try:
        palette = fit_shared(jobs, options, client) if shared_palette else None
        outcomes = run_jobs(jobs, options, palette=palette, client=client, all_or_nothing=True)
    except RunError as exc:
        message = str(exc)
        if not message.endswith("no output files were written"):
            message += "; no output files were written"
        raise RuntimeError(message) from exc
    errors = [o.error for o in outcomes if o.error is not None]
    if errors:
        raise RuntimeError(f"{errors[0]}; no output files were written")
    return [j.output for j in jobs]
