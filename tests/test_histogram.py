"""ColorHistogram: packing, merging (associative, commutative), pickling, and
fit_palette equal to extract_palette bit for bit, however the pixels are split."""

from __future__ import annotations

import importlib.resources
import pickle

import numpy as np
import pytest
from conftest import make_quadrants
from hypothesis import given, settings
from hypothesis import strategies as st

from kmeans_quant import ColorHistogram, extract_palette, fit_palette
from kmeans_quant.histogram import merge
from kmeans_quant.io import read_image


def _image(kind: str, seed: int, shape=(37, 29)) -> np.ndarray:
    """A random image with few enough colours to repeat, of the given kind."""
    rng = np.random.default_rng(seed)
    if kind.startswith("uint16"):
        dt, levels = np.uint16, rng.integers(0, 65536, size=12, dtype=np.uint16)
    else:
        dt, levels = np.uint8, rng.integers(0, 256, size=12, dtype=np.uint8)
    c = {"grey": None, "rgb": 3, "rgba": 4}[kind.split("-")[-1]]
    full = shape if c is None else shape + (c,)
    img = levels[rng.integers(0, levels.size, size=full)].astype(dt)
    if c == 4:
        img[..., 3] = np.where(rng.random(shape) < 0.3, 0, 255 if dt == np.uint8 else 65535)
    return img


KINDS = ["uint8-grey", "uint8-rgb", "uint8-rgba", "uint16-grey", "uint16-rgb", "uint16-rgba"]


def _same(pal, ref):
    assert pal.colors.dtype == ref.colors.dtype
    np.testing.assert_array_equal(pal.colors, ref.colors)
    np.testing.assert_array_equal(pal.counts, ref.counts)


def _blocks(img, rows, cols):
    """Split along both axes at the given cut points."""
    return [b for band in np.split(img, rows, axis=0) for b in np.split(band, cols, axis=1)]


# ------------------------------------------------------------------ hand-computed toy cases


def test_codes_pack_channels_most_significant_first():
    img = np.array([[[1, 2, 3], [0, 0, 255]]], dtype=np.uint8)
    h = ColorHistogram.from_image(img)
    assert h.codes.dtype == np.uint32
    assert h.codes.tolist() == [255, (1 << 16) | (2 << 8) | 3]
    assert h.counts.tolist() == [1, 1]
    np.testing.assert_array_equal(h.colors, [[0, 0, 255], [1, 2, 3]])


def test_uint16_codes_are_48_bit_in_uint64():
    img = np.array([[[65535, 1, 2]]], dtype=np.uint16)
    h = ColorHistogram.from_image(img)
    assert h.codes.dtype == np.uint64
    assert int(h.codes[0]) == (65535 << 32) | (1 << 16) | 2
    assert h.colors.dtype == np.uint16 and h.colors.tolist() == [[65535, 1, 2]]


def test_grey_codes_are_the_values():
    h = ColorHistogram.from_image(np.array([[5, 5, 200]], dtype=np.uint8))
    assert h.channels == 1 and h.codes.tolist() == [5, 200] and h.counts.tolist() == [2, 1]
    assert h.n_pixels == 3 and len(h) == 2
    h16 = ColorHistogram.from_image(np.array([[60000, 3]], dtype=np.uint16))
    assert h16.codes.dtype == np.uint64 and h16.codes.tolist() == [3, 60000]


def test_as_rgb_spreads_grey_and_keeps_order():
    h = ColorHistogram.from_image(np.array([[9, 1, 9]], dtype=np.uint16))
    rgb = h.as_rgb()
    assert rgb.channels == 3
    np.testing.assert_array_equal(rgb.colors, [[1, 1, 1], [9, 9, 9]])
    assert rgb == ColorHistogram.from_image(np.array([[[9] * 3, [1] * 3, [9] * 3]], np.uint16))
    assert rgb.as_rgb() is rgb


