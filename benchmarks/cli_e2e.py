"""End to end, file in and file out: ``kmeans-quant`` against the ``pngquant`` binary.

Run ``python -m benchmarks.cli_e2e`` (several minutes; writes the section
"End to end: the command line against pngquant" of ``docs/benchmarks.md``)
or ``--quick`` (seconds, tiny images, for the smoke test). The pngquant
binary comes from the ``pngquant-cli`` package of the [bench] extra; without
it only kmeans-quant is measured and the report says so.

Cases, each at k = 16 and 256 with dithering off on both sides
(``pngquant K --nofs``, ``kmeans-quant -k K``):

* a 0.3-megapixel photo (the bundled chelsea.png enlarged),
* the 12-megapixel mosaic of :mod:`benchmarks.images`,
* a batch of 50 small photos (0.1 MP crops of the mosaic) in one call.

Every run is a fresh child process; its wall time is the best of a few
repeats, its peak RSS comes from ``os.wait4`` (that child alone), its output
size is the sum of the written files, and its MSE (per channel, 0-255 units,
pixel-weighted over a batch) is computed with :func:`kmeans_quant.metrics.mse`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmarks.images import mosaic, package_photo, resize
from kmeans_quant.io import read_image, write_image
from kmeans_quant.metrics import mse

REPO = Path(__file__).resolve().parents[1]
START = "<!-- cli_e2e:start -->"
END = "<!-- cli_e2e:end -->"

PHOTO_SHAPE = (474, 632)  # 0.3 MP
BATCH_FILES = 50
BATCH_SHAPE = (300, 400)  # 0.12 MP each
PNGQUANT: str | None = None  # set by main()
QUICK = {"photo": (60, 80), "large": (240, 320), "batch": 5, "batch_shape": (30, 40)}


@dataclass
class Run:
    """One tool on one case at one k."""

    case: str
    tool: str
    k: int
    seconds: float
    peak_rss_mib: float
    output_bytes: int
    mse: float
    megapixels: float
    decoded_mib: float


def pngquant_binary() -> str | None:
    """The pngquant executable: pngquant-cli's, beside this Python, else on PATH.

    The one beside ``sys.executable`` comes first so that a version-manager
    shim (a shell script that runs more processes) is not what is timed.
    """
    here = Path(sys.executable).parent / "pngquant"
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    return shutil.which("pngquant")


def _timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall time and peak RSS (MiB) of one child process.

    A child forked from this (large) Python process starts out with its
    pages, and the kernel's peak RSS counts them until ``exec``; so the
    child is started by GNU ``time`` (a small process) when it is there,
    which reports the peak of the command alone. Otherwise ``os.wait4``
    gives an upper bound.
    """
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    gnu_time = Path("/usr/bin/time")
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        full = [str(gnu_time), "-f", "%M", "-o", rss.name, *cmd] if gnu_time.exists() else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            full, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {err.strip()}")
        text = rss.read().strip().splitlines()
    kib = int(text[-1]) if gnu_time.exists() and text else usage.ru_maxrss
    return seconds, kib / 1024


def _inputs(quick: bool, folder: Path) -> dict[str, list[Path]]:
    base = package_photo()
    photo = resize(base, QUICK["photo"] if quick else PHOTO_SHAPE)
    if quick:
        large = resize(base, QUICK["large"])
    else:
        from benchmarks.images import load_photo

        photos = [
            p for p in (load_photo(n) for n in ("chelsea", "coffee", "astronaut")) if p is not None
        ]
        large = mosaic(photos or [base])
    n_batch = QUICK["batch"] if quick else BATCH_FILES
    bh, bw = QUICK["batch_shape"] if quick else BATCH_SHAPE
    rng = np.random.default_rng(0)
    cases: dict[str, list[Path]] = {"photo 0.3 MP": [], "12 MP": [], f"batch of {n_batch}": []}
    write_image(folder / "photo.png", photo)
    cases["photo 0.3 MP"].append(folder / "photo.png")
    write_image(folder / "large.png", large)
    cases["12 MP"].append(folder / "large.png")
    batch = folder / "batch"
    batch.mkdir()
    for i in range(n_batch):
        y = int(rng.integers(0, large.shape[0] - bh))
        x = int(rng.integers(0, large.shape[1] - bw))
        write_image(batch / f"b{i:02d}.png", large[y : y + bh, x : x + bw])
        cases[f"batch of {n_batch}"].append(batch / f"b{i:02d}.png")
    return cases


