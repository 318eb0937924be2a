"""The general K-Means engine, on any ``(n_samples, n_features)`` data.

This folder is the algorithm on its own, with no images in it; read it in
this order:

* :mod:`._steps` — the two steps of Lloyd's algorithm: the assignment
  (:func:`squared_distances`, :func:`assign_labels`) and the update
  (:func:`update_centers`);
* :mod:`._seeding` — greedy k-means++ starts (:func:`kmeans_plusplus`,
  Arthur & Vassilvitskii, 2007);
* :mod:`._lloyd` — the loop and its convergence rule (:func:`kmeans`, and
  :func:`kmeans_steps`, the same loop one iteration at a time);
* :mod:`._starts` — several runs from starts drawn together, used by the
  image pipeline;
* :mod:`._threads` — how many threads large steps use
  (:func:`thread_limit`, :func:`get_num_threads`, ``KMEANS_QUANT_NUM_THREADS``).

Its plain-loops twin, held equal to it by the tests, is
:mod:`kmeans_quant.naive`.
"""

from ._lloyd import DuplicateCentersWarning, KMeansResult, KMeansStep, kmeans, kmeans_steps
from ._seeding import kmeans_plusplus
from ._steps import assign_labels, squared_distances, update_centers
from ._threads import get_num_threads, thread_limit

# In the order of the folder's reading list above.
__all__ = [
    "squared_distances",
    "assign_labels",
    "update_centers",
    "kmeans_plusplus",
    "kmeans",
    "kmeans_steps",
    "KMeansResult",
    "KMeansStep",
    "DuplicateCentersWarning",
    "thread_limit",
    "get_num_threads",
]
