"""Where K-Means goes wrong: the figures and numbers of ``docs/pitfalls.md``.

Everything is computed with the library's own engine (:func:`kmeans`,
:func:`kmeans_steps`, :func:`kmeans_plusplus`, :func:`quantize`) on toy
data and on real photos: the bundled cat and three of scikit-image's sample
photos (a full run; ``--quick`` uses the ``--image`` picture alone). The
silhouette is computed here, in NumPy, from its definition.
"""

from __future__ import annotations

import itertools
import warnings
from math import comb
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kmeans_quant import (
    DuplicateCentersWarning,
    extract_palette,
    kmeans,
    kmeans_plusplus,
    kmeans_steps,
    quantize,
    recolor,
    squared_distances,
)
from kmeans_quant.colorspace import srgb_to_oklab

from .common import (
    EIGHT_BLOBS,
    FOUR_BLOBS,
    SEED_BLOBS,
    PanelGrid,
    Photo,
    Reference,
    Settings,
    Summary,
    blobs,
    cap_ks,
    draw_state,
    mse_psnr,
    new_figure,
    photo_from_array,
    save,
    show_quantized,
)

SEED_SHAPES = 3  # the elongated and unequal clusters
SEED_SAMPLE = 1  # the pixels the photo's silhouette is computed on
WITHIN = 1.01  # a run "finds the optimum" when within 1 % of the best inertia seen


def sample_photos(photo: Photo, s: Settings) -> dict[str, Photo]:
    """The photos of the chapter: the main one, then scikit-image's samples (shrunk)."""
    photos = {"chelsea" if s.sample_photos else "photo": photo}
    if s.sample_photos:
        from skimage import data  # the [docs] extra; a full run only

        for name in s.sample_photos:
            image = getattr(data, name)()
            photos[name] = photo_from_array(image[:: s.photo_step, :: s.photo_step])
    return photos


def pick(photos: dict[str, Photo], name: str) -> tuple[str, Photo]:
    """The named photo, or the main one when a quick run has no samples."""
    if name in photos:
        return name, photos[name]
    return next(iter(photos.items()))


