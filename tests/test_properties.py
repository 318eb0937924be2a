"""Property-based tests on random small images (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

from kmeans_quant import (  # noqa: E402
    DuplicateCentersWarning,
    extract_palette,
    kmeans,
    quantize,
    recolor,
)

images = st.tuples(st.integers(1, 12), st.integers(1, 12), st.sampled_from([None, 3, 4])).flatmap(
    lambda s: arrays(np.uint8, s[:2] if s[2] is None else s, elements=st.integers(0, 255))
)
SETTINGS = settings(max_examples=60, deadline=None)


def colour_rows(img: np.ndarray, c: int) -> set[tuple]:
    return {tuple(r) for r in img.reshape(-1, img.shape[2] if img.ndim == 3 else 1)[:, :c]}


@SETTINGS
@given(img=images, k=st.integers(1, 9), seed=st.integers(0, 2**32 - 1))
def test_quantize_properties(img, k, seed):
    out = quantize(img, k, rng=seed)
    pal = extract_palette(img, k, rng=seed)
    c = pal.colors.shape[1]
    assert out.shape == img.shape and out.dtype == img.dtype
    assert len(pal) <= k
    n_pixels = img.shape[0] * img.shape[1]
    if img.ndim == 3 and img.shape[2] == 4 and (img[..., 3] > 0).any():
        # Fully transparent pixels neither pull the palette nor count.
        assert pal.counts.sum() == (img[..., 3] > 0).sum()
        assert (pal.counts >= 0).all()
    else:
        assert pal.counts.sum() == n_pixels
        assert (pal.counts > 0).all()
    assert (np.diff(pal.counts) <= 0).all()
    assert colour_rows(out, c) == {tuple(r) for r in pal.colors}
    np.testing.assert_array_equal(recolor(img, pal), out)
    if img.ndim == 3 and img.shape[2] == 4:
        np.testing.assert_array_equal(out[..., 3], img[..., 3])


@SETTINGS
@given(img=images, k=st.integers(1, 9))
def test_quantize_never_worse_than_one_colour(img, k):
    # More colours can only help: k colours fit at least as well as k=1.
    base = img.astype(float)
    one = ((quantize(img, 1).astype(float) - base) ** 2).sum()
    many = ((quantize(img, k).astype(float) - base) ** 2).sum()
    # Rounding centres to integers may cost up to 0.75 per pixel over the mean.
    assert many <= one + 0.75 * base.size + 1e-9


@SETTINGS
@given(
    X=arrays(
        np.float64,
        st.tuples(st.integers(2, 40), st.integers(1, 4)),
        elements=st.floats(-1e3, 1e3, allow_nan=False),
    ),
    k=st.integers(1, 6),
    seed=st.integers(0, 1000),
)
def test_kmeans_properties(X, k, seed):
    k = min(k, len(X))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = kmeans(X, k, rng=seed)
    # A warning exactly when the centres are not all distinct.
    distinct = len(np.unique(res.centers, axis=0))
    assert any(issubclass(w.category, DuplicateCentersWarning) for w in caught) == (distinct < k)
    assert res.centers.shape == (k, X.shape[1]) and np.isfinite(res.centers).all()
    assert res.labels.shape == (len(X),) and res.labels.min() >= 0 and res.labels.max() < k
    d2 = ((X - res.centers[res.labels]) ** 2).sum(axis=1)
    all_d2 = ((X[:, None, :] - res.centers[None]) ** 2).sum(axis=2)
    # Labels are the nearest centres (up to round-off in the expanded formula).
    scale = 1e-9 * (1 + (X**2).sum(axis=1).max())
    assert (d2 <= all_d2.min(axis=1) + scale).all()
    assert res.inertia == pytest.approx(d2.sum(), rel=1e-9, abs=scale * len(X))
