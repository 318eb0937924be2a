r"""Quantize images larger than memory, and collections of files, on Dask.

Needs the optional extra: ``pip install "kmeans_quant[dask]"`` (dask[array]
and distributed). ``import kmeans_quant`` never imports this module.

The design rests on one identity: colour histograms merge by addition
(:mod:`kmeans_quant.histogram`), and K-Means over pixels is K-Means over
distinct colours weighted by their counts. So

1. every block (or file) is counted where it lives, on the workers;
2. the block histograms are merged by a tree of additions, eight at a time,
   so no task receives more than eight histograms;
3. the palette is fitted once, on the client, on the merged histogram,
   whose size is bounded by the number of distinct colours;
4. pixels are recoloured block by block (or file by file), on the workers.

The palette is the one the in-memory :func:`kmeans_quant.extract_palette`
gives for the same pixels, bit for bit, whatever the chunking.

What is exact blockwise, and what is refused
    Nearest-colour mapping works per colour, so it is exact in any block.
    Ordered dithering picks entry :math:`B[y \bmod 8, x \bmod 8]` of a
    colour's mixing plan; a block is padded on its top and left by
    replicating its edge pixels up to the previous multiple of 8 (this adds
    no colour, so no plan changes), dithered in memory, and cropped, so the
    Bayer phase continues across blocks. This is exact as long as the image
    has at most 65,536 distinct colours; above that the in-memory dither
    pools colours on a grid fitted to the whole image, and a block pools
    its own colours instead (see :func:`kmeans_quant.dither._plan_goals`).
    Floyd-Steinberg carries each pixel's error to the next row and column,
    so a block depends on every block before it: it is refused.
    Chunks along the channel axis are refused (rechunk with
    ``x.rechunk({2: -1})``), as are dtypes other than uint8 and uint16
    (float colours have no exact integer code; see
    :mod:`kmeans_quant.histogram`).

Files and faults
    :func:`quantize_files` writes every output first into a fresh hidden
    folder next to it (``.kmeans-quant-*``) and moves them to their names
    with :func:`os.replace` only when every file has succeeded; on any
    failure, a worker dying included, the folder is removed and no output
    is left behind. The output folder must be visible at the same path to
    the workers and to the client (a local or shared file system).
"""

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

import numpy as np
from numpy.typing import ArrayLike, NDArray

try:
    import dask
    import dask.array as da
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        'kmeans_quant.dask needs the optional dependencies: pip install "kmeans_quant[dask]"'
    ) from exc

from . import recolor as _recolor_in_memory
from ._dtypes import to_uint8

# The command line's own per-file step runs on the workers, which is what
# makes the files identical to a one-process run.
from .cli import Job, RunError, merge_palettes, process_job
from .histogram import ColorHistogram, merge
from .image import fit_palette
from .io import read_image
from .palette import Palette
from .palette_io import save_palette

__all__ = ["histogram", "extract_palette", "recolor", "quantize_files"]

# Histograms merged by one reduction task.
_FAN_IN = 8
# Side of the Bayer matrix of kmeans_quant.dither._ordered (its default size).
_BAYER = 8
_DITHERS = ("none", "ordered")
_STAGE_PREFIX = ".kmeans-quant-"


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------


def _check_array(x: Any, name: str = "x") -> da.Array:
    if not isinstance(x, da.Array):
        raise TypeError(f"{name} must be a dask.array.Array, got {type(x).__name__}")
    if not (x.ndim == 2 or (x.ndim == 3 and x.shape[2] in (3, 4))):
        raise ValueError(f"expected {name} of shape (H, W), (H, W, 3) or (H, W, 4), got {x.shape}")
    if x.dtype not in (np.uint8, np.uint16):
        hint = ""
        if x.dtype.kind == "f":
            hint = (
                "; float colours have no exact integer code: convert with "
                "(x * 255).round().astype(np.uint8)"
            )
        raise TypeError(f"{name} dtype must be uint8 or uint16, got {x.dtype}{hint}")
    if x.size == 0:
        raise ValueError(f"{name} is empty, got shape {x.shape}")
    if x.ndim == 3 and len(x.chunks[2]) > 1:
        raise ValueError(
            f"{name} is chunked along the channel axis (chunks {x.chunks[2]}); a block must "
            f"hold whole pixels: use {name}.rechunk({{2: -1}})"
        )
    return x


