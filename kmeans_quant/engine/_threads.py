"""How many threads the engine may use, and the pool that runs its large steps.

The assignment step of a large fit is split into chunks of rows, which
threads take one at a time (the calling thread is one of them), so a thread
slowed down by other work on the machine holds up no more than its current
chunk. Every row's result depends on that row alone, so the output is the
same whatever the number of threads.

The number of threads is, in order of precedence:

1. the innermost :func:`thread_limit` block around the call;
2. the environment variable ``KMEANS_QUANT_NUM_THREADS``;
3. the number of CPUs this process may run on;

never more than that number of CPUs and, when threadpoolctl is loaded,
never more than the smallest thread count it reports for the BLAS
libraries (so ``with
threadpoolctl.threadpool_limits(1):`` keeps this library on one thread as
well). threadpoolctl is optional: nothing here imports it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import count
from typing import Any

__all__ = ["thread_limit", "get_num_threads", "NUM_THREADS_ENV"]

#: The environment variable that sets the default number of threads.
NUM_THREADS_ENV = "KMEANS_QUANT_NUM_THREADS"

_LIMIT: ContextVar[int | None] = ContextVar("kmeans_quant_thread_limit", default=None)


def _check_threads(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | str):
        raise TypeError(f"{what} must be a positive integer, got {n!r}")
    try:
        value = int(n)
    except ValueError:
        raise ValueError(f"{what} must be a positive integer, got {n!r}") from None
    if value < 1:
        raise ValueError(f"{what} must be a positive integer, got {n!r}")
    return value


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_BLAS_CONTROLLERS: list[Any] | None = None


def _threadpoolctl_limit() -> int | None:
    """The smallest thread count threadpoolctl reports for BLAS, if it is loaded."""
    global _BLAS_CONTROLLERS
    tpc = sys.modules.get("threadpoolctl")
    if tpc is None:
        return None
    if _BLAS_CONTROLLERS is None:
        # Finding the libraries scans the process once; reading a library's
        # current limit later is one call into it.
        controller = tpc.ThreadpoolController()
        _BLAS_CONTROLLERS = [c for c in controller.lib_controllers if c.user_api == "blas"]
    counts = [c.num_threads for c in _BLAS_CONTROLLERS]
    return min(counts) if counts else None


def get_num_threads() -> int:
    """The number of threads the engine uses for a large step, here and now.

    Returns
    -------
    int
        The innermost :func:`thread_limit` if any, else
        ``KMEANS_QUANT_NUM_THREADS`` if set, else the number of CPUs the
        process may use; never more than those CPUs, nor than the smallest
        BLAS thread count that threadpoolctl reports when it is loaded.

    Raises
    ------
    ValueError
        If ``KMEANS_QUANT_NUM_THREADS`` is set to something other than a
        positive integer.

    Examples
    --------
    >>> from kmeans_quant import get_num_threads, thread_limit
    >>> with thread_limit(1):
    ...     get_num_threads()
    1
    """
    n = _LIMIT.get()
    if n is None:
        env = os.environ.get(NUM_THREADS_ENV, "").strip()
        n = _check_threads(env, NUM_THREADS_ENV) if env else None
    cpus = _usable_cpus()
    n = cpus if n is None else min(n, cpus)
    limit = _threadpoolctl_limit()
    return n if limit is None else max(1, min(n, limit))


@contextmanager
def thread_limit(n: int) -> Iterator[int]:
    """Use at most ``n`` threads for the engine's work inside the block.

    The setting is held in a :class:`contextvars.ContextVar`, so it applies
    to the current thread (or asyncio task) only, and nested blocks restore
    the outer setting on exit. It overrides ``KMEANS_QUANT_NUM_THREADS``.
    Results do not depend on the number of threads.

    Parameters
    ----------
    n : int
        Largest number of threads, at least 1 (1: no thread is started).

    Yields
    ------
    int
        ``n``.

    Raises
    ------
    TypeError, ValueError
        If ``n`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> from kmeans_quant import kmeans, thread_limit
    >>> X = np.random.default_rng(0).normal(size=(1000, 2))
    >>> with thread_limit(1):
    ...     one = kmeans(X, 4, rng=0)
    >>> bool(np.array_equal(one.labels, kmeans(X, 4, rng=0).labels))
    True
    """
    if isinstance(n, str):
        raise TypeError(f"thread_limit takes a positive integer, got {n!r}")
    token = _LIMIT.set(_check_threads(n, "thread_limit"))
    try:
        yield _LIMIT.get()  # type: ignore[misc]
    finally:
        _LIMIT.reset(token)


_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0


def _pool(helpers: int) -> ThreadPoolExecutor:
    """A module-level pool of at least ``helpers`` threads, made on first need."""
    global _POOL, _POOL_SIZE
    if _POOL is None or _POOL_SIZE < helpers:
        if _POOL is not None:
            _POOL.shutdown(wait=False)
        _POOL = ThreadPoolExecutor(max_workers=helpers, thread_name_prefix="kmeans_quant")
        _POOL_SIZE = helpers
    return _POOL


def run_chunks(work: Callable[[int, int], None], n: int, *, chunk: int, threads: int) -> None:
    """Call ``work(lo, hi)`` over ``[0, n)`` in chunks of ``chunk``, on ``threads`` threads.

    The calling thread takes chunks too, so ``threads=1`` starts nothing.
    Chunks are handed out one at a time from a shared counter (taking the
    next number of :class:`itertools.count` is atomic under the GIL).
    ``work`` must write disjoint outputs for disjoint chunks.
    """
    n_chunks = -(-n // chunk)
    threads = max(1, min(threads, n_chunks))
    if threads == 1:
        for lo in range(0, n, chunk):
            work(lo, min(lo + chunk, n))
        return
    ticket = count()

    def take() -> None:
        while (i := next(ticket)) < n_chunks:
            work(i * chunk, min((i + 1) * chunk, n))

    jobs = [_pool(threads - 1).submit(take) for _ in range(threads - 1)]
    try:
        take()
    finally:
        for job in jobs:
            job.result()
