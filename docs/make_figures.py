"""Regenerate every figure of ``docs/tutorial.md``, and the numbers it quotes.

Usage (from the repository root)::

    python docs/make_figures.py                  # full run, into docs/figures
    python docs/make_figures.py --quick --out /tmp/figs --image my.png

The script only calls the library's public API: :func:`kmeans_steps` for the
iteration-by-iteration pictures (the very loop :func:`kmeans` runs), the
step functions for the 2-D walkthrough, and :func:`kmeans_plusplus`,
:func:`kmeans`, :func:`quantize` (with its ``method=``, ``dither=`` and
``space=`` options) and :func:`extract_palette` elsewhere; errors in CIELAB
and Oklab come from :mod:`kmeans_quant.colorspace`. The one private name it
uses is ``kmeans_quant.metrics.block_mean_error``, the measure dithering is
judged by, so the tutorial quotes the same figure as the library's tests.
Every random choice comes from a fixed seed, so a rerun redraws the same
figures and rewrites the same ``summary.txt``; the tutorial quotes that file.

Pixels are points in RGB space. For the photo figures the image is reduced
to its distinct colours weighted by their pixel counts (the same K-Means
objective, see the tutorial), clustered, and painted back by label.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import NDArray

# The figures document the library next to this script, so that copy comes
# first: `python docs/make_figures.py` puts docs/, not the repository root, on
# sys.path, and an older installed kmeans_quant would otherwise be drawn.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kmeans_quant import (
    assign_labels,
    extract_palette,
    kmeans,
    kmeans_plusplus,
    kmeans_steps,
    quantize,
    squared_distances,
    update_centers,
)
from kmeans_quant.colorspace import delta_e_76, lab_to_srgb, srgb_to_lab, srgb_to_oklab
from kmeans_quant.metrics import block_mean_error  # the measure dithering is judged by

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_IMAGE = ROOT / "kmeans_quant" / "data" / "chelsea.png"
DEFAULT_OUT = Path(__file__).resolve().parent / "figures"

#: Every file a run writes into ``--out``.
FIGURES = (
    "iterations.png",
    "palettes.png",
    "rgb_space.png",
    "convergence.png",
    "k_sweep.png",
    "k_curve.png",
    "init_compare.png",
    "seeding_2d.png",
    "walkthrough_2d.png",
    "roundoff.png",
    "baselines.png",
    "dither.png",
    "oklab.png",
)
SUMMARY = "summary.txt"

# One colour per cluster in the 2-D figures (matplotlib's tab10, colour-blind safer
# than a rainbow and distinct up to ten clusters).
_TAB10 = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)


@dataclass(frozen=True)
class Settings:
    """What a run computes; ``--quick`` shrinks everything but keeps every figure."""

    k_main: int  # k of the iteration, RGB-space and convergence figures
    shown_iterations: tuple[int, ...]  # besides the last one
    palette_ks: tuple[int, ...]
    sweep_ks: tuple[int, ...]  # the grid of quantized photos
    curve_ks: tuple[int, ...]  # the k-vs-MSE curve
    n_seeds: int  # seeds per initialisation on the photo
    n_blob_seeds: int  # seeds per initialisation on the eight blobs
    n_scatter: int  # distinct colours drawn in the 3-D scatter
    blob_size: int  # points per Gaussian blob in the 2-D figures
    n_offsets: int  # offsets in the round-off figure
    grid: int  # resolution of the Voronoi cells drawn behind 2-D points
    baseline_ks: tuple[int, ...]  # the baselines' table (the figure uses k_main)
    k_dither: int
    crop: int  # side of the square crop in the dithering figure, in pixels
    zoom: int  # screen pixels per image pixel in that crop
    dpi: int


FULL = Settings(
    k_main=16,
    shown_iterations=(0, 1, 2, 5),
    palette_ks=(4, 8, 16, 32),
    sweep_ks=(2, 4, 8, 16, 32, 64),
    curve_ks=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64),
    n_seeds=10,
    n_blob_seeds=50,
    n_scatter=4000,
    blob_size=60,
    n_offsets=25,
    grid=400,
    baseline_ks=(8, 16, 64),
    k_dither=8,
    crop=72,
    zoom=4,
    dpi=100,
)
QUICK = Settings(
    k_main=4,
    shown_iterations=(0, 1),
    palette_ks=(2, 4),
    sweep_ks=(2, 4),
    curve_ks=(1, 2, 4),
    n_seeds=2,
    n_blob_seeds=3,
    n_scatter=300,
    blob_size=15,
    n_offsets=4,
    grid=60,
    baseline_ks=(2, 4),
    k_dither=4,
    crop=16,
    zoom=4,
    dpi=40,
)

# Seeds: one per random thing the script draws, written down so reruns agree.
SEED_FIT = 0  # k-means++ start of the photo's k_main fit
SEED_SCATTER = 1  # which distinct colours the 3-D scatter shows
SEED_BLOBS = 7  # the 2-D point clouds
SEED_ROUNDOFF = 3  # the round-off experiment's points


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Photo:
    """An RGB photo as weighted points: its distinct colours and their counts."""

    image: NDArray[np.uint8]  # (H, W, 3)
    colors: NDArray[np.uint8]  # (m, 3) distinct colours
    counts: NDArray[np.int64]  # (m,) pixels of each
    inverse: NDArray[np.intp]  # (H * W,) colour index of every pixel

    @property
    def n_pixels(self) -> int:
        return int(self.counts.sum())

    def paint(self, centers: NDArray, labels: NDArray) -> NDArray[np.uint8]:
        """The photo with every pixel replaced by its cluster's (rounded) centre."""
        palette = np.clip(np.rint(centers), 0, 255).astype(np.uint8)
        return palette[labels][self.inverse].reshape(self.image.shape)

    def shares(self, labels: NDArray, k: int) -> NDArray[np.float64]:
        """Fraction of the pixels in each of the ``k`` clusters."""
        return np.bincount(labels, weights=self.counts, minlength=k) / self.n_pixels

    def mse(self, inertia: float) -> float:
        """Per-channel mean squared error of a fit with this weighted inertia."""
        return inertia / (3 * self.n_pixels)


