"""Every way into the command runs the same job: the matrix.

{plain, shared palette, palette-in, stdin, workers} x {still RGB, soft-alpha
RGBA, animation, ICC-tagged, 16-bit} x {plain, --skip-if-larger, --quality,
--fixed-colors}. Each path must give the plain path's bytes wherever its
palette is the plain path's (a shared palette of one input is; a palette
read back from the plain output is, unless that output had alpha fitted
with the colour or 16 bits), keep what the file had (frames, durations,
loop, profile) where it does not, and refuse in one line the combinations
that mean nothing.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import make_quadrants
from PIL import Image, ImageCms

from kmeans_quant.cli import main
from kmeans_quant.frames import write_frames
from kmeans_quant.io import read_image, write_image
from kmeans_quant.palette_io import load_palette

K = 8
KINDS = ("still", "soft", "anim", "icc", "deep")
PATHS = ("plain", "shared", "palette-in", "stdin", "workers")
OPTIONS = {
    "plain": [],
    "skip": ["--skip-if-larger"],
    "quality": ["--quality", "0-20"],
    "fixed": ["--fixed-colors", "#ffffff,#000000"],
}
# Combinations that mean nothing: a one-line usage error each.
REFUSED = {
    ("shared", "quality"): "--quality cannot be combined with --shared-palette",
    ("palette-in", "quality"): "--quality cannot be combined with --palette-in",
    ("palette-in", "fixed"): "--fixed-colors has no effect with --palette-in",
}
DURATIONS = [0, 70, 150]  # a 0 ms delay, as files from the web have
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _make_inputs(folder: Path) -> dict[str, Path]:
    rgb = make_quadrants(24, 30, noise=6, seed=1)
    soft = np.dstack([rgb, np.tile(np.linspace(0, 255, 30).astype(np.uint8), (24, 1))])
    soft[:4, :, 3] = 0
    deep = rgb.astype(np.uint16) * 257 + np.random.default_rng(0).integers(0, 200, rgb.shape)
    frames = [np.roll(rgb, 4 * i, axis=1) for i in range(3)]
    paths = {
        "still": write_image(folder / "still.png", rgb),
        "soft": write_image(folder / "soft.png", soft),
        "anim": write_frames(folder / "anim.gif", frames, durations_ms=DURATIONS, loop=2),
        "icc": write_image(folder / "icc.png", rgb, icc_profile=SRGB),
        "deep": write_image(folder / "deep.tif", deep.astype(np.uint16)),
    }
    assert read_image(paths["deep"]).dtype == np.uint16
    return paths


@dataclass(frozen=True)
class Run:
    status: int
    data: bytes | None  # the output's bytes, None when nothing was written
    err: list[str]


@contextlib.contextmanager
def _stdio(stdin: bytes) -> Iterator[tuple[io.TextIOWrapper, io.StringIO]]:
    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = io.TextIOWrapper(io.BytesIO()), io.StringIO()
    sys.stdin, sys.stdout, sys.stderr = io.TextIOWrapper(io.BytesIO(stdin)), out, err
    try:
        yield out, err
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


def _cli(args: list[str], output: Path | None, stdin: bytes = b"") -> Run:
    """Run the command in this process; the output's bytes (a file or stdout)."""
    with _stdio(stdin) as (out, err):
        status = main([str(a) for a in args])
        out.flush()
    if output is None:
        data = out.buffer.getvalue() or None  # type: ignore[attr-defined]
    else:
        data = output.read_bytes() if output.exists() else None
    return Run(status, data, err.getvalue().strip().splitlines())


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The inputs, and the plain path's runs (made once, on first use)."""
    folder = tmp_path_factory.mktemp("matrix")
    inputs = _make_inputs(folder)
    plain: dict[tuple[str, str], Run] = {}

    def reference(kind: str, option: str) -> Run:
        if (kind, option) not in plain:
            out = folder / f"plain-{kind}-{option}{_suffix(kind)}"
            args = [inputs[kind], "-k", K, "-o", out, *OPTIONS[option]]
            if option == "plain":
                args += ["--palette-out", folder / f"plain-{kind}.json"]
            plain[kind, option] = _cli(args, out)
        return plain[kind, option]

    return folder, inputs, reference


