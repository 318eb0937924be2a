"""The command line as a daily tool: pngquant's options, progress, signals and pipes."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import CLI_DEFAULTS, make_quadrants
from PIL import Image

import kmeans_quant
from kmeans_quant import extract_palette, quantize
from kmeans_quant.cli import main
from kmeans_quant.io import read_image, write_image
from kmeans_quant.palette_io import save_palette
from kmeans_quant.quality import quality_to_mse

REPO = Path(kmeans_quant.__file__).resolve().parents[1]


def _one_error(err, pattern):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in err


def _env():
    return dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
        ),
    )


def _command(*args):
    return [sys.executable, "-m", "kmeans_quant", *args]


# ------------------------------------------------------------------ quality


def test_quality_uses_few_colours_and_reports_them(work, capsys):
    write_image(work / "s.png", make_quadrants(40, 50, noise=3))
    assert main(["s.png", "--quality", "0-70"]) == 0
    out = read_image(work / "s_q0-70.png")
    n = len(np.unique(out.reshape(-1, 3), axis=0))
    assert n < 64
    assert np.array_equal(out, quantize(read_image(work / "s.png"), n))
    line = capsys.readouterr().out
    assert f"{n} colours" in line
    err = float(re.search(r"MSE ([\d.]+)", line).group(1))
    assert err <= quality_to_mse(70) * 1.05


def test_quality_minimum_missed_exits_99_and_writes_nothing(work, capsys):
    assert main(["a.png", "-k", "2", "--quality", "95-100"]) == 99
    _one_error(capsys.readouterr().err, r"a.png: quality \d+ .* below the minimum 95; not written")
    assert sorted(os.listdir(work)) == ["a.png"]


@pytest.mark.parametrize(
    "value, msg",
    [("80-60", r"needs 0 <= MIN <= MAX <= 100, got '80-60'"), ("x-y", r"must be MIN-MAX")],
)
def test_bad_quality_is_a_usage_error(work, capsys, value, msg):
    assert main(["a.png", "--quality", value]) == 2
    _one_error(capsys.readouterr().err, msg)


@pytest.mark.parametrize(
    "extra, flag",
    [
        (["--shared-palette"], "--shared-palette"),
        (["--fixed-colors", "#fff"], "--fixed-colors"),
        (["--method", "uniform"], "--method uniform"),
    ],
)
def test_quality_with_what_it_cannot_combine_with(work, capsys, extra, flag):
    assert main(["a.png", "--quality", "60-80", *extra]) == 2
    _one_error(capsys.readouterr().err, rf"--quality cannot be combined with {flag}")


# ------------------------------------------------------------------ pngquant's conveniences


def test_skip_if_larger_exits_98_and_leaves_nothing(work, capsys):
    # A 2-colour input is as small as it gets: any re-encoding is not smaller.
    img = np.zeros((40, 40, 3), np.uint8)
    img[:, 20:] = 255
    write_image(work / "tiny.png", img, palette=[[0, 0, 0], [255, 255, 255]], optimize=True)
    assert main(["tiny.png", "-k", "2", "--skip-if-larger"]) == 98
    assert "not smaller" in capsys.readouterr().err
    assert sorted(os.listdir(work)) == ["a.png", "tiny.png"]


def test_skip_if_larger_writes_smaller_outputs(work, capsys):
    photo = np.random.default_rng(0).integers(0, 256, size=(60, 60, 3), dtype=np.uint8)
    write_image(work / "noise.png", photo)
    assert main(["noise.png", "-k", "4", "--skip-if-larger"]) == 0
    assert (work / "noise_k4.png").stat().st_size < (work / "noise.png").stat().st_size


def test_ext_names_the_output(work, capsys):
    assert main(["a.png", "-k", "4", "--ext", "-fs8.png"]) == 0
    assert (work / "a-fs8.png").exists()


def test_ext_must_be_png_or_gif(work, capsys):
    assert main(["a.png", "--ext", "-x.jpg"]) == 2
    _one_error(capsys.readouterr().err, r"--ext '-x.jpg' must end in one of .png, .gif")


@pytest.mark.parametrize("ext", [".gif", ".png", ".PNG"])
def test_ext_may_be_just_the_suffix(work, capsys, ext):
    assert main(["a.png", "-k", "4", "--ext", ext, "--out-dir", "o"]) == 0
    assert os.listdir(work / "o") == [f"a{ext}"]
    with Image.open(work / "o" / f"a{ext}") as im:
        assert im.format == ("GIF" if ext == ".gif" else "PNG") and im.mode == "P"


def test_folder_needs_recursive(work, capsys):
    (work / "pics").mkdir()
    assert main(["pics"]) == 1
    _one_error(capsys.readouterr().err, r"input 'pics' is a folder; use --recursive")


def test_recursive_folder_twice(work, capsys):
    (work / "pics" / "sub").mkdir(parents=True)
    write_image(work / "pics" / "x.png", make_quadrants(10, 12, seed=2))
    write_image(work / "pics" / "sub" / "y.png", make_quadrants(10, 12, seed=3))
    (work / "pics" / "notes.txt").write_text("not an image")
    assert main(["pics", "--recursive", "-k", "3", "--out-dir", "pics/out"]) == 0
    assert sorted(os.listdir(work / "pics" / "out")) == ["sub", "x_k3.png"]
    assert os.listdir(work / "pics" / "out" / "sub") == ["y_k3.png"]
    # The second run does not take the first run's outputs as inputs.
    assert main(["pics", "-r", "-k", "3", "--out-dir", "pics/out", "--force"]) == 0
    assert sorted(os.listdir(work / "pics" / "out")) == ["sub", "x_k3.png"]
    assert os.listdir(work / "pics" / "out" / "sub") == ["y_k3.png"]


def test_recursive_mirrors_the_tree_so_equal_names_do_not_clash(work, capsys):
    for sub, seed in (("a", 2), ("b", 3), ("b/deeper", 4)):
        (work / "pics" / sub).mkdir(parents=True)
        write_image(work / "pics" / sub / "x.png", make_quadrants(10, 12, seed=seed))
    assert main(["pics", "-r", "-k", "3", "--out-dir", "small"]) == 0
    written = sorted(str(p.relative_to(work / "small")) for p in (work / "small").rglob("*.png"))
    assert written == ["a/x_k3.png", "b/deeper/x_k3.png", "b/x_k3.png"]
    for sub in ("a", "b", "b/deeper"):
        np.testing.assert_array_equal(
            read_image(work / "small" / sub / "x_k3.png"),
            quantize(read_image(work / "pics" / sub / "x.png"), 3, **CLI_DEFAULTS),
        )
    # Without --out-dir every output lands next to its input.
    assert main(["pics", "-r", "-k", "3"]) == 0
    assert (work / "pics" / "b" / "deeper" / "x_k3.png").exists()


def test_empty_folder(work, capsys):
    (work / "none").mkdir()
    assert main(["none", "-r"]) == 1
    _one_error(capsys.readouterr().err, r"folder 'none' holds no image files")


def test_fixed_colors_are_in_the_written_palette(work, capsys):
    assert main(["a.png", "-k", "6", "--fixed-colors", "#ffffff,#000"]) == 0
    with Image.open(work / "a_k6.png") as im:
        pal = np.array(im.getpalette()[: 3 * len(im.getcolors())]).reshape(-1, 3)
        entries = {tuple(c) for c in np.array(im.getpalette()).reshape(-1, 3)}
    assert (255, 255, 255) in entries and (0, 0, 0) in entries
    assert len(pal) <= 6
    img = read_image(work / "a.png")
    want = quantize(img, 6, fixed=[[255, 255, 255], [0, 0, 0]], **CLI_DEFAULTS)
    assert np.array_equal(read_image(work / "a_k6.png"), want)


def test_bad_fixed_colors(work, capsys):
    assert main(["a.png", "--fixed-colors", "#12345"]) == 2
    _one_error(capsys.readouterr().err, r"must be hex colours like '#ffffff,#000000', got '#12345'")


def test_dither_strength_reaches_the_library(work, capsys):
    assert (
        main(["a.png", "-k", "3", "--dither", "floyd-steinberg", "--dither-strength", "0.5"]) == 0
    )
    img = read_image(work / "a.png")
    want = quantize(img, 3, dither="floyd-steinberg", dither_strength=0.5, mode="perceptual")
    assert np.array_equal(read_image(work / "a_k3.png"), want)


def test_bad_dither_strength(work, capsys):
    assert main(["a.png", "--dither-strength", "2"]) == 2
    _one_error(capsys.readouterr().err, r"must be a number in \[0, 1\], got '2'")


def test_quiet_prints_nothing(work, capsys):
    assert main(["a.png", "-k", "3", "--quiet"]) == 0
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_verbose_shows_stages_off_a_terminal(work, capsys):
    assert main(["a.png", "-k", "3", "--verbose", "--dither", "ordered"]) == 0
    err = capsys.readouterr().err
    for stage in ("read", "fit + dither", "write"):
        assert f"0/1 a.png: {stage}" in err


def test_progress_by_stage_on_a_terminal(work, capsys, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    term = Tty()
    monkeypatch.setattr(sys, "stderr", term)
    assert main(["a.png", "-k", "2"]) == 0
    shown = term.getvalue()
    assert "0/1 a.png: read" in shown and "0/1 a.png: fit + dither" in shown
    assert "0/1 a.png: write" in shown and shown.endswith("\r")


def test_no_progress_on_a_pipe(work, capsys):
    assert main(["a.png", "-k", "2"]) == 0
    assert capsys.readouterr().err == ""


def test_optimize_is_smaller_or_equal(work, capsys):
    photo = make_quadrants(80, 90, noise=30)
    write_image(work / "p.png", photo)
    assert main(["p.png", "-k", "16", "-o", "fast.png"]) == 0
    assert main(["p.png", "-k", "16", "-o", "best.png", "--optimize"]) == 0
    # Level 9 is not smaller on every tiny file; it must stay close and lossless.
    assert (work / "best.png").stat().st_size <= 1.1 * (work / "fast.png").stat().st_size
    assert np.array_equal(read_image(work / "best.png"), read_image(work / "fast.png"))


# ------------------------------------------------------------------ messages


@pytest.mark.parametrize("content", [b"", b"hello, I am text"])
def test_empty_or_non_image_file(work, capsys, content):
    (work / "x.png").write_bytes(content)
    assert main(["x.png"]) == 1
    _one_error(capsys.readouterr().err, r"cannot read image 'x.png': not an image file")


def test_palette_in_photo_is_refused(work, capsys):
    photo = np.random.default_rng(0).integers(0, 256, size=(30, 30, 3), dtype=np.uint8)
    write_image(work / "photo.png", photo)
    assert main(["a.png", "--palette-in", "photo.png"]) == 1
    _one_error(
        capsys.readouterr().err,
        r"--palette-in 'photo.png' has \d+ colours, more than the 256 .* photo rather than a swatch",
    )


def test_main_job_runs_twice(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([]) == 0
    assert main([]) == 0
    assert sorted(os.listdir(tmp_path)) == ["chelsea_k16.png", "chelsea_k16_palette.json"]


def test_readme_cli_examples_in_order(tmp_path, monkeypatch, capsys):
    """The README's Command line block, run in the order written."""
    monkeypatch.chdir(tmp_path)
    text = (REPO / "README.md").read_text()
    block = text.split("## Command line", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].split() for line in block.strip().splitlines()]
    photo = make_quadrants(30, 40, noise=6)
    for name in ("photo.jpg", "a.png", "b.png", "c.png", "new.png"):
        Image.fromarray(photo).save(tmp_path / name)
    for words in commands:
        assert words[0] == "kmeans-quant"
        assert main(words[1:]) == 0, (words, capsys.readouterr().err)


