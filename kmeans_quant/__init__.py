"""kmeans_quant: colour quantization with a from-scratch, vectorized K-Means.

The image API (:func:`quantize`, :func:`extract_palette`, :func:`recolor`)
sits on a general K-Means engine (:func:`kmeans`, :func:`kmeans_plusplus`,
:func:`kmeans_steps`) built from public step functions
(:func:`squared_distances`, :func:`assign_labels`, :func:`update_centers`).
Only NumPy (and imageio, for files) is needed.
"""

from .engine import DuplicateCentersWarning, KMeansResult, KMeansStep, kmeans, kmeans_steps
from .histogram import ColorHistogram
from .image import choose_k, extract_palette, fit_palette, quantize, recolor
from .palette import Palette
from .seeding import kmeans_plusplus
from .steps import assign_labels, squared_distances, update_centers

__version__ = "0.1.0"

__all__ = [
    "quantize",
    "extract_palette",
    "recolor",
    "fit_palette",
    "choose_k",
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
]
