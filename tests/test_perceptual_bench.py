"""The perceptual benchmark: its metric, its quick mode, its bars and its filters.

The quick mode runs ``python -m benchmarks.perceptual --quick`` (tiny images,
k=16, every method; seconds) into a temporary folder, twice, and checks what
it wrote. Tests that need the ``ssimulacra2`` package or the ``pngquant``
binary skip without them.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("PIL")
pytest.importorskip("scipy")
pytest.importorskip("ssimulacra2")

from PIL import Image  # noqa: E402

from benchmarks import perceptual as pc  # noqa: E402
from benchmarks.cli_e2e import pngquant_binary  # noqa: E402
from benchmarks.images import package_photo, resize  # noqa: E402


@pytest.fixture(scope="module")
def photo():
    return resize(package_photo(), (96, 144))


def _save(path: Path, image: np.ndarray) -> Path:
    Image.fromarray(image).save(path)
    return path


# --------------------------------------------------------------------------
# the metric scores what we think it scores
# --------------------------------------------------------------------------


def test_ssimulacra2_is_100_for_the_same_pixels_whatever_the_png(tmp_path, photo):
    few = (photo // 32 * 32 + 16).astype(np.uint8)  # at most 512 colours, then 256 below
    few = np.asarray(Image.fromarray(few).quantize(64).convert("RGB"))
    rgb = _save(tmp_path / "rgb.png", few)
    indexed = tmp_path / "p.png"
    Image.fromarray(few).quantize(64, dither=Image.Dither.NONE).save(indexed, optimize=True)
    assert np.array_equal(pc.read_rgb(indexed), few)  # the palette image decodes to the same
    assert pc.ssimulacra2(rgb, rgb) == 100.0
    assert pc.ssimulacra2(rgb, indexed) == 100.0


def test_ssimulacra2_falls_with_noise_and_sees_colour(tmp_path, photo):
    rng = np.random.default_rng(0)
    original = _save(tmp_path / "o.png", photo)
    scores = []
    for sigma in (1, 4, 16):
        noisy = np.clip(photo + rng.normal(0, sigma, photo.shape), 0, 255).astype(np.uint8)
        scores.append(pc.ssimulacra2(original, _save(tmp_path / f"n{sigma}.png", noisy)))
    assert 100 > scores[0] > scores[1] > scores[2]
    # The same luma, other hues: red and blue swapped must cost a lot.
    swapped = _save(tmp_path / "bgr.png", np.ascontiguousarray(photo[..., ::-1]))
    assert pc.ssimulacra2(original, swapped) < scores[1]


def test_score_file_measures_the_written_file(tmp_path, photo):
    from kmeans_quant.metrics import mean_delta_e76, mse

    original = _save(tmp_path / "o.png", photo)
    out = photo.copy()
    out[::2, ::2] = 0
    written = _save(tmp_path / "d.png", out)
    s = pc.score_file(original, written)
    assert s["bytes"] == written.stat().st_size
    assert s["mse"] == mse(photo, out) and s["delta_e76"] == mean_delta_e76(photo, out)
    assert s["ssimulacra2"] == pc.ssimulacra2(original, written) < 100
    if s["delta_e2000"] is not None:  # scikit-image is there
        assert 0 < s["delta_e2000"] < s["delta_e76"] * 2
    with pytest.raises(ValueError, match=r"output c.png has shape \(4, 4, 3\), the original"):
        pc.score_file(original, _save(tmp_path / "c.png", photo[:4, :4]))


# --------------------------------------------------------------------------
# evaluate, in-process
# --------------------------------------------------------------------------


def test_evaluate_runs_the_command_file_to_file(tmp_path, photo):
    from kmeans_quant.cli import main

    modes = {"kq-default": [], "kq-abbrev": ["--dith", "none"], "kq-bad": ["--dither", "x"]}
    rows = pc.evaluate(
        {"p": photo}, ks=[4, 8], modes=modes, peers=[], groups={"p": "tuning"}, cache=None
    )
    assert [(r["k"], r["method"]) for r in rows] == [
        (k, m) for k in (4, 8) for m in ("kq-default", "kq-abbrev", "kq-bad")
    ]
    by = {(r["method"], r["k"]): r for r in rows}
    # An abbreviation would be taken by argparse for --dither: it counts as unsupported.
    assert by["kq-abbrev", 4]["status"] == "unsupported"
    assert by["kq-abbrev", 4]["reason"] == "kmeans-quant has no option --dith"
    assert by["kq-bad", 4]["status"] == "unsupported"
    assert "invalid choice: 'x'" in by["kq-bad", 4]["reason"]
    # The row is the file the command writes with the same arguments.
    src, dest = _save(tmp_path / "p.png", photo), tmp_path / "out.png"
    assert main([str(src), "-k", "8", "-o", str(dest), "--quiet"]) == 0
    row = by["kq-default", 8]
    assert row["status"] == "ok" and row["group"] == "tuning" and row["family"] == "ours"
    assert row["bytes"] == dest.stat().st_size
    assert row["ssimulacra2"] == pc.ssimulacra2(src, dest)
    assert 1 <= row["colors"] <= 8 and "output" not in row
    assert row["palette"] == pc.palette_id(dest) is not None  # a palette PNG
    assert pc.palette_id(src) is None  # an RGB one


@pytest.mark.skipif(pngquant_binary() is None, reason="needs the pngquant binary")
def test_peers_are_cached_by_image_and_version(tmp_path, photo):
    cache = tmp_path / "cache"
    kwargs = dict(ks=[8], modes={}, peers=["pngquant-nofs", "pillow-mediancut"], cache=cache)
    first = pc.evaluate({"p": photo}, **kwargs)
    assert [r["cached"] for r in first] == [False, False]
    again = pc.evaluate({"p": photo}, **kwargs)
    assert [r["cached"] for r in again] == [True, True]
    for a, b in zip(first, again, strict=True):
        assert a["ssimulacra2"] == b["ssimulacra2"] and a["bytes"] == b["bytes"]
    # pngquant's own file: what the binary writes with the same arguments
    direct = tmp_path / "direct.png"
    src = _save(tmp_path / "src.png", photo)
    cmd = [pngquant_binary(), "8", "--nofs", "--force", "--output", str(direct), str(src)]
    subprocess.run(cmd, check=True)
    assert np.array_equal(pc.read_rgb(direct), pc.read_rgb(again[0]["output"]))
    # another version of the peer: computed again
    stored = next(cache.glob("*/pngquant-nofs-k8.json"))
    row = json.loads(stored.read_text())
    stored.write_text(json.dumps({**row, "version": "0.0.1"}))
    third = pc.evaluate({"p": photo}, **kwargs)
    assert [r["cached"] for r in third] == [False, True]
    # another image: computed again
    fourth = pc.evaluate({"p": photo[:, ::-1].copy()}, **kwargs)
    assert [r["cached"] for r in fourth] == [False, False]


def test_evaluate_rejects_bad_input(photo):
    with pytest.raises(
        ValueError, match=r"image 'g' must be uint8 of shape \(H, W, 3\), got uint8 \(96, 144\)"
    ):
        pc.evaluate({"g": photo[..., 0]}, ks=[8], modes={}, peers=[], cache=None)
    with pytest.raises(
        ValueError, match=r"image 'f' must be uint8 of shape \(H, W, 3\), got float64"
    ):
        pc.evaluate({"f": photo / 255.0}, ks=[8], modes={}, peers=[], cache=None)
    with pytest.raises(ValueError, match=r"k must be in 2..256, got \[1, 300\]"):
        pc.evaluate({"p": photo}, ks=[1, 8, 300], modes={}, peers=[], cache=None)
    with pytest.raises(ValueError, match="unknown peer\\(s\\) gifsicle; known: pngquant, "):
        pc.evaluate({"p": photo}, ks=[8], modes={}, peers=["gifsicle"], cache=None)
    with pytest.raises(ValueError, match=r"mode name\(s\) liq are peers' names"):
        pc.evaluate({"p": photo}, ks=[8], modes={"liq": []}, peers=[], cache=None)
    with pytest.raises(ValueError, match="unknown image\\(s\\) or group\\(s\\) lena; images: "):
        pc.load_images(["lena"], quick=True)


def test_load_images_selects_by_name_and_group():
    images, groups = pc.load_images(["held-out", "gradient-tiny"], quick=True)
    assert groups == {"chelsea-crop": "held-out", "gradient-tiny": "graphic"}
    assert all(im.dtype == np.uint8 and im.shape[2] == 3 for im in images.values())
    _, groups = pc.load_images(["photos"], quick=True)
    assert set(groups.values()) == {"tuning", "held-out"}


# --------------------------------------------------------------------------
# the bars and the tables, on hand-made rows
# --------------------------------------------------------------------------


def _row(image, group, method, k, s2, nbytes, status="ok"):
    return {
        "image": image,
        "group": group,
        "method": method,
        "k": k,
        "status": status,
        "family": "ours" if method.startswith("kq") else "pngquant",
        "ssimulacra2": s2,
        "bytes": nbytes,
        "mse": 10.0,
        "delta_e76": 2.0,
        "delta_e2000": 1.0,
    }


def _short(bar: str) -> str:
    """The two methods of a bar's title: "`a` vs `b`" or "`a`"."""
    return bar.split(":")[0].split(" SSIM")[0]


