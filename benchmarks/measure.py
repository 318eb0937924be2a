r"""Timing, peak memory and quality, each case in a fresh subprocess.

Timing
    One warm-up call (which is also the memory measurement), then timed
    calls; the reported time is their median. Fast cases get more repeats
    and slow ones fewer, so that each case costs about ``budget`` seconds:
    ``n = clip(budget // warm_up_time, min_repeats, repeats)``. The 1-minute
    load average at the start of each case is recorded, since other jobs on
    the machine slow some methods (OpenMP ones most) far more than others.

Peak memory above the input
    Measured in a process that holds only the input and the method's
    imports. The kernel's resident-set high-water mark is reset just before
    the call (writing ``5`` to ``/proc/self/clear_refs``), the resident set
    is read, the call runs, and the high-water mark is read again:
    ``peak_above_input = VmHWM_after - VmRSS_before``. This counts C and
    BLAS allocations, which :mod:`tracemalloc` misses. It is the same
    counter that ``getrusage(RUSAGE_SELF).ru_maxrss`` reports, except that a
    child's ``ru_maxrss`` starts at the high-water mark the process had
    before it exec'ed Python, i.e. its parent's, and cannot be reset; it is
    the fallback only where ``/proc`` is missing, and then only a rise in
    ``ru_maxrss`` during the call is trusted.

Quality
    Against the original uint8 image: mean squared error over all pixels
    and channels, PSNR :math:`= 10 \log_{10}(255^2 / \mathrm{MSE})` in dB,
    and the number of distinct colours in the output.

The worker entry point is ``python -m benchmarks.measure '<json spec>'``;
it prints one JSON object on its last line.
"""

from __future__ import annotations

import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kmeans_quant import metrics

from .images import count_colors

# --------------------------------------------------------------------------
# quality
# --------------------------------------------------------------------------


def mse(out: NDArray[np.uint8], ref: NDArray[np.uint8]) -> float:
    """Mean squared error over all pixels and channels (:func:`kmeans_quant.metrics.mse`)."""
    return metrics.mse(out, ref)


def psnr(mse_value: float) -> float:
    """Peak signal-to-noise ratio in dB for 8-bit data; inf for a perfect copy."""
    return math.inf if mse_value == 0 else 10 * math.log10(255.0**2 / mse_value)


def quality(out: NDArray[np.uint8], ref: NDArray[np.uint8]) -> dict[str, float]:
    m = mse(out, ref)
    return {"mse": m, "psnr": psnr(m), "n_colors": count_colors(out)}


# --------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_high_water_mark() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _maxrss_kib() -> int:
    # Linux reports kilobytes, macOS bytes.
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r // 1024 if sys.platform == "darwin" else r


def peak_above_input(func: Callable[[], Any]) -> tuple[Any, float | None, float]:
    """Call ``func``; return its result, peak MiB above the resident set before, and seconds.

    The memory figure is None when it cannot be measured (no ``/proc`` and
    the call did not raise ``ru_maxrss``).
    """
    reset = _reset_high_water_mark()
    before = _status_kib("VmRSS")
    maxrss_before = _maxrss_kib()
    t0 = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - t0
    if reset and before is not None:
        peak = _status_kib("VmHWM")
    else:
        before = before if before is not None else maxrss_before
        after = _maxrss_kib()
        peak = after if after > maxrss_before else None
    above = None if peak is None else max(0, peak - before) / 1024
    return result, above, elapsed


# --------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------


