"""Section 8: nearest colour, Floyd-Steinberg and ordered dithering on a smooth crop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kmeans_quant import (
    quantize,
)

from .common import PanelGrid, Settings, Summary, block_mean_error, mse_psnr, save

DITHERS = ("none", "floyd-steinberg", "ordered")


DITHER_NAMES = {
    "none": "nearest colour",
    "floyd-steinberg": "Floyd–Steinberg",
    "ordered": "ordered (8x8 Bayer)",
}


def smoothest_window(image: NDArray[np.uint8], size: int, step: int = 8) -> tuple[int, int]:
    """Top-left corner of the ``size`` x ``size`` window with the least fine detail.

    Detail is the mean absolute Laplacian (summed over channels); corners lie
    on a grid of ``step`` so the window's 8x8 blocks are the ones that
    :func:`block_mean_error` measures. The smoothest window of a photo is
    usually a soft gradient, where banding shows first.
    """
    x = image.astype(np.float64)
    lap = np.zeros(x.shape[:2])
    lap[1:-1, 1:-1] = np.abs(
        4 * x[1:-1, 1:-1] - x[:-2, 1:-1] - x[2:, 1:-1] - x[1:-1, :-2] - x[1:-1, 2:]
    ).sum(axis=-1)
    # Window sums from a summed-area table.
    sat = np.zeros((lap.shape[0] + 1, lap.shape[1] + 1))
    sat[1:, 1:] = lap.cumsum(axis=0).cumsum(axis=1)
    ys = np.arange(0, x.shape[0] - size + 1, step)
    xs = np.arange(0, x.shape[1] - size + 1, step)
    Y, X = np.meshgrid(ys, xs, indexing="ij")
    sums = sat[Y + size, X + size] - sat[Y, X + size] - sat[Y + size, X] + sat[Y, X]
    i, j = np.unravel_index(np.argmin(sums), sums.shape)  # first (top-left) on ties
    return int(ys[i]), int(xs[j])


def block_means(img: NDArray, block: int = 8) -> NDArray[np.float64]:
    """Each ``block`` x ``block`` tile replaced by its mean colour (sides: multiples of block)."""
    h, w, c = img.shape
    tiles = img.astype(np.float64).reshape(h // block, block, w // block, block, c)
    means = tiles.mean(axis=(1, 3))
    return np.repeat(np.repeat(means, block, axis=0), block, axis=1)


def fig_dither(photo, s: Settings, out: Path, summ: Summary) -> None:
    """Nearest colour, Floyd-Steinberg and ordered dithering on a zoomed crop."""
    img = photo.image
    k = min(s.k_dither, photo.colors.shape[0])
    # Dither the whole photo (error diffusion depends on every earlier
    # pixel), measure it whole, and show a crop.
    outs = {d: quantize(img, k, dither=d) for d in DITHERS}
    whole = {d: (mse_psnr(q, img)[0], block_mean_error(q, img)) for d, q in outs.items()}
    size = min(s.crop, img.shape[0] // 8 * 8, img.shape[1] // 8 * 8)
    y0, x0 = smoothest_window(img, size)
    win = (slice(y0, y0 + size), slice(x0, x0 + size))
    crops = {"original": img[win], **{d: q[win] for d, q in outs.items()}}
    local = {
        d: (mse_psnr(q[win], img[win])[0], block_mean_error(q[win], img[win]))
        for d, q in outs.items()
    }

    side = size * s.zoom / s.dpi  # whole screen pixels per image pixel
    grid = PanelGrid(2, 4, side, side, swatch=False)
    for c, (name, crop) in enumerate(crops.items()):
        if name == "original":
            top = f"original, x {x0}-{x0 + size - 1}, y {y0}-{y0 + size - 1}"
            bottom = "its 8x8 block means"
        else:
            mse, bme = whole[name]
            top = f"{DITHER_NAMES[name]}: pixel MSE {mse:.1f}"
            bottom = f"8x8 means: block-mean error {bme:.1f}"
        for r, (shown, title) in enumerate(((crop, top), (block_means(crop), bottom))):
            ax = grid.photo(r, c)
            ax.imshow(np.clip(np.rint(shown), 0, 255).astype(np.uint8), interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    grid.suptitle(f"Dithering with k = {k} colours, zoomed {s.zoom}x (errors over the whole photo)")
    save(grid.fig, out, "dither.png", s.dpi)

    summ.section(f"dithering (quantize, k={k}, rng=0; block-mean error over 8x8 blocks)")
    summ.add("crop (smoothest window)", f"x {x0}-{x0 + size - 1}, y {y0}-{y0 + size - 1}")
    h, w = img.shape[:2]
    summ.add(
        "Floyd-Steinberg wavefronts x + 2y = const, W + 2(H - 1)",
        f"{w + 2 * (h - 1)} for {h * w} pixels",
    )
    base_mse, base_bme = whole["none"]
    for d in DITHERS:
        mse, bme = whole[d]
        # A photo with at most k colours is left as it is: nothing to compare.
        vs = (
            f" ({100 * (bme / base_bme - 1):+.0f}% block-mean error, "
            f"{mse / base_mse:.1f}x pixel MSE of nearest colour)"
            if d != "none" and base_bme > 0 and base_mse > 0
            else ""
        )
        summ.add(f"{d}: whole photo", f"pixel MSE {mse:.2f}, block-mean error {bme:.2f}{vs}")
        summ.add(f"{d}: crop", f"pixel MSE {local[d][0]:.2f}, block-mean error {local[d][1]:.2f}")
