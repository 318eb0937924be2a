"""The colour table: distinct colours, counts, the way back to pixels."""

from __future__ import annotations

import numpy as np
import pytest

import kmeans_quant.color_table as colors_mod
from kmeans_quant.color_table import color_table, merge_tables


@pytest.fixture(params=["sort", "dense"])
def path(request, monkeypatch):
    """Run each test on both ways of counting 8-bit colours."""
    if request.param == "dense":
        monkeypatch.setattr(colors_mod, "_DENSE_MIN_PIXELS", 0)
    return request.param


@pytest.mark.parametrize("channels", [1, 3])
def test_uint8_table_matches_numpy_unique(path, channels):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 6, size=(500, channels), dtype=np.uint8) * 50
    t = color_table(pixels)
    want, inverse, counts = np.unique(pixels, axis=0, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(t.colors, want)
    np.testing.assert_array_equal(t.counts, counts)
    np.testing.assert_array_equal(t.expand(np.arange(len(want))), inverse.ravel())
    mask = rng.random(500) < 0.3
    np.testing.assert_array_equal(
        t.count(mask), np.bincount(inverse.ravel()[mask], minlength=len(want))
    )


def test_other_dtypes_use_the_generic_path():
    pixels = np.array([[0.5, 0.0, 1.0], [0.0, 0.0, 0.0], [0.5, 0.0, 1.0]], dtype=np.float32)
    t = color_table(pixels)
    np.testing.assert_array_equal(t.colors, [[0, 0, 0], [0.5, 0, 1]])
    np.testing.assert_array_equal(t.counts, [1, 2])
    np.testing.assert_array_equal(t.expand(np.array([7, 9])), [9, 7, 9])
    np.testing.assert_array_equal(t.count(np.array([True, True, False])), [1, 1])


@pytest.mark.parametrize(
    "dtype, channels",
    [(np.uint8, 1), (np.uint8, 3), (np.uint8, 4), (np.uint16, 3), (np.uint16, 4), (np.float32, 3)],
)
def test_merge_tables_equals_counting_all_the_pixels(dtype, channels):
    # Packed codes (uint8, uint16) and numpy.unique (floats) give the table of
    # all the pixels together, colours in lexicographic order; the inputs may
    # be unsorted and repeat colours.
    rng = np.random.default_rng(channels)
    parts = [rng.integers(0, 4, size=(n, channels)).astype(dtype) * 3 for n in (40, 1, 25)]
    tables = [(p, np.ones(len(p), np.int64)) for p in parts]
    tables.append((parts[0][::-1].copy(), np.full(40, 2)))  # unsorted, repeated colours
    colors, counts = merge_tables(tables)
    pixels = np.concatenate(parts + [parts[0], parts[0]])
    want, want_counts = np.unique(pixels, axis=0, return_counts=True)
    assert colors.dtype == dtype and counts.dtype == np.int64
    np.testing.assert_array_equal(colors, want)
    np.testing.assert_array_equal(counts, want_counts)


def test_merge_tables_errors():
    with pytest.raises(ValueError, match="merge_tables needs at least one table, got none"):
        merge_tables([])
    a = (np.zeros((2, 3), np.uint8), np.ones(2))
    with pytest.raises(ValueError, match=r"tables\[1\] uint16 of shape \(2, 3\)"):
        merge_tables([a, (np.zeros((2, 3), np.uint16), np.ones(2))])
    with pytest.raises(
        ValueError, match=r"must share dtype and channels .* tables\[1\] uint8 of shape \(2, 1\)"
    ):
        merge_tables([a, (np.zeros((2, 1), np.uint8), np.ones(2))])


def test_merge_adds_histograms():
    a = color_table(np.array([[1, 2, 3], [9, 9, 9]], dtype=np.uint8))
    b = color_table(np.array([[9, 9, 9], [4, 4, 4], [9, 9, 9]], dtype=np.uint8))
    merged, counts = merge_tables([(a.colors, a.counts), (b.colors, b.counts)])
    assert merged.tolist() == [[1, 2, 3], [4, 4, 4], [9, 9, 9]]
    assert counts.tolist() == [1, 1, 3]


def test_expand_by_search_and_by_lookup_table_agree(monkeypatch):
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, size=(3000, 3), dtype=np.uint8)
    t = color_table(pixels)
    values = rng.integers(0, 1000, size=len(t.colors))
    monkeypatch.setattr(colors_mod, "_LUT_MIN_PIXELS", 0)
    by_table = t.expand(values)
    monkeypatch.setattr(colors_mod, "_LUT_MIN_PIXELS", 10**9)
    np.testing.assert_array_equal(t.expand(values), by_table)
    _, inverse = np.unique(pixels, axis=0, return_inverse=True)
    np.testing.assert_array_equal(by_table, values[inverse.ravel()])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 3])
