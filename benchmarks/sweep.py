"""The k sweep: quality and time of ``quantize`` beside scikit-learn and libimagequant.

For every image of :mod:`benchmarks.kinds` and every k of :data:`KS`, in one
run and side by side:

* ``quantize(image, k)``: its MSE and its best time over a few calls;
* libimagequant (dithering off, default speed): MSE and best time;
* the scikit-learn recipe, ``KMeans(n_clusters=k, random_state=0)`` on all
  pixels with the centres rounded to the image's dtype: its MSE. These fits
  take minutes in total, so their MSEs are cached in
  ``benchmarks/sweep_sklearn_mse.json`` (keyed by image name, a hash of its
  pixels and k) and refilled only for missing entries (``--fill-sklearn``).

MSE is the mean over pixels and channels of the squared error in 8-bit
units (16-bit values divided by 257). Grayscale images go to libimagequant
as grey RGB; 16-bit images as their 8-bit twin (it takes nothing else), and
``quantize`` also runs on that twin to give the 16-bit/8-bit time ratio.

Usage::

    python -m benchmarks.sweep --fill-sklearn            # slow, once
    python -m benchmarks.sweep --out docs/bench/sweep.json
    python -m benchmarks.sweep --ks 16 64 --images logo noise
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .kinds import KINDS, sweep_images, to_uint8

KS = (2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
SKLEARN_CACHE = Path(__file__).with_name("sweep_sklearn_mse.json")


def fingerprint(image: NDArray) -> str:
    """Short hash of an image's shape, dtype and pixels (the cache key)."""
    h = hashlib.sha256(f"{image.shape}|{image.dtype.str}".encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.hexdigest()[:16]


def _pixels(image: NDArray) -> NDArray:
    return image.reshape(image.shape[0] * image.shape[1], -1)


def mse(out: NDArray, image: NDArray) -> float:
    """Mean squared error per channel value, in 8-bit units."""
    scale = 257.0 if image.dtype == np.uint16 else 1.0
    d = (out.astype(np.float64) - image.astype(np.float64)) / scale
    return float(np.mean(d * d))


def sklearn_recipe(image: NDArray, k: int) -> NDArray:
    """KMeans(n_clusters=k, random_state=0) on every pixel, centres rounded, mapped."""
    from sklearn.cluster import KMeans

    X = _pixels(image).astype(np.float64)
    km = KMeans(n_clusters=k, random_state=0).fit(X)
    top = np.iinfo(image.dtype).max
    pal = np.clip(np.rint(km.cluster_centers_), 0, top).astype(image.dtype)
    return pal[km.labels_].reshape(image.shape)


def libimagequant(image: NDArray, k: int) -> NDArray[np.uint8]:
    """libimagequant's output for an 8-bit grey or RGB image, dithering off."""
    import imagequant

    rgb = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
    h, w = rgb.shape[:2]
    rgba = np.empty((h, w, 4), dtype=np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = 255
    indices, palette = imagequant.quantize_raw_rgba_bytes(
        rgba.tobytes(), w, h, dithering_level=0.0, max_colors=k, min_quality=0, max_quality=100
    )
    pal = np.asarray(palette, dtype=np.uint8).reshape(-1, 4)[:, :3]
    out = pal[np.frombuffer(indices, dtype=np.uint8)].reshape(h, w, 3)
    return out


def _lib_mse(out: NDArray, image: NDArray) -> float:
    ref = to_uint8(image)
    if ref.ndim == 2:
        ref = np.repeat(ref[..., None], 3, axis=2)
    return mse(out, ref)


def best_time(func, repeats: int) -> tuple[float, NDArray]:
    """The fastest of ``repeats`` calls of ``func()`` and its (last) result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


def load_cache(path: Path = SKLEARN_CACHE) -> dict[str, float]:
    return json.loads(path.read_text()) if path.exists() else {}


def cache_key(name: str, image: NDArray, k: int) -> str:
    return f"{name}|{fingerprint(image)}|k={k}"


def fill_sklearn(images: dict[str, NDArray], ks: tuple[int, ...], path: Path) -> None:
    """Fit the scikit-learn recipe where the cache has no entry; save after each fit."""
    cache = load_cache(path)
    for name, image in images.items():
        for k in ks:
            key = cache_key(name, image, k)
            if key in cache:
                continue
            t0 = time.perf_counter()
            cache[key] = mse(sklearn_recipe(image, k), image)
            print(f"{key} {cache[key]:.4f} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
            path.write_text(json.dumps(cache, indent=0, sort_keys=True))


def sweep(
    images: dict[str, NDArray], ks: tuple[int, ...], repeats: int, cache: dict[str, float]
) -> list[dict]:
    """One row per (image, k): MSEs and times of the three methods."""
    from kmeans_quant import quantize

    rows = []
    for name, image in images.items():
        twin = to_uint8(image)
        for k in ks:
            t_kq, out = best_time(partial(quantize, image, k), repeats)
            t_lib, lib_out = best_time(partial(libimagequant, twin, k), repeats)
            row = {
                "image": name,
                "kind": KINDS[name],
                "pixels": int(image.shape[0] * image.shape[1]),
                "k": k,
                "kq_mse": mse(out, image),
                "lib_mse": _lib_mse(lib_out, image),
                "sk_mse": cache.get(cache_key(name, image, k)),
                "kq_s": t_kq,
                "lib_s": t_lib,
            }
            if image.dtype == np.uint16:
                row["kq_8bit_s"] = best_time(partial(quantize, twin, k), repeats)[0]
            rows.append(row)
            sk = row["sk_mse"]
            ratio = f"{row['kq_mse'] / sk:.3f}" if sk else "  -  "
            lib = f"{row['kq_mse'] / row['lib_mse']:.3f}" if row["lib_mse"] else "  -  "
            print(
                f"{name:22s} k={k:3d} mse/sk={ratio} mse/lib={lib}"
                f" t={t_kq * 1e3:7.1f} ms lib/kq={t_lib / t_kq:5.2f}",
                file=sys.stderr,
                flush=True,
            )
    return rows


def write_json(path: Path | None, obj: object) -> None:
    """Write ``obj`` as indented JSON to ``path`` (folders made as needed); nothing if None."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, indent=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ks", type=int, nargs="+", default=list(KS))
    parser.add_argument("--images", nargs="+", default=None, choices=list(KINDS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fill-sklearn", action="store_true")
    parser.add_argument("--cache", type=Path, default=SKLEARN_CACHE)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    images = sweep_images(tuple(args.images) if args.images else None)
    ks = tuple(args.ks)
    if args.fill_sklearn:
        fill_sklearn(images, ks, args.cache)
        return 0
    write_json(args.out, sweep(images, ks, args.repeats, load_cache(args.cache)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
