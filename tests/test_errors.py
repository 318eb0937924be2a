"""Every bad input raises a ValueError/TypeError that names the problem."""

from __future__ import annotations

import re

import numpy as np
import pytest

from kmeans_quant import (
    assign_labels,
    extract_palette,
    kmeans,
    kmeans_plusplus,
    kmeans_steps,
    quantize,
    recolor,
    squared_distances,
    update_centers,
)

IMG = np.zeros((4, 4, 3), dtype=np.uint8)
X = np.arange(12, dtype=np.float64).reshape(6, 2)


# ------------------------------------------------------------------ k


@pytest.mark.parametrize("func", [quantize, extract_palette])
@pytest.mark.parametrize(
    "k, exc",
    [
        (0, ValueError),
        (-3, ValueError),
        (2.5, TypeError),
        ("8", TypeError),
        (None, TypeError),
        (True, TypeError),
        (np.float64(4), TypeError),
    ],
)
def test_bad_k_image(func, k, exc):
    with pytest.raises(
        exc,
        match=r"k must be a positive integer, got "
        + repr(k).replace("(", r"\(").replace(")", r"\)").replace(".", r"\."),
    ):
        func(IMG, k)


@pytest.mark.parametrize("k", [0, -1, 1.5, "2", None, False])
def test_bad_k_engine(k):
    with pytest.raises((ValueError, TypeError), match="k must be a positive integer"):
        kmeans(X, k)


def test_numpy_integer_k_is_fine():
    assert quantize(IMG, np.int64(3)).shape == IMG.shape


def test_k_larger_than_n_samples():
    with pytest.raises(ValueError, match=r"k=7 must not exceed n_samples=6"):
        kmeans(X, 7)
    with pytest.raises(ValueError, match=r"k=7 must not exceed n_samples=6"):
        kmeans_plusplus(X, 7)


# ------------------------------------------------------------------ images


@pytest.mark.parametrize("bad", [None, [[1, 2], [3, 4]], "img.png", 3])
def test_non_array_image(bad):
    with pytest.raises(
        TypeError, match=r"image must be a numpy.ndarray .* got " + type(bad).__name__
    ):
        quantize(bad, 2)


@pytest.mark.parametrize("shape", [(4,), (2, 2, 2), (2, 2, 5), (2, 2, 3, 1)])
def test_wrong_shape(shape):
    with pytest.raises(
        ValueError,
        match=r"shape \(H, W\), \(H, W, 3\) or \(H, W, 4\), got "
        + str(shape).replace("(", r"\(").replace(")", r"\)"),
    ):
        quantize(np.zeros(shape, dtype=np.uint8), 2)


@pytest.mark.parametrize("shape", [(0, 5, 3), (3, 0), (0, 0, 4)])
def test_empty_image(shape):
    with pytest.raises(ValueError, match="image is empty, got shape"):
        extract_palette(np.zeros(shape, dtype=np.uint8), 2)


@pytest.mark.parametrize("dtype", [object, np.complex128, "U3", np.int64, np.int8, bool, np.uint32])
def test_unsupported_dtype(dtype):
    img = np.zeros((3, 3, 3), dtype=dtype)
    with pytest.raises(
        TypeError,
        match=r"image dtype must be uint8, uint16 or float .* got "
        + re.escape(str(np.dtype(dtype))),
    ):
        quantize(img, 2)


def test_signed_int_image_gets_a_hint():
    with pytest.raises(TypeError, match=r"astype\(np.uint8\)"):
        quantize(np.zeros((3, 3, 3), dtype=np.int64), 2)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_image(value):
    img = np.zeros((3, 3, 3))
    img[1, 1, 0] = value
    with pytest.raises(ValueError, match="image contains NaN or infinite values"):
        quantize(img, 2)


def test_float_image_in_0_255_says_so():
    img = np.full((3, 3, 3), 200.0)
    with pytest.raises(ValueError, match=r"\[0, 1\], got range \[200, 200\].*0-255 data"):
        quantize(img, 2)


def test_negative_float_image():
    img = np.full((3, 3), -0.5)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\], got range \[-0.5, -0.5\]"):
        quantize(img, 2)


# ------------------------------------------------------------------ rng, tol, max_iter


@pytest.mark.parametrize("rng", ["seed", 1.5, True, [1, 2]])
def test_bad_rng_type(rng):
    with pytest.raises(
        TypeError, match="rng must be None, an int seed or a numpy.random.Generator, got"
    ):
        quantize(IMG, 2, rng=rng)


def test_negative_seed():
    with pytest.raises(ValueError, match="rng seed must be non-negative, got -1"):
        kmeans(X, 2, rng=-1)


@pytest.mark.parametrize("tol, exc", [(-1, ValueError), (np.nan, ValueError), ("0", TypeError)])
def test_bad_tol(tol, exc):
    with pytest.raises(exc, match="tol must be a non-negative"):
        kmeans(X, 2, tol=tol)


