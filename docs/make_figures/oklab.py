"""Section 9: the palette fitted in RGB and in Oklab."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kmeans_quant import (
    quantize,
)
from kmeans_quant.colorspace import lab_to_srgb, srgb_to_lab, srgb_to_oklab

from .common import (
    SEED_SCATTER,
    PanelGrid,
    Reference,
    Settings,
    Summary,
    save,
    show_quantized,
    used_colours,
)


def draw_palette_plane(
    ax, palettes: dict[str, tuple[NDArray, NDArray]], background: NDArray
) -> None:
    """Palette colours in the (chroma C*, lightness L*) plane of CIELAB."""
    lab = srgb_to_lab(background / 255.0)
    ax.scatter(
        np.hypot(lab[:, 1], lab[:, 2]),
        lab[:, 0],
        s=2,
        c="0.8",
        linewidths=0,
        label="photo's colours",
    )
    for (label, (colors, shares)), marker in zip(palettes.items(), ("o", "s"), strict=True):
        lab = srgb_to_lab(colors / 255.0)
        ax.scatter(
            np.hypot(lab[:, 1], lab[:, 2]),
            lab[:, 0],
            s=20 + 900 * shares,
            c=colors / 255.0,
            marker=marker,
            edgecolors="k",
            linewidths=0.8,
            label=label,
            alpha=0.9,
        )
    ax.set_xlabel("chroma C* (CIELAB)", fontsize=9)
    ax.set_ylabel("lightness L*", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    legend = ax.legend(fontsize=8, loc="lower right", markerscale=0.6)
    for handle in legend.legend_handles[1:]:
        handle.set_facecolor("0.6")


def fig_oklab(photo, ref: Reference, s: Settings, out: Path, summ: Summary) -> None:
    """The same k fitted in RGB and in Oklab: pictures, palettes and ΔE76 maps."""
    k = s.k_main
    fits = {space: quantize(photo.image, k, space=space) for space in ("rgb", "oklab")}
    errs = {space: ref.errors(q) for space, q in fits.items()}
    titles = {"rgb": "fitted in RGB", "oklab": 'fitted in Oklab (space="oklab")'}

    h, w = photo.image.shape[:2]
    pw = 3.6
    grid = PanelGrid(2, 3, pw, pw * h / w, right=0.75)
    ax = grid.photo(0, 0)
    ax.imshow(photo.image)
    ax.set_title(f"original: {photo.colors.shape[0]} colours", fontsize=10)
    ax.axis("off")
    vmax = float(np.percentile(np.concatenate([e.delta_e_map.ravel() for e in errs.values()]), 99))
    for c, space in enumerate(("rgb", "oklab"), start=1):
        e = errs[space]
        show_quantized(
            grid, 0, c, fits[space], f"{titles[space]}: MSE {e.mse:.1f}, ΔE76 {e.delta_e:.2f}"
        )
        ax = grid.photo(1, c)
        im = ax.imshow(e.delta_e_map, cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(
            f"ΔE76 per pixel, {space.upper() if space == 'rgb' else 'Oklab'} fit: "
            f"|ΔL*| {e.lightness:.2f}, Δa*b* {e.chroma_hue:.2f}",
            fontsize=9,
        )
        ax.axis("off")
    x, y = grid.origin(1, 2)
    cbar = grid.fig.colorbar(im, cax=grid.fig.add_axes(grid.box(x + pw + 0.1, y, 0.12, grid.ph)))
    cbar.ax.tick_params(labelsize=8)
    cbar.set_label("ΔE76", fontsize=9)
    x, y = grid.origin(1, 0)
    # Leave room inside the panel for the axis labels and ticks.
    ax = grid.fig.add_axes(grid.box(x + 0.55, y, pw - 0.6, grid.ph - 0.35))
    rng = np.random.default_rng(SEED_SCATTER)
    m = photo.colors.shape[0]
    sample = photo.colors[rng.choice(m, size=min(s.n_scatter, m), replace=False)]
    draw_palette_plane(
        ax, {f"{titles[sp].split(' (')[0]}": used_colours(fits[sp]) for sp in fits}, sample
    )
    ax.set_title(f"the two palettes (k = {k}); marker area: share of pixels", fontsize=9)
    grid.suptitle(f"K-Means in RGB and in Oklab, k = {k}")
    save(grid.fig, out, "oklab.png", s.dpi, indexed=True)

    summ.section(f"colour space of the fit (quantize, k={k}, rng=0)")
    for space in ("rgb", "oklab"):
        e = errs[space]
        summ.add(
            space,
            f"MSE {e.mse:.2f}, PSNR {e.psnr:.2f} dB, dE76 {e.delta_e:.2f}, "
            f"Oklab difference {e.oklab:.4f}, |dL*| {e.lightness:.2f}, "
            f"da*b* {e.chroma_hue:.2f}",
        )
    for space in ("rgb", "oklab"):
        lab = srgb_to_lab(used_colours(fits[space])[0] / 255.0)
        summ.add(f"{space} palette L*", ", ".join(f"{v:.0f}" for v in np.sort(lab[:, 0])))
    # How Oklab weighs the CIELAB axes: the Oklab length of a one-unit step
    # along L*, a* and b*, from each distinct colour of the photo.
    lab = srgb_to_lab(photo.colors / 255.0)
    ok = srgb_to_oklab(photo.colors / 255.0)
    steps = [
        np.median(np.linalg.norm(srgb_to_oklab(lab_to_srgb(lab + step)) - ok, axis=-1))
        for step in np.eye(3)
    ]
    summ.add(
        "Oklab length of a unit CIELAB step (median over the colours)",
        ", ".join(f"{axis} {v:.4f}" for axis, v in zip(("L*", "a*", "b*"), steps, strict=True)),
    )
