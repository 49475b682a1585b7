"""Chapter 4's transpose convolution (cnncourse.ops.c4_transpose) against TensorFlow, the hand-worked example, and
its checks (cnncourse.checks.c4_segmentation): they pass the reference and catch the typical mistakes."""

import numpy as np
import pytest

from cnncourse.checks import CheckFailed
from cnncourse.checks import c4_segmentation as checks
from cnncourse.ops.c4_transpose import conv_transpose_forward, transpose_output_size


def tf_reference(A, W, b, stride, pad):
    import tensorflow as tf

    f, n_C = W.shape[0], W.shape[3]
    full = [(n - 1) * stride + f for n in A.shape[1:3]]
    out = tf.nn.conv2d_transpose(A, W.transpose(0, 1, 3, 2), (A.shape[0], *full, n_C), stride, "VALID").numpy()
    return out[:, pad:full[0] - pad, pad:full[1] - pad, :] + b


def test_matches_tf_on_random_cases():
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(30):
        f, stride, pad = int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
        n_H, n_W = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        if (min(n_H, n_W) - 1) * stride + f - 2 * pad < 1:
            continue
        A = rng.standard_normal((int(rng.integers(1, 4)), n_H, n_W, int(rng.integers(1, 4))))
        W = rng.standard_normal((f, f, A.shape[3], int(rng.integers(1, 5))))
        b = rng.standard_normal(W.shape[3])
        Z = conv_transpose_forward(A, W, b, stride, pad)
        assert Z.shape == (A.shape[0], transpose_output_size(n_H, f, stride, pad),
                           transpose_output_size(n_W, f, stride, pad), W.shape[3])
        np.testing.assert_allclose(Z, tf_reference(A, W, b, stride, pad), rtol=1e-10, atol=1e-10)
        seen.add((stride, pad))
    assert len(seen) >= 6  # several strides and pads were really covered


def test_output_size_formula_and_its_errors():
    assert transpose_output_size(2, 3, 2, 1) == 3
    assert transpose_output_size(2, 3, 2, 0) == 5
    assert transpose_output_size(4, 4, 2, 1) == 8  # the usual "double the size" layer
    assert transpose_output_size(7, 1, 1, 0) == 7
    assert isinstance(transpose_output_size(np.int64(3), 2, 2, 0), int)
    for args in [(0, 3, 1, 0), (2, 0, 1, 0), (2, 3, 0, 0), (2, 3, 1, -1), (2.0, 3, 1, 0), (2, 3, True, 0)]:
        with pytest.raises(ValueError):
            transpose_output_size(*args)
    with pytest.raises(ValueError, match="crops the whole"):
        transpose_output_size(1, 2, 1, 1)  # canvas 2, both sides cropped: nothing left


def test_hand_worked_example_of_the_lecture():
    A = checks.LECTURE_INPUT[None, :, :, None]
    W = checks.LECTURE_FILTER[:, :, None, None]
    full = conv_transpose_forward(A, W, np.zeros(1), stride=2, pad=0)[0, :, :, 0]
    np.testing.assert_array_equal(full, checks.LECTURE_CANVAS)
    np.testing.assert_array_equal(full[1:, 1:], checks.LECTURE_OUTPUT_4X4)  # the lecture's 4x4 drawing
    np.testing.assert_array_equal(conv_transpose_forward(A, W, np.zeros(1), 2, 1)[0, :, :, 0], checks.LECTURE_PAD_1)
    # the hand-worked constants agree with the oracle written per output pixel
    np.testing.assert_array_equal(checks._by_output_pixel(A, W, 2, 0)[0, :, :, 0], checks.LECTURE_CANVAS)
    A1, W1 = checks.STRIDE_1_INPUT[None, :, :, None], checks.STRIDE_1_FILTER[:, :, None, None]
    np.testing.assert_array_equal(checks._by_output_pixel(A1, W1, 1, 0)[0, :, :, 0], checks.STRIDE_1_OUTPUT)
    np.testing.assert_array_equal(conv_transpose_forward(A1, W1, np.zeros(1))[0, :, :, 0], checks.STRIDE_1_OUTPUT)


def test_bad_inputs_say_what_is_wrong():
    A, W, b = np.ones((1, 2, 2, 3)), np.ones((3, 3, 3, 4)), np.ones(4)
    cases = [
        ((np.ones((2, 2, 3)), W, b), "A_prev"),
        ((A, np.ones((3, 2, 3, 4)), b), "W"),
        ((A, np.ones((3, 3, 4, 3)), np.ones(3)), "W"),  # kernel in Keras's layout
        ((A, W, np.ones((1, 1, 1, 4))), "b"),
        ((A.astype(int), W, b), "floating"),
        ((A.tolist(), W, b), "numpy array"),
    ]
    for args, word in cases:
        with pytest.raises(ValueError, match=word):
            conv_transpose_forward(*args)
    with pytest.raises(ValueError, match="stride"):
        conv_transpose_forward(A, W, b, stride=0)
    with pytest.raises(ValueError, match="crops the whole height"):
        conv_transpose_forward(np.ones((1, 1, 4, 3)), W, b, stride=1, pad=2)


