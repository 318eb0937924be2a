"""Images of every kind for the k sweep: photos, flat graphics, noise, gradients.

The photos are the bundled samples of :mod:`benchmarks.images`. Everything
else is drawn here, deterministically (fixed seeds, Pillow's ImageDraw), so
the sweep needs no network and gives the same pixels on every machine:

* flat graphics: a logo (anti-aliased shapes on white: a few thousand
  distinct colours, almost all pixels on a handful of them), a chart
  (bars, lines, grid, labels), a screenshot (windows, text, a gradient
  title bar), pixel art (a 64 x 64 sprite of 12 colours enlarged 8x);
* all-distinct noise: 512 x 512 pixels, every colour different;
* a gradient: a smooth 2-D RGB ramp;
* grayscale: a photo as a 2-D uint8 array;
* 16-bit: a photo enlarged in floating point and stored as uint16, so its
  low bits carry real in-between values (its 8-bit twin is the same image
  rounded to uint8).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from . import images as image_set

#: Kind of each sweep image, in table order.
KINDS = {
    "chelsea": "photo",
    "coffee": "photo",
    "astronaut": "photo",
    "rocket": "photo",
    "china": "photo",
    "flower": "photo",
    "motorcycle": "photo",
    "immunohistochemistry": "photo",
    "logo": "flat",
    "chart": "flat",
    "screenshot": "flat",
    "pixel-art": "flat",
    "noise": "noise",
    "gradient": "gradient",
    "grey-astronaut": "grayscale",
    "coffee-16bit": "16-bit",
}


def _supersampled(size: tuple[int, int], scale: int, draw: Callable) -> NDArray[np.uint8]:
    """Draw at ``scale`` times the size with ``draw(ImageDraw, scale)``, then box-filter down.

    The box filter turns every shape edge into anti-aliased in-between colours.
    """
    from PIL import Image, ImageDraw

    big = Image.new("RGB", (size[0] * scale, size[1] * scale), "white")
    draw(ImageDraw.Draw(big), scale)
    return np.asarray(big.resize(size, Image.Resampling.BOX))


def logo() -> NDArray[np.uint8]:
    """512 x 512: overlapping circles, a star and a ring in six colours on white."""

    def draw(d, s):
        for i in range(60):  # a radial gradient: concentric discs, dark red to orange
            r = (120 - 2 * i) * s
            d.ellipse(
                [180 * s - r, 180 * s - r, 180 * s + r, 180 * s + r],
                fill=(150 + i, 20 + 2 * i, 40 + i // 3),
            )
        d.ellipse([200 * s, 120 * s, 440 * s, 360 * s], fill=(30, 90, 200))
        d.ellipse([150 * s, 250 * s, 360 * s, 460 * s], outline=(250, 190, 20), width=18 * s)
        star = []
        for i in range(10):
            r = (90 if i % 2 == 0 else 38) * s
            a = np.pi / 2 + i * np.pi / 5
            star.append((256 * s + r * np.cos(a), 256 * s - r * np.sin(a)))
        d.polygon(star, fill=(20, 150, 70))
        d.rectangle([40 * s, 440 * s, 470 * s, 480 * s], fill=(40, 40, 40))
        d.polygon([(380 * s, 40 * s), (480 * s, 40 * s), (430 * s, 130 * s)], fill=(140, 60, 170))

    from PIL import Image, ImageFilter

    img = _supersampled((512, 512), 8, draw)
    # A soft drop shadow under the shapes: the blur adds the in-between
    # colours of real logos exported with effects.
    mask = Image.fromarray(((img.min(axis=2) < 250) * 255).astype(np.uint8))
    shadow = np.asarray(mask.filter(ImageFilter.GaussianBlur(6)), dtype=np.float64)[..., None]
    shadow = np.roll(shadow, (8, 8), axis=(0, 1)) / 255
    background = img.min(axis=2, keepdims=True) >= 250
    out = np.where(background, img * (1 - 0.35 * shadow), img)
    return np.rint(out).astype(np.uint8)


def chart() -> NDArray[np.uint8]:
    """800 x 600: a bar chart with grid lines, two line series, markers and labels."""
    rng = np.random.default_rng(7)
    bars = rng.uniform(80, 480, 12)
    series = [np.cumsum(rng.normal(0, 30, 40)) + 300 for _ in range(2)]
    colors = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]

    def draw(d, s):
        for y in range(60, 560, 50):
            d.line([(60 * s, y * s), (780 * s, y * s)], fill=(220, 220, 220), width=s)
        d.line([(60 * s, 60 * s), (60 * s, 560 * s)], fill=(0, 0, 0), width=2 * s)
        d.line([(60 * s, 560 * s), (780 * s, 560 * s)], fill=(0, 0, 0), width=2 * s)
        for i, h in enumerate(bars):
            x0 = 80 + i * 58
            d.rectangle([x0 * s, (560 - h) * s, (x0 + 40) * s, 560 * s], fill=colors[i % 2])
        for j, ys in enumerate(series):
            pts = [((70 + i * 18) * s, float(np.clip(y, 70, 550)) * s) for i, y in enumerate(ys)]
            d.line(pts, fill=colors[2 + j], width=3 * s)
            for x, y in pts[::4]:
                d.ellipse([x - 5 * s, y - 5 * s, x + 5 * s, y + 5 * s], fill=colors[2 + j])
        for i in range(12):
            d.text(((82 + i * 58) * s, 570 * s), f"Q{i + 1}", fill=(60, 60, 60), font_size=12 * s)
        d.text((300 * s, 15 * s), "Quarterly figures", fill=(0, 0, 0), font_size=24 * s)

    return _supersampled((800, 600), 4, draw)


def screenshot() -> NDArray[np.uint8]:
    """1024 x 768: a desktop with two windows, text, buttons and a gradient title bar."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (1024, 768), (58, 110, 165))
    d = ImageDraw.Draw(img)
    for x0, y0, x1, y1 in ((40, 40, 640, 500), (380, 220, 990, 730)):
        d.rectangle([x0 + 6, y0 + 6, x1 + 6, y1 + 6], fill=(40, 70, 110))
        d.rectangle([x0, y0, x1, y1], fill=(245, 245, 245), outline=(120, 120, 120))
        for i in range(30):  # a title bar fading from dark to light blue
            t = i / 29
            d.line(
                [(x0, y0 + i), (x1, y0 + i)],
                fill=(int(20 + 60 * t), int(60 + 90 * t), int(140 + 90 * t)),
            )
        d.text((x0 + 10, y0 + 6), "Document - Editor", fill=(255, 255, 255), font_size=16)
        for line in range(18):
            words = "The quick brown fox jumps over the lazy dog " * 2
            d.text(
                (x0 + 14, y0 + 44 + 22 * line),
                words[: 40 + line % 9],
                fill=(20, 20, 20),
                font_size=14,
            )
        for b in range(3):
            bx = x1 - 100 - 90 * b
            d.rounded_rectangle(
                [bx, y1 - 40, bx + 80, y1 - 12],
                radius=6,
                fill=(225, 225, 230),
                outline=(150, 150, 160),
            )
            d.text((bx + 18, y1 - 35), ("OK", "Cancel", "Help")[b], fill=(0, 0, 0), font_size=14)
    return np.asarray(img)