def load_photo(path: Path) -> Photo:
    """Read an 8-bit RGB(A) picture of at least 8x8 pixels; alpha is dropped."""
    image = np.asarray(iio.imread(path))
    # At least one 8x8 block: the dithering figure measures block means.
    if (image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4)
            or min(image.shape[:2]) < 8):
        raise ValueError(
            f"--image must be an 8-bit RGB or RGBA picture of at least 8x8 pixels, got "
            f"dtype {image.dtype} and shape {image.shape} from {path}"
        )
    image = np.ascontiguousarray(image[..., :3])
    colors, inverse, counts = np.unique(
        image.reshape(-1, 3), axis=0, return_inverse=True, return_counts=True
    )
    return Photo(image, colors, counts.astype(np.int64), inverse.reshape(-1))


def mse_psnr(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> tuple[float, float]:
    """Per-channel MSE and PSNR (dB, peak 255) between two uint8 images."""
    mse = float(np.mean(np.square(a.astype(np.float64) - b.astype(np.float64))))
    psnr = float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
    return mse, psnr


def draw_swatch(ax, colors: NDArray, shares: NDArray) -> None:
    """A strip of colour blocks whose widths are the pixel shares, largest first."""
    order = np.argsort(-shares, kind="stable")
    left = 0.0
    for j in order:
        if shares[j] <= 0:
            continue
        rgb = np.clip(np.asarray(colors[j], dtype=float) / 255, 0, 1)
        ax.add_patch(Rectangle((left, 0), shares[j], 1, facecolor=rgb, edgecolor="none"))
        left += shares[j]
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xticks([])
    ax.set_yticks([])


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)  # render with Agg, without touching pyplot's global state
    return fig


def save(fig: Figure, out: Path, name: str, dpi: int, *, indexed: bool = False) -> None:
    """Write ``fig`` as PNG; ``indexed`` stores it with a 256-colour palette.

    Figures full of photographs are several times smaller as indexed PNGs.
    Their palette comes from :func:`quantize` itself: the quantized panels
    hold only a few dozen colours between them, and the remaining entries go
    to the original photo, the text and the swatches.
    """
    if not indexed:
        # No "Software" stamp: another matplotlib version writes the same bytes
        # when the drawing is the same.
        fig.savefig(out / name, dpi=dpi, metadata={"Software": None})
        return
    from PIL import Image  # ships with imageio

    fig.set_dpi(dpi)
    canvas = fig.canvas
    canvas.draw()
    rgb = np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., :3])
    small = quantize(rgb, 256)  # unchanged if it already has <= 256 colours
    palette, index = np.unique(small.reshape(-1, 3), axis=0, return_inverse=True)
    img = Image.fromarray(index.reshape(rgb.shape[:2]).astype(np.uint8), mode="P")
    img.putpalette(palette.ravel().tolist())
    img.save(out / name, format="PNG", optimize=True)


def updates(n: int) -> str:
    return f"{n} update" if n == 1 else f"{n} updates"


def cap_ks(ks: Sequence[int], n_colors: int) -> tuple[int, ...]:
    """Drop values of k that exceed the number of distinct colours."""
    return tuple(k for k in ks if k <= n_colors)


class Summary:
    """Numbers for the tutorial, collected as ``key: value`` lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def section(self, title: str) -> None:
        self.lines += ["", f"[{title}]"]

    def add(self, key: str, value) -> None:
        self.lines.append(f"{key}: {value}")

    def text(self) -> str:
        return "\n".join(self.lines).strip() + "\n"


# --------------------------------------------------------------------------
# photo figures
# --------------------------------------------------------------------------

def fit_steps(photo: Photo, k: int):
    """Every record of the k-means++ fit of the photo's weighted colours."""
    return list(
        kmeans_steps(photo.colors, k, sample_weight=photo.counts, rng=SEED_FIT)
    )


