"""The image pipeline behind :mod:`kmeans_quant.image` (private).

Lowest level first: :mod:`.space` (the space colours are fitted in),
:mod:`.palette_fit` (the coarse-to-fine K-Means on a colour table),
:mod:`.alpha_fit` (palettes in premultiplied RGBA) and :mod:`.pipeline`
(colour tables in, palettes fitted and mapped, pixels painted or dithered).
"""
