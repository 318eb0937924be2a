"""
Dithering: worse pixels, better local averages
==============================================

With few colours, smooth gradients turn into bands. ``dither=`` mixes the
palette colours in a fine pattern so that small areas average to about the
right colour: Floyd–Steinberg error diffusion, or ordered (Bayer) dithering.
A crop of the blurred background, with 8 colours, enlarged.
"""

from importlib.resources import files

import imageio.v3 as iio
import matplotlib.pyplot as plt

from kmeans_quant import quantize

img = iio.imread(files("kmeans_quant") / "data" / "chelsea.png")
crop = (slice(0, 72), slice(0, 72))

fig, axes = plt.subplots(1, 4, figsize=(9, 2.6))
for ax, dither in zip(axes, (None, "none", "floyd-steinberg", "ordered"), strict=True):
    shown = img if dither is None else quantize(img, 8, dither=dither)
    ax.imshow(shown[crop], interpolation="nearest")
    ax.set_title("original" if dither is None else f'dither="{dither}"')
    ax.axis("off")
fig.tight_layout()
plt.show()
