"""Scale-out benchmarks for kmeans_quant.dask (figures go to docs/scaling.md).

Run ``python -m benchmarks.scaling`` (a few minutes) or ``--quick`` (seconds,
for the smoke test). Needs the [dask] extra.

(a) gigapixel: a synthetic image made lazily block by block (smooth colour
    fields plus noise seeded per block, never whole in memory), its palette
    (count per block, merge, fit on the client) and its recolouring written
    tile by tile to a tiled TIFF; peak RSS of every worker and throughput.
(b) photos: a collection of small photos cut from the bundled chelsea.png,
    one shared palette: ``kmeans-quant --shared-palette`` in one process
    against the same command with ``--workers 2``, outputs compared byte
    for byte.
(c) 1 against 2 workers on a smaller image made the same way.

Plus the unit costs the 100-worker estimate of docs/scaling.md is built
from: counting one photo, merging eight histograms, the pickled size of a
histogram, and the client's fit on the merged histogram.
"""

from __future__ import annotations

import argparse
import filecmp
import importlib.resources
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import kmeans_quant
from kmeans_quant import ColorHistogram, fit_palette
from kmeans_quant.histogram import merge
from kmeans_quant.io import read_image, write_image

K = 16


def _rss_peak_mib() -> float:
    """Peak resident set size of the calling process, MiB.

    VmHWM of /proc (reset by exec, unlike getrusage's ru_maxrss, which a
    spawned worker inherits from its parent); ru_maxrss where there is no /proc.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------
# (a) a gigapixel image that never exists whole
# --------------------------------------------------------------------------


def _synthetic_block(block_info=None, seed: int = 0, size: int = 1):
    """One block of the synthetic image: smooth fields of the global
    position plus Gaussian noise from a generator seeded by the block."""
    (y0, y1), (x0, x1), _ = block_info[None]["array-location"]
    u = (np.arange(y0, y1, dtype=np.float32) / size)[:, None]
    v = (np.arange(x0, x1, dtype=np.float32) / size)[None, :]
    two_pi = np.float32(2 * np.pi)
    out = np.empty((y1 - y0, x1 - x0, 3), dtype=np.uint8)
    rng = np.random.default_rng([seed, y0, x0])
    for ch, (a, b, phase) in enumerate(((3, 2, 0.0), (1, 4, 1.0), (5, 1, 2.0))):
        field = 128 + 90 * np.sin(two_pi * (a * u + b * v) + np.float32(phase))
        field += rng.normal(0, 3, field.shape).astype(np.float32)
        np.clip(np.rint(field), 0, 255, out=field)
        out[..., ch] = field
    return out


def synthetic_image(size: int, chunk: int, seed: int = 0):
    """A lazy ``(size, size, 3)`` uint8 Dask array, ``chunk`` x ``chunk`` blocks."""
    import dask.array as da

    n = -(-size // chunk)
    rows = tuple(min(chunk, size - i * chunk) for i in range(n))
    return da.map_blocks(
        _synthetic_block,
        seed=seed,
        size=size,
        chunks=(rows, rows, (3,)),
        dtype=np.uint8,
        meta=np.empty((0, 0, 0), np.uint8),
    )


def _write_tiled_tiff(path: Path, y, client, chunk: int) -> None:
    """Write the Dask image ``y`` as a tiled TIFF, one row of blocks at a time.

    Blocks are the TIFF tiles, handed to tifffile in row-major order; the
    next row is computed while this one is written.
    """
    import tifffile

    blocks = y.to_delayed()[:, :, 0]
    nrows = blocks.shape[0]

    def submit(i):
        return client.compute(list(blocks[i])) if i < nrows else None

    def tiles():
        pending = submit(0)
        for i in range(nrows):
            nxt = submit(i + 1)
            for tile in client.gather(pending):
                if tile.shape[:2] != (chunk, chunk):  # edge tiles are padded
                    full = np.zeros((chunk, chunk, 3), np.uint8)
                    full[: tile.shape[0], : tile.shape[1]] = tile
                    tile = full
                yield tile
            pending = nxt

    tifffile.imwrite(
        path,
        tiles(),
        shape=y.shape,
        dtype=np.uint8,
        tile=(chunk, chunk),
        photometric="rgb",
        bigtiff=True,
    )


def bench_gigapixel(size: int, chunk: int, workers: int, out_dir: Path) -> dict:
    import kmeans_quant.dask as kd

    x = synthetic_image(size, chunk)
    mp = size * size / 1e6
    with kd.local_cluster(workers) as client:
        t0 = time.perf_counter()
        hist = kd.histogram(x)
        t1 = time.perf_counter()
        palette = fit_palette(hist, K)
        t2 = time.perf_counter()
        path = out_dir / f"gigapixel_{workers}w.tif"
        _write_tiled_tiff(path, kd.recolor(x, palette), client, chunk)
        t3 = time.perf_counter()
        rss = client.run(_rss_peak_mib)
    # The TIFF must hold exactly the recoloured blocks: check a few tiles.
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        full = page.asarray(out="memmap") if size * size > 4e8 else page.asarray()
        ok = True
        for by, bx in ((0, 0), (x.numblocks[0] - 1, x.numblocks[1] - 1)):
            sl = (slice(by * chunk, (by + 1) * chunk), slice(bx * chunk, (bx + 1) * chunk))
            block = x[sl].compute(scheduler="sync")
            ok &= bool(np.array_equal(np.asarray(full[sl]), kmeans_quant.recolor(block, palette)))
        del full
    path.unlink()
    return {
        "workers": workers,
        "megapixels": mp,
        "chunk": chunk,
        "blocks": x.npartitions,
        "distinct_colours": len(hist),
        "histogram_mib": len(pickle.dumps(hist)) / 2**20,
        "count_s": t1 - t0,
        "fit_s": t2 - t1,
        "recolor_write_s": t3 - t2,
        "count_mp_s": mp / (t1 - t0),
        "recolor_write_mp_s": mp / (t3 - t2),
        "total_mp_s": mp / (t3 - t0),
        "worker_peak_rss_mib": sorted(rss.values()),
        "client_peak_rss_mib": _rss_peak_mib(),
        "tiles_equal_in_memory": ok,
    }


# --------------------------------------------------------------------------
# (b) a collection of photos with one shared palette
# --------------------------------------------------------------------------


def make_photos(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` small photos: random crops (shifts), flips and sizes of chelsea.png."""
    res = importlib.resources.files("kmeans_quant").joinpath("data", "chelsea.png")
    with importlib.resources.as_file(res) as p:
        photo = read_image(p)
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    h, w = photo.shape[:2]
    paths = []
    for i in range(n):
        ch, cw = int(rng.integers(96, 161)), int(rng.integers(128, 213))
        y, x = int(rng.integers(0, h - ch)), int(rng.integers(0, w - cw))
        crop = photo[y : y + ch, x : x + cw]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        path = folder / f"photo_{i:05d}.png"
        write_image(path, np.ascontiguousarray(crop))
        paths.append(path)
    return paths


