"""The quantization methods compared, one function each.

Every method takes a uint8 RGB image of shape (H, W, 3) and a number of
colours ``k`` and returns a :class:`Output`: the quantized uint8 image of
the same shape and, where the method reports one, its iteration count.
Peers whose package is not installed are listed by :func:`availability`
as "not installed" and never imported.

The settings of each peer are stated in :data:`METHODS` (and copied into
the report): defaults unless said otherwise, dithering off everywhere.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Output:
    """A method's result: the uint8 image and its iteration count (or None)."""

    image: NDArray[np.uint8]
    n_iter: int | None = None


@dataclass(frozen=True)
class Method:
    """A method of the comparison.

    Attributes
    ----------
    name : str
        Key used on the command line and in tables.
    func : callable
        ``func(image, k) -> Output``.
    requires : tuple of str
        Importable modules the method needs.
    settings : str
        How it is called, for the report.
    """

    name: str
    func: Callable[[NDArray[np.uint8], int], Output]
    requires: tuple[str, ...]
    settings: str


def _pixels(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return image.reshape(-1, 3)


def _palette_lookup(centers: NDArray, labels: NDArray, shape: tuple[int, ...]) -> NDArray[np.uint8]:
    """The classic recipe's last step: round the centres to uint8, index by label."""
    palette = np.clip(np.rint(centers), 0, 255).astype(np.uint8)
    return palette[labels].reshape(shape)


def _distinct(pixels: NDArray[np.uint8]) -> tuple[NDArray[np.float64], NDArray, NDArray]:
    """Distinct colours (float64), each pixel's colour index, and the counts."""
    px = pixels.astype(np.uint32)
    codes = (px[:, 0] << 16) | (px[:, 1] << 8) | px[:, 2]
    uniq, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    colors = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1)
    return colors.astype(np.float64), inverse.reshape(-1), counts


# --------------------------------------------------------------------------
# kmeans_quant
# --------------------------------------------------------------------------


def kmeans_quant_quantize(image: NDArray[np.uint8], k: int) -> Output:
    import kmeans_quant

    return Output(kmeans_quant.quantize(image, k, rng=0))


def naive_plain_loops(image: NDArray[np.uint8], k: int) -> Output:
    """kmeans_quant.naive.kmeans on every pixel, then the palette lookup."""
    from kmeans_quant import naive

    res = naive.kmeans(_pixels(image).astype(np.float64), k, rng=0)
    return Output(_palette_lookup(res.centers, res.labels, image.shape), int(res.n_iter))


# --------------------------------------------------------------------------
# scikit-learn
# --------------------------------------------------------------------------


def sklearn_kmeans(image: NDArray[np.uint8], k: int) -> Output:
    """The classic recipe: KMeans on all pixels, predict, round the palette."""
    from sklearn.cluster import KMeans

    X = _pixels(image)
    km = KMeans(n_clusters=k, random_state=0).fit(X)
    return Output(_palette_lookup(km.cluster_centers_, km.predict(X), image.shape), int(km.n_iter_))


def sklearn_kmeans_distinct(image: NDArray[np.uint8], k: int) -> Output:
    """KMeans on the distinct colours weighted by their pixel counts."""
    from sklearn.cluster import KMeans

    colors, inverse, counts = _distinct(_pixels(image))
    km = KMeans(n_clusters=k, random_state=0).fit(colors, sample_weight=counts)
    labels = km.predict(colors)[inverse]
    return Output(_palette_lookup(km.cluster_centers_, labels, image.shape), int(km.n_iter_))


def sklearn_minibatch(image: NDArray[np.uint8], k: int) -> Output:
    from sklearn.cluster import MiniBatchKMeans

    X = _pixels(image)
    km = MiniBatchKMeans(n_clusters=k, random_state=0).fit(X)
    return Output(
        _palette_lookup(km.cluster_centers_, km.predict(X), image.shape), int(km.n_steps_)
    )


# --------------------------------------------------------------------------
# Pillow
# --------------------------------------------------------------------------


def _pillow(image: NDArray[np.uint8], k: int, method_name: str, kmeans: int) -> Output:
    from PIL import Image

    method = getattr(Image.Quantize, method_name)
    out = Image.fromarray(image).quantize(k, method=method, kmeans=kmeans, dither=Image.Dither.NONE)
    return Output(np.asarray(out.convert("RGB")))


def pillow_median_cut(image: NDArray[np.uint8], k: int) -> Output:
    return _pillow(image, k, "MEDIANCUT", 0)


def pillow_fast_octree(image: NDArray[np.uint8], k: int) -> Output:
    return _pillow(image, k, "FASTOCTREE", 0)


