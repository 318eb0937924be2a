"""kmeans_quant.metrics against direct NumPy formulas, in bands of any size."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kmeans_quant import metrics
from kmeans_quant.colorspace import delta_e_76, srgb_to_lab


def _image(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.random(shape).astype(dtype)
    return rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)


LAYOUTS = [(13, 17), (13, 17, 3), (13, 17, 4)]
DTYPES = [np.uint8, np.uint16, np.float32]


@pytest.fixture(params=[1 << 20, 7, 64], ids=["one-band", "tiny-bands", "small-bands"])
def band(request, monkeypatch):
    monkeypatch.setattr(metrics, "_BAND_VALUES", request.param)
    return request.param


@pytest.mark.parametrize("shape", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_mse_and_psnr_equal_the_direct_formula(shape, dtype, band):
    a, b = _image(shape, dtype, 1), _image(shape, dtype, 2)
    ca = a if a.ndim == 2 else a[..., :3]  # alpha is not compared
    cb = b if b.ndim == 2 else b[..., :3]
    direct = float(np.mean((ca.astype(np.float64) - cb.astype(np.float64)) ** 2))
    assert metrics.mse(a, b) == pytest.approx(direct, rel=1e-12)
    peak = 1.0 if np.dtype(dtype).kind == "f" else float(np.iinfo(dtype).max)
    assert metrics.psnr(a, b) == pytest.approx(10 * math.log10(peak**2 / direct), rel=1e-12)
    assert metrics.mse(a, a) == 0.0 and metrics.psnr(a, a) == math.inf


def test_alpha_is_ignored():
    a = _image((6, 5, 4), np.uint8)
    b = a.copy()
    b[..., 3] = 255 - b[..., 3]
    assert metrics.mse(a, b) == 0.0


@pytest.mark.parametrize("shape", [(9, 11), (9, 11, 3)])
def test_mean_delta_e_equals_the_direct_formula(shape, band):
    a, b = _image(shape, np.uint8, 3), _image(shape, np.uint8, 4)
    ra, rb = (a, b) if a.ndim == 3 else (np.dstack([a] * 3), np.dstack([b] * 3))
    direct = delta_e_76(srgb_to_lab(ra / 255.0), srgb_to_lab(rb / 255.0)).mean()
    assert metrics.mean_delta_e76(a, b) == pytest.approx(direct, rel=1e-12)


@pytest.mark.parametrize("shape", [(24, 40), (29, 43, 3)])
def test_block_mean_error_equals_the_direct_formula(shape, band):
    a, b = _image(shape, np.float64, 5) * 255, _image(shape, np.float64, 6) * 255
    a3, b3 = (a, b) if a.ndim == 3 else (a[..., None], b[..., None])
    hb, wb = a.shape[0] // 8, a.shape[1] // 8
    means = [x[: hb * 8, : wb * 8].reshape(hb, 8, wb, 8, -1).mean(axis=(1, 3)) for x in (a3, b3)]
    direct = ((means[0] - means[1]) ** 2).sum(axis=-1).mean()
    assert metrics.block_mean_error(a, b) == pytest.approx(direct, rel=1e-12)


@pytest.mark.parametrize(
    "a, b, exc, match",
    [
        (
            np.zeros((2, 2), np.uint8),
            np.zeros((2, 3), np.uint8),
            ValueError,
            r"images must have the same shape and dtype, got \(2, 2\) uint8 and \(2, 3\) uint8",
        ),
        (
            np.zeros((2, 2), np.uint8),
            np.zeros((2, 2), np.uint16),
            ValueError,
            r"same shape and dtype, got \(2, 2\) uint8 and \(2, 2\) uint16",
        ),
        ([[0]], np.zeros((1, 1), np.uint8), TypeError, r"a must be a numpy.ndarray"),
        (
            np.zeros((1, 1), np.int32),
            np.zeros((1, 1), np.int32),
            TypeError,
            r"a dtype must be uint8, uint16 or float",
        ),
    ],
)
def test_mismatched_or_bad_images_are_refused(a, b, exc, match):
    with pytest.raises(exc, match=match):
        metrics.mse(a, b)


def test_block_mean_error_needs_a_whole_tile():
    with pytest.raises(ValueError, match=r"hold no whole 8x8 tile"):
        metrics.block_mean_error(np.zeros((7, 20)), np.zeros((7, 20)))
    with pytest.raises(ValueError, match=r"same shape, got \(8, 8\) and \(8, 9\)"):
        metrics.block_mean_error(np.zeros((8, 8)), np.zeros((8, 9)))
