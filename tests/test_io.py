"""Image files: round trips per format, palette-mode output, atomic writes, errors."""

from __future__ import annotations

import os
import stat

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import make_quadrants
from PIL import Image

from kmeans_quant import Palette, extract_palette, quantize
from kmeans_quant.io import read_image, write_image


@pytest.fixture
def q4():
    """A 4-colour image and its palette (the colours it uses)."""
    img = quantize(make_quadrants(16, 20), 4)
    return img, extract_palette(img, 4)


def _listing(folder):
    return sorted(os.listdir(folder))


# ------------------------------------------------------------------ round trips


def test_png_with_palette_is_palette_mode_and_exact(tmp_path, q4):
    img, pal = q4
    path = write_image(tmp_path / "q.png", img, palette=pal)
    with Image.open(path) as im:
        assert im.mode == "P"
        entries = np.array(im.getpalette(), dtype=np.uint8).reshape(-1, 3)[: len(pal)]
    assert {tuple(c) for c in entries} == {tuple(c) for c in pal.colors}
    np.testing.assert_array_equal(read_image(path), img)


def test_palette_mode_is_smaller_than_truecolour(tmp_path, q4):
    _, pal = q4
    # the 4 colours scattered at random: 2 bits a pixel against 24
    img = pal.colors[np.random.default_rng(0).integers(0, 4, size=(64, 64))]
    indexed = write_image(tmp_path / "p.png", img, palette=pal)
    truecolour = tmp_path / "t.png"
    iio.imwrite(truecolour, img)
    with Image.open(truecolour) as im:
        assert im.mode == "RGB"
    with Image.open(indexed) as im:
        assert im.mode == "P"
    assert indexed.stat().st_size < truecolour.stat().st_size
    # without a palette the image's own 4 colours make the same palette file
    with Image.open(write_image(tmp_path / "own.png", img)) as im:
        assert im.mode == "P" and len(im.getpalette()) == 12


def test_palette_order_does_not_matter(tmp_path, q4):
    img, pal = q4
    path = write_image(tmp_path / "q.png", img, palette=pal.colors[::-1])
    np.testing.assert_array_equal(read_image(path), img)


def test_gif_round_trip(tmp_path, q4):
    img, pal = q4
    path = write_image(tmp_path / "q.gif", img, palette=pal)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.mode == "P"
    np.testing.assert_array_equal(read_image(path), img)


def test_gif_without_palette_uses_the_image_colours(tmp_path, q4):
    img, _ = q4
    path = write_image(tmp_path / "q.gif", img)
    with Image.open(path) as im:
        assert im.mode == "P"
    np.testing.assert_array_equal(read_image(path), img)


def test_gif_refuses_more_than_256_colours(tmp_path):
    img = np.random.default_rng(0).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="a GIF holds at most 256 colours, the image has 400"):
        write_image(tmp_path / "many.gif", img)
    assert _listing(tmp_path) == []


@pytest.mark.parametrize("ext", [".tif", ".tiff", ".bmp", ".webp", ".PNG"])
def test_lossless_formats_round_trip(tmp_path, q4, ext):
    img, pal = q4
    np.testing.assert_array_equal(read_image(write_image(tmp_path / f"q{ext}", img)), img)
    np.testing.assert_array_equal(
        read_image(write_image(tmp_path / f"p{ext}", img, palette=pal)), img
    )


def test_jpeg_is_close(tmp_path):
    img = quantize(make_quadrants(64, 64), 4)  # mostly flat: JPEG's error stays small
    back = read_image(write_image(tmp_path / "q.jpeg", img))
    assert back.shape == img.shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - img).mean() < 4


def test_rgba_png_uses_trns_and_keeps_alpha(tmp_path, q4):
    img, pal = q4
    alpha = np.tile(np.array([0, 64, 255, 255, 128], np.uint8), 4)[None].repeat(16, 0)
    rgba = np.dstack([img, alpha])
    path = write_image(tmp_path / "a.png", rgba, palette=pal)
    with Image.open(path) as im:
        assert im.mode == "P" and "transparency" in im.info
    back = read_image(path)
    # every fully transparent pixel is on one entry of colour and alpha 0
    np.testing.assert_array_equal(back[alpha > 0], rgba[alpha > 0])
    np.testing.assert_array_equal(back[alpha == 0], 0)


