"""Smoke run of the palette-quality benchmark (benchmarks/quality.py)."""

from __future__ import annotations

import numpy as np

from benchmarks.quality import main, mean_delta_e


def test_quick_run_writes_both_measures(tmp_path):
    assert main(["--quick", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "quality.md").read_text()
    assert "## MSE, mean over the images" in text and "## mean ΔE76" in text
    for method in (
        "kmeans_quant (rgb)",
        "kmeans_quant (oklab)",
        "median cut (NumPy)",
        "uniform (NumPy)",
    ):
        assert f"| {method} |" in text


def test_delta_e_of_identical_and_of_black_vs_white():
    img = np.zeros((2, 2, 3), dtype=np.uint8)
    assert mean_delta_e(img, img) == 0.0
    # CIELAB L* of sRGB white is 100 and of black 0, with a* = b* = 0.
    assert abs(mean_delta_e(img, img + 255) - 100.0) < 1e-6
