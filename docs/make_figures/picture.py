"""The landing page's picture, and section 1: the photo's colours as points in the RGB cube."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kmeans_quant import quantize

from .common import (
    SEED_SCATTER,
    PanelGrid,
    Settings,
    Summary,
    cap_ks,
    mse_psnr,
    new_figure,
    save,
    show_quantized,
)


def fig_landing(photo, s: Settings, out: Path, summ: Summary) -> None:
    """What colour quantization does: the photo, then with k_main and 4 colours."""
    ks = sorted(set(cap_ks((s.k_main, 4), photo.colors.shape[0])), reverse=True)
    h, w = photo.image.shape[:2]
    pw = 2.8  # three panels fit a 900-pixel text column at 100 dpi
    grid = PanelGrid(1, 1 + len(ks), pw, pw * h / w)
    ax = grid.photo(0, 0)
    ax.imshow(photo.image)
    ax.set_title(f"the photo: {photo.colors.shape[0]} colours", fontsize=10)
    ax.axis("off")
    summ.section("landing (quantize, rng=0)")
    for c, k in enumerate(ks, start=1):
        q = quantize(photo.image, k)
        mse, psnr = mse_psnr(q, photo.image)
        show_quantized(grid, 0, c, q, f"k = {k} colours: PSNR {psnr:.1f} dB")
        summ.add(f"k={k}", f"MSE {mse:.2f}, PSNR {psnr:.2f} dB")
    grid.suptitle("Colour quantization: every pixel takes the nearest of k palette colours")
    save(grid.fig, out, "landing.png", s.dpi, indexed=True)


def fig_rgb_space(photo, steps, s: Settings, out: Path, summ: Summary) -> None:
    """Distinct colours as points in the RGB cube, before and after clustering."""
    rng = np.random.default_rng(SEED_SCATTER)
    m = photo.colors.shape[0]
    idx = rng.choice(m, size=min(s.n_scatter, m), replace=False)
    pts = photo.colors[idx].astype(float)
    last = steps[-1]
    centers = last.centers
    centre_rgb = np.clip(centers / 255, 0, 1)
    fig = new_figure(12, 5.6)
    for p, title in enumerate(
        (
            "distinct colours, in their own colour",
            f"coloured by their cluster's centre (k = {s.k_main})",
        )
    ):
        ax = fig.add_subplot(1, 2, p + 1, projection="3d")
        face = pts / 255 if p == 0 else centre_rgb[last.labels[idx]]
        ax.scatter(pts[:, 0], pts[:, 1], pts[:, 2], c=face, s=4, depthshade=False, linewidths=0)
        if p == 1:
            ax.scatter(
                centers[:, 0],
                centers[:, 1],
                centers[:, 2],
                c=centre_rgb,
                s=140,
                marker="o",
                edgecolors="black",
                linewidths=1.2,
                depthshade=False,
            )
        ax.set_xlabel("R")
        ax.set_ylabel("G")
        ax.set_zlabel("B")
        for setter in (ax.set_xlim, ax.set_ylim, ax.set_zlim):
            setter(0, 255)
        ax.view_init(elev=20, azim=-60)
        ax.set_title(title)
    fig.suptitle(
        f"Pixels are points in RGB space: {len(idx)} of the photo's "
        f"{m} distinct colours (centres: large dots)"
    )
    fig.subplots_adjust(left=0.0, right=0.97, top=0.9, bottom=0.03, wspace=0.05)
    save(fig, out, "rgb_space.png", s.dpi)
    summ.section("rgb_space")
    summ.add("distinct colours", m)
    summ.add("pixels", photo.n_pixels)
    summ.add("colours drawn in the scatter", len(idx))