# --- the checks --------------------------------------------------------------------------------------

REFERENCES = {"transpose_output_size": transpose_output_size, "conv_transpose_forward": conv_transpose_forward}


@pytest.mark.parametrize("name", sorted(REFERENCES))
@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_pass_the_reference(name, kind):
    getattr(checks, f"{kind}_{name}")(REFERENCES[name])


def _lay(A_prev, W, stride, overwrite=False):
    """The full canvas, filters laid with += (or = for the overwrite mistake)."""
    m, n_H, n_W, _ = A_prev.shape
    f = W.shape[0]
    canvas = np.zeros((m, (n_H - 1) * stride + f, (n_W - 1) * stride + f, W.shape[3]))
    for h in range(n_H):
        for w in range(n_W):
            scaled = np.einsum("ic,abcn->iabn", A_prev[:, h, w, :], W)
            region = (slice(None), slice(h * stride, h * stride + f), slice(w * stride, w * stride + f))
            canvas[region] = scaled if overwrite else canvas[region] + scaled
    return canvas


def ignoring_stride(A_prev, W, b, stride=1, pad=0):
    return conv_transpose_forward(A_prev, W, b, 1, pad)


def not_cropping(A_prev, W, b, stride=1, pad=0):
    return conv_transpose_forward(A_prev, W, b, stride, 0)


def overwriting(A_prev, W, b, stride=1, pad=0):
    canvas = _lay(A_prev, W, stride, overwrite=True)
    return canvas[:, pad:canvas.shape[1] - pad, pad:canvas.shape[2] - pad, :] + b


def swapping_kernel_channels(A_prev, W, b, stride=1, pad=0):
    return conv_transpose_forward(A_prev, W.transpose(0, 1, 3, 2), b, stride, pad)


def flipping_the_filter(A_prev, W, b, stride=1, pad=0):
    return conv_transpose_forward(A_prev, W[::-1, ::-1], b, stride, pad)


def forgetting_the_bias(A_prev, W, b, stride=1, pad=0):
    return conv_transpose_forward(A_prev, W, np.zeros_like(b), stride, pad)


def cropping_one_side(A_prev, W, b, stride=1, pad=0):
    canvas = _lay(A_prev, W, stride)
    return canvas[:, pad:, pad:, :] + b


def size_cropping_one_side(n_prev, f, stride, pad):
    return (n_prev - 1) * stride + f - pad


def size_without_minus_one(n_prev, f, stride, pad):
    return n_prev * stride + f - 2 * pad


MISTAKES = [
    ("conv_transpose_forward", ignoring_stride, "stride"),
    ("conv_transpose_forward", not_cropping, "crop"),
    ("conv_transpose_forward", overwriting, "overlap"),
    ("conv_transpose_forward", swapping_kernel_channels, "channels"),
    ("conv_transpose_forward", flipping_the_filter, "flip"),
    ("conv_transpose_forward", forgetting_the_bias, "bias"),
    ("conv_transpose_forward", cropping_one_side, "BOTH sides"),
    ("transpose_output_size", size_cropping_one_side, "BOTH sides"),
    ("transpose_output_size", size_without_minus_one, "(n_prev - 1) * stride"),
]


@pytest.mark.parametrize("name,wrong,word", MISTAKES, ids=[f"{m[0]}-{m[1].__name__}" for m in MISTAKES])
@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_catch_the_mistake(name, wrong, word, kind):
    with pytest.raises(CheckFailed) as info:
        getattr(checks, f"{kind}_{name}")(wrong)
    if kind == "public":  # public messages must point at the mistake
        assert word in str(info.value), str(info.value)


def test_message_names_expected_got_case_and_index():
    with pytest.raises(CheckFailed) as info:
        checks.public_conv_transpose_forward(lambda A, W, b, stride=1, pad=0: 1.01 * conv_transpose_forward(
            A, W, b, stride, pad))
    text = str(info.value)
    assert "expected" in text and "got" in text and "stride 2" in text and "index" in text, text


def test_hidden_message_names_the_oracle():
    with pytest.raises(CheckFailed) as info:
        checks.hidden_conv_transpose_forward(forgetting_the_bias)
    assert "tf.nn.conv2d_transpose" in str(info.value) and "padding" in str(info.value)