# --------------------------------------------------------------------------
# histograms: count blocks on the workers, merge in a tree
# --------------------------------------------------------------------------


def _block_histogram(block: NDArray, transparent: str) -> ColorHistogram:
    return ColorHistogram.from_image(block, transparent=transparent)


def _merge_any(histograms: list[ColorHistogram]) -> ColorHistogram:
    """Merge; grey histograms become RGB when RGB ones are among them.

    Spreading grey to RGB commutes with adding, so a tree of these merges
    equals making everything RGB first.
    """
    if len({h.channels for h in histograms}) > 1:
        histograms = [h.as_rgb() for h in histograms]
    return merge(histograms)


def _tree_merge(parts: list) -> Any:
    """One delayed histogram from many, by merges of at most ``_FAN_IN``."""
    merge_task = dask.delayed(_merge_any, pure=True)
    while len(parts) > 1:
        parts = [merge_task(parts[i : i + _FAN_IN]) for i in range(0, len(parts), _FAN_IN)]
    return parts[0]


def _compute(tasks: list, client: Any = None, progress: TextIO | None = None) -> list:
    """Compute delayed ``tasks`` on ``client`` (else Dask's current scheduler).

    With ``progress`` a terminal, distributed's progress bar is drawn there.
    """
    if client is None:
        return list(dask.compute(*tasks))
    futures = client.compute(list(tasks))
    try:
        if progress is not None and getattr(progress, "isatty", lambda: False)():
            from distributed import progress as progress_bar

            with contextlib.redirect_stdout(progress):
                progress_bar(futures, multi=False)
                progress.write("\n")
        return client.gather(futures)
    except BaseException:
        client.cancel(futures)  # tasks not started yet never run
        raise


def histogram(x: da.Array) -> ColorHistogram:
    r"""The colour histogram of a Dask image, counted block by block.

    Each block is counted on a worker and the histograms are added up in a
    tree of fan-in 8; the result equals
    ``ColorHistogram.from_image(x.compute())``.

    Parameters
    ----------
    x : dask.array.Array, shape (H, W), (H, W, 3) or (H, W, 4), uint8 or uint16
        Any chunking in rows and columns; one chunk along channels.

    Returns
    -------
    ColorHistogram

    Raises
    ------
    TypeError
        ``x`` not a Dask array, or not uint8/uint16.
    ValueError
        Wrong shape, empty, or chunked along the channel axis.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from kmeans_quant.dask import histogram
    >>> x = da.from_array(np.array([[1, 2], [2, 2]], dtype=np.uint8), chunks=1)
    >>> histogram(x).counts
    array([1, 3])
    """
    x = _check_array(x)
    return _histogram(x)


def _histogram(x: da.Array) -> ColorHistogram:
    blocks = x.to_delayed().ravel().tolist()
    count = dask.delayed(_block_histogram, pure=True)
    # Whether any pixel is visible is a property of the whole image, so
    # blocks skip transparent pixels and the rare image with no visible
    # pixel at all is counted a second time, every pixel included.
    (hist,) = dask.compute(_tree_merge([count(b, "skip") for b in blocks]))
    if hist.n_pixels == 0:
        (hist,) = dask.compute(_tree_merge([count(b, "count") for b in blocks]))
    return hist


def extract_palette(
    x: da.Array,
    k: int,
    *,
    rng: Any = 0,
    method: str = "kmeans",
    space: str = "rgb",
    max_iter: int = 300,
    tol: float = 1e-4,
) -> Palette:
    r"""The ``k``-colour palette of a Dask image, equal to the in-memory one.

    Counts colours per block on the workers, merges the histograms in a
    tree, and fits once on the client (:func:`kmeans_quant.fit_palette`).
    The result equals ``kmeans_quant.extract_palette(x.compute(), k, ...)``
    bit for bit: same colours, counts and order.

    Parameters
    ----------
    x : dask.array.Array, shape (H, W), (H, W, 3) or (H, W, 4), uint8 or uint16
        Any chunking in rows and columns; one chunk along channels. Fully
        transparent pixels are left out as in the in-memory function.
    k : int
        Maximum number of colours, at least 1.
    rng, method, space, max_iter, tol
        As in :func:`kmeans_quant.extract_palette`.

    Returns
    -------
    Palette

    Raises
    ------
    TypeError, ValueError
        As for :func:`histogram`, and bad fit options.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import kmeans_quant
    >>> from kmeans_quant.dask import extract_palette
    >>> img = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    >>> pal = extract_palette(da.from_array(img, chunks=(25, 30, 3)), 4)
    >>> ref = kmeans_quant.extract_palette(img, 4)
    >>> bool((pal.colors == ref.colors).all() and (pal.counts == ref.counts).all())
    True
    """
    x = _check_array(x)
    # Check the options before any work is sent out.
    fit_palette(
        ColorHistogram(np.zeros(1, np.uint32), np.ones(1, np.int64), np.dtype(np.uint8), 1),
        k,
        rng=rng,
        method=method,
        space=space,
        max_iter=max_iter,
        tol=tol,
    )
    return fit_palette(
        _histogram(x), k, rng=rng, method=method, space=space, max_iter=max_iter, tol=tol
    )


