"""The scale-out benchmark's quick mode runs and reports sane figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")
pytest.importorskip("tifffile")

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_mode(tmp_path):
    out = tmp_path / "scaling.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run(
        [sys.executable, "-m", "benchmarks.scaling", "--quick", "--json", str(out)],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    res = json.loads(out.read_text())
    assert res["quick"] is True
    runs = [res["gigapixel"], *res["workers_1_vs_2"]]
    assert [r["workers"] for r in runs] == [2, 1, 2]
    for r in runs:
        assert r["tiles_equal_in_memory"] is True
        assert r["count_mp_s"] > 0 and r["recolor_write_mp_s"] > 0
        assert len(r["worker_peak_rss_mib"]) == r["workers"]
        assert all(20 < m < 4096 for m in r["worker_peak_rss_mib"])
        assert 0 < r["distinct_colours"] <= 2**24
    photos = res["photos"]
    assert photos["outputs_identical"] is True and photos["photos"] == 16
    costs = res["unit_costs"]
    assert costs["merged_colours"] >= costs["colours_per_photo"] > 0
    assert costs["fit_s"] > 0 and costs["merge8_s"] > 0
