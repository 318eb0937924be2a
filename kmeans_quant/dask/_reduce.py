"""Counting on the workers, adding up in a tree: the reductions both halves share."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TextIO

import dask

from ..histogram import ColorHistogram, merge

#: Histograms merged by one reduction task.
FAN_IN = 8


def merge_any(histograms: list[ColorHistogram]) -> ColorHistogram:
    """Merge; grey histograms become RGB when RGB ones are among them.

    Spreading grey to RGB commutes with adding, so a tree of these merges
    equals making everything RGB first.
    """
    if len({h.channels for h in histograms}) > 1:
        histograms = [h.as_rgb() for h in histograms]
    return merge(histograms)


def tree_merge(parts: list, merge_parts: Callable[[list], Any] = merge_any) -> Any:
    """One delayed result from many, by merges of at most ``FAN_IN`` (of histograms
    by default; ``merge_parts`` merges a list of anything else that adds up)."""
    merge_task = dask.delayed(merge_parts, pure=True)
    while len(parts) > 1:
        parts = [merge_task(parts[i : i + FAN_IN]) for i in range(0, len(parts), FAN_IN)]
    return parts[0]


def compute(tasks: list, client: Any = None, progress: TextIO | None = None) -> list:
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
