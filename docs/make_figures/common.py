"""What the figure modules share: settings, seeds, the photo, drawing and the summary.

Pixels are points in RGB space. For the photo figures the image is reduced
to its distinct colours weighted by their pixel counts (the same K-Means
objective, see the tutorial), clustered, and painted back by label.
"""

from __future__ import annotations

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

# The measure dithering is judged by; the sections take it from here.
from kmeans_quant import (
    kmeans_steps,
    metrics,
    quantize,
    squared_distances,
)
from kmeans_quant.colorspace import delta_e_76, srgb_to_lab, srgb_to_oklab
from kmeans_quant.metrics import block_mean_error  # noqa: F401

# One colour per cluster in the 2-D figures (matplotlib's tab10, colour-blind safer
# than a rainbow and distinct up to ten clusters).
_TAB10 = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
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
    # "Where K-Means goes wrong" (pitfalls.py)
    sample_photos: tuple[str, ...]  # scikit-image photos besides --image; none when quick
    photo_step: int  # they are shrunk by taking every photo_step-th pixel each way
    n_toy_runs: int  # single runs per start on the eight blobs
    n_photo_runs: int  # single runs per start on a photo
    silhouette_ks: tuple[int, ...]
    silhouette_sample: int  # pixels the photo's silhouette is computed on
    random_ks: tuple[int, ...]  # the random-palette baseline
    n_random_palettes: int  # random palettes averaged per k


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
    sample_photos=("astronaut", "coffee", "rocket"),
    photo_step=2,
    n_toy_runs=200,
    n_photo_runs=20,
    silhouette_ks=(2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32),
    silhouette_sample=2000,
    random_ks=(2, 4, 8, 16, 32, 64),
    n_random_palettes=3,
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
    sample_photos=(),
    photo_step=1,
    n_toy_runs=10,
    n_photo_runs=3,
    silhouette_ks=(2, 3, 4),
    silhouette_sample=200,
    random_ks=(2, 4),
    n_random_palettes=2,
)


# Seeds: one per random thing the script draws, written down so reruns agree.
SEED_FIT = 0  # k-means++ start of the photo's k_main fit


SEED_SCATTER = 1  # which distinct colours the 3-D scatter shows


SEED_BLOBS = 7  # the 2-D point clouds


SEED_ROUNDOFF = 3  # the round-off experiment's points


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
    if (
        image.dtype != np.uint8
        or image.ndim != 3
        or image.shape[2] not in (3, 4)
        or min(image.shape[:2]) < 8
    ):
        raise ValueError(
            f"--image must be an 8-bit RGB or RGBA picture of at least 8x8 pixels, got "
            f"dtype {image.dtype} and shape {image.shape} from {path}"
        )
    return photo_from_array(image)


def photo_from_array(image: NDArray[np.uint8]) -> Photo:
    """The photo of an 8-bit RGB(A) array (alpha dropped) as weighted distinct colours."""
    image = np.ascontiguousarray(image[..., :3])
    colors, inverse, counts = np.unique(
        image.reshape(-1, 3), axis=0, return_inverse=True, return_counts=True
    )
    return Photo(image, colors, counts.astype(np.int64), inverse.reshape(-1))


def mse_psnr(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> tuple[float, float]:
    """Per-channel MSE and PSNR (dB, peak 255) between two uint8 images."""
    return metrics.mse(a, b), metrics.psnr(a, b)


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


def fit_steps(photo: Photo, k: int):
    """Every record of the k-means++ fit of the photo's weighted colours."""
    return list(kmeans_steps(photo.colors, k, sample_weight=photo.counts, rng=SEED_FIT))


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
        return Errors(
            mse,
            psnr,
            float(de.mean()),
            float(d_ok.mean()),
            float(np.abs(d_lab[..., 0]).mean()),
            float(np.hypot(d_lab[..., 1], d_lab[..., 2]).mean()),
            de,
        )


def used_colours(q: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """The distinct colours of an RGB image and the share of pixels of each."""
    # One integer per colour: a 1-D unique is far faster than unique(axis=0).
    px = q.reshape(-1, 3).astype(np.int64)
    codes, counts = np.unique((px[:, 0] << 16) | (px[:, 1] << 8) | px[:, 2], return_counts=True)
    colors = np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], axis=1)
    return colors.astype(np.uint8), counts / counts.sum()


class PanelGrid:
    """Equal photo panels laid out by hand, in inches, each with room for a
    title above and a palette swatch right under it."""

    def __init__(
        self,
        nrows: int,
        ncols: int,
        pw: float,
        ph: float,
        *,
        swatch: bool = True,
        right: float = 0.1,
    ) -> None:
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
        return (self.margin + c * (self.pw + self.gap_x), self.head + r * self.row_h + self.title_h)

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


def blobs(centres: NDArray, size: int, scale: float, seed: int) -> NDArray:
    """Gaussian blobs of ``size`` points around each centre."""
    rng = np.random.default_rng(seed)
    return np.concatenate([c + rng.normal(scale=scale, size=(size, 2)) for c in centres])


FOUR_BLOBS = np.array([[0.0, 0.0], [5.0, 1.0], [1.0, 5.0], [6.0, 6.0]])


# Eight blobs on a 3 x 3 grid with one cell empty: enough clusters for random
# starts to put two centres in one blob and none in another.
EIGHT_BLOBS = np.array([[5.0 * (i % 3), 5.0 * (i // 3)] for i in range(8)])


def region_image(
    centers: NDArray, extent: tuple[float, float, float, float], n: int
) -> NDArray[np.intp]:
    """Label of the nearest centre on an ``n x n`` grid: the Voronoi cells."""
    x0, x1, y0, y1 = extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    return squared_distances(grid, centers).argmin(axis=1).reshape(n, n)


def light(colour: str, amount: float = 0.78) -> tuple[float, float, float]:
    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def draw_state(
    ax, X, centers, labels, extent, title, *, grid: int, regions=True, arrows_from=None, trail=None
) -> None:
    k = centers.shape[0]
    cols = _TAB10[:k]
    if regions:
        cmap = ListedColormap([light(c) for c in cols])
        ax.imshow(
            region_image(centers, extent, grid),
            origin="lower",
            extent=extent,
            cmap=cmap,
            vmin=-0.5,
            vmax=k - 0.5,
            interpolation="nearest",
        )
    point_cols = "0.45" if labels is None else [cols[j] for j in labels]
    ax.scatter(X[:, 0], X[:, 1], s=9, c=point_cols, linewidths=0)
    if trail is not None:
        for j in range(k):
            ax.plot(trail[:, j, 0], trail[:, j, 1], "-", color="k", lw=1, alpha=0.7)
    if arrows_from is not None:
        for j in range(k):
            (x0, y0), (x1, y1) = arrows_from[j], centers[j]
            ax.scatter(
                [x0],
                [y0],
                s=70,
                marker="X",
                c=[cols[j]],
                edgecolors="k",
                linewidths=0.6,
                alpha=0.45,
            )
            if np.hypot(x1 - x0, y1 - y0) > 1e-9:
                ax.annotate(
                    "",
                    xy=(x1, y1),
                    xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="->", lw=1.6, color="k"),
                )
    ax.scatter(
        centers[:, 0],
        centers[:, 1],
        s=110,
        marker="X",
        c=cols,
        edgecolors="k",
        linewidths=1.0,
        zorder=5,
    )
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