def fig_iterations(photo, steps, s: Settings, out: Path, summ: Summary) -> None:
    """The photo after a few iterations and at convergence, with palettes."""
    k = s.k_main
    last = steps[-1]
    chosen = [st for st in steps if st.iteration in s.shown_iterations and st is not last]
    panels = [None] + chosen + [last]  # None stands for the original
    ncols = 3
    nrows = -(-len(panels) // ncols)
    h, w = photo.image.shape[:2]
    # Laid out by hand, in inches, so each swatch sits right under its photo.
    pw, gap_x, margin = 3.9, 0.12, 0.1
    ph = pw * h / w
    title_h, sw_gap, sw_h, row_gap, head = 0.5, 0.05, 0.24, 0.12, 0.45
    row_h = title_h + ph + sw_gap + sw_h + row_gap
    W = 2 * margin + ncols * pw + (ncols - 1) * gap_x
    H = head + nrows * row_h
    fig = new_figure(W, H)

    def box(x, y, bw, bh):  # inches from the top-left corner -> figure fraction
        return [x / W, 1 - (y + bh) / H, bw / W, bh / H]

    summ.section(f"iterations (photo, k={k}, kmeans_steps, k-means++ start rng={SEED_FIT})")
    for p, st in enumerate(panels):
        r, c = divmod(p, ncols)
        x = margin + c * (pw + gap_x)
        y = head + r * row_h + title_h
        ax = fig.add_axes(box(x, y, pw, ph))
        if st is None:
            ax.imshow(photo.image)
            ax.set_title(f"original: {photo.colors.shape[0]} colours")
        else:
            # Nearest-neighbour resampling keeps the k colours (and the file small).
            ax.imshow(photo.paint(st.centers, st.labels), interpolation="nearest")
            if st is last:
                verb = "converged" if st.converged else "stopped"
                head_txt = f"{verb} after {updates(st.iteration)}"
            else:
                head_txt = f"iteration {st.iteration}"
            if st.iteration == 0:
                head_txt += " (k-means++ start)"
            ax.set_title(f"{head_txt}: MSE {photo.mse(st.inertia):.1f}")
            sw = fig.add_axes(box(x, y + ph + sw_gap, pw, sw_h))
            draw_swatch(sw, st.centers, photo.shares(st.labels, k))
        ax.axis("off")
    fig.suptitle(f"K-Means with k = {k}: the photo painted with each iteration's centres "
                 "(swatch widths: share of pixels)", y=1 - 0.2 / H)
    save(fig, out, "iterations.png", s.dpi, indexed=True)
    for st in panels[1:]:
        summ.add(f"iteration {st.iteration} MSE", f"{photo.mse(st.inertia):.2f}")


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
        summ.add(f"k={k} largest colour", f"{tuple(int(v) for v in top)} "
                 f"covering {100 * pal.proportions[0]:.1f}% of the pixels")
    fig.subplots_adjust(left=0.1, right=0.98, top=1 - 0.45 / fig.get_figheight(),
                        bottom=0.05, hspace=0.35)
    fig.suptitle("Palettes: block widths are the share of pixels of each colour")
    save(fig, out, "palettes.png", s.dpi)


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
    for p, title in enumerate(("distinct colours, in their own colour",
                               f"coloured by their cluster's centre (k = {s.k_main})")):
        ax = fig.add_subplot(1, 2, p + 1, projection="3d")
        face = pts / 255 if p == 0 else centre_rgb[last.labels[idx]]
        ax.scatter(pts[:, 0], pts[:, 1], pts[:, 2], c=face, s=4, depthshade=False,
                   linewidths=0)
        if p == 1:
            ax.scatter(centers[:, 0], centers[:, 1], centers[:, 2], c=centre_rgb, s=140,
                       marker="o", edgecolors="black", linewidths=1.2, depthshade=False)
        ax.set_xlabel("R")
        ax.set_ylabel("G")
        ax.set_zlabel("B")
        for setter in (ax.set_xlim, ax.set_ylim, ax.set_zlim):
            setter(0, 255)
        ax.view_init(elev=20, azim=-60)
        ax.set_title(title)
    fig.suptitle(f"Pixels are points in RGB space: {len(idx)} of the photo's "
                 f"{m} distinct colours (centres: large dots)")
    fig.subplots_adjust(left=0.0, right=0.97, top=0.9, bottom=0.03, wspace=0.05)
    save(fig, out, "rgb_space.png", s.dpi)
    summ.section("rgb_space")
    summ.add("distinct colours", m)
    summ.add("pixels", photo.n_pixels)
    summ.add("colours drawn in the scatter", len(idx))


def fig_convergence(photo, steps, s: Settings, out: Path, summ: Summary,
                    tol: float = 1e-4) -> None:
    """Inertia and centre shift per iteration, with the stopping threshold."""
    it = np.array([st.iteration for st in steps])
    mse = np.array([photo.mse(st.inertia) for st in steps])
    shift = np.array([st.shift for st in steps])
    # The engine's threshold: tol times the mean over channels of the
    # pixel-weighted variance of the colours (the variance of all pixels).
    w = photo.counts.astype(np.float64)
    X = photo.colors.astype(np.float64)
    mean = w @ X / w.sum()
    var = w @ np.square(X - mean) / w.sum()
    threshold = tol * float(var.mean())
    last = steps[-1]

    fig = new_figure(11, 4)
    ax1 = fig.add_subplot(1, 2, 1)
    ax1.plot(it, mse, "o-", ms=3)
    ax1.set_xlabel("iteration")
    ax1.set_ylabel("MSE per channel  (inertia / 3N)")
    ax1.set_title("The objective never rises")
    ax1.grid(alpha=0.3)
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.plot(it[1:], shift[1:], "o-", ms=3, color="C1", label="centre shift Δ")
    if np.any(shift[1:] > 0):  # a fit that never moved has nothing to show on a log axis
        ax2.set_yscale("log")
    ax2.axhline(threshold, color="k", ls="--", lw=1,
                label=f"tol · mean variance = {threshold:.3g}")
    ax2.set_xlabel("iteration")
    ax2.set_ylabel(r"$\Delta_t = \sum_j \Vert c_j^{(t)} - c_j^{(t-1)} \Vert^2$")
    ax2.set_title("Total squared centre shift per update")
    ax2.grid(alpha=0.3, which="both")
    ax2.legend()
    fig.suptitle(f"Convergence of the k = {s.k_main} fit (tol = {tol:g})")
    fig.subplots_adjust(left=0.08, right=0.98, top=0.85, bottom=0.13, wspace=0.25)
    save(fig, out, "convergence.png", s.dpi)

    rises = int(np.sum(np.diff(mse) > 1e-9 * mse[0]))
    why = ("shift <= threshold" if last.shift <= threshold else "labels unchanged")
    summ.section("convergence (same fit)")
    summ.add("updates until stop", last.iteration)
    summ.add("converged", last.converged)
    summ.add("stopping reason", why)
    summ.add("mean per-channel variance of the pixels", f"{var.mean():.2f}")
    summ.add("threshold tol * variance", f"{threshold:.4f}")
    summ.add("first shift", f"{shift[1]:.2f}" if len(shift) > 1 else "n/a")
    summ.add("last shift", f"{last.shift:.4f}")
    summ.add("MSE start -> end", f"{mse[0]:.2f} -> {mse[-1]:.2f}")
    summ.add("iterations where the objective rose", rises)


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
    fig.subplots_adjust(left=0.01, right=0.99, top=1 - 0.4 / fig.get_figheight(),
                        bottom=0.01, wspace=0.03, hspace=0.12)
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


# --------------------------------------------------------------------------
# baselines, dithering and a perceptual colour space
# --------------------------------------------------------------------------

METHODS = ("uniform", "median-cut", "kmeans")
METHOD_NAMES = {"uniform": "uniform grid", "median-cut": "median cut", "kmeans": "K-Means"}
DITHERS = ("none", "floyd-steinberg", "ordered")
DITHER_NAMES = {"none": "nearest colour", "floyd-steinberg": "Floyd–Steinberg",
                "ordered": "ordered (8x8 Bayer)"}


@dataclass(frozen=True)
class Errors:
    """How far a quantized photo is from the original, in three spaces."""

    mse: float  # per channel, 0-255 RGB
    psnr: float  # dB
    delta_e: float  # mean CIE 1976 difference (Euclidean in CIELAB)
    oklab: float  # mean Euclidean difference in Oklab
    lightness: float  # mean |ΔL*|
    chroma_hue: float  # mean sqrt(Δa*² + Δb*²): the rest of ΔE76
    delta_e_map: NDArray[np.float64]  # (H, W)


@dataclass(frozen=True)
class Reference:
    """The original photo in CIELAB and Oklab, converted once."""

    image: NDArray[np.uint8]
    lab: NDArray[np.float64]  # (H, W, 3)
    oklab: NDArray[np.float64]

    @classmethod
    def of(cls, image: NDArray[np.uint8]) -> Reference:
        rgb = image / 255.0
        return cls(image, srgb_to_lab(rgb), srgb_to_oklab(rgb))

    def errors(self, q: NDArray[np.uint8]) -> Errors:
        mse, psnr = mse_psnr(q, self.image)
        rgb = q / 255.0
        lab = srgb_to_lab(rgb)
        de = delta_e_76(lab, self.lab)
        d_lab = lab - self.lab
        d_ok = np.linalg.norm(srgb_to_oklab(rgb) - self.oklab, axis=-1)
        return Errors(mse, psnr, float(de.mean()), float(d_ok.mean()),
                      float(np.abs(d_lab[..., 0]).mean()),
                      float(np.hypot(d_lab[..., 1], d_lab[..., 2]).mean()), de)


def used_colours(q: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """The distinct colours of an RGB image and the share of pixels of each."""
    # One integer per colour: a 1-D unique is far faster than unique(axis=0).
    px = q.reshape(-1, 3).astype(np.int64)
    codes, counts = np.unique((px[:, 0] << 16) | (px[:, 1] << 8) | px[:, 2],
                              return_counts=True)
    colors = np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], axis=1)
    return colors.astype(np.uint8), counts / counts.sum()


