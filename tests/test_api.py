"""The public boundary: what the package exports, and how its modules import each other.

The layering rules are read from the source with :mod:`ast`: a name that
starts with an underscore never crosses a module line, and a module whose
path has no underscore (a public module) is imported from only for the
names in its ``__all__``.
"""

from __future__ import annotations

import ast
import functools
import importlib
from pathlib import Path

import numpy as np
import pytest

import kmeans_quant
from kmeans_quant import extract_palette
from kmeans_quant.palette import Palette, by_count

PACKAGE = Path(kmeans_quant.__file__).parent

# Imports that cross into a public module for a name outside its __all__,
# still to be given a home: the application's per-file job module (it has
# no __all__ yet) and quantize_frames' place in kmeans_quant.frames.
UNSETTLED = {("kmeans_quant.job", None), ("kmeans_quant.frames", "quantize_frames")}


@functools.cache
def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_private(module: str) -> bool:
    return any(part.startswith("_") for part in module.split(".")[1:])


def _all(path: Path) -> list[str] | None:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    return None


@functools.cache
def _imports() -> list[tuple[str, str, str]]:
    """(importing module, imported module, name) for every ``from kmeans_quant... import``."""
    modules = _modules()
    found = []
    for module, path in modules.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("kmeans_quant"):
                continue
            for alias in node.names:
                if f"{target}.{alias.name}" not in modules:  # a name, not a submodule
                    found.append((module, target, alias.name))
    return found


def test_the_layering_rules_find_the_imports():
    # The reader above sees the package's own imports (or the rules would pass vacuously).
    pairs = {(target, name) for _, target, name in _imports()}
    assert ("kmeans_quant.engine._lloyd", "FitSettings") in pairs
    assert ("kmeans_quant._validation", "check_weighted_data") in pairs


def test_no_underscore_name_crosses_a_module_line():
    crossing = [
        f"{module} imports {name} from {target}"
        for module, target, name in _imports()
        if name.startswith("_") and not name.startswith("__")
    ]
    assert crossing == []


def test_public_modules_are_imported_from_for_their_public_names_only():
    modules = _modules()
    outside = []
    for module, target, name in _imports():
        if _is_private(target) or target not in modules or name.startswith("__"):
            continue
        if (target, None) in UNSETTLED or (target, name) in UNSETTLED:
            continue
        public = _all(modules[target])
        if public is None or name not in public:
            outside.append(f"{module} imports {name} from {target}")
    assert outside == []


def test_every_name_in_every_all_exists():
    for module in _modules():
        if module.endswith("conftest"):
            continue
        mod = importlib.import_module(module)
        for name in getattr(mod, "__all__", []):
            assert hasattr(mod, name), f"{module}.__all__ lists {name}, which it lacks"


def test_top_level_names_are_loaded_from_their_homes():
    assert sorted(kmeans_quant.__all__) == sorted(kmeans_quant._HOME)
    for name in kmeans_quant.__all__:
        home = importlib.import_module(f"kmeans_quant.{kmeans_quant._HOME[name]}")
        assert getattr(kmeans_quant, name) is getattr(home, name)
        assert name in home.__all__ or (home.__name__, name) in UNSETTLED


def test_what_public_functions_raise_and_return_is_exported():
    # quantize and choose_k raise QualityTooLow carrying a QualityChoice.
    assert issubclass(kmeans_quant.QualityTooLow, ValueError)
    assert kmeans_quant.QualityChoice._fields == ("k", "mse", "quality")


# ------------------------------------------------------------------ by_count


def test_by_count_orders_most_frequent_first_ties_in_given_order():
    colors = np.array([[1], [2], [3], [4]], np.uint8)
    pal = by_count(colors, [2, 5, 2, 0], alpha=[10, 20, 30, 40])
    assert isinstance(pal, Palette)
    assert pal.colors.ravel().tolist() == [2, 1, 3, 4]
    assert pal.counts.tolist() == [5, 2, 2, 0] and pal.counts.dtype == np.int64
    assert pal.alpha.tolist() == [20, 10, 30, 40]


def test_by_count_gives_extract_palette_order():
    img = np.zeros((1, 7, 3), np.uint8)  # 4 black pixels, 2 grey, 1 light
    img[0, :1] = 200
    img[0, 1:3] = 90
    pal = extract_palette(img, 4)
    shuffled = by_count(pal.colors[::-1], pal.counts[::-1])
    np.testing.assert_array_equal(shuffled.colors, pal.colors)


@pytest.mark.parametrize(
    "colors, counts, alpha, match",
    [
        (np.zeros(3), [1, 1, 1], None, r"colors must have shape \(m, c\), got \(3,\)"),
        (
            np.zeros((3, 3)),
            [1, 1],
            None,
            r"counts must have shape \(3,\), one per colour, got \(2,\)",
        ),
        (np.zeros((2, 3)), [1, -4], None, r"counts must be non-negative whole numbers, got -4"),
        (np.zeros((2, 3)), [1, 2.5], None, r"counts must be non-negative whole numbers, got 2.5"),
        (
            np.zeros((2, 3)),
            [1, 2],
            [9],
            r"alpha must have shape \(2,\), one per colour, got \(1,\)",
        ),
    ],
)
def test_by_count_errors(colors, counts, alpha, match):
    with pytest.raises(ValueError, match=match):
        by_count(colors, counts, alpha)
