"""Dithering, memory and stage-profile measures, side by side with C peers.

* dithering: ``recolor`` with Floyd-Steinberg and ordered dithering, a
  plain ``recolor``, Pillow's C Floyd-Steinberg onto the same palette, and
  libimagequant's quantize-plus-dither, at 1 and 12 MP for k = 16 and 256;
  Oklab against RGB Floyd-Steinberg; thin images (1 x N, N x 1) against a
  square one of as many pixels, per pixel;
* memory: peak resident memory above the input (``/proc`` high-water mark,
  see :mod:`benchmarks.measure`) of ``quantize`` and libimagequant along a
  size ladder up to 48 MP, each case in a fresh process;
* stages: where ``quantize``'s time goes at 0.3 and 12 MP
  (:mod:`benchmarks.stages`).

Usage::

    python -m benchmarks.bars --out docs/bench/bars.json
    python -m benchmarks.bars --quick            # small sizes, seconds
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from . import images as image_set
from .measure import peak_above_input
from .stages import profile_stages
from .sweep import best_time, libimagequant, write_json

LADDER_MP = (0.3, 1.0, 3.0, 12.0, 48.0)


def photo(mp: float) -> NDArray[np.uint8]:
    """A mosaic of the bundled photos with about ``mp`` megapixels (4:3)."""
    rows = int(round(np.sqrt(mp * 1e6 * 3 / 4)))
    photos = [p for n in image_set.TUNING if (p := image_set.load_photo(n)) is not None]
    return image_set.mosaic(photos or [image_set.package_photo()], shape=(rows, rows * 4 // 3))


def pillow_fs(image: NDArray[np.uint8], palette: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Pillow's C Floyd-Steinberg onto a fixed palette."""
    from PIL import Image

    pal_img = Image.new("P", (1, 1))
    flat = palette.reshape(-1).tolist()
    pal_img.putpalette(flat + flat[:3] * (256 - palette.shape[0]))
    out = Image.fromarray(image).quantize(palette=pal_img, dither=Image.Dither.FLOYDSTEINBERG)
    return np.asarray(out.convert("RGB"))


def libimagequant_dithered(image: NDArray[np.uint8], k: int) -> None:
    import imagequant

    h, w = image.shape[:2]
    rgba = np.dstack([image, np.full((h, w), 255, np.uint8)])
    imagequant.quantize_raw_rgba_bytes(
        rgba.tobytes(), w, h, dithering_level=1.0, max_colors=k, min_quality=0, max_quality=100
    )


def dithering(sizes: tuple[float, ...], ks: tuple[int, ...], repeats: int) -> list[dict]:
    from kmeans_quant import extract_palette, recolor

    rows = []
    for mp in sizes:
        img = photo(mp)
        for k in ks:
            pal = extract_palette(img, k)
            t = {
                "plain": best_time(partial(recolor, img, pal), repeats)[0],
                "fs": best_time(partial(recolor, img, pal, dither="floyd-steinberg"), repeats)[0],
                "fs_oklab": best_time(
                    partial(recolor, img, pal, dither="floyd-steinberg", space="oklab"), 1
                )[0],
                "ordered": best_time(partial(recolor, img, pal, dither="ordered"), repeats)[0],
                "pillow_fs": best_time(partial(pillow_fs, img, pal.colors), repeats)[0],
                "lib_dither": best_time(partial(libimagequant_dithered, img, k), repeats)[0],
            }
            rows.append({"megapixels": mp, "k": k, **t})
            print(
                f"{mp:5.1f} MP k={k:3d} fs={t['fs']:.2f}s ({t['fs'] / t['pillow_fs']:.0f}x Pillow)"
                f" ordered/plain={t['ordered'] / t['plain']:.1f}"
                f" oklab/rgb={t['fs_oklab'] / t['fs']:.2f}",
                file=sys.stderr,
                flush=True,
            )
    return rows


