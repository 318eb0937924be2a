"""kmeans_quant.frames.write_frames: one shared palette, real animation, atomic."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from kmeans_quant import extract_palette, recolor
from kmeans_quant.frames import write_frames


def moving_square(n: int = 4, size: int = 24) -> list[np.ndarray]:
    """A red square sliding across a grey-blue gradient: few colours per frame."""
    base = np.zeros((size, size, 3), dtype=np.uint8)
    base[..., 2] = np.linspace(40, 200, size, dtype=np.uint8)[None, :]
    base[..., :2] = 90
    frames = []
    for i in range(n):
        f = base.copy()
        f[4:12, 3 * i : 3 * i + 8] = [230, 30, 30]
        frames.append(f)
    return frames


def read_gif(path) -> tuple[list[np.ndarray], list[int], dict]:
    with Image.open(path) as im:
        info = dict(im.info)
        frames, durations = [], []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
            frames.append(np.asarray(im.convert("RGB")))
    return frames, durations, info


def test_frames_round_trip_with_their_durations(tmp_path):
    frames = moving_square()
    out = write_frames(tmp_path / "a.gif", frames, durations_ms=[100, 200, 300, 1000], loop=0)
    got, durations, info = read_gif(out)
    assert len(got) == 4 and durations == [100, 200, 300, 1000]
    assert info["loop"] == 0
    # Fewer than 256 colours in all: the shared palette holds them exactly.
    for a, b in zip(got, frames, strict=True):
        np.testing.assert_array_equal(a, b)


def test_many_colours_share_one_kmeans_palette(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, size=(20, 30, 3), dtype=np.uint8) for _ in range(3)]
    out = write_frames(tmp_path / "noise.gif", frames, durations_ms=50)
    got, durations, _ = read_gif(out)
    assert durations == [50, 50, 50]
    palette = extract_palette(frames, 256)
    # Every frame is the library's recolouring onto the one palette of all frames.
    for a, f in zip(got, frames, strict=True):
        np.testing.assert_array_equal(a, recolor(f, palette))
    used = np.unique(np.concatenate(got).reshape(-1, 3), axis=0)
    assert len(used) <= 256


def test_refuses_to_overwrite_unless_forced(tmp_path):
    dest = tmp_path / "x.gif"
    dest.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        write_frames(dest, moving_square(2), durations_ms=100)
    assert dest.read_bytes() == b"keep"
    write_frames(dest, moving_square(2), durations_ms=100, force=True)
    assert dest.read_bytes()[:6] == b"GIF89a"


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        write_frames(tmp_path / "y.gif", moving_square(2), durations_ms=100)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("frames", "durations", "message"),
    [
        ([], 100, "expected at least one frame, got none"),
        ([np.zeros((4, 4), np.uint8)], 100, r"frame 0 has dtype uint8 and shape \(4, 4\)"),
        ([np.zeros((4, 4, 3))], 100, r"frame 0 has dtype float64"),
        (
            [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8)],
            100,
            r"frame 0 is \(4, 4, 3\) and frame 1 is \(4, 5, 3\)",
        ),
        ([np.zeros((4, 4, 3), np.uint8)] * 2, [100], "expected 2 durations"),
        ([np.zeros((4, 4, 3), np.uint8)], -10, "durations must be milliseconds >= 0, got -10"),
    ],
)
def test_rejects_bad_frames_and_durations(tmp_path, frames, durations, message):
    with pytest.raises(ValueError, match=message):
        write_frames(tmp_path / "z.gif", frames, durations_ms=durations)
    assert not (tmp_path / "z.gif").exists()
