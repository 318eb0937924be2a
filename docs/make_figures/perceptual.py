"""Section 10: the importance map, and the palette it weighs (mode="perceptual")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.patches import Rectangle
from numpy.typing import NDArray

from kmeans_quant import quantize
from kmeans_quant.importance import importance_map

from .common import PanelGrid, Settings, Summary, block_mean_error, mse_psnr, save
from .dithering import smoothest_window


def weighted_mse(q: NDArray, img: NDArray, w: NDArray) -> float:
    """Mean squared RGB error per channel, each pixel weighted by ``w``."""
    err = ((q.astype(np.float64) - img) ** 2).mean(axis=-1)
    return float((err * w).sum() / w.sum())


def fig_importance(photo, s: Settings, out: Path, summ: Summary) -> None:
    """The importance map beside the MSE and perceptual palettes, on a smooth crop."""
    img = photo.image
    k = min(s.k_main, photo.colors.shape[0])
    w = importance_map(img)
    outs = {
        "mse": quantize(img, k),
        "perceptual": quantize(img, k, mode="perceptual"),
        "perceptual, dithered": quantize(img, k, mode="perceptual", dither="floyd-steinberg"),
    }
    size = min(s.crop, img.shape[0] // 8 * 8, img.shape[1] // 8 * 8)
    y0, x0 = smoothest_window(img, size)
    win = (slice(y0, y0 + size), slice(x0, x0 + size))

    side = size * s.zoom / s.dpi
    grid = PanelGrid(1, 5, side, side, swatch=False)
    ax = grid.photo(0, 0)
    ax.imshow(img[win], interpolation="nearest")
    ax.set_title(f"original, x {x0}-{x0 + size - 1}, y {y0}-{y0 + size - 1}", fontsize=9)
    ax.axis("off")
    ax = grid.photo(0, 1)
    ax.imshow(w, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.add_patch(Rectangle((x0, y0), size, size, fill=False, edgecolor="tab:red", linewidth=1))
    ax.set_title("importance of the whole photo", fontsize=9)
    ax.axis("off")
    for c, (name, q) in enumerate(outs.items(), start=2):
        ax = grid.photo(0, c)
        ax.imshow(q[win], interpolation="nearest")
        ax.set_title(
            f"{name}: {len(np.unique(q[win].reshape(-1, 3), axis=0))} colours here", fontsize=9
        )
        ax.axis("off")
    grid.suptitle(f"k = {k}: where the palette's colours go, zoomed {s.zoom}x")
    save(grid.fig, out, "perceptual.png", s.dpi)

    summ.section(f"the perceptual palette (quantize, k={k}, rng=0; importance_map)")
    summ.add("importance: mean", f"{w.mean():.3f}")
    summ.add("importance: share of pixels above 0.9", f"{(w > 0.9).mean():.3f}")
    summ.add("importance: share of pixels below 0.3", f"{(w < 0.3).mean():.3f}")
    summ.add("crop (smoothest window)", f"x {x0}-{x0 + size - 1}, y {y0}-{y0 + size - 1}")
    for name, q in outs.items():
        mse = mse_psnr(q, img)[0]
        summ.add(
            f"{name}: whole photo",
            f"MSE {mse:.2f}, importance-weighted MSE {weighted_mse(q, img, w):.2f}",
        )
        crop_mse = mse_psnr(q[win], img[win])[0]
        colours = len(np.unique(q[win].reshape(-1, 3), axis=0))
        summ.add(
            f"{name}: crop",
            f"MSE {crop_mse:.2f}, block-mean error {block_mean_error(q[win], img[win]):.2f}, "
            f"colours {colours}",
        )
