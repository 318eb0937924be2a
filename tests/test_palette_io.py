"""Palette files: exact layouts, round trips, foreign files, every error."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_quadrants
from PIL import Image

from kmeans_quant import Palette, extract_palette, recolor
from kmeans_quant.palette_io import load_palette, save_palette

TWO = Palette(np.array([[200, 30, 30], [0, 0, 0]], np.uint8), np.array([12, 4]))


@pytest.fixture(scope="module")
def fitted() -> Palette:
    return extract_palette(make_quadrants(20, 24, noise=30, seed=4), 6)


# ------------------------------------------------------------------ layouts


def test_json_layout(tmp_path):
    doc = json.loads(save_palette(TWO, tmp_path / "p.json").read_text())
    assert doc == {"colors": ["#c81e1e", "#000000"], "counts": [12, 4]}


def test_gpl_layout(tmp_path):
    lines = save_palette(TWO, tmp_path / "cat.gpl").read_text().splitlines()
    assert lines[:3] == ["GIMP Palette", "Name: cat", "Columns: 2"]
    assert lines[3].startswith("#")
    assert lines[4:] == ["200  30  30\t#c81e1e (12 px)", "  0   0   0\t#000000 (4 px)"]


def test_swatch_layout(tmp_path):
    colors = np.array([[i * 10, 255 - i * 10, 7] for i in range(20)], np.uint8)
    path = save_palette(Palette(colors, np.arange(20)), tmp_path / "s.png")
    with Image.open(path) as im:
        assert im.mode == "P"
        assert im.size == (16 * 32, 2 * 32)  # 16 a row, two rows
        rgb = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(rgb[16, 16 + 32 * 3], colors[3])  # row 0, column 3
    np.testing.assert_array_equal(rgb[48, 16 + 32 * 2], colors[18])  # row 1, column 2
    np.testing.assert_array_equal(rgb[48, -1], colors[19])  # spare cells repeat the last


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("ext", [".json", ".gpl", ".png", ".JSON"])
def test_round_trip(tmp_path, fitted, ext):
    back = load_palette(save_palette(fitted, tmp_path / f"p{ext}"))
    np.testing.assert_array_equal(back.colors, fitted.colors)
    np.testing.assert_array_equal(back.counts, fitted.counts)
    assert back.colors.dtype == np.uint8 and back.counts.dtype == np.int64


def test_swatch_round_trip_beyond_256_colours(tmp_path):
    rng = np.random.default_rng(0)
    colors = rng.integers(0, 256, (300, 3), dtype=np.uint8)  # duplicates allowed
    path = save_palette(Palette(colors, rng.integers(0, 99, 300)), tmp_path / "big.png")
    with Image.open(path) as im:
        assert im.mode == "RGB"
    np.testing.assert_array_equal(load_palette(path).colors, colors)


def test_loaded_palette_recolours_like_the_original(tmp_path, fitted):
    img = make_quadrants(20, 24, noise=30, seed=4)
    back = load_palette(save_palette(fitted, tmp_path / "p.gpl"))
    np.testing.assert_array_equal(recolor(img, back), recolor(img, fitted))


def test_bare_colours_get_zero_counts(tmp_path):
    back = load_palette(save_palette([[1, 2, 3], [250, 251, 252]], tmp_path / "p.json"))
    np.testing.assert_array_equal(back.colors, [[1, 2, 3], [250, 251, 252]])
    np.testing.assert_array_equal(back.counts, [0, 0])


@pytest.mark.parametrize(
    "colors, expected",
    [
        (np.array([[0], [128], [255]], np.uint8), [[0] * 3, [128] * 3, [255] * 3]),
        (np.array([10, 20], np.uint8), [[10] * 3, [20] * 3]),
        (np.array([[0, 257, 65535]], np.uint16), [[0, 1, 255]]),
        (np.array([[0.0, 0.5, 1.0]]), [[0, 128, 255]]),
    ],
)
def test_grey_uint16_and_float_palettes_become_8_bit_rgb(tmp_path, colors, expected):
    back = load_palette(save_palette(colors, tmp_path / "p.json"))
    np.testing.assert_array_equal(back.colors, expected)


# ------------------------------------------------------------------ foreign files


def test_foreign_gpl_has_zero_counts(tmp_path):
    path = tmp_path / "gimp.gpl"
    path.write_text(
        "GIMP Palette\nName: Web\nColumns: 4\n#\n# a comment\n\n"
        "255 255 255\tWhite\n  0   0   0\tBlack\n 12  34  56\n"
    )
    pal = load_palette(path)
    np.testing.assert_array_equal(pal.colors, [[255, 255, 255], [0, 0, 0], [12, 34, 56]])
    np.testing.assert_array_equal(pal.counts, [0, 0, 0])


def test_gpl_with_some_counts_is_all_zero(tmp_path):
    path = tmp_path / "mixed.gpl"
    path.write_text("GIMP Palette\n1 2 3\tred (5 px)\n4 5 6\tblue\n")
    np.testing.assert_array_equal(load_palette(path).counts, [0, 0])


def test_json_without_counts(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"colors": ["#FF0000", "#00ff00"]}')
    pal = load_palette(path)
    np.testing.assert_array_equal(pal.colors, [[255, 0, 0], [0, 255, 0]])
    np.testing.assert_array_equal(pal.counts, [0, 0])


def test_foreign_png_gives_distinct_colours_in_order(tmp_path):
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[0] = [[9, 9, 9], [1, 1, 1], [9, 9, 9]]
    rgb[1] = [[5, 5, 5], [1, 1, 1], [200, 0, 0]]
    Image.fromarray(rgb).save(tmp_path / "f.png")
    pal = load_palette(tmp_path / "f.png")
    np.testing.assert_array_equal(pal.colors, [[9, 9, 9], [1, 1, 1], [5, 5, 5], [200, 0, 0]])
    np.testing.assert_array_equal(pal.counts, [0, 0, 0, 0])


# ------------------------------------------------------------------ errors


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, msg",
    [
        ("{oops", r"bad.json' is not valid JSON"),
        ("[1, 2]", r"bad.json' must hold a JSON object with a \"colors\" list"),
        ('{"counts": [1]}', r"bad.json' must hold a JSON object"),
        ('{"colors": []}', r"bad.json': \"colors\" must be a non-empty list"),
        ('{"colors": "#ffffff"}', r"\"colors\" must be a non-empty list"),
        ('{"colors": ["#fff"]}', r"bad.json': colors\[0\] is '#fff', expected a \"#rrggbb\""),
        ('{"colors": ["#000000", [1, 2, 3]]}', r"colors\[1\] is \[1, 2, 3\]"),
        (
            '{"colors": ["#000000"], "counts": [1, 2]}',
            r"bad.json': \"counts\" must be a list of 1 non-negative integers, got \[1, 2\]",
        ),
        ('{"colors": ["#000000"], "counts": [-1]}', r"\"counts\" must be a list of 1"),
        ('{"colors": ["#000000"], "counts": [true]}', r"\"counts\" must be a list of 1"),
        ('{"colors": ["#000000"], "counts": [1.5]}', r"\"counts\" must be a list of 1"),
    ],
)
def test_malformed_json(tmp_path, text, msg):
    with pytest.raises(ValueError, match=msg):
        load_palette(_write(tmp_path, "bad.json", text))


@pytest.mark.parametrize(
    "text, msg",
    [
        ("", r"bad.gpl' is not a GIMP palette: .* got nothing"),
        ("JASC-PAL\n0100\n", r"bad.gpl' is not a GIMP palette: .* got 'JASC-PAL'"),
        ("GIMP Palette\nName: x\n", r"bad.gpl' lists no colours"),
        (
            "GIMP Palette\n1 2 3 ok\n1 2\tshort\n",
            r"bad.gpl', line 3: expected 'R G B name'.*'1 2\\tshort'",
        ),
        ("GIMP Palette\n1 2 300\tbig\n", r"line 2: .*values 0-255, got '1 2 300\\tbig'"),
        ("GIMP Palette\nred green blue\n", r"line 2: expected 'R G B name'"),
    ],
)
def test_malformed_gpl(tmp_path, text, msg):
    with pytest.raises(ValueError, match=msg):
        load_palette(_write(tmp_path, "bad.gpl", text))


def test_gpl_not_utf8(tmp_path):
    path = tmp_path / "latin.gpl"
    path.write_bytes(b"GIMP Palette\n1 2 3\tcaf\xe9\n")
    with pytest.raises(ValueError, match="latin.gpl' is not UTF-8 text"):
        load_palette(path)


def test_png_that_is_not_a_png(tmp_path):
    (tmp_path / "junk.png").write_bytes(b"definitely not a png")
    with pytest.raises(ValueError, match="junk.png' is not a readable PNG"):
        load_palette(tmp_path / "junk.png")


def test_swatch_note_that_does_not_fit(tmp_path, fitted):
    path = save_palette(fitted, tmp_path / "s.png")
    with Image.open(path) as im:
        small = im.crop((0, 0, 40, 20))
        small.load()
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("kmeans_quant", json.dumps({"n": 6, "columns": 6, "cell": 32, "counts": [0] * 6}))
    small.save(tmp_path / "cropped.png", pnginfo=info)
    with pytest.raises(ValueError, match="cropped.png': its 'kmeans_quant' layout note"):
        load_palette(tmp_path / "cropped.png")


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such palette file: .*nope.json"):
        load_palette(tmp_path / "nope.json")


def test_load_folder(tmp_path):
    (tmp_path / "dir.gpl").mkdir()
    with pytest.raises(IsADirectoryError, match="expected a palette file, got the folder"):
        load_palette(tmp_path / "dir.gpl")


@pytest.mark.parametrize("func", ["save", "load"])
def test_unknown_extension(tmp_path, func):
    path = tmp_path / "p.act"
    with pytest.raises(ValueError, match=r"unknown palette file type '\.act' for .*p.act'"):
        save_palette(TWO, path) if func == "save" else load_palette(path)


def test_no_extension(tmp_path):
    with pytest.raises(ValueError, match=r"unknown palette file type '\(none\)'"):
        save_palette(TWO, tmp_path / "palette")


@pytest.mark.parametrize(
    "palette, exc, msg",
    [
        ("#ffffff", TypeError, "palette must be a Palette or an array of shape"),
        (None, TypeError, "palette must be a Palette or an array of shape"),
        (np.array([["a", "b", "c"]]), TypeError, "palette must hold real numbers, got dtype <U1"),
        (np.zeros((2, 4)), ValueError, r"shape \(m, 3\) or \(m, 1\) with m >= 1, got \(2, 4\)"),
        (np.zeros((0, 3)), ValueError, r"got \(0, 3\)"),
        (
            [[0, 0, 256]],
            ValueError,
            r"values must lie in \[0, 255\] for int64 colours, got range \[0, 256\]",
        ),
        ([[0.0, 0.0, 1.5]], ValueError, r"\[0, 1\] for float64 colours, got range \[0, 1.5\]"),
        ([[0.0, np.nan, 1.0]], ValueError, r"palette contains NaN or infinite values"),
    ],
)
def test_bad_palette_argument(tmp_path, palette, exc, msg):
    with pytest.raises(exc, match=msg):
        save_palette(palette, tmp_path / "p.json")
    assert list(tmp_path.iterdir()) == []


def test_save_keeps_existing_file_without_force(tmp_path):
    path = _write(tmp_path, "p.gpl", "mine")
    with pytest.raises(FileExistsError, match="p.gpl' already exists"):
        save_palette(TWO, path)
    assert path.read_text() == "mine"
    save_palette(TWO, path, force=True)
    np.testing.assert_array_equal(load_palette(path).colors, TWO.colors)


def test_save_into_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_palette(TWO, tmp_path / "no" / "p.json")
