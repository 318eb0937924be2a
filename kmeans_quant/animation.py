r"""Animated GIFs of K-Means at work, drawn from :func:`kmeans_quant.kmeans_steps`.

Two pictures of the same loop:

* :func:`animate_photo` fits a palette to a photo's distinct colours
  (weighted by their pixel counts, which gives the same objective as the
  pixels themselves) and shows, frame by frame, the colour cloud in the RGB
  cube with the centres moving through it, the photo painted with the
  centres of that iteration, and the mean squared error so far.
* :func:`animate_2d` shows points in the plane, coloured by their label,
  with the centres and the paths they have taken, beside the same error
  curve: the toy walkthrough of the tutorial, in motion.

Each frame is one :class:`~kmeans_quant.KMeansStep`: iteration 0 is the
assignment to the starting centres, every later frame one update followed
by one assignment. Frames are drawn with matplotlib's Agg canvas (no
display needed) and written by :func:`kmeans_quant.frames.write_frames`
with one shared palette.

matplotlib is needed only when a function here is called; ``import
kmeans_quant`` never imports it. From the command line::

    python -m kmeans_quant.animation -k 8 -o chelsea.gif      # the bundled photo
    python -m kmeans_quant.animation photo.jpg -k 16 -o out.gif
    python -m kmeans_quant.animation --toy -k 4 -o toy.gif
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .color_table import color_table
from .engine._lloyd import KMeansStep, kmeans_steps
from .frames import write_frames

__all__ = ["animate_photo", "animate_2d", "select_steps", "toy_blobs", "main"]

# Frame timing: the start and the result are held longer than the steps.
_FIRST_MS, _STEP_MS, _LAST_MS = 1200, 450, 2500
_PALETTE_CYCLE = (
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:gray",
    "tab:olive",
    "tab:cyan",
)


def _matplotlib() -> Any:
    """Import matplotlib's Agg figure machinery, or say how to get it."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(
            "kmeans_quant.animation needs matplotlib to draw frames; install it "
            "with `python -m pip install matplotlib` (or the project's [docs] extra)"
        ) from err
    return Figure, FigureCanvasAgg


def select_steps(steps: Sequence[KMeansStep], max_frames: int) -> list[KMeansStep]:
    """Keep at most ``max_frames`` records, always the first and the last.

    The kept records are spread evenly over the run, so a long run is shown
    at a steady pace rather than cut short.

    Parameters
    ----------
    steps : sequence of KMeansStep
        The records of one run, in order.
    max_frames : int
        Largest number of records to keep, at least 2.

    Returns
    -------
    list of KMeansStep

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import kmeans_steps
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> steps = list(kmeans_steps(X, 2, init=X[:2]))
    >>> [s.iteration for s in steps]
    [0, 1, 2]
    >>> [s.iteration for s in select_steps(steps, 2)]
    [0, 2]
    """
    if int(max_frames) != max_frames or max_frames < 2:
        raise ValueError(f"max_frames must be an integer >= 2, got {max_frames!r}")
    if len(steps) <= max_frames:
        return list(steps)
    keep = np.unique(np.rint(np.linspace(0, len(steps) - 1, int(max_frames))).astype(int))
    return [steps[i] for i in keep]


def _durations(n: int) -> list[int]:
    if n == 1:
        return [_LAST_MS]
    return [_FIRST_MS] + [_STEP_MS] * (n - 2) + [_LAST_MS]


def _render(fig: Any, canvas: Any) -> NDArray[np.uint8]:
    """Draw the figure and return its pixels as uint8 RGB."""
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _mse_axes(ax: Any, n_iter: int, mse: NDArray) -> Any:
    """An error-curve panel with fixed limits, so the axes never jump."""
    ax.set_xlim(-0.5, max(n_iter, 1) + 0.5)
    span = mse.max() - mse.min()
    ax.set_ylim(mse.min() - 0.05 * span - 1e-9, mse.max() + 0.05 * span + 1e-9)
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean squared error")
    ax.grid(alpha=0.3)
    (line,) = ax.plot([], [], "o-", color="k", markersize=3)
    return line