def _error(sources: list[Path], outputs: list[Path]) -> float:
    total, n = 0.0, 0
    for s, o in zip(sources, outputs, strict=True):
        a, b = read_image(s), read_image(o)
        b = b[..., :3] if b.ndim == 3 else b
        total += mse(a, b) * a.shape[0] * a.shape[1]
        n += a.shape[0] * a.shape[1]
    return total / n


def _commands(tool: str, k: int, sources: list[Path], out: Path) -> tuple[list[str], list[Path]]:
    if tool == "pngquant":
        outputs = [out / (s.stem + "-pq.png") for s in sources]
        if len(sources) == 1:
            cmd = [
                "pngquant",
                str(k),
                "--nofs",
                "--force",
                "--output",
                str(outputs[0]),
                str(sources[0]),
            ]
        else:
            # pngquant writes next to its inputs: copies in `out` keep the inputs clean.
            copies = []
            for s in sources:
                shutil.copy(s, out / s.name)
                copies.append(str(out / s.name))
            cmd = [PNGQUANT, str(k), "--nofs", "--force", "--ext", "-pq.png", *copies]
        return cmd, outputs
    outputs = [out / f"{s.stem}_k{k}.png" for s in sources]
    cmd = [sys.executable, "-m", "kmeans_quant", *map(str, sources), "-k", str(k)]
    cmd += ["--out-dir", str(out), "--force", "--quiet"]
    return cmd, outputs


def measure(quick: bool, repeats: int) -> tuple[list[Run], dict]:
    tools = ["kmeans-quant"] + (["pngquant"] if PNGQUANT else [])
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = _inputs(quick, folder)
        for case, sources in cases.items():
            sizes = [int(np.prod(read_image(s).shape[:2])) for s in sources]
            pixels, decoded = sum(sizes), 3 * max(sizes)
            for k in (16,) if quick else (16, 256):
                plans = {}
                for tool in tools:
                    out = folder / f"out-{tool}-{k}-{case.split()[0]}{case.split()[-1]}"
                    out.mkdir()
                    plans[tool] = _commands(tool, k, sources, out)
                # Repeats alternate the tools, so that both see the same load.
                n = 1 if quick else min(repeats, 2) if case == "12 MP" else repeats
                timings: dict[str, list[tuple[float, float]]] = {t: [] for t in tools}
                for _ in range(max(1, n)):
                    for tool in tools:
                        timings[tool].append(_timed(plans[tool][0], folder))
                for tool in tools:
                    outputs = plans[tool][1]
                    runs.append(
                        Run(
                            case=case,
                            tool=tool,
                            k=k,
                            seconds=min(t for t, _ in timings[tool]),
                            peak_rss_mib=max(m for _, m in timings[tool]),
                            output_bytes=sum(o.stat().st_size for o in outputs),
                            mse=_error(sources, outputs),
                            megapixels=pixels / 1e6,
                            decoded_mib=decoded / 2**20,
                        )
                    )
                    r = runs[-1]
                    print(
                        f"{case:14s} k={k:3d} {tool:12s} {r.seconds:7.2f} s "
                        f"{r.peak_rss_mib:7.0f} MiB {r.output_bytes:10d} B MSE {r.mse:.2f}",
                        file=sys.stderr,
                    )
        singles = {c: cases[c][0] for c in ("photo 0.3 MP", "12 MP")}
        settings = png_settings(singles, folder)
        search = quality_search(singles)
        batch_name = next(c for c in cases if c.startswith("batch"))
        batch_quantize = {
            k: _sum_quantize(cases[batch_name], k) for k in ((16,) if quick else (16, 256))
        }
        profile = {
            f"{c}, k={k}": stage_profile(singles[c], k, folder)
            for c in singles
            for k in ((16,) if quick else (16, 256))
        }
    baseline = {
        "python_numpy_import_s": min(
            _timed([sys.executable, "-c", "import numpy"], REPO)[0] for _ in range(3)
        ),
        "pngquant_version": _version(),
        "png_settings": settings,
        "quality_search": search,
        "stage_profile": profile,
        "batch_quantize_s": batch_quantize,
    }
    return runs, baseline


