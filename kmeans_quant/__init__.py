"""kmeans_quant: colour quantization with a from-scratch, vectorized K-Means.

The image API (:func:`quantize`, :func:`extract_palette`, :func:`recolor`)
sits on a general K-Means engine (:func:`kmeans`, :func:`kmeans_plusplus`,
:func:`kmeans_steps`) built from public step functions
(:func:`squared_distances`, :func:`assign_labels`, :func:`update_centers`).
Only NumPy (and imageio, for files) is needed.

The names below are loaded on first use (PEP 562), so that importing a
submodule such as :mod:`kmeans_quant.cli` does not load all the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

# Public name -> the module that defines it.
_HOME = {
    "quantize": "image",
    "extract_palette": "image",
    "recolor": "image",
    "fit_palette": "image",
    "choose_k": "image",
    "quantize_frames": "frames",
    "ColorHistogram": "histogram",
    "Palette": "palette",
    "QualityChoice": "quality",
    "QualityTooLow": "quality",
    "kmeans": "engine",
    "kmeans_plusplus": "engine",
    "kmeans_steps": "engine",
    "KMeansResult": "engine",
    "KMeansStep": "engine",
    "DuplicateCentersWarning": "engine",
    "squared_distances": "engine",
    "assign_labels": "engine",
    "update_centers": "engine",
    "thread_limit": "engine",
    "get_num_threads": "engine",
}

__all__ = [
    "quantize",
    "quantize_frames",
    "extract_palette",
    "recolor",
    "fit_palette",
    "choose_k",
    "QualityChoice",
    "QualityTooLow",
    "ColorHistogram",
    "Palette",
    "kmeans",
    "kmeans_plusplus",
    "kmeans_steps",
    "KMeansResult",
    "KMeansStep",
    "DuplicateCentersWarning",
    "squared_distances",
    "assign_labels",
    "update_centers",
    "thread_limit",
    "get_num_threads",
]

if TYPE_CHECKING:
    from .engine import (
        DuplicateCentersWarning,
        KMeansResult,
        KMeansStep,
        assign_labels,
        get_num_threads,
        kmeans,
        kmeans_plusplus,
        kmeans_steps,
        squared_distances,
        thread_limit,
        update_centers,
    )
    from .frames import quantize_frames
    from .histogram import ColorHistogram
    from .image import choose_k, extract_palette, fit_palette, quantize, recolor
    from .palette import Palette
    from .quality import QualityChoice, QualityTooLow


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
