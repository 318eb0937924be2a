"""The [dask] extra stays optional: no import of dask from the core, and one
clear error line from the command when it is asked for but missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import kmeans_quant

REPO = Path(kmeans_quant.__file__).resolve().parents[1]


def _python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


def test_core_never_imports_dask():
    res = _python(
        "import sys, kmeans_quant, kmeans_quant.histogram, kmeans_quant.cli, kmeans_quant.io\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "print(bad)"
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


_BLOCK_DASK = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('dask', 'distributed'):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Block())
"""


def test_cli_without_the_extra_says_how_to_install_it(tmp_path):
    import numpy as np

    from kmeans_quant.io import write_image

    write_image(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8))
    res = _python(
        _BLOCK_DASK
        + (
            "from kmeans_quant.cli import main\n"
            f"sys.exit(main([{str(tmp_path / 'a.png')!r}, '--workers', '2', "
            f"'--out-dir', {str(tmp_path / 'out')!r}]))"
        )
    )
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert 'pip install "kmeans_quant[dask]"' in lines[0]
    assert lines[0].startswith("kmeans-quant: error: --workers/--scheduler need Dask")
    assert not (tmp_path / "out" / "a_k16.png").exists()


def test_importing_the_module_without_the_extra_names_it():
    res = _python(_BLOCK_DASK + "import kmeans_quant.dask")
    assert res.returncode != 0
    assert 'pip install "kmeans_quant[dask]"' in res.stderr
