"""Real files: EXIF orientation, ICC profiles, animations, soft alpha, 16-bit, PIL images.

Every file is made here with Pillow (or by hand for a 16-bit colour PNG).
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import CLI_DEFAULTS
from PIL import Image, ImageCms, ImageDraw, ImageOps

import kmeans_quant
from kmeans_quant import extract_palette, quantize, quantize_frames, recolor
from kmeans_quant import frames as kframes
from kmeans_quant.cli import main
from kmeans_quant.frames import Animation, read_frames, write_frames
from kmeans_quant.io import index_image, open_image, read_image, to_pil_image, write_image
from kmeans_quant.palette_io import load_palette


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _icon(size: int = 40) -> np.ndarray:
    """An antialiased RGBA icon: two discs drawn large and scaled down (soft edges)."""
    big = Image.new("RGBA", (8 * size, 8 * size), (0, 0, 0, 0))
    d = ImageDraw.Draw(big)
    d.ellipse((16, 16, 8 * size - 16, 8 * size - 16), fill=(220, 40, 40, 255))
    d.ellipse((3 * size, 3 * size, 6 * size, 6 * size), fill=(40, 90, 220, 160))
    return np.asarray(big.resize((size, size), Image.Resampling.LANCZOS))


def _same_visible(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal alpha, and equal colour wherever something can be seen."""
    if a.shape != b.shape:
        return False
    if a.ndim == 2 or a.shape[2] == 3:
        return bool((a == b).all())
    seen = a[..., 3] > 0
    return bool((a[..., 3] == b[..., 3]).all() and (a[seen] == b[seen]).all())


def _gif5(path: Path) -> list[np.ndarray]:
    """A 5-frame GIF with different durations, 3 loops and a transparent colour."""
    frames = []
    for i in range(5):
        a = np.zeros((20, 30, 4), np.uint8)
        a[...] = [30 * i, 180, 40, 255]
        a[4:12, 4 * i : 4 * i + 8] = [250, 10, 10, 255]
        a[:3, :] = 0  # a transparent band
        frames.append(a)
    ims = []
    for f in frames:
        p = Image.fromarray(f[..., :3]).quantize(16, dither=Image.Dither.NONE)
        idx = np.asarray(p).copy()
        idx[:3] = 15
        q = Image.fromarray(idx, "P")
        q.putpalette(p.getpalette())
        ims.append(q)
    ims[0].save(
        path,
        save_all=True,
        append_images=ims[1:],
        duration=[40, 80, 120, 160, 200],
        loop=3,
        transparency=15,
        disposal=2,
    )
    return frames


# ------------------------------------------------------------------ orientation, ICC


def test_exif_rotated_jpeg_is_read_as_shown(work):
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :10] = [255, 0, 0]  # red on the left of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    Image.fromarray(img).save("phone.jpg", exif=exif, quality=95)
    back = read_image("phone.jpg")
    with Image.open("phone.jpg") as im:
        shown = np.asarray(ImageOps.exif_transpose(im))
    assert back.shape == (40, 20, 3)
    np.testing.assert_array_equal(back, shown)
    assert back[:10, :, 0].mean() > 200  # red is now on top
    assert main(["phone.jpg", "-k", "4", "-o", "out.jpg"]) == 0
    with Image.open("out.jpg") as im:
        assert im.size == (20, 40) and im.getexif().get(0x0112) in (None, 1)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillow(tmp_path, orientation):
    img = np.arange(6 * 4 * 3, dtype=np.uint8).reshape(6, 4, 3) * 3
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(img).save(tmp_path / "o.png", exif=exif)
    with Image.open(tmp_path / "o.png") as im:
        shown = np.asarray(ImageOps.exif_transpose(im))
    np.testing.assert_array_equal(read_image(tmp_path / "o.png"), shown)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp"])
def test_icc_profile_is_kept(work, ext):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    img = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(img).save("in" + ext, icc_profile=icc)
    assert open_image("in" + ext).icc_profile == icc
    assert main(["in" + ext, "-k", "4", "-o", "out" + ext]) == 0
    with Image.open("out" + ext) as im:
        assert im.info.get("icc_profile") == icc


# ------------------------------------------------------------------ animations