def test_pack_and_unpack_round_trip_in_lexicographic_order(dtype, channels):
    rng = np.random.default_rng(channels)
    top = np.iinfo(dtype).max
    colors = rng.integers(0, top + 1, (500, channels)).astype(dtype)
    colors[:3] = [[0] * channels, [top] * channels, [top] + [0] * (channels - 1)]
    codes = colors_mod.pack_colors(colors)
    np.testing.assert_array_equal(
        colors_mod.unpack_colors(codes, np.dtype(dtype), channels), colors
    )
    # Code order is the rows' lexicographic order.
    lexicographic = np.lexsort(colors.T[::-1])
    np.testing.assert_array_equal(colors[np.argsort(codes, kind="stable")], colors[lexicographic])


def test_grid_cells_and_pool_match_a_plain_grouping():
    rng = np.random.default_rng(7)
    digits = [rng.integers(0, 5, 300), rng.integers(0, 5, 300)]
    index, cells = colors_mod.grid_cells(digits, 5)
    codes = digits[0] * 5 + digits[1]
    np.testing.assert_array_equal(cells, np.unique(codes))
    np.testing.assert_array_equal(cells[index], codes)
    X = rng.normal(size=(300, 2))
    w = rng.random(300)
    means, weights = colors_mod.pool(X, w, index, cells.size)
    for g, code in enumerate(cells):
        members = codes == code
        np.testing.assert_allclose(weights[g], w[members].sum())
        np.testing.assert_allclose(means[g], np.average(X[members], axis=0, weights=w[members]))


@pytest.mark.parametrize(
    "alpha, rule, expected",
    [
        (None, "auto", [2, 1]),
        ([255, 0, 255], "auto", [1, 1]),  # the transparent first pixel drops out
        ([0, 0, 0], "auto", [2, 1]),  # nothing visible: everything counts
        ([0, 0, 0], "skip", [0, 0]),
        ([255, 0, 255], "count", [2, 1]),
    ],
)
def test_visible_counts_rules(alpha, rule, expected):
    pixels = np.array([[5, 5, 5], [5, 5, 5], [9, 9, 9]], dtype=np.uint8)
    table = colors_mod.color_table(pixels)
    a = None if alpha is None else np.array(alpha, dtype=np.uint8)
    np.testing.assert_array_equal(table.visible_counts(a, rule), expected)


@pytest.mark.parametrize("bits", [16, 32, 48])
def test_radix_order_is_the_stable_argsort(bits):
    from kmeans_quant.color_table import _radix_order

    rng = np.random.default_rng(bits)
    codes = rng.integers(0, 2**bits, size=5000, dtype=np.uint64)
    codes[:300] = codes[300:600]  # repeated codes: the order among equals must be kept
    np.testing.assert_array_equal(_radix_order(codes, bits), np.argsort(codes, kind="stable"))


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_uint16_table_matches_numpy_unique(channels):
    rng = np.random.default_rng(channels)
    pixels = rng.integers(0, 2**16, size=(4000, channels)).astype(np.uint16)
    pixels[2000:] = pixels[rng.integers(0, 2000, 2000)]  # repeated colours
    pixels[:2] = [[0] * channels, [2**16 - 1] * channels]
    t = color_table(pixels)
    want, inverse, counts = np.unique(pixels, axis=0, return_inverse=True, return_counts=True)
    assert t.colors.dtype == np.uint16 and t.colors.flags.c_contiguous
    np.testing.assert_array_equal(t.colors, want)
    np.testing.assert_array_equal(t.counts, counts)
    np.testing.assert_array_equal(t.pixel_index(), inverse.ravel())