def test_bars_by_hand():
    rows = []
    for image, base in (("a", 40.0), ("b", 60.0)):
        rows += [
            _row(image, "tuning", "kq-default", 16, base + 1, 1040),  # S2 +1, 1.04x bytes
            _row(image, "tuning", "pngquant", 16, base, 1000),
            _row(image, "tuning", "kq-default", 64, base + 5, 1060),  # 1.06x bytes: over
            _row(image, "tuning", "pngquant", 64, base, 1000),
            {**_row(image, "tuning", "kq-none", 16, base, 900), "palette": "p1"},
            {
                **_row(image, "tuning", "kq-fs", 16, base + (2 if image == "a" else -1), 1200),
                "palette": "p1" if image == "a" else "p2",
            },
        ]
    found = {(_short(v.bar), v.k, v.images): v for v in pc.verdicts(rows)}
    assert set(v.images for v in found.values()) == {"all photos", "tuning photos"}
    v16 = found["`kq-default` vs `pngquant`", 16, "tuning photos"]
    assert v16.met is True and v16.detail == "51.0 vs 50.0, 1.04x bytes"
    v64 = found["`kq-default` vs `pngquant`", 64, "tuning photos"]
    assert v64.met is False and v64.detail == "55.0 vs 50.0, 1.06x bytes"
    # undithered: no pngquant --nofs rows, so not measured
    assert found["`kq-none` vs `pngquant-nofs`", 16, "tuning photos"].met is None
    # dithered mean 50.5 above undithered 50.0, on one of the two images
    fs = found["`kq-fs`", 16, "tuning photos"]
    assert fs.met is True
    assert fs.detail == "50.5 vs 50.0 (higher on 1 of 2 images; the same PLTE colours on 1)"
    # a method missing on one image makes its mean incomplete: no verdict
    rows[0]["status"] = "error"
    again = {(_short(v.bar), v.k, v.images): v.met for v in pc.verdicts(rows)}
    assert again["`kq-default` vs `pngquant`", 16, "tuning photos"] is None
    assert "| `kq-default` | 61.0 (1)* |" in pc.s2_table(rows, ("tuning",))


