"""The benchmark image set: sample photos, a 12-megapixel mosaic, a size ladder.

Photos come from the packages that bundle them (scikit-image and
scikit-learn), so nothing is downloaded. They are split in two groups: the
*tuning* photos, which the engine's defaults were tuned on, and the
*held-out* photos, which were not looked at while tuning; the summary reports
each group separately so that over-fitting to the tuning set would show.

The large image is a mosaic of the photos, each cropped to its tile's aspect
ratio and enlarged with bicubic interpolation to fill the tile. Enlarging
invents in-between colours, so the mosaic has about as many distinct colours
per pixel as a real high-resolution photo, unlike a tiled copy of a small one.

Every image is written once to a cache folder as ``.npy`` so that each
measuring subprocess only has to load it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

# Which photos the engine was tuned on (all six were looked at while tuning
# the palette fit), and which it never saw while tuning.
TUNING = ("chelsea", "coffee", "astronaut", "rocket", "china", "flower")
HELDOUT = ("motorcycle", "immunohistochemistry")

SKIMAGE_PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "motorcycle", "immunohistochemistry")
SKLEARN_PHOTOS = ("china", "flower")

LARGE_NAME = "mosaic-12MP"
LARGE_SHAPE = (3000, 4000)  # rows, columns: 12 megapixels
MOSAIC_GRID = (2, 3)  # tiles down, tiles across

# Pixel counts of the size ladder (time versus image size), in megapixels.
SIZE_LADDER_MP = (0.25, 1.0, 3.0)

# The quick mode's images: the photo shipped with kmeans_quant, made tiny.
QUICK_SHAPES = {"chelsea-tiny": (60, 90)}
# The small photo on which the plain-loops reference runs end to end.
SMALL_NAME = "chelsea-small"
SMALL_SHAPE = (60, 90)


@dataclass(frozen=True)
class ImageSpec:
    """One image of the set, as stored in the cache.

    Attributes
    ----------
    name : str
        Short name used in tables (``"chelsea"``, ``"mosaic-12MP"``).
    group : str
        ``"tuning"``, ``"held-out"``, ``"large"``, ``"size"``, ``"small"`` or
        ``"quick"``.
    path : str
        The ``.npy`` file holding the uint8 array of shape (H, W, 3).
    shape : tuple of int
        (H, W, 3).
    n_colors : int
        Number of distinct colours.
    """

    name: str
    group: str
    path: str
    shape: tuple[int, int, int]
    n_colors: int

    @property
    def megapixels(self) -> float:
        return self.shape[0] * self.shape[1] / 1e6

    def load(self) -> NDArray[np.uint8]:
        return np.load(self.path)


def count_colors(image: NDArray[np.uint8]) -> int:
    """Number of distinct RGB colours of a uint8 image of shape (H, W, 3)."""
    px = image.reshape(-1, 3).astype(np.uint32)
    codes = (px[:, 0] << 16) | (px[:, 1] << 8) | px[:, 2]
    # A bit set over all 2**24 codes: one pass, no sort, 2 MB.
    seen = np.zeros(1 << 24, dtype=bool)
    seen[codes] = True
    return int(np.count_nonzero(seen))


def load_photo(name: str) -> NDArray[np.uint8] | None:
    """A bundled sample photo as uint8 (H, W, 3), or None when not available offline."""
    try:
        if name in SKLEARN_PHOTOS:
            from sklearn.datasets import load_sample_image

            img = load_sample_image(f"{name}.jpg")
        elif name in SKIMAGE_PHOTOS:
            import skimage.data

            if name == "motorcycle":  # the left view of a stereo pair
                img = skimage.data.stereo_motorcycle()[0]
            else:
                img = getattr(skimage.data, name)()
        else:
            raise ValueError(f"unknown photo {name!r}")
    except ValueError:
        raise
    except Exception:  # not installed, or its data would need a download
        return None
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] < 3:
        return None
    return np.ascontiguousarray(img[..., :3])


def package_photo() -> NDArray[np.uint8]:
    """The CC0 photo shipped inside kmeans_quant (needs only imageio)."""
    import imageio.v3 as iio

    path = Path(__file__).resolve().parents[1] / "kmeans_quant" / "data" / "chelsea.png"
    return np.ascontiguousarray(iio.imread(path)[..., :3])


def resize(image: NDArray[np.uint8], shape: tuple[int, int]) -> NDArray[np.uint8]:
    """Bicubic resize to ``shape`` = (rows, cols) with Pillow (antialiased when shrinking)."""
    from PIL import Image

    rows, cols = shape
    pil = Image.fromarray(image).resize((cols, rows), Image.Resampling.BICUBIC)
    return np.asarray(pil)


def crop_to_aspect(image: NDArray[np.uint8], aspect: float) -> NDArray[np.uint8]:
    """Central crop of ``image`` with width / height equal to ``aspect``."""
    h, w = image.shape[:2]
    if w / h > aspect:
        new_w = max(1, round(h * aspect))
        x0 = (w - new_w) // 2
        return image[:, x0 : x0 + new_w]
    new_h = max(1, round(w / aspect))
    y0 = (h - new_h) // 2
    return image[y0 : y0 + new_h]


def mosaic(
    photos: list[NDArray[np.uint8]],
    shape: tuple[int, int] = LARGE_SHAPE,
    grid: tuple[int, int] = MOSAIC_GRID,
) -> NDArray[np.uint8]:
    """Tile ``photos`` (reused in turn) over a ``grid`` filling ``shape``.

    Each photo is cropped to its tile's aspect ratio, then enlarged by
    bicubic interpolation to fill the tile exactly.
    """
    rows, cols = shape
    out = np.empty((rows, cols, 3), dtype=np.uint8)
    ys = np.linspace(0, rows, grid[0] + 1).round().astype(int)
    xs = np.linspace(0, cols, grid[1] + 1).round().astype(int)
    i = 0
    for r in range(grid[0]):
        for c in range(grid[1]):
            th, tw = ys[r + 1] - ys[r], xs[c + 1] - xs[c]
            tile = crop_to_aspect(photos[i % len(photos)], tw / th)
            out[ys[r] : ys[r + 1], xs[c] : xs[c + 1]] = resize(tile, (th, tw))
            i += 1
    return out


def _ladder_shape(mp: float, aspect: float) -> tuple[int, int]:
    rows = int(round(np.sqrt(mp * 1e6 / aspect)))
    return rows, int(round(rows * aspect))


def _store(cache: Path, name: str, group: str, image: NDArray[np.uint8]) -> ImageSpec:
    path = cache / f"{name}.npy"
    np.save(path, np.ascontiguousarray(image))
    return ImageSpec(name, group, str(path), tuple(image.shape), count_colors(image))


def build_image_set(mode: str, cache: str | os.PathLike) -> tuple[list[ImageSpec], list[str]]:
    """Write the images of a run to ``cache`` and describe them.

    Parameters
    ----------
    mode : {"quick", "full"}
        ``"quick"``: one tiny image made from the package's own photo.
        ``"full"``: the photos, the small photo for the plain-loops run, the
        12 MP mosaic and the size ladder.
    cache : path
        Folder for the ``.npy`` files (created if needed).

    Returns
    -------
    specs : list of ImageSpec
    missing : list of str
        Photos that are not available offline, with the reason.
    """
    if mode not in ("quick", "full"):
        raise ValueError(f"mode must be 'quick' or 'full', got {mode!r}")
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    base = package_photo()
    if mode == "quick":
        return [_store(cache, n, "quick", resize(base, s)) for n, s in QUICK_SHAPES.items()], []

    specs: list[ImageSpec] = []
    missing: list[str] = []
    photos: list[NDArray[np.uint8]] = []
    for group, names in (("tuning", TUNING), ("held-out", HELDOUT)):
        for name in names:
            img = load_photo(name)
            if img is None:
                missing.append(f"{name} (not bundled offline with the installed packages)")
                continue
            photos.append(img)
            specs.append(_store(cache, name, group, img))
    specs.append(_store(cache, SMALL_NAME, "small", resize(base, SMALL_SHAPE)))
    big = mosaic(photos or [base])
    specs.append(_store(cache, LARGE_NAME, "large", big))
    aspect = LARGE_SHAPE[1] / LARGE_SHAPE[0]
    for mp in SIZE_LADDER_MP:
        specs.append(
            _store(cache, f"mosaic-{mp:g}MP", "size", resize(big, _ladder_shape(mp, aspect)))
        )
    return specs, missing


def save_index(specs: list[ImageSpec], cache: str | os.PathLike) -> Path:
    """Write ``index.json`` beside the images so subprocesses can find them by name."""
    path = Path(cache) / "index.json"
    path.write_text(json.dumps([asdict(s) for s in specs], indent=1))
    return path


def load_index(cache: str | os.PathLike) -> dict[str, ImageSpec]:
    """The specs written by :func:`save_index`, by name."""
    rows = json.loads((Path(cache) / "index.json").read_text())
    return {r["name"]: ImageSpec(**{**r, "shape": tuple(r["shape"])}) for r in rows}