@pytest.fixture(scope="module")
def scheduler():
    """One local cluster for the whole workers column."""
    pytest.importorskip("distributed")
    from kmeans_quant.dask import local_cluster

    with local_cluster(2) as client:
        yield client.scheduler.address


def _suffix(kind: str) -> str:
    return ".gif" if kind == "anim" else ".png"


def _run_path(path, kind, option, *, folder, inputs, request) -> tuple[Run, Path | None]:
    out = folder / f"{path}-{kind}-{option}{_suffix(kind)}"
    with contextlib.suppress(FileNotFoundError):
        out.unlink()
    extra = OPTIONS[option]
    src = inputs[kind]
    if path == "shared":
        return _cli([src, "--shared-palette", "-k", K, "-o", out, *extra], out), out
    if path == "palette-in":
        return _cli(
            [src, "--palette-in", folder / f"plain-{kind}.json", "-o", out, *extra], out
        ), out
    if path == "stdin":
        return _cli(["-", "-k", K, *extra], None, stdin=src.read_bytes()), None
    if path == "workers":
        address = request.getfixturevalue("scheduler")
        return _cli([src, "-k", K, "-o", out, "--scheduler", address, *extra], out), out
    return _cli([src, "-k", K, "-o", out, *extra], out), out


def _same_palette(path: str, kind: str) -> bool:
    """Whether the path maps with the plain path's palette.

    --palette-in reads back the plain output's colours: 8-bit RGB, so not
    the plain palette of a 16-bit input or of one whose alpha was fitted
    with the colour.
    """
    return not (path == "palette-in" and kind in ("soft", "deep"))


def _check_kept(kind: str, data: bytes) -> None:
    """What the input file had is in the output: frames and timing, the profile."""
    with Image.open(io.BytesIO(data)) as im:
        if kind == "anim":
            assert im.format == "GIF" and im.n_frames == 3
            durations = []
            for i in range(im.n_frames):
                im.seek(i)
                durations.append(im.info.get("duration"))
            assert durations == DURATIONS and im.info.get("loop") == 2
        else:
            assert im.format == "PNG" and getattr(im, "n_frames", 1) == 1
        if kind == "icc":
            assert im.info.get("icc_profile") == SRGB


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("path", PATHS)
def test_every_path_runs_the_one_job(world, request, path, kind, option):
    folder, inputs, reference = world
    plain = reference(kind, "plain")  # also writes the palette --palette-in reads
    ref = reference(kind, option)
    assert ref.status in (0, 98), ref.err
    run, out = _run_path(path, kind, option, folder=folder, inputs=inputs, request=request)
    refused = REFUSED.get((path, option))
    if refused is not None:
        assert run.status == 2 and len(run.err) == 1, run.err
        assert run.err[0].startswith("kmeans-quant: error: " + refused)
        assert run.data is None
        return
    errors = [line for line in run.err if "error" in line or "Traceback" in line]
    assert not errors, run.err
    if _same_palette(path, kind):
        assert run.status == ref.status, run.err
        assert run.data == ref.data, f"{path} differs from the plain path"
        return
    # A different palette: a good output all the same, in the palette's colours.
    assert run.status in (0, 98), run.err
    if run.data is None:
        assert run.status == 98
        return
    _check_kept(kind, run.data)
    colours = {tuple(c) for c in np.asarray(load_palette(folder / f"plain-{kind}.json").colors)}
    image = read_image(_saved(folder, run.data))
    rgb = image[..., :3].reshape(-1, 3)
    if image.shape[-1] == 4:
        rgb = rgb[image[..., 3].reshape(-1) > 0]
        original = read_image(inputs[kind])
        np.testing.assert_array_equal(image[..., 3], original[..., 3])  # alpha as it was
    assert {tuple(c) for c in np.unique(rgb, axis=0)} <= colours
    assert plain.data is not None


def _saved(folder: Path, data: bytes) -> Path:
    path = folder / "check.png"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind", KINDS)
def test_the_plain_path_keeps_what_the_file_had(world, kind):
    _, inputs, reference = world
    run = reference(kind, "plain")
    assert run.status == 0 and run.data is not None
    _check_kept(kind, run.data)
    with Image.open(io.BytesIO(run.data)) as im:
        # At most K entries: for the soft-alpha input, (colour, alpha) pairs.
        assert im.mode == "P" and len(im.getpalette()) // 3 <= K
    assert run.err == []
