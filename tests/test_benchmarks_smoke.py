"""Smoke test of the benchmark suite: the quick mode runs and writes its report.

It runs ``python -m benchmarks.run --quick`` into a temporary folder (a few
seconds: one tiny image, k=16, one repeat per method, each in a subprocess)
and checks what it wrote. The figures themselves are not asserted: timings
are machine-dependent, and the bars are the report's job.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    pytest.importorskip("matplotlib")  # the plots need it
    out = tmp_path_factory.mktemp("bench")
    raw = out / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(out), "--json", str(raw)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    return out, json.loads(raw.read_text()), proc.stderr


@pytest.mark.slow
def test_quick_mode_writes_markdown_and_plots(quick_run):
    out, _, _ = quick_run
    md = (out / "benchmarks.md").read_text()
    assert md.startswith("# Benchmarks")
    for section in (
        "## Summary: the speed bars",
        "## Machine",
        "## Where the time goes",
        "## All measurements",
    ):
        assert section in md
    pngs = sorted((out / "bench").glob("*.png"))
    assert pngs, "no plot written"
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png


@pytest.mark.slow
def test_quick_results_have_quantize_with_finite_mse(quick_run):
    _, raw, _ = quick_run
    rows = [
        r
        for r in raw["results"]
        if r.get("case") == "quantize" and r.get("method") == "kmeans_quant"
    ]
    assert rows, "no kmeans_quant row in the quick results"
    row = rows[0]
    assert row["status"] == "ok", row
    assert math.isfinite(row["mse"]) and row["mse"] > 0
    assert row["time_s"] > 0
    assert 1 <= row["n_colors"] <= row["k"]
    # The same row appears in the markdown's table of all measurements.
    md = (out_md := quick_run[0] / "benchmarks.md").read_text()
    assert f"| {row['image']} | {row['k']} | `kmeans_quant` |" in md, out_md


@pytest.mark.slow
def test_quick_mode_checks_naive_agreement(quick_run):
    _, raw, _ = quick_run
    lloyd = [r for r in raw["results"] if r.get("case") == "lloyd"]
    assert lloyd and lloyd[0]["status"] == "ok", lloyd
    row = lloyd[0]
    assert row["labels_identical"], row
    short, long = row["iterations"]
    assert 1 <= short < long  # the per-iteration figure is a difference of the two
    for side in ("vectorized", "plain_loops"):  # timed, but no assertion on the timings
        assert math.isfinite(row[f"{side}_per_iter_s"])


def test_unknown_method_is_rejected(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--quick",
            "--out",
            str(tmp_path),
            "--methods",
            "kmeans_quant,nosuch",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "unknown method(s) nosuch" in proc.stderr


# --------------------------------------------------------------------------
# the measuring helpers, on hand-made inputs
# --------------------------------------------------------------------------


def test_mse_and_psnr_by_hand():
    import numpy as np

    from benchmarks.measure import mse, psnr

    ref = np.zeros((2, 2, 3), dtype=np.uint8)
    out = ref.copy()
    out[0, 0] = [3, 4, 0]  # squared error 9 + 16 = 25 over 12 values
    assert mse(out, ref) == pytest.approx(25 / 12)
    assert mse(ref, ref) == 0 and psnr(0.0) == math.inf
    assert psnr(255.0**2) == pytest.approx(0.0)
    # uint8 differences must not wrap around
    assert mse(np.full((1, 1, 3), 255, np.uint8), np.zeros((1, 1, 3), np.uint8)) == 255**2
    with pytest.raises(
        ValueError,
        match=r"images must have the same shape and dtype, got \(1, 1, 3\) uint8 and \(2, 2, 3\)",
    ):
        mse(np.zeros((1, 1, 3), np.uint8), ref)


def test_count_colors_and_mosaic():
    import numpy as np

    from benchmarks.images import count_colors, mosaic

    a = np.zeros((4, 4, 3), np.uint8)
    a[0, 0] = [1, 2, 3]
    a[1, 1] = [3, 2, 1]
    assert count_colors(a) == 3
    rng = np.random.default_rng(0)
    photos = [rng.integers(0, 256, (20, 30, 3), dtype=np.uint8) for _ in range(2)]
    big = mosaic(photos, shape=(50, 91), grid=(2, 3))
    assert big.shape == (50, 91, 3) and big.dtype == np.uint8
    # bicubic enlargement invents in-between colours
    assert count_colors(big) > count_colors(np.concatenate(photos))


def test_peak_above_input_sees_a_numpy_allocation():
    import numpy as np

    from benchmarks.measure import peak_above_input

    def allocate():
        x = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
        return float(x[-1])

    result, peak, seconds = peak_above_input(allocate)
    assert result == 1.0 and seconds >= 0
    if peak is not None:  # None only where /proc and ru_maxrss both fail
        assert 60 <= peak < 200, peak


def test_bad_arguments_are_reported(monkeypatch):
    from benchmarks.images import build_image_set, load_photo
    from benchmarks.suites import Quantize

    with pytest.raises(ValueError, match="mode must be 'quick' or 'full', got 'fast'"):
        build_image_set("fast", "unused")
    with pytest.raises(ValueError, match="unknown photo 'lena'"):
        load_photo("lena")
    monkeypatch.delenv("KQ_BENCH_CACHE", raising=False)
    with pytest.raises(RuntimeError, match="set KQ_BENCH_CACHE"):
        Quantize().setup("kmeans_quant", "chelsea", 16)