def timed_repeats(
    func: Callable[[], Any], warm_time: float, repeats: int, budget: float, min_repeats: int = 1
) -> list[float]:
    """Wall times of ``n = clip(budget // warm_time, min_repeats, repeats)`` calls.

    ``func`` has already been warmed up; ``warm_time`` is that call's time.
    """
    n = int(max(min_repeats, 1, min(repeats, budget // max(warm_time, 1e-9))))
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return times


def alternating_repeats(
    first: Callable[[], Any],
    second: Callable[[], Any],
    warm_time: float,
    repeats: int,
    budget: float,
    min_repeats: int = 1,
) -> tuple[list[float], list[float]]:
    """Wall times of ``first`` and ``second`` called in turn; the number of
    pairs is counted as in :func:`timed_repeats`, ``warm_time`` being one pair's.

    Alternating makes a slow spell of the machine weigh on both lists alike,
    so the difference of their medians stays honest.
    """
    n = int(max(min_repeats, 1, min(repeats, budget // max(warm_time, 1e-9))))
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(n):
        for func, out in zip((first, second), times, strict=True):
            t0 = time.perf_counter()
            func()
            out.append(time.perf_counter() - t0)
    return times


# --------------------------------------------------------------------------
# the cases, run inside the worker
# --------------------------------------------------------------------------


def _case_quantize(params: dict, repeats: int, budget: float, min_repeats: int) -> dict:
    from .suites import Quantize

    suite = Quantize()
    args = (params["method"], params["image"], params["k"])
    suite.setup(*args)
    out, peak, warm = peak_above_input(lambda: suite.quantized(*args))
    res = {"peak_mib": peak, "warmup_s": warm, "n_iter": out.n_iter}
    res.update(quality(out.image, suite.image))
    del out
    times = timed_repeats(lambda: suite.time_quantize(*args), warm, repeats, budget, min_repeats)
    res.update(time_s=statistics.median(times), times=times)
    return res


def _case_lloyd(params: dict, repeats: int, budget: float, min_repeats: int) -> dict:
    from .suites import LloydIteration

    suite = LloydIteration()
    args = (params["crop"], params["k"])
    suite.setup(*args)
    short, long = suite.n_iter[suite.SHORT], suite.n_iter[suite.LONG]
    res = {
        "n_points": int(suite.X.shape[0]),
        "iterations": [short, long],
        "labels_identical": suite.agree,
        "max_center_diff": suite.max_center_diff,
    }
    if not suite.agree or long <= short:
        res["reason"] = (
            "the two implementations disagree"
            if not suite.agree
            else (f"converged within {long} iterations, no per-iteration difference to take")
        )
        return res  # nothing is timed
    for side, many in (("vectorized", 200), ("plain_loops", repeats)):
        short_fn = getattr(suite, f"time_{side}_short")
        long_fn = getattr(suite, f"time_{side}_long")
        t0 = time.perf_counter()
        short_fn(*args)
        long_fn(*args)
        warm = time.perf_counter() - t0  # one pair of calls
        short_times, long_times = alternating_repeats(
            partial(short_fn, *args), partial(long_fn, *args), warm, many, budget, min_repeats
        )
        res[f"{side}_short_s"] = statistics.median(short_times)
        res[f"{side}_long_s"] = statistics.median(long_times)
        res[f"{side}_repeats"] = len(long_times)
        # one iteration = the extra time of the long run per extra iteration
        res[f"{side}_per_iter_s"] = (res[f"{side}_long_s"] - res[f"{side}_short_s"]) / (
            long - short
        )
        res[f"{side}_call_per_iter_s"] = res[f"{side}_long_s"] / long
    return res


def _case_stages(params: dict, repeats: int, budget: float, min_repeats: int) -> dict:
    from .suites import QuantizeStages

    suite = QuantizeStages()
    args = (params["image"], params["k"])
    suite.setup(*args)
    return {"stages": suite.track_stages(*args)}


CASES = {"quantize": _case_quantize, "lloyd": _case_lloyd, "stages": _case_stages}


def worker(spec: dict) -> dict:
    """Run one case described by ``spec``; never raises (errors are returned)."""
    os.environ.setdefault("KQ_BENCH_CACHE", spec["cache"])
    try:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        res = CASES[spec["case"]](
            spec["params"],
            spec.get("repeats", 5),
            spec.get("budget", 8.0),
            spec.get("min_repeats", 1),
        )
        res["load_1min"] = load
        res["status"] = "ok"
    except NotImplementedError as exc:  # asv's way to skip a case
        res = {"status": "skipped", "reason": str(exc)}
    except Exception as exc:
        res = {
            "status": "error",
            "reason": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=5),
        }
    return res


def run_case(
    case: str,
    params: dict,
    cache: str | os.PathLike,
    *,
    repeats: int = 5,
    budget: float = 8.0,
    min_repeats: int = 1,
    timeout: float = 900,
) -> dict:
    """Run one case in a fresh Python process and return its JSON result."""
    spec = {
        "case": case,
        "params": params,
        "cache": str(cache),
        "repeats": repeats,
        "budget": budget,
        "min_repeats": min_repeats,
    }
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, KQ_BENCH_CACHE=str(cache))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.measure", json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=root,
            env=env,
        )
    except subprocess.TimeoutExpired:
        res = {"status": "timeout", "reason": f"no result after {timeout:g} s"}
    else:
        lines = proc.stdout.strip().splitlines()
        try:
            res = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            res = {
                "status": "error",
                "reason": f"worker exited with {proc.returncode}: {proc.stderr.strip()[-500:]}",
            }
    res["wall_s"] = time.perf_counter() - t0
    return {"case": case, **params, **res}


if __name__ == "__main__":
    print(json.dumps(worker(json.loads(sys.argv[1]))))
