"""Tests for kmeans_quant.colorspace.

Two tolerance levels, as in colorspacious: TIGHT for round trips and other
self-consistency (the code against itself), and looser ones for published
reference values, set from each source's printed precision and its
conventions (noted next to the values).
"""

from __future__ import annotations

import numpy as np
import pytest

from kmeans_quant import colorspace as cs
from kmeans_quant._fit.space import from_fit_space, to_fit_space
from kmeans_quant.colorspace import (
    delta_e_76,
    lab_to_srgb,
    linear_to_srgb,
    oklab_to_srgb,
    srgb_to_lab,
    srgb_to_linear,
    srgb_to_oklab,
)

TIGHT = 1e-10

# The IEC transfer function's two halves miss by 2.3e-9 at the joint; sRGB
# values in this sliver round-trip to 3e-8 only (see the module docstring).
_SLIVER = (0.0404499, 0.04045)


def _away_from_sliver(x: np.ndarray) -> np.ndarray:
    bad = ((x > _SLIVER[0]) & (x <= _SLIVER[1])).any(axis=-1)
    return x[~bad]


@pytest.fixture
def random_rgb() -> np.ndarray:
    rng = np.random.default_rng(12345)
    x = rng.uniform(size=(5000, 3))
    # the gamut's corners and edges, where cube roots and joints bite
    corners = np.array(np.meshgrid([0.0, 1.0], [0.0, 1.0], [0.0, 1.0])).reshape(3, -1).T
    return _away_from_sliver(np.concatenate([x, corners, rng.uniform(size=(200, 3)) ** 8]))


# --------------------------------------------------------------------------
# the sRGB transfer function
# --------------------------------------------------------------------------


def test_transfer_function_reference_points():
    # IEC 61966-2-1: the linear segment is C / 12.92 up to 0.04045, the
    # power segment ((C + 0.055) / 1.055) ** 2.4 above; endpoints fixed.
    x = np.array([0.0, 0.02, 0.04045, 0.5, 1.0])
    lin = srgb_to_linear(np.stack([x] * 3, axis=-1))[:, 0]
    expected = [0.0, 0.02 / 12.92, 0.04045 / 12.92, (0.555 / 1.055) ** 2.4, 1.0]
    np.testing.assert_allclose(lin, expected, rtol=0, atol=TIGHT)
    # Widely quoted values: sRGB 0.5 -> 0.2140 linear, 18% grey -> 0.4614 sRGB.
    assert lin[3] == pytest.approx(0.2140, abs=1e-4)
    assert linear_to_srgb([0.18, 0.18, 0.18])[0] == pytest.approx(0.4614, abs=1e-4)


def test_transfer_function_is_increasing_and_continuous():
    x = np.linspace(0.0, 1.0, 200001)
    lin = srgb_to_linear(np.stack([x] * 3, axis=-1))[:, 0]
    assert (np.diff(lin) > 0).all()
    # the jump at the joint is the IEC constants' own, 2.3e-9, nothing more
    jump = ((0.04045 + 0.055) / 1.055) ** 2.4 - 0.04045 / 12.92
    assert 0 < jump < 3e-9


def test_transfer_round_trips(random_rgb):
    np.testing.assert_allclose(
        linear_to_srgb(srgb_to_linear(random_rgb)), random_rgb, rtol=0, atol=TIGHT
    )
    np.testing.assert_allclose(
        srgb_to_linear(linear_to_srgb(random_rgb)), random_rgb, rtol=0, atol=TIGHT
    )


def test_transfer_round_trip_in_the_joint_sliver_is_close_not_exact():
    x = np.stack([np.linspace(*_SLIVER, 7)] * 3, axis=-1)
    back = linear_to_srgb(srgb_to_linear(x))
    np.testing.assert_allclose(back, x, rtol=0, atol=5e-8)


def test_transfer_is_odd_outside_the_gamut():
    x = np.array([[-0.5, -0.01, 1.5]])
    np.testing.assert_allclose(
        srgb_to_linear(x),
        [[-srgb_to_linear([0.5, 0.01, 0.0])[0], -0.01 / 12.92, (1.555 / 1.055) ** 2.4]],
        atol=TIGHT,
    )
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=TIGHT)