def pillow_median_cut_kmeans(image: NDArray[np.uint8], k: int) -> Output:
    # kmeans=1: Pillow refines the median-cut palette until no pixel changes
    # cluster (its threshold is kmeans - 1 changed pixels).
    return _pillow(image, k, "MEDIANCUT", 1)


# --------------------------------------------------------------------------
# libimagequant and OpenCV
# --------------------------------------------------------------------------


def libimagequant(image: NDArray[np.uint8], k: int) -> Output:
    """imagequant.quantize_raw_rgba_bytes on opaque RGBA bytes, dithering off.

    The raw-bytes entry point is used because ``quantize_pil_image`` turns
    the image into bytes with a Python loop over pixels, which would time
    the wrapper rather than the library.
    """
    import imagequant

    h, w = image.shape[:2]
    rgba = np.empty((h, w, 4), dtype=np.uint8)
    rgba[..., :3] = image
    rgba[..., 3] = 255
    indices, palette = imagequant.quantize_raw_rgba_bytes(
        rgba.tobytes(),
        w,
        h,
        dithering_level=0.0,
        max_colors=k,
        min_quality=0,
        max_quality=100,
    )
    pal = np.asarray(palette, dtype=np.uint8).reshape(-1, 4)[:, :3]
    return Output(pal[np.frombuffer(indices, dtype=np.uint8)].reshape(image.shape))


def opencv_kmeans(image: NDArray[np.uint8], k: int) -> Output:
    import cv2

    cv2.setRNGSeed(0)
    X = _pixels(image).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 300, 1e-4)
    _, labels, centers = cv2.kmeans(X, k, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    return Output(_palette_lookup(centers, labels.reshape(-1), image.shape))


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "kmeans_quant",
            kmeans_quant_quantize,
            ("kmeans_quant",),
            "`kmeans_quant.quantize(image, k, rng=0)`, defaults (max_iter=300, tol=1e-4)",
        ),
        Method(
            "naive",
            naive_plain_loops,
            ("kmeans_quant.naive",),
            "`kmeans_quant.naive.kmeans` on all pixels (float64), rng=0, defaults; "
            "centres rounded to uint8 (small image only)",
        ),
        Method(
            "sklearn",
            sklearn_kmeans,
            ("sklearn",),
            "`KMeans(n_clusters=k, random_state=0)` fitted on all pixels, `predict`, "
            "centres rounded to uint8 for the palette lookup (the classic recipe)",
        ),
        Method(
            "sklearn_distinct",
            sklearn_kmeans_distinct,
            ("sklearn",),
            "`KMeans(n_clusters=k, random_state=0)` on the distinct colours with "
            "`sample_weight` = pixel counts (colours found with `np.unique` on packed "
            "24-bit codes, inside the timing), centres rounded to uint8",
        ),
        Method(
            "sklearn_minibatch",
            sklearn_minibatch,
            ("sklearn",),
            "`MiniBatchKMeans(n_clusters=k, random_state=0)` on all pixels, `predict`, "
            "centres rounded to uint8; iterations column = mini-batch steps",
        ),
        Method(
            "pillow_mediancut",
            pillow_median_cut,
            ("PIL",),
            "`Image.quantize(k, method=MEDIANCUT, dither=NONE)`",
        ),
        Method(
            "pillow_octree",
            pillow_fast_octree,
            ("PIL",),
            "`Image.quantize(k, method=FASTOCTREE, dither=NONE)`",
        ),
        Method(
            "pillow_mediancut_kmeans",
            pillow_median_cut_kmeans,
            ("PIL",),
            "`Image.quantize(k, method=MEDIANCUT, kmeans=1, dither=NONE)`: median cut "
            "refined by k-means until no pixel changes cluster",
        ),
        Method(
            "libimagequant",
            libimagequant,
            ("imagequant",),
            "`imagequant.quantize_raw_rgba_bytes(..., dithering_level=0.0, max_colors=k, "
            "min_quality=0, max_quality=100)` on opaque RGBA; the wrapper offers no speed "
            "setting, so libimagequant runs at its default speed (4 of 1-10)",
        ),
        Method(
            "opencv",
            opencv_kmeans,
            ("cv2",),
            "`cv2.kmeans` on all pixels (float32), k-means++ centres, 1 attempt, "
            "300 iterations or eps 1e-4, `cv2.setRNGSeed(0)`; centres rounded to uint8",
        ),
    )
}


def availability(name: str) -> str | None:
    """None if the method can run here, else the reason it cannot ("not installed")."""
    method = METHODS[name]
    for module in method.requires:
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # a dotted name whose parent is missing
            found = False
        if not found:
            return f"not installed ({module})"
    return None
