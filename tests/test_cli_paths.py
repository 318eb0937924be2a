"""Every way into the command does all that one file does: the cases one by one.

Shared palettes, --palette-in and standard input keep animations, ICC
profiles and soft alpha; GIF timing survives as written; reports measure
what is seen; what cannot be combined is refused in one line. Pipes and
signals run the command as a program.
"""

from __future__ import annotations

import os
import re
import resource
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import CLI_DEFAULTS, make_quadrants
from PIL import Image, ImageCms

import kmeans_quant
from kmeans_quant import quantize
from kmeans_quant.cli import main
from kmeans_quant.frames import read_frames, write_frames
from kmeans_quant.io import read_image, write_image
from kmeans_quant.metrics import mse
from kmeans_quant.palette_io import save_palette
from kmeans_quant.quality import quality_to_mse

REPO = Path(kmeans_quant.__file__).resolve().parents[1]
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"}


def _one_error(err: str, pattern: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("kmeans-quant: error: "), lines[0]
    assert re.search(pattern, lines[0]), lines[0]


def _frames(n: int = 3) -> list[np.ndarray]:
    rgb = make_quadrants(20, 24, noise=8, seed=3)
    return [np.roll(rgb, 5 * i, axis=1) for i in range(n)]


def _soft(seed: int = 1) -> np.ndarray:
    """RGBA with an alpha ramp (every level) and a fully transparent band."""
    rgb = make_quadrants(24, 30, noise=25, seed=seed)
    alpha = np.tile(np.linspace(0, 255, 30).astype(np.uint8), (24, 1))
    img = np.dstack([rgb, alpha])
    img[:4, :, 3] = 0
    return img


def _gif_info(path: Path) -> tuple[int, list[int], int | None]:
    with Image.open(path) as im:
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info.get("duration"))
        return im.n_frames, durations, im.info.get("loop")


def _entries(path: Path) -> set[tuple[int, ...]]:
    """The (colour, alpha) entries a palette PNG's pixels use."""
    with Image.open(path) as im:
        assert im.mode == "P", im.mode
        rgba = np.asarray(im.convert("RGBA")).reshape(-1, 4).copy()
    rgba[rgba[:, 3] == 0] = 0
    return {tuple(map(int, e)) for e in np.unique(rgba, axis=0)}


# ------------------------------------------------------------------ --shared-palette


def test_shared_palette_keeps_every_frame_and_the_timing(work, capsys):
    write_frames(work / "anim.gif", _frames(), durations_ms=[0, 70, 150], loop=2)
    assert main(["anim.gif", "a.png", "--shared-palette", "-k", "6", "--ext", "-q.gif"]) == 0
    assert _gif_info(work / "anim-q.gif") == (3, [0, 70, 150], 2)
    anim = read_frames(work / "anim-q.gif").frames
    still = read_image(work / "a-q.gif")
    colours = np.unique(np.concatenate([f.reshape(-1, 3) for f in [*anim, still]]), axis=0)
    assert len(colours) <= 6  # one palette for both files, every frame included
    assert "anim.gif -> anim-q.gif: 3 frames" in capsys.readouterr().out


def test_shared_palette_keeps_the_icc_profile(work, capsys):
    write_image(work / "icc.png", make_quadrants(20, 20, seed=4), icc_profile=SRGB)
    assert main(["icc.png", "a.png", "--shared-palette", "-k", "6"]) == 0
    with Image.open(work / "icc_k6.png") as im:
        assert im.info.get("icc_profile") == SRGB


def test_shared_palette_of_soft_alpha_inputs_has_k_colour_and_alpha_entries(work, capsys):
    write_image(work / "s1.png", _soft(1))
    write_image(work / "s2.png", _soft(2))
    assert main(["s1.png", "s2.png", "--shared-palette", "-k", "16"]) == 0
    one, two = _entries(work / "s1_k16.png"), _entries(work / "s2_k16.png")
    assert len(one | two) <= 16  # one palette of 16 (colour, alpha) entries
    lines = capsys.readouterr().out.splitlines()
    reported = [int(re.search(r": (\d+) colours", line).group(1)) for line in lines]
    assert all(n <= 16 for n in reported)