def png_settings(sources: dict[str, Path], folder: Path) -> list[dict]:
    """Size against time of the PNG writer's settings, on quantized images.

    Palette order (by count, as fitted, or by luma, as the command writes
    it) and zlib effort (level 6, or ``optimize=True``: level 9).
    """
    from kmeans_quant import extract_palette, recolor

    rows = []
    for case, path in sources.items():
        image = read_image(path)
        for k in (16, 256):
            pal = extract_palette(image, k)
            out = recolor(image, pal)
            colors = np.asarray(pal.colors)
            luma = colors[np.argsort(colors @ np.array([0.299, 0.587, 0.114]), kind="stable")]
            for order, palette in (("count", colors), ("luma", luma)):
                for optimize in (False, True):
                    dest = folder / f"setting-{k}-{order}-{optimize}.png"
                    t0 = time.perf_counter()
                    write_image(dest, out, palette=palette, force=True, optimize=optimize)
                    rows.append(
                        {
                            "case": case,
                            "k": k,
                            "order": order,
                            "zlib": "9 (--optimize)" if optimize else "6",
                            "seconds": time.perf_counter() - t0,
                            "bytes": dest.stat().st_size,
                        }
                    )
    return rows


def stage_profile(path: Path, k: int, folder: Path) -> list[dict]:
    """Where one kmeans-quant run on ``path`` spends time and memory, in-process.

    The steps the command takes, each timed, with the peak of the memory
    it allocates on top of what was live before (tracemalloc, which sees
    NumPy's buffers too), plus the start-up a child process pays first.
    """
    import tracemalloc

    from kmeans_quant import quantize
    from kmeans_quant.color_table import color_table

    start_up = min(
        _timed([sys.executable, "-c", "import kmeans_quant.cli"], REPO)[0] for _ in range(3)
    )
    rows = [{"step": "start Python, import the command", "seconds": start_up, "peak_mib": None}]
    live: dict[str, object] = {}
    steps = [
        ("read (decode PNG)", lambda: live.update(image=read_image(path))),
        ("quantize (colour table, fit, map)", lambda: live.update(out=quantize(live["image"], k))),
        (
            "colours used (table of the output)",
            lambda: live.update(used=color_table(live["out"].reshape(-1, 3))),
        ),
        (
            "write (indexed PNG, zlib 6)",
            lambda: write_image(
                folder / "profile.png", live["out"], palette=live["used"].colors, force=True
            ),
        ),
        ("report (MSE in bands)", lambda: mse(live["image"], live["out"])),
    ]
    tracemalloc.start()
    try:
        for name, step in steps:
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            t0 = time.perf_counter()
            step()
            seconds = time.perf_counter() - t0
            peak = (tracemalloc.get_traced_memory()[1] - before) / 2**20
            rows.append({"step": name, "seconds": seconds, "peak_mib": peak})
    finally:
        tracemalloc.stop()
    return rows


def _sum_quantize(paths: list[Path], k: int) -> float:
    """Seconds ``quantize`` alone takes over a batch (images read beforehand)."""
    from kmeans_quant import quantize

    images = [read_image(p) for p in paths]
    t0 = time.perf_counter()
    for image in images:
        quantize(image, k)
    return time.perf_counter() - t0


def _best_of_two(call, *args, **kwargs) -> float:
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        call(*args, **kwargs)
        times.append(time.perf_counter() - t0)
    return min(times)


def quality_search(sources: dict[str, Path]) -> list[dict]:
    """What the quality target costs: ``quantize(quality=...)`` against one
    ``quantize`` at the k it chose (both in this process, best of two)."""
    from kmeans_quant import choose_k, quantize

    rows = []
    for case, path in sources.items():
        image = read_image(path)
        for target in ((0, 70), (0, 85)):
            choice = choose_k(image, target)
            rows.append(
                {
                    "case": case,
                    "quality": f"{target[0]}-{target[1]}",
                    "k": choice.k,
                    "reached": choice.quality,
                    "with_search_s": _best_of_two(quantize, image, quality=target),
                    "one_fit_s": _best_of_two(quantize, image, choice.k),
                }
            )
    return rows


def _version() -> str | None:
    if not PNGQUANT:
        return None
    done = subprocess.run([PNGQUANT, "--version"], capture_output=True, text=True)
    return done.stdout.strip() or None


@dataclass
class Bar:
    title: str
    met: bool | None
    detail: str


