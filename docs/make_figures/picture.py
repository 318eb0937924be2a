"""Section 1: the photo's distinct colours as points in the RGB cube."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import SEED_SCATTER, Settings, Summary, new_figure, save


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
