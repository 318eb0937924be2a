"""The engine on raw ``(n, d)`` data: ``kmeans`` against scikit-learn and faiss.

Three measures, each written as JSON and as a section of ``docs/benchmarks.md``
(between ``<!-- engine_raw:start -->`` and ``<!-- engine_raw:end -->``):

* **grid**: ``kmeans(X, k, rng=s)`` against ``KMeans(k, n_init=1,
  random_state=s).fit(X)`` for n from 10^4 to 10^6, d from 2 to 64 and k
  from 8 to 256, several seeds per case, the two interleaved (which one
  runs first alternates with the seed). Time is the median over seeds;
  inertia is compared as the mean over seeds (one run from k-means++ is a
  random draw for both).
* **sample**: ``kmeans(X, k, sample=m)`` (the centres fitted on ``m``
  points drawn without replacement, then every point assigned) against
  ``faiss.Kmeans`` trained on its own subsample (256 points per centre, its
  default) and then searched for every point's nearest centre, both on the
  same float32 data. Both return centres and all labels; the inertia is
  over all points.
* **busy**: the same fit with and without a CPU-bound neighbour process (a
  loop of matrix products, started for real as a child process), for
  ``kmeans`` and scikit-learn, interleaved and repeated; the slowdown is
  busy time over quiet time, per method.

The data are Gaussian mixtures: ``k`` components with random weights,
centres drawn from N(0, 3^2) in every dimension, unit variance around them.

Usage::

    python -m benchmarks.engine_raw                 # all three, several minutes
    python -m benchmarks.engine_raw --only busy     # one measure
    python -m benchmarks.engine_raw --quick         # tiny sizes, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parents[1]
START = "<!-- engine_raw:start -->"
END = "<!-- engine_raw:end -->"

GRID_N = (10_000, 100_000, 1_000_000)
GRID_D = (2, 16, 64)
GRID_K = (8, 64, 256)
# Cases whose n * d * k is above this take minutes per fit for scikit-learn;
# above GRID_ONE_SEED_WORK one seed is run instead of --seeds.
GRID_MAX_WORK = 5e9
GRID_ONE_SEED_WORK = 1.1e9
SAMPLE_CASES = ((1_000_000, 2, 64), (1_000_000, 16, 256), (200_000, 64, 100), (100_000, 3, 16))
BUSY_CASES = ((100_000, 16, 40), (300_000, 3, 16))
# The neighbour: matrix products on every BLAS thread, forever.
NEIGHBOUR = (
    "import numpy as np\na = np.random.default_rng(0).random((800, 800))\nwhile True:\n    a @ a\n"
)


def mixture(n: int, d: int, k: int, seed: int = 0) -> NDArray[np.float64]:
    """``n`` points of a ``k``-component Gaussian mixture in ``d`` dimensions."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(k, d))
    weights = rng.dirichlet(np.full(k, 2.0))
    return centres[rng.choice(k, size=n, p=weights)] + rng.normal(size=(n, d))


