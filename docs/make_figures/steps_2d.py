"""Section 2: assignment and update, written out with the step functions, in the plane."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kmeans_quant import (
    assign_labels,
    kmeans_steps,
    squared_distances,
    update_centers,
)

from .common import (
    FOUR_BLOBS,
    SEED_BLOBS,
    Settings,
    Summary,
    blobs,
    draw_state,
    new_figure,
    save,
    updates,
)


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
    extent = (X[:, 0].min() - pad, X[:, 0].max() + pad, X[:, 1].min() - pad, X[:, 1].max() + pad)
    fig = new_figure(14, 7.6)
    axes = [fig.add_subplot(2, 4, i + 1) for i in range(8)]
    draw_state(
        axes[0],
        X,
        start,
        None,
        extent,
        "the points and k = 4 starting centres",
        grid=s.grid,
        regions=False,
    )
    # Panels 2-7: assignment 0, update 1, assignment 1, update 2, ...
    panel = 1
    t = 0
    while panel < 7 and t < len(history):
        c_t, lab_t = history[t]
        if panel % 2 == 1:  # assignment with the centres of iteration t
            which = "starting centre" if t == 0 else f"centre after update {t}"
            draw_state(
                axes[panel],
                X,
                c_t,
                lab_t,
                extent,
                f"assignment {t}: each point to its\nnearest {which}",
                grid=s.grid,
            )
            t += 1
        else:  # update t: means of the clusters of assignment t-1
            prev_c, prev_lab = history[t - 1]
            draw_state(
                axes[panel],
                X,
                c_t,
                prev_lab,
                extent,
                f"update {t}: each centre to the mean\nof its points",
                grid=s.grid,
                regions=False,
                arrows_from=prev_c,
            )
        panel += 1
    for ax in axes[panel:7]:
        ax.axis("off")
    final_c, final_lab = history[-1]
    trail = np.stack([c for c, _ in history])
    n_up = len(history) - 1
    draw_state(
        axes[7],
        X,
        final_c,
        final_lab,
        extent,
        f"labels stable after {updates(n_up)}\n(black lines: each centre's path)",
        grid=s.grid,
        trail=trail,
    )
    fig.suptitle("Lloyd's algorithm in 2-D: assignment and update, alternated")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.01, wspace=0.04, hspace=0.2)
    save(fig, out, "walkthrough_2d.png", s.dpi)

    summ.section("2-D walkthrough (four blobs, start = four leftmost points)")
    summ.add("points", X.shape[0])
    summ.add("updates until labels stable", n_up)
    summ.add(
        "inertia per iteration",
        ", ".join(
            f"{float(np.sum(np.min(squared_distances(X, c), axis=1))):.1f}" for c, _ in history
        ),
    )
    summ.add("step-function loop equals kmeans_steps(tol=0)", agree)