def animate_photo(
    image: ArrayLike,
    k: int,
    path: str | os.PathLike,
    *,
    rng: int | None = 0,
    max_frames: int = 30,
    max_iter: int = 300,
    n_points: int = 1500,
    relax: float = 1.0,
    dpi: int = 72,
    force: bool = False,
) -> Path:
    r"""Animate the K-Means fit of a photo's palette as a GIF.

    The fit is :func:`~kmeans_quant.kmeans_steps` on the photo's distinct
    colours :math:`u` with weights :math:`n_u` (their pixel counts), which
    minimises the same inertia as the pixels,
    :math:`J = \sum_u n_u \min_j \lVert u - c_j \rVert^2`. Every frame
    shows one record of that run:

    * left, the colour cloud in the RGB cube: ``n_points`` distinct colours
      drawn with probability proportional to their counts, each in its own
      colour, and the centres as large dots with the path they have taken;
    * middle, the photo with every pixel replaced by its centre;
    * right, the mean squared error per channel,
      :math:`J / (3 N)` for :math:`N` pixels, up to this iteration.

    Parameters
    ----------
    image : array_like, uint8 of shape (H, W, 3) or (H, W, 4)
        The photo; an alpha channel is ignored. Large photos make large
        GIFs: a side of 100 to 200 pixels is plenty.
    k : int
        Number of colours.
    path : str or os.PathLike
        Where to write the GIF.
    rng : int or None, default 0
        Seed of the k-means++ start and of the points drawn in the cloud.
    max_frames : int, default 30
        At most this many records become frames (see :func:`select_steps`).
    max_iter : int, default 300
        Passed to :func:`~kmeans_quant.kmeans_steps`.
    n_points : int, default 1500
        Distinct colours drawn in the 3-D cloud.
    relax : float, default 1.0
        Passed to :func:`~kmeans_quant.kmeans_steps`.
    dpi : int, default 72
        Resolution of the frames (each is 11 x 3.6 inches).
    force : bool, default False
        Overwrite ``path`` if it exists.

    Returns
    -------
    pathlib.Path
        ``path``, now holding the GIF.

    Raises
    ------
    ValueError
        If ``image`` is not uint8 RGB or RGBA.
    ImportError
        If matplotlib is not installed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import imageio.v3 as iio
    >>> from importlib.resources import files
    >>> from kmeans_quant.animation import animate_photo
    >>> photo = iio.imread(files("kmeans_quant") / "data" / "chelsea.png")[::6, ::6]
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "cat.gif"
    >>> animate_photo(photo, 4, out, max_frames=4, n_points=200, dpi=40).name
    'cat.gif'
    """
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(
            f"expected a uint8 image of shape (H, W, 3) or (H, W, 4), got dtype "
            f"{img.dtype} and shape {img.shape}"
        )
    img = np.ascontiguousarray(img[..., :3])
    Figure, FigureCanvasAgg = _matplotlib()
    h, w = img.shape[:2]
    table = color_table(img.reshape(-1, 3))
    colors = table.colors.astype(np.float64)
    all_steps = list(
        kmeans_steps(colors, k, sample_weight=table.counts, rng=rng, max_iter=max_iter, relax=relax)
    )
    steps = select_steps(all_steps, max_frames)
    mse_all = np.array([s.inertia for s in all_steps]) / (3 * h * w)

    # The cloud: a fixed sample of distinct colours, likelier where pixels are many.
    gen = np.random.default_rng(rng)
    n_draw = min(n_points, len(colors))
    pick = gen.choice(len(colors), size=n_draw, replace=False, p=table.counts / table.counts.sum())
    cloud = colors[pick]

    fig = Figure(figsize=(11, 3.6), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax3 = fig.add_subplot(1, 3, 1, projection="3d")
    ax3.scatter(*cloud.T, c=cloud / 255, s=4, alpha=0.5, depthshade=False, linewidths=0)
    for set_lim, set_label, name in (
        (ax3.set_xlim, ax3.set_xlabel, "R"),
        (ax3.set_ylim, ax3.set_ylabel, "G"),
        (ax3.set_zlim, ax3.set_zlabel, "B"),
    ):
        set_lim(0, 255)
        set_label(name)
    ax3.view_init(elev=20, azim=-60)
    centres = ax3.scatter([], [], [], s=90, edgecolors="k", linewidths=1.2, depthshade=False)
    trails = [ax3.plot([], [], [], "-", color="k", lw=0.8, alpha=0.7)[0] for _ in range(k)]

    ax_img = fig.add_subplot(1, 3, 2)
    ax_img.set_axis_off()
    shown = ax_img.imshow(img, interpolation="nearest")
    ax_err = fig.add_subplot(1, 3, 3)
    line = _mse_axes(ax_err, all_steps[-1].iteration, mse_all)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.15, top=0.88, wspace=0.25)

    frames = []
    for step in steps:
        c = step.centers
        upto = [s for s in all_steps if s.iteration <= step.iteration]
        path_xyz = np.array([s.centers for s in upto])  # (t, k, 3)
        palette = np.clip(np.rint(c), 0, 255).astype(np.uint8)
        centres._offsets3d = (c[:, 0], c[:, 1], c[:, 2])
        centres.set_facecolors(palette / 255)
        for j, trail in enumerate(trails):
            trail.set_data_3d(path_xyz[:, j, 0], path_xyz[:, j, 1], path_xyz[:, j, 2])
        shown.set_data(table.paint(step.labels, palette).reshape(h, w, 3))
        line.set_data([s.iteration for s in upto], mse_all[: len(upto)])
        state = "converged" if step.converged else ("start" if step.iteration == 0 else "")
        fig.suptitle(
            f"k = {k}, iteration {step.iteration}  {state}".rstrip()
            + f"   MSE {mse_all[len(upto) - 1]:.2f}"
        )
        frames.append(_render(fig, canvas))
    return write_frames(path, frames, durations_ms=_durations(len(frames)), force=force)


