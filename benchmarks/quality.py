"""Quality of every way to choose a palette: RGB MSE and CIELAB ΔE76.

The speed suite (:mod:`benchmarks.run`) compares K-Means against its peers
on time, memory and MSE. This one compares the palettes themselves, in two
measures of error: the mean squared RGB error per channel and the mean
ΔE76 (Euclidean distance in CIELAB, D65), which follows perceived colour
difference more closely. Methods: this library's K-Means in RGB and in
Oklab, its NumPy median cut and uniform grid (the classic baselines), and
the fast peers (Pillow's median cut and octree, libimagequant; skipped when
not installed). scikit-learn's recipe is left to the speed suite, whose
tables already give its MSE.

Run from the repository root::

    python -m benchmarks.quality --out docs          # docs/quality.md, about a minute
    python -m benchmarks.quality --quick --out /tmp  # one tiny image, seconds
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kmeans_quant import quantize
from kmeans_quant.metrics import mean_delta_e76

from .images import HELDOUT, TUNING, load_photo, package_photo, resize
from .methods import METHODS, Output, availability

KS = (16, 64, 256)


def _ours(**options: str):
    def run(image: NDArray[np.uint8], k: int) -> Output:
        return Output(quantize(image, k, **options))

    return run


# name -> (function, how it is called)
QUALITY_METHODS = {
    "kmeans_quant (rgb)": (_ours(), "`quantize(img, k)`"),
    "kmeans_quant (oklab)": (_ours(space="oklab"), "`quantize(img, k, space='oklab')`"),
    "median cut (NumPy)": (_ours(method="median-cut"), "`quantize(img, k, method='median-cut')`"),
    "uniform (NumPy)": (_ours(method="uniform"), "`quantize(img, k, method='uniform')`"),
}
PEERS = ("pillow_mediancut", "pillow_octree", "libimagequant")


def mean_delta_e(out: NDArray[np.uint8], ref: NDArray[np.uint8]) -> float:
    """Mean ΔE76 between two uint8 RGB images (:func:`kmeans_quant.metrics.mean_delta_e76`)."""
    return mean_delta_e76(out, ref)


def measure(images: dict[str, NDArray[np.uint8]], ks: tuple[int, ...]) -> list[dict]:
    methods = {name: fn for name, (fn, _) in QUALITY_METHODS.items()}
    for peer in PEERS:
        if availability(peer) is None:
            methods[peer] = METHODS[peer].func
    rows = []
    for img_name, img in images.items():
        for k in ks:
            for name, fn in methods.items():
                out = fn(img, k).image
                d = out.astype(np.float64) - img
                rows.append(
                    {
                        "image": img_name,
                        "k": k,
                        "method": name,
                        "mse": float((d * d).mean()),
                        "de": mean_delta_e(out, img),
                    }
                )
    return rows


def report(
    rows: list[dict], images: dict[str, NDArray[np.uint8]], ks: tuple[int, ...], seconds: float
) -> str:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = [
        "# Palette quality: RGB MSE and CIELAB ΔE76",
        "",
        f"Written by `python -m benchmarks.quality` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in {seconds:.0f} s. "
        f"Images: {', '.join(images)}. Dithering off everywhere.",
        "MSE is per channel on 0-255 values; ΔE76 is the mean CIELAB (D65) distance per pixel.",
        "",
        "| method | how |",
        "|---|---|",
    ]
    for m in methods:
        how = QUALITY_METHODS[m][1] if m in QUALITY_METHODS else METHODS[m].settings
        lines.append(f"| {m} | {how} |")
    for measure_key, title in (("mse", "MSE"), ("de", "mean ΔE76")):
        lines += [
            "",
            f"## {title}, mean over the images",
            "",
            "| method | " + " | ".join(f"k={k}" for k in ks) + " |",
            "|---|" + "---|" * len(ks),
        ]
        for m in methods:
            vals = [
                np.mean([r[measure_key] for r in rows if r["method"] == m and r["k"] == k])
                for k in ks
            ]
            lines.append(f"| {m} | " + " | ".join(f"{v:.2f}" for v in vals) + " |")
    lines += [
        "",
        "## Every case",
        "",
        "| image | k | method | MSE | mean ΔE76 |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['image']} | {r['k']} | {r['method']} | {r['mse']:.2f} | {r['de']:.3f} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.quality", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="one tiny image, k=16")
    parser.add_argument("--out", default="docs", help="folder for quality.md (default: docs)")
    args = parser.parse_args(argv)
    if args.quick:
        images = {"chelsea-tiny": resize(package_photo(), (60, 90))}
        ks = (16,)
    else:
        images = {n: img for n in TUNING + HELDOUT if (img := load_photo(n)) is not None}
        ks = KS
    start = time.perf_counter()
    rows = measure(images, ks)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "quality.md").write_text(report(rows, images, ks, time.perf_counter() - start))
    print(f"wrote {out / 'quality.md'} ({len(rows)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
