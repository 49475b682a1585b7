"""cnncourse.analysis.volume and cnncourse.diagrams.c1 against independent oracles: scipy.signal.correlate2d summed
over the channels, hand counts of the parameters, a colour edge worked by hand."""

import matplotlib
import numpy as np
import pytest
from scipy import signal

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cnncourse.analysis.edges import EDGE_FILTERS  # noqa: E402
from cnncourse.analysis.volume import (channel_filter, channel_terms, conv_volume, stack_filters,  # noqa: E402
                                       two_colour_image, volume_parameters)
from cnncourse.diagrams.c1 import convolution_volume  # noqa: E402

rng = np.random.default_rng(124)


@pytest.mark.parametrize("pad", [0, 1])
def test_conv_volume_is_correlate2d_summed_over_channels(pad):
    image = rng.random((9, 8, 3))
    W = rng.standard_normal((3, 3, 3, 4))
    b = rng.standard_normal(4)
    out = conv_volume(image, W, b, pad=pad)
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)))
    expected = np.stack([sum(signal.correlate2d(padded[:, :, k], W[:, :, k, c], mode="valid") for k in range(3))
                         + b[c] for c in range(4)], axis=-1)
    assert out.shape == (9 + 2 * pad - 2, 8 + 2 * pad - 2, 4)
    np.testing.assert_allclose(out, expected)


def test_channel_terms_are_per_channel_correlations_and_sum_to_the_output():
    image = rng.random((7, 7, 3))
    filter3d = rng.standard_normal((3, 3, 3))
    terms = channel_terms(image, filter3d)
    for k in range(3):
        np.testing.assert_allclose(terms[:, :, k], signal.correlate2d(image[:, :, k], filter3d[:, :, k], "valid"))
    np.testing.assert_allclose(terms.sum(axis=-1), conv_volume(image, filter3d[..., None])[:, :, 0])


def test_channel_filter_and_stack():
    edge = EDGE_FILTERS["vertical edge"]
    red_only = channel_filter(edge, [0])
    np.testing.assert_array_equal(red_only[:, :, 0], edge)
    np.testing.assert_array_equal(red_only[:, :, 1:], 0)
    red_minus_green = channel_filter(edge, {0: 1.0, 1: -1.0})
    np.testing.assert_array_equal(red_minus_green[:, :, 1], -edge)
    W = stack_filters([red_only, red_minus_green])
    assert W.shape == (3, 3, 3, 2)
    np.testing.assert_array_equal(W[:, :, :, 1], red_minus_green)
    with pytest.raises(ValueError):
        channel_filter(edge, [3])
    with pytest.raises(ValueError):
        stack_filters([red_only, edge])


def test_a_red_green_edge_of_equal_brightness_by_hand():
    # red (1, 0, 0) left, green (0, 1, 0) right: a window over red red green gives, per channel, 3 * (1 - 0) = 3 on
    # red and 3 * (0 - 1) = -3 on green; the same filter on all channels sums them to 0, red only keeps 3
    image = two_colour_image(6)
    edge = EDGE_FILTERS["vertical edge"]
    out = conv_volume(image, stack_filters([channel_filter(edge, [0, 1, 2]), channel_filter(edge, [0])]))
    np.testing.assert_array_equal(out[:, :, 0], 0)
    np.testing.assert_array_equal(out[:, :, 1], np.array([[0, 3, 3, 0]] * 4, dtype=float))


@pytest.mark.parametrize("f, n_C_prev, n_C, by_hand", [(3, 3, 1, 28), (3, 3, 2, 56), (5, 3, 6, 456),
                                                      (3, 64, 128, 73856)])
def test_volume_parameters_by_hand(f, n_C_prev, n_C, by_hand):
    # 5x5x3 with 6 filters: (75 + 1) * 6 = 456; VGG-16's block2_conv1: (3*3*64 + 1) * 128 = 73,856
    assert volume_parameters(f, n_C_prev, n_C) == by_hand


def test_volume_parameters_rejects_bad_sizes():
    with pytest.raises(ValueError):
        volume_parameters(0, 3, 1)


@pytest.mark.parametrize("shape, f, n_C, pad", [((64, 64, 3), 3, 2, 0), ((32, 20, 3), 5, 4, 2), ((10, 10, 1), 3, 1, 1)])
def test_convolution_volume_draws_with_the_computed_shapes(shape, f, n_C, pad):
    fig = convolution_volume(*shape, f=f, n_C=n_C, pad=pad)
    out = conv_volume(np.zeros(shape), np.zeros((f, f, shape[2], n_C)), pad=pad)  # the shape the code really gives
    texts = [t.get_text() for t in fig.axes[0].texts] + [fig.axes[0].get_title()]
    assert f"output\n({out.shape[0]}, {out.shape[1]}, {n_C})" in texts
    assert f"input\n{shape}" in texts
    assert sum(f"filter {c + 1}\n({f}, {f}, {shape[2]})" in texts for c in range(n_C)) == n_C
    assert fig.axes[0].get_title().endswith(f"= {(f * f * shape[2] + 1) * n_C}")
    plt.close(fig)