class PanelGrid:
    """Equal photo panels laid out by hand, in inches, each with room for a
    title above and a palette swatch right under it."""

    def __init__(self, nrows: int, ncols: int, pw: float, ph: float, *,
                 swatch: bool = True, right: float = 0.1) -> None:
        self.pw, self.ph = pw, ph
        self.gap_x, self.margin, self.head, self.title_h = 0.12, 0.1, 0.45, 0.5
        self.sw_gap, self.sw_h = (0.05, 0.24) if swatch else (0.0, 0.0)
        self.row_h = self.title_h + ph + self.sw_gap + self.sw_h + 0.12
        self.W = self.margin + right + ncols * pw + (ncols - 1) * self.gap_x
        self.H = self.head + nrows * self.row_h
        self.fig = new_figure(self.W, self.H)

    def box(self, x: float, y: float, bw: float, bh: float) -> list[float]:
        """Inches from the top-left corner -> figure fraction."""
        return [x / self.W, 1 - (y + bh) / self.H, bw / self.W, bh / self.H]

    def origin(self, r: int, c: int) -> tuple[float, float]:
        """Top-left corner of panel (r, c), in inches."""
        return (self.margin + c * (self.pw + self.gap_x),
                self.head + r * self.row_h + self.title_h)

    def photo(self, r: int, c: int):
        x, y = self.origin(r, c)
        return self.fig.add_axes(self.box(x, y, self.pw, self.ph))

    def swatch(self, r: int, c: int):
        x, y = self.origin(r, c)
        return self.fig.add_axes(self.box(x, y + self.ph + self.sw_gap, self.pw, self.sw_h))

    def suptitle(self, text: str) -> None:
        self.fig.suptitle(text, y=1 - 0.2 / self.H)


