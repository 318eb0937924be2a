"""Run the benchmark suite and write the report.

Usage, from the repository root::

    python -m benchmarks.run --quick --out /tmp/bench   # seconds: tiny images, k=16
    python -m benchmarks.run --full --out docs          # the real run (about 20 minutes)

The report goes to ``OUT/benchmarks.md`` and the plots to ``OUT/bench/*.png``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import images as image_set
from .cli_e2e import END as E2E_END
from .cli_e2e import START as E2E_START
from .cli_e2e import update_report
from .machine import machine_facts
from .measure import run_case
from .methods import METHODS, availability
from .perceptual import END as PERCEPTUAL_END
from .perceptual import START as PERCEPTUAL_START
from .report import write_markdown, write_plots
from .summary import all_bars


@dataclass
class Plan:
    """What one mode measures."""

    ks: tuple[int, ...]
    size_k: int
    methods: tuple[str, ...]
    lloyd: list[dict]
    stages: list[tuple[str, int]]
    repeats: int
    budget: float
    timeout: float
    # The bars' methods get at least this many timed calls, however slow.
    min_repeats: int = 1
    notes: list[str] = field(default_factory=list)


QUICK = Plan(
    ks=(16,),
    size_k=16,
    methods=("kmeans_quant", "sklearn", "pillow_mediancut", "libimagequant"),
    lloyd=[{"crop": 24, "k": 8}],
    stages=[("chelsea-tiny", 16)],
    repeats=1,
    budget=1.0,
    timeout=300,
)

FULL = Plan(
    ks=(16, 64, 256),
    size_k=64,
    methods=tuple(METHODS),
    lloyd=[
        {"crop": 64, "k": 16},
        {"crop": 64, "k": 64},
        {"crop": 64, "k": 256},
        {"crop": 128, "k": 16},
        {"crop": 128, "k": 64},
    ],
    stages=[
        ("chelsea", 16),
        ("chelsea", 64),
        ("chelsea", 256),
        ("mosaic-0.25MP", 64),
        ("mosaic-1MP", 64),
        ("mosaic-3MP", 64),
        ("mosaic-12MP", 16),
        ("mosaic-12MP", 64),
        ("mosaic-12MP", 256),
    ],
    repeats=5,
    budget=6.0,
    timeout=600,
    min_repeats=3,
)

# Methods run on the size ladder (time against image size).
SIZE_METHODS = (
    "kmeans_quant",
    "libimagequant",
    "pillow_mediancut",
    "pillow_octree",
    "pillow_mediancut_kmeans",
    "sklearn",
    "sklearn_distinct",
    "sklearn_minibatch",
)
SMALL_METHODS = ("naive", "kmeans_quant", "sklearn")
BAR_METHODS = ("kmeans_quant", "sklearn", "libimagequant")


def skip_reason(method: str, spec: image_set.ImageSpec, k: int) -> str | None:
    """Why a (method, image, k) case is not run in the full plan, or None to run it.

    The limits keep ``--full`` near 20 minutes on a 2-core machine; each
    reason says what a probe run or scaling estimate showed.
    """
    mp = spec.megapixels
    if method == "naive":
        return (
            None
            if spec.group in ("small", "quick")
            else (
                "plain loops run end to end on the small image only: 1-2 s there, "
                "minutes to hours on a photo"
            )
        )
    if spec.group == "small" and method not in SMALL_METHODS:
        return "small image: only the plain-loops comparison"
    if method == "sklearn" and mp > 3.5 and k > 16:
        return (
            "too slow for the time budget: KMeans on every pixel scales with pixels x k; "
            "12-17 s per fit at k=16 here, so minutes per fit at k=64 and 256"
        )
    if method == "sklearn_distinct" and mp > 3.5 and k > 16:
        return "too slow for the time budget: a probe fit at k=256 did not finish in 12 min"
    if method == "sklearn_minibatch" and mp > 3.5:
        return (
            "too slow for the time budget: a probe fit at k=16 did not finish in 10 min "
            "(its default stopping rule allows up to 100 passes, 1.2 M mini-batch steps "
            "at this size; on the size ladder it took 1 s to 43 s)"
        )
    if method == "pillow_mediancut_kmeans" and mp > 3.5:
        return "too slow for the time budget: one probe call took 140 s (k=16) to 377 s (k=256)"
    return None


def _cases(plan: Plan, specs: list[image_set.ImageSpec], methods: tuple[str, ...]):
    """(method, spec, k) for the grid, the small image, and the size ladder."""
    for spec in specs:
        if spec.group in ("tuning", "held-out", "large", "quick"):
            ks, names = plan.ks, methods
        elif spec.group == "small":
            ks, names = (16,), SMALL_METHODS
        else:  # size ladder
            ks, names = (plan.size_k,), SIZE_METHODS
        for k in ks:
            for m in names:
                if m in methods:
                    yield m, spec, k


def _progress(i: int, n: int, res: dict) -> None:
    what = " ".join(str(res.get(key)) for key in ("method", "image", "crop") if key in res)
    k = f"k={res.get('k')}"
    if res.get("status") != "ok":
        msg = f"{res.get('status')}: {res.get('reason', '')[:100]}"
    elif res["case"] == "quantize":
        msg = f"{res['time_s']:.4g} s, MSE {res['mse']:.4g}, peak {res['peak_mib']} MiB"
    elif res["case"] == "lloyd":
        nan = float("nan")
        per_iter = res.get("plain_loops_per_iter_s", nan) / res.get("vectorized_per_iter_s", 1)
        per_call = res.get("plain_loops_long_s", nan) / res.get("vectorized_long_s", 1)
        msg = (
            f"labels identical {res['labels_identical']}, ratio per iteration "
            f"{per_iter:.0f}x, per call {per_call:.0f}x"
        )
    else:
        msg = f"total {res['stages']['total']:.3g} s"
    print(
        f"[{i}/{n}] {res['case']} {what} {k}: {msg} (wall {res['wall_s']:.1f} s)",
        file=sys.stderr,
        flush=True,
    )


def measure_all(plan: Plan, specs, cache: Path, methods: tuple[str, ...], full: bool) -> list[dict]:
    jobs: list[tuple[str, dict]] = []
    skipped: list[dict] = []
    for m, spec, k in _cases(plan, specs, methods):
        reason = availability(m) or (skip_reason(m, spec, k) if full else None)
        if reason:
            status = "not installed" if reason.startswith("not installed") else "skipped"
            skipped.append(
                {
                    "case": "quantize",
                    "method": m,
                    "image": spec.name,
                    "k": k,
                    "status": status,
                    "reason": reason,
                }
            )
        else:
            jobs.append(("quantize", {"method": m, "image": spec.name, "k": k}))
    names = {s.name for s in specs}
    jobs += [("lloyd", p) for p in plan.lloyd]
    jobs += [("stages", {"image": im, "k": k}) for im, k in plan.stages if im in names]
    results = []
    for i, (case, params) in enumerate(jobs, 1):
        at_least = plan.min_repeats if params.get("method") in BAR_METHODS else 1
        res = run_case(
            case,
            params,
            cache,
            repeats=plan.repeats,
            budget=plan.budget,
            min_repeats=at_least,
            timeout=plan.timeout,
        )
        _progress(i, len(jobs), res)
        results.append(res)
    return results + skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick", action="store_true", help="tiny images, k=16, four methods, one repeat (seconds)"
    )
    mode.add_argument("--full", action="store_true", help="the real run (default)")
    parser.add_argument(
        "--out", default="docs", help="folder for benchmarks.md and bench/*.png (default: docs)"
    )
    parser.add_argument(
        "--methods", default=None, help="comma-separated subset of: " + ", ".join(METHODS)
    )
    parser.add_argument(
        "--cache", default=None, help="folder for the image cache (default: a temporary folder)"
    )
    parser.add_argument("--json", default=None, help="also write the raw results to this file")
    args = parser.parse_args(argv)

    full = not args.quick
    plan = FULL if full else QUICK
    methods = plan.methods
    if args.methods:
        methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
        unknown = [m for m in methods if m not in METHODS]
        if unknown:
            parser.error(
                f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}"
            )
    out = Path(args.out)
    (out / "bench").mkdir(parents=True, exist_ok=True)

    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    machine = machine_facts()
    with tempfile.TemporaryDirectory(prefix="kq-bench-") as tmp:
        cache = Path(args.cache) if args.cache else Path(tmp)
        specs, missing = image_set.build_image_set("full" if full else "quick", cache)
        image_set.save_index(specs, cache)
        results = measure_all(plan, specs, cache, methods, full)
    elapsed = time.perf_counter() - t0

    images = [asdict(s) for s in specs]
    large = next((s.name for s in specs if s.group == "large"), None)
    bars = all_bars(results, images, plan.ks, large)
    try:
        plots = write_plots(out / "bench", results, images, plan.ks, plan.size_k)
        plots_note = ""
    except ImportError:
        plots = []
        plots_note = "_matplotlib is not installed, so this run wrote no plots._"
    command = "python -m benchmarks.run " + ("--full" if full else "--quick") + f" --out {args.out}"
    if args.methods:
        command += f" --methods {args.methods}"
    header = "\n".join(
        [
            "# Benchmarks",
            "",
            f"Written by `{command}` on {started:%Y-%m-%d %H:%M} UTC in {elapsed / 60:.1f} min. "
            "The numbers come from this one run on the machine described below; rerun the "
            "command to refresh them.",
            ""
            if full
            else "\n**Quick mode**: one tiny image, k=16, four methods, one repeat. "
            "It checks that the suite runs; its figures say nothing about the bars.",
        ]
    )
    avail = {m: availability(m) for m in METHODS}
    # The end-to-end and perceptual sections belong to benchmarks.cli_e2e and
    # benchmarks.perceptual: carry them over.
    report = out / "benchmarks.md"
    old = report.read_text() if report.exists() else ""
    carried = [
        (start, end, old[old.find(start) : old.find(end) + len(end)])
        for start, end in ((E2E_START, E2E_END), (PERCEPTUAL_START, PERCEPTUAL_END))
        if start in old and end in old
    ]
    write_markdown(
        out / "benchmarks.md",
        header=header,
        bars=bars,
        machine=machine,
        images=images,
        missing=missing,
        avail=avail,
        results=results,
        ks=plan.ks,
        large=large,
        size_k=plan.size_k,
        repeats=plan.repeats,
        budget=plan.budget,
        plots_note=plots_note,
        min_repeats=plan.min_repeats,
    )
    for start, end, section in carried:
        update_report(report, section, start=start, end=end)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"images": images, "results": results, "machine": machine}, indent=1, default=str
            )
        )
    for bar in bars:
        print(f"{bar.verdict:4s}  {bar.title}", file=sys.stderr)
    print(
        f"wrote {out / 'benchmarks.md'} and {len(plots)} plot(s) in {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
