"""Icons with soft alpha: error and file size against pngquant and libimagequant.

Each icon is drawn large with Pillow and scaled down, so its edges are
antialiased (many partial alphas). Every method writes an indexed PNG with
a tRNS chunk at ``k`` colours, dithering off:

* this library: ``quantize(icon, k, alpha="fit")`` then ``write_image``;
* libimagequant (the ``imagequant`` package), ``dithering_level=0``;
* pngquant, the real binary (the ``pngquant-cli`` package provides it),
  ``--nofs``.

The error is the mean squared error per channel in premultiplied RGBA
(0-255 units), the measure pngquant itself minimises: colour under low
alpha counts for less. Sizes are of the PNG files each method writes.
A peer that is not installed is skipped with a line saying so.

Run from the repository root::

    python -m benchmarks.icons --out docs            # docs/icons.md
    python -m benchmarks.icons --quick --out /tmp     # seconds
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from kmeans_quant import quantize
from kmeans_quant.io import read_image, write_image

KS = (8, 32, 128)
SIZES = (64, 128, 256)


def make_icons(size: int) -> dict[str, NDArray[np.uint8]]:
    """Three antialiased RGBA icons of ``size`` pixels: badge, ring with shadow, glyph."""
    s = 8 * size
    icons = {}
    im = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.rounded_rectangle(
        (s // 16, s // 16, s - s // 16, s - s // 16), s // 6, fill=(30, 120, 220, 255)
    )
    d.ellipse((s // 4, s // 4, 3 * s // 4, 3 * s // 4), fill=(250, 250, 250, 230))
    d.polygon(
        [(s // 2, s // 3), (2 * s // 3, 2 * s // 3), (s // 3, 2 * s // 3)], fill=(240, 60, 40, 255)
    )
    icons["badge"] = im
    im = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    for r in range(12):  # a soft shadow: rings of growing alpha
        pad = s // 8 + r * s // 96
        d.ellipse(
            (pad + s // 32, pad + s // 32, s - pad + s // 32, s - pad + s // 32),
            fill=(0, 0, 0, 10 + 8 * r),
        )
    d.ellipse((s // 8, s // 8, s - s // 8, s - s // 8), outline=(250, 180, 20, 255), width=s // 10)
    icons["ring"] = im
    im = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    for i, colour in enumerate([(200, 30, 90), (30, 160, 90), (90, 60, 200)]):
        x = s // 8 + i * s // 4
        d.rectangle(
            (x, s // 4 + i * s // 12, x + s // 6, 7 * s // 8), fill=colour + (255 - 60 * i,)
        )
    d.line((s // 8, s // 5, 7 * s // 8, s // 5), fill=(20, 20, 20, 200), width=s // 40)
    icons["glyph"] = im
    return {
        name: np.asarray(i.resize((size, size), Image.Resampling.LANCZOS))
        for name, i in icons.items()
    }


def premultiplied_mse(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """Mean squared error per channel of premultiplied RGBA, 0-255 units."""

    def pm(x: NDArray[np.uint8]) -> NDArray[np.float64]:
        x = x.astype(np.float64)
        return np.concatenate([x[..., :3] * x[..., 3:] / 255.0, x[..., 3:]], axis=-1)

    return float(np.mean((pm(a) - pm(b)) ** 2))


def _ours(icon: NDArray[np.uint8], k: int, dest: Path) -> None:
    write_image(dest, quantize(icon, k, alpha="fit"), force=True)


def _imagequant(icon: NDArray[np.uint8], k: int, dest: Path) -> None:
    import imagequant

    out = imagequant.quantize_pil_image(Image.fromarray(icon), dithering_level=0.0, max_colors=k)
    out.save(dest, optimize=True)


def _pngquant(icon: NDArray[np.uint8], k: int, dest: Path) -> None:
    src = dest.with_name(dest.stem + "_in.png")
    Image.fromarray(icon).save(src)
    subprocess.run(
        ["pngquant", "--nofs", "--force", "--output", str(dest), str(k), str(src)],
        check=True,
        capture_output=True,
    )


def methods() -> tuple[dict[str, Callable], list[str]]:
    """The methods that can run here, and a line for each that cannot."""
    found: dict[str, Callable] = {"kmeans_quant": _ours}
    missing = []
    try:
        import imagequant  # noqa: F401

        found["libimagequant"] = _imagequant
    except ImportError:
        missing.append("libimagequant skipped: pip install imagequant")
    if shutil.which("pngquant"):
        found["pngquant"] = _pngquant
    else:
        missing.append("pngquant skipped: no pngquant binary (pip install pngquant-cli)")
    return found, missing


def run(sizes=SIZES, ks=KS) -> tuple[dict, list[str]]:
    """``{(method, k): (mean MSE, total bytes)}`` over all icons and sizes."""
    found, missing = methods()
    results: dict[tuple[str, int], tuple[float, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in ks:
            for name, method in found.items():
                errors, total = [], 0
                for size in sizes:
                    for icon_name, icon in make_icons(size).items():
                        dest = Path(tmp) / f"{name}_{icon_name}_{size}_{k}.png"
                        method(icon, k, dest)
                        errors.append(premultiplied_mse(read_image(dest), icon))
                        total += dest.stat().st_size
                results[(name, k)] = (float(np.mean(errors)), total)
    return results, missing


def report(results: dict, missing: list[str], sizes, ks) -> str:
    names = sorted({m for m, _ in results}, key=lambda m: m != "kmeans_quant")
    lines = [
        "# Icons with soft alpha: error and size",
        "",
        "Written by `python -m benchmarks.icons --out docs` (see the module for the",
        f"method). Three antialiased RGBA icons at {', '.join(map(str, sizes))} px; error is the",
        "mean squared error per channel in premultiplied RGBA (0-255 units), size the",
        "total bytes of the indexed PNGs each method writes (dithering off).",
        "",
        "| k | method | MSE (premultiplied) | MSE / ours | bytes | bytes / ours |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for k in ks:
        ref_err, ref_size = results[("kmeans_quant", k)]
        for m in names:
            err, size = results[(m, k)]
            lines.append(
                f"| {k} | {m} | {err:.2f} | {err / ref_err:.2f} | {size} | {size / ref_size:.2f} |"
            )
    lines += [""] + [f"* {line}" for line in missing]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one size, one k")
    p.add_argument("--out", default="docs", help="folder for icons.md")
    args = p.parse_args(argv)
    sizes, ks = ((48,), (16,)) if args.quick else (SIZES, KS)
    results, missing = run(sizes, ks)
    text = report(results, missing, sizes, ks)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "icons.md").write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
