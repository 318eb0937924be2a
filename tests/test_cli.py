"""The kmeans-quant command: outputs, palettes, options, and every error path."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import CLI_DEFAULTS, make_quadrants
from PIL import Image

import kmeans_quant
from kmeans_quant import extract_palette, job, quantize, recolor
from kmeans_quant.cli import _main as cli
from kmeans_quant.cli import main
from kmeans_quant.io import read_image, write_image
from kmeans_quant.job import human_size
from kmeans_quant.palette_io import load_palette, save_palette

REPO = Path(kmeans_quant.__file__).resolve().parents[1]


def _colours(img):
    px = img.reshape(-1, img.shape[-1] if img.ndim == 3 else 1)[:, :3]
    return {tuple(c) for c in px}


def _one_error(err, pattern):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("kmeans-quant: error: ")
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in err


# ------------------------------------------------------------------ the main job


def test_no_input_quantizes_the_sample_photo(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([]) == 0
    out = capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ["chelsea_k16.png", "chelsea_k16_palette.json"]
    with Image.open(tmp_path / "chelsea_k16.png") as im:
        assert im.mode == "P" and im.size == (451, 300)
    img = read_image(tmp_path / "chelsea_k16.png")
    doc = json.loads((tmp_path / "chelsea_k16_palette.json").read_text())
    assert len(doc["colors"]) == len(_colours(img)) <= 16
    assert {"#{:02x}{:02x}{:02x}".format(*c) for c in _colours(img)} == set(doc["colors"])
    assert sum(doc["counts"]) == 451 * 300
    assert re.search(
        r"chelsea.png -> chelsea_k16.png: \d+ colours, MSE [\d.]+, PSNR [\d.]+ dB", out
    )


def test_output_is_quantize_and_seed_is_passed(work, capsys):
    img = read_image("a.png")
    assert main(["a.png", "-k", "3"]) == 0
    np.testing.assert_array_equal(read_image("a_k3.png"), quantize(img, 3, rng=0, **CLI_DEFAULTS))
    assert main(["a.png", "-k", "3", "--seed", "5", "-o", "s5.png"]) == 0
    np.testing.assert_array_equal(read_image("s5.png"), quantize(img, 3, rng=5, **CLI_DEFAULTS))
    # --mode mse --dither none is the K-Means recipe of quantize's defaults.
    assert main(["a.png", "-k", "3", "--mode", "mse", "--dither", "none", "-o", "m.png"]) == 0
    np.testing.assert_array_equal(read_image("m.png"), quantize(img, 3, rng=0))


def test_report_line_has_true_figures(work, capsys):
    img = read_image("a.png")
    assert main(["a.png", "-k", "4"]) == 0
    line = capsys.readouterr().out.strip()
    q = quantize(img, 4, **CLI_DEFAULTS)
    mse = np.mean((q.astype(float) - img) ** 2)
    psnr = 10 * np.log10(255**2 / mse)
    assert line.startswith(f"a.png -> a_k4.png: {len(_colours(q))} colours, ")
    assert f"MSE {mse:.2f}, PSNR {psnr:.2f} dB" in line
    size_in, size_out = os.path.getsize("a.png"), os.path.getsize("a_k4.png")
    assert line.endswith(f"{human_size(size_in)} -> {human_size(size_out)}")


def test_sizes_are_human_readable():
    assert [human_size(n) for n in (5, 2048, 3 * 1024**2)] == ["5 B", "2.0 KiB", "3.0 MiB"]


def test_out_dir_is_created_and_used(work, capsys):
    assert main(["a.png", "-k", "2", "--out-dir", "sub/deeper"]) == 0
    assert (work / "sub" / "deeper" / "a_k2.png").exists()
    assert not (work / "a_k2.png").exists()


@pytest.mark.parametrize(
    "name, fmt, mode",
    [
        ("o.gif", "GIF", "P"),
        ("o.jpg", "JPEG", "RGB"),
        ("o.webp", "WEBP", "RGB"),
        ("o.png", "PNG", "P"),
    ],
)
def test_output_format_follows_extension(work, capsys, name, fmt, mode):
    assert main(["a.png", "-k", "4", "-o", name]) == 0
    with Image.open(name) as im:
        assert im.format == fmt and im.mode == mode


def test_jpeg_input_gives_png_named_after_it(work, capsys):
    write_image(work / "photo.jpg", read_image("a.png"))
    assert main(["photo.jpg"]) == 0
    with Image.open("photo_k16.png") as im:
        assert im.format == "PNG"


def test_rgba_input_is_fitted_with_alpha(work, capsys):
    alpha = np.tile(np.array([0, 90, 255], np.uint8), 10)[None].repeat(24, 0)
    rgba = np.dstack([read_image("a.png"), alpha])
    write_image(work / "t.png", rgba)
    assert main(["t.png", "-k", "3"]) == 0
    back = read_image("t_k3.png")
    np.testing.assert_array_equal(back, quantize(rgba, 3, alpha="fit", mode="perceptual"))
    assert len(np.unique(back.reshape(-1, 4), axis=0)) <= 3


def test_grey_input(work, capsys):
    write_image(work / "g.png", read_image("a.png")[..., 1])
    assert main(["g.png", "-k", "3"]) == 0
    back = read_image("g_k3.png")
    assert back.ndim == 2 and len(np.unique(back)) == 3


def test_many_inputs(work, capsys):
    write_image(work / "b.png", make_quadrants(10, 12, seed=7))
    assert main(["a.png", "b.png", "-k", "2"]) == 0
    out = capsys.readouterr()
    assert (work / "a_k2.png").exists() and (work / "b_k2.png").exists()
    assert len(out.out.strip().splitlines()) == 2
    assert out.err == ""  # no progress bar when stderr is not a terminal


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(work, capsys, monkeypatch):
    write_image(work / "b.png", make_quadrants(10, 12, seed=7))
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert main(["a.png", "b.png", "-k", "2"]) == 0
    shown = term.getvalue()
    assert "] 0/2 a.png" in shown and "] 1/2 b.png" in shown and "] 2/2 done" in shown
    assert "[############............]" in shown  # half way
    assert shown.endswith("\r")  # and cleared at the end


def test_one_bad_input_does_not_stop_the_others(work, capsys):
    (work / "bad.png").write_bytes(b"garbage")
    assert main(["bad.png", "a.png", "-k", "2"]) == 1
    out = capsys.readouterr()
    _one_error(out.err, r"cannot read image 'bad.png'")
    assert (work / "a_k2.png").exists() and not (work / "bad_k2.png").exists()


def test_force_overwrites(work, capsys):
    (work / "a_k2.png").write_bytes(b"old")
    assert main(["a.png", "-k", "2", "--force"]) == 0
    assert read_image("a_k2.png").shape == (24, 30, 3)


# ------------------------------------------------------------------ palettes


@pytest.mark.parametrize("ext", [".json", ".gpl", ".png"])
def test_palette_out(work, capsys, ext):
    assert main(["a.png", "-k", "4", "--palette-out", f"pal{ext}"]) == 0
    pal = load_palette(f"pal{ext}")
    img = read_image("a_k4.png")
    assert {tuple(c) for c in pal.colors} == _colours(img)
    assert pal.counts.sum() == 24 * 30
    assert "palette (4 colours) -> pal" in capsys.readouterr().out


def test_palette_in_maps_without_fitting(work, capsys):
    colors = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.uint8)
    save_palette(colors, work / "bw.gpl")
    assert main(["a.png", "--palette-in", "bw.gpl"]) == 0
    np.testing.assert_array_equal(
        read_image("a_bw.png"), recolor(read_image("a.png"), colors, **CLI_DEFAULTS)
    )


def test_palette_in_colour_on_grey_image_gives_colour(work, capsys):
    write_image(work / "g.png", read_image("a.png")[..., 0])
    save_palette(np.array([[0, 0, 90], [250, 200, 0]], np.uint8), work / "p.json")
    assert main(["g.png", "--palette-in", "p.json", "-o", "out.png"]) == 0
    assert _colours(read_image("out.png")) == {(0, 0, 90), (250, 200, 0)}


def test_palette_in_grey_on_grey_image_stays_grey(work, capsys):
    grey = read_image("a.png")[..., 0]
    write_image(work / "g.png", grey)
    save_palette(np.array([[0], [128], [255]], np.uint8), work / "p.json")
    assert main(["g.png", "--palette-in", "p.json", "-o", "out.png"]) == 0
    np.testing.assert_array_equal(
        read_image("out.png"), recolor(grey, [0, 128, 255], **CLI_DEFAULTS)
    )


def test_palette_in_then_out_round_trips(work, capsys):
    assert main(["a.png", "-k", "3", "--palette-out", "p.json"]) == 0
    assert main(["a.png", "--palette-in", "p.json", "-o", "again.png"]) == 0
    np.testing.assert_array_equal(read_image("again.png"), read_image("a_k3.png"))


def test_shared_palette(work, capsys):
    other = make_quadrants(16, 16, seed=3)[..., ::-1].copy()  # different colours
    write_image(work / "b.png", other)
    args = ["a.png", "b.png", "-k", "4", "--shared-palette", "--palette-out", "shared.json"]
    assert main(args) == 0
    a, b = read_image("a_k4.png"), read_image("b_k4.png")
    pal = load_palette("shared.json")
    assert _colours(a) | _colours(b) == {tuple(c) for c in pal.colors}
    assert len(pal) <= 4 and pal.counts.sum() == 24 * 30 + 16 * 16
    # one K-Means over every pixel of both images
    fitted = extract_palette([read_image("a.png"), other], 4, mode="perceptual")
    np.testing.assert_array_equal(a, recolor(read_image("a.png"), fitted, **CLI_DEFAULTS))
    np.testing.assert_array_equal(b, recolor(other, fitted, **CLI_DEFAULTS))


# ------------------------------------------------------------------ options passed to the image API

_OPTIONS = {"method": "uniform", "space": "oklab", "dither": "ordered"}


@pytest.mark.parametrize("name", sorted(_OPTIONS))
def test_options_reach_quantize(work, capsys, name):
    value = _OPTIONS[name]
    assert main(["a.png", "-k", "3", f"--{name}", value]) == 0, capsys.readouterr().err
    np.testing.assert_array_equal(
        read_image("a_k3.png"),
        quantize(read_image("a.png"), 3, rng=0, **{**CLI_DEFAULTS, name: value}),
    )


@pytest.mark.parametrize("name", ["dither", "space"])
def test_options_reach_recolor(work, capsys, name):
    value = _OPTIONS[name]
    colors = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.uint8)
    save_palette(colors, work / "p.json")
    assert main(["a.png", "--palette-in", "p.json", f"--{name}", value]) == 0
    np.testing.assert_array_equal(
        read_image("a_p.png"), recolor(read_image("a.png"), colors, **{**CLI_DEFAULTS, name: value})
    )


# ------------------------------------------------------------------ errors: usage (2)


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["-k", "0"], r"argument -k/--colors: must be a positive integer, got '0'"),
        (["-k", "-3"], r"must be a positive integer, got '-3'"),
        (["-k", "abc"], r"must be a positive integer, got 'abc'"),
        (["-k", "2.5"], r"got '2.5'"),
        (["--seed", "-1"], r"argument --seed: must be a non-negative integer, got '-1'"),
        (["--seed", "x"], r"argument --seed: must be a non-negative integer, got 'x'"),
        (["--bogus"], r"unrecognized arguments: --bogus"),
        (["--dither", "random"], r"argument --dither: invalid choice: 'random'"),
        (["a.png", "-o", "x.png", "--out-dir", "d"], r"argument --out-dir: not allowed with"),
        (["a.png", "a.png", "-o", "x.png"], r"-o/--output takes one input, got 2; use --out-dir"),
        (["a.png", "-o", "x.xyz"], r"output 'x.xyz': unsupported extension '.xyz'; use one"),
        (["a.png", "-o", "a.png", "--force"], r"output 'a.png' would replace the input 'a.png'"),
        (["a.png", "--palette-out", "p.txt"], r"--palette-out 'p.txt': unsupported extension"),
        (
            ["a.png", "--palette-out", "a.png", "--force"],
            r"--palette-out 'a.png' would replace an input",
        ),
        (
            ["a.png", "--palette-out", "a_k16.png"],
            r"--palette-out 'a_k16.png' is also an image output",
        ),
        (["a.png", "--palette-in", "p.txt"], r"--palette-in 'p.txt': unsupported extension"),
        (["a.png", "--palette-in", "p.json", "-k", "4"], r"-k has no effect with --palette-in"),
        (
            ["a.png", "--palette-in", "p.json", "--method", "uniform"],
            r"--method has no effect with --palette-in",
        ),
        (
            ["a.png", "b.png", "--palette-out", "p.json"],
            r"--palette-out with several inputs needs --shared-palette",
        ),
        (
            ["a.png", "sub/a.png"],
            r"inputs 'a.png' and 'sub/a.png' would both be written to 'a_k16.png'",
        ),
    ],
)
def test_usage_errors(work, capsys, args, pattern):
    before = sorted(os.listdir(work))
    assert main(args) == 2
    _one_error(capsys.readouterr().err, pattern)
    assert sorted(os.listdir(work)) == before  # nothing written


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert "kmeans-quant" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"kmeans-quant {kmeans_quant.__version__}"


# ------------------------------------------------------------------ errors: runtime (1)


def test_missing_input(work, capsys):
    assert main(["a.png", "ghost.png"]) == 1
    _one_error(capsys.readouterr().err, r"no such input file: 'ghost.png'")
    assert not (work / "a_k16.png").exists()  # checked before any work


def test_input_is_a_folder(work, capsys):
    (work / "pics").mkdir()
    assert main(["pics"]) == 1
    _one_error(capsys.readouterr().err, r"input 'pics' is a folder")


def test_corrupt_input(work, capsys):
    (work / "bad.jpg").write_bytes(b"\xff\xd8\xff not really")
    assert main(["bad.jpg"]) == 1
    _one_error(capsys.readouterr().err, r"cannot read image 'bad.jpg'")
    assert sorted(os.listdir(work)) == ["a.png", "bad.jpg"]


def test_output_exists(work, capsys):
    (work / "a_k2.png").write_bytes(b"old")
    assert main(["a.png", "-k", "2"]) == 1
    _one_error(capsys.readouterr().err, r"'a_k2.png' already exists; use --force to overwrite it")
    assert (work / "a_k2.png").read_bytes() == b"old"


def test_palette_out_exists(work, capsys):
    (work / "p.json").write_text("{}")
    assert main(["a.png", "--palette-out", "p.json"]) == 1
    _one_error(capsys.readouterr().err, r"'p.json' already exists; use --force")
    assert not (work / "a_k16.png").exists()


def test_out_dir_is_a_file(work, capsys):
    assert main(["a.png", "--out-dir", "a.png"]) == 1
    _one_error(capsys.readouterr().err, r"output folder 'a.png' exists and is not a folder")


def test_out_dir_cannot_be_created(work, capsys):
    assert main(["a.png", "--out-dir", "a.png/sub"]) == 1
    _one_error(capsys.readouterr().err, r"cannot create output folder 'a.png/sub'")


def test_output_folder_missing(work, capsys):
    assert main(["a.png", "-o", "nowhere/x.png"]) == 1
    _one_error(
        capsys.readouterr().err, r"cannot write 'nowhere/x.png': folder 'nowhere' does not exist"
    )


def test_output_folder_not_writable(work, capsys, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # root ignores chmod
    assert main(["a.png", "-k", "2"]) == 1
    _one_error(capsys.readouterr().err, r"cannot write 'a_k2.png': folder '.' is not writable")


def test_write_failure_leaves_nothing(work, capsys, monkeypatch):
    def broken_save(self, fp, *args, **kwargs):
        Path(fp).write_bytes(b"half")
        raise PermissionError(13, "Permission denied", str(fp))

    monkeypatch.setattr(Image.Image, "save", broken_save)
    assert main(["a.png", "-k", "2"]) == 1
    _one_error(capsys.readouterr().err, r"cannot write 'a_k2.png': Permission denied")
    assert sorted(os.listdir(work)) == ["a.png"]


def test_palette_in_missing(work, capsys):
    assert main(["a.png", "--palette-in", "nope.gpl"]) == 1
    _one_error(capsys.readouterr().err, r"no such palette file: 'nope.gpl'")


def test_palette_in_malformed(work, capsys):
    (work / "p.gpl").write_text("not a palette\n")
    assert main(["a.png", "--palette-in", "p.gpl"]) == 1
    _one_error(capsys.readouterr().err, r"palette file 'p.gpl' is not a GIMP palette")


def test_shared_palette_with_corrupt_input(work, capsys):
    (work / "bad.png").write_bytes(b"junk")
    assert main(["a.png", "bad.png", "--shared-palette"]) == 1
    _one_error(capsys.readouterr().err, r"cannot read image 'bad.png'")
    assert sorted(os.listdir(work)) == ["a.png", "bad.png"]


def test_unexpected_error_is_one_line(work, capsys, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cli, "_run", boom)
    assert main(["a.png"]) == 1
    _one_error(capsys.readouterr().err, r"unexpected RuntimeError: kaboom")


def test_interrupt(work, capsys, monkeypatch):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    for fit in ("quantize", "extract_palette"):  # the job calls one or the other
        monkeypatch.setattr(job, fit, stop)
    assert main(["a.png"]) == 130
    assert capsys.readouterr().err.strip() == "kmeans-quant: interrupted"
    assert sorted(os.listdir(work)) == ["a.png"]


# ------------------------------------------------------------------ as a program


def _run_module(args, cwd):
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
        ),
    )
    return subprocess.run(
        [sys.executable, "-m", "kmeans_quant", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_python_dash_m_runs_the_main_job(tmp_path):
    done = _run_module([], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert sorted(os.listdir(tmp_path)) == ["chelsea_k16.png", "chelsea_k16_palette.json"]


def test_python_dash_m_usage_error_exit_2_without_traceback(tmp_path):
    done = _run_module(["-k", "abc"], tmp_path)
    assert done.returncode == 2
    _one_error(done.stderr, r"must be a positive integer, got 'abc'")
    assert os.listdir(tmp_path) == []


def test_installed_console_script_runs(tmp_path):
    script = shutil.which("kmeans-quant")
    if script is None:
        pytest.skip("the kmeans-quant script is not on PATH (package not installed)")
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert (
        done.returncode == 0 and done.stdout.strip() == f"kmeans-quant {kmeans_quant.__version__}"
    )