def animate_2d(
    X: ArrayLike,
    k: int,
    path: str | os.PathLike,
    *,
    init: str | ArrayLike = "k-means++",
    rng: int | None = 0,
    max_frames: int = 30,
    max_iter: int = 300,
    dpi: int = 72,
    force: bool = False,
) -> Path:
    r"""Animate K-Means on points in the plane as a GIF.

    Each frame shows the points coloured by their label, the centres as
    crosses with the paths they have taken, the shaded region closest to
    each centre (its Voronoi cell), and the inertia
    :math:`J = \sum_i \min_j \lVert x_i - c_j \rVert^2` up to that
    iteration.

    Parameters
    ----------
    X : array_like, shape (n_samples, 2)
        The points.
    k : int
        Number of clusters, at most 10 (one colour each).
    path : str or os.PathLike
        Where to write the GIF.
    init : {"k-means++", "random"} or array_like of shape (k, 2)
        Starting centres, passed to :func:`~kmeans_quant.kmeans_steps`; a
        deliberately poor start makes the longest walk.
    rng : int or None, default 0
        Seed of the start.
    max_frames, max_iter, force
        As for :func:`animate_photo`.
    dpi : int, default 72
        Resolution of the frames (each is 8 x 3.8 inches).

    Returns
    -------
    pathlib.Path
        As for :func:`animate_photo`.

    Raises
    ------
    ValueError
        If ``X`` is not of shape (n_samples, 2) or ``k`` exceeds 10.
    ImportError
        If matplotlib is not installed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from kmeans_quant.animation import animate_2d
    >>> X = np.random.default_rng(0).normal(size=(60, 2)) + np.repeat([[0, 0], [6, 6]], 30, 0)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "toy.gif"
    >>> animate_2d(X, 2, out, init=X[:2], dpi=40).name
    'toy.gif'
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"expected points of shape (n_samples, 2), got {X.shape}")
    if k > len(_PALETTE_CYCLE):
        raise ValueError(f"animate_2d draws at most {len(_PALETTE_CYCLE)} clusters, got k={k}")
    Figure, FigureCanvasAgg = _matplotlib()
    from matplotlib.colors import ListedColormap, to_rgb

    all_steps = list(kmeans_steps(X, k, init=init, rng=rng, max_iter=max_iter, tol=0))
    steps = select_steps(all_steps, max_frames)
    inertia = np.array([s.inertia for s in all_steps])

    pad = 0.08 * np.ptp(X, axis=0).max()
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 160), np.linspace(lo[1], hi[1], 160))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    colours = np.array([to_rgb(c) for c in _PALETTE_CYCLE[:k]])
    light = ListedColormap(1 - 0.25 * (1 - colours))

    fig = Figure(figsize=(8, 3.8), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 2, 1)
    regions = ax.imshow(
        np.zeros(gx.shape),
        extent=(lo[0], hi[0], lo[1], hi[1]),
        origin="lower",
        cmap=light,
        vmin=-0.5,
        vmax=k - 0.5,
        interpolation="nearest",
    )
    points = ax.scatter(
        X[:, 0],
        X[:, 1],
        s=12,
        c=np.zeros(len(X)),
        cmap=ListedColormap(colours),
        vmin=-0.5,
        vmax=k - 0.5,
        edgecolors="none",
    )
    trails = [ax.plot([], [], "-", color="k", lw=1)[0] for _ in range(k)]
    crosses = ax.scatter(
        np.zeros(k),
        np.zeros(k),
        marker="X",
        s=140,
        c=colours,
        edgecolors="k",
        linewidths=1.2,
        zorder=3,
    )
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax_err = fig.add_subplot(1, 2, 2)
    line = _mse_axes(ax_err, all_steps[-1].iteration, inertia)
    ax_err.set_ylabel("inertia J")
    fig.subplots_adjust(left=0.03, right=0.97, bottom=0.14, top=0.88, wspace=0.25)

    frames = []
    for step in steps:
        upto = [s for s in all_steps if s.iteration <= step.iteration]
        path_xy = np.array([s.centers for s in upto])
        d2 = ((grid[:, None, :] - step.centers[None, :, :]) ** 2).sum(axis=2)
        regions.set_data(d2.argmin(axis=1).reshape(gx.shape))
        points.set_array(step.labels.astype(float))
        crosses.set_offsets(step.centers)
        for j, trail in enumerate(trails):
            trail.set_data(path_xy[:, j, 0], path_xy[:, j, 1])
        line.set_data([s.iteration for s in upto], inertia[: len(upto)])
        what = "start (assignment only)" if step.iteration == 0 else "update + assignment"
        done = ", labels stable" if step.converged else ""
        fig.suptitle(f"iteration {step.iteration}: {what}{done}   J = {inertia[len(upto) - 1]:.1f}")
        frames.append(_render(fig, canvas))
    return write_frames(path, frames, durations_ms=_durations(len(frames)), force=force)


def toy_blobs(seed: int = 7) -> NDArray[np.float64]:
    """240 points in four Gaussian blobs of 60, the tutorial's 2-D example.

    Parameters
    ----------
    seed : int, default 7
        Seed of the generator that draws the points.

    Returns
    -------
    ndarray of float64, shape (240, 2)
        The blobs around (0, 0), (5, 1), (1, 5) and (6, 6), standard
        deviation 0.9, one after the other.

    Examples
    --------
    >>> from kmeans_quant.animation import toy_blobs
    >>> toy_blobs().shape
    (240, 2)
    """
    centres = np.array([[0.0, 0.0], [5.0, 1.0], [1.0, 5.0], [6.0, 6.0]])
    gen = np.random.default_rng(seed)
    return np.concatenate([c + gen.normal(scale=0.9, size=(60, 2)) for c in centres])


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m kmeans_quant.animation",
        description="Animate K-Means (kmeans_steps) as a GIF: a photo's palette fit, "
        "or with --toy a 2-D walkthrough.",
    )
    p.add_argument("image", nargs="?", help="photo to fit (default: the bundled chelsea.png)")
    p.add_argument("-k", type=int, default=8, help="number of colours/clusters (default 8)")
    p.add_argument("-o", "--output", default=None, help="GIF to write (default: kmeans_<k>.gif)")
    p.add_argument("--toy", action="store_true", help="animate four blobs in the plane instead")
    p.add_argument(
        "--max-side",
        type=int,
        default=150,
        help="shrink the photo (by whole-pixel steps) until no side exceeds this",
    )
    p.add_argument("--max-frames", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="overwrite the output")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> Path:
    """Command-line entry: ``python -m kmeans_quant.animation [image] -k K -o out.gif``."""
    args = _parse(argv)
    out = args.output or (f"kmeans_toy_{args.k}.gif" if args.toy else f"kmeans_{args.k}.gif")
    if args.toy:
        X = toy_blobs()
        # The four leftmost points: a poor start, so the centres travel far.
        start = X[np.argsort(X[:, 0])[: args.k]]
        written = animate_2d(
            X, args.k, out, init=start, max_frames=args.max_frames, force=args.force
        )
    else:
        from .io import read_image

        src = args.image or str(files("kmeans_quant") / "data" / "chelsea.png")
        img = read_image(src)
        if img.dtype != np.uint8:
            raise SystemExit(f"expected an 8-bit image, {src} has dtype {img.dtype}")
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        stride = max(1, -(-max(img.shape[:2]) // args.max_side))
        written = animate_photo(
            img[::stride, ::stride],
            args.k,
            out,
            rng=args.seed,
            max_frames=args.max_frames,
            force=args.force,
        )
    print(f"wrote {written}")
    return written


def _command() -> int:
    """``python -m kmeans_quant.animation``: errors (matplotlib missing, a bad
    file) are one line, never a traceback."""
    prog = "python -m kmeans_quant.animation"
    try:
        main()
    except ImportError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError, TypeError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(_command())