def _timed(func: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = func()
    return time.perf_counter() - t0, out


def _ours(X: NDArray, k: int, seed: int, **kw: Any) -> tuple[float, float, int]:
    from kmeans_quant import kmeans

    t, r = _timed(lambda: kmeans(X, k, rng=seed, **kw))
    return t, float(r.inertia), int(r.n_iter)


def _sklearn(X: NDArray, k: int, seed: int) -> tuple[float, float, int]:
    from sklearn.cluster import KMeans

    t, m = _timed(lambda: KMeans(k, n_init=1, random_state=seed).fit(X))
    return t, float(m.inertia_), int(m.n_iter_)


def grid(cases: list[tuple[int, int, int]], seeds_per_case: int) -> list[dict]:
    rows = []
    for n, d, k in cases:
        seeds = 1 if n * d * k > GRID_ONE_SEED_WORK else seeds_per_case
        X = mixture(n, d, k)
        runs: dict[str, list[tuple[float, float, int]]] = {"kmeans_quant": [], "sklearn": []}
        for s in range(seeds):
            order = ("kmeans_quant", "sklearn") if s % 2 == 0 else ("sklearn", "kmeans_quant")
            for name in order:
                runs[name].append((_ours if name == "kmeans_quant" else _sklearn)(X, k, s))
        row: dict[str, Any] = {"n": n, "d": d, "k": k, "seeds": seeds}
        for name, rr in runs.items():
            row[f"{name}_s"] = statistics.median(r[0] for r in rr)
            row[f"{name}_inertia"] = statistics.fmean(r[1] for r in rr)
            row[f"{name}_iter"] = statistics.fmean(r[2] for r in rr)
        row["time_ratio"] = row["kmeans_quant_s"] / row["sklearn_s"]
        row["inertia_ratio"] = row["kmeans_quant_inertia"] / row["sklearn_inertia"]
        rows.append(row)
        print(
            f"grid n={n} d={d} k={k}: {row['kmeans_quant_s']:.3f} s vs {row['sklearn_s']:.3f} s "
            f"(x{row['time_ratio']:.2f}), inertia x{row['inertia_ratio']:.4f}",
            file=sys.stderr,
        )
    return rows


def _faiss(X: NDArray[np.float32], k: int, seed: int) -> tuple[float, float, float]:
    """faiss: train time, train + assign-all time, inertia over all points."""
    import faiss

    def run() -> tuple[float, NDArray]:
        km = faiss.Kmeans(X.shape[1], k, niter=20, seed=seed + 1, verbose=False)
        t0 = time.perf_counter()
        km.train(X)
        t_train = time.perf_counter() - t0
        dist, _ = km.index.search(X, 1)
        return t_train, dist

    t_all, (t_train, dist) = _timed(run)
    return t_train, t_all, float(dist.astype(np.float64).sum())


def sample(cases: list[tuple[int, int, int]], seeds: int) -> list[dict]:
    rows = []
    for n, d, k in cases:
        X = mixture(n, d, k).astype(np.float32)
        m = min(n, 256 * k)  # faiss' default training sample
        ours, theirs = [], []
        for s in range(seeds):
            first = s % 2 == 0
            if first:
                ours.append(_ours(X, k, s, sample=m))
            theirs.append(_faiss(X, k, s))
            if not first:
                ours.append(_ours(X, k, s, sample=m))
        row = {
            "n": n,
            "d": d,
            "k": k,
            "sample": m,
            "seeds": seeds,
            "kmeans_quant_s": statistics.median(r[0] for r in ours),
            "kmeans_quant_inertia": statistics.fmean(r[1] for r in ours),
            "kmeans_quant_iter": statistics.fmean(r[2] for r in ours),
            "faiss_train_s": statistics.median(r[0] for r in theirs),
            "faiss_s": statistics.median(r[1] for r in theirs),
            "faiss_inertia": statistics.fmean(r[2] for r in theirs),
        }
        row["time_ratio"] = row["kmeans_quant_s"] / row["faiss_s"]
        row["time_ratio_train"] = row["kmeans_quant_s"] / row["faiss_train_s"]
        row["inertia_ratio"] = row["kmeans_quant_inertia"] / row["faiss_inertia"]
        rows.append(row)
        print(
            f"sample n={n} d={d} k={k}: {row['kmeans_quant_s']:.3f} s vs faiss "
            f"{row['faiss_s']:.3f} s (train {row['faiss_train_s']:.3f} s), "
            f"inertia x{row['inertia_ratio']:.4f}",
            file=sys.stderr,
        )
    return rows


def _fixed_work(X: NDArray, k: int) -> tuple[Callable[[], None], Callable[[], None]]:
    """The same work for both: 20 Lloyd iterations from the same k-means++ centres."""
    from sklearn.cluster import KMeans

    from kmeans_quant import kmeans, kmeans_plusplus

    init = kmeans_plusplus(X, k, rng=0)

    def ours() -> None:
        kmeans(X, k, init=init, max_iter=20, tol=0)

    def theirs() -> None:
        KMeans(k, init=init, n_init=1, max_iter=20, tol=0).fit(X)

    return ours, theirs


def busy(cases: list[tuple[int, int, int]], repeats: int) -> list[dict]:
    rows = []
    for n, d, k in cases:
        X = mixture(n, d, k)
        ours, theirs = _fixed_work(X, k)
        ours(), theirs()  # warm up
        keys = ("quiet_ours", "quiet_sk", "busy_ours", "busy_sk")
        times: dict[str, list[float]] = {key: [] for key in keys}
        for r in range(repeats):
            for state in ("quiet", "busy") if r % 2 == 0 else ("busy", "quiet"):
                neighbour = None
                if state == "busy":
                    neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR])
                    time.sleep(0.5)  # let it get going
                try:
                    pair = (("ours", ours), ("sk", theirs))
                    for name, func in pair if r % 2 == 0 else pair[::-1]:
                        times[f"{state}_{name}"].append(_timed(func)[0])
                finally:
                    if neighbour is not None:
                        neighbour.kill()
                        neighbour.wait()
        row: dict[str, Any] = {"n": n, "d": d, "k": k, "repeats": repeats}
        for key, values in times.items():
            row[key] = statistics.median(values)
        row["slowdown_ours"] = row["busy_ours"] / row["quiet_ours"]
        row["slowdown_sk"] = row["busy_sk"] / row["quiet_sk"]
        rows.append(row)
        print(
            f"busy n={n} d={d} k={k}: ours {row['quiet_ours']:.3f} -> {row['busy_ours']:.3f} s "
            f"(x{row['slowdown_ours']:.2f}), scikit-learn {row['quiet_sk']:.3f} -> "
            f"{row['busy_sk']:.3f} s (x{row['slowdown_sk']:.2f})",
            file=sys.stderr,
        )
    return rows


