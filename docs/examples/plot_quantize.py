"""
Quantize a photo to k colours
=============================

:func:`kmeans_quant.quantize` fits a K-Means palette of ``k`` colours to the
photo and replaces every pixel by its nearest palette colour. The titles
give the mean squared error per channel and the PSNR.
"""

from importlib.resources import files

import imageio.v3 as iio
import matplotlib.pyplot as plt
import numpy as np

from kmeans_quant import quantize

img = iio.imread(files("kmeans_quant") / "data" / "chelsea.png")

fig, axes = plt.subplots(2, 2, figsize=(8, 5.6))
for ax, k in zip(axes.flat, (None, 4, 16, 64), strict=True):
    shown = img if k is None else quantize(img, k)
    mse = np.mean((shown.astype(np.float64) - img) ** 2)
    title = (
        "original"
        if k is None
        else (f"k = {k}: MSE {mse:.1f}, PSNR {10 * np.log10(255**2 / mse):.1f} dB")
    )
    ax.imshow(shown)
    ax.set_title(title)
    ax.axis("off")
fig.tight_layout()
plt.show()