def show_quantized(grid: PanelGrid, r: int, c: int, q: NDArray[np.uint8], title: str) -> None:
    """A quantized photo with the swatch of the colours it uses."""
    ax = grid.photo(r, c)
    ax.imshow(q, interpolation="nearest")  # keeps the palette colours exactly
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    draw_swatch(grid.swatch(r, c), *used_colours(q))


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
        show_quantized(grid, r, c, q, f"{METHOD_NAMES[method]}: {len(used_colours(q)[0])} "
                       f"colours, MSE {e.mse:.1f}, mean ΔE76 {e.delta_e:.1f}")
    grid.suptitle(f"Three ways to choose k = {k_fig} colours (swatch widths: share of pixels)")
    save(grid.fig, out, "baselines.png", s.dpi, indexed=True)

    summ.section("baselines (quantize with method=..., rng=0; dE76 = mean CIE 1976 difference)")
    for k in ks:
        for method in METHODS:
            q, e = results[k, method]
            summ.add(f"k={k} {method}", f"colours {len(used_colours(q)[0])}, MSE {e.mse:.2f}, "
                     f"PSNR {e.psnr:.2f} dB, dE76 {e.delta_e:.2f}")

    # Median cut's boxes are never revisited; Lloyd's iterations started from
    # its palette show how far from a K-Means optimum that leaves it.
    pal = extract_palette(photo.image, k_fig, method="median-cut")
    steps = list(kmeans_steps(photo.colors, len(pal), sample_weight=photo.counts,
                              init=pal.colors.astype(np.float64)))
    summ.add(f"k={k_fig} Lloyd from the median-cut palette",
             f"MSE {photo.mse(steps[0].inertia):.2f} at the start, "
             f"{photo.mse(steps[1].inertia):.2f} after 1 update, "
             f"{photo.mse(steps[-1].inertia):.2f} after {updates(steps[-1].iteration)}"
             if len(steps) > 1 else "nothing to iterate")


