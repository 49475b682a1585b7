"""Checks of Chapter 2's MobileNet part: the cost counts and the v1 / v2 blocks.

Public checks use the notebook's worked example (a 6x6x3 input, 3x3 filters, a 4x4x5 output: 2160 multiplications
for the normal convolution, 432 + 240 = 672 for the separable one) and the block shapes. Hidden checks count
multiplications independently, from the kernels of Keras layers (each kernel weight is used once per output
position), and compare the blocks with the blocks Keras itself builds (keras.src.applications), row by row and
output by output with the same random weights, at other shapes, strides and filter counts.
"""

import numbers

import numpy as np

from cnncourse.checks.architecture import (expect_rebuildable, expect_same_behaviour, expect_same_graph,
                                           expect_same_rows, kind_rows, layer_rows)
from cnncourse.checks.core import expect_close, expect_equal, expect_type, fail, likely_mistake

WORKED = {"n_H_out": 4, "n_W_out": 4, "f": 3, "n_C_prev": 3, "n_C": 5}  # 6x6x3 -> 4x4x5 with 3x3 filters
INPUT_SCALE = 20.0  # the block checks scale their random input so that ReLU6's clipping at 6 shows in the outputs


# --- costs --------------------------------------------------------------------------------------------

def _count(fn, case, what):
    try:
        value = fn(**case)
    except Exception as err:  # noqa: BLE001 - the student reads what went wrong
        fail(f"{what} raised {type(err).__name__}: {err}", case)
    expect_type(value, numbers.Integral, f"{what} (a number of multiplications)", case,
                hint="return a Python int: a product of the integer arguments")
    return int(value)


def _keras_counts(n_H_out, n_W_out, f, n_C_prev, n_C):
    """(normal, separable) multiplications from the kernels of Keras layers: positions * kernel weights."""
    import keras

    shape = (None, n_H_out + f - 1, n_W_out + f - 1, n_C_prev)  # "valid" input that gives the wanted output size
    # only the kernels' shapes are read: zeros cost nothing, where JAX compiles a random draw per new shape
    normal = keras.layers.Conv2D(n_C, f, use_bias=False, kernel_initializer="zeros")
    separable = keras.layers.SeparableConv2D(n_C, f, use_bias=False, depthwise_initializer="zeros",
                                             pointwise_initializer="zeros")
    counts = []
    for layer in (normal, separable):
        layer.build(shape)
        out = layer.compute_output_shape(shape)
        positions = out[1] * out[2]
        counts.append(positions * sum(int(np.prod(w.shape)) for w in layer.weights))
    return tuple(counts)


def _random_layers(seed, n=12):
    rng = np.random.default_rng(seed)
    return [{"n_H_out": int(rng.integers(1, 30)), "n_W_out": int(rng.integers(1, 30)), "f": int(rng.integers(1, 8)),
             "n_C_prev": int(rng.integers(1, 70)), "n_C": int(rng.integers(1, 130))} for _ in range(n)]


def _keras_bottleneck_count(n_H_out, n_W_out, f, n_C_prev, n_C, bottleneck):
    """Multiplications of a 1x1 Conv2D to `bottleneck` channels then a "same" fxf Conv2D, from their kernels."""
    import keras

    x = keras.Input((n_H_out, n_W_out, n_C_prev))
    total = 0
    for layer in (keras.layers.Conv2D(bottleneck, 1, kernel_initializer="zeros"),  # shapes only, as above
                  keras.layers.Conv2D(n_C, f, padding="same", kernel_initializer="zeros")):
        x = layer(x)
        total += int(np.prod(layer.kernel.shape)) * x.shape[1] * x.shape[2]
    return total


