"""Regenerate every figure of the learners' pages, and the numbers they quote.

Usage, from the repository root (``-m`` puts the root first on the import
path, so the ``kmeans_quant`` beside these docs is the one drawn)::

    python -m docs.make_figures                  # full run, into docs/figures
    python -m docs.make_figures --quick --out /tmp/figs --image my.png

One module per section of the tutorial draws that section's figures:
:mod:`.picture` (the landing page's picture, and pixels as points),
:mod:`.steps_2d` (assignment and update), :mod:`.seeding` (k-means++),
:mod:`.convergence`, :mod:`.engine` (the vectorized distances beside the
plain loops), :mod:`.choosing_k`, :mod:`.baselines`, :mod:`.dithering`,
:mod:`.oklab` and :mod:`.perceptual` (the importance map); :mod:`.pitfalls`
draws the chapter "Where K-Means goes wrong" (with scikit-image's sample
photos in a full run); :mod:`.common` holds what they share. They call the
library's public API only:
:func:`kmeans_steps` for the iteration-by-iteration pictures (the very loop
:func:`kmeans` runs), the step functions for the 2-D walkthrough, and
:func:`kmeans_plusplus`, :func:`kmeans`, :func:`quantize` and
:func:`extract_palette` elsewhere; errors in CIELAB and Oklab come from
:mod:`kmeans_quant.colorspace`, and the block-mean error from the library's
metrics (see :mod:`.common`). Every random choice comes from a fixed seed,
so a rerun redraws the same figures and rewrites the same ``summary.txt``;
the tutorial and the chapter quote that file, and
``tests/test_tutorial_numbers.py`` checks every number they quote.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from .baselines import fig_baselines
from .choosing_k import fig_k_curve, fig_k_sweep, fig_palettes
from .common import FULL, QUICK, Reference, Settings, Summary, fit_steps, load_photo
from .convergence import fig_convergence, fig_iterations
from .dithering import fig_dither
from .engine import fig_roundoff
from .oklab import fig_oklab
from .perceptual import fig_importance
from .picture import fig_landing, fig_rgb_space
from .pitfalls import (
    fig_empty_clusters,
    fig_perceptual,
    fig_random_palettes,
    fig_restarts,
    fig_shapes,
    fig_silhouette,
    sample_photos,
    too_many_clusters,
)
from .seeding import fig_init_compare, fig_seeding
from .steps_2d import fig_walkthrough

ROOT = Path(__file__).resolve().parents[2]


DEFAULT_IMAGE = ROOT / "kmeans_quant" / "data" / "chelsea.png"


DEFAULT_OUT = Path(__file__).resolve().parents[1] / "figures"


#: Every file a run writes into ``--out``.
FIGURES = (
    "landing.png",
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
    "perceptual.png",
    "pitfall_restarts.png",
    "pitfall_empty.png",
    "pitfall_shapes.png",
    "pitfall_choosing_k.png",
    "pitfall_random.png",
    "pitfall_random_photo.png",
    "pitfall_perceptual.png",
)


SUMMARY = "summary.txt"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m docs.make_figures", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--image",
        type=Path,
        default=DEFAULT_IMAGE,
        help="8-bit RGB(A) picture (default: the bundled chelsea.png)",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: docs/figures)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small, fast run: fewer k values, seeds and points"
    )
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

    fig_landing(photo, s, out, summ)
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
    fig_importance(photo, s, out, summ)

    # Where K-Means goes wrong (docs/pitfalls.md).
    photos = sample_photos(photo, s)
    fig_restarts(photos, s, out, summ)
    fig_empty_clusters(photos, s, out, summ)
    too_many_clusters(photos, s, summ)
    fig_shapes(s, out, summ)
    fig_silhouette(photo, s, out, summ)
    fig_random_palettes(photos, s, out, summ)
    fig_perceptual(photos, s, out, summ)

    (out / SUMMARY).write_text(summ.text())
    print(summ.text(), end="")
    return out
