"""Output hashes of ``quantize``: proof that a refactoring changed no result.

Before a change that claims to keep behaviour, record the table; after it,
check it::

    python -m benchmarks.frozen --write docs/frozen_hashes.json   # before
    python -m benchmarks.frozen --check docs/frozen_hashes.json   # after

Each row is the SHA-256 of ``quantize``'s output bytes (with shape and
dtype) for one image, one ``k`` and one option set. The images are the
benchmark photos (when their packages are installed) and a few small
synthetic images that reach the grey, RGBA, uint16 and float paths.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from . import images as image_set

KS = (2, 16, 64, 256)
VARIANTS: dict[str, dict[str, str]] = {
    "plain": {},
    "floyd-steinberg": {"dither": "floyd-steinberg"},
    "ordered": {"dither": "ordered"},
    "oklab": {"space": "oklab"},
    "median-cut": {"method": "median-cut"},
}


def synthetic_images() -> dict[str, NDArray]:
    """Small images for the non-RGB8 paths, made from a seeded generator."""
    rng = np.random.default_rng(1234)
    yy, xx = np.mgrid[0:96, 0:128]
    smooth = np.stack([xx * 2, yy * 2, (xx + yy)], axis=2).astype(np.float64)
    smooth = np.clip(smooth + rng.normal(0, 6, smooth.shape), 0, 255)
    rgb8 = smooth.astype(np.uint8)
    alpha = np.full((96, 128), 255, np.uint8)
    alpha[:20] = 0
    alpha[20:40] = np.linspace(0, 255, 128).astype(np.uint8)
    return {
        "synthetic-grey8": rgb8[..., 0].copy(),
        "synthetic-rgba8": np.dstack([rgb8, alpha]),
        "synthetic-rgb16": (smooth * 257).astype(np.uint16),
        "synthetic-float32": (smooth / 255).astype(np.float32),
    }


def _images() -> Iterator[tuple[str, NDArray]]:
    for name in image_set.TUNING + image_set.HELDOUT:
        img = image_set.load_photo(name)
        if img is not None:
            yield name, img
    yield from synthetic_images().items()


def digest(out: NDArray) -> str:
    h = hashlib.sha256()
    h.update(f"{out.shape}|{out.dtype.str}|".encode())
    h.update(np.ascontiguousarray(out).tobytes())
    return h.hexdigest()


def table() -> dict[str, str]:
    from kmeans_quant import quantize

    rows = {}
    for name, img in _images():
        for k in KS:
            for variant, options in VARIANTS.items():
                key = f"{name}|k={k}|{variant}"
                rows[key] = digest(quantize(img, k, **options))
                print(key, rows[key][:16], file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.frozen", description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="JSON", help="record the table")
    group.add_argument("--check", metavar="JSON", help="compare against a recorded table")
    args = parser.parse_args(argv)
    rows = table()
    if args.write:
        with open(args.write, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1, sort_keys=True)
            fh.write("\n")
        print(f"{len(rows)} hashes written to {args.write}")
        return 0
    with open(args.check, encoding="utf-8") as fh:
        recorded = json.load(fh)
    changed = sorted(key for key in recorded if rows.get(key) != recorded[key])
    missing = sorted(set(recorded) - set(rows))
    for key in changed:
        print(f"CHANGED {key}")
    print(
        f"{len(recorded) - len(changed)} of {len(recorded)} hashes identical"
        f"{f'; {len(missing)} not computed here' if missing else ''}"
    )
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
