"""What people see against what it costs: SSIMULACRA2 and the written PNG's bytes.

Every method runs file to file and every written PNG is judged against the
original by

* SSIMULACRA2 (the perceptual metric of the JPEG XL tools; the ``ssimulacra2``
  package, ``compute_ssimulacra2(original, output)``, on the two files as
  Pillow decodes them to 8-bit sRGB; 100 = identical, higher is better),
* the size of the file in bytes,
* MSE (:func:`kmeans_quant.metrics.mse`, per channel, 0-255 units), mean CIE
  ΔE76 (:func:`kmeans_quant.metrics.mean_delta_e76`) and mean CIEDE2000
  (scikit-image's ``deltaE_ciede2000`` on :func:`kmeans_quant.colorspace.srgb_to_lab`;
  left out without scikit-image).

Methods
    Our command line, one row per entry of :data:`MODES` (a name and the
    arguments added to ``kmeans-quant IN -k K -o OUT --force --quiet``), run
    in-process through :func:`kmeans_quant.cli.main`; it writes its PNG as it
    always does. A mode the command does not accept (exit status 2, a wrong
    command line) gives rows with status ``"unsupported"`` and the command's
    message, so the table can name options that do not exist yet. The peers
    of :data:`PEERS`: the ``pngquant`` binary (pngquant-cli) writing its own
    file, dithered by default and with ``--nofs``; libimagequant (the
    ``imagequant`` package) with dithering on and off; Pillow's
    ``Image.quantize`` (its default method, median cut, and fast octree, and
    libimagequant where Pillow is built with it), without and with
    Floyd-Steinberg (Pillow's ``quantize`` never dithers while it fits a
    palette, so the dithered rows map the image onto that palette with
    ``quantize(palette=..., dither=FLOYDSTEINBERG)``). The in-memory peers'
    palette images are written by Pillow, ``save(format="PNG",
    optimize=True)`` (zlib level 9), with the peer's own palette of at most
    k entries in the peer's order: the smallest file Pillow makes without
    changing the peer's output.

Images
    Photos from scikit-image and scikit-learn at their own size, in two
    halves: :data:`PHOTO_GROUPS` ``"tuning"`` (tune on these) and
    ``"held-out"`` (report these too); each half has a sky, a smooth
    background, a portrait and a busy scene. Graphics from
    :mod:`benchmarks.kinds` (:data:`GRAPHICS`), reported separately. ``--quick``
    uses two tiny crops of the photo shipped with kmeans_quant and a small
    gradient.

Outputs of the full run (``python -m benchmarks.perceptual``)
    ``docs/bench/perceptual.json`` (every row), the section between
    :data:`START` and :data:`END` of ``docs/benchmarks.md`` (replaced, not
    appended), the rate-distortion plot ``docs/bench/perceptual_rd.png`` and
    ``docs/bench/perceptual_crops.png``: at k=16, 2x nearest-neighbour zoom,
    the smoothest window of one photo of each half (:func:`smooth_window`)
    and the smooth window where Floyd-Steinberg left the most speckles
    (:func:`speckle_window`), chosen by :func:`crop_choices`.
    A run filtered with ``--modes``, ``--images`` or ``--ks``, or ``--quick``,
    prints its tables and writes only the files named by ``--json``,
    ``--report`` and ``--figures``.

Cache
    A peer's row and file are stored under ``--cache`` (default
    :data:`DEFAULT_CACHE`, or ``$KQ_PERCEPTUAL_CACHE``) keyed by the image's
    hash, the peer, k and the peer's version, and reused by every later run;
    our modes are always run again. ``--no-cache`` recomputes everything.

Tuning loop
    From the shell, on the tuning half, after the first run has cached the
    peers::

        python -m benchmarks.perceptual --images tuning --ks 16,64,256 \\
            --modes kq-default,pngquant,pngquant-nofs \\
            --extra-mode "kq-perc=--palette perceptual" --workers 2

    or in-process, with any images::

        from benchmarks import perceptual as pc
        images, groups = pc.load_images(["tuning"])
        rows = pc.evaluate(images, ks=(16, 64), groups=groups, workers=2,
                           modes={"kq-default": [], "kq-try": ["--space", "oklab"]},
                           peers=["pngquant", "pngquant-nofs"])
        print(pc.summary_tables(rows))
        print(pc.verdict_table(rows))

    :func:`evaluate` runs each (image, k, method) as one task, in a pool of
    ``workers`` processes (each task reads its source PNG, so nothing large
    is sent between processes); the rows come back in task order. Worker
    processes import kmeans_quant afresh at every call, so edits to the
    library between calls are measured; with ``workers=1`` the tasks run in
    the calling process, with the kmeans_quant it has imported.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from .cli_e2e import pngquant_binary, update_report
from .images import count_colors
from .report import table
from .sweep import fingerprint

REPO = Path(__file__).resolve().parents[1]
START = "<!-- perceptual:start -->"
END = "<!-- perceptual:end -->"
DEFAULT_CACHE = Path(
    os.environ.get("KQ_PERCEPTUAL_CACHE", Path.home() / ".cache" / "kmeans_quant" / "perceptual")
)

KS = (8, 16, 32, 64, 128, 256)

#: Our command line's modes: name -> arguments added to
#: ``kmeans-quant IN -k K -o OUT --force --quiet``. One line per mode.
MODES: dict[str, list[str]] = {
    "kq-default": [],  # the perceptual mode, dithered with Floyd-Steinberg
    "kq-fs": ["--dither", "floyd-steinberg"],  # the same, asked for
    "kq-none": ["--dither", "none"],  # the perceptual palette, undithered
    "kq-ordered": ["--dither", "ordered"],
    "kq-mse": ["--mode", "mse", "--dither", "none"],  # the K-Means recipe of quantize(img, k)
    "kq-mse-fs": ["--mode", "mse", "--dither", "floyd-steinberg"],
}

PHOTO_GROUPS = {
    "tuning": ("chelsea", "rocket", "flower", "motorcycle"),
    "held-out": ("coffee", "china", "astronaut", "immunohistochemistry"),
}
GRAPHICS = ("logo", "chart", "screenshot", "gradient")
GRAPHIC = "graphic"  # the group of the graphics
QUICK_KS = (16,)

# The sets the tables and the bars are reported over: label -> groups.
SETS = {
    "all photos": ("tuning", "held-out"),
    "tuning photos": ("tuning",),
    "held-out photos": ("held-out",),
    "graphics": (GRAPHIC,),
}

# The bars: our mode against its reference at these k, the bytes allowed.
BAR_KS = (16, 64, 256)
BYTES_RATIO = 1.05
BARS = (
    ("kq-default", "pngquant"),  # the command's default against pngquant's default
    ("kq-none", "pngquant-nofs"),  # undithered against undithered
)
DITHER_BAR = ("kq-fs", "kq-none", 64)  # dithered above undithered at every k <= 64

# The crops: the methods shown beside the original, at this k.
CROP_K = 16
CROP_METHODS = ("kq-mse", "kq-none", "kq-default", "pngquant-nofs", "pngquant")
CROP_SIZE = 96
# Drawn bold in the rate-distortion plot: the methods of the bars.
KEY_METHODS = frozenset({"kq-default", "kq-none", "kq-fs", "kq-mse", "pngquant", "pngquant-nofs"})

# Bumped when a measure changes, so that cached peer rows are computed again.
SCORE_VERSION = 1


# --------------------------------------------------------------------------
# the peers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Peer:
    """A program we compare with.

    Attributes
    ----------
    name : str
        Key in tables and on the command line.
    family : str
        ``"pngquant"``, ``"libimagequant"`` or ``"pillow"``.
    settings : str
        How it is called, for the report.
    write : callable
        ``write(src, image, k, dest)``: quantize and write the PNG ``dest``.
    missing : callable
        ``missing()``: None when the peer can run here, else why not.
    version : callable
        ``version()``: the version string of what runs (part of the cache key).
    """

    name: str
    family: str
    settings: str
    write: Callable[[Path, NDArray[np.uint8], int, Path], None]
    missing: Callable[[], str | None]
    version: Callable[[], str]


def _pngquant_missing() -> str | None:
    return None if pngquant_binary() else "pngquant binary not found (pip install pngquant-cli)"


def pngquant_version() -> str:
    """``pngquant --version`` of the binary the benchmark runs, or ``"missing"``."""
    binary = pngquant_binary()
    if binary is None:
        return "missing"
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or done.stderr.strip() or "unknown"


def _pngquant_write(extra: list[str], src: Path, image, k: int, dest: Path) -> None:
    binary = pngquant_binary()
    assert binary is not None  # checked by missing()
    cmd = [binary, str(k), *extra, "--force", "--output", str(dest), str(src)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")


def _module_missing(module: str) -> str | None:
    return None if importlib.util.find_spec(module) else f"{module} not installed"


def _dist_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "missing"


def _save_indexed(paletted, dest: Path) -> None:
    paletted.save(dest, format="PNG", optimize=True)


def _liq_write(dithering: float, src: Path, image: NDArray[np.uint8], k: int, dest: Path) -> None:
    import imagequant
    from PIL import Image

    h, w = image.shape[:2]
    rgba = np.dstack([image, np.full((h, w), 255, np.uint8)])
    indices, palette = imagequant.quantize_raw_rgba_bytes(
        rgba.tobytes(),
        w,
        h,
        dithering_level=dithering,
        max_colors=k,
        min_quality=0,
        max_quality=100,
    )
    # The wrapper pads the palette to 256 entries; the image uses the first ones.
    index = np.frombuffer(indices, dtype=np.uint8)
    colors = np.asarray(palette, dtype=np.uint8).reshape(-1, 4)[: int(index.max()) + 1, :3]
    out = Image.frombytes("P", (w, h), bytes(indices))
    out.putpalette(colors.ravel().tolist())
    _save_indexed(out, dest)


def _pillow_missing(method: str | None) -> str | None:
    reason = _module_missing("PIL")
    if reason or method != "LIBIMAGEQUANT":
        return reason
    from PIL import features

    return None if features.check_feature("libimagequant") else "Pillow built without it"


def _pillow_write(
    method: str | None, dither: bool, src: Path, image: NDArray[np.uint8], k: int, dest: Path
) -> None:
    from PIL import Image

    pil = Image.fromarray(image)
    paletted = pil.quantize(k, method=None if method is None else getattr(Image.Quantize, method))
    if dither:
        paletted = pil.quantize(palette=paletted, dither=Image.Dither.FLOYDSTEINBERG)
    _save_indexed(paletted, dest)


def _pillow_peers() -> list[Peer]:
    peers = []
    for slug, method, label in (
        ("mediancut", None, "`Image.quantize(k)` (its default method for RGB: median cut)"),
        ("octree", "FASTOCTREE", "`Image.quantize(k, method=Image.Quantize.FASTOCTREE)`"),
        ("liq", "LIBIMAGEQUANT", "`Image.quantize(k, method=Image.Quantize.LIBIMAGEQUANT)`"),
    ):
        for dither in (False, True):
            how = label + (
                ", then `quantize(palette=that, dither=Image.Dither.FLOYDSTEINBERG)`"
                if dither
                else " (no dithering)"
            )
            peers.append(
                Peer(
                    name=f"pillow-{slug}" + ("-fs" if dither else ""),
                    family="pillow",
                    settings=how + "; written by Pillow, `optimize=True`",
                    write=partial(_pillow_write, method, dither),
                    missing=partial(_pillow_missing, method),
                    version=partial(_dist_version, "pillow"),
                )
            )
    return peers


PEERS: dict[str, Peer] = {
    p.name: p
    for p in (
        Peer(
            name="pngquant",
            family="pngquant",
            settings="`pngquant K --force --output OUT IN` (its default: Floyd-Steinberg)",
            write=partial(_pngquant_write, []),
            missing=_pngquant_missing,
            version=pngquant_version,
        ),
        Peer(
            name="pngquant-nofs",
            family="pngquant",
            settings="`pngquant K --nofs --force --output OUT IN`",
            write=partial(_pngquant_write, ["--nofs"]),
            missing=_pngquant_missing,
            version=pngquant_version,
        ),
        Peer(
            name="liq",
            family="libimagequant",
            settings="`imagequant.quantize_raw_rgba_bytes(..., dithering_level=1.0, "
            "max_colors=k)`; written by Pillow, `optimize=True`",
            write=partial(_liq_write, 1.0),
            missing=partial(_module_missing, "imagequant"),
            version=partial(_dist_version, "imagequant"),
        ),
        Peer(
            name="liq-nodither",
            family="libimagequant",
            settings="the same with `dithering_level=0.0`",
            write=partial(_liq_write, 0.0),
            missing=partial(_module_missing, "imagequant"),
            version=partial(_dist_version, "imagequant"),
        ),
        *_pillow_peers(),
    )
}


# --------------------------------------------------------------------------
# the measures
# --------------------------------------------------------------------------


def read_rgb(path: str | os.PathLike) -> NDArray[np.uint8]:
    """A PNG as Pillow decodes it to 8-bit RGB (what SSIMULACRA2 sees), shape (H, W, 3)."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def ssimulacra2(original: str | os.PathLike, output: str | os.PathLike) -> float:
    """SSIMULACRA2 of the file ``output`` against the file ``original`` (100: identical)."""
    from ssimulacra2 import compute_ssimulacra2

    return float(compute_ssimulacra2(str(original), str(output)))


