"""Chapter 2, MobileNet: the cost counts, the v1 / v2 blocks and networks, and the checks that grade them."""

import keras
import pytest
from keras import layers

from cnncourse.checks import CheckFailed
from cnncourse.checks import c2_mobile as checks
from cnncourse.checks.architecture import layer_rows
from cnncourse.models import c2_mobile
from cnncourse.ops import c2_costs

REFERENCES = {
    "conv_multiplications": c2_costs.conv_multiplications,
    "depthwise_separable_multiplications": c2_costs.depthwise_separable_multiplications,
    "separable_cost_ratio": c2_costs.separable_cost_ratio,
    "depthwise_separable_block": c2_mobile.depthwise_separable_block,
    "inverted_residual_block": c2_mobile.inverted_residual_block,
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_pass_the_reference(name, kind):
    getattr(checks, f"{kind}_{name}")(REFERENCES[name])


def test_worked_example():
    assert c2_costs.conv_multiplications(4, 4, 3, 3, 5) == 2160
    assert c2_costs.depthwise_separable_multiplications(4, 4, 3, 3, 5) == 432 + 240 == 672
    assert c2_costs.separable_cost_ratio(3, 5) == pytest.approx(672 / 2160)


# --- typical mistakes ------------------------------------------------------------------------------------

def conv_without_channels(n_H_out, n_W_out, f, n_C_prev, n_C):
    return n_H_out * n_W_out * n_C * f * f


def conv_float(n_H_out, n_W_out, f, n_C_prev, n_C):
    return float(n_H_out * n_W_out * n_C * f * f * n_C_prev)


def conv_square_output(n_H_out, n_W_out, f, n_C_prev, n_C):
    return n_H_out * n_H_out * n_C * f * f * n_C_prev


def conv_f_not_squared(n_H_out, n_W_out, f, n_C_prev, n_C):
    return n_H_out * n_W_out * n_C * f * n_C_prev * (3 if f == 3 else 1)  # right for 3x3 and 1x1 filters only


def separable_without_pointwise(n_H_out, n_W_out, f, n_C_prev, n_C):
    return n_H_out * n_W_out * n_C_prev * f * f


def separable_depthwise_over_outputs(n_H_out, n_W_out, f, n_C_prev, n_C):
    return n_H_out * n_W_out * n_C * f * f + n_H_out * n_W_out * n_C_prev * n_C


def separable_f_cubed_when_large(n_H_out, n_W_out, f, n_C_prev, n_C):
    right = n_H_out * n_W_out * n_C_prev * (f * f + n_C)
    return right if f <= 5 else right + 1


def ratio_f_not_squared(f, n_C):
    return 1 / n_C + 1 / f


def ratio_for_three_by_three(f, n_C):
    return 1 / n_C + 1 / 9


def v1_block(x, filters, stride, block_id, relu_max=6.0, bn=True, bias=False, pad=True):
    """MobileNet v1's block with switches for the mistakes."""
    same = stride == 1 or not pad
    if not same:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same" if same else "valid", use_bias=bias,
                               name=f"conv_dw_{block_id}")(x)
    if bn:
        x = layers.BatchNormalization(name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(relu_max, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(filters, 1, use_bias=bias, name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(relu_max, name=f"conv_pw_{block_id}_relu")(x)


def v2_block(x, expansion, filters, stride, block_id, relu_max=6.0, bn=True, residual_ignores_stride=False,
             expand_from_filters=False, linear_projection=True, symmetric_pad=False):
    """MobileNet v2's block with switches for the mistakes."""
    inputs, n_C_prev = x, x.shape[-1]
    p = "expanded_conv_" if block_id == 0 else f"block_{block_id}_"
    norm = (lambda name: layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name=name)) if bn else \
        (lambda name: layers.Identity(name=name + "_missing"))
    if block_id:
        width = expansion * (filters if expand_from_filters else n_C_prev)
        x = layers.Conv2D(width, 1, use_bias=False, name=f"{p}expand")(x)
        x = layers.ReLU(relu_max, name=f"{p}expand_relu")(norm(f"{p}expand_BN")(x))
    if stride == 2:
        pad = ((1, 1), (1, 1)) if symmetric_pad else ((x.shape[1] % 2, 1), (x.shape[2] % 2, 1))
        x = layers.ZeroPadding2D(pad, name=f"{p}pad")(x)
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False,
                               name=f"{p}depthwise")(x)
    x = layers.ReLU(relu_max, name=f"{p}depthwise_relu")(norm(f"{p}depthwise_BN")(x))
    x = layers.Conv2D(filters, 1, use_bias=False, activation=None if linear_projection else "relu6",
                      name=f"{p}project")(x)
    x = norm(f"{p}project_BN")(x)
    if n_C_prev == filters and (stride == 1 or residual_ignores_stride):
        x = layers.Add(name=f"{p}add")([inputs, x])
    return x


def v1(**switches):
    return lambda x, filters, stride, block_id: v1_block(x, filters, stride, block_id, **switches)


def v2(**switches):
    return lambda x, expansion, filters, stride, block_id: v2_block(x, expansion, filters, stride, block_id,
                                                                      **switches)


MISTAKES = [  # (check, mistake, kinds of check that must catch it)
    ("conv_multiplications", conv_without_channels, ["public", "hidden"]),
    ("conv_multiplications", conv_float, ["public", "hidden"]),
    ("conv_multiplications", conv_square_output, ["public", "hidden"]),
    ("conv_multiplications", conv_f_not_squared, ["hidden"]),
    ("depthwise_separable_multiplications", separable_without_pointwise, ["public", "hidden"]),
    ("depthwise_separable_multiplications", separable_depthwise_over_outputs, ["public", "hidden"]),
    ("depthwise_separable_multiplications", separable_f_cubed_when_large, ["hidden"]),
    ("separable_cost_ratio", ratio_f_not_squared, ["public", "hidden"]),
    ("separable_cost_ratio", ratio_for_three_by_three, ["hidden"]),
    ("depthwise_separable_block", v1(relu_max=None), ["public", "hidden"]),
    ("depthwise_separable_block", v1(bn=False), ["public", "hidden"]),
    ("depthwise_separable_block", v1(bias=True), ["public", "hidden"]),
    ("depthwise_separable_block", v1(pad=False), ["public", "hidden"]),
    ("inverted_residual_block", v2(relu_max=None), ["public", "hidden"]),
    ("inverted_residual_block", v2(bn=False), ["public", "hidden"]),
    ("inverted_residual_block", v2(residual_ignores_stride=True), ["hidden"]),
    ("inverted_residual_block", v2(expand_from_filters=True), ["public", "hidden"]),
    ("inverted_residual_block", v2(linear_projection=False), ["public", "hidden"]),
    ("inverted_residual_block", v2(symmetric_pad=True), ["public", "hidden"]),
]


@pytest.mark.parametrize("name, mistake, kinds", MISTAKES,
                         ids=[f"{n}-{getattr(m, '__name__', 'block')}-{k}" for k, (n, m, _) in enumerate(MISTAKES)])
def test_checks_catch_typical_mistakes(name, mistake, kinds):
    for kind in kinds:
        with pytest.raises(CheckFailed, match=name):
            getattr(checks, f"{kind}_{name}")(mistake)


def test_the_mistake_switches_off_rebuild_the_reference():
    checks.hidden_depthwise_separable_block(v1())
    checks.hidden_inverted_residual_block(v2())


def test_public_messages_name_the_likely_mistake():
    with pytest.raises(CheckFailed, match="depthwise step only"):
        checks.public_depthwise_separable_multiplications(separable_without_pointwise)


# --- bad inputs ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [c2_costs.conv_multiplications, c2_costs.depthwise_separable_multiplications])
@pytest.mark.parametrize("args", [(0, 4, 3, 3, 5), (4, 4, 3, 3, -1), (4, 4, 3.0, 3, 5), (4, True, 3, 3, 5)])
def test_counts_reject_bad_arguments(fn, args):
    with pytest.raises(ValueError):
        fn(*args)


@pytest.mark.parametrize("args", [(0, 5), (3, 0), (3.5, 5), (3, "5")])
def test_ratio_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        c2_costs.separable_cost_ratio(*args)


def test_blocks_reject_bad_arguments():
    x = keras.Input(shape=(8, 8, 16))
    for bad in [dict(filters=0, stride=1, block_id=1), dict(filters=8, stride=3, block_id=1),
                dict(filters=8, stride=1, block_id=0), dict(filters=8.0, stride=1, block_id=1),
                dict(filters=8, stride=True, block_id=1), dict(filters=8, stride=2.0, block_id=1)]:
        with pytest.raises(ValueError):
            c2_mobile.depthwise_separable_block(x, **bad)
    for bad in [dict(expansion=0, filters=8, stride=1, block_id=1), dict(expansion=6, filters=8, stride=1, block_id=0),
                dict(expansion=6, filters=8, stride=(2, 2), block_id=1), dict(expansion=6, filters=8, stride=1,
                                                                             block_id=-1)]:
        with pytest.raises(ValueError):
            c2_mobile.inverted_residual_block(x, **bad)
    with pytest.raises(ValueError):
        c2_mobile.depthwise_separable_block(keras.Input(shape=(8,)), 8, 1, 1)
    with pytest.raises(ValueError):
        c2_mobile.inverted_residual_block(keras.Input(shape=(8,)), 6, 8, 1, 1)


@pytest.mark.parametrize("builder", [c2_mobile.mobilenet_v1, c2_mobile.mobilenet_v2])
@pytest.mark.parametrize("kwargs", [{"input_shape": (16, 16, 3)}, {"input_shape": (224, 224)},
                                    {"input_shape": (224, 224, 3), "n_classes": 0}])
def test_networks_reject_bad_arguments(builder, kwargs):
    with pytest.raises(ValueError):
        builder(**kwargs)


# --- whole networks against keras.applications -------------------------------------------------------------

KERAS_NETWORKS = {"mobilenet_v1": keras.applications.MobileNet, "mobilenet_v2": keras.applications.MobileNetV2}


def _pair(name, input_shape, n_classes):
    """(rows, params) of ours and of Keras's, each built in a fresh session (auto layer names restart at 0)."""
    keras.backend.clear_session()
    theirs = KERAS_NETWORKS[name](input_shape=input_shape, weights=None, classes=n_classes)
    want = (layer_rows(theirs), theirs.count_params(), theirs.name)
    keras.backend.clear_session()
    ours = getattr(c2_mobile, name)(input_shape, n_classes)
    return (layer_rows(ours), ours.count_params(), ours.name), want


@pytest.mark.parametrize("name, params", [("mobilenet_v1", 4_253_864), ("mobilenet_v2", 3_538_984)])
def test_networks_equal_keras_applications(name, params):
    got, want = _pair(name, (224, 224, 3), 1000)
    assert got[1] == want[1] == params
    assert got[0] == want[0]
    assert got[2] == want[2]


@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v2"])
def test_networks_equal_keras_applications_at_other_sizes(name):
    got, want = _pair(name, (97, 75, 3), 10)
    assert got[0] == want[0]
    assert got[1] == want[1]
