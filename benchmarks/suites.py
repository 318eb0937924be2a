"""asv-style benchmark classes: ``setup``, then ``time_*``, ``peakmem_*``, ``track_*``.

The classes follow airspeed velocity's conventions (``params`` and
``param_names`` for the grid, ``setup`` raising :class:`NotImplementedError`
to skip a case) so that an asv configuration could collect them, but the
suite runs them itself: :mod:`benchmarks.measure` calls ``setup`` and then
the measured methods in a fresh subprocess per case.

Images are read from the cache folder named by the ``KQ_BENCH_CACHE``
environment variable (written by :func:`benchmarks.images.build_image_set`).
"""

from __future__ import annotations

import os

import numpy as np

from .images import load_index
from .methods import METHODS, Output, availability

CACHE_ENV = "KQ_BENCH_CACHE"

KS = (16, 64, 256)


def _cache() -> str:
    cache = os.environ.get(CACHE_ENV)
    if not cache:
        raise RuntimeError(f"set {CACHE_ENV} to the image cache folder (see benchmarks.images)")
    return cache


def _warm_imports(func, k: int) -> None:
    """Run ``func`` once on a tiny image so imports and thread pools start outside the timing."""
    rng = np.random.default_rng(0)
    tiny = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    func(tiny, min(k, 4))


class Quantize:
    """One quantization method on one image at one ``k``."""

    param_names = ("method", "image", "k")
    params = (
        tuple(METHODS),
        ("chelsea", "coffee", "astronaut", "rocket", "china", "flower", "mosaic-12MP"),
        KS,
    )
    timeout = 1800

    def setup(self, method: str, image: str, k: int) -> None:
        reason = availability(method)
        if reason:
            raise NotImplementedError(reason)
        self.func = METHODS[method].func
        self.image = load_index(_cache())[image].load()
        _warm_imports(self.func, k)

    def quantized(self, method: str, image: str, k: int) -> Output:
        return self.func(self.image, k)

    def time_quantize(self, method: str, image: str, k: int) -> None:
        self.func(self.image, k)

    def peakmem_quantize(self, method: str, image: str, k: int) -> None:
        self.func(self.image, k)

    def track_mse(self, method: str, image: str, k: int) -> float:
        out = self.func(self.image, k).image
        return float(np.mean(np.square(out.astype(np.float64) - self.image)))


class LloydIteration:
    """Per-iteration cost: plain loops (``kmeans_quant.naive``) against the engine.

    Both sides start from the same k-means++ centres and run on the same
    crop of pixels with ``tol=0``, once for ``SHORT`` and once for ``LONG``
    iterations; ``setup`` checks that both return identical labels and the
    same iteration count each time before anything is timed. The cost of
    one iteration is the difference of the two timings divided by the
    difference of the iteration counts, which cancels what a call does once
    (validation, centring, conversions, the first assignment).
    """

    param_names = ("crop", "k")
    params = ((64, 128), (16, 64, 256))
    timeout = 1800
    image = "chelsea"
    SHORT, LONG = 2, 8

    def setup(self, crop: int, k: int) -> None:
        if availability("naive"):
            raise NotImplementedError(availability("naive"))
        import kmeans_quant
        from kmeans_quant import naive

        index = load_index(_cache())
        name = self.image if self.image in index else next(iter(index))
        img = index[name].load()
        y0, x0 = (img.shape[0] - crop) // 2, (img.shape[1] - crop) // 2
        self.X = img[y0 : y0 + crop, x0 : x0 + crop].reshape(-1, 3).astype(np.float64)
        self.init = kmeans_quant.kmeans_plusplus(self.X, k, rng=0)
        self.kq, self.naive = kmeans_quant, naive
        self.n_iter, self.agree, self.max_center_diff = {}, True, 0.0
        for n in (self.SHORT, self.LONG):
            fast, slow = self._vectorized(k, n), self._plain_loops(k, n)
            self.n_iter[n] = int(fast.n_iter)
            self.agree &= int(slow.n_iter) == int(fast.n_iter)
            self.agree &= bool(np.array_equal(np.asarray(slow.labels), fast.labels))
            self.max_center_diff = max(
                self.max_center_diff, float(np.max(np.abs(np.asarray(slow.centers) - fast.centers)))
            )

    def _vectorized(self, k: int, n: int):
        return self.kq.kmeans(self.X, k, init=self.init, max_iter=n, tol=0.0)

    def _plain_loops(self, k: int, n: int):
        return self.naive.kmeans(self.X, k, init=self.init, max_iter=n, tol=0.0)

    def time_vectorized_short(self, crop: int, k: int) -> None:
        self._vectorized(k, self.SHORT)

    def time_vectorized_long(self, crop: int, k: int) -> None:
        self._vectorized(k, self.LONG)

    def time_plain_loops_short(self, crop: int, k: int) -> None:
        self._plain_loops(k, self.SHORT)

    def time_plain_loops_long(self, crop: int, k: int) -> None:
        self._plain_loops(k, self.LONG)


class QuantizeStages:
    """Where ``kmeans_quant.quantize`` spends its time, from a cProfile of one call."""

    param_names = ("image", "k")
    params = (("chelsea", "mosaic-12MP"), KS)
    timeout = 600

    def setup(self, image: str, k: int) -> None:
        import kmeans_quant

        self.quantize = kmeans_quant.quantize
        self.image = load_index(_cache())[image].load()
        self.quantize(self.image[:16, :16], min(k, 4))

    def track_stages(self, image: str, k: int) -> dict[str, float]:
        from .stages import profile_stages

        return profile_stages(lambda: self.quantize(self.image, k))