def _conv_mistakes(n_H_out, n_W_out, f, n_C_prev, n_C, bottleneck=None):
    """(hint, wrong count) of the usual mistakes in conv_multiplications, for likely_mistake."""
    out = n_H_out * n_W_out
    if bottleneck is None:
        return [("the input channels n_C_prev are missing: each output value reads f * f * n_C_prev inputs",
                 out * n_C * f * f),
                ("f is not squared: the window has f * f positions", out * n_C * f * n_C_prev),
                ("a bias was counted as a multiplication: it is an addition", out * n_C * (f * f * n_C_prev + 1))]
    direct = out * n_C * f * f * n_C_prev
    reduce = out * bottleneck * n_C_prev
    return [("the bottleneck was ignored: with it, the f x f convolution reads `bottleneck` channels", direct),
            ("only the 1x1 reduction was counted: add the f x f convolution on the bottleneck", reduce),
            ("the f x f convolution still reads n_C_prev channels: after the 1x1 reduction it reads `bottleneck`",
             direct + reduce),
            ("only the f x f convolution on the bottleneck was counted: add the 1x1 reduction", out * n_C * f * f *
             bottleneck)]


def public_conv_multiplications(fn):
    """The worked example (2160), a 1x1 convolution on a non-square output, and Inception's 5x5 branch:
    28x28x192 to 28x28x32, directly (120,422,400) and through a bottleneck of 16 channels (12,443,648)."""
    for case, want in ((WORKED, 2160), ({"n_H_out": 2, "n_W_out": 3, "f": 1, "n_C_prev": 4, "n_C": 7}, 168)):
        expect_equal(_count(fn, case, "conv_multiplications"), want, "conv_multiplications", case,
                     hint="each of the n_H_out * n_W_out * n_C output values costs f * f * n_C_prev products")
    inception = {"n_H_out": 28, "n_W_out": 28, "f": 5, "n_C_prev": 192, "n_C": 32}
    expect_equal(_count(fn, inception, "conv_multiplications"), _keras_counts(**inception)[0],
                 "conv_multiplications", inception)
    case = {**inception, "bottleneck": 16}
    expect_equal(_count(fn, case, "conv_multiplications"), _keras_bottleneck_count(**case), "conv_multiplications",
                 case, hint="the 1x1 convolution to the bottleneck, plus the fxf convolution on the bottleneck")


def hidden_conv_multiplications(fn):
    """Random layers, counted from the kernels of Keras Conv2D layers, without and with a bottleneck."""
    rng = np.random.default_rng(5)
    for case in _random_layers(seed=21):
        got = _count(fn, case, "conv_multiplications")
        want, _ = _keras_counts(**case)
        expect_equal(got, want, "conv_multiplications", case,
                     hint=likely_mistake(got, _conv_mistakes(**case)) or "n_H_out * n_W_out * n_C * f * f * n_C_prev")
        case = {**case, "bottleneck": int(rng.integers(1, 40))}
        got = _count(fn, case, "conv_multiplications")
        expect_equal(got, _keras_bottleneck_count(**case), "conv_multiplications", case,
                     hint=likely_mistake(got, _conv_mistakes(**case)) or
                     "1x1: n_H_out * n_W_out * bottleneck * n_C_prev; then f x f on `bottleneck` channels")


def public_depthwise_separable_multiplications(fn):
    """The worked example: 432 (depthwise) + 240 (pointwise) = 672."""
    got = _count(fn, WORKED, "depthwise_separable_multiplications")
    hint = None
    if got == 432:
        hint = ("you counted the depthwise step only: add the pointwise 1x1 convolution, "
                "n_H_out * n_W_out * n_C_prev * n_C")
    elif got == 240:
        hint = "you counted the pointwise step only: add the depthwise step, n_H_out * n_W_out * n_C_prev * f * f"
    expect_equal(got, 672, "depthwise_separable_multiplications", WORKED, hint=hint)
    case = {"n_H_out": 1, "n_W_out": 2, "f": 5, "n_C_prev": 2, "n_C": 3}
    expect_equal(_count(fn, case, "depthwise_separable_multiplications"), 1 * 2 * 2 * 25 + 1 * 2 * 2 * 3,
                 "depthwise_separable_multiplications", case)


def _separable_mistakes(n_H_out, n_W_out, f, n_C_prev, n_C):
    """(hint, wrong count) of the usual mistakes in depthwise_separable_multiplications, for likely_mistake."""
    depthwise, pointwise = n_H_out * n_W_out * n_C_prev * f * f, n_H_out * n_W_out * n_C_prev * n_C
    return [("only the depthwise step was counted: add the pointwise 1x1 convolution", depthwise),
            ("only the pointwise step was counted: add the depthwise f x f step", pointwise),
            ("the depthwise step has one filter per INPUT channel (n_C_prev), not per output channel",
             n_H_out * n_W_out * n_C * f * f + pointwise),
            ("the two steps' counts are added, not multiplied", depthwise * n_C)]