def pixel_art() -> NDArray[np.uint8]:
    """512 x 512: a 64 x 64 sprite of 12 colours, each pixel an 8 x 8 block."""
    rng = np.random.default_rng(3)
    pal = rng.integers(0, 256, size=(12, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:64, 0:64]
    shape = (((xx - 32) ** 2 + (yy - 32) ** 2) // 90 + (xx // 16) * (yy // 16)) % 12
    sprite = pal[shape]
    return np.ascontiguousarray(np.repeat(np.repeat(sprite, 8, axis=0), 8, axis=1))


def noise(side: int = 512) -> NDArray[np.uint8]:
    """``side`` x ``side`` pixels whose colours are all distinct (drawn without replacement)."""
    codes = np.random.default_rng(11).choice(1 << 24, size=side * side, replace=False)
    rgb = np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], axis=1)
    return rgb.astype(np.uint8).reshape(side, side, 3)


def gradient() -> NDArray[np.uint8]:
    """512 x 768: red across, green down, blue along the diagonal."""
    yy, xx = np.mgrid[0:512, 0:768].astype(np.float64)
    rgb = np.stack([xx / 767, yy / 511, 0.5 + 0.5 * np.sin((xx + yy) / 180)], axis=2)
    return np.rint(rgb * 255).astype(np.uint8)


def grey(photo: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """A photo's luma (Rec. 601 weights), shape (H, W)."""
    luma = photo.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.rint(luma).astype(np.uint8)


def sixteen_bit(photo: NDArray[np.uint8], scale: float = 1.5) -> NDArray[np.uint16]:
    """A photo enlarged ``scale`` times by bicubic interpolation in float, as uint16."""
    from PIL import Image

    h, w = photo.shape[:2]
    size = (round(w * scale), round(h * scale))
    chans = [
        np.asarray(
            Image.fromarray(photo[..., c].astype(np.float32)).resize(size, Image.Resampling.BICUBIC)
        )
        for c in range(3)
    ]
    out = np.clip(np.stack(chans, axis=2) / 255.0, 0, 1) * 65535
    return np.rint(out).astype(np.uint16)


def to_uint8(image: NDArray) -> NDArray[np.uint8]:
    """The 8-bit twin of an image (uint16 rounded to uint8 units)."""
    if image.dtype == np.uint16:
        return np.rint(image / 257.0).astype(np.uint8)
    return image


def sweep_images(names: tuple[str, ...] | None = None) -> dict[str, NDArray]:
    """The sweep's images by name (photos that are not installed are left out)."""
    makers: dict[str, Callable[[], NDArray | None]] = {
        "logo": logo,
        "chart": chart,
        "screenshot": screenshot,
        "pixel-art": pixel_art,
        "noise": noise,
        "gradient": gradient,
    }
    out: dict[str, NDArray] = {}
    for name, kind in KINDS.items():
        if names is not None and name not in names:
            continue
        if kind == "photo":
            img = image_set.load_photo(name)
        elif name == "grey-astronaut":
            p = image_set.load_photo("astronaut")
            img = None if p is None else grey(p)
        elif name == "coffee-16bit":
            p = image_set.load_photo("coffee")
            img = None if p is None else sixteen_bit(p)
        else:
            img = makers[name]()
        if img is not None:
            out[name] = img
    return out
