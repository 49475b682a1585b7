"""cnncourse.analysis.edges, .translation and .verification against independent oracles: scipy.signal, hand loops,
closed forms (the worked 6x6 example, least squares)."""

import numpy as np
import pytest
from scipy import signal

from cnncourse.analysis.edges import (EDGE_FILTERS, correlate, learn_filter, same_padding, same_size_table,
                                      step_image, true_convolution)
from cnncourse.analysis.translation import conv_maps, shift, shift_report
from cnncourse.analysis.verification import (absolute_features, chi_square_features, closest,
                                             time_database_queries)

rng = np.random.default_rng(24)


# --- edges ----------------------------------------------------------------------------------------------------------


def test_worked_example_gives_the_bright_band_of_30():
    image = step_image(6, 10.0)
    assert (image[:, :3] == 10).all() and (image[:, 3:] == 0).all()
    out = correlate(image, EDGE_FILTERS["vertical edge"])
    # by hand: a window over 10 10 0 gives 3 * (10 - 0) = 30; a window inside one half gives 0
    expected = np.array([[0, 30, 30, 0]] * 4, dtype=float)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(correlate(step_image(6, 10.0, vertical=False), EDGE_FILTERS["vertical edge"]), 0)
    np.testing.assert_array_equal(correlate(step_image(6, 10.0, vertical=False), EDGE_FILTERS["horizontal edge"]),
                                  expected.T)


@pytest.mark.parametrize("pad", [0, 1, 2])
@pytest.mark.parametrize("name", list(EDGE_FILTERS))
def test_correlate_and_true_convolution_match_scipy(name, pad):
    image = rng.random((9, 11))
    kernel = EDGE_FILTERS[name]
    padded = np.pad(image, pad)
    np.testing.assert_allclose(correlate(image, kernel, pad), signal.correlate2d(padded, kernel, mode="valid"))
    np.testing.assert_allclose(true_convolution(image, kernel, pad), signal.convolve2d(padded, kernel, mode="valid"))


def test_edge_filters_are_what_their_names_say():
    for axis in "xy":
        for name in (f"Sobel {axis}", f"Scharr {axis}"):
            assert EDGE_FILTERS[name].sum() == 0
    np.testing.assert_array_equal(EDGE_FILTERS["Sobel y"], EDGE_FILTERS["Sobel x"].T)
    np.testing.assert_array_equal(EDGE_FILTERS["Scharr y"], EDGE_FILTERS["Scharr x"].T)
    np.testing.assert_array_equal(EDGE_FILTERS["horizontal edge"], EDGE_FILTERS["vertical edge"].T)
    # Sobel and Scharr are a smoothing column times a derivative row (separable)
    np.testing.assert_array_equal(EDGE_FILTERS["Sobel x"], np.outer([1, 2, 1], [1, 0, -1]))
    np.testing.assert_array_equal(EDGE_FILTERS["Scharr x"], np.outer([3, 10, 3], [1, 0, -1]))


@pytest.mark.parametrize("f", range(1, 10))
def test_same_padding_keeps_the_size_only_for_odd_filters(f):
    p, exact = same_padding(f)
    assert exact == (f % 2 == 1)
    n = 20
    ((_, p_table, n_out),) = same_size_table(n, [f])
    assert p_table == p
    assert n_out == signal.correlate2d(np.zeros((n + 2 * p, 1)), np.ones((f, 1)), mode="valid").shape[0]
    assert (n_out == n) == exact


def test_learned_filter_recovers_the_kernel_that_made_the_targets():
    images = [rng.random((12, 14)) for _ in range(3)]
    kernel = EDGE_FILTERS["Sobel x"]
    targets = [signal.correlate2d(x, kernel, mode="valid") for x in images]
    result = learn_filter(images, targets, f=3, steps=400)
    np.testing.assert_allclose(result["kernel"], kernel, atol=1e-3)
    assert np.all(np.diff(result["losses"]) <= 1e-12)  # every step decreases the loss
    # the least-squares solution, by numpy, from windows cut by a hand loop
    windows = np.array([x[i:i + 3, j:j + 3].ravel() for x in images
                        for i in range(x.shape[0] - 2) for j in range(x.shape[1] - 2)])
    best = np.linalg.lstsq(windows, np.concatenate([t.ravel() for t in targets]), rcond=None)[0]
    np.testing.assert_allclose(result["kernel"].ravel(), best, atol=1e-3)