def test_shared_palette_of_one_input_is_its_own_palette(work, capsys):
    write_image(work / "s1.png", _soft(1))
    for name in ("a.png", "s1.png"):
        assert main([name, "-k", "5", "-o", "plain.png", "--force"]) == 0
        assert main([name, "-k", "5", "-o", "shared.png", "--force", "--shared-palette"]) == 0
        assert (work / "plain.png").read_bytes() == (work / "shared.png").read_bytes()


def test_shared_palette_keeps_opaque_inputs_opaque(work, capsys):
    write_image(work / "s1.png", _soft(1))
    assert main(["s1.png", "a.png", "--shared-palette", "-k", "8"]) == 0
    with Image.open(work / "a_k8.png") as im:
        assert im.mode == "P" and "transparency" not in im.info
    assert read_image(work / "a_k8.png").shape == (24, 30, 3)


def test_shared_palette_with_an_unreadable_input_writes_nothing(work, capsys):
    (work / "bad.png").write_bytes(b"not a png")
    assert main(["a.png", "bad.png", "--shared-palette"]) == 1
    _one_error(capsys.readouterr().err, r"cannot read image 'bad.png'")
    assert sorted(os.listdir(work)) == ["a.png", "bad.png"]


# ------------------------------------------------------------------ --palette-in


def test_palette_in_maps_every_frame(work, capsys):
    write_frames(work / "anim.gif", _frames(), durations_ms=[40, 0, 90], loop=0)
    save_palette(_P4, work / "p.json")
    assert main(["anim.gif", "--palette-in", "p.json", "-o", "out.gif"]) == 0
    assert _gif_info(work / "out.gif") == (3, [40, 0, 90], 0)
    sources = read_frames(work / "anim.gif").frames
    for frame, source in zip(read_frames(work / "out.gif").frames, sources, strict=True):
        np.testing.assert_array_equal(frame, kmeans_quant.recolor(source, _P4, **CLI_DEFAULTS))


_P4 = np.array([[0, 0, 0], [255, 255, 255], [220, 40, 40], [40, 200, 60]], np.uint8)


# ------------------------------------------------------------------ standard input and output


