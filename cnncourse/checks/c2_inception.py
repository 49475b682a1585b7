"""Checks of Chapter 2's 1x1 convolution and Inception module (the cost counts are checked in c2_mobile).

Oracles: keras Conv2D with a 1x1 kernel and a per-pixel numpy loop for conv1x1_forward; an Inception module built
independently from GoogLeNet's table (cnncourse.models.twins.build_inception_block), compared layer by layer and output by output, for inception_module.
"""

import numpy as np

from cnncourse.checks.architecture import (expect_rebuildable, expect_same_behaviour, expect_same_graph,
                                           expect_same_rows, layer_rows)
from cnncourse.checks.core import expect_close, fail, likely_mistake
from cnncourse.models.twins import build_inception_block


# --- 1x1 convolution ----------------------------------------------------------------------------------

def _keras_conv1x1(A_prev, W, b, relu):
    import keras

    layer = keras.layers.Conv2D(W.shape[1], 1, activation="relu" if relu else None,
                                kernel_initializer="zeros")  # set below; zeros skip a random draw
    layer.build(A_prev.shape)
    layer.set_weights([W.reshape(1, 1, *W.shape), b])
    return np.asarray(layer(A_prev))


def _loop_conv1x1(A_prev, W, b, relu):
    m, n_H, n_W, _ = A_prev.shape
    Z = np.zeros((m, n_H, n_W, W.shape[1]))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                Z[i, h, w] = A_prev[i, h, w] @ W + b
    return np.maximum(Z, 0) if relu else Z


def _conv1x1_case(fn, shape, n_C, relu, oracle, seed):
    rng = np.random.default_rng(seed)
    A_prev = rng.standard_normal(shape).astype("float32")
    W = rng.standard_normal((shape[3], n_C)).astype("float32")
    b = rng.standard_normal(n_C).astype("float32")
    case = f"A_prev {shape}, W {W.shape}, relu {relu}"
    try:
        got = fn(A_prev, W, b, relu=relu)
    except Exception as err:  # noqa: BLE001 - the student reads what went wrong
        fail(f"conv1x1_forward raised {type(err).__name__}: {err}", case)
    Z = np.einsum("mhwc,cn->mhwn", A_prev.astype(np.float64), W.astype(np.float64))
    wrong = [("the ReLU is missing (relu=True)", lambda: Z + b if relu else None),
             ("the ReLU was applied although relu=False", lambda: None if relu else np.maximum(Z + b, 0)),
             ("the bias b is missing", lambda: np.maximum(Z, 0) if relu else Z),
             ("the bias was added after the ReLU: max(0, W^T a + b), b inside", lambda: np.maximum(Z, 0) + b)]
    expect_close(got, oracle(A_prev, W, b, relu), "conv1x1_forward", case, rtol=1e-4, atol=1e-5,
                 hint=likely_mistake(got, wrong, rtol=1e-4, atol=1e-5) or
                 "each pixel's output is W^T @ (its n_C_prev channels) + b, then ReLU when relu is True")


def public_conv1x1_forward(conv1x1_forward):
    """32 channels to 8 on a small batch, with and without ReLU, against keras's 1x1 Conv2D with the same weights."""
    _conv1x1_case(conv1x1_forward, (2, 3, 3, 32), 8, True, _keras_conv1x1, 0)
    _conv1x1_case(conv1x1_forward, (2, 3, 3, 32), 8, False, _keras_conv1x1, 1)


def hidden_conv1x1_forward(conv1x1_forward):
    """More channels than before and fewer, odd sizes, against a loop over every pixel."""
    _conv1x1_case(conv1x1_forward, (3, 4, 5, 6), 10, True, _loop_conv1x1, 2)
    _conv1x1_case(conv1x1_forward, (1, 2, 7, 11), 1, False, _loop_conv1x1, 3)
    _conv1x1_case(conv1x1_forward, (4, 3, 3, 1), 5, True, _loop_conv1x1, 4)


# --- the Inception module -----------------------------------------------------------------------------

