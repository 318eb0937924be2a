"""Section 6: choosing k: the photo, its error and its palette for several k."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kmeans_quant import (
    extract_palette,
    quantize,
)

from .common import Settings, Summary, cap_ks, draw_swatch, mse_psnr, new_figure, save


def fig_palettes(photo, s: Settings, out: Path, summ: Summary) -> None:
    """Palette swatches of extract_palette for a few k, widths by pixel share."""
    ks = cap_ks(s.palette_ks, photo.colors.shape[0])
    fig = new_figure(9, 0.7 * len(ks) + 0.8)
    summ.section("palettes (extract_palette, rng=0)")
    for i, k in enumerate(ks):
        pal = extract_palette(photo.image, k)
        ax = fig.add_subplot(len(ks), 1, i + 1)
        draw_swatch(ax, pal.colors, pal.proportions)
        ax.set_ylabel(f"k = {k}", rotation=0, ha="right", va="center")
        top = pal.colors[0]
        summ.add(f"k={k} colours", len(pal))
        summ.add(
            f"k={k} largest colour",
            f"{tuple(int(v) for v in top)} covering {100 * pal.proportions[0]:.1f}% of the pixels",
        )
    fig.subplots_adjust(
        left=0.1, right=0.98, top=1 - 0.45 / fig.get_figheight(), bottom=0.05, hspace=0.35
    )
    fig.suptitle("Palettes: block widths are the share of pixels of each colour")
    save(fig, out, "palettes.png", s.dpi)


def fig_k_sweep(photo, s: Settings, out: Path, summ: Summary) -> None:
    """The photo quantized with several k; MSE and PSNR in the titles."""
    ks = cap_ks(s.sweep_ks, photo.colors.shape[0])
    ncols = 3
    nrows = -(-len(ks) // ncols)
    h, w = photo.image.shape[:2]
    fig = new_figure(12, nrows * (4 * h / w + 0.55))
    summ.section("k sweep (quantize, rng=0)")
    for p, k in enumerate(ks):
        q = quantize(photo.image, k)
        mse, psnr = mse_psnr(q, photo.image)
        ax = fig.add_subplot(nrows, ncols, p + 1)
        ax.imshow(q, interpolation="nearest")  # keeps the k colours exactly
        ax.set_title(f"k = {k}:  MSE {mse:.1f},  PSNR {psnr:.1f} dB")
        ax.axis("off")
        summ.add(f"k={k}", f"MSE {mse:.2f}, PSNR {psnr:.2f} dB")
    fig.subplots_adjust(
        left=0.01,
        right=0.99,
        top=1 - 0.4 / fig.get_figheight(),
        bottom=0.01,
        wspace=0.03,
        hspace=0.12,
    )
    save(fig, out, "k_sweep.png", s.dpi, indexed=True)


def fig_k_curve(photo, s: Settings, out: Path, summ: Summary) -> None:
    """MSE and PSNR against k: the elbow picture for choosing k."""
    ks = np.array(cap_ks(s.curve_ks, photo.colors.shape[0]))
    res = [mse_psnr(quantize(photo.image, int(k)), photo.image) for k in ks]
    mse = np.array([r[0] for r in res])
    psnr = np.array([r[1] for r in res])
    fig = new_figure(11, 4)
    ax1 = fig.add_subplot(1, 2, 1)
    ax1.plot(ks, mse, "o-")
    ax1.set_xlabel("k (number of colours)")
    ax1.set_ylabel("MSE per channel")
    ax1.set_title("Error against k: steep at first, then flat")
    ax1.grid(alpha=0.3)
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.semilogx(ks, psnr, "o-", color="C2", base=2)
    ax2.set_xticks(ks)
    ax2.set_xticklabels([str(k) for k in ks])
    ax2.minorticks_off()
    ax2.set_xlabel("k (log scale)")
    ax2.set_ylabel("PSNR (dB)")
    ax2.set_title("PSNR against log k: about linear")
    ax2.grid(alpha=0.3)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.14, wspace=0.25)
    save(fig, out, "k_curve.png", s.dpi)
    summ.section("k curve (quantize, rng=0)")
    for k, m_, p_ in zip(ks, mse, psnr, strict=True):
        summ.add(f"k={k}", f"MSE {m_:.2f}, PSNR {p_:.2f} dB")
    if len(ks) > 2:
        # dB gained per doubling of k, fitted over k >= 4 where it is steady.
        sel = ks >= 4
        if sel.sum() >= 2:
            slope = np.polyfit(np.log2(ks[sel]), psnr[sel], 1)[0]
            summ.add("PSNR gained per doubling of k (fit over k >= 4)", f"{slope:.2f} dB")