# --------------------------------------------------------------------------
# recolouring block by block
# --------------------------------------------------------------------------


def _recolor_block(
    block: NDArray, palette: NDArray, dither: str, space: str, block_info: dict | None = None
) -> NDArray:
    if dither != "ordered":
        return _recolor_in_memory(block, palette, space=space)
    # Pad top and left to the previous multiple of the Bayer size with copies
    # of the edge pixels: no new colour, and the tile starts in phase.
    if block_info is None:
        raise ValueError("ordered dithering of a block needs its location (block_info)")
    (y0, _), (x0, _) = block_info[0]["array-location"][:2]
    py, px = y0 % _BAYER, x0 % _BAYER
    pad = ((py, 0), (px, 0)) + ((0, 0),) * (block.ndim - 2)
    padded = np.pad(block, pad, mode="edge") if py or px else block
    out = _recolor_in_memory(padded, palette, dither="ordered", space=space)
    return out[py:, px:]


def recolor(
    x: da.Array,
    palette: Palette | ArrayLike,
    *,
    dither: str = "none",
    space: str = "rgb",
) -> da.Array:
    r"""Map every pixel of a Dask image onto ``palette``, block by block.

    Lazy: returns a Dask array of the same shape, dtype and chunks, equal
    to ``kmeans_quant.recolor(x.compute(), palette, ...)``.

    Parameters
    ----------
    x : dask.array.Array, shape (H, W), (H, W, 3) or (H, W, 4), uint8 or uint16
        Any chunking in rows and columns; one chunk along channels.
    palette : Palette or array_like, shape (m, c)
        As in :func:`kmeans_quant.recolor`.
    dither : {'none', 'ordered'}, default 'none'
        Nearest colour, or ordered dithering with the Bayer phase continued
        across blocks (exact for images of at most 65,536 distinct colours;
        see the module notes). Floyd-Steinberg is refused.
    space : {'rgb', 'oklab'}, default 'rgb'

    Returns
    -------
    dask.array.Array

    Raises
    ------
    TypeError, ValueError
        As for :func:`histogram`; a bad palette or ``space``;
        ``dither='floyd-steinberg'`` or an unknown ``dither``.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from kmeans_quant.dask import recolor
    >>> x = da.from_array(np.array([[10, 200], [90, 250]], dtype=np.uint8), chunks=1)
    >>> recolor(x, [[0], [255]]).compute()
    array([[  0, 255],
           [  0, 255]], dtype=uint8)
    """
    x = _check_array(x)
    if dither == "floyd-steinberg":
        raise ValueError(
            "dither='floyd-steinberg' cannot run block by block: each pixel's error "
            "spreads into the next rows and columns, across block boundaries; use "
            "dither='ordered' (exact blockwise) or 'none', or quantize in memory"
        )
    if not isinstance(dither, str) or dither not in _DITHERS:
        raise ValueError(f"dither must be one of 'none', 'ordered', got {dither!r}")
    # The in-memory function checks palette and space on one pixel of this
    # kind, and gives the palette in the image's dtype.
    probe = np.zeros((1, 1) + x.shape[2:], dtype=x.dtype)
    colors = palette.colors if isinstance(palette, Palette) else palette
    _recolor_in_memory(probe, colors, space=space)
    colors = np.asarray(colors)
    return x.map_blocks(
        _recolor_block,
        dtype=x.dtype,
        palette=colors,
        dither=dither,
        space=space,
        meta=np.empty((0,) * x.ndim, dtype=x.dtype),
    )


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
        (hist,) = _compute([_tree_merge([count(j.source) for j in jobs])], client)
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
        results = _compute(tasks, client, progress)
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