def test_animated_gif_through_a_pipe_stays_animated(tmp_path):
    src = write_frames(tmp_path / "in.gif", _frames(), durations_ms=[0, 70, 150], loop=2)
    done = subprocess.run(
        [sys.executable, "-m", "kmeans_quant", "-", "-k", "5"],
        input=src.read_bytes(),
        capture_output=True,
        env=_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (tmp_path / "out.gif").write_bytes(done.stdout)
    assert _gif_info(tmp_path / "out.gif") == (3, [0, 70, 150], 2)
    assert b"Traceback" not in done.stderr
    assert done.stderr.decode().startswith("stdin -> stdout: 3 frames, 5 colours")
    # the bytes a file input gives
    assert main([str(src), "-k", "5", "-o", str(tmp_path / "file.gif")]) == 0
    assert (tmp_path / "file.gif").read_bytes() == done.stdout


def test_stdin_skip_if_larger_writes_nothing(tmp_path):
    tiny = tmp_path / "tiny.png"
    write_image(tiny, np.zeros((2, 2, 3), np.uint8))
    done = subprocess.run(
        [sys.executable, "-m", "kmeans_quant", "-", "--skip-if-larger"],
        input=tiny.read_bytes(),
        capture_output=True,
        env=_env(),
        timeout=120,
    )
    assert done.returncode == 98 and done.stdout == b""
    assert done.stderr.decode().strip().startswith("kmeans-quant: skipped: stdout not written")


# ------------------------------------------------------------------ RGBA with --quality, --fixed-colors


@pytest.mark.parametrize(
    "extra, keywords",
    [
        (["--quality", "0-60"], {"quality": (0, 60)}),
        (["--fixed-colors", "#ffffff,#000000"], {"fixed": [[255, 255, 255], [0, 0, 0]]}),
    ],
)
def test_quality_and_fixed_colours_take_rgba_with_transparency(work, capsys, extra, keywords):
    soft = _soft(1)
    write_image(work / "s.png", soft)
    assert main(["s.png", "-k", "8", "-o", "out.png", *extra]) == 0, capsys.readouterr().err
    out = read_image(work / "out.png")
    # Alpha is kept as it is (it is fitted with the colour only without these
    # options); a PNG stores no colour under fully transparent pixels.
    expected = kmeans_quant.quantize(soft, 8, alpha="keep", **keywords, **CLI_DEFAULTS)
    seen = soft[..., 3] > 0
    np.testing.assert_array_equal(out[..., 3], soft[..., 3])
    np.testing.assert_array_equal(out[seen], expected[seen])
    assert len(np.unique(out[..., :3][out[..., 3] > 0], axis=0)) <= 8


# ------------------------------------------------------------------ GIF timing


def test_zero_delays_are_kept(work, capsys):
    write_frames(work / "web.gif", _frames(), durations_ms=[0, 0, 100], loop=0)
    assert main(["web.gif", "-k", "4", "-o", "out.gif"]) == 0
    assert _gif_info(work / "out.gif") == (3, [0, 0, 100], 0)
    assert main(["web.gif", "-k", "4", "-o", "out.png"]) == 0  # APNG keeps them too
    assert read_frames(work / "out.png").durations_ms == [0, 0, 100]


def test_one_frame_gif_keeps_duration_and_loop(work, capsys):
    src = write_frames(work / "one.gif", _frames(1), durations_ms=500, loop=4)
    assert main(["one.gif", "-k", "4", "-o", "out.gif"]) == 0
    assert _gif_info(work / "out.gif") == (1, [500], 4)
    done = subprocess.run(  # and through a pipe
        [sys.executable, "-m", "kmeans_quant", "-", "-k", "4"],
        input=src.read_bytes(),
        capture_output=True,
        env=_env(),
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout == (work / "out.gif").read_bytes()


def test_a_truncated_gif_names_its_file(work, capsys):
    data = write_frames(work / "full.gif", _frames(4), durations_ms=60).read_bytes()
    for i, at in enumerate(range(len(data) // 3, len(data) - 1, max(1, len(data) // 25))):
        name = f"cut{i}.gif"
        (work / name).write_bytes(data[:at])
        status = main([name, "-k", "4", "-o", f"out{i}.gif"])
        err = capsys.readouterr().err
        if status == 0:  # cut between frames: Pillow reads the frames before the cut
            continue
        assert status == 1
        _one_error(err, re.escape(repr(name)))
        assert "unexpected" not in err
        assert not (work / f"out{i}.gif").exists()


def _huge_gif(path: Path, frames: int, width: int, height: int) -> Path:
    """A GIF of ``frames`` one-pixel frames on a ``width`` x ``height`` screen:
    a few bytes a frame, a full screen for every frame once decoded."""
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0))
    out += bytes([0, 0, 0, 255, 255, 255])
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for i in range(frames):
        out += b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # 100 ms
        out += b"\x2c" + struct.pack("<HHHHB", i % width, 0, 1, 1, 0)
        out += b"\x02\x02\x44\x01\x00"  # LZW: clear, index 0, end
    out += b"\x3b"
    path.write_bytes(bytes(out))
    return path


def test_animations_are_refused_by_the_bytes_they_decode_to(tmp_path):
    # 85 frames of 4000 x 3000 pass a 2**30-pixel guard but decode to 3.8 GiB.
    src = _huge_gif(tmp_path / "huge.gif", 85, 4000, 3000)
    assert src.stat().st_size < 5000

    def limit_memory() -> None:  # a run that decodes it fails fast instead
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    done = subprocess.run(
        [sys.executable, "-m", "kmeans_quant", str(src), "-o", str(tmp_path / "out.gif")],
        capture_output=True,
        env=_env(),
        timeout=120,
        preexec_fn=limit_memory,
    )
    assert done.returncode == 1
    err = done.stderr.decode()
    _one_error(err, r"huge.gif.*85 frames of 4000x3000 decode to 3.8 GiB, more than the 1.0 GiB")
    assert not (tmp_path / "out.gif").exists()


# ------------------------------------------------------------------ the report


def test_report_mse_counts_only_visible_pixels(work, capsys):
    clear = _soft(1)
    clear[..., 3] = 0
    write_image(work / "clear.png", clear)
    assert main(["clear.png", "-k", "4"]) == 0
    assert "MSE 0.00, PSNR inf dB" in capsys.readouterr().out
    soft = _soft(1)
    write_image(work / "s.png", soft)
    assert main(["s.png", "-k", "4", "--fixed-colors", "#000000"]) == 0
    out = read_image(work / "s_k4.png")
    seen = soft[..., 3] > 0
    expected = mse(soft[seen][None], out[seen][None])
    assert f"MSE {expected:.2f}," in capsys.readouterr().out


def test_report_mse_is_in_8_bit_units_for_16_bit_files(work, capsys):
    grey = (np.linspace(0, 65535, 40 * 30).reshape(30, 40)).astype(np.uint16)
    write_image(work / "deep.png", grey)
    assert main(["deep.png", "-k", "4"]) == 0
    out = read_image(work / "deep_k4.png")
    assert out.dtype == np.uint16  # 16-bit grey PNG in and out
    expected = mse(grey, out) / 257**2
    line = capsys.readouterr().out
    assert f"MSE {expected:.2f}," in line and expected < 255**2 / 4


# ------------------------------------------------------------------ what cannot be combined


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--dither", "none", "--dither-strength", "0.5"],
            "--dither-strength has no effect with --dither none",
        ),
        (["--space", "rgb"], "--space rgb needs --mode mse"),
        (["--palette-in", "p.json", "--fixed-colors", "#fff"], "--fixed-colors has no effect"),
        (["--palette-in", "p.json", "--per-frame-palette"], "--per-frame-palette has no effect"),
        (["--shared-palette", "--per-frame-palette"], "ask for opposite things"),
        (["--scheduler", ""], "--scheduler needs an address"),
    ],
)
def test_meaningless_combinations_are_one_line(work, capsys, args, message):
    save_palette([[0, 0, 0], [255, 255, 255]], work / "p.json")
    assert main(["a.png", *args]) == 2
    _one_error(capsys.readouterr().err, re.escape(message))
    assert sorted(os.listdir(work)) == ["a.png", "p.json"]


