"""Section 5: the expanded distance formula beside the plain loops, and its round-off."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kmeans_quant import (
    squared_distances,
)

from .common import SEED_ROUNDOFF, Settings, Summary, new_figure, save


def fig_roundoff(s: Settings, out: Path, summ: Summary) -> None:
    """Error of ||x||^2 - 2x.c + ||c||^2 in float32 as the data leave the origin."""
    rng = np.random.default_rng(SEED_ROUNDOFF)
    base = rng.normal(size=(2000, 3))  # spread s = 1 per coordinate
    cen = base[rng.choice(base.shape[0], size=8, replace=False)]
    offsets = np.logspace(0, 4, s.n_offsets)
    err_far, err_centred, flips_far, flips_centred = [], [], [], []
    for o in offsets:
        X32 = (base + o).astype(np.float32)  # a cloud of spread 1 at distance ~o*sqrt(3)
        C32 = (cen + o).astype(np.float32)
        # Reference: the same float32 points, differences taken in float64.
        exact = np.square(
            X32.astype(np.float64)[:, None, :] - C32.astype(np.float64)[None, :, :]
        ).sum(axis=2)
        scale = np.median(exact)
        mean = X32.mean(axis=0, dtype=np.float64).astype(np.float32)
        for X_, C_, err, flips in (
            (X32, C32, err_far, flips_far),
            (X32 - mean, C32 - mean, err_centred, flips_centred),
        ):
            D = squared_distances(X_, C_).astype(np.float64)
            err.append(np.max(np.abs(D - exact)) / scale)
            flips.append(np.mean(D.argmin(axis=1) != exact.argmin(axis=1)))
    R = offsets * np.sqrt(3)
    eps = float(np.finfo(np.float32).eps)

    fig = new_figure(11, 4)
    ax1 = fig.add_subplot(1, 2, 1)
    ax1.loglog(R, err_far, "o-", ms=3, label="as given (far from the origin)")
    ax1.loglog(R, np.maximum(err_centred, 1e-12), "s-", ms=3, label="centred on the mean")
    ax1.loglog(R, eps * R**2 / scale, "k--", lw=1, label="float32 eps · R² / median d²")
    ax1.set_xlabel("distance R of the cloud from the origin (spread 1)")
    ax1.set_ylabel("max |error| / median d²")
    ax1.set_title("Expanded formula in float32: cancellation")
    ax1.grid(alpha=0.3, which="both")
    ax1.legend(fontsize=8)
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.semilogx(R, 100 * np.array(flips_far), "o-", ms=3, label="as given")
    ax2.semilogx(R, 100 * np.array(flips_centred), "s-", ms=3, label="centred")
    ax2.set_xlabel("distance R of the cloud from the origin (spread 1)")
    ax2.set_ylabel("% of points given the wrong nearest centre")
    ax2.set_title("When the error reaches the labels")
    ax2.grid(alpha=0.3, which="both")
    ax2.legend(fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.14, wspace=0.25)
    save(fig, out, "roundoff.png", s.dpi)

    summ.section("round-off (squared_distances in float32, 2000 points of spread 1, 8 centres)")
    for r, e1, e2, f1, f2 in zip(R, err_far, err_centred, flips_far, flips_centred, strict=True):
        summ.add(
            f"R={r:.3g}",
            f"rel. error {e1:.2e} as given, {e2:.2e} centred; "
            f"wrong labels {100 * f1:.1f}% as given, {100 * f2:.1f}% centred",
        )
