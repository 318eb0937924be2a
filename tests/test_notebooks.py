"""The notebooks in docs/notebooks, executed by a real Jupyter kernel.

As shipped, notebook 01 shows the stub's NotImplementedError under each
exercise check and under the comparison of the learner's loop with the
engine (those cells carry the ``raises-exception`` tag, so a run goes on),
and draws the engine's run as static frames; with the functions of
``solutions.py`` put in place of the stubs it runs with no error at all, its
checks passing. Notebooks 02 and 03 have no exercises and must run as
shipped. Every notebook draws its pictures as static figures, whether or not
ipywidgets is installed; the slider cells add a widget only when it is.

The slider cells carry the ``skip-execution`` tag: a build of the site (and
any other batch run) leaves them out, since a widget needs a live front end,
and the reply to a cell that opens widgets can sit unseen by the client
until the cell's timeout runs out. The tests run them too, under a short
timeout of their own. A run is bounded twice: per cell by nbclient's
timeout, and per notebook by a watchdog that kills the kernel at a deadline,
so that a kernel which stops answering fails the test instead of hanging
the suite.
"""

from __future__ import annotations

import doctest
import importlib.util
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "docs" / "notebooks"
CELL_TIMEOUT = 120  # seconds per cell, far above the few seconds each takes
SLIDER_TIMEOUT = 30  # seconds for a slider cell, which takes under one
DEADLINE = 300  # seconds for a whole notebook, kernel start included


def load(name: str):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def is_slider(cell) -> bool:
    return "skip-execution" in cell.metadata.get("tags", [])


def execute(nb, *, sliders: bool = True) -> None:
    """Run the cells in a fresh kernel started in notebooks/; fail past the deadline.

    ``sliders=False`` leaves out the slider cells, as a build of the site does.
    """
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        timeout_func=lambda cell: SLIDER_TIMEOUT if is_slider(cell) else CELL_TIMEOUT,
        skip_cells_with_tag="skip-execution" if not sliders else "",  # "" skips nothing
        startup_timeout=60,
        kernel_name="python3",
        # No shared IPython history database: kernels of parallel runs would
        # otherwise contend for one SQLite file.
        extra_arguments=["--HistoryManager.enabled=False"],
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    killed = threading.Event()

    def kill_kernel() -> None:
        km = client.km
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            killed.set()
            os.kill(process.pid, signal.SIGKILL)

    watchdog = threading.Timer(DEADLINE, kill_kernel)
    watchdog.start()
    try:
        client.execute()
    except nbclient.exceptions.DeadKernelError:
        if killed.is_set():
            pytest.fail(f"the notebook ran past {DEADLINE} s; its kernel was killed")
        raise
    finally:
        watchdog.cancel()


def with_solutions(nb):
    """The notebook with every exercise cell replaced by its solution."""
    for cell in nb.cells:
        name = cell.metadata.get("exercise")
        if name:
            cell.source = f"from solutions import {name}"
    return nb


def without_widgets(nb):
    """The notebook run as if ipywidgets were not installed."""
    nb.cells.insert(0, nbformat.v4.new_code_cell("import sys; sys.modules['ipywidgets'] = None"))
    return nb


