"""The end-to-end benchmark's quick mode runs and reports sane figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_mode(tmp_path):
    report, data = tmp_path / "b.md", tmp_path / "e2e.json"
    report.write_text("# Benchmarks\n\nkept\n")
    for _ in range(2):  # the second run replaces its section, not appends one
        subprocess.run(
            [sys.executable, "-m", "benchmarks.cli_e2e", "--quick", "--report", str(report)]
            + ["--json", str(data)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            check=True,
            capture_output=True,
            timeout=600,
        )
    text = report.read_text()
    assert text.startswith("# Benchmarks\n\nkept\n")
    assert text.count("## End to end: the command line against pngquant") == 1
    runs = json.loads(data.read_text())["runs"]
    tools = {r["tool"] for r in runs}
    assert "kmeans-quant" in tools
    for r in runs:
        assert r["seconds"] > 0 and 1 < r["peak_rss_mib"] < 4096
        assert r["output_bytes"] > 0 and 0 < r["mse"] < 2000
    if "pngquant" in tools:  # both tools quantized the same files
        assert len(runs) == 2 * len({(r["case"], r["k"]) for r in runs})
