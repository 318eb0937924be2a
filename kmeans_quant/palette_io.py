"""Palette files: JSON, GIMP ``.gpl`` and PNG swatches.

The format follows the file's extension:

``.json``
    ``{"colors": ["#rrggbb", ...], "counts": [n, ...]}``, the colours as
    hex strings with the pixel count of each (``counts`` may be left out
    when reading).
``.gpl``
    GIMP's palette text format: a ``GIMP Palette`` first line, ``Name:``
    and ``Columns:`` headers, ``#`` comments, then one ``R G B<TAB>name``
    line a colour, with decimal 0-255 values. :func:`save_palette` names
    each colour ``#rrggbb (N px)`` so that the counts survive a round trip;
    palettes from other programs are read with zero counts.
``.png``
    A swatch: a grid of 32 x 32 pixel squares, up to 16 a row, in palette
    order (spare cells of the last row repeat the last colour). The grid
    layout and the counts are kept in a ``kmeans_quant`` text chunk, so a
    swatch written here reads back exactly; any other PNG reads as its
    distinct colours in order of first appearance (row by row), with zero
    counts.

All files hold 8 bits per channel: uint16 palettes are rounded to 8 bits
and float ones (values in [0, 1]) scaled by 255. Grey palettes, shape
``(m, 1)``, are written as grey RGB colours.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._atomic import atomic_write
from ._dtypes import to_uint8
from ._validation import check_palette
from .color_table import pack_colors
from .palette import Palette

__all__ = ["save_palette", "load_palette", "PALETTE_EXTENSIONS"]

#: Extensions :func:`save_palette` and :func:`load_palette` understand.
PALETTE_EXTENSIONS = (".json", ".gpl", ".png")

_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_GPL_COUNT = re.compile(r"\((\d+) px\)\s*$")
_SWATCH_CELL = 32
_SWATCH_COLUMNS = 16
_SWATCH_KEY = "kmeans_quant"


# --------------------------------------------------------------------------
# palette <-> plain arrays
# --------------------------------------------------------------------------


def _colors_counts(palette: Palette | ArrayLike) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """uint8 RGB colours ``(m, 3)`` and int counts ``(m,)`` of any palette argument.

    A bare array has zero counts. Integer arrays are 0-255 (uint16 ones
    0-65535), float arrays [0, 1].
    """
    rgb = to_uint8(check_palette(palette))
    if rgb.shape[1] == 1:
        rgb = np.repeat(rgb, 3, axis=1)
    if isinstance(palette, Palette):
        counts = np.asarray(palette.counts, dtype=np.int64)
    else:
        counts = np.zeros(rgb.shape[0], dtype=np.int64)
    return np.ascontiguousarray(rgb), counts


def _hex(color: NDArray[np.uint8]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in color))


def _make_palette(colors: list, counts: list | None) -> Palette:
    rgb = np.array(colors, dtype=np.uint8).reshape(-1, 3)
    n = np.zeros(len(rgb), np.int64) if counts is None else np.array(counts, np.int64)
    return Palette(rgb, n)


# --------------------------------------------------------------------------
# the three formats
# --------------------------------------------------------------------------


def _write_json(tmp: Path, rgb: NDArray[np.uint8], counts: NDArray[np.int64]) -> None:
    doc = {"colors": [_hex(c) for c in rgb], "counts": [int(n) for n in counts]}
    tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def _read_json(text: str, name: str) -> Palette:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"palette file {name!r} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or "colors" not in doc:
        raise ValueError(f'palette file {name!r} must hold a JSON object with a "colors" list')
    hexes = doc["colors"]
    if not isinstance(hexes, list) or not hexes:
        raise ValueError(f'palette file {name!r}: "colors" must be a non-empty list')
    colors = []
    for i, h in enumerate(hexes):
        if not isinstance(h, str) or not _HEX.fullmatch(h):
            raise ValueError(
                f'palette file {name!r}: colors[{i}] is {h!r}, expected a "#rrggbb" string'
            )
        colors.append([int(h[j : j + 2], 16) for j in (1, 3, 5)])
    counts = doc.get("counts")
    if counts is not None:
        if (
            not isinstance(counts, list)
            or len(counts) != len(colors)
            or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts)
        ):
            raise ValueError(
                f'palette file {name!r}: "counts" must be a list of {len(colors)} '
                f"non-negative integers, got {counts!r:.80}"
            )
    return _make_palette(colors, counts)


def _write_gpl(tmp: Path, rgb: NDArray[np.uint8], counts: NDArray[np.int64], title: str) -> None:
    lines = [
        "GIMP Palette",
        f"Name: {title}",
        f"Columns: {min(len(rgb), _SWATCH_COLUMNS)}",
        "# written by kmeans_quant; names give each colour's pixel count",
    ]
    lines += [
        f"{c[0]:3d} {c[1]:3d} {c[2]:3d}\t{_hex(c)} ({int(n)} px)"
        for c, n in zip(rgb, counts, strict=True)
    ]
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _read_gpl(text: str, name: str) -> Palette:
    lines = text.splitlines()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None or lines[first].strip() != "GIMP Palette":
        got = "nothing" if first is None else repr(lines[first].strip()[:40])
        raise ValueError(
            f"palette file {name!r} is not a GIMP palette: "
            f"the first line must be 'GIMP Palette', got {got}"
        )
    colors, counts = [], []
    for lineno, line in enumerate(lines[first + 1 :], start=first + 2):
        s = line.strip()
        if not s or s.startswith("#") or re.match(r"(Name|Columns)\s*:", s):
            continue
        parts = s.split(None, 3)
        try:
            rgb = [int(v) for v in parts[:3]]
        except ValueError:
            rgb = []
        if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
            raise ValueError(
                f"palette file {name!r}, line {lineno}: expected 'R G B name' with "
                f"values 0-255, got {s[:60]!r}"
            )
        colors.append(rgb)
        m = _GPL_COUNT.search(parts[3]) if len(parts) > 3 else None
        counts.append(int(m.group(1)) if m else None)
    if not colors:
        raise ValueError(f"palette file {name!r} lists no colours")
    return _make_palette(colors, None if None in counts else counts)


def _swatch_indices(m: int) -> tuple[NDArray[np.uint16], int]:
    """Palette index of every swatch pixel, shape ``(rows*32, cols*32)``, and ``cols``."""
    cols = min(m, _SWATCH_COLUMNS)
    rows = -(-m // cols)
    # spare cells repeat the last colour, so no colour outside the palette appears
    cells = np.concatenate([np.arange(m), np.full(rows * cols - m, m - 1)])
    grid = cells.astype(np.uint16).reshape(rows, cols)
    return np.repeat(np.repeat(grid, _SWATCH_CELL, axis=0), _SWATCH_CELL, axis=1), cols


def _write_swatch(tmp: Path, rgb: NDArray[np.uint8], counts: NDArray[np.int64]) -> None:
    from PIL import Image, PngImagePlugin

    m = rgb.shape[0]
    idx, cols = _swatch_indices(m)
    info = PngImagePlugin.PngInfo()
    layout = {"n": m, "columns": cols, "cell": _SWATCH_CELL, "counts": [int(n) for n in counts]}
    info.add_text(_SWATCH_KEY, json.dumps(layout))
    h, w = idx.shape
    if m <= 256:  # palette mode: the pixels index the palette itself
        im = Image.frombytes("P", (w, h), idx.astype(np.uint8).tobytes())
        im.putpalette(rgb.tobytes(), rawmode="RGB")
    else:
        im = Image.frombytes("RGB", (w, h), np.ascontiguousarray(rgb[idx]).tobytes())
    im.save(tmp, format="PNG", pnginfo=info, optimize=True)


def _read_swatch(path: Path, name: str) -> Palette:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            text = dict(getattr(im, "text", {}) or {})
            rgb = np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValueError(f"palette file {name!r} is not a readable PNG: {exc}") from None
    layout = None
    if _SWATCH_KEY in text:
        try:
            layout = json.loads(text[_SWATCH_KEY])
            n, cols, cell = int(layout["n"]), int(layout["columns"]), int(layout["cell"])
            counts = layout["counts"]
            rows = -(-n // cols)
            ok = (
                n >= 1
                and cols >= 1
                and cell >= 1
                and len(counts) == n
                and rgb.shape[0] >= rows * cell
                and rgb.shape[1] >= cols * cell
            )
        except (ValueError, KeyError, TypeError, ZeroDivisionError):
            ok = False
        if not ok:
            raise ValueError(
                f"palette file {name!r}: its {_SWATCH_KEY!r} layout note does not fit the image"
            )
        k = np.arange(n)
        centres = rgb[(k // cols) * cell + cell // 2, (k % cols) * cell + cell // 2]
        return _make_palette(centres.tolist(), [int(c) for c in counts])
    # any other PNG: its distinct colours in order of first appearance
    flat = rgb.reshape(-1, 3)
    _, first = np.unique(pack_colors(flat), return_index=True)
    return _make_palette(flat[np.sort(first)].tolist(), None)


# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------


def _extension(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in PALETTE_EXTENSIONS:
        raise ValueError(
            f"unknown palette file type {path.suffix or '(none)'!r} for {str(path)!r}; "
            f"use one of {', '.join(PALETTE_EXTENSIONS)}"
        )
    return ext


def save_palette(
    palette: Palette | ArrayLike, path: str | os.PathLike, *, force: bool = False
) -> Path:
    """Write a palette to a JSON, GIMP ``.gpl`` or PNG swatch file.

    The format follows the extension (see the module docstring for each
    layout). The file is written atomically: through a temporary file in
    the same folder that is renamed into place.

    Parameters
    ----------
    palette : Palette or array_like, shape (m, 3) or (m, 1)
        A :class:`~kmeans_quant.image.Palette` (colours and counts), or
        bare colours (counts then 0): integers in 0-255 (uint16 arrays
        0-65535), floats in [0, 1].
    path : str or os.PathLike
        Destination ending in ``.json``, ``.gpl`` or ``.png``.
    force : bool, default False
        Overwrite ``path`` if it exists.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        Unknown extension; colours of a wrong shape or out of range.
    TypeError
        ``palette`` is not a palette or numeric array.
    FileExistsError
        ``path`` exists and ``force`` is False.
    FileNotFoundError
        The destination folder does not exist.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from kmeans_quant import Palette
    >>> from kmeans_quant.palette_io import save_palette
    >>> pal = Palette(np.array([[200, 30, 30], [0, 0, 0]], np.uint8), np.array([12, 4]))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = save_palette(pal, os.path.join(d, "cat.json"))
    ...     print(path.read_text())
    {
     "colors": [
      "#c81e1e",
      "#000000"
     ],
     "counts": [
      12,
      4
     ]
    }
    """
    dest = Path(os.fspath(path))
    ext = _extension(dest)
    rgb, counts = _colors_counts(palette)
    if ext == ".json":
        atomic_write(dest, lambda tmp: _write_json(tmp, rgb, counts), force=force)
    elif ext == ".gpl":
        atomic_write(
            dest, lambda tmp: _write_gpl(tmp, rgb, counts=counts, title=dest.stem), force=force
        )
    else:
        atomic_write(dest, lambda tmp: _write_swatch(tmp, rgb, counts), force=force)
    return dest


def load_palette(path: str | os.PathLike) -> Palette:
    """Read a palette from a JSON, GIMP ``.gpl`` or PNG swatch file.

    Parameters
    ----------
    path : str or os.PathLike
        A file ending in ``.json``, ``.gpl`` or ``.png``.

    Returns
    -------
    Palette
        ``colors`` uint8 of shape (m, 3) in file order, ``counts`` int64 of
        shape (m,): the stored counts, or zeros when the file has none (a
        palette from another program), in which case ``proportions`` is
        undefined.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        Unknown extension, or a malformed file; the message names the file
        and the problem (line number for ``.gpl``, entry for ``.json``).

    Examples
    --------
    >>> import tempfile, os
    >>> from kmeans_quant.palette_io import load_palette
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "two.gpl")
    ...     with open(path, "w") as f:
    ...         _ = f.write("GIMP Palette\\nName: two\\n#\\n255 0 0\\tred\\n0 0 255\\tblue\\n")
    ...     pal = load_palette(path)
    >>> pal.colors
    array([[255,   0,   0],
           [  0,   0, 255]], dtype=uint8)
    >>> pal.counts
    array([0, 0])
    """
    src = Path(os.fspath(path))
    name = str(src)
    ext = _extension(src)
    if not src.exists():
        raise FileNotFoundError(f"no such palette file: {name!r}")
    if src.is_dir():
        raise IsADirectoryError(f"expected a palette file, got the folder {name!r}")
    if ext == ".png":
        return _read_swatch(src, name)
    try:
        text = src.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"palette file {name!r} is not UTF-8 text") from None
    return _read_json(text, name) if ext == ".json" else _read_gpl(text, name)
