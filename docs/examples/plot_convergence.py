"""
Watch the objective fall with kmeans_steps
==========================================

:func:`kmeans_quant.kmeans_steps` hands out every iteration of the loop that
:func:`kmeans_quant.kmeans` runs. Fitting the photo's distinct colours,
weighted by their pixel counts, gives the same objective as fitting every
pixel. Plain Lloyd (``relax=1``) is drawn against over-relaxed updates
(``relax=3``) from the same k-means++ start.
"""

from importlib.resources import files

import imageio.v3 as iio
import matplotlib.pyplot as plt
import numpy as np

from kmeans_quant import kmeans_plusplus, kmeans_steps

img = iio.imread(files("kmeans_quant") / "data" / "chelsea.png")
colors, counts = np.unique(img.reshape(-1, 3), axis=0, return_counts=True)
colors = colors.astype(np.float64)
start = kmeans_plusplus(colors, 16, sample_weight=counts, rng=0)
n3 = 3 * counts.sum()

fig, ax = plt.subplots(figsize=(6, 3.6))
for relax in (1, 3):
    steps = list(kmeans_steps(colors, 16, sample_weight=counts, init=start, relax=relax))
    ax.plot(
        [s.iteration for s in steps],
        [s.inertia / n3 for s in steps],
        "o-",
        ms=3,
        label=f"relax={relax}: {steps[-1].iteration} updates",
    )
ax.set_xlabel("iteration")
ax.set_ylabel("MSE per channel")
ax.set_title("k = 16 on the photo's colours")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()
