"""The numpy reference layers against TensorFlow, and their refusal of bad input."""

import numpy as np
import pytest
import tensorflow as tf

from cnncourse.ops import conv, counting, pool
from cnncourse.ops.gradcheck import numerical_gradient, rel_error
from cnncourse.ops.vectorized import conv_forward_vectorized

rng = np.random.default_rng(0)


@pytest.mark.parametrize("stride,pad", [(1, 0), (1, 1), (2, 0), (2, 2), (3, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vectorized_and_loop_forward_match_tf(stride, pad, dtype):
    A = rng.standard_normal((2, 9, 7, 3)).astype(dtype)
    W = rng.standard_normal((3, 3, 3, 5)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, 5)).astype(dtype)
    want = tf.nn.conv2d(A, W, stride, [[0, 0], [pad, pad], [pad, pad], [0, 0]]).numpy() + b.reshape(-1)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for forward in (conv.conv_forward, conv_forward_vectorized):
        Z, _ = forward(A, W, b, {"stride": stride, "pad": pad})
        np.testing.assert_allclose(Z, want, rtol=tol, atol=tol)


def test_conv_backward_matches_numerical_gradient():
    A, W, b = rng.standard_normal((1, 4, 4, 2)), rng.standard_normal((2, 2, 2, 3)), rng.standard_normal((1, 1, 1, 3))
    hp = {"stride": 2, "pad": 1}
    Z, cache = conv.conv_forward(A, W, b, hp)
    dZ = rng.standard_normal(Z.shape)
    dA, dW, db = conv.conv_backward(dZ, cache)
    assert rel_error(dA, numerical_gradient(lambda x: conv.conv_forward(x, W, b, hp)[0], A, dZ)) < 1e-7
    assert rel_error(dW, numerical_gradient(lambda x: conv.conv_forward(A, x, b, hp)[0], W, dZ)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda x: conv.conv_forward(A, W, x, hp)[0], b, dZ)) < 1e-7


BAD_CALLS = [
    ("zero_pad rank", lambda: conv.zero_pad(np.zeros((3, 3)), 1), "4 dimensions"),
    ("zero_pad negative", lambda: conv.zero_pad(np.zeros((1, 3, 3, 1)), -1), "pad must be an integer >= 0"),
    ("zero_pad list", lambda: conv.zero_pad([[1.0]], 1), "numpy array"),
    ("conv ints", lambda: conv.conv_forward(np.zeros((1, 4, 4, 1), int), np.zeros((2, 2, 1, 1)),
                                            np.zeros((1, 1, 1, 1)), {"stride": 1, "pad": 0}), "floating dtype"),
    ("conv channels", lambda: conv.conv_forward(np.zeros((1, 4, 4, 2)), np.zeros((2, 2, 3, 1)),
                                                np.zeros((1, 1, 1, 1)), {"stride": 1, "pad": 0}), "W (f, f, n_C_prev, n_C)"),
    ("conv bias", lambda: conv.conv_forward(np.zeros((1, 4, 4, 1)), np.zeros((2, 2, 1, 3)),
                                            np.zeros((3,)), {"stride": 1, "pad": 0}), "b (1, 1, 1, n_C)"),
    ("conv stride 0", lambda: conv.conv_forward(np.zeros((1, 4, 4, 1)), np.zeros((2, 2, 1, 1)),
                                                np.zeros((1, 1, 1, 1)), {"stride": 0, "pad": 0}), 'hparams["stride"]'),
    ("conv missing key", lambda: conv.conv_forward(np.zeros((1, 4, 4, 1)), np.zeros((2, 2, 1, 1)),
                                                   np.zeros((1, 1, 1, 1)), {"stride": 1}), "missing ['pad']"),
    ("filter too big", lambda: conv.conv_forward(np.zeros((1, 2, 2, 1)), np.zeros((5, 5, 1, 1)),
                                                 np.zeros((1, 1, 1, 1)), {"stride": 1, "pad": 0}), "does not fit"),
    ("pool mode", lambda: pool.pool_forward(np.zeros((1, 4, 4, 1)), {"f": 2, "stride": 2}, "min"), "mode must be"),
    ("pool float f", lambda: pool.pool_forward(np.zeros((1, 4, 4, 1)), {"f": 2.0, "stride": 2}), 'hparams["f"]'),
    ("output_size bool", lambda: conv.output_size(5, True, 0, 1), "f must be an integer"),
    ("count zero filters", lambda: counting.conv_vs_dense_parameters(8, 8, 3, 3, 0), "n_C must be"),
]


@pytest.mark.parametrize("name,call,words", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_raises_a_clear_value_error(name, call, words):
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value)
