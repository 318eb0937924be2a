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
    has at most ``kmeans_quant.dither._ordered.MIN_GOALS`` (2**14) distinct colours;
    above that the in-memory dither may pool colours on a grid fitted to
    the whole image (``kmeans_quant.dither._ordered.goal_budget``), and a block
    pools its own colours instead (see ``kmeans_quant.dither._ordered.plan_goals``).
    Floyd-Steinberg carries each pixel's error to the next row and column,
    so a block depends on every block before it: it is refused.
    Chunks along the channel axis are refused (rechunk with
    ``x.rechunk({2: -1})``). uint8, uint16 and float images (values in
    [0, 1]) are taken, as in memory; a float image has no
    :class:`~kmeans_quant.histogram.ColorHistogram` (its colours have no
    exact integer code), so :func:`extract_palette` merges the blocks'
    colour tables instead, with the same result.

Files and faults
    :func:`quantize_files` and the command line's ``--workers`` and
    ``--scheduler`` run the command's own per-file job
    (:mod:`kmeans_quant.job`) on the workers, so the files are those of a
    one-process run, byte for byte. Every output is written first into a
    fresh hidden folder next to it (``.kmeans-quant-*``) and moved to its
    name with :func:`os.replace` on the client once every task has
    answered. A file that fails is that file's error, as in one process
    (:func:`quantize_files` then writes nothing). A worker that dies is
    distributed's business: its tasks are run again on the other workers,
    up to ``distributed.scheduler.allowed-failures`` times (3 by default),
    and a run that still fails, or is stopped by a signal, leaves no output
    and no folder behind: one line says so. The output folder must be
    visible at the same path to the workers and to the client (a local or
    shared file system); standard input travels to the worker as bytes.
"""

from __future__ import annotations

try:
    import dask  # noqa: F401
    import dask.array  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        'kmeans_quant.dask needs the optional dependencies: pip install "kmeans_quant[dask]"'
    ) from exc

from ._arrays import extract_palette, histogram, recolor
from ._files import connect, fit_shared, local_cluster, quantize_files, run_jobs

__all__ = [
    "histogram",
    "extract_palette",
    "recolor",
    "quantize_files",
    "local_cluster",
    "connect",
    "fit_shared",
    "run_jobs",
]
