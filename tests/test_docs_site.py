"""The documentation site builds offline with no warnings, and documents the whole API."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

for _requirement in ("sphinx", "numpydoc", "sphinx_gallery", "myst_nb", "matplotlib"):
    pytest.importorskip(_requirement)

DOCS = Path(__file__).resolve().parents[1] / "docs"

PUBLIC_MODULES = (
    "kmeans_quant",
    "kmeans_quant.io",
    "kmeans_quant.palette_io",
    "kmeans_quant.naive",
    "kmeans_quant.colorspace",
    "kmeans_quant.animation",
    "kmeans_quant.frames",
)


def public_callables() -> list[str]:
    """Every public function and class: the modules' ``__all__``, plus ``cli.main``."""
    names = ["kmeans_quant.cli.main"]
    for mod_name in PUBLIC_MODULES:
        module = importlib.import_module(mod_name)
        for name in module.__all__:
            if callable(getattr(module, name)):
                names.append(f"{mod_name}.{name}")
    return names


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [
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
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"sphinx -W failed:\n{done.stderr[-4000:]}"
    assert "WARNING" not in done.stderr
    return out / "html"


@pytest.mark.slow
def test_site_builds_with_every_page(site):
    for page in (
        "index",
        "tutorial",
        "internals",
        "api",
        "notebooks/01_from_scratch",
        "notebooks/02_compress_a_photo",
        "notebooks/03_choosing_k",
        "auto_examples/index",
        "auto_examples/plot_quantize",
    ):
        assert (site / f"{page}.html").is_file(), f"{page}.html was not built"
    # The gallery ran its scripts and kept their figures.
    figures = list((site / "_images").glob("sphx_glr_plot_*_001.png"))
    assert len(figures) >= 4
    # The notebooks are rendered, not executed: the exercise stubs are shown as written.
    nb = (site / "notebooks" / "01_from_scratch.html").read_text()
    assert "NotImplementedError" in nb and "Traceback" not in nb


@pytest.mark.slow
def test_api_reference_documents_every_public_callable(site):
    api = (site / "api.html").read_text()
    anchors = set(re.findall(r'<dt class="sig sig-object py" id="([^"]+)"', api))
    missing = [name for name in public_callables() if name not in anchors]
    assert not missing, f"not in the API reference: {missing}"
    # Their examples come along (numpydoc renders the Examples section).
    assert api.count(">Examples<") >= 20