def test_gif_frames_durations_loop_and_transparency(work):
    frames = _gif5(work / "anim.gif")
    anim = read_frames("anim.gif")
    assert len(anim) == 5 and anim.durations_ms == [40, 80, 120, 160, 200] and anim.loop == 3
    for got, want in zip(anim.frames, frames):
        assert _same_visible(got, want)
    assert main(["anim.gif", "-k", "4", "-o", "out.gif"]) == 0
    out = read_frames("out.gif")
    assert len(out) == 5 and out.durations_ms == anim.durations_ms and out.loop == 3
    for f in out.frames:
        assert (f[:3, :, 3] == 0).all() and (f[3:, :, 3] == 255).all()
    # one palette for all frames: at most k entries (3 colours + transparent) in all
    colours = np.unique(np.concatenate([f[3:, :, :3].reshape(-1, 3) for f in out.frames]), axis=0)
    assert len(colours) <= 3
    with Image.open("out.gif") as im:
        assert im.n_frames == 5 and "transparency" in im.info


def test_per_frame_palette(work):
    _gif5(work / "anim.gif")
    assert main(["anim.gif", "-k", "3", "--per-frame-palette", "-o", "out.png"]) == 0
    out = read_frames("out.png")
    assert len(out) == 5
    anim = read_frames("anim.gif")
    for got, want in zip(
        out.frames, quantize_frames(anim.frames, 3, alpha="fit", per_frame_palette=True)
    ):
        assert _same_visible(got, want)


@pytest.mark.parametrize("ext", [".png", ".webp", ".gif"])
def test_animation_formats_round_trip(tmp_path, ext):
    rng = np.random.default_rng(1)
    frames = quantize_frames(
        [rng.integers(0, 256, (12, 16, 3), dtype=np.uint8) for _ in range(4)], 8
    )
    path = write_frames(tmp_path / f"a{ext}", frames, durations_ms=[30, 60, 90, 120], loop=0)
    anim = read_frames(path)
    assert len(anim) == 4 and anim.durations_ms == [30, 60, 90, 120] and anim.loop == 0
    for got, want in zip(anim.frames, frames):
        np.testing.assert_array_equal(got, want)
    again = write_frames(tmp_path / f"b{ext}", anim)  # an Animation carries its timing
    assert read_frames(again).durations_ms == anim.durations_ms


def test_apng_and_webp_inputs_through_the_cli(work):
    icons = [np.roll(_icon(24), s, axis=1) for s in (0, 4, 8)]
    write_frames("in.png", icons, durations_ms=[50, 70, 90])
    Image.fromarray(icons[0]).save(
        "in.webp",
        save_all=True,
        append_images=[Image.fromarray(i) for i in icons[1:]],
        duration=[50, 70, 90],
        lossless=True,
        loop=0,
    )
    for src, dest in (("in.png", "out.png"), ("in.webp", "out.webp")):
        assert main([src, "-k", "6", "-o", dest]) == 0
        out = read_frames(dest)
        assert len(out) == 3 and out.durations_ms == [50, 70, 90]
        entries = np.unique(np.concatenate([f.reshape(-1, 4) for f in out.frames]), axis=0)
        assert len(entries) <= 6 and (entries[:, 3] < 255).any()