def test_rgba_png_with_too_many_colour_alpha_pairs_is_truecolour(tmp_path, q4):
    img, pal = q4
    alpha = np.arange(img.shape[0] * img.shape[1], dtype=np.uint8).reshape(img.shape[:2])
    rgba = np.dstack([img, alpha])  # 4 colours x up to 256 alphas > 256 pairs
    path = write_image(tmp_path / "a.png", rgba, palette=pal)
    with Image.open(path) as im:
        assert im.mode == "RGBA"
    np.testing.assert_array_equal(read_image(path), rgba)


def test_opaque_rgba_png_has_no_trns(tmp_path, q4):
    img, pal = q4
    rgba = np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
    path = write_image(tmp_path / "a.png", rgba, palette=pal)
    with Image.open(path) as im:
        assert im.mode == "P" and "transparency" not in im.info


def test_rgba_gif_thresholds_alpha(tmp_path, q4):
    img, pal = q4
    alpha = np.where(np.arange(20) < 7, 100, 200).astype(np.uint8)[None].repeat(16, 0)
    back = read_image(write_image(tmp_path / "a.gif", np.dstack([img, alpha]), palette=pal))
    assert back.shape == (16, 20, 4)
    np.testing.assert_array_equal(back[..., 3], np.where(alpha < 128, 0, 255))
    np.testing.assert_array_equal(back[:, 7:, :3], img[:, 7:])


def test_rgba_gif_with_full_palette_and_transparency_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    colors = np.unique(rng.integers(0, 256, (400, 3), dtype=np.uint8), axis=0)[:256]
    img = colors[np.arange(256).reshape(16, 16)]
    rgba = np.dstack([img, np.zeros((16, 16), np.uint8)])
    with pytest.raises(ValueError, match="at most 255 colours, got a palette of 256"):
        write_image(tmp_path / "a.gif", rgba, palette=colors)
    assert _listing(tmp_path) == []


def test_grey_png_reads_back_as_grey(tmp_path):
    grey = np.array([[0, 80], [80, 255]], dtype=np.uint8)
    path = write_image(tmp_path / "g.png", grey, palette=[0, 80, 255])
    np.testing.assert_array_equal(read_image(path), grey)


def test_grey_gif_is_palette_mode_with_grey_entries(tmp_path):
    grey = np.array([[0, 80], [80, 255]], dtype=np.uint8)
    path = write_image(tmp_path / "g.gif", grey, palette=np.array([[0], [80], [255]]))
    with Image.open(path) as im:
        assert im.mode == "P"
    np.testing.assert_array_equal(read_image(path), grey)  # a grey palette reads as grey


@pytest.mark.parametrize("shape", [(5, 6), (5, 6, 3), (5, 6, 4)])
def test_uint16_tiff_keeps_16_bits(tmp_path, shape):
    img = np.random.default_rng(2).integers(0, 65536, size=shape, dtype=np.uint16)
    back = read_image(write_image(tmp_path / "w.tif", img))
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, img)


def test_uint16_grey_png_keeps_16_bits(tmp_path):
    img = np.random.default_rng(3).integers(0, 65536, size=(5, 6), dtype=np.uint16)
    back = read_image(write_image(tmp_path / "w.png", img))
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, img)


def test_uint16_colour_png_is_rounded_to_8_bits_and_can_be_indexed(tmp_path):
    img = np.array([[[0, 0, 0], [65535, 257, 1000]]], dtype=np.uint16)
    path = write_image(tmp_path / "w.png", img, palette=img.reshape(-1, 3))
    with Image.open(path) as im:
        assert im.mode == "P"
    np.testing.assert_array_equal(read_image(path), [[[0, 0, 0], [255, 1, 4]]])


