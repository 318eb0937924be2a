"""Section 3: random starts against k-means++, on eight blobs and on the photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kmeans_quant import (
    assign_labels,
    kmeans,
    kmeans_plusplus,
    kmeans_steps,
)

from .common import (
    EIGHT_BLOBS,
    SEED_BLOBS,
    Settings,
    Summary,
    blobs,
    draw_state,
    new_figure,
    save,
    updates,
)


def fig_seeding(s: Settings, out: Path, summ: Summary) -> dict[str, NDArray]:
    """Random starts against k-means++: the 2-D example, and all seeds summarised."""
    X = blobs(EIGHT_BLOBS, s.blob_size, 0.8, SEED_BLOBS)
    k = 8
    seeds = range(s.n_blob_seeds)
    res = {
        init: [kmeans(X, k, init=init, rng=sd) for sd in seeds] for init in ("random", "k-means++")
    }
    inertia = {init: np.array([r.inertia for r in rs]) for init, rs in res.items()}
    best = min(inertia["k-means++"].min(), inertia["random"].min())
    stuck = {init: int(np.sum(v > 1.05 * best)) for init, v in inertia.items()}

    # The picture: the first seed whose random start ends in a worse local
    # optimum than k-means++ from the same seed (the tally below says how typical).
    shown = next((sd for sd in seeds if inertia["random"][sd] > 1.05 * inertia["k-means++"][sd]), 0)
    pad = 1.5
    extent = (X[:, 0].min() - pad, X[:, 0].max() + pad, X[:, 1].min() - pad, X[:, 1].max() + pad)
    fig = new_figure(11, 10)
    rng_start = {
        "random": next(kmeans_steps(X, k, init="random", rng=shown)).centers,
        "k-means++": kmeans_plusplus(X, k, rng=shown),
    }
    for row, init in enumerate(("random", "k-means++")):
        c0 = rng_start[init]
        lab0, d0 = assign_labels(X, c0)
        draw_state(
            fig.add_subplot(2, 2, 2 * row + 1),
            X,
            c0,
            lab0,
            extent,
            f"{init} start (rng={shown}): inertia {d0.sum():.0f}",
            grid=s.grid,
        )
        r = res[init][shown]
        draw_state(
            fig.add_subplot(2, 2, 2 * row + 2),
            X,
            r.centers,
            r.labels,
            extent,
            f"after {updates(r.n_iter)}: inertia {r.inertia:.0f}",
            grid=s.grid,
        )
    fig.suptitle("Eight blobs, k = 8: where the starts fall decides the optimum reached")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.01, wspace=0.04, hspace=0.12)
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
        summ.add(
            f"  {init} start -> final inertia (updates)",
            f"{start_inertia:.1f} -> {r.inertia:.1f} ({r.n_iter})",
        )
    return inertia


def fig_init_compare(
    photo, s: Settings, out: Path, summ: Summary, blob_inertia: dict[str, NDArray]
) -> None:
    """Random starts vs k-means++ on the photo over several seeds, plus the blobs."""
    k = min(s.k_main, photo.colors.shape[0])
    inits = ("random", "k-means++")
    start_mse, final_mse, iters = {}, {}, {}
    for init in inits:
        s0, s1, n = [], [], []
        for sd in range(s.n_seeds):
            # Record 0 of kmeans_steps is the start kmeans draws from the same seed.
            first = next(
                kmeans_steps(photo.colors, k, sample_weight=photo.counts, init=init, rng=sd)
            )
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
            ax.scatter(x + jitter[: v.size], v, s=18, color=f"C{x}", alpha=0.8, linewidths=0)
            ax.hlines(v.mean(), x - 0.25, x + 0.25, color="k", lw=2)
        ax.set_xticks([0, 1])
        ax.set_xticklabels(inits)
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(
        f"Random starts vs k-means++ over {s.n_seeds} seeds each on the photo "
        f"and {n_blob_seeds} on the blobs (black bars: means)"
    )
    fig.subplots_adjust(left=0.05, right=0.99, top=0.83, bottom=0.09, wspace=0.35)
    save(fig, out, "init_compare.png", s.dpi)

    summ.section(f"random vs k-means++ on the photo (kmeans, k={k}, tol=1e-4)")
    summ.add("seeds per init", s.n_seeds)
    for init in inits:
        summ.add(
            f"{init}: start MSE mean [min, max]",
            f"{start_mse[init].mean():.1f} [{start_mse[init].min():.1f}, "
            f"{start_mse[init].max():.1f}]",
        )
        summ.add(
            f"{init}: final MSE mean [min, max]",
            f"{final_mse[init].mean():.2f} [{final_mse[init].min():.2f}, "
            f"{final_mse[init].max():.2f}]",
        )
        summ.add(
            f"{init}: updates mean [min, max]",
            f"{iters[init].mean():.1f} [{iters[init].min()}, {iters[init].max()}]",
        )
    gap = final_mse["random"].mean() - final_mse["k-means++"].mean()
    summ.add("final MSE, random minus k-means++ (means)", f"{gap:.2f}")
