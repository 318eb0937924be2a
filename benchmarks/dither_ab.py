"""Dithering kernels of this tree against those of a base commit, side by side.

The base commit's ``kmeans_quant/dither/_ordered.py`` and
``_error_diffusion.py`` are read with ``git show`` and loaded next to the
current ones; each case then runs ``recolor`` with the base kernel and the
current one alternately in this one process, on the same image and
palette, and keeps the best time of each (the machine is shared). Cases:

* ordered dithering and Floyd-Steinberg on the photo mosaic at 1 and
  12 MP, k = 16 and 256, with a plain ``recolor`` and Pillow's C
  Floyd-Steinberg for scale, and the block-mean error of each output;
* Floyd-Steinberg on a 1 x N row and an N x 1 column against a square of
  N pixels, seconds per pixel.

Usage::

    python -m benchmarks.dither_ab --base 43b8324 --out docs/bench/dither_ab.json
    python -m benchmarks.dither_ab --quick
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import types
from functools import partial
from pathlib import Path

import numpy as np

import kmeans_quant.dither as dither
from kmeans_quant import extract_palette, recolor
from kmeans_quant.metrics import block_mean_error

from .bars import photo, pillow_fs
from .sweep import best_time, write_json

KERNELS = {"ordered": "_ordered", "floyd_steinberg": "_error_diffusion"}
METHODS = {"ordered": "ordered", "floyd_steinberg": "floyd-steinberg"}


def base_kernels(commit: str) -> dict[str, object]:
    """The dithering kernels as they were at ``commit``."""
    out = {}
    for name, module in KERNELS.items():
        path = f"kmeans_quant/dither/{module}.py"
        source = subprocess.run(
            ["git", "show", f"{commit}:{path}"], capture_output=True, text=True, check=True
        ).stdout
        mod = types.ModuleType(f"kmeans_quant.dither.base{module}")
        mod.__package__ = "kmeans_quant.dither"
        exec(compile(source, f"{commit}:{path}", "exec"), mod.__dict__)
        out[name] = getattr(mod, name)
    return out


def timed(kernel: str, func, impl, repeats: int) -> tuple[float, np.ndarray]:
    """Best time and output of ``func`` with ``dither.<kernel>`` set to ``impl``."""
    saved = getattr(dither, kernel)
    setattr(dither, kernel, impl)
    try:
        return best_time(func, repeats)
    finally:
        setattr(dither, kernel, saved)


def ab(kernel: str, func, base, repeats: int) -> dict:
    """Base and current kernel alternately, ``repeats`` rounds."""
    current = getattr(dither, kernel)
    t_base = t_new = float("inf")
    for _ in range(repeats):
        tb, out_base = timed(kernel, func, base, 1)
        tn, out_new = timed(kernel, func, current, 1)
        t_base, t_new = min(t_base, tb), min(t_new, tn)
    return {
        "base": t_base,
        "new": t_new,
        "same": bool(np.array_equal(out_base, out_new)),
        "out_base": out_base,
        "out_new": out_new,
    }


def photos(sizes, ks, base, repeats) -> list[dict]:
    rows = []
    for mp in sizes:
        img = photo(mp)
        for k in ks:
            pal = extract_palette(img, k)
            plain_t, plain = best_time(partial(recolor, img, pal), repeats + 1)
            row = {
                "megapixels": mp,
                "k": k,
                "plain": plain_t,
                "pillow_fs": best_time(partial(pillow_fs, img, pal.colors), repeats)[0],
                "bme_plain": block_mean_error(plain, img),
            }
            for kernel, method in METHODS.items():
                r = ab(kernel, partial(recolor, img, pal, dither=method), base[kernel], repeats)
                row[kernel] = {
                    "base": r["base"],
                    "new": r["new"],
                    "same": r["same"],
                    "bme_base": block_mean_error(r["out_base"], img),
                    "bme_new": block_mean_error(r["out_new"], img),
                }
                print(
                    f"{mp:4.1f} MP k={k:3d} {kernel}: base {r['base']:.2f}s new {r['new']:.2f}s"
                    f" (plain {plain_t:.2f}s) same={r['same']}",
                    file=sys.stderr,
                    flush=True,
                )
            rows.append(row)
    return rows


def thin(n: int, ks, base, repeats) -> list[dict]:
    side = int(np.sqrt(n))
    square = photo(side * side / 1e6)[:side, :side]
    flat = square.reshape(1, -1, 3)
    shapes = {"square": square, "row": flat, "column": np.ascontiguousarray(flat.reshape(-1, 1, 3))}
    rows = []
    for k in ks:
        pal = extract_palette(square, k)
        row: dict = {"pixels": side * side, "k": k}
        for name, img in shapes.items():
            r = ab(
                "floyd_steinberg",
                partial(recolor, img, pal, dither="floyd-steinberg"),
                base["floyd_steinberg"],
                repeats,
            )
            row[name] = {
                "base": r["base"] / img.size * 3,
                "new": r["new"] / img.size * 3,
                "same": r["same"],
            }
        print(
            f"thin k={k}: row/square base {row['row']['base'] / row['square']['base']:.1f}"
            f" new {row['row']['new'] / row['square']['new']:.1f}; column/square base"
            f" {row['column']['base'] / row['square']['base']:.1f}"
            f" new {row['column']['new'] / row['square']['new']:.1f}",
            file=sys.stderr,
            flush=True,
        )
        rows.append(row)
    return rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", default="43b8324", help="commit whose kernels to compare with")
    p.add_argument("--out", type=Path, help="write the figures here (JSON)")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="0.3 MP and 20k-pixel lines only")
    args = p.parse_args(argv)
    base = base_kernels(args.base)
    sizes, n = ((0.3,), 20_000) if args.quick else ((1.0, 12.0), 250_000)
    result = {
        "base": args.base,
        "photos": photos(sizes, (16, 256), base, args.repeats),
        "thin": thin(n, (16, 256), base, args.repeats),
    }
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