def silhouette(X: NDArray, labels: NDArray, k: int) -> float:
    r"""Mean silhouette of a clustering, from its definition.

    For point :math:`i` in cluster :math:`A`, :math:`a(i)` is its mean
    distance to the other points of :math:`A` and :math:`b(i)` the smallest
    mean distance to the points of another cluster;
    :math:`s(i) = (b - a) / \max(a, b)`, and 0 for a point alone in its
    cluster. The distances are Euclidean, all pairs at once.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    D = np.sqrt(squared_distances(X, X))
    member = np.zeros((n, k))
    member[np.arange(n), labels] = 1.0
    size = member.sum(axis=0)
    total = D @ member  # (n, k): summed distance from each point to each cluster
    own = size[labels]
    a = total[np.arange(n), labels] / np.maximum(own - 1, 1)
    mean_to = np.where(size > 0, total / np.maximum(size, 1), np.inf)
    mean_to[member > 0] = np.inf  # a point's own cluster is not "another" one
    b = mean_to.min(axis=1)
    s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(s.mean())


def expected_best_of(values: NDArray, n: int) -> float:
    """Expected minimum of ``n`` runs drawn without replacement from ``values``."""
    v = np.sort(values)
    m = v.size
    # The i-th smallest (0-based) is the minimum when it is drawn and all the
    # n - 1 others come from the m - 1 - i values above it.
    p = np.array([comb(m - 1 - i, n - 1) for i in range(m)], dtype=np.float64) / comb(m, n)
    return float(p @ v)


def fig_restarts(photos: dict[str, Photo], s: Settings, out: Path, summ: Summary) -> None:
    """Single runs end in different local minima; restarts keep the best."""
    X = blobs(EIGHT_BLOBS, s.blob_size, 0.8, SEED_BLOBS)
    inits = ("random", "k-means++")
    toy = {
        init: np.array([kmeans(X, 8, init=init, rng=sd).inertia for sd in range(s.n_toy_runs)])
        for init in inits
    }
    best = min(v.min() for v in toy.values())
    hit = {init: float(np.mean(v <= WITHIN * best)) for init, v in toy.items()}

    name, photo = pick(photos, "coffee")
    k = min(s.k_main, photo.colors.shape[0])
    X_photo = photo.colors.astype(np.float64)
    runs = {
        init: np.array(
            [
                photo.mse(kmeans(X_photo, k, sample_weight=photo.counts, init=init, rng=sd).inertia)
                for sd in range(s.n_photo_runs)
            ]
        )
        for init in inits
    }
    q_mse = mse_psnr(quantize(photo.image, k), photo.image)[0]

    fig = new_figure(13, 4)
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, size=max(s.n_toy_runs, 1))
    ax = fig.add_subplot(1, 3, 1)
    for x, init in enumerate(inits):
        ax.scatter(x + jitter[: toy[init].size], toy[init], s=8, alpha=0.5, color=f"C{x}")
    ax.axhline(best, color="k", lw=1, ls="--")
    ax.set_xticks([0, 1])
    ax.set_xticklabels(inits)
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylabel("final inertia")
    ax.set_title(f"eight blobs, k = 8: {s.n_toy_runs} runs from each start", fontsize=10)
    ax = fig.add_subplot(1, 3, 2)
    n = np.arange(1, 21)
    for x, init in enumerate(inits):
        ax.plot(n, 1 - (1 - hit[init]) ** n, "o-", ms=3, color=f"C{x}", label=init)
    ax.set_xlabel("restarts (best one kept)")
    ax.set_ylabel("chance of ending within 1 % of the best")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower right")
    ax.set_title("eight blobs: what restarts buy", fontsize=10)
    ax = fig.add_subplot(1, 3, 3)
    for x, init in enumerate(inits):
        ax.scatter(x + jitter[: runs[init].size], runs[init], s=14, alpha=0.7, color=f"C{x}")
    ax.axhline(q_mse, color="k", lw=1, ls="--", label=f"quantize: {q_mse:.1f}")
    ax.set_xticks([0, 1])
    ax.set_xticklabels(inits)
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylabel("MSE per channel")
    ax.legend(loc="upper right")
    ax.set_title(f"{name}, k = {k}: {s.n_photo_runs} runs from each start", fontsize=10)
    fig.subplots_adjust(left=0.06, right=0.99, top=0.9, bottom=0.13, wspace=0.3)
    save(fig, out, "pitfall_restarts.png", s.dpi)

    summ.section("pitfalls: restarts on eight blobs (kmeans, k=8)")
    summ.add("runs per start", s.n_toy_runs)
    summ.add("best inertia found", f"{best:.1f}")
    for init in inits:
        v = toy[init]
        summ.add(
            f"{init}: runs within 1% of the best",
            f"{int(np.sum(v <= WITHIN * best))} of {v.size}",
        )
        summ.add(f"{init}: mean final inertia", f"{v.mean():.1f}")
        missed = v[v > WITHIN * best]
        if missed.size:
            summ.add(
                f"{init}: the other runs, inertia [min, max]",
                f"[{missed.min():.1f}, {missed.max():.1f}]",
            )
        if 0 < hit[init] < 1:
            needed = int(np.ceil(np.log(0.01) / np.log(1 - hit[init])))
            summ.add(f"{init}: restarts for a 99% chance of one within 1%", needed)
    summ.section(f"pitfalls: restarts on {name} (kmeans on weighted colours, k={k})")
    summ.add("shape", photo.image.shape)
    summ.add("runs per start", s.n_photo_runs)
    for init in inits:
        v = runs[init]
        summ.add(
            f"{init}: final MSE mean [min, max]",
            f"{v.mean():.2f} [{v.min():.2f}, {v.max():.2f}]",
        )
        if v.size >= 5:
            summ.add(f"{init}: expected best of 5 runs", f"{expected_best_of(v, 5):.2f}")
    summ.add("quantize MSE", f"{q_mse:.2f}")


def fig_empty_clusters(photos: dict[str, Photo], s: Settings, out: Path, summ: Summary) -> None:
    """A centre left with no points, and where the engine moves it."""
    X = blobs(FOUR_BLOBS[:3], s.blob_size, 0.9, SEED_BLOBS)
    # Two centres in the blobs, one far from every point: it gets nothing.
    start = np.array([X[0], X[s.blob_size], [12.0, 12.0]])
    steps = list(kmeans_steps(X, 3, init=start, tol=0))
    sizes0 = np.bincount(steps[0].labels, minlength=3)
    pad = 1.5
    extent = (
        min(X[:, 0].min(), 12.0) - pad,
        max(X[:, 0].max(), 12.0) + pad,
        min(X[:, 1].min(), 12.0) - pad,
        max(X[:, 1].max(), 12.0) + pad,
    )
    fig = new_figure(12, 4.3)
    shown = [
        (0, f"start: centre 2 has {sizes0[2]} points"),
        (1, "update 1: centre 2 moved onto the farthest point"),
        (len(steps) - 1, f"converged after {steps[-1].iteration} updates"),
    ]
    for p, (t, title) in enumerate(shown):
        step = steps[t]
        draw_state(
            fig.add_subplot(1, 3, p + 1),
            X,
            step.centers,
            step.labels,
            extent,
            title,
            grid=s.grid,
            arrows_from=steps[t - 1].centers if t > 0 else None,
        )
    fig.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.02, wspace=0.05)
    save(fig, out, "pitfall_empty.png", s.dpi)

    summ.section("pitfalls: empty clusters, three blobs (kmeans_steps, tol=0)")
    summ.add("points per centre after the first assignment", ", ".join(map(str, sizes0)))
    # The engine's rule: onto the point farthest from the centre it was given.
    gap = np.linalg.norm(X - steps[0].centers[steps[0].labels], axis=1)
    summ.add("distance from that point to its centre", f"{gap.max():.2f}")
    summ.add("updates to converge", steps[-1].iteration)

    name, photo = pick(photos, "astronaut")
    k = min(s.k_main, photo.colors.shape[0])
    pixels = photo.image.reshape(-1, 3).astype(np.float64)
    repeated = {"random": 0, "k-means++": 0}
    emptied = 0
    for sd in range(s.n_photo_runs):
        first = next(kmeans_steps(pixels, k, init="random", rng=sd))
        repeated["random"] += len(np.unique(first.centers, axis=0)) < k
        emptied += bool((np.bincount(first.labels, minlength=k) == 0).any())
        pp = kmeans_plusplus(pixels, k, rng=sd)
        repeated["k-means++"] += len(np.unique(pp, axis=0)) < k
    top = int(np.argmax(photo.counts))
    summ.section(f"pitfalls: empty clusters on {name} (pixels, k={k})")
    summ.add("shape", photo.image.shape)
    summ.add(
        "most common colour",
        f"{tuple(int(v) for v in photo.colors[top])} on "
        f"{100 * photo.counts[top] / photo.n_pixels:.1f}% of the pixels",
    )
    summ.add("starts per kind", s.n_photo_runs)
    for init, count in repeated.items():
        summ.add(f"{init} starts with a repeated colour", count)
    summ.add("random starts leaving a cluster empty at the first assignment", emptied)


def too_many_clusters(photos: dict[str, Photo], s: Settings, summ: Summary) -> None:
    """Asking for more clusters than there are distinct colours."""
    name, photo = pick(photos, "rocket")
    poster = quantize(photo.image, 6)
    n_colors = len(np.unique(poster.reshape(-1, 3), axis=0))
    k = n_colors + 2
    again = quantize(poster, 16)
    pixels = poster.reshape(-1, 3).astype(np.float64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DuplicateCentersWarning)
        result = kmeans(pixels, k, rng=0)
    steps = list(kmeans_steps(pixels, k, rng=0))
    colors, counts = np.unique(pixels, axis=0, return_counts=True)
    try:
        kmeans(colors, k, sample_weight=counts)
        refused = "accepted"
    except ValueError as err:
        refused = str(err)

    summ.section(f"pitfalls: k beyond the distinct colours ({name} reduced to 6 colours)")
    summ.add("distinct colours", n_colors)
    summ.add("quantize(k=16): colours", len(np.unique(again.reshape(-1, 3), axis=0)))
    summ.add("quantize(k=16) returns the image unchanged", bool(np.array_equal(again, poster)))
    summ.add(f"kmeans on the pixels, k={k}: inertia", f"{result.inertia:.1f}")
    summ.add(
        f"kmeans on the pixels, k={k}: distinct centres (to 0.01)",
        len(np.unique(np.round(result.centers, 2), axis=0)),
    )
    summ.add("warning", caught[0].category.__name__ if caught else "none")
    for step in steps:
        sizes = np.bincount(step.labels, minlength=k)
        summ.add(f"iteration {step.iteration}: empty clusters", int(np.sum(sizes == 0)))
    summ.add(f"kmeans on the {n_colors} weighted colours, k={k}", refused)


def misassigned(labels: NDArray, truth: NDArray, k: int) -> float:
    """Share of points whose cluster is not their group, under the best matching."""
    agree = max(np.mean(np.asarray(p)[truth] == labels) for p in itertools.permutations(range(k)))
    return float(1 - agree)


def fig_shapes(s: Settings, out: Path, summ: Summary) -> None:
    """Groups K-Means cannot find: long thin ones, and unequal ones."""
    rng = np.random.default_rng(SEED_SHAPES)
    n = 3 * s.blob_size
    long = np.concatenate(
        [c + rng.normal(size=(n, 2)) * [4.0, 0.5] for c in ([0, 0], [0, 3], [0, 6])]
    )
    long_truth = np.repeat(np.arange(3), n)
    big, small = 5 * s.blob_size, max(s.blob_size * 2 // 3, 3)
    unequal = np.concatenate(
        [
            rng.normal(size=(big, 2)) * 2.0,
            [4.5, 0.0] + rng.normal(size=(small, 2)) * 0.4,
            [4.5, 2.5] + rng.normal(size=(small, 2)) * 0.4,
        ]
    )
    unequal_truth = np.repeat(np.arange(3), [big, small, small])
    fig = new_figure(12, 5)
    summ.section("pitfalls: clusters that are not round (kmeans, k=3, rng=0)")
    for p, (label, X, truth) in enumerate(
        (
            ("long thin groups", long, long_truth),
            ("one wide group, two tight", unequal, unequal_truth),
        )
    ):
        res = kmeans(X, 3, rng=0)
        groups = sum(float(((X[truth == j] - X[truth == j].mean(0)) ** 2).sum()) for j in range(3))
        wrong = misassigned(res.labels, truth, 3)
        pad = 1.0
        extent = (
            X[:, 0].min() - pad,
            X[:, 0].max() + pad,
            X[:, 1].min() - pad,
            X[:, 1].max() + pad,
        )
        draw_state(
            fig.add_subplot(1, 2, p + 1),
            X,
            res.centers,
            res.labels,
            extent,
            f"{label}: K-Means inertia {res.inertia:.0f}, the groups' {groups:.0f}",
            grid=s.grid,
        )
        summ.add(f"{label}: K-Means inertia", f"{res.inertia:.1f}")
        summ.add(f"{label}: inertia of the true groups", f"{groups:.1f}")
        summ.add(f"{label}: points not in their group's cluster", f"{100 * wrong:.1f}%")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.92, bottom=0.02, wspace=0.05)
    save(fig, out, "pitfall_shapes.png", s.dpi)


def fig_silhouette(photo: Photo, s: Settings, out: Path, summ: Summary) -> None:
    """The elbow and the silhouette, on four blobs and on the photo."""
    X = blobs(FOUR_BLOBS, s.blob_size, 0.9, SEED_BLOBS)
    toy_ks = [k for k in s.silhouette_ks if k <= 8]
    toy = [kmeans(X, k, rng=0) for k in toy_ks]
    toy_sil = [silhouette(X, r.labels, k) for r, k in zip(toy, toy_ks, strict=True)]

    ks = list(cap_ks(s.silhouette_ks, photo.colors.shape[0]))
    pixels = photo.image.reshape(-1, 3)
    rng = np.random.default_rng(SEED_SAMPLE)
    sample = pixels[
        rng.choice(len(pixels), size=min(s.silhouette_sample, len(pixels)), replace=False)
    ]
    mse, sil = [], []
    for k in ks:
        pal = extract_palette(photo.image, k)
        mse.append(mse_psnr(recolor(photo.image, pal), photo.image)[0])
        labels = squared_distances(sample.astype(np.float64), pal.colors.astype(np.float64)).argmin(
            1
        )
        sil.append(silhouette(sample, labels, len(pal)))

    fig = new_figure(12, 7)
    panels = (
        (toy_ks, [r.inertia for r in toy], "inertia", "four blobs: the elbow"),
        (toy_ks, toy_sil, "mean silhouette", "four blobs: the silhouette"),
        (ks, mse, "MSE per channel", "the photo: the elbow"),
        (ks, sil, "mean silhouette", f"the photo: the silhouette ({len(sample)} pixels)"),
    )
    for p, (kk, values, ylabel, title) in enumerate(panels):
        ax = fig.add_subplot(2, 2, p + 1)
        ax.plot(kk, values, "o-", color="C0" if p % 2 == 0 else "C3")
        best = int(np.argmax(values)) if p % 2 else None
        if best is not None:
            ax.plot([kk[best]], [values[best]], "o", ms=12, mfc="none", mec="k")
        ax.set_xlabel("k")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.95, bottom=0.08, wspace=0.25, hspace=0.4)
    save(fig, out, "pitfall_choosing_k.png", s.dpi)

    summ.section("pitfalls: silhouette, four blobs (kmeans, rng=0)")
    for k, r, v in zip(toy_ks, toy, toy_sil, strict=True):
        summ.add(f"k={k}", f"inertia {r.inertia:.1f}, silhouette {v:.3f}")
    summ.add("k with the largest silhouette", toy_ks[int(np.argmax(toy_sil))])
    summ.section(f"pitfalls: silhouette, the photo ({len(sample)} pixels, extract_palette)")
    for k, m_, v in zip(ks, mse, sil, strict=True):
        summ.add(f"k={k}", f"MSE {m_:.2f}, silhouette {v:.3f}")
    summ.add("k with the largest silhouette", ks[int(np.argmax(sil))])


def random_palettes(photo: Photo, k: int, n: int) -> dict[str, list[NDArray]]:
    """Palettes that skip K-Means: random colours, random pixels, a k-means++ start."""
    share = photo.counts / photo.n_pixels
    colors = photo.colors.astype(np.float64)
    out: dict[str, list[NDArray]] = {
        "random colours": [],
        "random pixels": [],
        "k-means++ start": [],
    }
    for sd in range(n):
        rng = np.random.default_rng(sd)
        out["random colours"].append(rng.integers(0, 256, size=(k, 3), dtype=np.uint8))
        idx = rng.choice(photo.colors.shape[0], size=k, replace=False, p=share)
        out["random pixels"].append(photo.colors[idx])
        start = kmeans_plusplus(colors, k, sample_weight=photo.counts, rng=sd)
        out["k-means++ start"].append(np.clip(np.rint(start), 0, 255).astype(np.uint8))
    return out


BASELINES = ("random colours", "random pixels", "k-means++ start", "K-Means")


def fig_random_palettes(photos: dict[str, Photo], s: Settings, out: Path, summ: Summary) -> None:
    """MSE against k for palettes chosen without K-Means, on every photo."""
    fig = new_figure(13, 3.6)
    for p, (name, photo) in enumerate(photos.items()):
        ks = cap_ks(s.random_ks, photo.colors.shape[0])
        curves: dict[str, list[float]] = {m: [] for m in BASELINES}
        summ.section(f"pitfalls: random palettes on {name} (mean of {s.n_random_palettes})")
        summ.add("shape", photo.image.shape)
        for k in ks:
            for method, palettes in random_palettes(photo, k, s.n_random_palettes).items():
                errors = [mse_psnr(recolor(photo.image, pal), photo.image)[0] for pal in palettes]
                curves[method].append(float(np.mean(errors)))
            curves["K-Means"].append(mse_psnr(quantize(photo.image, k), photo.image)[0])
            summ.add(
                f"k={k} MSE",
                ", ".join(f"{m} {curves[m][-1]:.1f}" for m in BASELINES),
            )
        ax = fig.add_subplot(1, len(photos), p + 1)
        for c, method in enumerate(BASELINES):
            ax.plot(ks, curves[method], "o-", ms=3, color=f"C{c}", label=method)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ks)
        ax.set_xticklabels([str(k) for k in ks])
        ax.minorticks_off()
        ax.set_xlabel("k")
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3, which="both")
        if p == 0:
            ax.set_ylabel("MSE per channel")
            ax.legend(fontsize=8, loc="lower left")
    fig.subplots_adjust(left=0.06, right=0.99, top=0.9, bottom=0.15, wspace=0.25)
    save(fig, out, "pitfall_random.png", s.dpi)

    # The main photo at k_main: what a random palette looks like.
    name, photo = next(iter(photos.items()))
    k = min(s.k_main, photo.colors.shape[0])
    palettes = random_palettes(photo, k, 1)
    h, w = photo.image.shape[:2]
    grid = PanelGrid(1, 3, 2.8, 2.8 * h / w)
    for c, method in enumerate(("random colours", "random pixels")):
        q = recolor(photo.image, palettes[method][0])
        show_quantized(grid, 0, c, q, f"{method}: MSE {mse_psnr(q, photo.image)[0]:.0f}")
    q = quantize(photo.image, k)
    show_quantized(grid, 0, 2, q, f"K-Means: MSE {mse_psnr(q, photo.image)[0]:.0f}")
    grid.suptitle(f"k = {k} colours chosen three ways (seed 0)")
    save(grid.fig, out, "pitfall_random_photo.png", s.dpi, indexed=True)


SPACES = {"rgb": "fitted in RGB", "oklab": "fitted in Oklab", "perceptual": "perceptual mode"}
# The quantize options of each fit above.
FIT_OPTIONS: dict[str, dict[str, str]] = {
    "rgb": {},
    "oklab": {"space": "oklab"},
    "perceptual": {"mode": "perceptual"},
}


def largest_gap_window(gain: NDArray, side: int) -> tuple[int, int]:
    """Top-left corner of the side x side window (on a side/2 grid) where ``gain`` sums highest."""
    h, w = gain.shape
    side = min(side, h, w)
    step = max(side // 2, 1)
    best, corner = -np.inf, (0, 0)
    for y in range(0, h - side + 1, step):
        for x in range(0, w - side + 1, step):
            total = float(gain[y : y + side, x : x + side].sum())
            if total > best:
                best, corner = total, (y, x)
    return corner


def fig_perceptual(photos: dict[str, Photo], s: Settings, out: Path, summ: Summary) -> None:
    """The palette that minimises the MSE against one fitted where distance follows sight."""
    fits: dict[str, dict[str, tuple[NDArray, object]]] = {}
    for name, photo in photos.items():
        k = min(s.k_main, photo.colors.shape[0])
        ref = Reference.of(photo.image)
        fits[name] = {}
        summ.section(f"pitfalls: MSE against perception on {name} (quantize, k={k})")
        for space in SPACES:
            q = quantize(photo.image, k, **FIT_OPTIONS[space])
            e = ref.errors(q)
            fits[name][space] = (q, e)
            summ.add(
                space,
                f"MSE {e.mse:.2f}, dE76 {e.delta_e:.2f}, Oklab difference {e.oklab:.4f}",
            )

    # Where the two fits differ most to the eye (by the Oklab difference).
    name, photo = pick(photos, "astronaut")
    ref = Reference.of(photo.image)
    d = {
        space: np.linalg.norm(srgb_to_oklab(fits[name][space][0] / 255.0) - ref.oklab, axis=-1)
        for space in SPACES
    }
    side = min(s.crop, *photo.image.shape[:2])
    y, x = largest_gap_window(d["rgb"] - d["oklab"], side)
    crop = (slice(y, y + side), slice(x, x + side))
    zoom = s.zoom
    grid = PanelGrid(1, 1 + len(SPACES), side * zoom / 100, side * zoom / 100)
    ax = grid.photo(0, 0)
    ax.imshow(photo.image[crop], interpolation="nearest")
    ax.set_title("the photo", fontsize=10)
    ax.axis("off")
    for c, space in enumerate(SPACES, start=1):
        q, e = fits[name][space]
        show_quantized(
            grid,
            0,
            c,
            q[crop],
            f"{SPACES[space]}: {d[space][crop].mean():.3f}",
        )
    k = min(s.k_main, photo.colors.shape[0])
    grid.suptitle(f"{name}, k = {k}, a {side} x {side} crop: mean Oklab difference")
    save(grid.fig, out, "pitfall_perceptual.png", s.dpi, indexed=True)
    summ.add(f"crop of {name}", f"{side} x {side} at row {y}, column {x}")
    for space in SPACES:
        summ.add(f"crop, {space}: mean Oklab difference", f"{d[space][crop].mean():.4f}")