def inception_rows(input_shape, filters, name):
    """Expected (name, class, output shape, parameters) rows of an Inception module, from its table."""
    n_H, n_W, n_C_prev = input_shape
    out = filters["1x1"] + filters["3x3"] + filters["5x5"] + filters["pool_proj"]

    def conv(suffix, n_in, n_out, f):
        return (f"{name}_{suffix}", "Conv2D", (n_H, n_W, n_out), (f * f * n_in + 1) * n_out)

    return [
        conv("1x1", n_C_prev, filters["1x1"], 1),
        conv("3x3_reduce", n_C_prev, filters["3x3_reduce"], 1),
        conv("3x3", filters["3x3_reduce"], filters["3x3"], 3),
        conv("5x5_reduce", n_C_prev, filters["5x5_reduce"], 1),
        conv("5x5", filters["5x5_reduce"], filters["5x5"], 5),
        (f"{name}_pool", "MaxPooling2D", (n_H, n_W, n_C_prev), 0),
        conv("pool_proj", n_C_prev, filters["pool_proj"], 1),
        (f"{name}_concat", "Concatenate", (n_H, n_W, out), 0),
    ]


INCEPTION_HINTS = {
    "_concat": "concatenate the four branches' last layers in the docstring's order: 1x1, 3x3, 5x5, pool_proj",
    "_reduce": "the 1x1 reductions read the module's input",
    "_3x3": "the 3x3 convolution reads the output of its 1x1 reduction (..._3x3_reduce)",
    "_5x5": "the 5x5 convolution reads the output of its 1x1 reduction (..._5x5_reduce)",
    "_pool_proj": "the pool branch's 1x1 projection reads the max pool's output",
    "": "ReLU after every convolution (activation='relu'), the max pool without one",
}


def _inception_case(fn, input_shape, filters, name, outputs):
    import keras

    case = f"input {input_shape}, filters {filters}, name {name!r}"
    x = keras.Input(input_shape)
    try:
        out = fn(x, dict(filters), name)
    except Exception as err:  # noqa: BLE001 - the student reads what went wrong, not a Keras stack trace
        fail(f"inception_module raised {type(err).__name__}: {err}", case,
             hint="every branch keeps the height and width (padding 'same', stride 1) so that they can be concatenated")
    if not isinstance(out, keras.KerasTensor):
        fail(f"inception_module returned a {type(out).__name__}, expected a Keras tensor", case,
             hint="return the output of the Concatenate layer")
    model = keras.Model(x, out)
    expect_rebuildable(model, "inception_module", case)
    expect_same_rows(layer_rows(model), inception_rows(input_shape, filters, name), "inception_module", case,
                     hint="four branches: 1x1; 1x1 then 3x3; 1x1 then 5x5; 3x3 max pool (stride 1, 'same') then 1x1")
    oracle = build_inception_block(input_shape, filters, name)
    expect_same_graph(model, oracle, "inception_module", case, hints=INCEPTION_HINTS)
    if outputs:  # no BatchNormalization and no dropout: inference and training mode compute the same
        expect_same_behaviour(model, oracle, "inception_module", case, rtol=1e-4, atol=1e-4,
                              hint="ReLU after every convolution; concatenate the branches in the order 1x1, 3x3, "
                                   "5x5, pool, on the channels (axis -1)")


def public_inception_module(inception_module):
    """GoogLeNet's inception (3a): 28x28x192 in, 28x28x256 out, every layer's shape, parameters, activation and
    inputs: the branches' order in the concatenation, a missing 1x1 reduction or ReLU fail here."""
    from cnncourse.models.c2_inception import INCEPTION_3A

    _inception_case(inception_module, (28, 28, 192), dict(INCEPTION_3A), "3a", outputs=False)


def hidden_inception_module(inception_module):
    """Other sizes, filters and names, and equal outputs with the same random weights."""
    small = {"1x1": 4, "3x3_reduce": 3, "3x3": 6, "5x5_reduce": 2, "5x5": 5, "pool_proj": 3}
    _inception_case(inception_module, (6, 5, 8), small, "4b", outputs=True)
    other = {"1x1": 1, "3x3_reduce": 7, "3x3": 2, "5x5_reduce": 3, "5x5": 1, "pool_proj": 9}
    _inception_case(inception_module, (4, 4, 3), other, "mixed", outputs=True)
    equal = {"1x1": 3, "3x3_reduce": 2, "3x3": 3, "5x5_reduce": 2, "5x5": 3, "pool_proj": 3}  # branches of one width:
    _inception_case(inception_module, (5, 7, 4), equal, "5a", outputs=True)  # only the order tells them apart