def test_transparent_pixels_follow_extract_palettes_rule():
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[..., :3] = [[[10, 0, 0], [20, 0, 0]], [[30, 0, 0], [30, 0, 0]]]
    rgba[0, :, 3] = 255  # top row visible, bottom row (colour 30) invisible
    assert ColorHistogram.from_image(rgba).counts.tolist() == [1, 1, 0]
    assert ColorHistogram.from_image(rgba, transparent="skip").counts.tolist() == [1, 1, 0]
    assert ColorHistogram.from_image(rgba, transparent="count").counts.tolist() == [1, 1, 2]
    rgba[..., 3] = 0  # nothing visible: 'auto' counts everything, 'skip' nothing
    assert ColorHistogram.from_image(rgba).counts.tolist() == [1, 1, 2]
    assert ColorHistogram.from_image(rgba, transparent="skip").n_pixels == 0


def test_sum_starts_from_zero():
    hs = [ColorHistogram.from_image(_image("uint8-rgb", s)) for s in range(3)]
    assert sum(hs) == merge(hs) == hs[0] + hs[1] + hs[2]


# ------------------------------------------------------------------ merge laws


def _hist_strategy():
    codes = st.lists(st.integers(0, 40), min_size=0, max_size=25, unique=True)
    return codes.flatmap(
        lambda cs: st.tuples(
            st.just(sorted(cs)), st.lists(st.integers(0, 1000), min_size=len(cs), max_size=len(cs))
        )
    ).map(
        lambda t: ColorHistogram(
            np.array(t[0], dtype=np.uint32), np.array(t[1], dtype=np.int64), np.uint8, 1
        )
    )


@settings(max_examples=60, deadline=None)
@given(_hist_strategy(), _hist_strategy(), _hist_strategy())
def test_merge_is_associative_and_commutative(a, b, c):
    assert a + b == b + a
    assert (a + b) + c == a + (b + c) == merge([c, a, b])
    total = {}
    for h in (a, b, c):
        for code, n in zip(h.codes.tolist(), h.counts.tolist()):
            total[code] = total.get(code, 0) + n
    m = merge([a, b, c])
    assert m.codes.tolist() == sorted(total)
    assert m.counts.tolist() == [total[k] for k in sorted(total)]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from(KINDS), st.integers(1, 36), st.integers(1, 28))
def test_blocks_merge_to_the_whole_image(seed, kind, r, c):
    img = _image(kind, seed)
    whole = ColorHistogram.from_image(img, transparent="skip")
    parts = [ColorHistogram.from_image(b, transparent="skip") for b in _blocks(img, [r], [c])]
    rng = np.random.default_rng(seed)
    assert merge(rng.permutation(np.array(parts, dtype=object)).tolist()) == whole


def test_merge_errors():
    a = ColorHistogram.from_image(np.zeros((2, 2), np.uint8))
    b = ColorHistogram.from_image(np.zeros((2, 2, 3), np.uint8))
    c = ColorHistogram.from_image(np.zeros((2, 2), np.uint16))
    with pytest.raises(
        ValueError, match=r"histograms\[0\] is 1-channel uint8, histograms\[1\] is 3-channel uint8"
    ):
        a + b
    with pytest.raises(ValueError, match=r"1-channel uint8, histograms\[1\] is 1-channel uint16"):
        merge([a, c])
    with pytest.raises(ValueError, match="at least one histogram"):
        merge([])
    with pytest.raises(TypeError, match=r"histograms\[1\] must be a ColorHistogram, got ndarray"):
        merge([a, np.zeros(3)])
    with pytest.raises(TypeError):
        a + 1


# ------------------------------------------------------------------ validation


def test_constructor_checks_its_fields():
    u32 = np.array([1, 2], dtype=np.uint32)
    n = np.array([1, 1], dtype=np.int64)
    with pytest.raises(
        TypeError, match="dtype must be uint8 or uint16, got float32; float colours"
    ):
        ColorHistogram(u32, n, np.float32, 3)
    with pytest.raises(ValueError, match="channels must be 1, 3 or 4, got 2"):
        ColorHistogram(u32, n, np.uint8, 2)
    with pytest.raises(ValueError, match="codes must be a 1-D uint32 array for uint8 colours"):
        ColorHistogram(u32.astype(np.uint64), n, np.uint8, 3)
    with pytest.raises(ValueError, match=r"counts must be int64 of shape \(2,\)"):
        ColorHistogram(u32, n[:1], np.uint8, 3)
    with pytest.raises(ValueError, match="strictly increasing"):
        ColorHistogram(u32[::-1].copy(), n, np.uint8, 3)
    with pytest.raises(ValueError, match=r"codes must be below 2\*\*8 for 1-channel uint8"):
        ColorHistogram(np.array([1, 256], np.uint32), n, np.uint8, 1)
    with pytest.raises(ValueError, match="non-negative"):
        ColorHistogram(u32, -n, np.uint8, 3)