def smoothest_window(image: NDArray[np.uint8], size: int, step: int = 8) -> tuple[int, int]:
    """Top-left corner of the ``size`` x ``size`` window with the least fine detail.

    Detail is the mean absolute Laplacian (summed over channels); corners lie
    on a grid of ``step`` so the window's 8x8 blocks are the ones that
    :func:`block_mean_error` measures. The smoothest window of a photo is
    usually a soft gradient, where banding shows first.
    """
    x = image.astype(np.float64)
    lap = np.zeros(x.shape[:2])
    lap[1:-1, 1:-1] = np.abs(4 * x[1:-1, 1:-1] - x[:-2, 1:-1] - x[2:, 1:-1]
                             - x[1:-1, :-2] - x[1:-1, 2:]).sum(axis=-1)
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
    local = {d: (mse_psnr(q[win], img[win])[0], block_mean_error(q[win], img[win]))
             for d, q in outs.items()}

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
            ax.imshow(np.clip(np.rint(shown), 0, 255).astype(np.uint8),
                      interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    grid.suptitle(f"Dithering with k = {k} colours, zoomed {s.zoom}x "
                  "(errors over the whole photo)")
    save(grid.fig, out, "dither.png", s.dpi)

    summ.section(f"dithering (quantize, k={k}, rng=0; block-mean error over 8x8 blocks)")
    summ.add("crop (smoothest window)", f"x {x0}-{x0 + size - 1}, y {y0}-{y0 + size - 1}")
    h, w = img.shape[:2]
    summ.add("Floyd-Steinberg wavefronts x + 2y = const, W + 2(H - 1)",
             f"{w + 2 * (h - 1)} for {h * w} pixels")
    base_mse, base_bme = whole["none"]
    for d in DITHERS:
        mse, bme = whole[d]
        # A photo with at most k colours is left as it is: nothing to compare.
        vs = (f" ({100 * (bme / base_bme - 1):+.0f}% block-mean error, "
              f"{mse / base_mse:.1f}x pixel MSE of nearest colour)"
              if d != "none" and base_bme > 0 and base_mse > 0 else "")
        summ.add(f"{d}: whole photo", f"pixel MSE {mse:.2f}, block-mean error {bme:.2f}{vs}")
        summ.add(f"{d}: crop", f"pixel MSE {local[d][0]:.2f}, "
                 f"block-mean error {local[d][1]:.2f}")


def draw_palette_plane(ax, palettes: dict[str, tuple[NDArray, NDArray]],
                       background: NDArray) -> None:
    """Palette colours in the (chroma C*, lightness L*) plane of CIELAB."""
    lab = srgb_to_lab(background / 255.0)
    ax.scatter(np.hypot(lab[:, 1], lab[:, 2]), lab[:, 0], s=2, c="0.8", linewidths=0,
               label="photo's colours")
    for (label, (colors, shares)), marker in zip(palettes.items(), ("o", "s"), strict=True):
        lab = srgb_to_lab(colors / 255.0)
        ax.scatter(np.hypot(lab[:, 1], lab[:, 2]), lab[:, 0], s=20 + 900 * shares,
                   c=colors / 255.0, marker=marker, edgecolors="k", linewidths=0.8,
                   label=label, alpha=0.9)
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
    vmax = float(np.percentile(np.concatenate(
        [e.delta_e_map.ravel() for e in errs.values()]), 99))
    for c, space in enumerate(("rgb", "oklab"), start=1):
        e = errs[space]
        show_quantized(grid, 0, c, fits[space], f"{titles[space]}: MSE {e.mse:.1f}, "
                       f"ΔE76 {e.delta_e:.2f}")
        ax = grid.photo(1, c)
        im = ax.imshow(e.delta_e_map, cmap="magma", vmin=0, vmax=vmax,
                       interpolation="nearest")
        ax.set_title(f"ΔE76 per pixel, {space.upper() if space == 'rgb' else 'Oklab'} fit: "
                     f"|ΔL*| {e.lightness:.2f}, Δa*b* {e.chroma_hue:.2f}", fontsize=9)
        ax.axis("off")
    x, y = grid.origin(1, 2)
    cbar = grid.fig.colorbar(im, cax=grid.fig.add_axes(grid.box(x + pw + 0.1, y, 0.12,
                                                                grid.ph)))
    cbar.ax.tick_params(labelsize=8)
    cbar.set_label("ΔE76", fontsize=9)
    x, y = grid.origin(1, 0)
    # Leave room inside the panel for the axis labels and ticks.
    ax = grid.fig.add_axes(grid.box(x + 0.55, y, pw - 0.6, grid.ph - 0.35))
    rng = np.random.default_rng(SEED_SCATTER)
    m = photo.colors.shape[0]
    sample = photo.colors[rng.choice(m, size=min(s.n_scatter, m), replace=False)]
    draw_palette_plane(ax, {f"{titles[sp].split(' (')[0]}": used_colours(fits[sp])
                            for sp in fits}, sample)
    ax.set_title(f"the two palettes (k = {k}); marker area: share of pixels", fontsize=9)
    grid.suptitle(f"K-Means in RGB and in Oklab, k = {k}")
    save(grid.fig, out, "oklab.png", s.dpi, indexed=True)

    summ.section(f"colour space of the fit (quantize, k={k}, rng=0)")
    for space in ("rgb", "oklab"):
        e = errs[space]
        summ.add(space, f"MSE {e.mse:.2f}, PSNR {e.psnr:.2f} dB, dE76 {e.delta_e:.2f}, "
                 f"Oklab difference {e.oklab:.4f}, |dL*| {e.lightness:.2f}, "
                 f"da*b* {e.chroma_hue:.2f}")
    for space in ("rgb", "oklab"):
        lab = srgb_to_lab(used_colours(fits[space])[0] / 255.0)
        summ.add(f"{space} palette L*", ", ".join(f"{v:.0f}" for v in np.sort(lab[:, 0])))
    # How Oklab weighs the CIELAB axes: the Oklab length of a one-unit step
    # along L*, a* and b*, from each distinct colour of the photo.
    lab = srgb_to_lab(photo.colors / 255.0)
    ok = srgb_to_oklab(photo.colors / 255.0)
    steps = [np.median(np.linalg.norm(srgb_to_oklab(lab_to_srgb(lab + step)) - ok, axis=-1))
             for step in np.eye(3)]
    summ.add("Oklab length of a unit CIELAB step (median over the colours)",
             ", ".join(f"{axis} {v:.4f}" for axis, v in zip(("L*", "a*", "b*"), steps,
                                                             strict=True)))


# --------------------------------------------------------------------------
# 2-D point clouds
# --------------------------------------------------------------------------

def blobs(centres: NDArray, size: int, scale: float, seed: int) -> NDArray:
    """Gaussian blobs of ``size`` points around each centre."""
    rng = np.random.default_rng(seed)
    return np.concatenate([c + rng.normal(scale=scale, size=(size, 2)) for c in centres])


FOUR_BLOBS = np.array([[0.0, 0.0], [5.0, 1.0], [1.0, 5.0], [6.0, 6.0]])
# Eight blobs on a 3 x 3 grid with one cell empty: enough clusters for random
# starts to put two centres in one blob and none in another.
EIGHT_BLOBS = np.array([[5.0 * (i % 3), 5.0 * (i // 3)] for i in range(8)])


def region_image(centers: NDArray, extent: tuple[float, float, float, float],
                 n: int) -> NDArray[np.intp]:
    """Label of the nearest centre on an ``n x n`` grid: the Voronoi cells."""
    x0, x1, y0, y1 = extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    return squared_distances(grid, centers).argmin(axis=1).reshape(n, n)


def light(colour: str, amount: float = 0.78) -> tuple[float, float, float]:
    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def draw_state(ax, X, centers, labels, extent, title, *, grid: int, regions=True,
               arrows_from=None, trail=None) -> None:
    k = centers.shape[0]
    cols = _TAB10[:k]
    if regions:
        cmap = ListedColormap([light(c) for c in cols])
        ax.imshow(region_image(centers, extent, grid), origin="lower", extent=extent,
                  cmap=cmap, vmin=-0.5, vmax=k - 0.5, interpolation="nearest")
    point_cols = "0.45" if labels is None else [cols[j] for j in labels]
    ax.scatter(X[:, 0], X[:, 1], s=9, c=point_cols, linewidths=0)
    if trail is not None:
        for j in range(k):
            ax.plot(trail[:, j, 0], trail[:, j, 1], "-", color="k", lw=1, alpha=0.7)
    if arrows_from is not None:
        for j in range(k):
            (x0, y0), (x1, y1) = arrows_from[j], centers[j]
            ax.scatter([x0], [y0], s=70, marker="X", c=[cols[j]], edgecolors="k",
                       linewidths=0.6, alpha=0.45)
            if np.hypot(x1 - x0, y1 - y0) > 1e-9:
                ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                            arrowprops=dict(arrowstyle="->", lw=1.6, color="k"))
    ax.scatter(centers[:, 0], centers[:, 1], s=110, marker="X", c=cols,
               edgecolors="k", linewidths=1.0, zorder=5)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)


def fig_walkthrough(s: Settings, out: Path, summ: Summary) -> None:
    """Lloyd's algorithm on four blobs, one step function call per panel."""
    X = blobs(FOUR_BLOBS, s.blob_size, 0.9, SEED_BLOBS)
    k = 4
    # A deliberately bad start, so the centres have a long way to travel:
    # the four leftmost points.
    start = X[np.argsort(X[:, 0], kind="stable")[:k]].copy()

    # Lloyd's loop written out with the public step functions.
    centers, (labels, d2) = start, assign_labels(X, start)
    history = [(centers, labels)]
    for _ in range(100):
        new_centers = update_centers(X, labels, k, min_sq_dist=d2)
        new_labels, d2 = assign_labels(X, new_centers)
        stable = np.array_equal(new_labels, labels)
        centers, labels = new_centers, new_labels
        history.append((centers, labels))
        if stable:
            break
    # The engine runs the same two steps: check it agrees record by record.
    engine = list(kmeans_steps(X, k, init=start, tol=0))
    agree = len(engine) == len(history) and all(
        np.array_equal(e.labels, lab) and np.allclose(e.centers, c, atol=1e-9)
        for e, (c, lab) in zip(engine, history, strict=True)
    )

    pad = 1.2
    extent = (X[:, 0].min() - pad, X[:, 0].max() + pad,
              X[:, 1].min() - pad, X[:, 1].max() + pad)
    fig = new_figure(14, 7.6)
    axes = [fig.add_subplot(2, 4, i + 1) for i in range(8)]
    draw_state(axes[0], X, start, None, extent,
               "the points and k = 4 starting centres", grid=s.grid, regions=False)
    # Panels 2-7: assignment 0, update 1, assignment 1, update 2, ...
    panel = 1
    t = 0
    while panel < 7 and t < len(history):
        c_t, lab_t = history[t]
        if panel % 2 == 1:  # assignment with the centres of iteration t
            which = "starting centre" if t == 0 else f"centre after update {t}"
            draw_state(axes[panel], X, c_t, lab_t, extent,
                       f"assignment {t}: each point to its\nnearest {which}", grid=s.grid)
            t += 1
        else:  # update t: means of the clusters of assignment t-1
            prev_c, prev_lab = history[t - 1]
            draw_state(axes[panel], X, c_t, prev_lab, extent,
                       f"update {t}: each centre to the mean\nof its points", grid=s.grid,
                       regions=False, arrows_from=prev_c)
        panel += 1
    for ax in axes[panel:7]:
        ax.axis("off")
    final_c, final_lab = history[-1]
    trail = np.stack([c for c, _ in history])
    n_up = len(history) - 1
    draw_state(axes[7], X, final_c, final_lab, extent,
               f"labels stable after {updates(n_up)}\n(black lines: each centre's path)",
               grid=s.grid, trail=trail)
    fig.suptitle("Lloyd's algorithm in 2-D: assignment and update, alternated")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.01, wspace=0.04,
                        hspace=0.2)
    save(fig, out, "walkthrough_2d.png", s.dpi)

    summ.section("2-D walkthrough (four blobs, start = four leftmost points)")
    summ.add("points", X.shape[0])
    summ.add("updates until labels stable", n_up)
    summ.add("inertia per iteration", ", ".join(
        f"{float(np.sum(np.min(squared_distances(X, c), axis=1))):.1f}" for c, _ in history))
    summ.add("step-function loop equals kmeans_steps(tol=0)", agree)


def fig_seeding(s: Settings, out: Path, summ: Summary) -> dict[str, NDArray]:
    """Random starts against k-means++: the 2-D example, and all seeds summarised."""
    X = blobs(EIGHT_BLOBS, s.blob_size, 0.8, SEED_BLOBS)
    k = 8
    seeds = range(s.n_blob_seeds)
    res = {init: [kmeans(X, k, init=init, rng=sd) for sd in seeds]
           for init in ("random", "k-means++")}
    inertia = {init: np.array([r.inertia for r in rs]) for init, rs in res.items()}
    best = min(inertia["k-means++"].min(), inertia["random"].min())
    stuck = {init: int(np.sum(v > 1.05 * best)) for init, v in inertia.items()}

    # The picture: the first seed whose random start ends in a worse local
    # optimum than k-means++ from the same seed (the tally below says how typical).
    shown = next((sd for sd in seeds
                  if inertia["random"][sd] > 1.05 * inertia["k-means++"][sd]), 0)
    pad = 1.5
    extent = (X[:, 0].min() - pad, X[:, 0].max() + pad,
              X[:, 1].min() - pad, X[:, 1].max() + pad)
    fig = new_figure(11, 10)
    rng_start = {
        "random": next(kmeans_steps(X, k, init="random", rng=shown)).centers,
        "k-means++": kmeans_plusplus(X, k, rng=shown),
    }
    for row, init in enumerate(("random", "k-means++")):
        c0 = rng_start[init]
        lab0, d0 = assign_labels(X, c0)
        draw_state(fig.add_subplot(2, 2, 2 * row + 1), X, c0, lab0, extent,
                   f"{init} start (rng={shown}): inertia {d0.sum():.0f}", grid=s.grid)
        r = res[init][shown]
        draw_state(fig.add_subplot(2, 2, 2 * row + 2), X, r.centers, r.labels, extent,
                   f"after {updates(r.n_iter)}: inertia {r.inertia:.0f}", grid=s.grid)
    fig.suptitle("Eight blobs, k = 8: where the starts fall decides the optimum reached")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.01, wspace=0.04,
                        hspace=0.12)
    save(fig, out, "seeding_2d.png", s.dpi)

    summ.section("seeding, eight blobs (kmeans, k=8, tol=1e-4)")
    summ.add("seeds per init", len(seeds))
    summ.add("best inertia found", f"{best:.1f}")
    for init in ("random", "k-means++"):
        summ.add(f"{init}: runs worse than 1.05 x best", f"{stuck[init]} of {len(seeds)}")
        summ.add(f"{init}: mean final inertia", f"{inertia[init].mean():.1f}")
    summ.add("seed drawn in seeding_2d.png", shown)
    for init, c0 in rng_start.items():
        r = res[init][shown]
        start_inertia = float(assign_labels(X, c0)[1].sum())
        summ.add(f"  {init} start -> final inertia (updates)",
                 f"{start_inertia:.1f} -> {r.inertia:.1f} ({r.n_iter})")
    return inertia


def fig_init_compare(photo, s: Settings, out: Path, summ: Summary,
                     blob_inertia: dict[str, NDArray]) -> None:
    """Random starts vs k-means++ on the photo over several seeds, plus the blobs."""
    k = min(s.k_main, photo.colors.shape[0])
    inits = ("random", "k-means++")
    start_mse, final_mse, iters = {}, {}, {}
    for init in inits:
        s0, s1, n = [], [], []
        for sd in range(s.n_seeds):
            # Record 0 of kmeans_steps is the start kmeans draws from the same seed.
            first = next(kmeans_steps(photo.colors, k, sample_weight=photo.counts,
                                      init=init, rng=sd))
            res = kmeans(photo.colors, k, sample_weight=photo.counts, init=init, rng=sd)
            s0.append(photo.mse(first.inertia))
            s1.append(photo.mse(res.inertia))
            n.append(res.n_iter)
        start_mse[init], final_mse[init], iters[init] = map(np.array, (s0, s1, n))
    n_blob_seeds = blob_inertia["random"].size

    jitter = np.random.default_rng(0).uniform(-0.12, 0.12, size=max(s.n_seeds, n_blob_seeds))
    fig = new_figure(15, 4.2)
    panels = (
        (start_mse, "MSE per channel", f"photo, k = {k}: at the start"),
        (final_mse, "MSE per channel", "photo: after convergence"),
        (iters, "updates", "photo: updates to converge"),
        (blob_inertia, "inertia", "eight blobs, k = 8: final inertia"),
    )
    for p, (vals, ylabel, title) in enumerate(panels):
        ax = fig.add_subplot(1, 4, p + 1)
        for x, init in enumerate(inits):
            v = vals[init]
            ax.scatter(x + jitter[: v.size], v, s=18, color=f"C{x}", alpha=0.8,
                       linewidths=0)
            ax.hlines(v.mean(), x - 0.25, x + 0.25, color="k", lw=2)
        ax.set_xticks([0, 1])
        ax.set_xticklabels(inits)
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"Random starts vs k-means++ over {s.n_seeds} seeds each on the photo "
                 f"and {n_blob_seeds} on the blobs (black bars: means)")
    fig.subplots_adjust(left=0.05, right=0.99, top=0.83, bottom=0.09, wspace=0.35)
    save(fig, out, "init_compare.png", s.dpi)

    summ.section(f"random vs k-means++ on the photo (kmeans, k={k}, tol=1e-4)")
    summ.add("seeds per init", s.n_seeds)
    for init in inits:
        summ.add(f"{init}: start MSE mean [min, max]",
                 f"{start_mse[init].mean():.1f} [{start_mse[init].min():.1f}, "
                 f"{start_mse[init].max():.1f}]")
        summ.add(f"{init}: final MSE mean [min, max]",
                 f"{final_mse[init].mean():.2f} [{final_mse[init].min():.2f}, "
                 f"{final_mse[init].max():.2f}]")
        summ.add(f"{init}: updates mean [min, max]",
                 f"{iters[init].mean():.1f} [{iters[init].min()}, {iters[init].max()}]")