def test_uint16_to_eight_bit_formats_is_scaled(tmp_path):
    img = np.array([[[0, 257, 65535], [32896, 514, 0]]], dtype=np.uint16)
    back = read_image(write_image(tmp_path / "w.bmp", img))
    np.testing.assert_array_equal(back, (img // 257).astype(np.uint8))


def test_float_image_is_written_as_uint8(tmp_path):
    img = np.array([[[0.0, 0.5, 1.0]]])
    back = read_image(write_image(tmp_path / "f.png", img))
    np.testing.assert_array_equal(back, [[[0, 128, 255]]])


# ------------------------------------------------------------------ atomicity


def test_existing_file_is_kept_without_force(tmp_path, q4):
    img, _ = q4
    path = tmp_path / "q.png"
    path.write_bytes(b"old")
    with pytest.raises(FileExistsError, match="q.png' already exists"):
        write_image(path, img)
    assert path.read_bytes() == b"old"
    assert _listing(tmp_path) == ["q.png"]


def test_force_overwrites_and_keeps_permissions(tmp_path, q4):
    img, _ = q4
    path = tmp_path / "q.png"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    write_image(path, img, force=True)
    np.testing.assert_array_equal(read_image(path), img)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_new_file_permissions_follow_umask(tmp_path, q4):
    img, _ = q4
    old = os.umask(0o027)
    try:
        path = write_image(tmp_path / "q.png", img)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.parametrize("exc", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_failed_imageio_write_leaves_nothing(tmp_path, q4, monkeypatch, exc):
    img, _ = q4
    (tmp_path / "q.tif").write_bytes(b"old")

    def half_write(uri, *args, **kwargs):
        with open(uri, "wb") as f:
            f.write(b"half")
        raise exc

    monkeypatch.setattr(iio, "imwrite", half_write)
    with pytest.raises(type(exc)):
        write_image(tmp_path / "q.tif", img, force=True)
    assert _listing(tmp_path) == ["q.tif"]
    assert (tmp_path / "q.tif").read_bytes() == b"old"


def test_failed_pillow_write_leaves_nothing(tmp_path, q4, monkeypatch):
    img, pal = q4

    def broken_save(self, fp, *args, **kwargs):
        with open(fp, "wb") as f:
            f.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="No space left"):
        write_image(tmp_path / "q.png", img, palette=pal)
    assert _listing(tmp_path) == []


# ------------------------------------------------------------------ write errors


def test_missing_folder(tmp_path, q4):
    with pytest.raises(FileNotFoundError, match="folder .*nope' does not exist"):
        write_image(tmp_path / "nope" / "q.png", q4[0])


def test_destination_is_a_folder(tmp_path, q4):
    (tmp_path / "d.png").mkdir()
    with pytest.raises(IsADirectoryError, match="d.png': it is a directory"):
        write_image(tmp_path / "d.png", q4[0], force=True)


def test_unsupported_extension(tmp_path, q4):
    with pytest.raises(ValueError, match=r"unsupported extension '\.xyz'"):
        write_image(tmp_path / "q.xyz", q4[0])


def test_jpeg_refuses_alpha(tmp_path):
    with pytest.raises(ValueError, match="JPEG has no alpha channel"):
        write_image(tmp_path / "a.jpg", np.zeros((2, 2, 4), np.uint8))


def test_palette_missing_a_colour(tmp_path, q4):
    img, pal = q4
    with pytest.raises(ValueError, match=r"pixels have colours that are not in the palette"):
        write_image(tmp_path / "q.png", img, palette=pal.colors[:3])
    assert _listing(tmp_path) == []


@pytest.mark.parametrize(
    "palette, exc, msg",
    [
        (np.zeros((3, 4)), ValueError, r"palette must have shape \(m, 3\) .*got \(3, 4\)"),
        (np.zeros((0, 3)), ValueError, r"got \(0, 3\)"),
        ([[0, 0, 300]], ValueError, r"values must lie in \[0, 255\] .*got range \[0, 300\]"),
        ([[0, 0, -1]], ValueError, r"got range \[-1, 0\]"),
        (np.array([["a", "b", "c"]]), TypeError, "palette must hold real numbers, got dtype <U1"),
    ],
)
def test_bad_palette(tmp_path, q4, palette, exc, msg):
    with pytest.raises(exc, match=msg):
        write_image(tmp_path / "q.png", q4[0], palette=palette)


@pytest.mark.parametrize(
    "image, exc, msg",
    [
        ([[0, 1]], TypeError, r"image must be a numpy.ndarray of shape .*, got list"),
        (np.zeros((2, 2, 2), np.uint8), ValueError, r"shape \(H, W\), .*got \(2, 2, 2\)"),
        (np.zeros((0, 3), np.uint8), ValueError, r"image is empty, got shape \(0, 3\)"),
        (
            np.full((2, 2), 2.0),
            ValueError,
            r"float image values must lie in \[0, 1\], got range \[2, 2\]",
        ),
        (
            np.zeros((2, 2), np.int32),
            TypeError,
            "image dtype must be uint8, uint16 or float with values in \\[0, 1\\], got int32",
        ),
    ],
)
def test_bad_image(tmp_path, image, exc, msg):
    with pytest.raises(exc, match=msg):
        write_image(tmp_path / "q.png", image)


# ------------------------------------------------------------------ reading


def test_read_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such image file: .*ghost.png"):
        read_image(tmp_path / "ghost.png")


def test_read_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match="expected an image file, got the folder"):
        read_image(tmp_path)


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"])
def test_read_corrupt_file(tmp_path, content):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="cannot read image .*bad.png"):
        read_image(path)


