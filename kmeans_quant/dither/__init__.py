"""Dithering: mapping an image onto a fixed palette so local means match the original.

Two methods, each a kernel that takes the image's colour table (its
distinct colours, their counts and every pixel's colour index) and returns
each pixel's palette index:

* :func:`floyd_steinberg` — error diffusion among each colour's nearest
  palette colours (:mod:`._candidates`), processed by anti-diagonal
  wavefronts (:mod:`._error_diffusion`);
* :func:`ordered` — Knoll's pattern dithering with mixing plans on an 8x8
  Bayer matrix (:mod:`._ordered`); large palettes make their plans by grid
  look-ups (:func:`grid_mixing_plans`).

These are internal kernels: no validation beyond what the image API has
done (:func:`kmeans_quant.recolor` with ``dither=``). Their plain-loops
oracle is :func:`kmeans_quant.naive.floyd_steinberg`; the measure they are
judged by is :func:`kmeans_quant.metrics.block_mean_error`. The design and
its measurements are in ``docs/internals.md``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..engine._steps import label_points
from ._candidates import CANDIDATES, nearest_sets
from ._error_diffusion import CARRY, FS_WEIGHTS, floyd_steinberg
from ._ordered import (
    GRID_CELLS,
    GRID_MIN_COLORS,
    MAX_GOALS,
    MIN_GOALS,
    bayer_matrix,
    goal_budget,
    grid_mixing_plans,
    mixing_plans,
    ordered,
    plan_goals,
)

__all__ = [
    "dither_indices",
    "floyd_steinberg",
    "ordered",
    "nearest_sets",
    "CANDIDATES",
    "CARRY",
    "bayer_matrix",
    "mixing_plans",
    "grid_mixing_plans",
    "plan_goals",
    "goal_budget",
    "FS_WEIGHTS",
    "MAX_GOALS",
    "MIN_GOALS",
    "GRID_MIN_COLORS",
    "GRID_CELLS",
]


def dither_indices(
    method: str,
    *,
    colors: NDArray,
    counts: NDArray,
    inverse: NDArray,
    palette: NDArray,
    shape: tuple[int, int],
    strength: float = 1.0,
    level: NDArray | None = None,
) -> NDArray[np.intp]:
    r"""Palette index of every pixel, shape ``(H, W)``, by ``method``.

    ``method`` is ``"floyd-steinberg"`` or ``"ordered"``; the other
    arguments are those of :func:`floyd_steinberg` and :func:`ordered`.
    ``strength`` in [0, 1] scales the dithering: Floyd-Steinberg passes on
    that share of each error, and ordered dithering plans for
    :math:`p + s (g - p)` instead of each colour :math:`g`, with :math:`p`
    its nearest palette colour. ``level`` (H * W,), in ``colors``' dtype,
    is each pixel's dithering level for Floyd-Steinberg.
    """
    if method == "floyd-steinberg":
        return floyd_steinberg(colors, inverse, palette, shape, strength=strength, level=level)
    if strength != 1.0:
        nearest = palette[label_points(colors, palette.astype(colors.dtype))]
        colors = (nearest + strength * (colors - nearest)).astype(colors.dtype)
    return ordered(colors, counts, inverse, palette, shape)