def _fmt_s(t: float) -> str:
    return f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"


def markdown(results: dict[str, Any], command: str) -> str:
    from kmeans_quant import get_num_threads

    lines = [
        START,
        "## The engine on raw data: `kmeans` against scikit-learn and faiss",
        "",
        f"Written by `{command}` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; "
        f"{os.cpu_count()} CPUs, load average at start {results['load']}, "
        f"{get_num_threads()} threads for kmeans_quant. Data: Gaussian mixtures "
        "(`benchmarks.engine_raw.mixture`). Ratios are kmeans_quant / peer: below 1 "
        "is faster or lower.",
    ]
    if results.get("grid"):
        rows = results["grid"]
        met = sum(r["time_ratio"] <= 1 and r["inertia_ratio"] <= 1.001 for r in rows)
        lines += [
            "",
            "### `kmeans(X, k)` against `KMeans(k, n_init=1)`",
            "",
            "Median time over the seeds, mean inertia over the seeds (one seed where "
            "n d k > 1.1e9), both with default "
            "settings (k-means++, tol 1e-4, max_iter 300). Bar: time ratio <= 1 at an inertia "
            f"ratio <= 1.001 (the same or lower). Met in {met} of {len(rows)} cases.",
            "",
            "| n | d | k | seeds | kmeans_quant | scikit-learn | time ratio | inertia ratio "
            "| iterations (ours, theirs) |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for r in rows:
            lines.append(
                f"| {r['n']:,} | {r['d']} | {r['k']} | {r['seeds']} "
                f"| {_fmt_s(r['kmeans_quant_s'])} | {_fmt_s(r['sklearn_s'])} "
                f"| {r['time_ratio']:.2f} | {r['inertia_ratio']:.4f} "
                f"| {r['kmeans_quant_iter']:.1f}, {r['sklearn_iter']:.1f} |"
            )
    if results.get("sample"):
        rows = results["sample"]
        lines += [
            "",
            "### The sampling mode against faiss",
            "",
            "`kmeans(X, k, sample=m)` with m = 256 k (faiss' default training sample) "
            "against `faiss.Kmeans(d, k, niter=20)`: `train` then `index.search` for every "
            "point, float32 data for both; inertia over all points. Bar: time ratio <= 2 "
            "(against train + search), inertia ratio <= 1.",
            "",
            "| n | d | k | sample | kmeans_quant | faiss train | faiss train + search "
            "| time ratio | ratio to train alone | inertia ratio |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in rows:
            lines.append(
                f"| {r['n']:,} | {r['d']} | {r['k']} | {r['sample']:,} "
                f"| {_fmt_s(r['kmeans_quant_s'])} | {_fmt_s(r['faiss_train_s'])} "
                f"| {_fmt_s(r['faiss_s'])} | {r['time_ratio']:.2f} | {r['time_ratio_train']:.2f} "
                f"| {r['inertia_ratio']:.4f} |"
            )
    if results.get("busy"):
        rows = results["busy"]
        lines += [
            "",
            "### Beside a CPU-bound neighbour",
            "",
            "Both sides run 20 Lloyd iterations from the same k-means++ centres (`tol=0`), "
            "first alone, then while a child process multiplies matrices on every BLAS "
            "thread; quiet and busy runs interleaved, median of the repeats. Bar: our "
            "slowdown (busy / quiet) no larger than scikit-learn's.",
            "",
            "| n | d | k | repeats | ours quiet | ours busy | ours slowdown "
            "| scikit-learn quiet | scikit-learn busy | scikit-learn slowdown | bar |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for r in rows:
            ok = "met" if r["slowdown_ours"] <= r["slowdown_sk"] else "NOT MET"
            lines.append(
                f"| {r['n']:,} | {r['d']} | {r['k']} | {r['repeats']} "
                f"| {_fmt_s(r['quiet_ours'])} | {_fmt_s(r['busy_ours'])} "
                f"| {r['slowdown_ours']:.2f} | {_fmt_s(r['quiet_sk'])} "
                f"| {_fmt_s(r['busy_sk'])} | {r['slowdown_sk']:.2f} | {ok} |"
            )
    lines += ["", END]
    return "\n".join(lines)


def update_report(path: Path, section: str) -> None:
    """Put ``section`` into ``path`` in place of the old one (or at the end)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def grid_cases() -> list[tuple[int, int, int]]:
    return [
        (n, d, k)
        for n in GRID_N
        for d in GRID_D
        for k in GRID_K
        if n * d * k <= GRID_MAX_WORK and k < n
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one seed")
    parser.add_argument("--only", choices=("grid", "sample", "busy"), action="append")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per case (default 3)")
    parser.add_argument("--report", help="markdown file to update (default docs/benchmarks.md)")
    parser.add_argument("--json", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    which = args.only or ["grid", "sample", "busy"]
    results: dict[str, Any] = {"load": ", ".join(f"{x:.2f}" for x in os.getloadavg())}
    if args.quick:
        if "grid" in which:
            results["grid"] = grid([(2000, 2, 8), (3000, 16, 16)], 1)
        if "sample" in which:
            results["sample"] = sample([(20000, 3, 8)], 1)
        if "busy" in which:
            results["busy"] = busy([(20000, 4, 8)], 1)
    else:
        if "grid" in which:
            results["grid"] = grid(grid_cases(), args.seeds)
        if "sample" in which:
            results["sample"] = sample(list(SAMPLE_CASES), args.seeds)
        if "busy" in which:
            results["busy"] = busy(list(BUSY_CASES), max(5, args.seeds))
    command = "python -m benchmarks.engine_raw" + (" --quick" if args.quick else "")
    if args.only:
        command += "".join(f" --only {w}" for w in args.only)
    report = Path(args.report) if args.report else REPO / "docs" / "benchmarks.md"
    if args.report or not args.quick:
        update_report(report, markdown(results, command))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
