"""Markdown tables of the k sweep (:mod:`benchmarks.sweep`) and the bars (:mod:`benchmarks.bars`).

Usage::

    python -m benchmarks.sweep_report docs/bench/sweep.json docs/bench/bars.json
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path


def _fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def sweep_tables(rows: list[dict]) -> str:
    ks = sorted({r["k"] for r in rows})
    images = list(dict.fromkeys(r["image"] for r in rows))
    by = {(r["image"], r["k"]): r for r in rows}
    head = "| image | kind | " + " | ".join(f"k={k}" for k in ks) + " |\n"
    rule = "|---|---|" + "---|" * len(ks) + "\n"
    out = []
    for title, key in (
        ("MSE / scikit-learn recipe's MSE (bar: <= 1.02)", "sk"),
        ("MSE / libimagequant's MSE (bar: < 1)", "lib"),
        ("libimagequant's time / quantize's time (bar: > 1)", "speed"),
    ):
        lines = [f"#### {title}\n\n", head, rule]
        for im in images:
            cells = []
            for k in ks:
                r = by.get((im, k))
                if r is None:
                    cells.append("-")
                elif key == "sk":
                    cells.append(_fmt(r["kq_mse"] / r["sk_mse"]) if r["sk_mse"] else "-")
                elif key == "lib":
                    cells.append(_fmt(r["kq_mse"] / r["lib_mse"]) if r["lib_mse"] else "-")
                else:
                    cells.append(_fmt(r["lib_s"] / r["kq_s"], 2))
            lines.append(f"| {im} | {by[(im, ks[0])]['kind']} | " + " | ".join(cells) + " |\n")
        out.append("".join(lines))
    photos = [r for r in rows if r["kind"] == "photo" and r["pixels"] >= 250_000]
    if photos:
        gm = math.exp(sum(math.log(r["lib_s"] / r["kq_s"]) for r in photos) / len(photos))
        out.append(
            f"Geometric mean over photos of 0.25 MP or more and every k of "
            f"libimagequant's time / quantize's: **{gm:.2f}** (bar: >= 1.5).\n"
        )
    sk = [r["kq_mse"] / r["sk_mse"] for r in rows if r["sk_mse"]]
    if not sk:
        return "\n".join(out)
    out.append(
        f"Worst MSE ratio to scikit-learn over the sweep: **{max(sk):.3f}**; "
        f"cases above 1.02: {sum(x > 1.02 for x in sk)} of {len(sk)}.\n"
    )
    sixteen = [r for r in rows if "kq_8bit_s" in r]
    if sixteen:
        worst = max(r["kq_s"] / r["kq_8bit_s"] for r in sixteen)
        out.append(
            f"16-bit time / same content in 8-bit, worst over k: **{worst:.2f}** (bar: <= 2).\n"
        )
    return "\n".join(out)


def bars_tables(res: dict) -> str:
    out = [
        "#### Dithering (seconds; ratios against Pillow's C Floyd-Steinberg and plain recolor)\n"
    ]
    out.append(
        "| MP | k | plain | FS | FS / Pillow FS (bar <= 10) | ordered / plain (bar <= 2) "
        "| FS Oklab / RGB (bar <= 1.5) | libimagequant + dither |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    for r in res.get("dithering", []):
        out.append(
            f"| {r['megapixels']:g} | {r['k']} | {r['plain']:.2f} | {r['fs']:.2f} | "
            f"{r['fs'] / r['pillow_fs']:.1f} | {r['ordered'] / r['plain']:.1f} | "
            f"{r['fs_oklab'] / r['fs']:.2f} | {r['lib_dither']:.2f} |\n"
        )
    rows_k = res.get("dither_k", [])
    if rows_k:
        out.append(
            "\n#### Dithering at every k (seconds, best of the interleaved repeats)\n\n"
            "| MP | k | plain | ordered | ordered / plain (bar <= 2) | FS | Pillow FS "
            "| FS / Pillow FS (bar <= 10) |\n|---|---|---|---|---|---|---|---|\n"
        )
        for r in rows_k:
            fs = (
                f"{r['fs']:.2f} | {r['pillow_fs']:.3f} | {r['fs'] / r['pillow_fs']:.1f}"
                if "fs" in r
                else "- | - | -"
            )
            out.append(
                f"| {r['megapixels']:g} | {r['k']} | {r['plain']:.3f} | {r['ordered']:.3f} | "
                f"{r['ordered'] / r['plain']:.2f} | {fs} |\n"
            )
    out.append("\n#### Thin images: Floyd-Steinberg time per pixel against a square (bar <= 2)\n\n")
    out.append("| pixels | k | 1 x N / square | N x 1 / square |\n|---|---|---|---|\n")
    for r in res.get("thin", []):
        out.append(
            f"| {r['pixels']} | {r['k']} | {r['row'] / r['square']:.1f} | "
            f"{r['column'] / r['square']:.1f} |\n"
        )
    out.append("\n#### Peak memory above the input (MiB), k=64\n\n")
    out.append(
        "| MP | quantize | libimagequant | quantize s | libimagequant s |\n|---|---|---|---|---|\n"
    )
    mem = {(r["method"], r["megapixels"]): r for r in res.get("memory", [])}
    for mp in sorted({r["megapixels"] for r in res.get("memory", [])}):
        a, b = mem.get(("kmeans_quant", mp)), mem.get(("libimagequant", mp))
        if a and b:
            out.append(
                f"| {mp:g} | {a['peak_mib']:.0f} | {b['peak_mib']:.0f} | "
                f"{a['seconds']:.2f} | {b['seconds']:.2f} |\n"
            )
    out.append("\n#### Stage profile of quantize (seconds, cProfile)\n\n")
    st = res.get("stages", [])
    if st:
        names = [n for n in st[0] if n not in ("megapixels", "k")]
        out.append(
            "| stage | " + " | ".join(f"{r['megapixels']:g} MP k={r['k']}" for r in st) + " |\n"
        )
        out.append("|---|" + "---|" * len(st) + "\n")
        for n in names:
            out.append(f"| {n.strip()} | " + " | ".join(_fmt(r[n]) for r in st) + " |\n")
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    print(sweep_tables(json.loads(Path(args[0]).read_text())))
    if len(args) > 1 and Path(args[1]).exists():
        print(bars_tables(json.loads(Path(args[1]).read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
