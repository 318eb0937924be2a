"""Shared fixtures: small synthetic images made by the tests themselves."""

from __future__ import annotations

import numpy as np
import pytest

QUADRANT_COLORS = np.array(
    [[220, 40, 40], [40, 200, 60], [30, 60, 210], [235, 225, 60]], dtype=np.float64
)


def make_quadrants(h: int = 32, w: int = 40, noise: float = 6.0, seed: int = 0) -> np.ndarray:
    """Four flat colour quadrants plus Gaussian noise, uint8 (h, w, 3)."""
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), dtype=np.float64)
    img[: h // 2, : w // 2] = QUADRANT_COLORS[0]
    img[: h // 2, w // 2 :] = QUADRANT_COLORS[1]
    img[h // 2 :, : w // 2] = QUADRANT_COLORS[2]
    img[h // 2 :, w // 2 :] = QUADRANT_COLORS[3]
    img += rng.normal(0, noise, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


@pytest.fixture
def quadrants() -> np.ndarray:
    return make_quadrants()


@pytest.fixture
def noisy_rgb() -> np.ndarray:
    """Uniform random colours: nearly every pixel distinct."""
    return np.random.default_rng(1).integers(0, 256, size=(24, 30, 3), dtype=np.uint8)


def blobs(n_per: int = 60, seed: int = 0, d: int = 2) -> np.ndarray:
    """Three well-separated Gaussian blobs in d dimensions."""
    rng = np.random.default_rng(seed)
    means = np.array([[0.0] * d, [8.0] + [0.0] * (d - 1), [0.0] + [8.0] * (d - 1)])
    return np.concatenate([m + rng.normal(size=(n_per, d)) for m in means])


@pytest.fixture
def work(tmp_path, monkeypatch):
    """An empty current folder holding one small photo-like input, a.png."""
    from kmeans_quant.io import write_image

    monkeypatch.chdir(tmp_path)
    write_image(tmp_path / "a.png", make_quadrants(24, 30, noise=20, seed=1))
    return tmp_path


@pytest.fixture(scope="session")
def docs_site(tmp_path_factory):
    """The built documentation site (its html folder), shared by the site and browser tests.

    Built once per session with the README's command (``sphinx -W``, every
    warning an error), under a deadline. CI builds the site itself, in a
    fresh environment holding only the ``[docs]`` extra, and names it in
    ``KMEANS_QUANT_SITE``: then these tests check that very site.
    """
    from docs_build import build_site

    return build_site(tmp_path_factory.mktemp("site"))


#: What ``kmeans-quant`` does by default, as keywords of ``quantize`` and
#: ``recolor`` (images whose alpha is fitted with the colour are not dithered).
CLI_DEFAULTS = {"mode": "perceptual", "dither": "floyd-steinberg"}