def test_read_truncated_png(tmp_path, q4):
    good = write_image(tmp_path / "good.png", make_quadrants(40, 40, noise=40))
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match="cannot read image .*cut.png"):
        read_image(tmp_path / "cut.png")


@pytest.mark.parametrize(
    "mode, shape, dtype",
    [
        ("1", (3, 4), np.uint8),
        ("L", (3, 4), np.uint8),
        ("LA", (3, 4, 4), np.uint8),
        ("RGB", (3, 4, 3), np.uint8),
        ("I;16", (3, 4), np.uint16),
    ],
)
def test_read_pillow_modes(tmp_path, mode, shape, dtype):
    Image.new(mode, (4, 3), color=1).save(tmp_path / "m.png")
    back = read_image(tmp_path / "m.png")
    assert back.shape == shape and back.dtype == dtype


def test_read_one_bit_is_0_or_255(tmp_path):
    im = Image.new("1", (2, 1))
    im.putpixel((1, 0), 1)
    im.save(tmp_path / "b.png")
    np.testing.assert_array_equal(read_image(tmp_path / "b.png"), [[0, 255]])


def test_read_grey_alpha_becomes_rgba(tmp_path):
    Image.new("LA", (1, 1), color=(90, 30)).save(tmp_path / "la.png")
    np.testing.assert_array_equal(read_image(tmp_path / "la.png"), [[[90, 90, 90, 30]]])


def test_read_cmyk_jpeg_gives_rgb(tmp_path):
    Image.new("CMYK", (4, 4), color=(0, 255, 255, 0)).save(tmp_path / "c.jpg")
    back = read_image(tmp_path / "c.jpg")
    assert back.shape == (4, 4, 3)
    assert back[0, 0, 0] > 200 and back[0, 0, 1] < 50  # red


def test_read_animated_gif_gives_first_frame(tmp_path):
    frames = [Image.new("RGB", (3, 2), c) for c in [(255, 0, 0), (0, 0, 255)]]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    back = read_image(tmp_path / "anim.gif")
    assert back.shape == (2, 3, 3)
    np.testing.assert_array_equal(back[0, 0], [255, 0, 0])


def test_read_float_tiff(tmp_path):
    img = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    iio.imwrite(tmp_path / "f.tif", img)
    np.testing.assert_array_equal(read_image(tmp_path / "f.tif"), img)


def test_read_float_tiff_out_of_range(tmp_path):
    iio.imwrite(tmp_path / "f.tif", np.full((2, 2), 7.5, np.float32))
    with pytest.raises(ValueError, match="f.tif'.* pixel type float32 .* not supported"):
        read_image(tmp_path / "f.tif")


def test_read_too_many_channels(tmp_path):
    iio.imwrite(tmp_path / "five.tif", np.zeros((3, 4, 5), np.uint8))
    with pytest.raises(ValueError, match=r"five.tif'.*got \(3, 4, 5\)"):
        read_image(tmp_path / "five.tif")


def test_read_palette_png_with_transparency_from_pillow(tmp_path):
    im = Image.frombytes("P", (2, 1), bytes([0, 1]))
    im.putpalette(bytes([10, 20, 30, 40, 50, 60]), rawmode="RGB")
    im.save(tmp_path / "t.png", transparency=bytes([255, 0]))
    np.testing.assert_array_equal(
        read_image(tmp_path / "t.png"), [[[10, 20, 30, 255], [40, 50, 60, 0]]]
    )


def test_palette_object_and_array_agree(tmp_path, q4):
    img, pal = q4
    a = write_image(tmp_path / "a.png", img, palette=pal)
    b = write_image(tmp_path / "b.png", img, palette=Palette(pal.colors, pal.counts))
    c = write_image(tmp_path / "c.png", img, palette=pal.colors.tolist())
    assert a.read_bytes() == b.read_bytes() == c.read_bytes()


def test_palette_index_lookup_table_and_search_agree():
    from kmeans_quant.color_table import index_of_codes

    rng = np.random.default_rng(0)
    known = rng.choice(1 << 24, 300, replace=False).astype(np.uint32)
    absent = np.setdiff1d(np.arange(10, dtype=np.uint32), known)[:2]
    codes = np.concatenate([known[rng.integers(0, 300, (1 << 21) + 5)], absent])
    table = index_of_codes(codes, known, 3)  # many codes: the lookup table
    search = index_of_codes(codes[-1000:], known, 3)  # few: the sorted search
    assert np.array_equal(table[-1000:], search)
    assert np.array_equal(known[table[:-2]], codes[:-2]) and table[-2:].tolist() == [-1, -1]