# --------------------------------------------------------------------------
# Oklab
# --------------------------------------------------------------------------


def test_oklab_white_and_black():
    # Ottosson (2020): white is L = 1, a = b = 0; his matrices are float32
    # values printed to 10 decimals, so white is exact only to ~1e-7.
    np.testing.assert_allclose(srgb_to_oklab([1.0, 1.0, 1.0]), [1.0, 0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(srgb_to_oklab([0.0, 0.0, 0.0]), [0.0, 0.0, 0.0], atol=TIGHT)


def test_oklab_greys_are_achromatic_and_ordered():
    g = np.linspace(0, 1, 11)
    lab = srgb_to_oklab(np.stack([g] * 3, axis=-1))
    np.testing.assert_allclose(lab[:, 1:], 0.0, atol=1e-7)
    assert (np.diff(lab[:, 0]) > 0).all()


# B. Ottosson, "A perceptual color space for image processing" (2020),
# https://bottosson.github.io/posts/oklab/, "Table of example XYZ and Oklab
# pairs" (D65, rounded to 3 decimals). XYZ is taken to linear sRGB with the
# inverse of this module's sRGB matrix; Ottosson's sRGB and XYZ matrices
# differ slightly, which adds up to 4e-4, hence 1e-3.
OTTOSSON_XYZ_TABLE = [
    ((0.950, 1.000, 1.089), (1.000, 0.000, 0.000)),
    ((1.000, 0.000, 0.000), (0.450, 1.236, -0.019)),
    ((0.000, 1.000, 0.000), (0.922, -0.671, 0.263)),
    ((0.000, 0.000, 1.000), (0.153, -1.415, -0.449)),
]


@pytest.mark.parametrize(("xyz", "oklab"), OTTOSSON_XYZ_TABLE)
def test_oklab_matches_ottossons_table(xyz, oklab):
    linear = np.asarray(xyz) @ cs._LINEAR_FROM_XYZ.T  # three of these are out of gamut
    got = srgb_to_oklab(linear_to_srgb(linear))
    np.testing.assert_allclose(got, oklab, rtol=0, atol=1e-3)
    np.testing.assert_allclose(srgb_to_linear(oklab_to_srgb(got)), linear, atol=1e-9)


# sRGB -> Oklab of named CSS colours, printed to 4 significant figures by
# https://dencode.com/en/color/oklab ("Red oklab(62.8% 0.2249 0.1258)", ...).
DENCODE_OKLAB = [
    ((255, 0, 0), (0.628, 0.2249, 0.1258)),
    ((0, 128, 0), (0.5198, -0.1403, 0.1077)),
    ((0, 255, 0), (0.8664, -0.2339, 0.1795)),
    ((0, 0, 255), (0.452, -0.0325, -0.3115)),
    ((255, 255, 255), (1.0, 0.0, 0.0)),
    ((0, 0, 0), (0.0, 0.0, 0.0)),
]


@pytest.mark.parametrize(("rgb8", "oklab"), DENCODE_OKLAB)
def test_oklab_matches_published_css_colours(rgb8, oklab):
    got = srgb_to_oklab(np.asarray(rgb8) / 255)
    np.testing.assert_allclose(got, oklab, rtol=0, atol=1e-4)


def test_oklab_matches_colour_science_example():
    # colour-science docs, colour.XYZ_to_Oklab (v0.4.x): XYZ (0.20654008,
    # 0.12197225, 0.05136952) -> Oklab (0.5163401, 0.154695, 0.0628957). It
    # uses Ottosson's XYZ matrix, which differs from his sRGB one by ~5e-5 here.
    linear = np.array([0.20654008, 0.12197225, 0.05136952]) @ cs._LINEAR_FROM_XYZ.T
    got = srgb_to_oklab(linear_to_srgb(linear))
    np.testing.assert_allclose(got, [0.5163401, 0.154695, 0.0628957], rtol=0, atol=1e-4)


def test_oklab_round_trips(random_rgb):
    np.testing.assert_allclose(
        oklab_to_srgb(srgb_to_oklab(random_rgb)), random_rgb, rtol=0, atol=TIGHT
    )
    lab = srgb_to_oklab(random_rgb)
    np.testing.assert_allclose(srgb_to_oklab(oklab_to_srgb(lab)), lab, rtol=0, atol=TIGHT)


def test_oklab_to_srgb_does_not_clip():
    # A very saturated Oklab colour outside the sRGB gamut comes back outside
    # [0, 1] and still round-trips.
    lab = np.array([0.7, 0.35, 0.0])
    rgb = oklab_to_srgb(lab)
    assert rgb.min() < 0 or rgb.max() > 1
    np.testing.assert_allclose(srgb_to_oklab(rgb), lab, atol=TIGHT)


def test_oklab_inverse_matrices_agree_with_published_ones():
    # Ottosson's published inverses (10 decimals, from float32 values); the
    # module computes its own in float64. They must agree to that precision.
    published_linear_from_lms = [
        [4.0767416621, -3.3077115913, 0.2309699292],
        [-1.2684380046, 2.6097574011, -0.3413193965],
        [-0.0041960863, -0.7034186147, 1.7076147010],
    ]
    published_lms_from_oklab = [
        [1.0, 0.3963377774, 0.2158037573],
        [1.0, -0.1055613458, -0.0638541728],
        [1.0, -0.0894841775, -1.2914855480],
    ]
    np.testing.assert_allclose(cs._LINEAR_FROM_LMS, published_linear_from_lms, atol=1e-8)
    np.testing.assert_allclose(cs._LMS_FROM_OKLAB, published_lms_from_oklab, atol=1e-7)


# --------------------------------------------------------------------------
# CIELAB
# --------------------------------------------------------------------------


def test_lab_white_black_and_greys():
    # MathWorks rgb2lab docs: rgb2lab([1 1 1]) = (100, 0, 0). Black is 0 by
    # definition. Greys have a* = b* = 0 here exactly, because the white
    # point is the sRGB matrix applied to RGB white.
    np.testing.assert_allclose(srgb_to_lab([1.0, 1.0, 1.0]), [100.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(srgb_to_lab([0.0, 0.0, 0.0]), [0.0, 0.0, 0.0], atol=TIGHT)
    g = np.linspace(0, 1, 11)
    lab = srgb_to_lab(np.stack([g] * 3, axis=-1))
    np.testing.assert_allclose(lab[:, 1:], 0.0, atol=1e-9)


def test_lab_mid_grey():
    # CIE 1976: L* = 116 (Y / Yn)^(1/3) - 16; an 18% grey (linear 0.18) has
    # L* = 116 * 0.18^(1/3) - 16 = 49.496. 8-bit grey 128 has L* = 53.585
    # (Lindbloom's calculator, 4 decimals: 53.5850).
    assert srgb_to_lab(linear_to_srgb([0.18] * 3))[0] == pytest.approx(49.4961, abs=1e-4)
    assert srgb_to_lab(np.full(3, 128 / 255))[0] == pytest.approx(53.5850, abs=1e-3)


# CIELAB (D65, 2 degree) of the sRGB primaries from Bruce Lindbloom's CIE
# colour calculator (brucelindbloom.com, sRGB, D65 reference white), the
# values most often quoted, e.g. red (53.2408, 80.0925, 67.2032). Lindbloom
# builds his matrix and white from rounded XYZ values (Xn = 0.95047,
# Zn = 1.08883); this module derives both from the xy chromaticities, which
# moves values by up to 0.008, hence 0.01.
LINDBLOOM_LAB = [
    ((1.0, 0.0, 0.0), (53.2408, 80.0925, 67.2032)),
    ((0.0, 1.0, 0.0), (87.7347, -86.1827, 83.1793)),
    ((0.0, 0.0, 1.0), (32.2970, 79.1875, -107.8602)),
]


@pytest.mark.parametrize(("rgb", "lab"), LINDBLOOM_LAB)
def test_lab_of_primaries_matches_lindbloom(rgb, lab):
    np.testing.assert_allclose(srgb_to_lab(rgb), lab, rtol=0, atol=0.01)


def test_lab_of_red_matches_coloraide():
    # ColorAide docs, "Lab D65" page: Color("lab-d65", [53.237, 80.09,
    # 67.203]) is sRGB red. ColorAide derives its sRGB matrix from the xy
    # chromaticities as this module does, so the 3 printed decimals match.
    np.testing.assert_allclose(
        srgb_to_lab([1.0, 0.0, 0.0]), [53.237, 80.09, 67.203], rtol=0, atol=1e-3
    )


def test_lab_to_srgb_matches_mathworks_example():
    # MathWorks lab2rgb docs: lab2rgb([70 5 10]) = (0.7359, 0.6566, 0.6010).
    np.testing.assert_allclose(
        lab_to_srgb([70.0, 5.0, 10.0]), [0.7359, 0.6566, 0.6010], rtol=0, atol=1e-4
    )


def test_lab_round_trips(random_rgb):
    np.testing.assert_allclose(lab_to_srgb(srgb_to_lab(random_rgb)), random_rgb, rtol=0, atol=TIGHT)
    lab = srgb_to_lab(random_rgb)
    np.testing.assert_allclose(srgb_to_lab(lab_to_srgb(lab)), lab, rtol=0, atol=1e-8)


def test_lab_agrees_with_scikit_image(random_rgb):
    skcolor = pytest.importorskip("skimage.color")
    # scikit-image uses Lindbloom's matrix and white: differences up to 0.015.
    np.testing.assert_allclose(
        srgb_to_lab(random_rgb), skcolor.rgb2lab(random_rgb), rtol=0, atol=0.02
    )


def test_delta_e_76():
    # 3-4-5 triangle in the a*b* plane, and broadcasting one colour over many
    assert delta_e_76([50.0, 0.0, 0.0], [50.0, 3.0, 4.0]) == pytest.approx(5.0)
    d = delta_e_76(np.zeros((2, 4, 3)), [[1.0, 2.0, 2.0]])
    assert d.shape == (2, 4)
    np.testing.assert_allclose(d, 3.0)
    # symmetric, zero on the diagonal
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 50, 3)) * 30
    np.testing.assert_allclose(delta_e_76(a, b), delta_e_76(b, a))
    np.testing.assert_allclose(delta_e_76(a, a), 0.0)


def test_delta_e_between_primaries_matches_lindbloom_values():
    # The ΔE76 of two colours is the distance of their CIELAB values, so the
    # red-green difference follows from Lindbloom's table: 170.565.
    red, green = LINDBLOOM_LAB[0][1], LINDBLOOM_LAB[1][1]
    expected = float(np.linalg.norm(np.subtract(red, green)))
    assert expected == pytest.approx(170.565, abs=1e-3)
    got = delta_e_76(srgb_to_lab([1.0, 0.0, 0.0]), srgb_to_lab([0.0, 1.0, 0.0]))
    assert got == pytest.approx(expected, abs=0.02)


# --------------------------------------------------------------------------
# shapes and dtypes
# --------------------------------------------------------------------------

ALL_CONVERSIONS = [
    srgb_to_linear,
    linear_to_srgb,
    srgb_to_oklab,
    oklab_to_srgb,
    srgb_to_lab,
    lab_to_srgb,
]


@pytest.mark.parametrize("func", ALL_CONVERSIONS)
@pytest.mark.parametrize("shape", [(3,), (7, 3), (4, 5, 3), (2, 3, 4, 3), (0, 3)])
def test_any_leading_shape_gives_the_same_values(func, shape):
    rng = np.random.default_rng(7)
    x = rng.uniform(size=shape)
    out = func(x)
    assert out.shape == shape
    assert out.dtype == np.float64
    flat = func(x.reshape(-1, 3)).reshape(shape)
    np.testing.assert_array_equal(out, flat)


@pytest.mark.parametrize("func", ALL_CONVERSIONS)
def test_float32_in_float32_out(func):
    x = np.random.default_rng(3).uniform(size=(10, 3))
    out32 = func(x.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(
        out32, func(x.astype(np.float32).astype(np.float64)), rtol=1e-6, atol=1e-5
    )


def test_lists_and_integer_arrays_are_accepted():
    np.testing.assert_array_equal(srgb_to_lab([[1, 0, 0]]), srgb_to_lab([[1.0, 0.0, 0.0]]))
    assert srgb_to_oklab(np.array([0, 1, 1], dtype=np.int64)).dtype == np.float64
    # integer Lab values are fine (L* runs to 100)
    np.testing.assert_allclose(lab_to_srgb([100, 0, 0]), [1.0, 1.0, 1.0], atol=1e-9)


def test_nan_propagates():
    out = srgb_to_oklab([[np.nan, 0.5, 0.5], [0.5, 0.5, 0.5]])
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()


def test_input_is_not_modified():
    x = np.random.default_rng(0).uniform(size=(5, 3))
    before = x.copy()
    for func in ALL_CONVERSIONS:
        func(x)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("func", ALL_CONVERSIONS)
@pytest.mark.parametrize("shape", [(4,), (5, 4), (2, 2), (), (3, 0)])
def test_wrong_shape_is_refused(func, shape):
    with pytest.raises(ValueError, match=r"must have shape \(\.\.\., 3\), got shape"):
        func(np.zeros(shape))


def test_wrong_shape_message_names_argument_and_shape():
    with pytest.raises(ValueError, match=r"rgb must have shape \(\.\.\., 3\), got shape \(5, 4\)"):
        srgb_to_oklab(np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"lab must have shape \(\.\.\., 3\), got shape \(2,\)"):
        oklab_to_srgb([0.5, 0.1])


@pytest.mark.parametrize("func", ALL_CONVERSIONS)
@pytest.mark.parametrize(
    "bad",
    [
        np.array([[True, False, True]]),
        np.array([[1 + 1j, 0, 0]]),
        np.array([["a", "b", "c"]]),
        np.array([[0.1, 0.2, None]], dtype=object),
    ],
)
def test_non_numeric_dtype_is_refused(func, bad):
    with pytest.raises(TypeError, match=f"must hold real numbers, got dtype {bad.dtype}"):
        func(bad)


@pytest.mark.parametrize("func", ALL_CONVERSIONS)
def test_none_is_refused(func):
    with pytest.raises(TypeError, match=r"must be an array of shape \(\.\.\., 3\), got None"):
        func(None)


@pytest.mark.parametrize("func", [srgb_to_linear, linear_to_srgb, srgb_to_oklab, srgb_to_lab])
def test_eight_bit_data_is_refused_with_a_hint(func):
    img = np.full((2, 2, 3), 200, dtype=np.uint8)
    with pytest.raises(
        ValueError,
        match=r"values in \[0, 1\], got integers up to 200; "
        r"for 8-bit data divide by 255",
    ):
        func(img)


def test_delta_e_errors():
    with pytest.raises(ValueError, match=r"lab2 must have shape \(\.\.\., 3\), got shape \(4,\)"):
        delta_e_76([1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match=r"broadcastable shapes, got \(2, 3\) and \(5, 3\)"):
        delta_e_76(np.zeros((2, 3)), np.zeros((5, 3)))
    with pytest.raises(TypeError, match="lab1 must hold real numbers, got dtype bool"):
        delta_e_76(np.ones((1, 3), bool), np.zeros((1, 3)))


# --------------------------------------------------------------------------
# the fit-space helpers used by the image API
# --------------------------------------------------------------------------


def _all_8bit_colours(step: int = 5) -> np.ndarray:
    v = np.arange(0, 256, step, dtype=np.float64)
    v = np.union1d(v, [255.0])
    return np.stack(np.meshgrid(v, v, v, indexing="ij"), axis=-1).reshape(-1, 3)


def test_fit_space_oklab_is_scaled_shifted_oklab():
    x = _all_8bit_colours(15)
    fit = to_fit_space(x, "oklab")
    assert fit.dtype == np.float32 and fit.shape == x.shape
    expected = (srgb_to_oklab(x / 255) + [0.0, 0.5, 0.5]) * 255
    np.testing.assert_allclose(fit, expected, rtol=0, atol=1e-3)
    # distances are Oklab distances times one common factor
    i, j = np.random.default_rng(0).integers(0, len(x), size=(2, 200))
    d_fit = np.linalg.norm(fit[i].astype(np.float64) - fit[j], axis=1)
    d_ok = np.linalg.norm(srgb_to_oklab(x[i] / 255) - srgb_to_oklab(x[j] / 255), axis=1)
    np.testing.assert_allclose(d_fit, 255 * d_ok, rtol=1e-5, atol=1e-3)


def test_fit_space_keeps_the_whole_gamut_in_0_255():
    fit = to_fit_space(_all_8bit_colours(5), "oklab")
    assert fit.min() >= 0.0 and fit.max() <= 255.0


def test_fit_space_round_trip_within_float32_precision():
    x = _all_8bit_colours(5)
    back = from_fit_space(to_fit_space(x, "oklab"), "oklab")
    assert back.dtype == np.float32
    # float32 storage limits this; a rounding to 8 bits is never changed
    assert np.abs(back - x).max() < 1e-3
    np.testing.assert_array_equal(np.rint(back), x)


def test_fit_space_clips_out_of_gamut_centres():
    # A mean of two far-apart colours in Oklab, pushed further in chroma so it
    # lies outside the sRGB gamut: the result is clipped into [0, 255].
    fit = np.array([[160.0, 230.0, 127.5], [0.0, 127.5, 127.5]], dtype=np.float32)
    raw = oklab_to_srgb(fit.astype(np.float64) / 255 - [0.0, 0.5, 0.5])
    assert raw.min() < 0 or raw.max() > 1  # really out of gamut
    back = from_fit_space(fit, "oklab")
    assert back.min() >= 0 and back.max() <= 255
    np.testing.assert_allclose(back, np.clip(raw * 255, 0, 255), atol=1e-3)


def test_fit_space_grey_is_lightness():
    g = np.arange(0, 256, 17, dtype=np.float64).reshape(-1, 1)
    fit = to_fit_space(g, "oklab")
    assert fit.shape == (len(g), 1)
    lightness = srgb_to_oklab(np.repeat(g / 255, 3, axis=1))[:, 0] * 255
    np.testing.assert_allclose(fit[:, 0], lightness, atol=1e-3)
    back = from_fit_space(fit, "oklab")
    assert back.shape == g.shape
    np.testing.assert_allclose(back, g, atol=1e-3)


def test_fit_space_rgb_is_identity():
    x = _all_8bit_colours(51)
    fit = to_fit_space(x, "rgb")
    assert fit.dtype == np.float32
    np.testing.assert_array_equal(fit, x)
    np.testing.assert_array_equal(
        from_fit_space(np.array([[-3.0, 100.0, 300.0]]), "rgb"), [[0.0, 100.0, 255.0]]
    )


def test_fit_space_unknown_space_is_refused():
    with pytest.raises(ValueError, match=r"space must be one of 'rgb', 'oklab', got 'lab'"):
        to_fit_space(np.zeros((1, 3)), "lab")
    with pytest.raises(ValueError, match=r"space must be one of .*, got 'hsv'"):
        from_fit_space(np.zeros((1, 3)), "hsv")


def test_srgb8_to_oklab_is_srgb_to_oklab_bit_for_bit():
    rng = np.random.default_rng(21)
    rgb8 = np.concatenate(
        [
            np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1),
            rng.integers(0, 256, (5000, 3)),
        ]
    ).astype(np.uint8)
    got = cs.srgb8_to_oklab(rgb8)
    assert got.dtype == np.float64
    assert got.tobytes() == cs.srgb_to_oklab(rgb8 / 255.0).tobytes()
    assert cs.srgb8_to_oklab(rgb8.reshape(-1, 4, 3)[:10]).shape == (10, 4, 3)


def test_srgb8_to_oklab_refuses_other_input():
    with pytest.raises(TypeError, match=r"rgb8 must be uint8 sRGB code values, got dtype float64"):
        cs.srgb8_to_oklab(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"rgb8 must have shape \(\.\.\., 3\), got shape \(2, 4\)"):
        cs.srgb8_to_oklab(np.zeros((2, 4), np.uint8))