def test_corrupt_frame_is_a_clear_error_and_leaves_nothing(work, capsys):
    rng = np.random.default_rng(0)
    ims = [
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).quantize(64)
        for _ in range(5)
    ]
    ims[0].save("good.gif", save_all=True, append_images=ims[1:], duration=100)
    data = bytearray(Path("good.gif").read_bytes())
    mid = len(data) // 2
    data[mid : mid + 200] = bytes(200)
    Path("bad.gif").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"cannot read frame \d of \d of '.*bad.gif'"):
        read_frames("bad.gif")
    capsys.readouterr()
    assert main(["bad.gif", "-o", "out.gif"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read frame" in err[0]
    assert sorted(os.listdir(work)) == ["bad.gif", "good.gif"]


def test_oversized_animation_is_refused_up_front(work, monkeypatch):
    _gif5(work / "anim.gif")
    monkeypatch.setattr(kframes, "MAX_ANIMATION_BYTES", 5 * 20 * 30 * 4 - 1)
    with pytest.raises(
        ValueError, match=r"5 frames of 30x20 decode to 11.7 KiB, more than the 11.7"
    ):
        read_frames("anim.gif")


def test_decompression_bomb_is_one_line(work, monkeypatch, capsys):
    Image.new("RGB", (100, 100)).save("big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4000)
    with pytest.raises(ValueError, match="10000 pixels.*refused as a possible decompression bomb"):
        read_image("big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 9000)
    assert "reading it anyway" in open_image("big.png").notes[0]
    capsys.readouterr()
    assert main(["big.png", "-k", "2"]) == 0
    assert "note: big.png: Image size (10000 pixels)" in capsys.readouterr().err


def test_frame_api_errors(tmp_path):
    with pytest.raises(ValueError, match="frames is empty"):
        quantize_frames([], 4)
    with pytest.raises(
        TypeError, match="frames must be an Animation or a list or tuple of images, got ndarray"
    ):
        quantize_frames(np.zeros((2, 4, 4, 3), np.uint8), 4)
    frame = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="unsupported extension '.bmp'"):
        write_frames(tmp_path / "a.bmp", [frame], durations_ms=10)
    with pytest.raises(ValueError, match="durations_ms is required"):
        write_frames(tmp_path / "a.gif", [frame])
    with pytest.raises(ValueError, match="frame 1 has dtype float64"):
        write_frames(tmp_path / "a.gif", [frame, frame / 255.0], durations_ms=10)


# ------------------------------------------------------------------ alpha


def test_premultiplied_fit_by_hand():
    # one opaque red pixel and one blue pixel at alpha 51, one entry:
    # premultiplied points (255, 0, 0, 255) and (0, 0, 51, 51), mean
    # (127.5, 0, 25.5, 153) -> straight colour 255/153 * (127.5, 0, 25.5)
    # = (212.5, 0, 42.5), rounded half to even.
    img = np.array([[[255, 0, 0, 255], [0, 0, 255, 51]]], np.uint8)
    pal = extract_palette(img, 1, alpha="fit")
    assert pal.colors.tolist() == [[212, 0, 42]] and pal.alpha.tolist() == [153]
    assert pal.counts.tolist() == [2]
    np.testing.assert_array_equal(quantize(img, 1, alpha="fit"), [[[212, 0, 42, 153]] * 2])


def test_icon_has_at_most_k_rgba_entries_and_one_transparent(tmp_path):
    icon = _icon()
    clear = icon[..., 3] == 0
    assert ((icon[..., 3] > 0) & (icon[..., 3] < 255)).sum() > 20  # soft edges
    for k in (2, 8, 32):
        out = quantize(icon, k, alpha="fit")
        entries = np.unique(out.reshape(-1, 4), axis=0)
        assert len(entries) <= k
        assert (out[clear] == 0).all() and ((entries[:, 3] == 0).sum() == 1)
        pal = extract_palette(icon, k, alpha="fit")
        assert len(pal) == len(entries) and pal.counts.sum() == icon.shape[0] * icon.shape[1]
        np.testing.assert_array_equal(recolor(icon, pal), out)
    # indexed with tRNS, much smaller than the truecolour RGBA file
    out = quantize(icon, 16, alpha="fit")
    path = write_image(tmp_path / "icon.png", out)
    Image.fromarray(icon).save(tmp_path / "rgba.png")
    with Image.open(path) as im:
        assert im.mode == "P" and "transparency" in im.info
    assert path.stat().st_size < (tmp_path / "rgba.png").stat().st_size
    np.testing.assert_array_equal(read_image(path), out)


def test_low_alpha_counts_for_less():
    # 50 pixels of two greens at alpha 255, and 50 of two far-apart colours
    # at alpha 8: with 2 entries per group the fit splits the opaque greens.
    rng = np.random.default_rng(0)
    img = np.zeros((10, 10, 4), np.uint8)
    img[:5] = [0, 120, 0, 255]
    img[:5, ::2] = [0, 250, 0, 255]
    img[5:] = [255, 0, 255, 8]
    img[5:, ::2] = [0, 0, 0, 8]
    rng.shuffle(img.reshape(-1, 4))
    pal = extract_palette(img, 3, alpha="fit")
    opaque = {tuple(c) for c, a in zip(pal.colors.tolist(), pal.alpha) if a == 255}
    assert opaque == {(0, 120, 0), (0, 250, 0)}


def test_binary_alpha_gif_has_one_transparent_index(tmp_path):
    img = np.zeros((8, 8, 4), np.uint8)
    img[..., :3] = np.random.default_rng(0).integers(0, 256, (8, 8, 3))
    img[..., 3] = 255
    img[:2] = 0
    out = quantize(img, 5, alpha="fit")
    path = write_image(tmp_path / "t.gif", out)
    with Image.open(path) as im:
        assert isinstance(im.info["transparency"], int)
    back = read_image(path)
    assert _same_visible(back, out)
    assert len(np.unique(back.reshape(-1, 4), axis=0)) <= 5


@pytest.mark.parametrize(
    "call, msg",
    [
        (
            lambda: quantize(np.zeros((2, 2, 3), np.uint8), 2, alpha="fit"),
            r"needs an RGBA image of shape \(H, W, 4\), got shape \(2, 2, 3\)",
        ),
        (
            lambda: quantize(np.zeros((2, 2, 4), np.uint8), 2, alpha="fit", space="oklab"),
            "alpha='fit' works with space='rgb' only.*got space='oklab'",
        ),
        (
            lambda: quantize(np.zeros((2, 2, 4), np.uint8), 2, alpha="fit", dither="ordered"),
            "alpha='fit' works with dither='none' only",
        ),
        (
            lambda: extract_palette(np.zeros((2, 2, 4), np.uint8), 2, alpha="yes"),
            "alpha must be one of",
        ),
    ],
)
def test_alpha_fit_errors(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()


# ------------------------------------------------------------------ indexed output


@pytest.mark.parametrize("levels, bits", [(2, 1), (4, 2), (16, 4), (200, 8)])
def test_smallest_bit_depth(tmp_path, levels, bits):
    grey = (np.arange(20 * 20) % levels).astype(np.uint8).reshape(20, 20)
    path = write_image(tmp_path / "g.png", grey)
    head = path.read_bytes()[:26]
    assert head[24] == bits and head[25] == 3  # bit depth, colour type 3 (palette)
    np.testing.assert_array_equal(read_image(path), grey)


def test_one_bit_input_stays_one_bit(work):
    im = Image.fromarray(
        np.random.default_rng(0).integers(0, 2, (16, 16), dtype=np.uint8) * 255
    ).convert("1")
    im.save("bw.png")
    assert main(["bw.png", "-k", "2"]) == 0
    assert Path("bw_k2.png").read_bytes()[24] == 1


def test_index_image_gives_indices_and_palette():
    out = quantize(_icon(), 6, alpha="fit")
    ix = index_image(out)
    rebuilt = np.concatenate([ix.colors, ix.alpha[:, None]], axis=1)[ix.indices]
    np.testing.assert_array_equal(rebuilt, out)
    assert (ix.alpha[:-1] <= 255).all() and ix.alpha[0] < 255  # see-through entries first
    with pytest.raises(ValueError, match="more than 256 distinct colours"):
        index_image(np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8))


def test_truecolour_beyond_256_colours_is_said(work, capsys):
    img = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    write_image("many.png", img)
    capsys.readouterr()
    assert main(["many.png", "-k", "300"]) == 0
    err = capsys.readouterr().err
    assert "colours do not fit a palette; written as truecolour" in err
    with Image.open("many_k300.png") as im:
        assert im.mode == "RGB"


# ------------------------------------------------------------------ bit depth


def _png16(path: Path, rgb: np.ndarray) -> None:
    """A 16-bit colour PNG written by hand (Pillow cannot)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    h, w, _ = rgb.shape
    raw = b"".join(b"\0" + rgb[i].astype(">u2").tobytes() for i in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_16_bit_tiff_keeps_16_bits(work):
    img = (np.random.default_rng(0).integers(0, 4, (10, 12, 3)) * 20000 + 77).astype(np.uint16)
    write_image("in.tif", img)
    assert read_image("in.tif").dtype == np.uint16
    assert main(["in.tif", "-k", "8", "-o", "out.tif"]) == 0
    back = read_image("out.tif")
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, quantize(img, 8, **CLI_DEFAULTS))


def test_16_bit_colour_png_is_said_to_be_read_as_8_bit(work, capsys):
    _png16(work / "deep.png", np.full((4, 5, 3), 40000, np.uint16))
    assert read_image("deep.png").dtype == np.uint8
    capsys.readouterr()
    assert main(["deep.png", "-k", "2"]) == 0
    assert "16-bit colour PNG read as 8-bit" in capsys.readouterr().err


def test_multipage_tiff_says_first_page(work, capsys):
    pages = [Image.new("RGB", (4, 4), c) for c in ("red", "blue")]
    pages[0].save("two.tif", save_all=True, append_images=pages[1:])
    assert open_image("two.tif").notes == ("two.tif: read the first page of 2",)
    capsys.readouterr()
    assert main(["two.tif", "-k", "2"]) == 0
    assert "note: two.tif: read the first page of 2" in capsys.readouterr().err


def test_mixed_depth_shared_palette(work, capsys):
    rng = np.random.default_rng(0)
    img8 = (rng.integers(0, 4, (12, 12, 3)) * 80).astype(np.uint8)
    img16 = img8.astype(np.uint16) * 257
    write_image("a.png", img8)
    write_image("b.tif", img16)
    assert read_image("b.tif").dtype == np.uint16
    args = ["a.png", "b.tif", "-k", "6", "--shared-palette", "--palette-out", "p.json"]
    assert main([*args, "--out-dir", "out"]) == 0
    pal = load_palette("p.json")
    assert len(pal) <= 6
    used = np.unique(read_image("out/a_k6.png").reshape(-1, 3), axis=0)
    assert {tuple(c) for c in np.asarray(pal.colors).tolist()} == {tuple(c) for c in used.tolist()}
    np.testing.assert_array_equal(read_image("out/b_k6.png"), read_image("out/a_k6.png"))


# ------------------------------------------------------------------ PIL images


@pytest.mark.parametrize(
    "mode, shape, dtype",
    [
        ("P", (10, 12, 3), np.uint8),
        ("L", (10, 12), np.uint8),
        ("LA", (10, 12, 4), np.uint8),
        ("RGB", (10, 12, 3), np.uint8),
        ("RGBA", (10, 12, 4), np.uint8),
        ("CMYK", (10, 12, 3), np.uint8),
        ("I;16", (10, 12), np.uint16),
        ("1", (10, 12), np.uint8),
    ],
)
def test_each_pil_mode(mode, shape, dtype):
    rgb = np.random.default_rng(0).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    base = Image.fromarray(rgb)
    if mode == "P":
        im = base.quantize(64)
    elif mode == "I;16":
        im = Image.fromarray(rgb[..., 0].astype(np.uint16) * 257)
    else:
        im = base.convert(mode)
    out = quantize(im, 4)
    assert out.shape == shape and out.dtype == dtype
    pal = extract_palette(im, 4)
    np.testing.assert_array_equal(recolor(im, pal), out)
    pil = to_pil_image(out)
    assert pil.mode == "P" and len(pil.getpalette()) // 3 <= 4


def test_to_pil_image_keeps_the_palette_order_and_alpha():
    out = quantize(_icon(), 5, alpha="fit")
    pil = to_pil_image(out)
    assert pil.mode == "P" and "transparency" in pil.info
    np.testing.assert_array_equal(
        np.asarray(pil.convert("RGBA"))[out[..., 3] > 0], out[out[..., 3] > 0]
    )
    img = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    pal = extract_palette(img, 3)
    im = to_pil_image(recolor(img, pal), pal)
    assert np.array(im.getpalette()).reshape(-1, 3).tolist() == pal.colors.tolist()


def test_import_does_not_import_pillow():
    code = "import sys, kmeans_quant; print('PIL' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(Path(kmeans_quant.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "False"


def test_py_typed_is_shipped():
    assert (Path(kmeans_quant.__file__).parent / "py.typed").exists()


def test_animation_dataclass_len():
    anim = Animation([np.zeros((2, 2, 3), np.uint8)] * 3, [10, 10, 10])
    assert len(anim) == 3 and anim.loop == 0


def test_icon_benchmark_quick(tmp_path):
    from benchmarks import icons

    assert icons.main(["--quick", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "icons.md").read_text()
    assert "| 16 | kmeans_quant |" in text
    # a peer is either measured or said to be skipped
    assert ("| 16 | pngquant |" in text) != ("pngquant skipped" in text)
