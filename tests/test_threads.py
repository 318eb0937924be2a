"""The thread setting: where it comes from, and that results never depend on it."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from kmeans_quant import (
    assign_labels,
    extract_palette,
    get_num_threads,
    kmeans,
    quantize,
    thread_limit,
)
from kmeans_quant.engine import _threads


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv(_threads.NUM_THREADS_ENV, raising=False)


def test_default_is_the_usable_cpus(monkeypatch):
    monkeypatch.setattr(_threads, "_threadpoolctl_limit", lambda: None)
    assert get_num_threads() == _threads._usable_cpus()


def test_environment_variable_sets_the_default(monkeypatch):
    monkeypatch.setattr(_threads, "_usable_cpus", lambda: 8)
    monkeypatch.setattr(_threads, "_threadpoolctl_limit", lambda: None)
    monkeypatch.setenv("KMEANS_QUANT_NUM_THREADS", "3")
    assert get_num_threads() == 3
    with thread_limit(1):  # the context manager wins over the environment
        assert get_num_threads() == 1
    assert get_num_threads() == 3


def test_never_more_threads_than_cpus(monkeypatch):
    monkeypatch.setattr(_threads, "_usable_cpus", lambda: 2)
    monkeypatch.setattr(_threads, "_threadpoolctl_limit", lambda: None)
    with thread_limit(16):
        assert get_num_threads() == 2
    monkeypatch.setenv("KMEANS_QUANT_NUM_THREADS", "16")
    assert get_num_threads() == 2


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_environment_variable_is_named(monkeypatch, value):
    monkeypatch.setenv("KMEANS_QUANT_NUM_THREADS", value)
    with pytest.raises(
        ValueError, match=f"KMEANS_QUANT_NUM_THREADS must be a positive integer, got '{value}'"
    ):
        get_num_threads()


def test_nested_limits_restore_the_outer_one(monkeypatch):
    monkeypatch.setattr(_threads, "_usable_cpus", lambda: 8)
    monkeypatch.setattr(_threads, "_threadpoolctl_limit", lambda: None)
    with thread_limit(3):
        with thread_limit(1) as n:
            assert n == 1 and get_num_threads() == 1
        assert get_num_threads() == 3
    assert get_num_threads() == _threads._usable_cpus()


def test_limit_is_per_thread(monkeypatch):
    monkeypatch.setattr(_threads, "_threadpoolctl_limit", lambda: None)
    seen = []
    with thread_limit(1):
        worker = threading.Thread(target=lambda: seen.append(get_num_threads()))
        worker.start()
        worker.join()
        assert get_num_threads() == 1
    assert seen == [_threads._usable_cpus()]


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (0, ValueError, "thread_limit must be a positive integer, got 0"),
        (-1, ValueError, "thread_limit must be a positive integer, got -1"),
        (2.5, TypeError, "thread_limit must be a positive integer, got 2.5"),
        (True, TypeError, "thread_limit must be a positive integer, got True"),
        ("2", TypeError, "thread_limit takes a positive integer, got '2'"),
    ],
)
def test_bad_limit_is_named(value, error, match):
    with pytest.raises(error, match=match):
        with thread_limit(value):
            pass


def test_threadpoolctl_limits_are_honoured():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = get_num_threads()
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        assert get_num_threads() == 1
    assert get_num_threads() == before


def test_run_chunks_covers_every_row_once_on_several_threads():
    hits = np.zeros(1000, dtype=int)
    threads = set()
    lock = threading.Lock()

    def work(lo, hi):
        time.sleep(0.002)  # release the GIL so that the helpers get chunks too
        with lock:
            hits[lo:hi] += 1
            threads.add(threading.get_ident())

    _threads.run_chunks(work, 1000, chunk=37, threads=3)
    assert (hits == 1).all()
    assert len(threads) > 1
    threads.clear()
    hits[:] = 0
    _threads.run_chunks(work, 1000, chunk=37, threads=1)
    assert (hits == 1).all()
    assert threads == {threading.get_ident()}


def test_run_chunks_passes_errors_on():
    def work(lo, hi):
        if lo >= 500:
            raise RuntimeError(f"chunk at {lo}")

    with pytest.raises(RuntimeError, match="chunk at"):
        _threads.run_chunks(work, 1000, chunk=100, threads=2)


@pytest.mark.parametrize(("d", "k"), [(3, 5), (3, 20), (3, 37), (17, 9), (17, 130)])
def test_assignment_is_the_same_on_any_number_of_threads(d, k):
    rng = np.random.default_rng(k)
    # Large enough to be shared among threads, and not a whole number of chunks.
    X = rng.integers(0, 5, size=((1 << 20) // k + 777, d)).astype(np.float32)  # many ties
    C = rng.integers(0, 5, size=(k, d)).astype(np.float32)
    with thread_limit(1):
        one = assign_labels(X, C)
    for n in (2, 3, 5):
        with thread_limit(n):
            many = assign_labels(X, C)
        np.testing.assert_array_equal(many[0], one[0])
        np.testing.assert_array_equal(many[1], one[1])


def test_kmeans_is_the_same_on_any_number_of_threads():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40000, 5)) + rng.integers(0, 4, size=(40000, 1)) * 3
    runs = []
    for n in (1, 2, 3):
        with thread_limit(n):
            runs.append(kmeans(X, 40, rng=1))
    for other in runs[1:]:
        np.testing.assert_array_equal(other.labels, runs[0].labels)
        np.testing.assert_array_equal(other.centers, runs[0].centers)
        assert other.inertia == runs[0].inertia


def test_quantize_is_the_same_on_any_number_of_threads():
    from importlib.resources import files

    import imageio.v3 as iio

    photo = iio.imread(files("kmeans_quant") / "data" / "chelsea.png")
    outs = []
    for n in (1, 2, 3):
        with thread_limit(n):
            outs.append((quantize(photo, 64, rng=0), extract_palette(photo, 200, rng=0)))
    for image, palette in outs[1:]:
        np.testing.assert_array_equal(image, outs[0][0])
        np.testing.assert_array_equal(palette.colors, outs[0][1].colors)
        np.testing.assert_array_equal(palette.counts, outs[0][1].counts)


def test_seeding_is_the_same_on_any_number_of_threads():
    from kmeans_quant import kmeans_plusplus

    X = np.random.default_rng(2).normal(size=(150000, 4))
    w = np.random.default_rng(3).uniform(0.5, 2, size=len(X))
    with thread_limit(1):
        one = kmeans_plusplus(X, 24, sample_weight=w, rng=5)
    with thread_limit(2):
        two = kmeans_plusplus(X, 24, sample_weight=w, rng=5)
    np.testing.assert_array_equal(one, two)


def test_sampling_mode_is_the_same_on_any_number_of_threads():
    X = np.random.default_rng(6).normal(size=(120000, 3))
    with thread_limit(1):
        one = kmeans(X, 16, rng=0, sample=20000)
    with thread_limit(2):
        two = kmeans(X, 16, rng=0, sample=20000)
    np.testing.assert_array_equal(one.labels, two.labels)
    assert one.inertia == two.inertia and one.sample_size == 20000