def bars(runs: list[Run]) -> list[Bar]:
    """The end-to-end targets, from the runs (None: pngquant was not measured)."""
    by = {(r.case, r.tool, r.k): r for r in runs}
    out = []
    for (case, tool, k), kq in sorted(by.items()):
        if tool != "kmeans-quant":
            continue
        pq = by.get((case, "pngquant", k))
        if pq is None:
            out.append(Bar(f"{case}, k={k}", None, "pngquant not installed"))
            continue
        ratio = kq.seconds / pq.seconds
        if case.startswith("photo"):
            time_ok, want = ratio <= 2.0, "at most 2x pngquant's time"
        else:
            time_ok, want = ratio < 1.0, "faster than pngquant"
        rss_ok = kq.peak_rss_mib <= pq.peak_rss_mib + kq.decoded_mib
        size_ok = kq.output_bytes <= pq.output_bytes
        memory = (
            f"(allowance +{kq.decoded_mib:.0f} MiB: {'ok' if rss_ok else 'over'})"
            if case.startswith("12")
            else "(no memory bar)"
        )
        out.append(
            Bar(
                f"{case}, k={k}",
                time_ok and size_ok and (rss_ok or not case.startswith("12")),
                f"time {kq.seconds:.2f} s vs {pq.seconds:.2f} s ({ratio:.2f}x; want {want}); "
                f"peak RSS {kq.peak_rss_mib:.0f} vs {pq.peak_rss_mib:.0f} MiB {memory}; "
                f"size {kq.output_bytes} vs {pq.output_bytes} B "
                f"({'ok' if size_ok else 'larger'}); MSE {kq.mse:.2f} vs {pq.mse:.2f}",
            )
        )
    return out


def _causes(runs: list[Run], baseline: dict) -> list[str]:
    """Sentences, with this run's figures, on where each missed bar's time or memory goes."""
    by = {(r.case, r.tool, r.k): r for r in runs}
    profile = baseline["stage_profile"]
    out = ["Where the missed bars go, from the profile below:", ""]
    for b in bars(runs):
        if b.met is not False:
            continue
        case, k = b.title.rsplit(", k=", 1)
        kq, pq = by[(case, "kmeans-quant", int(k))], by[(case, "pngquant", int(k))]
        if case.startswith("photo"):
            steps = profile[b.title]
            start = steps[0]["seconds"]
            work = sum(s["seconds"] for s in steps[1:])
            out.append(
                f"* {b.title}: starting Python and importing the command take {start:.2f} s "
                f"of kmeans-quant's {kq.seconds:.2f} s (NumPy alone "
                f"{baseline['python_numpy_import_s']:.2f} s), while pngquant's whole run "
                f"takes {pq.seconds:.2f} s; the work itself takes {work:.2f} s in-process."
            )
        elif case.startswith("12"):
            steps = {s["step"]: s for s in profile[b.title]}
            q = steps["quantize (colour table, fit, map)"]
            parts = []
            if kq.seconds >= pq.seconds:
                parts.append(
                    f"the time goes to quantize ({q['seconds']:.2f} s), reading "
                    f"({steps['read (decode PNG)']['seconds']:.2f} s) and writing "
                    f"({steps['write (indexed PNG, zlib 6)']['seconds']:.2f} s)"
                )
            if kq.peak_rss_mib > pq.peak_rss_mib + kq.decoded_mib:
                parts.append(
                    f"peak RSS {kq.peak_rss_mib:.0f} MiB against "
                    f"{pq.peak_rss_mib + kq.decoded_mib:.0f} allowed; `quantize` allocates up "
                    f"to {q['peak_mib']:.0f} MiB on top of the decoded image"
                )
            if kq.output_bytes > pq.output_bytes:
                parts.append(
                    f"the file is {100 * (kq.output_bytes / pq.output_bytes - 1):.1f}% larger "
                    f"than pngquant's at {kq.mse / pq.mse:.2f} times its MSE: the palette "
                    "keeps more detail, which costs bits in the compressed index map"
                )
            out.append(f"* {b.title}: " + "; ".join(parts) + ".")
        else:
            fit = baseline["batch_quantize_s"].get(int(k))
            out.append(
                f"* {b.title}: `quantize` alone takes {fit:.2f} s of kmeans-quant's "
                f"{kq.seconds:.2f} s over the batch (pngquant: {pq.seconds:.2f} s in all); "
                "the rest is start-up, reading, writing and the colours-used table."
            )
    return out


