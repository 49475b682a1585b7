"""Chapter 2, parts 1 and 2: LeNet-5, LRN, AlexNet, VGG-16, residual blocks, ResNet-50, 1x1 convolution, Inception.

Each check must pass the package's reference and fail on a typical mistake with a message that names the case.
"""

import keras
import numpy as np
import pytest
from keras import layers

from cnncourse.checks import CheckFailed
from cnncourse.checks import c2_classic, c2_inception, c2_resnet
from cnncourse.models import c2_classic as classic
from cnncourse.models import c2_inception as inception
from cnncourse.models import c2_resnet as resnet
from cnncourse.ops.one_by_one import conv1x1_forward

REFERENCES = [
    (c2_classic, "lenet5", classic.lenet5),
    (c2_classic, "local_response_normalization", classic.LocalResponseNormalization),
    (c2_classic, "alexnet", classic.alexnet),
    (c2_classic, "vgg16", classic.vgg16),
    (c2_resnet, "identity_block", resnet.identity_block),
    (c2_resnet, "convolutional_block", resnet.convolutional_block),
    (c2_resnet, "resnet50", resnet.resnet50),
    (c2_inception, "conv1x1_forward", conv1x1_forward),
    (c2_inception, "inception_module", inception.inception_module),
]


@pytest.mark.parametrize("checks, name, reference", REFERENCES, ids=[r[1] for r in REFERENCES])
@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_pass_the_reference(checks, name, reference, kind):
    getattr(checks, f"{kind}_{name}")(reference)


def test_published_parameter_counts():
    assert classic.lenet5().count_params() == 61_706
    assert classic.vgg16().count_params() == 138_357_544
    assert resnet.resnet50().count_params() == 25_636_712
    assert inception.inception_block_model().output.shape[1:] == (28, 28, 256)


# --- typical mistakes ------------------------------------------------------------------------------------

def lenet5_variant(pooling, activation):
    """LeNet-5 with the right shapes and parameters but another pooling or activation: only outputs tell."""
    def build(input_shape=(28, 28, 1), n_classes=10):
        inputs = keras.Input(input_shape)
        x = layers.Conv2D(6, 5, padding="same", activation=activation, name="conv1")(inputs)
        x = pooling(2, name="pool1")(x)
        x = layers.Conv2D(16, 5, activation=activation, name="conv2")(x)
        x = pooling(2, name="pool2")(x)
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(120, activation=activation, name="fc1")(x)
        x = layers.Dense(84, activation=activation, name="fc2")(x)
        return keras.Model(inputs, layers.Dense(n_classes, activation="softmax", name="predictions")(x))

    build.__name__ = f"lenet5_{pooling.__name__}_{activation}"
    return build


def lenet5_fixed_input(input_shape=(28, 28, 1), n_classes=10):
    """Ignores its arguments: right on the public case only."""
    return classic.lenet5()


class LRNOverWidth(classic.LocalResponseNormalization):
    """Sums the squares over neighbouring columns instead of neighbouring channels."""

    def call(self, inputs):
        r, n_W = self.depth_radius, inputs.shape[2]
        padded = keras.ops.pad(keras.ops.square(inputs), [[0, 0], [0, 0], [r, r], [0, 0]])
        sqr_sum = sum(padded[:, :, s:s + n_W, :] for s in range(2 * r + 1))
        return inputs / keras.ops.power(self.bias + self.alpha * sqr_sum, self.beta)


class LRNAlphaOverN(classic.LocalResponseNormalization):
    """Divides alpha by the window size, as some libraries do: not tf.nn's definition."""

    def call(self, inputs):
        r, n_C = self.depth_radius, inputs.shape[-1]
        padded = keras.ops.pad(keras.ops.square(inputs), [[0, 0], [0, 0], [0, 0], [r, r]])
        sqr_sum = sum(padded[..., s:s + n_C] for s in range(2 * r + 1))
        return inputs / keras.ops.power(self.bias + self.alpha / (2 * r + 1) * sqr_sum, self.beta)


