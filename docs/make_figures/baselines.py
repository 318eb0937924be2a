"""Section 7: uniform grid and median cut against K-Means."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kmeans_quant import (
    extract_palette,
    kmeans_steps,
    quantize,
)

from .common import (
    Errors,
    PanelGrid,
    Reference,
    Settings,
    Summary,
    cap_ks,
    save,
    show_quantized,
    updates,
    used_colours,
)

METHODS = ("uniform", "median-cut", "kmeans")


METHOD_NAMES = {"uniform": "uniform grid", "median-cut": "median cut", "kmeans": "K-Means"}


def fig_baselines(photo, ref: Reference, s: Settings, out: Path, summ: Summary) -> None:
    """Uniform grid, median cut and K-Means: the photo at k_main, errors for several k."""
    n_colors = photo.colors.shape[0]
    ks = cap_ks(s.baseline_ks, n_colors)
    k_fig = s.k_main
    results: dict[tuple[int, str], tuple[NDArray, Errors]] = {}
    for k in sorted(set(ks) | {k_fig}):
        for method in METHODS:
            q = quantize(photo.image, k, method=method)
            results[k, method] = q, ref.errors(q)

    h, w = photo.image.shape[:2]
    pw = 3.9
    grid = PanelGrid(2, 2, pw, pw * h / w)
    ax = grid.photo(0, 0)
    ax.imshow(photo.image)
    ax.set_title(f"original: {n_colors} colours", fontsize=10)
    ax.axis("off")
    for p, method in enumerate(METHODS, start=1):
        q, e = results[k_fig, method]
        r, c = divmod(p, 2)
        show_quantized(
            grid,
            r,
            c,
            q,
            f"{METHOD_NAMES[method]}: {len(used_colours(q)[0])} "
            f"colours, MSE {e.mse:.1f}, mean ΔE76 {e.delta_e:.1f}",
        )
    grid.suptitle(f"Three ways to choose k = {k_fig} colours (swatch widths: share of pixels)")
    save(grid.fig, out, "baselines.png", s.dpi, indexed=True)

    summ.section("baselines (quantize with method=..., rng=0; dE76 = mean CIE 1976 difference)")
    for k in ks:
        for method in METHODS:
            q, e = results[k, method]
            summ.add(
                f"k={k} {method}",
                f"colours {len(used_colours(q)[0])}, MSE {e.mse:.2f}, "
                f"PSNR {e.psnr:.2f} dB, dE76 {e.delta_e:.2f}",
            )

    # Median cut's boxes are never revisited; Lloyd's iterations started from
    # its palette show how far from a K-Means optimum that leaves it.
    pal = extract_palette(photo.image, k_fig, method="median-cut")
    steps = list(
        kmeans_steps(
            photo.colors, len(pal), sample_weight=photo.counts, init=pal.colors.astype(np.float64)
        )
    )
    summ.add(
        f"k={k_fig} Lloyd from the median-cut palette",
        f"MSE {photo.mse(steps[0].inertia):.2f} at the start, "
        f"{photo.mse(steps[1].inertia):.2f} after 1 update, "
        f"{photo.mse(steps[-1].inertia):.2f} after {updates(steps[-1].iteration)}"
        if len(steps) > 1
        else "nothing to iterate",
    )
