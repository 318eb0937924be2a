"""The notebooks in docs/notebooks, executed by a real Jupyter kernel.

As shipped, notebook 01 must stop at its first exercise with the stub's
NotImplementedError; with the functions of ``solutions.py`` put in place of
the stubs it must run to the end, its checks passing. Notebooks 02 and 03
have no exercises and must run as shipped.
"""

from __future__ import annotations

import doctest
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "docs" / "notebooks"
TIMEOUT = 120  # seconds per cell, far above the few seconds each takes


def load(name: str):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def execute(nb) -> None:
    client = nbclient.NotebookClient(
        nb, timeout=TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )  # the kernel starts in notebooks/
    client.execute()


def with_solutions(nb):
    """The notebook with every exercise cell replaced by its solution."""
    for cell in nb.cells:
        name = cell.metadata.get("exercise")
        if name:
            cell.source = f"from solutions import {name}"
    return nb


def outputs(nb) -> str:
    return "\n".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )


@pytest.mark.slow
def test_exercises_fail_as_shipped_with_the_stub_error():
    nb = load("01_from_scratch.ipynb")
    assert [c.metadata["exercise"] for c in nb.cells if "exercise" in c.metadata] == [
        "assign",
        "update",
    ]
    with pytest.raises(nbclient.exceptions.CellExecutionError) as err:
        execute(nb)
    assert err.value.ename == "NotImplementedError"
    assert "exercise 1: write assign(X, C)" in err.value.evalue


def without_widgets(nb):
    """The notebook run as if ipywidgets were not installed."""
    nb.cells.insert(0, nbformat.v4.new_code_cell("import sys; sys.modules['ipywidgets'] = None"))
    return nb


def widget_views(nb) -> list:
    return [
        o
        for c in nb.cells
        for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]


@pytest.mark.slow
@pytest.mark.parametrize("widgets", ["installed", "absent"])
def test_from_scratch_runs_with_the_solutions(widgets):
    if widgets == "installed":
        pytest.importorskip("ipywidgets")
    nb = with_solutions(load("01_from_scratch.ipynb"))
    if widgets == "absent":
        nb = without_widgets(nb)
    execute(nb)
    text = outputs(nb)
    assert "assignment: all 4 cases agree with kmeans_quant.naive and the engine" in text
    assert "update: all 4 cases agree with kmeans_quant.naive and the engine" in text
    assert "every state equals kmeans_steps from the same start" in text
    # A slider exactly when ipywidgets can be imported (its frames are drawn
    # by the front end); the static frames otherwise.
    assert bool(widget_views(nb)) == (widgets == "installed")
    if widgets == "absent":
        images = [
            o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
        ]
        assert len(images) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("name", ["02_compress_a_photo.ipynb", "03_choosing_k.ipynb"])
def test_notebook_runs_as_shipped(name):
    nb = load(name)
    execute(nb)
    text = outputs(nb)
    if name.startswith("02"):
        assert "compression factor 6.00" in text  # 24 bits -> 4 bits + a 16-colour palette
        assert "quantize(large, 16)" in text
    else:
        assert "dB per doubling of k" in text


@pytest.fixture(scope="module")
def notebook_modules():
    """checks.py and solutions.py, imported from docs/notebooks without sys.path edits."""
    mods = {}
    for name in ("checks", "solutions"):
        spec = importlib.util.spec_from_file_location(f"_nb_{name}", NOTEBOOKS / f"{name}.py")
        mods[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mods[name])
    return mods["checks"], mods["solutions"]


@pytest.mark.slow
def test_checks_name_the_point_that_is_wrong(notebook_modules):
    checks, solutions = notebook_modules
    checks.check_assignment(solutions.assign)
    checks.check_update(solutions.update)

    def argmax_instead(X, C):  # a classic slip: the farthest centre
        return ((X[:, None] - C[None]) ** 2).sum(axis=2).argmax(axis=1)

    with pytest.raises(AssertionError, match=r"case 'toy': point 0 at \[0, 0\] should get label 0"):
        checks.check_assignment(argmax_instead)

    def last_index_on_ties(X, C):
        d = ((X[:, None] - C[None]) ** 2).sum(axis=2)
        return d.shape[1] - 1 - d[:, ::-1].argmin(axis=1)

    with pytest.raises(
        AssertionError,
        match=r"case 'tie \(lowest index wins\)': point 0 .* "
        r"should get label 0 .* got 1",
    ):
        checks.check_assignment(last_index_on_ties)

    def median_instead(X, labels, k):
        return np.array([np.median(X[labels == j], axis=0) for j in range(k)])

    with pytest.raises(
        AssertionError,
        match=r"update, case 'toy': centre 1 \(mean of the 3 "
        r"points labelled 1\) should be \[4.333, 0.6667\]",
    ):
        checks.check_update(median_instead)

    with pytest.raises(AssertionError, match=r"expected centres of shape \(2, 2\)"):
        checks.check_update(lambda X, labels, k: np.zeros((k + 1, 2)))


@pytest.mark.slow
def test_checks_docstring_example(notebook_modules):
    checks, _ = notebook_modules
    sys.modules.setdefault("checks", checks)  # the example imports it by its own name
    try:
        result = doctest.testmod(checks, optionflags=doctest.ELLIPSIS)
    finally:
        if sys.modules.get("checks") is checks:
            del sys.modules["checks"]
    assert result.attempted and not result.failed