def test_from_image_refuses_floats_and_bad_input():
    with pytest.raises(
        TypeError, match=r"image dtype must be uint8 or uint16, got float64; .*np\.rint"
    ):
        ColorHistogram.from_image(np.zeros((2, 2, 3)))
    with pytest.raises(TypeError, match="image dtype must be uint8 or uint16, got int32"):
        ColorHistogram.from_image(np.zeros((2, 2), np.int32))
    with pytest.raises(TypeError, match="must be a numpy.ndarray"):
        ColorHistogram.from_image([[1, 2]])
    with pytest.raises(ValueError, match=r"got \(2, 2, 5\)"):
        ColorHistogram.from_image(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(
        ValueError, match="transparent must be one of 'auto', 'skip', 'count', got 'no'"
    ):
        ColorHistogram.from_image(np.zeros((2, 2), np.uint8), transparent="no")


def _rgba(seed: int = 0, shape=(20, 30)) -> np.ndarray:
    """Random colours, a third of them fully transparent, some half see-through."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, size=shape + (4,), dtype=np.uint8)
    img[..., 3] = rng.choice(np.array([0, 128, 255], np.uint8), size=shape)
    return img


def test_alpha_fit_histogram_counts_every_colour_and_alpha():
    img = _rgba()
    h = ColorHistogram.from_image(img, alpha="fit")
    assert h.channels == 4 and h.n_pixels == img.shape[0] * img.shape[1]
    want, counts = np.unique(img.reshape(-1, 4), axis=0, return_counts=True)
    np.testing.assert_array_equal(h.colors, want)
    np.testing.assert_array_equal(h.counts, counts)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_fit_palette_with_alpha_equals_extract_palette_from_blocks(dtype):
    img = _rgba(3).astype(dtype) * (257 if dtype == np.uint16 else 1)
    blocks = [img[:7], img[7:12], img[12:]]
    h = sum(ColorHistogram.from_image(b, alpha="fit") for b in blocks)
    got = fit_palette(h, 6, alpha="fit")
    want = extract_palette(img, 6, alpha="fit")
    for field in ("colors", "counts", "alpha"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field))


def test_fit_palette_with_fixed_colours_equals_extract_palette():
    img = np.random.default_rng(5).integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    fixed = [[255, 255, 255], [0, 0, 0]]
    got = fit_palette(ColorHistogram.from_image(img), 5, fixed=fixed)
    want = extract_palette(img, 5, fixed=fixed)
    np.testing.assert_array_equal(got.colors, want.colors)
    np.testing.assert_array_equal(got.counts, want.counts)
    assert {tuple(c) for c in fixed} <= {tuple(c) for c in got.colors}


def test_alpha_fit_histogram_errors():
    rgb = np.zeros((2, 2, 3), np.uint8)
    with pytest.raises(ValueError, match=r"alpha='fit' needs an RGBA image of shape \(H, W, 4\)"):
        ColorHistogram.from_image(rgb, alpha="fit")
    with pytest.raises(ValueError, match="alpha must be one of 'keep', 'fit', got 'pre'"):
        ColorHistogram.from_image(rgb, alpha="pre")
    with pytest.raises(ValueError, match="leave transparent='auto', got transparent='skip'"):
        ColorHistogram.from_image(_rgba(), alpha="fit", transparent="skip")
    with pytest.raises(ValueError, match="a histogram of .colour, alpha. values has no RGB form"):
        ColorHistogram.from_image(_rgba(), alpha="fit").as_rgb()


def test_fit_palette_alpha_errors():
    colours = ColorHistogram.from_image(_rgba())
    pairs = ColorHistogram.from_image(_rgba(), alpha="fit")
    with pytest.raises(ValueError, match=r"alpha='fit' needs a histogram of \(colour, alpha\) "):
        fit_palette(colours, 4, alpha="fit")
    with pytest.raises(ValueError, match="alpha='keep' needs a histogram of colours; .*4-channel"):
        fit_palette(pairs, 4)
    with pytest.raises(ValueError, match="fixed colours work with alpha='keep' only"):
        fit_palette(pairs, 4, alpha="fit", fixed=[[0, 0, 0]])
    with pytest.raises(ValueError, match="alpha='fit' works with space='rgb' only"):
        fit_palette(pairs, 4, alpha="fit", space="oklab")


def test_fit_palette_errors():
    with pytest.raises(TypeError, match="histogram must be a ColorHistogram, got ndarray"):
        fit_palette(np.zeros((2, 2), np.uint8), 2)
    empty = ColorHistogram(np.array([3], np.uint32), np.array([0]), np.uint8, 1)
    with pytest.raises(ValueError, match="counts no pixels"):
        fit_palette(empty, 2)
    h = ColorHistogram.from_image(np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="k must be a positive integer"):
        fit_palette(h, 0)
    with pytest.raises(ValueError, match="method must be one of"):
        fit_palette(h, 2, method="octree")


# ------------------------------------------------------------------ pickling


def test_pickle_is_codes_and_counts_only():
    img = np.random.default_rng(0).integers(0, 256, size=(100, 100, 3), dtype=np.uint8)
    h = ColorHistogram.from_image(img)
    data = pickle.dumps(h, protocol=pickle.HIGHEST_PROTOCOL)
    assert len(h) > 9000
    assert len(data) <= 12 * len(h) + 400  # 4-byte code + 8-byte count per colour
    assert pickle.loads(data) == h
    h16 = ColorHistogram.from_image(img.astype(np.uint16) * 257)
    assert len(pickle.dumps(h16, protocol=pickle.HIGHEST_PROTOCOL)) <= 16 * len(h16) + 400


# ------------------------------------------------------------------ exactly extract_palette


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("k", [1, 3, 8])
def test_fit_palette_equals_extract_palette(kind, k):
    img = _image(kind, seed=k)
    _same(fit_palette(ColorHistogram.from_image(img), k), extract_palette(img, k))


@pytest.mark.parametrize("kind", ["uint8-rgb", "uint8-rgba", "uint16-rgb", "uint8-grey"])
@pytest.mark.parametrize("cuts", [([5], [7]), ([1, 2, 30], [28]), ([18], []), ([], [])])
def test_blocks_merged_in_any_order_give_extract_palette(kind, cuts):
    img = _image(kind, seed=3)
    ref = extract_palette(img, 5)
    parts = [ColorHistogram.from_image(b, transparent="skip") for b in _blocks(img, *cuts)]
    _same(fit_palette(merge(parts), 5), ref)
    _same(fit_palette(merge(parts[::-1]), 5), ref)
    rng = np.random.default_rng(0)
    tree = list(rng.permutation(np.array(parts, dtype=object)))
    while len(tree) > 1:  # pairwise tree, as a reduction would do it
        tree = [
            tree[i] + tree[i + 1] if i + 1 < len(tree) else tree[i] for i in range(0, len(tree), 2)
        ]
    _same(fit_palette(tree[0], 5), ref)


@pytest.mark.parametrize("kind", KINDS)
def test_list_of_images_merged_gives_extract_palette_of_the_list(kind):
    imgs = [_image(kind, seed=s, shape=(10 + s, 12)) for s in range(4)]
    ref = extract_palette(imgs, 6)
    hs = [ColorHistogram.from_image(im) for im in imgs]
    _same(fit_palette(merge(hs), 6), ref)
    _same(fit_palette(hs[3] + hs[1] + hs[0] + hs[2], 6), ref)


@pytest.mark.parametrize(
    "options",
    [
        dict(space="oklab"),
        dict(method="median-cut"),
        dict(method="uniform"),
        dict(rng=7, max_iter=3, tol=0.1),
    ],
)
def test_fit_palette_options_match(options):
    img = make_quadrants(40, 44, noise=25, seed=2)
    parts = [ColorHistogram.from_image(b) for b in _blocks(img, [13], [9, 30])]
    _same(fit_palette(merge(parts), 6, **options), extract_palette(img, 6, **options))


def test_photo_split_in_blocks():
    path = importlib.resources.files("kmeans_quant").joinpath("data", "chelsea.png")
    with importlib.resources.as_file(path) as p:
        img = read_image(p)
    parts = [ColorHistogram.from_image(b) for b in _blocks(img, [100, 256], [64, 300])]
    _same(fit_palette(merge(parts), 16), extract_palette(img, 16))
