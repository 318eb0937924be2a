"""Several runs of the engine from k-means++ starts drawn together: all kept, or raced.

The palette fit (:mod:`kmeans_quant._fit.palette_fit`) runs K-Means from
several starts because its optima are local. Every start is drawn up
front, in one batch (:func:`kmeans_quant.engine._seeding.plusplus_starts`),
so the runs are the same whatever order they are stepped in; each run is
the engine's own loop (:func:`kmeans_quant.engine._lloyd.fit_records`).
"""

from __future__ import annotations

from dataclasses import replace
from itertools import islice

import numpy as np
from numpy.typing import NDArray

from ._lloyd import FitSettings, centred, fit_records, fit_weighted_centers
from ._seeding import plusplus_starts

__all__ = ["fit_starts", "fit_best_of"]


def _each_start(
    X: NDArray,
    w: NDArray,
    s: FitSettings,
    starts: int,
    seed_on: tuple[NDArray, NDArray] | None = None,
) -> list[FitSettings]:
    """Settings of ``starts`` runs; k-means++ starts are seeded together, up front.

    With ``seed_on`` (points, weights) the k-means++ starts are drawn from
    those points instead of ``X`` (a coarser pooling of the same colours).
    """
    if not (isinstance(s.init, str) and s.init == "k-means++"):
        return [s] * starts
    if seed_on is None:
        if starts == 1:
            return [s]
        seed_on = (X, w)
    Xc, mean = centred(*seed_on)
    seeds = plusplus_starts(Xc, seed_on[1], k=s.k, rng=s.rng, starts=starts) + mean
    return [replace(s, init=seed) for seed in seeds]


def fit_starts(X: NDArray, w: NDArray, s: FitSettings, *, starts: int) -> list[NDArray]:
    """Final centres of ``starts`` runs of :func:`fit_weighted_centers`, seeded together.

    k-means++ starts are drawn in one batch
    (:func:`kmeans_quant.engine._seeding.plusplus_starts`), then each runs to
    the end. On clean input, no validation.
    """
    return [fit_weighted_centers(X, w, one) for one in _each_start(X, w, s, starts=starts)]


def fit_best_of(
    X: NDArray,
    w: NDArray,
    s: FitSettings,
    *,
    starts: int,
    probe: int,
    finalists: int,
    seed_on: tuple[NDArray, NDArray] | None = None,
) -> NDArray:
    """Final centres of the lowest-inertia run among ``starts`` runs, raced.

    Successive halving: every run takes ``probe`` iterations, then the half
    with the lowest inertia (rounded up, at least ``finalists``; ties to
    the earlier run) goes on for twice as many more, and so on until
    ``finalists`` runs are left. Those run to the end and the one of lowest
    final inertia wins. k-means++ starts are seeded together, up front, so
    the result is deterministic for a given ``s.rng``; with ``seed_on``
    (points, weights, e.g. a coarser pooling of ``X``) they are drawn from
    those points. On clean input, no validation.
    """
    runs = [fit_records(X, w, one) for one in _each_start(X, w, s, starts=starts, seed_on=seed_on)]
    last = [next(run) for run in runs]
    steps = probe
    while len(runs) > finalists:
        for i, run in enumerate(runs):
            for item in islice(run, steps):
                last[i] = item
        ranked = np.argsort([inertia() for _, inertia in last], kind="stable")
        keep = np.sort(ranked[: max(finalists, (len(runs) + 1) // 2)])
        runs, last = [runs[i] for i in keep], [last[i] for i in keep]
        steps *= 2
    for i, run in enumerate(runs):
        for item in run:
            last[i] = item
    return min(last, key=lambda item: item[1]())[0].centers