def markdown(runs: list[Run], baseline: dict, quick: bool, command: str) -> str:
    lines = [
        START,
        "## End to end: the command line against pngquant",
        "",
        f"Written by `{command}` on {time.strftime('%Y-%m-%d %H:%M')} "
        f"({'quick mode: tiny images, figures meaningless' if quick else 'full run'}). "
        f"pngquant: {baseline['pngquant_version'] or 'not installed'}. Starting Python and "
        f"importing NumPy alone took {baseline['python_numpy_import_s']:.2f} s. "
        "Each run is one child process, file in, file out, dithering off on both sides "
        "(`pngquant K --nofs`, `kmeans-quant -k K`); time is the best of the repeats, "
        "peak RSS that of the child (`os.wait4`), MSE per channel in 0-255 units.",
        "",
        "| case | k | tool | time (s) | peak RSS (MiB) | output (bytes) | MSE |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        lines.append(
            f"| {r.case} | {r.k} | {r.tool} | {r.seconds:.2f} | {r.peak_rss_mib:.0f} | "
            f"{r.output_bytes} | {r.mse:.2f} |"
        )
    lines += ["", "Bars (time, memory on 12 MP, output size):", ""]
    for b in bars(runs):
        verdict = "n/a" if b.met is None else ("met" if b.met else "NOT MET")
        lines.append(f"* **{b.title}: {verdict}**: {b.detail}")
    lines += ["", *_causes(runs, baseline)]
    lines += [
        "",
        "Where a kmeans-quant run goes (in one process; peak = memory allocated by the "
        "step on top of what was live, by tracemalloc):",
        "",
        "| run | step | time (s) | peak (MiB) |",
        "| --- | --- | ---: | ---: |",
    ]
    for run, rows in baseline["stage_profile"].items():
        for row in rows:
            peak = "" if row["peak_mib"] is None else f"{row['peak_mib']:.0f}"
            lines.append(f"| {run} | {row['step']} | {row['seconds']:.2f} | {peak} |")
    lines += [
        "",
        "PNG settings, on the same images quantized in one process (`write_image`): "
        "palette order and zlib effort against size and time. The command writes "
        "luma order at level 6; `--optimize` asks for level 9.",
        "",
        "| case | k | palette order | zlib level | write (s) | bytes |",
        "| --- | ---: | --- | --- | ---: | ---: |",
    ]
    for row in baseline["png_settings"]:
        lines.append(
            f"| {row['case']} | {row['k']} | {row['order']} | {row['zlib']} | "
            f"{row['seconds']:.2f} | {row['bytes']} |"
        )
    lines += [
        "",
        "The quality target's cost: `quantize(img, quality=Q)` (search for k on the "
        "colour histogram, then the fit) against `quantize(img, k)` at the k it chose, "
        "in one process.",
        "",
        "| case | quality | k chosen | quality reached | with search (s) | one fit (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in baseline["quality_search"]:
        lines.append(
            f"| {row['case']} | {row['quality']} | {row['k']} | {row['reached']} | "
            f"{row['with_search_s']:.2f} | {row['one_fit_s']:.2f} |"
        )
    lines += ["", END]
    return "\n".join(lines)


def update_report(path: Path, section: str, *, start: str = START, end: str = END) -> None:
    """Put ``section`` into ``path`` in place of the old one (or at the end).

    The old section is what lies between the markers ``start`` and ``end``
    (this module's by default); ``section`` carries its own markers.
    """
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny images, k=16, one repeat")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per run (default 3)")
    parser.add_argument("--report", help="markdown file to update (default docs/benchmarks.md)")
    parser.add_argument("--json", help="also write the runs as JSON here")
    args = parser.parse_args(argv)
    global PNGQUANT
    PNGQUANT = pngquant_binary()
    runs, baseline = measure(args.quick, 1 if args.quick else args.repeats)
    command = "python -m benchmarks.cli_e2e" + (" --quick" if args.quick else "")
    report = Path(args.report) if args.report else REPO / "docs" / "benchmarks.md"
    if args.report or not args.quick:
        update_report(report, markdown(runs, baseline, args.quick, command))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"runs": [asdict(r) for r in runs], "baseline": baseline}, indent=1)
        )
    for b in bars(runs):
        verdict = "n/a" if b.met is None else ("met" if b.met else "NOT MET")
        print(f"{verdict:8s} {b.title}: {b.detail}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