def _cli(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "kmeans_quant", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t


def bench_photos(n: int, workers: int, folder: Path) -> dict:
    paths = make_photos(folder / "in", n)
    files = [str(p) for p in paths]
    mp = sum(read_image(p).shape[0] * read_image(p).shape[1] for p in paths[:50]) / 50 * n / 1e6
    serial = _cli([*files, "-k", str(K), "--shared-palette", "--out-dir", str(folder / "a")])
    dist = _cli(
        [
            *files,
            "-k",
            str(K),
            "--shared-palette",
            "--out-dir",
            str(folder / "b"),
            "--workers",
            str(workers),
        ]
    )
    same = all(
        filecmp.cmp(
            folder / "a" / f"{p.stem}_k{K}.png", folder / "b" / f"{p.stem}_k{K}.png", shallow=False
        )
        for p in paths
    )
    return {
        "photos": n,
        "megapixels": mp,
        "workers": workers,
        "cli_serial_s": serial,
        "cli_workers_s": dist,
        "serial_photos_s": n / serial,
        "workers_photos_s": n / dist,
        "speedup": serial / dist,
        "outputs_identical": same,
    }


# --------------------------------------------------------------------------
# unit costs for the estimate
# --------------------------------------------------------------------------


def _best(func, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        func()
        times.append(time.perf_counter() - t)
    return min(times)


def unit_costs(folder: Path) -> dict:
    paths = sorted((folder / "in").glob("*.png"))
    from kmeans_quant._dtypes import to_uint8

    def count(p):
        im = read_image(p)
        return ColorHistogram.from_image(to_uint8(im[..., :3]))

    hists = [count(p) for p in paths]
    t_read_count = _best(lambda: [count(p) for p in paths[:20]]) / 20
    eight = hists[:8]
    t_merge8 = _best(lambda: merge(eight))
    merged = merge(hists)
    t_merge_all = _best(lambda: merge(hists), 1)
    t_fit = _best(lambda: fit_palette(merged, K), 1)
    pal = fit_palette(merged, K).colors
    out = folder / "unit"
    out.mkdir(exist_ok=True)

    def write(p):
        im = read_image(p)
        write_image(out / p.name, kmeans_quant.recolor(im, pal), force=True)

    t_recolor_write = _best(lambda: [write(p) for p in paths[:20]]) / 20
    return {
        "read_count_s_per_photo": t_read_count,
        "recolor_write_s_per_photo": t_recolor_write,
        "colours_per_photo": float(np.mean([len(h) for h in hists])),
        "pickled_kib_per_photo_histogram": float(
            np.mean([len(pickle.dumps(h)) for h in hists[:50]])
        )
        / 1024,
        "merge8_s": t_merge8,
        "merged_colours": len(merged),
        "merge_all_s": t_merge_all,
        "fit_s": t_fit,
        "photos": len(hists),
    }


# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__)
    p.add_argument("--quick", action="store_true", help="tiny sizes: seconds, for smoke tests")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = p.parse_args(argv)
    if args.quick:
        size, small, chunk, n_photos = 1024, 512, 256, 16
    else:
        # 507 megapixels in 121 blocks; 1 vs 2 workers on 67 megapixels
        size, small, chunk, n_photos = 22528, 8192, 2048, 1000
    results: dict = {"quick": args.quick, "k": K, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        results["gigapixel"] = bench_gigapixel(size, chunk, 2, tmp)
        results["workers_1_vs_2"] = [bench_gigapixel(small, chunk, w, tmp) for w in (1, 2)]
        results["photos"] = bench_photos(n_photos, 2, tmp / "photos")
        results["unit_costs"] = unit_costs(tmp / "photos")
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return results


if __name__ == "__main__":
    main()
