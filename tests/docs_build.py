"""Building the documentation site for the tests, or finding the one CI built."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BUILD_DEADLINE = 900  # seconds; a build normally takes one or two minutes
SITE_VARIABLE = "KMEANS_QUANT_SITE"


def build_site(out: Path) -> Path:
    """The html folder of a site built from docs/ into ``out``, or of $KMEANS_QUANT_SITE."""
    given = os.environ.get(SITE_VARIABLE)
    if given:
        html = Path(given)
        assert (html / "index.html").is_file(), f"{SITE_VARIABLE}={given} holds no built site"
        return html
    for requirement in ("sphinx", "numpydoc", "sphinx_gallery", "myst_nb", "matplotlib"):
        pytest.importorskip(requirement)
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-d",
        str(out / "doctrees"),
        str(DOCS),
        str(out / "html"),
    ]
    # Its own process group: on a deadline, the notebook kernels go too.
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = proc.communicate(timeout=BUILD_DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"the site build ran past {BUILD_DEADLINE} s and was killed")
    assert proc.returncode == 0, f"sphinx -W failed:\n{stderr[-4000:]}"
    assert not re.search(r"\bWARNING: ", stderr), stderr[-4000:]  # (a kernel may log "WARNING |")
    return out / "html"