def test_learn_filter_rejects_mismatched_targets():
    with pytest.raises(ValueError, match="as many targets"):
        learn_filter([np.zeros((5, 5))], [])
    with pytest.raises(ValueError, match="valid output"):
        learn_filter([np.zeros((5, 5))], [np.zeros((5, 5))])


# --- translation ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dy,dx", [(2, 3), (-1, 4), (0, -2), (3, 0)])
def test_shift_matches_a_hand_loop(dy, dx):
    image = rng.random((7, 8))
    out = shift(image, dy, dx)
    for i in range(7):
        for j in range(8):
            inside = 0 <= i - dy < 7 and 0 <= j - dx < 8
            assert out[i, j] == (image[i - dy, j - dx] if inside else 0.0)


def test_conv_maps_is_relu_of_scipy_correlation():
    image = rng.random((10, 9))
    kernels = np.stack([EDGE_FILTERS["Sobel x"], EDGE_FILTERS["Scharr y"]])
    maps = conv_maps(image, kernels)
    for k, kernel in enumerate(kernels):
        np.testing.assert_allclose(maps[:, :, k], np.maximum(signal.correlate2d(image, kernel, mode="valid"), 0))


def test_shift_report_shows_equivariance_and_invariance():
    image = np.pad(rng.random((16, 16)), 6)  # content inside a frame of zeros wider than the shift
    kernels = np.stack([EDGE_FILTERS[name] for name in ("vertical edge", "horizontal edge")])
    report = shift_report(image, kernels, 3, 2, pool=2)
    assert report["conv_shifted_back"] < 1e-12
    assert report["conv_same_place"] > 0.3
    assert report["global_max"] < 1e-12
    # global average pooling of the 2x2 max-pooled maps, by hand
    maps = np.maximum(signal.correlate2d(shift(image, 3, 2), kernels[0], mode="valid"), 0)
    n = maps.shape[0] // 2
    pooled = maps[:2 * n, :2 * n].reshape(n, 2, n, 2).max(axis=(1, 3))
    assert report["features_shifted"][0] == pytest.approx(pooled.mean())
    shifted_by_pool = shift_report(image, kernels, 2, 2, pool=2)
    assert shifted_by_pool["global_average"] < 1e-12  # a shift by a multiple of the pool window regroups nothing


# --- verification ---------------------------------------------------------------------------------------------------


def test_pair_features_match_a_hand_loop():
    a, b = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    b[0, 0] = a[0, 0] = 0.0
    chi = chi_square_features(a, b, eps=1e-6)
    for i in range(4):
        for k in range(6):
            assert absolute_features(a, b)[i, k] == abs(a[i, k] - b[i, k])
            assert chi[i, k] == pytest.approx((a[i, k] - b[i, k]) ** 2 / (abs(a[i, k]) + abs(b[i, k]) + 1e-6))
    assert chi[0, 0] == 0.0  # 0 / eps, not 0 / 0
    np.testing.assert_array_equal(chi, chi_square_features(b, a, eps=1e-6))
    with pytest.raises(ValueError, match="same shape"):
        chi_square_features(a, b[:, :3])


def test_database_queries_give_the_same_answers_both_ways_and_encode_less_when_stored():
    calls = []
    projection = rng.standard_normal((2 * 2 * 1, 3))

    def encode(images):
        calls.append(len(images))
        return images.reshape(len(images), -1) @ projection

    database, queries = rng.random((5, 2, 2, 1)), rng.random((4, 2, 2, 1))
    result = time_database_queries(encode, database, queries)
    stored = database.reshape(5, -1) @ projection
    expected = [int(np.argmin([np.linalg.norm(q.ravel() @ projection - s) for s in stored])) for q in queries]
    assert result["answers_recomputed"] == result["answers_precomputed"] == expected
    assert closest(queries[0].ravel() @ projection, stored)[0] == expected[0]
    # recomputed: per query, the query and the whole database; precomputed: the database once, then each query
    assert calls == [1, 5] * 4 + [5] + [1] * 4
    assert result["recomputed_s"] > 0 and result["precomputed_s"] > 0


@pytest.mark.parametrize("shape, pool", [((8, 8, 2), 2), ((9, 7, 3), 2), ((12, 10, 1), 3)])
def test_max_pool_blocks_is_pool_forward_with_stride_equal_to_the_window(shape, pool):
    from cnncourse.analysis.translation import max_pool_blocks
    from cnncourse.ops.pool import pool_forward

    maps = np.random.default_rng(sum(shape)).normal(size=shape)
    expected = pool_forward(maps[None], {"f": pool, "stride": pool})[0][0]
    np.testing.assert_array_equal(max_pool_blocks(maps, pool), expected)