# --------------------------------------------------------------------------
# round-off of the expanded distance formula
# --------------------------------------------------------------------------

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
        exact = np.square(X32.astype(np.float64)[:, None, :]
                          - C32.astype(np.float64)[None, :, :]).sum(axis=2)
        scale = np.median(exact)
        mean = X32.mean(axis=0, dtype=np.float64).astype(np.float32)
        for X_, C_, err, flips in ((X32, C32, err_far, flips_far),
                                   (X32 - mean, C32 - mean, err_centred, flips_centred)):
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
    for r, e1, e2, f1, f2 in zip(R, err_far, err_centred, flips_far, flips_centred,
                                 strict=True):
        summ.add(f"R={r:.3g}", f"rel. error {e1:.2e} as given, {e2:.2e} centred; "
                 f"wrong labels {100 * f1:.1f}% as given, {100 * f2:.1f}% centred")


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE,
                        help="8-bit RGB(A) picture (default: the bundled chelsea.png)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default: docs/figures)")
    parser.add_argument("--quick", action="store_true",
                        help="small, fast run: fewer k values, seeds and points")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> Path:
    """Write every figure and ``summary.txt`` into ``--out``; return that folder."""
    args = parse_args(argv)
    s = QUICK if args.quick else FULL
    photo = load_photo(args.image)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    k_main = min(s.k_main, photo.colors.shape[0])
    if k_main != s.k_main:
        s = Settings(**{**s.__dict__, "k_main": k_main})

    summ = Summary()
    summ.section("run")
    summ.add("image", args.image.name)
    summ.add("shape", photo.image.shape)
    summ.add("mode", "quick" if args.quick else "full")

    steps = fit_steps(photo, s.k_main)
    fig_iterations(photo, steps, s, out, summ)
    fig_convergence(photo, steps, s, out, summ)
    fig_rgb_space(photo, steps, s, out, summ)
    fig_palettes(photo, s, out, summ)
    fig_k_sweep(photo, s, out, summ)
    fig_k_curve(photo, s, out, summ)
    blob_inertia = fig_seeding(s, out, summ)
    fig_init_compare(photo, s, out, summ, blob_inertia)
    fig_walkthrough(s, out, summ)
    fig_roundoff(s, out, summ)
    ref = Reference.of(photo.image)
    fig_baselines(photo, ref, s, out, summ)
    fig_dither(photo, s, out, summ)
    fig_oklab(photo, ref, s, out, summ)

    (out / SUMMARY).write_text(summ.text())
    print(summ.text(), end="")
    return out


if __name__ == "__main__":
    main()
