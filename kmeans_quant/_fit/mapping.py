"""A palette mapping: which entry every colour takes, entries ranked by pixels.

Every palette the image API returns is in one order, most pixels first
(ties: the lower index in the sorted, distinct palette), with the entries
no colour maps to left out; :func:`kmeans_quant.palette.by_count` applies
the same rule to a palette that comes with its counts.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["Mapping", "rank_by_count"]


class Mapping(NamedTuple):
    """A palette (most frequent first), each colour's index into it, the counts."""

    palette: NDArray  # (m, c), image dtype
    labels: NDArray[np.intp]  # per distinct colour
    counts: NDArray[np.int64]  # per palette entry


def rank_by_count(canon: NDArray, labels: NDArray[np.intp], weights: NDArray) -> Mapping:
    """Drop the entries of ``canon`` no colour maps to and rank the others by pixels.

    ``labels`` is each distinct colour's index into ``canon`` and
    ``weights`` its pixel count; an entry is kept when at least one colour
    maps to it, even if only invisible pixels (weight 0) have it.
    """
    m = canon.shape[0]
    used = np.bincount(labels, minlength=m) > 0
    totals = np.rint(np.bincount(labels, weights=weights, minlength=m)).astype(np.int64)
    order = np.argsort(-totals, kind="stable")
    order = order[used[order]]
    rank = np.empty(m, dtype=np.intp)
    rank[order] = np.arange(order.size)
    return Mapping(canon[order], rank[labels], totals[order])