# ------------------------------------------------------------------ as a program: pipes and signals


def test_stdin_to_stdout(tmp_path):
    src = tmp_path / "in.png"
    write_image(src, make_quadrants(20, 24, noise=15))
    done = subprocess.run(
        _command("-", "-k", "4"),
        input=src.read_bytes(),
        capture_output=True,
        env=_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    img = np.asarray(Image.open(io.BytesIO(done.stdout)).convert("RGB"))
    assert np.array_equal(img, quantize(read_image(src), 4, **CLI_DEFAULTS))
    assert b"stdin -> stdout: 4 colours" in done.stderr
    assert os.listdir(tmp_path) == ["in.png"]


def test_closed_stdout_does_not_stop_the_batch(tmp_path):
    names = []
    for i in range(4):
        names.append(f"f{i}.png")
        write_image(tmp_path / names[-1], make_quadrants(12, 14, seed=i))
    cmd = " ".join(_command(*names, "-k", "3"))
    done = subprocess.run(
        ["bash", "-c", f"{cmd} | head -1"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0
    assert done.stdout.count("\n") == 1 and done.stderr == ""
    assert all((tmp_path / f"f{i}_k3.png").exists() for i in range(4))


def _start_and_wait_for(args, cwd, marker, timeout=60.0):
    proc = subprocess.Popen(
        _command(*args), cwd=cwd, env=_env(), stderr=subprocess.PIPE, stdout=subprocess.PIPE
    )
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < deadline:
        chunk = proc.stderr.read1(4096) if hasattr(proc.stderr, "read1") else b""
        if not chunk:
            break
        seen += chunk
    return proc, seen


@pytest.mark.slow
@pytest.mark.parametrize("signame, code", [("SIGTERM", 143), ("SIGHUP", 129), ("SIGINT", 130)])
def test_signal_leaves_no_file(tmp_path, signame, code):
    big = np.random.default_rng(0).integers(0, 256, size=(900, 1200, 3), dtype=np.uint8)
    write_image(tmp_path / "big.png", big)
    proc, seen = _start_and_wait_for(
        ["big.png", "-k", "256", "--dither", "floyd-steinberg", "--verbose"],
        tmp_path,
        b": fit + dither",
    )
    assert b": fit + dither" in seen, seen
    proc.send_signal(getattr(signal, signame))
    rest = proc.communicate(timeout=60)[1]
    err = (seen + rest).decode()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("kmeans-quant: ")
    assert os.listdir(tmp_path) == ["big.png"]


@pytest.mark.slow
@pytest.mark.parametrize("extra", [0.02, 0.06, 0.12])
def test_ctrl_c_during_start_up_prints_no_traceback(tmp_path, extra):
    write_image(tmp_path / "a.png", make_quadrants(12, 14))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = time.perf_counter() - t0  # the interpreter alone, before any of our code
    proc = subprocess.Popen(
        _command("a.png"), cwd=tmp_path, env=_env(), stderr=subprocess.PIPE, stdout=subprocess.PIPE
    )
    time.sleep(bare + extra)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1].decode()
    if "Could not import runpy module" in err or "init_import_site" in err:
        # Python's own start-up (runpy, or site reading .pth files): none of our code ran.
        pytest.skip("the signal arrived while the interpreter itself was starting")
    assert "Traceback" not in err, err
    assert proc.returncode in (0, 130, -signal.SIGINT), err
    assert sorted(os.listdir(tmp_path)) in (["a.png"], ["a.png", "a_k16.png"])


def test_palette_round_trip_with_swatch(work, capsys):
    pal = extract_palette(read_image(work / "a.png"), 4)
    save_palette(pal, work / "sw.png")
    assert main(["a.png", "--palette-in", "sw.png", "-o", "m.png"]) == 0


@pytest.mark.parametrize(
    "args, msg",
    [
        (
            ["a.png", "--ext", "-x.png", "-o", "o.png"],
            r"--ext and -o/--output both name the output",
        ),
        (["-", "-"], r"standard input \('-'\) can be read only once"),
        (["-", "a.png"], r"only one image can be written to standard output"),
    ],
)
def test_new_usage_errors(work, capsys, args, msg):
    assert main(args) == 2
    _one_error(capsys.readouterr().err, msg)
