"""Section 4: the photo fit iteration by iteration, and the centre-shift stopping rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import SEED_FIT, Settings, Summary, draw_swatch, new_figure, save, updates


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
    fig.suptitle(
        f"K-Means with k = {k}: the photo painted with each iteration's centres "
        "(swatch widths: share of pixels)",
        y=1 - 0.2 / H,
    )
    save(fig, out, "iterations.png", s.dpi, indexed=True)
    for st in panels[1:]:
        summ.add(f"iteration {st.iteration} MSE", f"{photo.mse(st.inertia):.2f}")


def fig_convergence(photo, steps, s: Settings, out: Path, summ: Summary, tol: float = 1e-4) -> None:
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
    ax2.axhline(threshold, color="k", ls="--", lw=1, label=f"tol · mean variance = {threshold:.3g}")
    ax2.set_xlabel("iteration")
    ax2.set_ylabel(r"$\Delta_t = \sum_j \Vert c_j^{(t)} - c_j^{(t-1)} \Vert^2$")
    ax2.set_title("Total squared centre shift per update")
    ax2.grid(alpha=0.3, which="both")
    ax2.legend()
    fig.suptitle(f"Convergence of the k = {s.k_main} fit (tol = {tol:g})")
    fig.subplots_adjust(left=0.08, right=0.98, top=0.85, bottom=0.13, wspace=0.25)
    save(fig, out, "convergence.png", s.dpi)

    rises = int(np.sum(np.diff(mse) > 1e-9 * mse[0]))
    why = "shift <= threshold" if last.shift <= threshold else "labels unchanged"
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