def dither_k(mp: float, ks: tuple[int, ...], repeats: int, *, fs: bool) -> list[dict]:
    """Plain recolor, ordered dithering and (with ``fs``) Floyd-Steinberg beside
    Pillow's, at every k of ``ks`` on one image; the methods interleaved."""
    from kmeans_quant import extract_palette, recolor

    img = photo(mp)
    rows = []
    for k in ks:
        pal = extract_palette(img, k)
        calls = {
            "plain": partial(recolor, img, pal),
            "ordered": partial(recolor, img, pal, dither="ordered"),
        }
        if fs:
            calls["fs"] = partial(recolor, img, pal, dither="floyd-steinberg")
            calls["pillow_fs"] = partial(pillow_fs, img, pal.colors)
        best = dict.fromkeys(calls, float("inf"))
        for _ in range(repeats):
            for name, call in calls.items():
                best[name] = min(best[name], best_time(call, 1)[0])
        rows.append({"megapixels": mp, "k": k, **best})
        fs_note = f" fs/Pillow={best['fs'] / best['pillow_fs']:.1f}" if fs else ""
        print(
            f"{mp:5.1f} MP k={k:3d} ordered/plain={best['ordered'] / best['plain']:.2f}{fs_note}",
            file=sys.stderr,
            flush=True,
        )
    return rows


def thin(n: int, k: int) -> dict:
    """Floyd-Steinberg seconds per pixel: 1 x n, n x 1 and a square of n pixels."""
    from kmeans_quant import extract_palette, recolor

    side = int(np.sqrt(n))
    square = photo(side * side / 1e6)[:side, :side]
    pal = extract_palette(square, k)
    flat = square.reshape(1, -1, 3)
    out = {}
    for name, img in (
        ("square", square),
        ("row", flat),
        ("column", np.ascontiguousarray(flat.reshape(-1, 1, 3))),
    ):
        secs = best_time(partial(recolor, img, pal, dither="floyd-steinberg"), 1)[0]
        out[name] = secs / (img.shape[0] * img.shape[1])
    print(
        f"thin k={k}: row/square={out['row'] / out['square']:.1f}"
        f" column/square={out['column'] / out['square']:.1f}",
        file=sys.stderr,
        flush=True,
    )
    return {"pixels": side * side, "k": k, **out}


def _memory_case(method: str, mp: float, k: int) -> dict:
    img = photo(mp)
    if method == "kmeans_quant":
        from kmeans_quant import quantize

        func = partial(quantize, img, k)
    else:
        func = partial(libimagequant, img, k)
    _, peak, secs = peak_above_input(func)
    return {"method": method, "megapixels": mp, "k": k, "peak_mib": peak, "seconds": secs}


def memory(sizes: tuple[float, ...], k: int) -> list[dict]:
    """Each (method, size) in a fresh process, so one case's peak cannot hide another's."""
    rows = []
    for mp in sizes:
        for method in ("kmeans_quant", "libimagequant"):
            code = (
                "import json, sys; from benchmarks.bars import _memory_case; "
                f"print(json.dumps(_memory_case({method!r}, {mp}, {k})))"
            )
            res = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            )
            row = json.loads(res.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"memory {method} {mp} MP: {row['peak_mib']:.0f} MiB", file=sys.stderr)
    return rows


def stages(sizes: tuple[float, ...], ks: tuple[int, ...]) -> list[dict]:
    from kmeans_quant import quantize

    rows = []
    for mp in sizes:
        img = photo(mp)
        for k in ks:
            quantize(img, k)  # warm up
            rows.append({"megapixels": mp, "k": k, **profile_stages(partial(quantize, img, k))})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--only",
        choices=("dithering", "dither_k", "thin", "memory", "stages"),
        action="append",
        help="run only these measures (default: all)",
    )
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    if args.quick:
        plan = {
            "dithering": lambda: dithering((0.05,), (16,), 1),
            "dither_k": lambda: dither_k(0.05, (16, 200), 1, fs=True),
            "thin": lambda: [thin(2500, 16)],
            "memory": lambda: memory((0.05,), 16),
            "stages": lambda: stages((0.05,), (16,)),
        }
    else:
        plan = {
            "dithering": lambda: dithering((1.0, 12.0), (16, 256), 1),
            "dither_k": lambda: (
                dither_k(12.0, (16, 64, 128, 192, 256), 2, fs=True)
                + dither_k(1.0, (2, 4, 8, 16, 32, 64, 128, 256), 3, fs=False)
            ),
            "thin": lambda: [thin(250_000, 16), thin(250_000, 256)],
            "memory": lambda: memory(LADDER_MP, 64),
            "stages": lambda: stages((0.3, 12.0), (16, 64, 256)),
        }
    result = {name: run() for name, run in plan.items() if not args.only or name in args.only}
    result["seconds"] = time.perf_counter() - t0
    write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
