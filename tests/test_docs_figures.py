"""Smoke tests of the figure package docs/make_figures/ and the code in docs/tutorial.md.

The figure script runs in ``--quick`` mode on a small synthetic image, so the
whole file takes a few seconds; the full run is what regenerates docs/figures.
"""

from __future__ import annotations

import doctest
import importlib.util
import re
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
iio = pytest.importorskip("imageio.v3")

DOCS = Path(__file__).resolve().parents[1] / "docs"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def load_figure_package():
    """docs/make_figures/ imported as a package, without touching sys.path.

    The package is run as ``python -m docs.make_figures`` from the root; here
    it is loaded from its folder under a private name, so its relative
    imports resolve while the test suite's import path stays as it is.
    """
    name = "_docs_make_figures"
    if name in sys.modules:
        return sys.modules[name]
    folder = DOCS / "make_figures"
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # submodules and dataclasses look the package up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def make_figures():
    """The package; its section modules are attributes (``make_figures.common``...)."""
    return load_figure_package()


def synthetic_photo(seed: int = 0) -> np.ndarray:
    """24 x 32 RGB: four flat colour quadrants, a bar, and a little noise."""
    rng = np.random.default_rng(seed)
    img = np.empty((24, 32, 3), dtype=np.float64)
    img[:12, :16] = [200, 40, 40]
    img[:12, 16:] = [40, 160, 60]
    img[12:, :16] = [30, 60, 190]
    img[12:, 16:] = [230, 210, 80]
    img[10:14, 4:28] = [90, 90, 90]
    img += rng.normal(scale=6.0, size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into (type, payload) chunks, checking every CRC."""
    assert data[:8] == PNG_SIGNATURE
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        payload = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + payload) == crc, f"bad CRC in chunk {kind!r}"
        chunks.append((kind, payload))
        pos += 12 + length
    return chunks


@pytest.fixture(scope="module")
def quick_run(make_figures, tmp_path_factory):
    """One --quick run shared by the tests below: (output folder, source image)."""
    root = tmp_path_factory.mktemp("figs")
    image = synthetic_photo()
    src = root / "synthetic.png"
    iio.imwrite(src, image)
    out = root / "out"
    returned = make_figures.main(["--quick", "--image", str(src), "--out", str(out)])
    assert returned == out
    return out, image


@pytest.mark.slow
def test_every_figure_is_a_valid_nonempty_png(make_figures, quick_run):
    out, _ = quick_run
    assert len(make_figures.FIGURES) >= 6
    for name in make_figures.FIGURES:
        path = out / name
        assert path.is_file(), f"{name} was not written"
        data = path.read_bytes()
        chunks = png_chunks(data)
        kinds = [k for k, _ in chunks]
        assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds, name
        width, height = struct.unpack(">II", chunks[0][1][:8])
        assert width > 50 and height > 50, f"{name} is only {width}x{height}"
        pixels = np.asarray(iio.imread(path))
        assert pixels.shape[:2] == (height, width)
        # A blank canvas would be one flat colour; every figure draws something.
        assert np.ptp(pixels.reshape(-1, pixels.shape[-1])[:, 0]) > 100, name


@pytest.mark.slow
def test_no_unexpected_files(make_figures, quick_run):
    out, _ = quick_run
    written = {p.name for p in out.iterdir()}
    assert written == set(make_figures.FIGURES) | {make_figures.SUMMARY}


@pytest.mark.slow
def test_photo_figures_are_indexed_and_keep_the_panels(quick_run):
    # The figures full of photos are stored with a palette (PNG colour type 3).
    out, _ = quick_run
    for name in (
        "landing.png",
        "iterations.png",
        "k_sweep.png",
        "baselines.png",
        "oklab.png",
        "pitfall_random_photo.png",
    ):
        ihdr = png_chunks((out / name).read_bytes())[0][1]
        assert ihdr[9] == 3, f"{name} should be an indexed PNG, colour type {ihdr[9]}"


@pytest.mark.slow
def test_summary_reports_the_run(quick_run):
    out, image = quick_run
    text = (out / "summary.txt").read_text()
    assert "mode: quick" in text
    assert f"shape: {image.shape}" in text
    n_colors = len(np.unique(image.reshape(-1, 3), axis=0))
    assert f"distinct colours: {n_colors}" in text
    # The hand-written Lloyd loop must agree with the engine, and Lloyd's
    # objective must never have risen.
    assert "step-function loop equals kmeans_steps(tol=0): True" in text
    assert "iterations where the objective rose: 0" in text


@pytest.mark.slow
def test_fits_are_reproducible(make_figures, quick_run):
    # Every random draw goes through a fixed seed: the same fit twice is identical.
    out, _ = quick_run
    photo = make_figures.common.load_photo(out.parent / "synthetic.png")
    first, second = make_figures.common.fit_steps(photo, 4), make_figures.common.fit_steps(photo, 4)
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.centers, b.centers)
        np.testing.assert_array_equal(a.labels, b.labels)


@pytest.mark.slow
def test_painting_uses_only_the_centres(make_figures, quick_run):
    out, image = quick_run
    photo = make_figures.common.load_photo(out.parent / "synthetic.png")
    last = make_figures.common.fit_steps(photo, 4)[-1]
    painted = photo.paint(last.centers, last.labels)
    assert painted.shape == image.shape and painted.dtype == np.uint8
    palette = np.clip(np.rint(last.centers), 0, 255).astype(np.uint8)
    used = np.unique(painted.reshape(-1, 3), axis=0)
    assert len(used) <= 4
    assert all((palette == c).all(axis=1).any() for c in used)
    # Pixel shares of the clusters add up to the whole picture.
    assert np.isclose(photo.shares(last.labels, 4).sum(), 1.0)


@pytest.mark.slow
def test_k_is_capped_by_the_number_of_colours(make_figures, tmp_path):
    # Three colours only: every k above 3 must be skipped, not crash kmeans.
    img = np.zeros((20, 30, 3), dtype=np.uint8)
    img[:, 10:20] = [255, 0, 0]
    img[:, 20:] = [0, 0, 255]
    src = tmp_path / "three.png"
    iio.imwrite(src, img)
    out = make_figures.main(["--quick", "--image", str(src), "--out", str(tmp_path / "o")])
    text = (out / "summary.txt").read_text()
    assert "k=4" not in text.split("[k sweep")[1].split("[")[0]
    assert (out / "iterations.png").stat().st_size > 0


def test_rejects_a_grayscale_image(make_figures, tmp_path):
    src = tmp_path / "grey.png"
    iio.imwrite(src, np.zeros((8, 8), dtype=np.uint8))
    expected = r"8-bit RGB or RGBA picture .*, got dtype uint8 and shape \(8, 8\)"
    with pytest.raises(ValueError, match=expected):
        make_figures.main(["--quick", "--image", str(src), "--out", str(tmp_path / "o")])


def test_rejects_an_image_smaller_than_one_block(make_figures, tmp_path):
    src = tmp_path / "tiny.png"
    iio.imwrite(src, np.zeros((6, 9, 3), dtype=np.uint8))
    expected = r"at least 8x8 pixels, got dtype uint8 and shape \(6, 9, 3\)"
    with pytest.raises(ValueError, match=expected):
        make_figures.main(["--quick", "--image", str(src), "--out", str(tmp_path / "o")])


def summary_section(text: str, title_start: str) -> dict[str, str]:
    """The ``key: value`` lines of the summary section whose title starts so."""
    block = text.split("\n[" + title_start, 1)[1].split("\n[", 1)[0]
    # Keys may hold ": " themselves (e.g. "none: crop"); values do not.
    pairs = (line.rsplit(": ", 1) for line in block.splitlines()[1:] if ": " in line)
    return {key.strip(): value for key, value in pairs}


def number_after(label: str, text: str) -> float:
    return float(re.search(re.escape(label) + r" (-?[0-9.]+)", text).group(1))


@pytest.mark.slow
def test_baselines_are_reported_and_match_the_library(quick_run):
    from kmeans_quant import quantize
    from kmeans_quant.colorspace import delta_e_76, srgb_to_lab

    out, image = quick_run
    sec = summary_section((out / "summary.txt").read_text(), "baselines")
    for k in (2, 4):  # the quick run's table
        for method in ("uniform", "median-cut", "kmeans"):
            assert f"k={k} {method}" in sec, f"no line for k={k} {method}"
    # The reported numbers are those of the public API, recomputed here.
    for method in ("uniform", "median-cut", "kmeans"):
        q = quantize(image, 4, method=method)
        mse = np.mean(np.square(q.astype(np.float64) - image))
        de = delta_e_76(srgb_to_lab(q / 255.0), srgb_to_lab(image / 255.0)).mean()
        line = sec[f"k=4 {method}"]
        assert number_after("MSE", line) == pytest.approx(mse, abs=0.006)
        assert number_after("dE76", line) == pytest.approx(de, abs=0.006)
        assert int(number_after("colours", line)) == len(np.unique(q.reshape(-1, 3), axis=0))
    # Four flat quadrants: K-Means beats both baselines on its own objective,
    # and Lloyd's iterations from the median-cut palette only lower the error.
    mse = {m: number_after("MSE", sec[f"k=4 {m}"]) for m in ("uniform", "median-cut", "kmeans")}
    assert mse["kmeans"] < mse["median-cut"] < mse["uniform"]
    lloyd = sec["k=4 Lloyd from the median-cut palette"]
    start = number_after("MSE", lloyd)
    assert start == pytest.approx(mse["median-cut"], abs=0.006)
    assert float(re.search(r"([0-9.]+) after \d+ updates?$", lloyd).group(1)) <= start


@pytest.mark.slow
def test_dithering_trades_pixel_error_for_block_means(make_figures, quick_run):
    from kmeans_quant import quantize
    from kmeans_quant.metrics import block_mean_error

    out, image = quick_run
    sec = summary_section((out / "summary.txt").read_text(), "dithering")
    h, w = image.shape[:2]
    assert sec["Floyd-Steinberg wavefronts x + 2y = const, W + 2(H - 1)"] == (
        f"{w + 2 * (h - 1)} for {h * w} pixels"
    )
    plain = sec["none: whole photo"]
    for d in ("floyd-steinberg", "ordered"):
        line = sec[f"{d}: whole photo"]
        q = quantize(image, 4, dither=d)
        assert number_after("block-mean error", line) == pytest.approx(
            block_mean_error(q, image), abs=0.006
        )
        # The trade the figure shows: worse pixels, better local averages.
        assert number_after("pixel MSE", line) > number_after("pixel MSE", plain)
        assert number_after("block-mean error", line) < number_after("block-mean error", plain)
        assert f"{d}: crop" in sec


@pytest.mark.slow
def test_colour_space_section_reports_both_fits(quick_run):
    from kmeans_quant import quantize
    from kmeans_quant.colorspace import srgb_to_oklab

    out, image = quick_run
    sec = summary_section((out / "summary.txt").read_text(), "colour space")
    ref = srgb_to_oklab(image / 255.0)
    for space in ("rgb", "oklab"):
        q = quantize(image, 4, space=space)
        d_ok = np.linalg.norm(srgb_to_oklab(q / 255.0) - ref, axis=-1).mean()
        assert number_after("Oklab difference", sec[space]) == pytest.approx(d_ok, abs=6e-5)
        for key in ("MSE", "dE76", "|dL*|", "da*b*"):
            assert number_after(key, sec[space]) >= 0
        assert len(sec[f"{space} palette L*"].split(", ")) == 4
    # Each fit is best at the error it minimises.
    assert number_after("MSE", sec["rgb"]) <= number_after("MSE", sec["oklab"])
    assert number_after("Oklab difference", sec["oklab"]) <= number_after(
        "Oklab difference", sec["rgb"]
    )


def test_smoothest_window_finds_the_flat_square(make_figures):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, size=(40, 48, 3), dtype=np.uint8)
    img[16:32, 24:40] = np.linspace(60, 120, 16, dtype=np.uint8)[None, :, None]  # a ramp
    assert make_figures.dithering.smoothest_window(img, 16) == (16, 24)
    # Corners stay on the 8-pixel grid that the block-mean error uses.
    img[:] = 7
    assert make_figures.dithering.smoothest_window(img, 16) == (0, 0)


def test_block_means_and_used_colours(make_figures):
    img = np.zeros((8, 16, 3), dtype=np.uint8)
    img[:, 8:] = [255, 0, 0]
    img[0, 0] = [64, 0, 0]  # one pixel of the left block
    means = make_figures.dithering.block_means(img)
    assert means.shape == (8, 16, 3)
    np.testing.assert_allclose(means[:, :8], [[[1.0, 0, 0]] * 8] * 8)
    np.testing.assert_allclose(means[:, 8:], [[[255.0, 0, 0]] * 8] * 8)
    colors, shares = make_figures.common.used_colours(img)
    expected, counts = np.unique(img.reshape(-1, 3), axis=0, return_counts=True)
    np.testing.assert_array_equal(colors, expected)
    np.testing.assert_allclose(shares, counts / 128)


def test_reference_errors(make_figures):
    img = np.full((8, 8, 3), 120, dtype=np.uint8)
    ref = make_figures.common.Reference.of(img)
    same = ref.errors(img)
    assert same.mse == 0 and same.delta_e == 0 and same.oklab == 0
    lighter = img + 10  # a grey stays grey: all of ΔE76 is lightness
    e = ref.errors(lighter)
    assert e.mse == pytest.approx(100.0)
    assert e.delta_e == pytest.approx(e.lightness) and e.chroma_hue < 1e-6
    assert e.delta_e_map.shape == (8, 8) and e.oklab > 0


@pytest.mark.parametrize(
    ("page", "at_least"), [("tutorial.md", 10), ("internals.md", 5), ("index.md", 5)]
)
def test_tutorial_code_runs(page, at_least):
    """Every ``>>>`` example in the tutorial, internals and landing pages gives its output."""
    path = DOCS / page
    result = doctest.testfile(
        str(path),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
        report=True,
    )
    assert result.attempted > at_least
    assert result.failed == 0, f"{result.failed} example(s) in {page} failed, see output"


def test_every_figure_is_on_a_page(make_figures):
    text = "".join((DOCS / page).read_text() for page in ("index.md", "tutorial.md", "pitfalls.md"))
    for name in make_figures.FIGURES:
        assert f"(figures/{name})" in text, f"no page embeds {name}"


@pytest.mark.slow
def test_figure_package_runs_as_a_module_without_path_hacks():
    # One module per tutorial section plus common; none edits sys.path.
    sources = sorted((DOCS / "make_figures").glob("*.py"))
    assert {p.stem for p in sources} >= {
        "__init__",
        "__main__",
        "common",
        "picture",
        "steps_2d",
        "seeding",
        "convergence",
        "engine",
        "choosing_k",
        "baselines",
        "dithering",
        "oklab",
        "pitfalls",
    }
    for path in sources:
        assert "sys.path" not in path.read_text(), f"{path.name} edits sys.path"
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "docs.make_figures", "--help"],
        cwd=DOCS.parent,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "usage: python -m docs.make_figures" in done.stdout


def test_silhouette_matches_its_definition(make_figures):
    # Against scikit-learn's silhouette_score, an independent implementation.
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(4)
    X = np.concatenate([rng.normal(size=(30, 3)) + c for c in ([0, 0, 0], [5, 0, 0], [0, 6, 2])])
    for labels in (np.repeat([0, 1, 2], 30), rng.integers(0, 4, size=90)):
        k = int(labels.max()) + 1
        ours = make_figures.pitfalls.silhouette(X, labels, k)
        assert ours == pytest.approx(metrics.silhouette_score(X, labels), abs=1e-9)
    # A point alone in its cluster scores 0; two far-apart pairs score near 1.
    X = np.array([[0.0, 0.0], [0.0, 1.0], [100.0, 0.0], [100.0, 1.0], [50.0, 50.0]])
    scores = make_figures.pitfalls.silhouette(X, np.array([0, 0, 1, 1, 2]), 3)
    assert 0.7 < scores < 0.8  # four points near 0.99, one at 0


def test_expected_best_of_runs(make_figures):
    from itertools import combinations

    values = np.array([5.0, 3.0, 9.0, 4.0, 7.0])
    for n in (1, 2, 3, 5):
        brute = np.mean([min(c) for c in combinations(values, n)])
        assert make_figures.pitfalls.expected_best_of(values, n) == pytest.approx(brute)


def test_misassigned_ignores_label_names(make_figures):
    truth = np.array([0, 0, 1, 1, 2, 2])
    assert make_figures.pitfalls.misassigned(np.array([2, 2, 0, 0, 1, 1]), truth, 3) == 0
    assert make_figures.pitfalls.misassigned(
        np.array([2, 2, 0, 0, 1, 0]), truth, 3
    ) == pytest.approx(1 / 6)


@pytest.mark.slow
def test_pitfalls_sections_are_reported(quick_run):
    out, image = quick_run
    text = (out / "summary.txt").read_text()
    restarts = summary_section(text, "pitfalls: restarts on eight blobs")
    assert restarts["runs per start"] == "10"
    empty = summary_section(text, "pitfalls: empty clusters, three blobs")
    # The far centre gets nothing at first; the engine then gives it a blob.
    assert empty["points per centre after the first assignment"].endswith(", 0")
    too_many = summary_section(text, "pitfalls: k beyond the distinct colours")
    assert too_many["quantize(k=16) returns the image unchanged"] == "True"
    assert "must not exceed n_samples" in "".join(too_many.values())
    shapes = summary_section(text, "pitfalls: clusters that are not round")
    for group in ("long thin groups", "one wide group, two tight"):
        # K-Means' answer beats the true groups on its own objective.
        ours = float(shapes[f"{group}: K-Means inertia"])
        assert ours < float(shapes[f"{group}: inertia of the true groups"])
    toy = summary_section(text, "pitfalls: silhouette, four blobs")
    assert toy["k with the largest silhouette"] == "4"
    baseline = summary_section(text, "pitfalls: random palettes on photo")
    for key, line in baseline.items():
        if key.endswith("MSE"):
            mse = dict(part.rsplit(" ", 1) for part in line.split(", "))
            assert float(mse["K-Means"]) <= float(mse["random colours"]), line