@pytest.mark.parametrize(
    "relax, exc",
    [(0.5, ValueError), (9, ValueError), (np.inf, ValueError), (True, TypeError), ("2", TypeError)],
)
def test_bad_relax(relax, exc):
    with pytest.raises(exc, match=r"relax must .*\[1, 8\]"):
        kmeans(X, 2, relax=relax)


@pytest.mark.parametrize("max_iter", [0, 2.0])
def test_bad_max_iter(max_iter):
    with pytest.raises((ValueError, TypeError), match="max_iter must be a positive integer"):
        quantize(IMG, 2, max_iter=max_iter)


# ------------------------------------------------------------------ engine data


@pytest.mark.parametrize(
    "bad, exc, msg",
    [
        (None, TypeError, "got None"),
        (
            np.array([1 + 2j, 3j]).reshape(2, 1),
            TypeError,
            "real numbers, got an array of dtype complex128",
        ),
        (np.array([["a"], ["b"]]), TypeError, "real numbers"),
        (np.arange(5.0), ValueError, r"2-D of shape \(n_samples, n_features\), got shape \(5,\)"),
        (np.zeros((0, 3)), ValueError, r"X is empty, got shape \(0, 3\)"),
        (np.array([[1.0], [np.nan]]), ValueError, "NaN or infinite"),
    ],
)
def test_bad_data(bad, exc, msg):
    with pytest.raises(exc, match=msg):
        kmeans(bad, 1)


def test_bad_sample_weight():
    with pytest.raises(
        ValueError, match=r"sample_weight must have shape \(6,\) to match X, got shape \(5,\)"
    ):
        kmeans(X, 2, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="sample_weight must be non-negative, got minimum -1"):
        kmeans(X, 2, sample_weight=[1, 1, 1, 1, 1, -1])
    with pytest.raises(ValueError, match="at least one positive"):
        kmeans(X, 2, sample_weight=np.zeros(6))
    with pytest.raises(ValueError, match="sample_weight contains NaN"):
        kmeans(X, 2, sample_weight=[1, 1, 1, 1, 1, np.nan])
    with pytest.raises(TypeError, match="sample_weight must hold real numbers, got dtype <U1"):
        kmeans(X, 2, sample_weight=list("abcdef"))


def test_bad_init():
    with pytest.raises(
        ValueError,
        match=r"init must be 'k-means\+\+', 'random' or an array of centres, got 'kmeans'",
    ):
        kmeans(X, 2, init="kmeans")
    with pytest.raises(
        ValueError, match=r"init centres must have shape \(k, n_features\) = \(2, 2\), got \(3, 2\)"
    ):
        kmeans(X, 2, init=X[:3])
    with pytest.raises(
        ValueError, match="init='random' needs at least k=3 points of positive weight, got 2"
    ):
        kmeans(X, 3, init="random", sample_weight=[1, 1, 0, 0, 0, 0])


def test_kmeans_steps_checks_before_first_record():
    with pytest.raises(ValueError, match="k must be a positive integer"):
        kmeans_steps(X, 0)


def test_bad_step_function_input():
    with pytest.raises(
        ValueError, match=r"centers must have 2 features to match X, got shape \(1, 3\)"
    ):
        squared_distances(X, [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"centers must have 2 features"):
        assign_labels(X, [[1.0]])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\), got range \[0, 5\]"):
        update_centers(X, [0, 1, 2, 3, 4, 5], 2)
    with pytest.raises(ValueError, match=r"labels must be integers of shape \(6,\)"):
        update_centers(X, [0.0] * 6, 2)
    with pytest.raises(ValueError, match=r"min_sq_dist must have shape \(6,\), got \(2,\)"):
        update_centers(X, [0] * 6, 2, min_sq_dist=[1.0, 2.0])


# ------------------------------------------------------------------ palettes


def test_bad_palettes():
    with pytest.raises(TypeError, match="palette must be a Palette or an array of shape"):
        recolor(IMG, None)
    with pytest.raises(
        ValueError,
        match=r"palette must have shape \(m, 3\) with m >= 1 for this image, got \(2, 4\)",
    ):
        recolor(IMG, np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"palette must have shape \(m, 3\)"):
        recolor(IMG, np.zeros((0, 3)))
    with pytest.raises(
        ValueError,
        match=r"palette values must lie in \[0, 255\] for a uint8 image, got range \[0, 300\]",
    ):
        recolor(IMG, [[0, 0, 0], [300, 0, 0]])
    with pytest.raises(
        ValueError, match=r"palette values must lie in \[0, 1\] for a float64 image"
    ):
        recolor(IMG / 255.0, [[0, 0, 255]])
    with pytest.raises(ValueError, match="palette contains NaN"):
        recolor(IMG, [[0, 0, np.nan]])
    with pytest.raises(TypeError, match="palette must hold real numbers, got dtype <U"):
        recolor(IMG, [["a", "b", "c"]])