def hidden_depthwise_separable_multiplications(fn):
    """Random layers, counted from the two kernels of a Keras SeparableConv2D."""
    for case in _random_layers(seed=22):
        got = _count(fn, case, "depthwise_separable_multiplications")
        _, want = _keras_counts(**case)
        expect_equal(got, want, "depthwise_separable_multiplications", case,
                     hint=likely_mistake(got, _separable_mistakes(**case)) or
                     "depthwise n_H_out * n_W_out * n_C_prev * f * f plus pointwise n_H_out * n_W_out * n_C_prev * n_C")


def _ratio(fn, f, n_C):
    case = {"f": f, "n_C": n_C}
    try:
        value = fn(f, n_C)
    except Exception as err:  # noqa: BLE001
        fail(f"separable_cost_ratio raised {type(err).__name__}: {err}", case)
    expect_type(value, numbers.Real, "separable_cost_ratio", case, hint="return a float")
    return value, case


def public_separable_cost_ratio(fn):
    """The worked example: 672 / 2160 = 1/5 + 1/9."""
    value, case = _ratio(fn, 3, 5)
    expect_close(value, 672 / 2160, "separable_cost_ratio", case, rtol=1e-9,
                 hint="divide the separable count by the normal one: n_H_out, n_W_out and n_C_prev cancel out")
    value, case = _ratio(fn, 3, 256)  # MobileNet's case: about 8 to 9 times cheaper
    expect_close(value, 1 / 256 + 1 / 9, "separable_cost_ratio", case, rtol=1e-9)


def hidden_separable_cost_ratio(fn):
    """Random (f, n_C): the ratio of the Keras-counted multiplications, at a random output size and n_C_prev."""
    for case in _random_layers(seed=23, n=10):
        normal, separable = _keras_counts(**case)
        value, short = _ratio(fn, case["f"], case["n_C"])
        f, n_C = case["f"], case["n_C"]
        wrong = [("f is not squared: 1 / n_C + 1 / f ** 2", 1 / n_C + 1 / f),
                 ("the ratio is upside down: separable / normal, which is below 1", normal / separable),
                 ("the pointwise part 1 / n_C is missing", 1 / f ** 2), ("the depthwise part 1 / f ** 2 is missing",
                                                                         1 / n_C)]
        expect_close(value, separable / normal, "separable_cost_ratio", short, rtol=1e-9,
                     hint=likely_mistake(value, wrong, rtol=1e-9) or "1 / n_C + 1 / f ** 2")


# --- blocks ------------------------------------------------------------------------------------------

def _keras_blocks():
    """Keras's own block builders: the private functions keras.applications.MobileNet / MobileNetV2 call."""
    from keras.src.applications.mobilenet import _depthwise_conv_block
    from keras.src.applications.mobilenet_v2 import _inverted_res_block

    return _depthwise_conv_block, _inverted_res_block


def _block_model(build, shape, what, case):
    """keras.Model of one block on a (scaled) input of `shape`; a failure to build is a CheckFailed."""
    import keras

    inputs = keras.Input(shape=shape)
    scaled = keras.layers.Rescaling(INPUT_SCALE, name="check_input_scale")(inputs)
    try:
        out = build(scaled)
    except Exception as err:  # noqa: BLE001
        fail(f"{what} raised {type(err).__name__}: {err}", case,
             hint="the residual Add needs the same shapes: only when stride == 1 and n_C_prev == filters")
    if not isinstance(out, keras.KerasTensor):
        fail(f"{what}: expected the Keras tensor of the block's last layer, got {type(out).__name__}", case,
             hint="return x, the output of the last layer")
    return keras.Model(inputs, out)