class LRNCallsTensorFlow(classic.LocalResponseNormalization):
    """Right values, but by calling the very op the exercise asks to write."""

    def call(self, inputs):
        import tensorflow as tf

        return tf.nn.local_response_normalization(inputs, self.depth_radius, self.bias, self.alpha, self.beta)


def vgg16_block4_256(input_shape=(224, 224, 3), n_classes=1000):
    """Block 4 with 256 filters (copied from block 3) instead of 512."""
    inputs = keras.Input(input_shape)
    x = inputs
    for b, (filters, n_convs) in enumerate([(64, 2), (128, 2), (256, 3), (256, 3), (512, 3)], start=1):
        for i in range(1, n_convs + 1):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"block{b}_conv{i}")(x)
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(4096, activation="relu", name="fc1")(x)
    x = layers.Dense(4096, activation="relu", name="fc2")(x)
    return keras.Model(inputs, layers.Dense(n_classes, activation="softmax", name="predictions")(x))


def identity_block_relu_before_add(x, f, filters, stage_name):
    """Applies the ReLU to the main path and then adds the shortcut: a[l+2] = relu(z) + a[l]."""
    F1, F2, F3 = filters
    shortcut = x
    for k, (n, size) in enumerate([(F1, 1), (F2, f), (F3, 1)], start=1):
        x = layers.Conv2D(n, size, padding="same", name=f"{stage_name}_{k}_conv")(x)
        x = layers.BatchNormalization(axis=3, epsilon=resnet.BN_EPSILON, name=f"{stage_name}_{k}_bn")(x)
        x = layers.Activation("relu", name=f"{stage_name}_{k if k < 3 else 'out'}_relu")(x)
    return layers.Add(name=f"{stage_name}_add")([shortcut, x])