def ciede2000(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float | None:
    """Mean CIEDE2000 between two uint8 RGB images, or None without scikit-image."""
    try:
        from skimage.color import deltaE_ciede2000
    except ImportError:
        return None
    from kmeans_quant.colorspace import srgb_to_lab

    return float(np.mean(deltaE_ciede2000(srgb_to_lab(a / 255.0), srgb_to_lab(b / 255.0))))


def palette_id(path: str | os.PathLike) -> str | None:
    """Short hash of the set of colours in a palette PNG's PLTE (None: not a palette PNG)."""
    from PIL import Image

    with Image.open(path) as im:
        if im.mode != "P":
            return None
        colors = np.asarray(im.getpalette(), dtype=np.uint8).reshape(-1, 3)
    return fingerprint(np.unique(colors, axis=0))


def score_file(original: Path, output: Path) -> dict:
    """Every measure of the written file ``output`` against the file ``original``."""
    from kmeans_quant.metrics import mean_delta_e76, mse

    a, b = read_rgb(original), read_rgb(output)
    if a.shape != b.shape:
        raise ValueError(f"output {output.name} has shape {b.shape}, the original {a.shape}")
    t0 = time.perf_counter()
    s2 = ssimulacra2(original, output)
    s2_seconds = time.perf_counter() - t0
    return {
        "bytes": output.stat().st_size,
        "ssimulacra2": s2,
        "mse": mse(a, b),
        "delta_e76": mean_delta_e76(a, b),
        "delta_e2000": ciede2000(a, b),
        "colors": count_colors(b),
        "palette": palette_id(output),
        "ssimulacra2_s": s2_seconds,
    }


# --------------------------------------------------------------------------
# one task: run a method on one image at one k, and measure what it wrote
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One (image, k, method); ``args`` is None for a peer."""

    image: str
    group: str
    src: str
    k: int
    method: str
    args: tuple[str, ...] | None
    dest: str
    cache_file: str | None
    version: str


def run_cli(src: str, k: int, args: Sequence[str], dest: str) -> tuple[str, str]:
    """Our command line in this process; (status, reason) with status ok/unsupported/error."""
    from kmeans_quant.cli import build_parser, main

    # argparse would take an unknown option that begins a known one as that
    # one (--dith for --dither): a mode must name whole options.
    known = {o for action in build_parser()._actions for o in action.option_strings}
    for arg in args:
        option = arg.split("=", 1)[0]
        if option.startswith("--") and option not in known:
            return "unsupported", f"kmeans-quant has no option {option}"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([src, "-k", str(k), *args, "-o", dest, "--force", "--quiet"])
    lines = [line for line in err.getvalue().splitlines() if line.strip()]
    message = lines[-1] if lines else ""
    if code == 0:
        return "ok", ""
    if code == 2:  # a wrong command line: this build does not know the mode
        return "unsupported", message
    return "error", f"exit status {code}: {message}"


def run_task(task: Task) -> dict:
    """Run ``task`` and measure its output; the row of the table."""
    row = {
        "image": task.image,
        "group": task.group,
        "k": task.k,
        "method": task.method,
        "family": "ours" if task.args is not None else PEERS[task.method].family,
        "status": "ok",
        "reason": "",
        "cached": False,
    }
    dest = Path(task.dest)
    t0 = time.perf_counter()
    if task.args is not None:
        row["status"], row["reason"] = run_cli(task.src, task.k, task.args, task.dest)
    else:
        try:
            PEERS[task.method].write(
                src=Path(task.src), image=read_rgb(task.src), k=task.k, dest=dest
            )
        except Exception as exc:  # a peer's failure is a row, not the end of the run
            row["status"], row["reason"] = "error", f"{type(exc).__name__}: {exc}"
    row["seconds"] = time.perf_counter() - t0
    if row["status"] == "ok":
        row.update(score_file(Path(task.src), dest))
        row["output"] = task.dest
        if task.cache_file is not None:
            _store(Path(task.cache_file), {**row, "version": task.version})
    return row


def _store(path: Path, row: dict) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(row))
    os.replace(tmp, path)


def _cached(path: Path, version: str) -> dict | None:
    try:
        row = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if row.pop("version", None) != version or not Path(row.get("output", "")).is_file():
        return None
    return {**row, "cached": True}


# --------------------------------------------------------------------------
# evaluate: every image, k and method
# --------------------------------------------------------------------------


def _score_version() -> str:
    return f"score {SCORE_VERSION}, ssimulacra2 {_dist_version('ssimulacra2')}"


def evaluate(
    images: Mapping[str, NDArray[np.uint8]],
    ks: Iterable[int] = KS,
    modes: Mapping[str, Sequence[str]] | None = None,
    peers: Iterable[str] | None = None,
    *,
    groups: Mapping[str, str] | None = None,
    workers: int = 1,
    cache: str | os.PathLike | None = DEFAULT_CACHE,
    keep: str | os.PathLike | None = None,
    log: Callable[[str], None] | None = None,
) -> list[dict]:
    """Measure every method on every image at every k.

    Parameters
    ----------
    images : mapping of str to ndarray, each uint8 of shape (H, W, 3)
        The originals by name.
    ks : iterable of int, default :data:`KS`
        Palette sizes, each in 2..256.
    modes : mapping of str to list of str, optional
        Our command line's modes, name -> extra arguments; default :data:`MODES`.
    peers : iterable of str, optional
        Names from :data:`PEERS`; default all of them.
    groups : mapping of str to str, optional
        Each image's group (``"tuning"``, ``"held-out"``, ``"graphic"``), copied
        into its rows; ``"other"`` when not given.
    workers : int, default 1
        Processes that run the tasks (1: in this process).
    cache : path or None, default :data:`DEFAULT_CACHE`
        Folder of the peers' rows and files; None computes everything.
    keep : path or None
        Folder for our outputs, kept (their paths are in the rows' ``"output"``);
        None writes them to a temporary folder and leaves ``"output"`` out.
    log : callable, optional
        Called with one line per finished row.

    Returns
    -------
    list of dict
        One row per (image, k, method), in that order: ``image``, ``group``,
        ``k``, ``method``, ``family``, ``status`` (``"ok"``, ``"unsupported"``,
        ``"missing"`` or ``"error"``), ``reason``, ``cached`` and, when ok,
        ``bytes``, ``ssimulacra2``, ``mse``, ``delta_e76``, ``delta_e2000``,
        ``colors``, ``seconds`` (to make the file) and ``ssimulacra2_s``.

    Raises
    ------
    ValueError
        An image that is not uint8 (H, W, 3), a k out of range, an unknown peer.
    """
    modes = dict(MODES if modes is None else modes)
    peer_names = list(PEERS if peers is None else peers)
    unknown = [p for p in peer_names if p not in PEERS]
    if unknown:
        raise ValueError(f"unknown peer(s) {', '.join(unknown)}; known: {', '.join(PEERS)}")
    clash = [m for m in modes if m in PEERS]
    if clash:
        raise ValueError(f"mode name(s) {', '.join(clash)} are peers' names")
    ks = [int(k) for k in ks]
    bad = [k for k in ks if not 2 <= k <= 256]
    if bad:
        raise ValueError(f"k must be in 2..256, got {bad}")
    for name, image in images.items():
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"image {name!r} must be uint8 of shape (H, W, 3), got {image.dtype} {image.shape}"
            )
    groups = dict(groups or {})
    versions = {p: f"{PEERS[p].version()}; {_score_version()}" for p in peer_names}
    rows: list[dict | None] = []
    tasks: list[tuple[int, Task]] = []
    with contextlib.ExitStack() as stack:
        work = Path(keep) if keep is not None else Path(stack.enter_context(_tempdir()))
        work.mkdir(parents=True, exist_ok=True)
        for name, image in images.items():
            from PIL import Image

            src = work / f"{name}.png"
            Image.fromarray(image).save(src)
            where = None if cache is None else Path(cache) / fingerprint(image)
            if where is not None:
                where.mkdir(parents=True, exist_ok=True)
            for k in ks:
                base = {"image": name, "group": groups.get(name, "other"), "k": k}
                for method, args in modes.items():
                    dest = work / f"{name}-{method}-k{k}.png"
                    task = Task(
                        **base,
                        src=str(src),
                        method=method,
                        args=tuple(args),
                        dest=str(dest),
                        cache_file=None,
                        version="",
                    )
                    tasks.append((len(rows), task))
                    rows.append(None)
                for peer in peer_names:
                    reason = PEERS[peer].missing()
                    if reason:
                        rows.append(
                            {
                                **base,
                                "method": peer,
                                "family": PEERS[peer].family,
                                "status": "missing",
                                "reason": reason,
                                "cached": False,
                            }
                        )
                        continue
                    cache_file = None if where is None else where / f"{peer}-k{k}.json"
                    hit = None if cache_file is None else _cached(cache_file, versions[peer])
                    if hit is not None:
                        rows.append({**hit, **base})
                        if log:
                            log(_describe(rows[-1]))
                        continue
                    dest = (where or work) / f"{peer}-k{k}.png"
                    task = Task(
                        **base,
                        src=str(src),
                        method=peer,
                        args=None,
                        dest=str(dest),
                        cache_file=None if cache_file is None else str(cache_file),
                        version=versions[peer],
                    )
                    tasks.append((len(rows), task))
                    rows.append(None)
        done = _run_all([t for _, t in tasks], workers=workers, log=log)
        for (i, _), row in zip(tasks, done, strict=True):
            rows[i] = row
        out = [r for r in rows if r is not None]
        if keep is None:  # only the cached peers' files outlive the call
            for r in out:
                if cache is None or r.get("family") == "ours":
                    r.pop("output", None)
    return out


@contextlib.contextmanager
def _tempdir():
    folder = tempfile.mkdtemp(prefix="kq-perceptual-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _describe(row: dict) -> str:
    head = f"{row['image']:>22s} k={row['k']:<3d} {row['method']:<20s}"
    if row["status"] != "ok":
        return f"{head} {row['status']}: {row['reason']}"
    cached = " (cached)" if row.get("cached") else ""
    return (
        f"{head} S2 {row['ssimulacra2']:6.2f} {row['bytes'] / 1024:8.1f} KiB "
        f"MSE {row['mse']:7.2f} dE76 {row['delta_e76']:5.2f}{cached}"
    )


def _run_all(tasks: list[Task], *, workers: int, log) -> list[dict]:
    if workers <= 1 or len(tasks) <= 1:
        out = []
        for task in tasks:
            out.append(run_task(task))
            if log:
                log(_describe(out[-1]))
        return out
    import multiprocessing

    # spawn: a fresh interpreter per worker, no copy of this one's threads or locks
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        out = []
        for row in pool.map(run_task, tasks, chunksize=1):
            out.append(row)
            if log:
                log(_describe(row))
        return out


# --------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------


def load_images(
    selection: Sequence[str] | None = None, quick: bool = False
) -> tuple[dict[str, NDArray[np.uint8]], dict[str, str]]:
    """The benchmark's images and their groups.

    Parameters
    ----------
    selection : sequence of str, optional
        Image names and group names (``"tuning"``, ``"held-out"``, ``"photos"``,
        ``"graphics"``); default all.
    quick : bool
        The tiny images of ``--quick`` instead.

    Returns
    -------
    images : dict of str to ndarray
        uint8 (H, W, 3) by name, photos that are not installed left out.
    groups : dict of str to str
        Each image's group.

    Raises
    ------
    ValueError
        A name that is neither an image nor a group.
    """
    if quick:
        available = quick_images()
    else:
        from .kinds import sweep_images

        names = tuple(n for g in PHOTO_GROUPS.values() for n in g) + GRAPHICS
        available = {}
        for name, image in sweep_images(names).items():
            group = next((g for g, ns in PHOTO_GROUPS.items() if name in ns), GRAPHIC)
            available[name] = (group, image)
    aliases = {"photos": ("tuning", "held-out"), "graphics": (GRAPHIC,)}
    known_groups = {"tuning", "held-out", GRAPHIC, *aliases}
    if selection:
        unknown = [s for s in selection if s not in available and s not in known_groups]
        if unknown:
            raise ValueError(
                f"unknown image(s) or group(s) {', '.join(unknown)}; images: "
                f"{', '.join(available)}; groups: tuning, held-out, photos, graphics"
            )
        wanted_groups = {g for s in selection for g in aliases.get(s, (s,))}
        keep = {n for n, (g, _) in available.items() if n in selection or g in wanted_groups}
    else:
        keep = set(available)
    images = {n: img for n, (g, img) in available.items() if n in keep}
    return images, {n: available[n][0] for n in images}


def quick_images() -> dict[str, tuple[str, NDArray[np.uint8]]]:
    """Two tiny crops of the bundled photo and a small gradient: name -> (group, image)."""
    from .images import package_photo, resize
    from .kinds import gradient

    photo = package_photo()
    return {
        "chelsea-tiny": ("tuning", resize(photo, (72, 108))),
        "chelsea-crop": ("held-out", resize(photo[60:240, 90:360], (72, 108))),
        "gradient-tiny": (GRAPHIC, resize(gradient(), (64, 96))),
    }


# --------------------------------------------------------------------------
# summaries and bars
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Mean:
    """A method's means at one k over a set of images."""

    ssimulacra2: float
    kib: float
    mse: float
    delta_e76: float
    delta_e2000: float | None
    n: int
    complete: bool


def means(rows: Sequence[dict], groups: Sequence[str]) -> dict[tuple[str, int], Mean]:
    """Means over the images of ``groups`` by (method, k); only of the ok rows.

    ``complete`` says whether every image of the set has an ok row.
    """
    images = {r["image"] for r in rows if r["group"] in groups}
    by: dict[tuple[str, int], list[dict]] = {}
    for r in rows:
        if r["group"] in groups and r["status"] == "ok":
            by.setdefault((r["method"], r["k"]), []).append(r)
    out = {}
    for key, rs in by.items():
        de00 = [r["delta_e2000"] for r in rs]
        out[key] = Mean(
            ssimulacra2=float(np.mean([r["ssimulacra2"] for r in rs])),
            kib=float(np.mean([r["bytes"] for r in rs])) / 1024,
            mse=float(np.mean([r["mse"] for r in rs])),
            delta_e76=float(np.mean([r["delta_e76"] for r in rs])),
            delta_e2000=None if None in de00 else float(np.mean(de00)),
            n=len(rs),
            complete=len(rs) == len(images),
        )
    return out


def _methods(rows: Sequence[dict]) -> list[str]:
    return list(dict.fromkeys(r["method"] for r in rows))


def _ks(rows: Sequence[dict]) -> list[int]:
    return sorted({r["k"] for r in rows})


def _star(m: Mean) -> str:
    return "" if m.complete else "*"


def s2_table(rows: Sequence[dict], groups: Sequence[str]) -> str:
    """Markdown: mean SSIMULACRA2 (mean KiB) per method and k over ``groups``."""
    m, ks = means(rows, groups), _ks(rows)
    body = []
    for method in _methods(rows):
        cells = [
            f"{m[method, k].ssimulacra2:.1f} ({m[method, k].kib:.0f}){_star(m[method, k])}"
            if (method, k) in m
            else "—"
            for k in ks
        ]
        if any(c != "—" for c in cells):
            body.append([f"`{method}`", *cells])
    return table(["method", *(f"k={k}" for k in ks)], body)


def error_table(rows: Sequence[dict], groups: Sequence[str]) -> str:
    """Markdown: mean MSE / ΔE76 / ΔE2000 per method and k over ``groups``."""
    m, ks = means(rows, groups), _ks(rows)
    body = []
    for method in _methods(rows):
        cells = []
        for k in ks:
            if (method, k) not in m:
                cells.append("—")
                continue
            v = m[method, k]
            de00 = "—" if v.delta_e2000 is None else f"{v.delta_e2000:.2f}"
            cells.append(f"{v.mse:.1f} / {v.delta_e76:.2f} / {de00}{_star(v)}")
        if any(c != "—" for c in cells):
            body.append([f"`{method}`", *cells])
    return table(["method", *(f"k={k}" for k in ks)], body)


@dataclass(frozen=True)
class Verdict:
    """One bar at one k over one set of images; ``met`` is None when not measured."""

    bar: str
    k: int
    images: str
    met: bool | None
    detail: str


def verdicts(rows: Sequence[dict]) -> list[Verdict]:
    """The bars over every set of images that has rows."""
    out = []
    ks = _ks(rows)
    present = {r["group"] for r in rows}
    for label, groups in SETS.items():
        if not present.intersection(groups):
            continue
        m = means(rows, groups)
        for ours, ref in BARS:
            for k in (k for k in BAR_KS if k in ks):
                a, b = m.get((ours, k)), m.get((ref, k))
                bar = f"`{ours}` vs `{ref}`: SSIMULACRA2 >= and bytes <= {BYTES_RATIO:g}x"
                if a is None or b is None or not (a.complete and b.complete):
                    out.append(Verdict(bar, k, label, None, "not measured on every image"))
                    continue
                ratio = a.kib / b.kib
                met = a.ssimulacra2 >= b.ssimulacra2 and ratio <= BYTES_RATIO
                detail = f"{a.ssimulacra2:.1f} vs {b.ssimulacra2:.1f}, {ratio:.2f}x bytes"
                out.append(Verdict(bar, k, label, met, detail))
        dithered, plain, kmax = DITHER_BAR
        for k in (k for k in ks if k <= kmax):
            a, b = m.get((dithered, k)), m.get((plain, k))
            bar = f"`{dithered}` SSIMULACRA2 above `{plain}`"
            if a is None or b is None or not (a.complete and b.complete):
                out.append(Verdict(bar, k, label, None, "not measured on every image"))
                continue
            wins = _per_image_wins(rows, groups=groups, a=dithered, b=plain, k=k)
            detail = (
                f"{a.ssimulacra2:.1f} vs {b.ssimulacra2:.1f} (higher on {wins.higher} of "
                f"{wins.images} images; the same PLTE colours on {wins.same_palette})"
            )
            out.append(Verdict(bar, k, label, a.ssimulacra2 > b.ssimulacra2, detail))
    return out


class Wins(NamedTuple):
    """Per image: how often ``a`` scored higher than ``b``, and wrote the same palette."""

    higher: int
    same_palette: int
    images: int


def _per_image_wins(rows, *, groups, a: str, b: str, k: int) -> Wins:
    by = {
        (r["image"], r["method"]): r
        for r in rows
        if r["group"] in groups and r["k"] == k and r["status"] == "ok"
    }
    images = sorted({i for i, m in by if m == a and (i, b) in by})
    return Wins(
        higher=sum(by[i, a]["ssimulacra2"] > by[i, b]["ssimulacra2"] for i in images),
        same_palette=sum(
            by[i, a].get("palette") is not None
            and by[i, a].get("palette") == by[i, b].get("palette")
            for i in images
        ),
        images=len(images),
    )


def verdict_table(rows: Sequence[dict]) -> str:
    """Markdown: every bar at every k, one column per set of images."""
    found = verdicts(rows)
    sets = list(dict.fromkeys(v.images for v in found))
    cells: dict[tuple[str, int], dict[str, str]] = {}
    for v in found:
        word = "n/a" if v.met is None else ("**met**" if v.met else "**NOT MET**")
        cells.setdefault((v.bar, v.k), {})[v.images] = f"{word}: {v.detail}"
    body = [[bar, k, *(c.get(s, "") for s in sets)] for (bar, k), c in cells.items()]
    return table(["bar", "k", *sets], body)


def summary_tables(rows: Sequence[dict]) -> str:
    """Plain-text summary for a terminal: one SSIMULACRA2 (KiB) table per set of images."""
    present = {r["group"] for r in rows}
    parts = []
    for label, groups in SETS.items():
        if present.intersection(groups):
            parts += [f"{label}: mean SSIMULACRA2 (mean KiB)", s2_table(rows, groups), ""]
    return "\n".join(parts)


# --------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------


def _window_means(x: NDArray, size: int) -> NDArray:
    """Mean of ``x`` (H, W) over every ``size`` x ``size`` window, by top-left corner."""
    h, w = x.shape
    s = np.zeros((h + 1, w + 1))
    s[1:, 1:] = x.cumsum(0).cumsum(1)
    total = s[size:, size:] - s[:-size, size:] - s[size:, :-size] + s[:-size, :-size]
    return total / size**2


def _smoothness(image: NDArray[np.uint8], size: int) -> tuple[NDArray, NDArray]:
    """Gradient energy and luma standard deviation of every window, by top-left corner.

    Both of shape (H - size, W - size): the last row and column, which have
    only half their differences, are in no window.
    """
    f = image.astype(np.float64)
    h, w = f.shape[:2]
    if size > min(h, w) - 1:
        raise ValueError(f"window {size} does not fit in an image of shape {image.shape}")
    energy = np.zeros((h, w))
    energy[:-1] += ((f[1:] - f[:-1]) ** 2).sum(axis=2)
    energy[:, :-1] += ((f[:, 1:] - f[:, :-1]) ** 2).sum(axis=2)
    luma = f @ np.array([0.299, 0.587, 0.114])
    m1, m2 = _window_means(luma, size), _window_means(luma**2, size)
    std = np.sqrt(np.maximum(m2 - m1**2, 0))
    return _window_means(energy, size)[: h - size, : w - size], std[: h - size, : w - size]


def smooth_window(image: NDArray[np.uint8], size: int, min_std: float = 2.5) -> tuple[int, int]:
    """Top-left corner (y, x) of the ``size`` x ``size`` window with the least gradient energy.

    Gradient energy is the mean over the window of the squared differences
    between neighbouring pixels (down and across, all channels), so texture,
    noise and edges raise it while a slow ramp hardly does. Windows whose
    luma (Rec. 601) has a standard deviation under ``min_std`` levels are
    flat and left out: a smooth region still has shades to band. If none
    qualifies, the smoothest window of all is returned.
    """
    energy, std = _smoothness(image, size)
    ranked = np.where(std >= min_std, energy, np.inf)
    if not np.isfinite(ranked).any():
        ranked = energy
    y, x = np.unravel_index(int(np.argmin(ranked)), ranked.shape)
    return int(y), int(x)


def speckles(
    image: NDArray[np.uint8], dithered: NDArray[np.uint8], plain: NDArray[np.uint8]
) -> NDArray[np.bool_]:
    """Pixels the dithering sent far: (H, W), True where the dithered pixel is
    at least twice, and at least 10 levels, farther from the original (RGB
    distance) than the undithered output of the same palette."""
    f = image.astype(np.float64)
    far = np.sqrt(((dithered - f) ** 2).sum(axis=2))
    near = np.sqrt(((plain - f) ** 2).sum(axis=2))
    return far > np.maximum(2 * near, near + 10)


def speckle_window(
    image: NDArray[np.uint8],
    *,
    dithered: NDArray[np.uint8],
    plain: NDArray[np.uint8],
    size: int,
    smooth_share: float = 0.25,
    min_std: float = 2.5,
) -> tuple[int, int, int]:
    """The smooth window with the most :func:`speckles`: (y, x, number of speckles).

    Smooth: not flat (luma standard deviation at least ``min_std``) and among
    the ``smooth_share`` of such windows with the least gradient energy.
    """
    energy, std = _smoothness(image, size)
    ok = std >= min_std
    if not ok.any():
        ok = np.ones_like(ok)
    smooth = ok & (energy <= np.quantile(energy[ok], smooth_share))
    counts = _window_means(speckles(image, dithered, plain).astype(np.float64), size)
    counts = np.rint(counts[: energy.shape[0], : energy.shape[1]] * size**2)
    ranked = np.where(smooth, counts, -1)
    y, x = np.unravel_index(int(np.argmax(ranked)), ranked.shape)
    return int(y), int(x), int(counts[y, x])


def _by_key(rows: Sequence[dict]) -> dict[tuple[str, str, int], dict]:
    return {(r["image"], r["method"], r["k"]): r for r in rows}


class Crop(NamedTuple):
    """A window of the crops figure: the photo, its top-left corner and why it was chosen."""

    name: str
    y: int
    x: int
    why: str


def crop_choices(
    images: Mapping[str, NDArray[np.uint8]],
    *,
    groups: Mapping[str, str],
    size: int,
    rows: Sequence[dict] = (),
    k: int = CROP_K,
) -> list[Crop]:
    """The windows of the crops figure.

    One per half of the photos: the photo whose :func:`smooth_window` has the
    least gradient energy, and that window. Then, when ``rows`` hold the
    outputs of the dithering bar's two modes at ``k``, the smooth window of
    any photo with the most :func:`speckles` (:func:`speckle_window`).
    """
    picks = []
    fits = {n: im for n, im in images.items() if min(im.shape[:2]) > size + 1}
    for group in PHOTO_GROUPS:
        best = None
        for name, image in fits.items():
            if groups.get(name) != group:
                continue
            y, x = smooth_window(image, size)
            energy = _smoothness(image[y : y + size + 1, x : x + size + 1], size)[0][0, 0]
            if best is None or energy < best[0]:
                best = (energy, Crop(name, y, x, "smoothest window"))
        if best is not None:
            picks.append(best[1])
    dithered, plain, _ = DITHER_BAR
    by = _by_key(rows)
    worst = None
    for name, image in fits.items():
        if groups.get(name) not in PHOTO_GROUPS:
            continue
        outs = [by.get((name, m, k)) for m in (dithered, plain)]
        if not all(r and r["status"] == "ok" and r.get("output") for r in outs):
            continue
        y, x, count = speckle_window(
            image,
            dithered=read_rgb(outs[0]["output"]),
            plain=read_rgb(outs[1]["output"]),
            size=size,
        )
        if count > 0 and (worst is None or count > worst[0]):
            worst = (count, Crop(name, y, x, f"most {dithered} speckles ({count} px)"))
    if worst is not None:
        picks.append(worst[1])
    return picks


def write_crops(
    path: Path,
    *,
    rows: Sequence[dict],
    images: Mapping[str, NDArray[np.uint8]],
    picks: Sequence[Crop],
    size: int,
    k: int = CROP_K,
) -> Path:
    """The crops figure: per picked photo, the original and each method of :data:`CROP_METHODS`.

    Each tile is the window at 2x, nearest neighbour; a tile whose output is
    missing is grey. Labels name the method and its whole-image SSIMULACRA2
    and size.
    """
    from PIL import Image, ImageDraw, ImageFont

    zoom, gap, label_h = 2, 8, 48
    tile = size * zoom
    cols = 1 + len(CROP_METHODS)
    width = cols * tile + (cols + 1) * gap
    height = len(picks) * (tile + label_h + gap) + gap
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    try:
        font = ImageFont.load_default(size=12)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        font = ImageFont.load_default()
    by = _by_key(rows)
    for i, (name, y, x, why) in enumerate(picks):
        top = gap + i * (tile + label_h + gap)
        shown = [("original", f"{name} at x={x}, y={y}", images[name])]
        for method in CROP_METHODS:
            row = by.get((name, method, k))
            if row and row["status"] == "ok" and row.get("output"):
                label = f"S2 {row['ssimulacra2']:.1f}, {row['bytes'] / 1024:.0f} KiB"
                shown.append((f"{method} k={k}", label, read_rgb(row["output"])))
            else:
                shown.append((f"{method} k={k}", "not available", None))
        for j, (title, label, pixels) in enumerate(shown):
            left = gap + j * (tile + gap)
            draw.text((left, top), title, fill="black", font=font)
            draw.text((left, top + 15), label, fill=(80, 80, 80), font=font)
            if j == 0:
                draw.text((left, top + 30), why, fill=(160, 40, 40), font=font)
            if pixels is None:
                patch = np.full((tile, tile, 3), 200, np.uint8)
            else:
                win = pixels[y : y + size, x : x + size]
                patch = np.repeat(np.repeat(win, zoom, axis=0), zoom, axis=1)
            canvas.paste(Image.fromarray(np.ascontiguousarray(patch)), (left, top + label_h))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, optimize=True)
    return path


def write_rd_plot(path: Path, rows: Sequence[dict]) -> Path:
    """Rate-distortion: mean KiB against mean SSIMULACRA2, one line per method, per set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter

    present = {r["group"] for r in rows}
    sets = [(label, g) for label, g in SETS.items() if label != "all photos"]
    sets = [(label, g) for label, g in sets if present.intersection(g)]
    methods = _methods(rows)
    styles = {"ours": "-", "pngquant": "--", "libimagequant": ":", "pillow": "-."}
    family = {r["method"]: r["family"] for r in rows}
    # pngquant in black and grey: the references; the others in distinct hues
    colour = {"pngquant": "black", "pngquant-nofs": "dimgrey"}
    others = [m for m in methods if m not in colour]
    hues = [*plt.cm.tab10.colors, *plt.cm.Dark2.colors]
    colour.update({m: hues[i % len(hues)] for i, m in enumerate(others)})
    fig, axes = plt.subplots(1, len(sets), figsize=(6 * len(sets), 5.2), squeeze=False)
    for ax, (label, groups) in zip(axes[0], sets, strict=True):
        m = means(rows, groups)
        for method in methods:
            pts = [(k, m[method, k]) for k in _ks(rows) if (method, k) in m]
            if not pts:
                continue
            ax.plot(
                [p.kib for _, p in pts],
                [p.ssimulacra2 for _, p in pts],
                styles.get(family.get(method, "ours"), "-"),
                marker="o",
                ms=3,
                lw=2.2 if method in KEY_METHODS else 1.0,
                alpha=1.0 if method in KEY_METHODS else 0.75,
                color=colour[method],
                label=method,
            )
            if method == "pngquant":  # label the k once, on a reference line
                for k, p in pts:
                    ax.annotate(
                        f"k={k}",
                        (p.kib, p.ssimulacra2),
                        fontsize=7,
                        xytext=(3, -9),
                        textcoords="offset points",
                    )
        ax.set(
            xscale="log",
            xlabel="mean file size (KiB)",
            ylabel="mean SSIMULACRA2",
            title=f"{label}: upper left is better",
        )
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(ScalarFormatter())
        ax.tick_params(axis="x", which="minor", labelsize=7)
        # A few very low points (a method far off at k=8) would squash the rest.
        ys = [v.ssimulacra2 for v in m.values()]
        floor = float(np.percentile(ys, 10)) - 5 if ys else 0.0
        if ys and floor > min(ys):
            ax.set_ylim(bottom=floor)
            ax.text(
                0.01,
                0.01,
                f"cut at {floor:.0f}: lower points not shown",
                fontsize=7,
                transform=ax.transAxes,
            )
        ax.grid(True, which="both", alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------
# the section of docs/benchmarks.md
# --------------------------------------------------------------------------


def _how(method: str, modes: Mapping[str, Sequence[str]]) -> str:
    if method in PEERS:
        return PEERS[method].settings
    args = " ".join(shlex.quote(a) for a in modes.get(method, ()))
    return f"`kmeans-quant IN -k K {args}{' ' if args else ''}-o OUT` (zlib level 6, as written)"


def markdown(rows: Sequence[dict], meta: dict, modes: Mapping[str, Sequence[str]]) -> str:
    """The section, between :data:`START` and :data:`END`."""
    present = {r["group"] for r in rows}
    statuses: dict[str, set[str]] = {}
    for r in rows:
        if r["status"] != "ok":
            statuses.setdefault(r["method"], set()).add(f"{r['status']}: {r['reason']}")
    method_rows = [
        [f"`{m}`", _how(m, modes), "; ".join(sorted(statuses.get(m, ()))) or "ok"]
        for m in _methods(rows)
    ]
    image_rows = [
        [
            name,
            info["group"],
            f"{info['shape'][1]} x {info['shape'][0]}",
            f"{info['shape'][0] * info['shape'][1] / 1e6:.2f}",
            info["colors"],
        ]
        for name, info in meta["images"].items()
    ]
    lines = [
        START,
        "## Perceptual quality against file size (SSIMULACRA2)",
        "",
        f"Written by `{meta['command']}` on {meta['date']} in {meta['minutes']:.1f} min "
        f"({meta['workers']} worker process(es); {meta['cached_rows']} of {len(rows)} rows, "
        "the peers', taken from the cache of an earlier run); every row is in "
        "[`bench/perceptual.json`](bench/perceptual.json). "
        f"pngquant {meta['versions']['pngquant']}, imagequant "
        f"{meta['versions']['imagequant']}, Pillow {meta['versions']['pillow']}, "
        f"ssimulacra2 {meta['versions']['ssimulacra2']}. "
        "Every method runs file to file; every written PNG is scored against the "
        "original PNG: SSIMULACRA2 (`compute_ssimulacra2`, on the files as Pillow "
        "decodes them to 8-bit sRGB; 100 = identical, about 70 = hard to tell apart "
        "side by side, 50 = medium, 30 = low, negative = very strong distortion), "
        "its size, MSE per channel in 0-255 units, mean ΔE76 and mean CIEDE2000. "
        "KiB = 1024 bytes. pngquant writes its own file; our command writes its own "
        "(zlib level 6, palette in luma order); libimagequant's and Pillow's palette "
        "images are written by Pillow with `optimize=True` (zlib level 9), with the "
        "peer's palette of at most k entries in its order. "
        f"SSIMULACRA2 took {meta['ssimulacra2_s_per_03mp']:.2f} s per 0.3 MP image "
        "(mean over the run's scores; the machine's 1-minute load average was "
        f"{meta['load'][0]:.1f} at the start and {meta['load'][1]:.1f} at the end).",
        "",
        "Images (at their own size; photos split in halves, tune on the first):",
        "",
        table(["image", "group", "size", "MP", "distinct colours"], image_rows),
        "",
        "### The bars",
        "",
        "Means over each set of images. `*` in the tables below: some images "
        "missing for that method.",
        "",
        verdict_table(rows),
    ]
    for label, groups in SETS.items():
        if not present.intersection(groups):
            continue
        lines += [
            "",
            f"### {label.capitalize()}: mean SSIMULACRA2 (mean KiB)",
            "",
            s2_table(rows, groups),
        ]
    for label in ("all photos", "graphics"):
        if present.intersection(SETS[label]):
            lines += [
                "",
                f"### {label.capitalize()}: mean MSE / ΔE76 / CIEDE2000",
                "",
                error_table(rows, SETS[label]),
            ]
    lines += [
        "",
        "### Rate and distortion",
        "",
        "![Mean file size against mean SSIMULACRA2, one line per method, points at "
        "k = " + ", ".join(str(k) for k in _ks(rows)) + "](bench/perceptual_rd.png)",
        "",
        *(
            [
                "Identical files (same bytes, score and palette at every image and k), "
                "so that the later line hides the earlier: "
                + ", ".join(f"`{a}` and `{b}`" for a, b in same)
                + ".",
                "",
            ]
            if (same := identical_modes(rows))
            else []
        ),
        f"Crops at k={CROP_K}, {meta['crop_size']} x {meta['crop_size']} pixels at 2x, "
        "nearest neighbour, chosen by the benchmark: in each half of the photos, the "
        "window of least gradient energy (mean squared difference of neighbouring "
        "pixels) that is not flat (luma standard deviation at least 2.5 levels), in "
        "the photo where that window is smoothest; then, over all photos, the window "
        f"among the smoothest quarter with the most `{DITHER_BAR[0]}` speckles: "
        "pixels at least twice, and 10 levels, farther from the original than "
        f"`{DITHER_BAR[1]}`'s. Here: "
        + "; ".join(f"{n} at x={x}, y={y} ({why})" for n, y, x, why in meta["crops"])
        + ". Labels: the whole image's SSIMULACRA2 and size.",
        "",
        "![Smooth regions at 2x: original, ours, pngquant](bench/perceptual_crops.png)",
        "",
        "### Methods",
        "",
        table(["method", "how it is called", "status"], method_rows),
        "",
        "Rerun: `python -m benchmarks.perceptual` (the peers' results are cached by "
        "image hash, k and version, so a rerun recomputes only our modes; "
        "`--no-cache` recomputes all). For tuning, see the module's docstring.",
        "",
        END,
    ]
    return "\n".join(lines)


def write_rows(path: Path, *, meta: dict, rows: Sequence[dict]) -> Path:
    """The run as JSON, ``{"meta": ..., "rows": [...]}``: one row a line, floats to 4 decimals."""

    def rounded(row: dict) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}

    body = ",\n".join("  " + json.dumps(rounded(r), ensure_ascii=False) for r in rows)
    text = f'{{"meta": {json.dumps(meta, ensure_ascii=False)},\n "rows": [\n{body}\n]}}\n'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def identical_modes(rows: Sequence[dict]) -> list[tuple[str, str]]:
    """Pairs of our modes that wrote the same files (bytes, score, palette) on every row."""
    ours = [
        m for m in _methods(rows) if any(r["method"] == m and r["family"] == "ours" for r in rows)
    ]
    sig: dict[str, dict] = {}
    for r in rows:
        if r["method"] in ours:
            key = (r["image"], r["k"])
            value = (r["status"], r.get("bytes"), r.get("ssimulacra2"), r.get("palette"))
            sig.setdefault(r["method"], {})[key] = value
    return [
        (a, b)
        for i, a in enumerate(ours)
        for b in ours[i + 1 :]
        if sig[a] == sig[b] and all(v[0] == "ok" for v in sig[a].values())
    ]


# --------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _parse_extra(items: Sequence[str]) -> dict[str, list[str]]:
    out = {}
    for item in items:
        name, sep, args = item.partition("=")
        if not sep or not name.strip():
            raise SystemExit(f"--extra-mode wants NAME=ARGUMENTS, got {item!r}")
        out[name.strip()] = shlex.split(args)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny images, k=16: a smoke run")
    parser.add_argument("--modes", help="comma-separated methods: our modes and peers")
    parser.add_argument(
        "--extra-mode",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help="add one of our modes, e.g. 'kq-perc=--palette perceptual' (repeatable)",
    )
    parser.add_argument("--images", help="comma-separated images or groups")
    parser.add_argument("--ks", help="comma-separated k (default 8,16,32,64,128,256)")
    parser.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="peers' cache folder")
    parser.add_argument("--no-cache", action="store_true", help="recompute the peers too")
    parser.add_argument("--json", type=Path, help="write every row here")
    parser.add_argument("--report", type=Path, help="markdown file whose section to replace")
    parser.add_argument("--figures", type=Path, help="folder for the plot and the crops")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("ssimulacra2") is None:
        print(
            "benchmarks.perceptual needs the ssimulacra2 package (the [bench] extra)",
            file=sys.stderr,
        )
        return 1

    extra = _parse_extra(args.extra_mode)
    modes: dict[str, list[str]] = {**MODES, **extra}
    peers = list(PEERS)
    if args.modes:  # filters the table's modes and the peers; --extra-mode always runs
        wanted = _csv(args.modes)
        unknown = [m for m in wanted if m not in modes and m not in PEERS]
        if unknown:
            parser.error(
                f"unknown method(s) {', '.join(unknown)}; known: {', '.join([*modes, *PEERS])}"
            )
        modes = {m: a for m, a in modes.items() if m in wanted or m in extra}
        peers = [p for p in PEERS if p in wanted]
    try:
        ks = [int(k) for k in _csv(args.ks)] if args.ks else list(QUICK_KS if args.quick else KS)
        images, groups = load_images(_csv(args.images) if args.images else None, args.quick)
    except ValueError as exc:
        parser.error(str(exc))
    full = not (args.quick or args.modes or args.images or args.ks or args.extra_mode)
    docs = REPO / "docs"
    json_path = args.json or (docs / "bench" / "perceptual.json" if full else None)
    report = args.report or (docs / "benchmarks.md" if full else None)
    figures = args.figures or (docs / "bench" if full else None)
    crop_size = CROP_SIZE if not args.quick else 32

    started, load_before = time.perf_counter(), os.getloadavg()[0]
    with _tempdir() as work:
        rows = evaluate(
            images,
            ks=ks,
            modes=modes,
            peers=peers,
            groups=groups,
            workers=args.workers,
            cache=None if args.no_cache else args.cache,
            keep=work,
            log=lambda line: print(line, file=sys.stderr, flush=True),
        )
        picks = crop_choices(images, groups=groups, size=crop_size, rows=rows)
        if figures is not None:
            write_rd_plot(figures / "perceptual_rd.png", rows)
            write_crops(
                figures / "perceptual_crops.png",
                rows=rows,
                images=images,
                picks=picks,
                size=crop_size,
            )
    minutes = (time.perf_counter() - started) / 60
    for r in rows:
        r.pop("output", None)
    scored = [r for r in rows if r["status"] == "ok" and not r.get("cached")]
    per_mp = [r["ssimulacra2_s"] / _mp(images[r["image"]]) for r in scored]
    given = sys.argv[1:] if argv is None else list(argv)
    command = " ".join(["python -m benchmarks.perceptual", *map(shlex.quote, given)])
    meta = {
        "command": command,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "minutes": minutes,
        "cached_rows": sum(bool(r.get("cached")) for r in rows),
        "load": [load_before, os.getloadavg()[0]],
        "workers": args.workers,
        "versions": {
            "pngquant": pngquant_version(),
            "imagequant": _dist_version("imagequant"),
            "pillow": _dist_version("pillow"),
            "ssimulacra2": _dist_version("ssimulacra2"),
        },
        "ssimulacra2_s_per_03mp": 0.3 * float(np.mean(per_mp)) if per_mp else math.nan,
        "images": {
            n: {"group": groups[n], "shape": list(img.shape), "colors": count_colors(img)}
            for n, img in images.items()
        },
        "crop_size": crop_size,
        "crops": [list(p) for p in picks],
        "modes": modes,
    }
    print(summary_tables(rows))
    print(verdict_table(rows))
    if json_path is not None:
        write_rows(json_path, meta=meta, rows=rows)
    if report is not None:
        update_report(report, markdown(rows, meta, modes), start=START, end=END)
    print(f"{len(rows)} rows in {minutes:.1f} min", file=sys.stderr)
    return 0


def _mp(image: NDArray) -> float:
    return image.shape[0] * image.shape[1] / 1e6


if __name__ == "__main__":
    sys.exit(main())