def test_means_and_tables_by_hand():
    rows = [
        _row("a", "graphic", "kq-default", 8, 10.0, 2048),
        _row("b", "graphic", "kq-default", 8, 20.0, 4096),
        _row("b", "graphic", "pngquant", 8, 0.0, 0, status="missing"),
    ]
    m = pc.means(rows, ("graphic",))
    assert set(m) == {("kq-default", 8)}
    mean = m["kq-default", 8]
    assert (mean.ssimulacra2, mean.kib, mean.n, mean.complete) == (15.0, 3.0, 2, True)
    assert "| `kq-default` | 15.0 (3) |" in pc.s2_table(rows, ("graphic",))
    assert "| `kq-default` | 10.0 / 2.00 / 1.00 |" in pc.error_table(rows, ("graphic",))
    assert "pngquant" not in pc.s2_table(rows, ("graphic",))  # no ok row: no line


# --------------------------------------------------------------------------
# the crops' window
# --------------------------------------------------------------------------


def test_smooth_window_finds_the_ramp_not_the_flat_or_the_noise():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (80, 240, 3)).astype(np.uint8)  # noise everywhere...
    img[:, 80:160] = 128  # ...a flat block: no shades to band...
    ramp = np.linspace(60, 90, 80)[None, :, None]  # ...and a gentle ramp
    img[:, 160:] = np.broadcast_to(ramp, (80, 80, 3)).astype(np.uint8)
    y, x = pc.smooth_window(img, 32)
    assert 160 <= x <= 240 - 32 and 0 <= y <= 80 - 32
    with pytest.raises(
        ValueError, match=r"window 80 does not fit in an image of shape \(80, 240, 3\)"
    ):
        pc.smooth_window(img, 80)