def convolutional_block_stride_in_middle(x, f, filters, stage_name, stride=2):
    """Puts the stride on the fxf convolution instead of the first 1x1: same shapes, other outputs."""
    F1, F2, F3 = filters
    shortcut = layers.Conv2D(F3, 1, strides=stride, name=f"{stage_name}_0_conv")(x)
    shortcut = layers.BatchNormalization(axis=3, epsilon=resnet.BN_EPSILON, name=f"{stage_name}_0_bn")(shortcut)
    x = layers.Conv2D(F1, 1, name=f"{stage_name}_1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=resnet.BN_EPSILON, name=f"{stage_name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{stage_name}_1_relu")(x)
    x = layers.Conv2D(F2, f, strides=stride, padding="same", name=f"{stage_name}_2_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=resnet.BN_EPSILON, name=f"{stage_name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{stage_name}_2_relu")(x)
    x = layers.Conv2D(F3, 1, name=f"{stage_name}_3_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=resnet.BN_EPSILON, name=f"{stage_name}_3_bn")(x)
    x = layers.Add(name=f"{stage_name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{stage_name}_out")(x)


def resnet50_stride_in_conv2(input_shape=(224, 224, 3), n_classes=1000):
    """Gives conv2's first block stride 2 like the later stages: every map after it is half as big."""
    saved = resnet.RESNET50_STAGES
    resnet.RESNET50_STAGES = [(name, n, filters, 2) for name, n, filters, _ in saved]
    try:
        return resnet.resnet50(input_shape, n_classes)
    finally:
        resnet.RESNET50_STAGES = saved


def conv1x1_without_relu(A_prev, W, b, relu=True):
    return conv1x1_forward(A_prev, W, b, relu=False)


def conv1x1_without_bias(A_prev, W, b, relu=True):
    return conv1x1_forward(A_prev, W, np.zeros_like(b), relu)


def inception_wrong_order(x, filters=None, name="3a"):
    """Concatenates the pooling branch first."""
    filters = filters or inception.INCEPTION_3A
    out = inception.inception_module(x, filters, name)
    branches = out._keras_history.operation.input  # [1x1, 3x3, 5x5, pool] outputs of the right module
    return layers.Concatenate(name=f"{name}_concat2")([branches[3], branches[0], branches[1], branches[2]])


def inception_without_bottleneck(x, filters=None, name="3a"):
    """Runs the 3x3 and 5x5 convolutions on the input directly: no 1x1 reduction."""
    filters = filters or inception.INCEPTION_3A

    def conv(inputs, n, size, suffix):
        return layers.Conv2D(n, size, padding="same", activation="relu", name=f"{name}_{suffix}")(inputs)

    pooled = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    return layers.Concatenate(name=f"{name}_concat")([
        conv(x, filters["1x1"], 1, "1x1"), conv(x, filters["3x3"], 3, "3x3"), conv(x, filters["5x5"], 5, "5x5"),
        conv(pooled, filters["pool_proj"], 1, "pool_proj")])


MISTAKES = [
    (c2_classic.hidden_lenet5, lenet5_variant(layers.MaxPooling2D, "tanh"), "AveragePooling2D"),
    (c2_classic.hidden_lenet5, lenet5_variant(layers.AveragePooling2D, "relu"), "tanh"),
    (c2_classic.hidden_lenet5, lenet5_fixed_input, "32, 32, 3"),
    (c2_classic.public_local_response_normalization, LRNOverWidth, "channels"),
    (c2_classic.hidden_local_response_normalization, LRNAlphaOverN, "depth_radius"),
    (c2_classic.hidden_local_response_normalization, LRNCallsTensorFlow, "tf.nn.local_response_normalization"),
    (c2_classic.public_vgg16, vgg16_block4_256, "block4_conv1"),
    (c2_resnet.public_identity_block, identity_block_relu_before_add, "identity_block"),
    (c2_resnet.hidden_convolutional_block, convolutional_block_stride_in_middle, "stride"),
    (c2_resnet.public_resnet50, resnet50_stride_in_conv2, "conv2_block1"),
    (c2_inception.public_conv1x1_forward, conv1x1_without_relu, "relu"),
    (c2_inception.hidden_conv1x1_forward, conv1x1_without_bias, "conv1x1_forward"),
    (c2_inception.public_inception_module, inception_wrong_order, "inception_module"),
    (c2_inception.public_inception_module, inception_without_bottleneck, "3x3"),
]


@pytest.mark.parametrize("check, mistake, expected_words", MISTAKES, ids=[m[1].__name__ for m in MISTAKES])
def test_checks_catch_typical_mistakes(check, mistake, expected_words):
    with pytest.raises(CheckFailed) as failure:
        check(mistake)
    assert expected_words.lower() in str(failure.value).lower()


# --- bad arguments get clear errors ----------------------------------------------------------------------

@pytest.mark.parametrize("call, words", [
    (lambda: classic.lenet5((28, 28)), "input_shape"),
    (lambda: classic.lenet5((8, 8, 1)), ">= 12"),
    (lambda: classic.alexnet(n_classes=0), "n_classes"),
    (lambda: classic.vgg16((224, 224, 3.5)), "input_shape"),
    (lambda: classic.LocalResponseNormalization(beta=-1), "beta"),
    (lambda: resnet.identity_block(keras.Input((8, 8, 16)), 3, (4, 4, 8), "b"), "F3 = 8"),
    (lambda: resnet.convolutional_block(keras.Input((8, 8, 16)), 3, (4, 4), "b"), "(F1, F2, F3)"),
    (lambda: resnet.convolutional_block(keras.Input((8, 8, 16)), 3, (4, 4, 8), "b", stride=0), "stride"),
    (lambda: inception.inception_module(keras.Input((8, 8, 16)), {"1x1": 4}), "keys"),
    (lambda: conv1x1_forward(np.zeros((1, 2, 2, 3)), np.zeros((4, 5)), np.zeros(5)), "W"),
    (lambda: conv1x1_forward(np.zeros((1, 2, 2, 3)), np.zeros((3, 5)), np.zeros(4)), "b"),
])
def test_bad_arguments_raise_clear_errors(call, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        call()


def test_conv1x1_is_a_dense_layer_per_pixel():
    rng = np.random.default_rng(3)
    A, W, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((5, 2)), rng.standard_normal(2)
    got = conv1x1_forward(A, W, b, relu=False)
    assert got.shape == (2, 3, 4, 2)
    np.testing.assert_allclose(got[1, 2, 3], A[1, 2, 3] @ W + b)
    assert (conv1x1_forward(A, W, b) >= 0).all()