BLOCK_HINTS = {
    "_add": "the skip connection adds the block's input to the projection's BatchNormalization (..._project_BN), "
            "only when stride == 1 and n_C_prev == filters",
    "project_BN": "the projection is linear: no ReLU6 after its BatchNormalization",
    "_relu": "ReLU6 (layers.ReLU(6.0)) after the expansion's and the depthwise convolution's BatchNormalization",
    "_pad": "with stride 2 the ZeroPadding2D comes right before the depthwise convolution",
    "": "each layer reads the previous one: conv, BN, ReLU6 (the projection without ReLU6)",
}


def _compare_block(fn, reference, shape, args, what, seed):
    case = {"input_shape": shape, **args}
    model = _block_model(lambda x: fn(x, **args), shape, what, case)
    expect_rebuildable(model, what, case)
    want_model = _block_model(reference, shape, f"Keras's {what}", case)
    expect_same_rows(kind_rows(layer_rows(model), model), kind_rows(layer_rows(want_model), want_model), what, case,
                     hint="use the layer names, kinds and settings of the docstring (no bias, BatchNormalization)")
    expect_same_graph(model, want_model, what, case, hints=BLOCK_HINTS)
    expect_same_behaviour(model, want_model, what, case, seed=seed, training=(False, True),
                          hint="ReLU6 is ReLU(6.0) (keras.layers.ReLU(max_value=6)), and the projection is linear")


def _check_v1(fn, cases, seed):
    keras_v1, _ = _keras_blocks()
    for k, (shape, filters, stride, block_id) in enumerate(cases):
        args = {"filters": filters, "stride": stride, "block_id": block_id}
        reference = (lambda x, a=args: keras_v1(x, a["filters"], 1.0, 1, strides=(a["stride"],) * 2,
                                                block_id=a["block_id"]))
        _compare_block(fn, reference, shape, args, "depthwise_separable_block", seed + k)


def public_depthwise_separable_block(fn):
    """Blocks 1 (stride 1) and 2 (stride 2) of MobileNet v1 at a 16x16x32 input: shapes, layers and outputs."""
    cases = [((16, 16, 32), 64, 1, 1), ((16, 16, 32), 64, 2, 2)]
    _check_v1(fn, cases, seed=31)


def hidden_depthwise_separable_block(fn):
    """Odd and non-square inputs, other filters and block ids, against keras.applications' own block."""
    cases = [((15, 9, 24), 40, 2, 7), ((7, 7, 48), 16, 1, 12), ((6, 10, 8), 8, 2, 4), ((5, 3, 3), 24, 1, 13)]
    _check_v1(fn, cases, seed=41)


def _check_v2(fn, cases, seed):
    _, keras_v2 = _keras_blocks()
    for k, (shape, expansion, filters, stride, block_id) in enumerate(cases):
        args = {"expansion": expansion, "filters": filters, "stride": stride, "block_id": block_id}
        reference = (lambda x, a=args: keras_v2(x, a["expansion"], a["stride"], 1.0, a["filters"], a["block_id"]))
        _compare_block(fn, reference, shape, args, "inverted_residual_block", seed + k)


def public_inverted_residual_block(fn):
    """Blocks 0, 1 and 2 of MobileNet v2 at a 16x16 input: no expansion, stride 2, and a residual Add; then a stride-2
    block whose input and output have the same channels (no Add: the shapes differ). Separates the usual mistakes:
    a ReLU6 after the projection (the bottleneck is linear), ReLU for ReLU6 (the input is scaled so that values pass
    6), the Add on every block whose channels agree, symmetric padding for stride 2, an expansion in block 0."""
    cases = [((16, 16, 32), 1, 16, 1, 0), ((16, 16, 16), 6, 24, 2, 1), ((8, 8, 24), 6, 24, 1, 2),
             ((8, 8, 24), 6, 24, 2, 3)]
    _check_v2(fn, cases, seed=51)


def hidden_inverted_residual_block(fn):
    """Odd sizes, stride 2 with n_C_prev == filters (no Add), other expansions, against Keras's own block."""
    cases = [((9, 11, 16), 3, 16, 2, 5), ((6, 6, 32), 4, 32, 1, 11), ((7, 5, 24), 6, 40, 1, 9),
             ((10, 10, 8), 1, 8, 1, 0), ((12, 7, 8), 2, 16, 2, 14)]
    _check_v2(fn, cases, seed=61)