# --------------------------------------------------------------------------
# the quick mode, end to end
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("perceptual")
    report = out / "benchmarks.md"
    report.write_text("# Benchmarks\n\nkept\n")
    cmd = [sys.executable, "-m", "benchmarks.perceptual", "--quick"]
    cmd += ["--cache", str(out / "cache"), "--report", str(report), "--figures", str(out)]
    cmd += ["--extra-mode", "kq-bogus=--no-such-option 3"]
    runs = []
    for i in range(2):  # the second run takes the peers from the cache, replaces the section
        proc = subprocess.run(
            [*cmd, "--json", str(out / f"run{i}.json")],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs.append(json.loads((out / f"run{i}.json").read_text()))
    return out, runs


def test_quick_rows(quick_run):
    _, (first, second) = quick_run
    rows = first["rows"]
    methods = {r["method"] for r in rows}
    assert methods == {*pc.MODES, "kq-bogus", *pc.PEERS}
    images = {r["image"] for r in rows}
    assert len(rows) == len(images) * len(methods)  # every method on every image, k=16
    for r in rows:
        if r["method"] == "kq-bogus":
            assert r["status"] == "unsupported", r
            assert r["reason"] == "kmeans-quant has no option --no-such-option"
        elif r["family"] == "ours":
            assert r["status"] == "ok", r
        if r["status"] == "ok":
            assert r["k"] == 16 and 1 <= r["colors"] <= 16
            assert r["bytes"] > 0 and math.isfinite(r["ssimulacra2"]) and r["ssimulacra2"] < 100
            assert r["mse"] > 0 and r["delta_e76"] > 0
            assert "output" not in r  # no temporary paths in the JSON
        else:
            assert r["reason"], r
    if pngquant_binary() is None:
        assert {r["status"] for r in rows if r["family"] == "pngquant"} == {"missing"}
    # the peers come from the cache the second time, with the same figures
    peers = [(a, b) for a, b in zip(rows, second["rows"], strict=True) if a["family"] != "ours"]
    for a, b in peers:
        if a["status"] == "ok":
            assert not a["cached"] and b["cached"]
            assert (a["ssimulacra2"], a["bytes"]) == (b["ssimulacra2"], b["bytes"])
    meta = first["meta"]
    assert meta["versions"]["ssimulacra2"] != "missing"
    assert meta["ssimulacra2_s_per_03mp"] > 0
    assert {n: i["group"] for n, i in meta["images"].items()} == {
        "chelsea-tiny": "tuning",
        "chelsea-crop": "held-out",
        "gradient-tiny": "graphic",
    }


def test_quick_report_and_figures(quick_run):
    out, (first, _) = quick_run
    text = (out / "benchmarks.md").read_text()
    assert text.startswith("# Benchmarks\n\nkept\n")
    assert text.count(pc.START) == 1 and text.count(pc.END) == 1
    assert text.count("## Perceptual quality against file size (SSIMULACRA2)") == 1
    for heading in (
        "### The bars",
        "### All photos: mean SSIMULACRA2 (mean KiB)",
        "### Tuning photos: mean SSIMULACRA2 (mean KiB)",
        "### Held-out photos: mean SSIMULACRA2 (mean KiB)",
        "### Graphics: mean SSIMULACRA2 (mean KiB)",
        "### Graphics: mean MSE / ΔE76 / CIEDE2000",
    ):
        assert heading in text
    rows = [r for r in first["rows"] if r["group"] == "tuning" and r["method"] == "kq-default"]
    cell = f"{rows[0]['ssimulacra2']:.1f} ({rows[0]['bytes'] / 1024:.0f})"
    assert f"| `kq-default` | {cell} |" in text.split("### Tuning photos")[1]
    assert "| `kq-bogus` |" in text and "unsupported: kmeans-quant has no option" in text
    for name in ("perceptual_rd.png", "perceptual_crops.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    picks = first["meta"]["crops"]
    assert [p[3] for p in picks[:2]] == ["smoothest window"] * 2  # one per half
    assert [p[0] for p in picks[:2]] == ["chelsea-tiny", "chelsea-crop"]
    assert all(p[3].startswith("most kq-fs speckles") for p in picks[2:])
    crops = Image.open(out / "perceptual_crops.png")
    # a row per window: 1 + 4 tiles of 32 x 32 at 2x
    assert crops.width >= 5 * 64 and crops.height >= len(picks) * 64 >= 2 * 64


def test_unknown_method_is_a_usage_error():
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.perceptual", "--quick", "--modes", "kq-default,nosuch"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "unknown method(s) nosuch; known: kq-default" in proc.stderr


def test_filters_keep_the_extra_modes(tmp_path, capsys):
    out = tmp_path / "rows.json"
    argv = ["--quick", "--images", "chelsea-tiny", "--ks", "8", "--modes", "pillow-octree"]
    argv += ["--extra-mode", "kq-x=--dither none", "--cache", str(tmp_path), "--json", str(out)]
    assert pc.main(argv) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["image"], r["k"], r["method"], r["status"]) for r in rows] == [
        ("chelsea-tiny", 8, "kq-x", "ok"),
        ("chelsea-tiny", 8, "pillow-octree", "ok"),
    ]
    assert "| `kq-x` |" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="--extra-mode wants NAME=ARGUMENTS, got 'kq-y'"):
        pc.main(["--quick", "--extra-mode", "kq-y"])


