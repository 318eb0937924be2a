"""
Extract a palette and reuse it
==============================

:func:`kmeans_quant.extract_palette` returns the colours with their pixel
counts, most frequent first. Drawn with widths by share of pixels, then used
by :func:`kmeans_quant.recolor` on a different picture: the photo's negative,
which the palette fits badly.
"""

from importlib.resources import files

import imageio.v3 as iio
import matplotlib.pyplot as plt
import numpy as np

from kmeans_quant import extract_palette, recolor

img = iio.imread(files("kmeans_quant") / "data" / "chelsea.png")
palette = extract_palette(img, 8)
shares = palette.counts / palette.counts.sum()

fig, (top, left, right) = plt.subplots(
    3, 1, figsize=(6, 7.5), gridspec_kw={"height_ratios": [0.4, 2, 2]}
)
edges = np.concatenate([[0], np.cumsum(shares)])
for colour, x0, x1 in zip(palette.colors, edges[:-1], edges[1:], strict=True):
    top.axvspan(x0, x1, color=np.asarray(colour) / 255)
top.set_xlim(0, 1)
top.set_axis_off()
top.set_title("8 colours, widths by share of pixels")
left.imshow(recolor(img, palette))
left.set_title("the photo, recoloured")
right.imshow(recolor(255 - img, palette))
right.set_title("its negative, with the same palette")
for ax in (left, right):
    ax.axis("off")
fig.tight_layout()
plt.show()