def test_dither_strength_with_dither_reaches_the_library(work, capsys):
    assert main(["a.png", "-k", "4", "--dither", "ordered", "--dither-strength", "0.5"]) == 0
    img = read_image(work / "a.png")
    pal = kmeans_quant.extract_palette(img, 4, mode="perceptual")
    expected = kmeans_quant.recolor(
        img, pal, dither="ordered", dither_strength=0.5, mode="perceptual"
    )
    np.testing.assert_array_equal(read_image(work / "a_k4.png"), expected)


# ------------------------------------------------------------------ optional dependencies


def test_animation_module_without_matplotlib_is_one_line(tmp_path):
    code = (
        "import runpy, sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'matplotlib':\n"
        "            raise ImportError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "sys.argv = ['x', '-k', '2', '-o', 'out.gif']\n"
        "runpy.run_module('kmeans_quant.animation', run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=_env(), cwd=tmp_path, timeout=120
    )
    err = done.stderr.decode().strip().splitlines()
    assert done.returncode == 1 and len(err) == 1, done.stderr
    assert err[0].startswith("python -m kmeans_quant.animation: error: ")
    assert "needs matplotlib" in err[0]
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------ --quality


def test_quality_picks_the_fewest_colours_that_reach_it(work, capsys):
    photo = read_image(Path(kmeans_quant.__file__).parent / "data" / "chelsea.png")[::2, ::2]
    write_image(work / "photo.png", photo)
    recipe = ["--mode", "mse", "--dither", "none"]  # quality judged on the plain mapping
    assert main(["photo.png", "--quality", "0-70", "-o", "out.png", *recipe]) == 0
    k = int(re.search(r": (\d+) colours", capsys.readouterr().out).group(1))
    target = quality_to_mse(70)
    assert mse(photo, quantize(photo, k)) <= target  # k colours reach quality 70
    assert mse(photo, quantize(photo, k - 1)) > target  # one fewer does not
    np.testing.assert_array_equal(read_image(work / "out.png"), quantize(photo, k))
    # By default the search runs on the perceptual palettes, then dithers.
    assert main(["photo.png", "--quality", "0-70", "-o", "default.png"]) == 0
    np.testing.assert_array_equal(
        read_image(work / "default.png"), quantize(photo, quality=(0, 70), **CLI_DEFAULTS)
    )