def test_speckles_by_hand():
    image = np.full((1, 4, 3), 100, np.uint8)
    plain = image.copy()
    plain[0, :2] = 104  # 6.93 levels off
    dithered = plain.copy()
    dithered[0, 0] = 110  # 17.3: over twice and over 10 more than 6.93
    dithered[0, 1] = 108  # 13.9: exactly twice, not more
    dithered[0, 2] = 106  # 10.4 where the plain pixel was exact: over 10
    dithered[0, 3] = 105  # 8.7: under 10
    assert pc.speckles(image, dithered, plain).tolist() == [[True, False, True, False]]


def test_speckle_window_finds_the_speckles_in_the_smooth_part():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (80, 240, 3)).astype(np.uint8)
    ramp = np.linspace(60, 160, 120)[None, :, None]  # 27 levels a window: not flat
    img[:, 120:] = np.broadcast_to(ramp, (80, 120, 3)).astype(np.uint8)
    dithered = img.copy()
    dithered[5:60:3, 170:200:3] = 255  # speckles in the ramp
    dithered[:, :100:2] ^= 128  # far-off pixels in the noise: not a smooth region
    y, x, count = pc.speckle_window(img, dithered=dithered, plain=img, size=32)
    assert 170 - 31 <= x <= 170 and count == np.count_nonzero(
        pc.speckles(img, dithered, img)[y : y + 32, x : x + 32]
    )
    assert count >= 60  # most of the 19 x 10 speckles fit in one window


def test_identical_modes_by_hand():
    rows = [
        {**_row("a", "tuning", m, 8, 10.0, 100), "palette": "p"}
        for m in ("kq-default", "kq-none", "kq-fs", "pngquant")
    ]
    rows += [
        {**_row("b", "tuning", m, 8, 20.0, 200), "palette": "q"}
        for m in ("kq-default", "kq-none", "kq-fs", "pngquant")
    ]
    rows[6]["bytes"] = 201  # kq-fs differs on one image
    assert pc.identical_modes(rows) == [("kq-default", "kq-none")]
    rows[5]["palette"] = "other"  # so does kq-none now
    assert pc.identical_modes(rows) == []
