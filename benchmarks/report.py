"""The report: ``benchmarks.md`` with its tables, and the PNG plots beside it.

Everything here formats results that :mod:`benchmarks.run` measured; nothing
is measured again. Plots need matplotlib; without it the report says so and
keeps its tables.
"""

from __future__ import annotations

import math
from pathlib import Path

from .methods import METHODS
from .stages import LLOYD_PARTS, STAGES
from .summary import Bar, geomean, index, photo_sets

PLOTS = {
    "time_vs_k": "Time against k (geometric mean over the photos)",
    "mse_vs_time": "MSE against time, one point per method and k (photos)",
    "time_vs_size": "Time against image size",
    "stages": "Where the time of `quantize` goes",
}


# --------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------


def fmt_s(t: float | None) -> str:
    if t is None or (isinstance(t, float) and math.isnan(t)):
        return "—"
    if t >= 100:
        return f"{t:.0f} s"
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} µs"


def fmt(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return f"{x:.{digits}g}" if abs(x) < 10**digits else f"{x:,.0f}"


def fmt_mib(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f} MiB" if x >= 10 else f"{x:.1f} MiB"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------


def summary_section(bars: list[Bar]) -> str:
    out = [
        "## Summary: the speed bars",
        "",
        "Ratios between methods measured in this run, on the same images and k. "
        "Time ratios are geometric means over the cases (peer time / `quantize` time: "
        "above 1 means `quantize` is faster); MSE ratios are `quantize` / peer (below 1 "
        "means `quantize` is closer to the original).",
        "",
    ]
    for bar in bars:
        out += [f"### {bar.title}: **{bar.verdict}**", "", f"Bar: {bar.bar}.", ""]
        if bar.note:
            out += [bar.note, ""]
        if not bar.rows:
            out += ["Not measured in this run.", ""]
            continue
        if bar.key in ("a", "b"):
            out.append(
                table(
                    [
                        "set",
                        "cases",
                        "speed ratio (geo-mean)",
                        "mean MSE ratio",
                        "worst MSE ratio",
                        "worst case",
                        "verdict",
                    ],
                    [
                        [
                            r["set"],
                            r["cases"],
                            f"{r['speedup']:.2f}x",
                            f"{r['mse_mean']:.4f}",
                            f"{r['mse_worst']:.4f}",
                            r["worst_case"],
                            r["verdict"],
                        ]
                        for r in bar.rows
                    ],
                )
            )
        elif bar.key == "c":
            out.append(
                table(
                    [
                        "k",
                        "time quantize",
                        "time libimagequant",
                        "MSE quantize",
                        "MSE libimagequant",
                        "peak above input, quantize",
                        "peak, libimagequant",
                        "verdict",
                    ],
                    [
                        [
                            r["k"],
                            fmt_s(r["t_ours"]),
                            fmt_s(r["t_liq"]),
                            fmt(r["mse_ours"], 4),
                            fmt(r["mse_liq"], 4),
                            fmt_mib(r["peak_ours"]),
                            fmt_mib(r["peak_liq"]),
                            r["verdict"],
                        ]
                        for r in bar.rows
                    ],
                )
            )
        else:
            out.append(naive_table(bar.rows))
        if bar.key in "ab":
            out += ["", "The bar's verdict is that of the `overall` row."]
        out.append("")
    return "\n".join(out)


def naive_table(rows: list[dict]) -> str:
    def ratio(x):
        return "—" if math.isnan(x) else f"{x:.0f}x"

    return table(
        [
            "points",
            "k",
            "iterations (short, long)",
            "labels identical",
            "plain loops / iteration",
            "vectorized / iteration",
            "ratio per iteration",
            "ratio of whole long calls",
            "verdict",
        ],
        [
            [
                r["n_points"],
                r["k"],
                ", ".join(map(str, r["iterations"])),
                "yes" if r["labels_identical"] else "NO",
                fmt_s(r.get("plain_loops_per_iter_s")),
                fmt_s(r.get("vectorized_per_iter_s")),
                ratio(r["ratio"]),
                ratio(r["call_ratio"]),
                r["verdict"],
            ]
            for r in rows
        ],
    )


def naive_section(bar: Bar, results: list[dict], images: list[dict]) -> str:
    small = {i["name"] for i in images if i["group"] == "small"}
    rows = [
        r
        for r in results
        if r.get("case") == "quantize" and r.get("status") == "ok" and r["image"] in small
    ]
    out = [
        "## Plain loops against the vectorized engine",
        "",
        "Per Lloyd iteration, from the same starting centres on the same pixels (bar d). "
        "The cost of one iteration is the extra time of the long run over the short one, "
        "per extra iteration, so what each call does once (validation, centring, "
        "converting the data, the first assignment) cancels out; the ratio of the whole "
        "long calls, which keeps that fixed cost in, is shown beside it.",
        "",
        naive_table(bar.rows) if bar.rows else "Not measured.",
    ]
    if rows:
        rows.sort(key=lambda r: r["time_s"])
        out += [
            "",
            "End to end on a small photo (every pixel; the plain loops fit with "
            "default settings, then the classic palette lookup):",
            "",
            case_table(rows),
        ]
    return "\n".join(out)


def machine_section(machine: dict) -> str:
    rows = [[k, v] for k, v in machine.items()]
    return "## Machine\n\n" + table(["", ""], rows)


def images_section(images: list[dict], missing: list[str]) -> str:
    rows = [
        [
            im["name"],
            im["group"],
            f"{im['shape'][1]} x {im['shape'][0]}",
            f"{im['shape'][0] * im['shape'][1] / 1e6:.2f}",
            f"{im['n_colors']:,}",
        ]
        for im in images
    ]
    out = [
        "## Images",
        "",
        "Photos bundled with scikit-image and scikit-learn (no download). The *tuning* "
        "photos are the ones the engine's defaults were tuned on; the *held-out* photos "
        "were not used for tuning. The 12 MP image is a mosaic of the photos, each "
        "cropped to its tile's shape and enlarged with bicubic interpolation, which gives "
        "it a realistic number of distinct colours; the size ladder is that mosaic "
        "shrunk (bicubic, antialiased).",
        "",
        table(["image", "set", "width x height", "megapixels", "distinct colours"], rows),
    ]
    if missing:
        out += ["", "Not available offline, so not measured: " + "; ".join(missing) + "."]
    return "\n".join(out)


def methods_section(avail: dict[str, str | None], results: list[dict]) -> str:
    measured = {r.get("method") for r in results if r.get("status") == "ok"}
    rows = [
        [
            f"`{m.name}`",
            m.settings,
            "measured" if m.name in measured else avail.get(m.name) or "not in this run",
        ]
        for m in METHODS.values()
    ]
    return "\n".join(
        [
            "## Methods",
            "",
            "Dithering is off for every method, so MSE compares palettes and "
            "nearest-colour mapping alone. Every output is a uint8 RGB image.",
            "",
            table(["method", "how it is called", "status"], rows),
        ]
    )


def photos_section(results, images, ks, methods) -> str:
    idx = index(results)
    sets = photo_sets(images)
    photos = sets["overall"]
    head = ["method"] + [f"k={k}" for k in ks]
    t_rows, m_rows = [], []
    for m in methods:
        t_cells, m_cells = [], []
        for k in ks:
            rs = [idx[(m, im, k)] for im in photos if (m, im, k) in idx]
            full = len(rs) == len(photos)
            t_cells.append(
                fmt_s(geomean([r["time_s"] for r in rs])) + ("" if full else "*") if rs else "—"
            )
            m_cells.append(
                fmt(sum(r["mse"] for r in rs) / len(rs), 4) + ("" if full else "*") if rs else "—"
            )
        if any(c != "—" for c in t_cells):
            t_rows.append([f"`{m}`"] + t_cells)
            m_rows.append([f"`{m}`"] + m_cells)
    return "\n".join(
        [
            "## Photos: time and quality",
            "",
            f"Over the {len(photos)} photos ({', '.join(photos)}). "
            "`*`: some photos missing for that method.",
            "",
            "Time, geometric mean over the photos:",
            "",
            table(head, t_rows),
            "",
            "MSE, mean over the photos:",
            "",
            table(head, m_rows),
            "",
            f"![{PLOTS['time_vs_k']}](bench/time_vs_k.png)",
            "",
            f"![{PLOTS['mse_vs_time']}](bench/mse_vs_time.png)",
        ]
    )


def case_table(rows: list[dict]) -> str:
    return table(
        [
            "image",
            "k",
            "method",
            "time (median)",
            "repeats",
            "peak above input",
            "MSE",
            "PSNR (dB)",
            "colours",
            "iterations",
            "load",
        ],
        [
            [
                r["image"],
                r["k"],
                f"`{r['method']}`",
                fmt_s(r["time_s"]),
                len(r["times"]),
                fmt_mib(r["peak_mib"]),
                fmt(r["mse"], 4),
                fmt(r["psnr"], 4),
                r["n_colors"],
                r["n_iter"] if r["n_iter"] is not None else "—",
                fmt(r.get("load_1min"), 2),
            ]
            for r in rows
        ],
    )


def large_section(results, large: str | None) -> str:
    if large is None:
        return ""
    rows = [
        r
        for r in results
        if r.get("case") == "quantize" and r["image"] == large and r.get("status") == "ok"
    ]
    rows.sort(key=lambda r: (r["k"], r["time_s"]))
    return "\n".join(
        [f"## The 12 MP image ({large})", "", case_table(rows) if rows else "Not measured."]
    )


def size_section(results, images, size_k: int) -> str:
    names = [
        im["name"]
        for im in sorted(images, key=lambda i: i["shape"][0] * i["shape"][1])
        if im["group"] in ("size", "large", "quick")
    ]
    idx = index(results)
    methods = [m for m in METHODS if any((m, n, size_k) in idx for n in names)]
    mp = {im["name"]: im["shape"][0] * im["shape"][1] / 1e6 for im in images}
    rows = [
        [f"`{m}`"]
        + [fmt_s(idx[(m, n, size_k)]["time_s"]) if (m, n, size_k) in idx else "—" for n in names]
        for m in methods
    ]
    return "\n".join(
        [
            f"## Time against image size (k={size_k})",
            "",
            table(["method"] + [f"{n} ({mp[n]:.2g} MP)" for n in names], rows),
            "",
            f"![{PLOTS['time_vs_size']}](bench/time_vs_size.png)",
        ]
    )


def stages_section(results) -> str:
    rows = [r for r in results if r.get("case") == "stages" and r.get("status") == "ok"]
    if not rows:
        return "## Where the time goes\n\nNot measured."
    labels = [s[0] for s in STAGES] + [p[0] for p in LLOYD_PARTS] + ["other", "total"]
    head = ["stage"] + [f"{r['image']}, k={r['k']}" for r in rows]
    body = []
    for lab in labels:
        cells = []
        for r in rows:
            v = r["stages"].get(lab)
            total = r["stages"]["total"]
            share = "" if v is None or lab == "total" else f" ({100 * v / total:.0f}%)"
            cells.append(fmt_s(v) + share if v is not None else "not found")
        body.append([lab.replace("  ", "&nbsp;&nbsp;")] + cells)
    return "\n".join(
        [
            "## Where the time goes",
            "",
            "One call of `quantize` per column under cProfile, in a fresh process after a warm-up "
            "call; each stage is the cumulative time of the library function that does it "
            "(`color_table.color_table`, `color_table.pool_on_grid`, `seeding.plusplus_centers`, "
            "`engine._lloyd` with its assignment (`Points.assign`) and update "
            "(`Points.sums`, `Points.means`) calls, "
            "`_pipeline.map_to_palette`, `_pipeline.expand`). The profiler adds a little overhead, "
            "so totals run slightly above the plain timings.",
            "",
            table(head, body),
            "",
            f"![{PLOTS['stages']}](bench/stages.png)",
        ]
    )


def skipped_section(results) -> str:
    groups: dict[tuple[str, str, str], list[str]] = {}
    for r in results:
        if r.get("status") == "ok":
            continue
        key = (r.get("method", r["case"]), r["status"], r.get("reason", ""))
        where = f"{r.get('image', r.get('crop', ''))} k={r.get('k', '')}"
        groups.setdefault(key, []).append(where)
    if not groups:
        return "## Skipped cases\n\nNone."
    rows = [
        [f"`{m}`", status, reason, ", ".join(cases)]
        for (m, status, reason), cases in groups.items()
    ]
    return "## Skipped cases\n\n" + table(["method", "status", "reason", "cases"], rows)


def all_cases_section(results) -> str:
    rows = [r for r in results if r.get("case") == "quantize" and r.get("status") == "ok"]
    rows.sort(key=lambda r: (r["image"], r["k"], r["time_s"]))
    return "## All measurements\n\n" + case_table(rows)


HOW = """## How it is measured

* One fresh Python process per (method, image, k), started by `benchmarks.measure`,
  holding only the input image and the method's imports. A call on a tiny image first
  does the imports and starts thread pools; then one full-size warm-up call, which is
  also the memory measurement; then up to {repeats} timed calls, fewer when a call is
  slow (the case gets about {budget:g} s), but at least {min_repeats} for the methods
  of the bars (`kmeans_quant`, `sklearn`, `libimagequant`) and at least one for the
  others; the median is reported. The `load` column is the machine's 1-minute load
  average when the case started: scikit-learn's OpenMP loops in particular slow down
  several-fold when another process holds a core, so its times vary between runs far
  more than the others'.
* Peak memory above input: the kernel's resident-set high-water mark (`VmHWM`, the
  counter behind `getrusage().ru_maxrss`) is reset through `/proc/self/clear_refs`
  just before the call, and the resident set before the call is subtracted. A child's
  `ru_maxrss` itself cannot be used directly: it starts at its parent's high-water mark.
* Quality against the original: MSE over all pixels and channels of the uint8 output,
  PSNR = 10 log10(255² / MSE), number of distinct colours in the output; iterations
  where the method reports them.
* Per-iteration cost (bar d): both implementations start from the same k-means++
  centres (`kmeans_quant.kmeans_plusplus(X, k, rng=0)`) on the same central crop of
  a photo, and run with `tol=0` for a short and a long fixed number of iterations
  (`max_iter` 2 and 8); for both lengths they must return identical labels and
  iteration counts before anything is timed. One iteration costs
  (median time of the long run - median time of the short run) / (difference in
  iterations); short and long calls alternate, so that a slow spell of the machine
  weighs on both medians alike, and the vectorized side's medians are over up to
  200 pairs of calls.
* All methods use both cores where they can (NumPy's BLAS, scikit-learn's OpenMP).
  Other jobs may have been running on this machine: treat differences under ~10% as
  noise."""


def write_markdown(
    path: Path,
    *,
    header: str,
    bars: list[Bar],
    machine: dict,
    images,
    missing,
    avail,
    results,
    ks,
    large,
    size_k,
    repeats,
    budget,
    plots_note: str,
    min_repeats: int = 1,
) -> None:
    methods = [m for m in METHODS if m != "naive"]
    parts = [
        header,
        summary_section(bars),
        machine_section(machine),
        images_section(images, missing),
        methods_section(avail, results),
        photos_section(results, images, ks, methods),
        large_section(results, large),
        size_section(results, images, size_k),
        stages_section(results),
        naive_section(bars[3], results, images),
        skipped_section(results),
        all_cases_section(results),
        HOW.format(repeats=repeats, budget=budget, min_repeats=min_repeats),
    ]
    if plots_note:
        parts.insert(1, plots_note)
    path.write_text("\n\n".join(p for p in parts if p) + "\n")


# --------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------


def write_plots(folder: Path, results, images, ks, size_k: int) -> list[Path]:
    """Write the PNG plots into ``folder``; returns their paths. Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    folder.mkdir(parents=True, exist_ok=True)
    idx = index(results)
    photos = photo_sets(images)["overall"]
    methods = [m for m in METHODS if any(key[0] == m for key in idx)]
    colour = {m: plt.cm.tab10(i % 10) for i, m in enumerate(METHODS)}
    markers = dict(zip(ks, "os^Dv", strict=False))
    written = []

    def photo_points(m):
        pts = []
        for k in ks:
            rs = [idx[(m, im, k)] for im in photos if (m, im, k) in idx]
            if rs:
                pts.append(
                    (k, geomean([r["time_s"] for r in rs]), sum(r["mse"] for r in rs) / len(rs))
                )
        return pts

    # time against k
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for m in methods:
        pts = photo_points(m)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=colour[m], label=m)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="k (colours)",
        ylabel="time (s)",
        title="Time against k, geometric mean over the photos",
    )
    ax.set_xticks(list(ks), [str(k) for k in ks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    written.append(_save(fig, folder / "time_vs_k.png"))

    # MSE against time
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m in methods:
        for k, t, e in photo_points(m):
            ax.scatter(t, e, color=colour[m], marker=markers.get(k, "o"), s=40)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colour[m], lw=5, label=m) for m in methods if photo_points(m)]
    handles += [
        Line2D([], [], color="grey", marker=markers.get(k, "o"), ls="", label=f"k={k}") for k in ks
    ]
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="time (s, geometric mean over photos)",
        ylabel="MSE (mean over photos)",
        title="Quality against time: lower left is better",
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(handles=handles, fontsize=7, ncol=2)
    written.append(_save(fig, folder / "mse_vs_time.png"))

    # time against size
    sized = sorted(
        (im for im in images if im["group"] in ("size", "large", "quick")),
        key=lambda i: i["shape"][0] * i["shape"][1],
    )
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for m in methods:
        pts = [
            (im["shape"][0] * im["shape"][1] / 1e6, idx[(m, im["name"], size_k)]["time_s"])
            for im in sized
            if (m, im["name"], size_k) in idx
        ]
        if pts:
            ax.plot(*zip(*pts, strict=True), "o-", color=colour[m], label=m)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="megapixels",
        ylabel="time (s)",
        title=f"Time against image size, k={size_k}",
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    written.append(_save(fig, folder / "time_vs_size.png"))

    # stages: growth with pixel count (at size_k) and with k (on the largest image)
    rows = [r for r in results if r.get("case") == "stages" and r.get("status") == "ok"]
    if rows:
        mp = {im["name"]: im["shape"][0] * im["shape"][1] / 1e6 for im in images}
        labels = [s[0] for s in STAGES] + ["other", "total"]
        by_size = sorted((r for r in rows if r["k"] == size_k), key=lambda r: mp[r["image"]])
        biggest = max(rows, key=lambda r: mp[r["image"]])["image"]
        by_k = sorted((r for r in rows if r["image"] == biggest), key=lambda r: r["k"])
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
        for i, lab in enumerate(labels):
            style = dict(color="black", lw=2) if lab == "total" else dict(color=plt.cm.tab10(i))
            for ax, rs, xs in (
                (axes[0], by_size, [mp[r["image"]] for r in by_size]),
                (axes[1], by_k, [r["k"] for r in by_k]),
            ):
                pts = [
                    (x, r["stages"][lab])
                    for x, r in zip(xs, rs, strict=True)
                    if r["stages"].get(lab)
                ]
                if pts:
                    ax.plot(*zip(*pts, strict=True), "o-", label=lab, **style)
        axes[0].set(
            xscale="log",
            yscale="log",
            xlabel="megapixels",
            ylabel="seconds (cProfile)",
            title=f"quantize stages against image size, k={size_k}",
        )
        axes[1].set(
            xscale="log",
            yscale="log",
            xlabel="k",
            ylabel="seconds (cProfile)",
            title=f"quantize stages against k, {biggest}",
        )
        axes[1].set_xticks([r["k"] for r in by_k], [str(r["k"]) for r in by_k])
        axes[1].xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        for ax in axes:
            ax.grid(True, which="both", alpha=0.3)
        axes[1].legend(fontsize=7)
        written.append(_save(fig, folder / "stages.png"))
    return written


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