def code_outputs(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def text_of(nb) -> str:
    return "\n".join(o.get("text", "") for o in code_outputs(nb))


def errors(nb) -> list[tuple[int, str, str]]:
    """(cell index, exception name, message) of every error output."""
    return [
        (i, o.ename, o.evalue)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]


def widget_views(nb) -> list:
    return [
        o
        for o in code_outputs(nb)
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]


def images(nb) -> list:
    return [o for o in code_outputs(nb) if "image/png" in o.get("data", {})]


@pytest.mark.slow
def test_exercises_show_the_stub_errors_as_shipped():
    nb = load("01_from_scratch.ipynb")
    assert [c.metadata["exercise"] for c in nb.cells if "exercise" in c.metadata] == [
        "assign",
        "update",
    ]
    execute(nb)
    tagged = [i for i, c in enumerate(nb.cells) if "raises-exception" in c.metadata.get("tags", [])]
    found = errors(nb)
    # Exactly the tagged cells fail, each with the stub of the exercise it needs.
    assert [i for i, _, _ in found] == tagged and len(tagged) == 3
    assert [(name, msg) for _, name, msg in found] == [
        ("NotImplementedError", "exercise 1: write assign(X, C)"),
        ("NotImplementedError", "exercise 2: write update(X, labels, k)"),
        ("NotImplementedError", "exercise 1: write assign(X, C)"),
    ]
    # The engine's run is drawn before any exercise is done.
    assert "updates; inertia:" in text_of(nb)
    assert len(images(nb)) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("widgets", ["installed", "absent"])
def test_from_scratch_runs_with_the_solutions(widgets):
    if widgets == "installed":
        pytest.importorskip("ipywidgets")
    nb = with_solutions(load("01_from_scratch.ipynb"))
    if widgets == "absent":
        nb = without_widgets(nb)
    execute(nb)
    assert errors(nb) == []
    text = text_of(nb)
    assert "assignment: all 4 cases agree with kmeans_quant.naive and the engine" in text
    assert "update: all 4 cases agree with kmeans_quant.naive and the engine" in text
    assert "every state equals kmeans_steps from the same start" in text
    # The static frames always; a slider exactly when ipywidgets can be imported
    # (its frames are drawn by the front end).
    assert len(images(nb)) >= 1
    assert bool(widget_views(nb)) == (widgets == "installed")
    if widgets == "absent":
        assert "ipywidgets is not installed: the frames above show the run" in text


@pytest.mark.slow
@pytest.mark.parametrize("name", ["02_compress_a_photo.ipynb", "03_choosing_k.ipynb"])
def test_notebook_runs_as_shipped(name):
    nb = load(name)
    execute(nb)
    assert errors(nb) == []
    text = text_of(nb)
    if name.startswith("02"):
        assert "compression factor 6.00" in text  # 24 bits -> 4 bits + a 16-colour palette
        assert "quantize(large, 16)" in text
        assert len(images(nb)) >= 2  # the comparison and the other k
    else:
        assert "dB per doubling of k" in text
        assert len(images(nb)) >= 2  # the elbow and the two pictures


@pytest.mark.slow
def test_pictures_do_not_need_ipywidgets():
    nb = without_widgets(load("03_choosing_k.ipynb"))
    execute(nb)
    assert errors(nb) == [] and widget_views(nb) == []
    assert len(images(nb)) >= 2
    assert "ipywidgets is not installed: the pictures above show two values of k" in text_of(nb)


@pytest.mark.slow
def test_a_kernel_that_stops_answering_fails_at_the_deadline(monkeypatch):
    # A cell far longer than the deadline: the watchdog kills the kernel, and
    # the run fails within seconds of the deadline instead of hanging.
    monkeypatch.setattr(sys.modules[__name__], "DEADLINE", 8)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time; time.sleep(600)")])
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception, match="ran past 8 s; its kernel was killed"):
        execute(nb)
    assert time.monotonic() - started < 60


def test_slider_cells_are_left_out_of_the_site():
    # A widget needs a live kernel: the site's build skips the slider cells
    # and drops any output they hold; the static figures before them stand in.
    for name in ("01_from_scratch.ipynb", "02_compress_a_photo.ipynb", "03_choosing_k.ipynb"):
        sliders = [c for c in load(name).cells if "widgets.interact" in c.source]
        assert len(sliders) == 1, name
        assert {"skip-execution", "remove-output"} <= set(sliders[0].metadata.get("tags", []))
        assert sliders[0].outputs == [], name


@pytest.mark.slow
def test_a_batch_run_without_sliders_draws_every_picture():
    nb = load("02_compress_a_photo.ipynb")
    execute(nb, sliders=False)
    assert errors(nb) == [] and widget_views(nb) == []
    assert len(images(nb)) >= 2


@pytest.fixture(scope="module")
def notebook_modules():
    """checks.py and solutions.py, imported from docs/notebooks without sys.path edits."""
    mods = {}
    for name in ("checks", "solutions"):
        spec = importlib.util.spec_from_file_location(f"_nb_{name}", NOTEBOOKS / f"{name}.py")
        mods[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mods[name])
    return mods["checks"], mods["solutions"]


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


def test_checks_docstring_example(notebook_modules):
    checks, _ = notebook_modules
    sys.modules.setdefault("checks", checks)  # the example imports it by its own name
    try:
        result = doctest.testmod(checks, optionflags=doctest.ELLIPSIS)
    finally:
        if sys.modules.get("checks") is checks:
            del sys.modules["checks"]
    assert result.attempted and not result.failed
