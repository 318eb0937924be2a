"""kmeans_quant.animation: one frame per kmeans_steps record, lazy matplotlib."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from kmeans_quant import kmeans_steps
from kmeans_quant.animation import animate_2d, animate_photo, main, select_steps, toy_blobs

pytest.importorskip("matplotlib")


def gif_frames(path) -> tuple[int, list[int]]:
    with Image.open(path) as im:
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
        return im.n_frames, durations


def two_blobs() -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.concatenate([rng.normal(size=(30, 2)), rng.normal(size=(30, 2)) + [8, 2]])


def test_2d_has_one_frame_per_record_and_holds_the_ends(tmp_path):
    X = two_blobs()
    start = X[np.argsort(X[:, 0])[:2]]  # both centres in the left blob
    records = list(kmeans_steps(X, 2, init=start, tol=0))
    assert len(records) >= 3  # the poor start needs more than one update
    n, durations = gif_frames(animate_2d(X, 2, tmp_path / "t.gif", init=start, dpi=30))
    assert n == len(records)
    # Start and result are held longer than the steps between them.
    assert durations[0] > durations[1] and durations[-1] > durations[1]
    assert len(set(durations[1:-1])) == 1


def test_photo_frames_are_capped(quadrants, tmp_path):
    img = quadrants
    out = animate_photo(img, 3, tmp_path / "p.gif", max_frames=2, n_points=50, dpi=30)
    n, durations = gif_frames(out)
    assert n == 2 and durations[0] != durations[1]


def test_photo_frame_count_equals_records(quadrants, tmp_path):
    # The fit runs on the distinct colours (in lexicographic order) weighted by
    # their counts, from the k-means++ start of rng=0.
    colors, counts = np.unique(quadrants.reshape(-1, 3), axis=0, return_counts=True)
    records = list(kmeans_steps(colors.astype(float), 5, sample_weight=counts, rng=0))
    out = animate_photo(quadrants, 5, tmp_path / "p.gif", max_frames=1000, n_points=50, dpi=30)
    assert gif_frames(out)[0] == len(records)


def test_select_steps_keeps_the_ends_evenly():
    steps = list(range(10))
    assert select_steps(steps, 4) == [0, 3, 6, 9]
    assert select_steps(steps, 20) == steps
    with pytest.raises(ValueError, match="max_frames must be an integer >= 2, got 1"):
        select_steps(steps, 1)


def test_bad_inputs_say_what_was_wrong(tmp_path):
    with pytest.raises(ValueError, match=r"uint8 image .* got dtype float64 and shape \(4, 4\)"):
        animate_photo(np.zeros((4, 4)), 2, tmp_path / "a.gif")
    with pytest.raises(ValueError, match=r"points of shape \(n_samples, 2\), got \(5, 3\)"):
        animate_2d(np.zeros((5, 3)), 2, tmp_path / "b.gif")
    with pytest.raises(ValueError, match="at most 10 clusters, got k=11"):
        animate_2d(np.zeros((50, 2)), 11, tmp_path / "c.gif")
    assert list(tmp_path.iterdir()) == []


def test_without_matplotlib_the_error_says_how_to_get_it(monkeypatch, tmp_path):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ImportError, match=r"needs matplotlib .* pip install matplotlib"):
        animate_2d(two_blobs(), 2, tmp_path / "t.gif")
    assert not (tmp_path / "t.gif").exists()


def test_importing_the_package_does_not_import_matplotlib():
    code = (
        "import sys, kmeans_quant, kmeans_quant.animation, kmeans_quant.frames; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_command_line_toy(tmp_path, capsys):
    out = tmp_path / "toy.gif"
    assert main(["--toy", "-k", "4", "-o", str(out), "--max-frames", "3"]) == out
    assert gif_frames(out)[0] == 3
    assert f"wrote {out}" in capsys.readouterr().out
    assert len(toy_blobs()) == 240


def test_command_line_photo_is_downscaled(tmp_path):
    out = tmp_path / "cat.gif"
    main(["-k", "2", "-o", str(out), "--max-side", "40", "--max-frames", "2"])
    assert gif_frames(out)[0] == 2
