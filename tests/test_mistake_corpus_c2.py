"""Chapter 2's mistake corpus (issue 26): for every graded function, plausible student mistakes that must fail its
hidden check (and its public check where the mistake is common), and correct alternatives that must pass both.

The checks are called directly, not through nbgrader. Whole models are written here as small variants of the
documented ones (one keyword changes one thing), so each entry says in its name and comment which mistake it is.
resnet50 calls the notebook's blocks by name: its hidden check swaps the course's blocks in (one mistake, one loss),
which test_resnet50_block_mistake_costs_the_block_only proves.
"""

import inspect

import keras
import numpy as np
import pytest
from keras import layers, ops

from cnncourse.checks import (c2_augment, c2_classic, c2_efficient, c2_inception, c2_mobile, c2_multicrop, c2_resnet,
                              c2_transfer)
from cnncourse.checks.core import CheckFailed
from cnncourse.models import c2_classic as classic
from cnncourse.models import c2_mobile as mobile
from cnncourse.models import c2_resnet as resnet
from cnncourse.models.c2_resnet import BN_EPSILON, RESNET50_STAGES
from cnncourse.ops import c2_multicrop as c2_multicrop_ops

CHECKS = {"lenet5": c2_classic, "local_response_normalization": c2_classic, "alexnet": c2_classic,
          "vgg16": c2_classic, "identity_block": c2_resnet, "convolutional_block": c2_resnet, "resnet50": c2_resnet,
          "conv1x1_forward": c2_inception, "inception_module": c2_inception, "conv_multiplications": c2_mobile,
          "depthwise_separable_multiplications": c2_mobile, "separable_cost_ratio": c2_mobile,
          "depthwise_separable_block": c2_mobile, "inverted_residual_block": c2_mobile,
          "compound_scaling": c2_efficient, "pca_color_augment": c2_augment, "data_augmenter": c2_augment,
          "multi_crop": c2_multicrop, "ensemble_predict": c2_multicrop, "add_new_head": c2_transfer,
          "unfreeze_top": c2_transfer}


# ---------------------------------------------------------------- lenet5
def _lenet(input_shape=(28, 28, 1), n_classes=10, act="tanh", pool=layers.AveragePooling2D, pad1="same",
           fc2_act="tanh", out_act="softmax"):
    inputs = keras.Input(input_shape)
    x = inputs
    for k, (filters, padding) in enumerate(((6, pad1), (16, "valid")), start=1):
        x = pool(2, name=f"pool{k}")(layers.Conv2D(filters, 5, padding=padding, activation=act, name=f"conv{k}")(x))
    x = layers.Flatten(name="flatten")(x)
    for name, units, activation in (("fc1", 120, act), ("fc2", 84, fc2_act)):
        x = layers.Dense(units, activation=activation, name=name)(x)
    return keras.Model(inputs, layers.Dense(n_classes, activation=out_act, name="predictions")(x))


def lenet_relu(input_shape=(28, 28, 1), n_classes=10):  # the modern habit: same table, other activation
    return _lenet(input_shape, n_classes, act="relu", fc2_act="relu")


def lenet_max_pool(input_shape=(28, 28, 1), n_classes=10):
    return _lenet(input_shape, n_classes, pool=layers.MaxPooling2D)


def lenet_valid_conv1(input_shape=(28, 28, 1), n_classes=10):  # the 32x32 original's padding on 28x28 digits
    return _lenet(input_shape, n_classes, pad1="valid")


def lenet_fc2_linear(input_shape=(28, 28, 1), n_classes=10):  # activation forgotten on one layer
    return _lenet(input_shape, n_classes, fc2_act=None)


def lenet_fixed_shape(input_shape=(28, 28, 1), n_classes=10):  # the arguments ignored
    return _lenet()


def lenet_sequential(input_shape=(28, 28, 1), n_classes=10):  # Sequential, activation functions instead of names
    tanh = keras.activations.tanh
    return keras.Sequential([
        keras.Input(input_shape),
        layers.Conv2D(6, (5, 5), padding="same", activation=tanh, name="conv1"),
        layers.AveragePooling2D((2, 2), strides=(2, 2), name="pool1"),
        layers.Conv2D(16, (5, 5), padding="valid", activation=tanh, name="conv2"),
        layers.AveragePooling2D(pool_size=2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(120, activation=tanh, name="fc1"),
        layers.Dense(84, activation=tanh, name="fc2"),
        layers.Dense(n_classes, activation=keras.activations.softmax, name="predictions"),
    ])


# ---------------------------------------------------------------- LocalResponseNormalization
class _LRN(keras.layers.Layer):
    """LRN with the documented constructor; subclasses change how the sum of squares is taken."""

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        if depth_radius < 0:
            raise ValueError("depth_radius must be >= 0")
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def window(self):
        return -self.depth_radius, self.depth_radius

    def sqr_sum(self, inputs):  # zero padding on the channels, then the shifted slices
        n_C, (lo, hi) = inputs.shape[-1], self.window()
        padded = ops.pad(ops.square(inputs), [[0, 0], [0, 0], [0, 0], [-lo, hi]])
        return sum(padded[..., k:k + n_C] for k in range(hi - lo + 1))

    def scale(self):
        return self.alpha

    def call(self, inputs):
        return inputs / ops.power(self.bias + self.scale() * self.sqr_sum(inputs), self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape


class LRNWrapsAround(_LRN):  # np.roll-style shifts: the first channel's window takes the last channels
    def sqr_sum(self, inputs):
        squares = ops.square(inputs)
        r = self.depth_radius
        return sum(ops.roll(squares, k, axis=-1) for k in range(-r, r + 1))


class LRNAlphaOverN(_LRN):  # Caffe's convention: alpha divided by the window size n = 2r + 1
    def scale(self):
        return self.alpha / (2 * self.depth_radius + 1)


class LRNOneSided(_LRN):  # channels d .. d + r only
    def window(self):
        return 0, self.depth_radius


class LRNCallsTensorFlow(_LRN):  # the exercise done by the library
    def call(self, inputs):
        import tensorflow as tf

        return tf.nn.local_response_normalization(inputs, self.depth_radius, self.bias, self.alpha, self.beta)


class LRNSpatial(_LRN):  # neighbours along the width instead of the channels
    def sqr_sum(self, inputs):
        n_W, r = inputs.shape[2], self.depth_radius
        padded = ops.pad(ops.square(inputs), [[0, 0], [0, 0], [r, r], [0, 0]])
        return sum(padded[:, :, k:k + n_W] for k in range(2 * r + 1))


class LRNCumsum(_LRN):  # a running sum over the channels: window = cumsum[d + r] - cumsum[d - r - 1]
    def sqr_sum(self, inputs):
        r, n_C = self.depth_radius, inputs.shape[-1]
        c = ops.cumsum(ops.pad(ops.square(inputs), [[0, 0], [0, 0], [0, 0], [r + 1, r]]), axis=-1)
        return c[..., 2 * r + 1:2 * r + 1 + n_C] - c[..., :n_C]


class LRNMatrix(_LRN):  # a band matrix: sqr_sum = squares @ B with B[j, d] = 1 when |j - d| <= r
    def sqr_sum(self, inputs):
        n_C = inputs.shape[-1]
        j, d = np.meshgrid(np.arange(n_C), np.arange(n_C), indexing="ij")
        return ops.matmul(ops.square(inputs), ops.convert_to_tensor((abs(j - d) <= self.depth_radius), "float32"))


# ---------------------------------------------------------------- alexnet
def _alexnet(input_shape=(227, 227, 3), n_classes=1000, pad1="valid", lrn_after_pool=False, fc7_act="relu",
             lrn=classic.LocalResponseNormalization):
    inputs = keras.Input(input_shape)
    x = inputs
    for k, (filters, f, s, pad) in enumerate([(96, 11, 4, pad1), (256, 5, 1, "same")], start=1):
        x = layers.Conv2D(filters, f, strides=s, padding=pad, activation="relu", name=f"conv{k}")(x)
        if lrn_after_pool:
            x = lrn(name=f"lrn{k}")(layers.MaxPooling2D(3, 2, name=f"pool{k}")(x))
        else:
            x = layers.MaxPooling2D(3, 2, name=f"pool{k}")(lrn(name=f"lrn{k}")(x))
    for k, filters in ((3, 384), (4, 384), (5, 256)):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{k}")(x)
    x = layers.Flatten(name="flatten")(layers.MaxPooling2D(3, 2, name="pool5")(x))
    x = layers.Dropout(0.5, name="drop6")(layers.Dense(4096, activation="relu", name="fc6")(x))
    x = layers.Dropout(0.5, name="drop7")(layers.Dense(4096, activation=fc7_act, name="fc7")(x))
    return keras.Model(inputs, layers.Dense(n_classes, activation="softmax", name="predictions")(x))


def alexnet_same_conv1(input_shape=(227, 227, 3), n_classes=1000):
    return _alexnet(input_shape, n_classes, pad1="same")


def alexnet_lrn_after_pool(input_shape=(227, 227, 3), n_classes=1000):  # ZFNet's order
    return _alexnet(input_shape, n_classes, lrn_after_pool=True)


def alexnet_fc7_linear(input_shape=(227, 227, 3), n_classes=1000):  # same table: only the behaviour shows it
    return _alexnet(input_shape, n_classes, fc7_act=None)


def alexnet_fixed_shape(input_shape=(227, 227, 3), n_classes=1000):
    return _alexnet()


def alexnet_sequential(input_shape=(227, 227, 3), n_classes=1000):
    lrn = classic.LocalResponseNormalization
    return keras.Sequential([
        keras.Input(input_shape),
        layers.Conv2D(96, (11, 11), strides=(4, 4), activation="relu", name="conv1"), lrn(name="lrn1"),
        layers.MaxPooling2D((3, 3), strides=(2, 2), name="pool1"),
        layers.Conv2D(256, (5, 5), padding="same", activation="relu", name="conv2"), lrn(name="lrn2"),
        layers.MaxPooling2D((3, 3), strides=(2, 2), name="pool2"),
        layers.Conv2D(384, 3, padding="same", activation="relu", name="conv3"),
        layers.Conv2D(384, 3, padding="same", activation="relu", name="conv4"),
        layers.Conv2D(256, 3, padding="same", activation="relu", name="conv5"),
        layers.MaxPooling2D((3, 3), strides=(2, 2), name="pool5"),
        layers.Flatten(name="flatten"),
        layers.Dense(4096, activation="relu", name="fc6"), layers.Dropout(rate=0.5, name="drop6"),
        layers.Dense(4096, activation="relu", name="fc7"), layers.Dropout(rate=0.5, name="drop7"),
        layers.Dense(n_classes, activation="softmax", name="predictions"),
    ])


# ---------------------------------------------------------------- vgg16
VGG_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def _vgg(input_shape=(224, 224, 3), n_classes=1000, blocks=VGG_BLOCKS, padding="same", pool=layers.MaxPooling2D,
         fc2_act="relu", act="relu"):
    inputs = keras.Input(input_shape)
    x = inputs
    for b, (filters, n) in enumerate(blocks, start=1):
        for k in range(1, n + 1):
            x = layers.Conv2D(filters, 3, padding=padding, activation=act, name=f"block{b}_conv{k}")(x)
        x = pool(2, strides=2, name=f"block{b}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(4096, activation="relu", name="fc1")(x)
    x = layers.Dense(4096, activation=fc2_act, name="fc2")(x)
    return keras.Model(inputs, layers.Dense(n_classes, activation="softmax", name="predictions")(x))


def vgg_block3_two_convs(input_shape=(224, 224, 3), n_classes=1000):  # VGG-13's block 3
    return _vgg(input_shape, n_classes, blocks=((64, 2), (128, 2), (256, 2), (512, 3), (512, 3)))


def vgg_fc2_linear(input_shape=(224, 224, 3), n_classes=1000):  # same table: the graph shows it
    return _vgg(input_shape, n_classes, fc2_act=None)


def vgg_average_pools(input_shape=(224, 224, 3), n_classes=1000):
    return _vgg(input_shape, n_classes, pool=layers.AveragePooling2D)


def vgg_valid_padding(input_shape=(224, 224, 3), n_classes=1000):  # shrinks by 2 per convolution
    return _vgg(input_shape, n_classes, padding="valid")


def vgg_relu_layers(input_shape=(224, 224, 3), n_classes=1000):  # activation=keras.activations.relu, same model
    return _vgg(input_shape, n_classes, act=keras.activations.relu)


# ---------------------------------------------------------------- identity_block / convolutional_block
def _bn(name, epsilon=BN_EPSILON, axis=3):
    return layers.BatchNormalization(axis=axis, epsilon=epsilon, name=name)


def _main_path(x, f, filters, s, stride=1, epsilon=BN_EPSILON, axis=3, relu2=True, middle_stride=False,
               relu=lambda name: layers.Activation("relu", name=name), padding="valid"):
    F1, F2, F3 = filters

    def bn(t, name):
        return _bn(name, epsilon, axis)(t)

    x = layers.Conv2D(F1, 1, strides=1 if middle_stride else stride, padding=padding, name=f"{s}_1_conv")(x)
    x = relu(f"{s}_1_relu")(bn(x, f"{s}_1_bn"))
    x = layers.Conv2D(F2, f, strides=stride if middle_stride else 1, padding="same", name=f"{s}_2_conv")(x)
    x = bn(x, f"{s}_2_bn")
    if relu2:
        x = relu(f"{s}_2_relu")(x)
    x = layers.Conv2D(F3, 1, padding=padding, name=f"{s}_3_conv")(x)
    return bn(x, f"{s}_3_bn")


def _identity(add_after_relu=False, add=lambda s: layers.Add(name=f"{s}_add"), swap=False, **main):
    def identity_block(x, f, filters, stage_name):
        shortcut = x
        x = _main_path(x, f, filters, stage_name, **main)
        if add_after_relu:  # the ReLU first, then the shortcut: the block's output can be negative
            x = layers.Activation("relu", name=f"{stage_name}_out")(x)
            return add(stage_name)([x, shortcut])
        x = add(stage_name)([x, shortcut] if swap else [shortcut, x])
        return layers.Activation("relu", name=f"{stage_name}_out")(x)
    return identity_block


identity_add_after_relu = _identity(add_after_relu=True)
identity_no_second_relu = _identity(relu2=False)
identity_bn_axis_1 = _identity(axis=1)  # channels-first habit
identity_keras_epsilon = _identity(epsilon=1e-3)  # Coursera's BatchNormalization(axis=3)
identity_relu_layers = _identity(relu=lambda name: layers.ReLU(name=name), swap=True)  # ReLU layers, Add([main, x])
identity_functional_add = _identity(add=lambda s: (lambda ts: layers.add(ts, name=f"{s}_add")), axis=-1,
                                    padding="same")  # layers.add, axis -1, 1x1 convolutions with padding "same"


def _conv_block(shortcut_bn=True, shortcut_stride=True, main_first=False, **main):
    def convolutional_block(x, f, filters, stage_name, stride=2):
        def shortcut_of(t):
            t = layers.Conv2D(filters[2], 1, strides=stride if shortcut_stride else 1, name=f"{stage_name}_0_conv")(t)
            return _bn(f"{stage_name}_0_bn", main.get("epsilon", BN_EPSILON))(t) if shortcut_bn else t

        if main_first:  # the main path first, then the shortcut from the block's input: the same graph
            y = _main_path(x, f, filters, stage_name, stride=stride, **main)
            shortcut = shortcut_of(x)
        else:
            shortcut = shortcut_of(x)
            y = _main_path(x, f, filters, stage_name, stride=stride, **main)
        y = layers.Add(name=f"{stage_name}_add")([shortcut, y])
        return layers.Activation("relu", name=f"{stage_name}_out")(y)
    return convolutional_block


def conv_block_shortcut_after_relu(x, f, filters, stage_name, stride=2):
    """The shortcut's 1x1 convolution reads the main path's first ReLU (stride applied twice): wiring only."""
    F1, F2, F3 = filters
    x = layers.Conv2D(F1, 1, strides=stride, name=f"{stage_name}_1_conv")(x)
    x = layers.Activation("relu", name=f"{stage_name}_1_relu")(_bn(f"{stage_name}_1_bn")(x))
    branch = x
    x = layers.Conv2D(F2, f, padding="same", name=f"{stage_name}_2_conv")(x)
    x = layers.Activation("relu", name=f"{stage_name}_2_relu")(_bn(f"{stage_name}_2_bn")(x))
    x = _bn(f"{stage_name}_3_bn")(layers.Conv2D(F3, 1, name=f"{stage_name}_3_conv")(x))
    shortcut = _bn(f"{stage_name}_0_bn")(layers.Conv2D(F3, 1, name=f"{stage_name}_0_conv")(branch))
    x = layers.Add(name=f"{stage_name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{stage_name}_out")(x)


conv_block_no_shortcut_bn = _conv_block(shortcut_bn=False)
conv_block_shortcut_stride_1 = _conv_block(shortcut_stride=False)  # the Add then cannot match the shapes
conv_block_stride_on_3x3 = _conv_block(middle_stride=True)  # ResNet v1.5 (torchvision): same shapes, other outputs
conv_block_keras_epsilon = _conv_block(epsilon=1e-3)
conv_block_main_first = _conv_block(main_first=True, relu=lambda name: layers.ReLU(name=name))
conv_block_same_padding = _conv_block(padding="same", axis=-1)  # 1x1 "same" equals "valid", even with stride 2


# ---------------------------------------------------------------- resnet50
def _resnet50(input_shape=(224, 224, 3), n_classes=1000, pool1_pad=True, top="global", first_stride=None,
              relu_before_bn=False, stem_epsilon=BN_EPSILON, stem_relu=lambda: layers.Activation("relu",
                                                                                                 name="conv1_relu")):
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(layers.ZeroPadding2D(3, name="conv1_pad")(inputs))
    bn = layers.BatchNormalization(axis=3, epsilon=stem_epsilon, name="conv1_bn")
    x = bn(stem_relu()(x)) if relu_before_bn else stem_relu()(bn(x))
    if pool1_pad:
        x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, n_blocks, filters, stride in RESNET50_STAGES:
        stride = first_stride if first_stride and stage == "conv2" else stride
        x = resnet.convolutional_block(x, 3, filters, f"{stage}_block1", stride=stride)
        for block in range(2, n_blocks + 1):
            x = resnet.identity_block(x, 3, filters, f"{stage}_block{block}")
    if top == "coursera":
        x = layers.Flatten(name="flatten")(layers.AveragePooling2D(2, name="avg_pool")(x))
    else:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, layers.Dense(n_classes, activation="softmax", name="predictions")(x))


def resnet_coursera_stem(input_shape=(224, 224, 3), n_classes=1000):  # max pool without pool1_pad
    return _resnet50(input_shape, n_classes, pool1_pad=False)


def resnet_coursera_top(input_shape=(224, 224, 3), n_classes=1000):  # AveragePooling2D(2) and Flatten
    return _resnet50(input_shape, n_classes, top="coursera")


def resnet_conv2_stride_2(input_shape=(224, 224, 3), n_classes=1000):  # every stage starting with stride 2
    return _resnet50(input_shape, n_classes, first_stride=2)


def resnet_relu_before_bn(input_shape=(224, 224, 3), n_classes=1000):  # same table, the stem wired otherwise
    return _resnet50(input_shape, n_classes, relu_before_bn=True)


def resnet_stem_keras_epsilon(input_shape=(224, 224, 3), n_classes=1000):  # only the outputs show it
    return _resnet50(input_shape, n_classes, stem_epsilon=1e-3)


def resnet_relu_layer(input_shape=(224, 224, 3), n_classes=1000):
    return _resnet50(input_shape, n_classes, stem_relu=lambda: layers.ReLU(name="conv1_relu"))


# ---------------------------------------------------------------- conv1x1_forward
def conv1x1_no_relu(A_prev, W, b, relu=True):
    return np.einsum("mhwc,cn->mhwn", A_prev, W) + b


def conv1x1_no_bias(A_prev, W, b, relu=True):
    Z = np.einsum("mhwc,cn->mhwn", A_prev, W)
    return np.maximum(Z, 0) if relu else Z


def conv1x1_relu_before_bias(A_prev, W, b, relu=True):
    Z = np.einsum("mhwc,cn->mhwn", A_prev, W)
    return (np.maximum(Z, 0) if relu else Z) + b


def conv1x1_relu_always(A_prev, W, b, relu=True):
    return np.maximum(np.einsum("mhwc,cn->mhwn", A_prev, W) + b, 0)


def conv1x1_matmul(A_prev, W, b, relu=True):  # @ on the last axis
    Z = A_prev @ W + b
    return np.maximum(Z, 0) if relu else Z


def conv1x1_reshape(A_prev, W, b, relu=True):  # flatten the pixels, one matrix product, back
    m, n_H, n_W, n_C_prev = A_prev.shape
    Z = (A_prev.reshape(-1, n_C_prev) @ W + b).reshape(m, n_H, n_W, W.shape[1])
    return Z * (Z > 0) if relu else Z


# ---------------------------------------------------------------- inception_module
def _inception(order=("1x1", "3x3", "5x5", "pool_proj"), axis=-1, reduce=True, pool_act=True, pool_stride=1,
               act="relu"):
    def inception_module(x, filters=None, name="3a"):
        def conv(t, n, f, suffix, a=act):
            return layers.Conv2D(n, f, padding="same", activation=a, name=f"{name}_{suffix}")(t)

        b = {"1x1": conv(x, filters["1x1"], 1, "1x1")}
        r3 = conv(x, filters["3x3_reduce"], 1, "3x3_reduce") if reduce else x
        b["3x3"] = conv(r3, filters["3x3"], 3, "3x3")
        r5 = conv(x, filters["5x5_reduce"], 1, "5x5_reduce")
        b["5x5"] = conv(r5, filters["5x5"], 5, "5x5")
        pooled = layers.MaxPooling2D(3, strides=pool_stride, padding="same", name=f"{name}_pool")(x)
        b["pool_proj"] = conv(pooled, filters["pool_proj"], 1, "pool_proj", act if pool_act else None)
        return layers.Concatenate(axis=axis, name=f"{name}_concat")([b[k] for k in order])
    return inception_module


inception_pool_first = _inception(order=("pool_proj", "1x1", "3x3", "5x5"))  # the figure read from the left
inception_3x3_5x5_swapped = _inception(order=("1x1", "5x5", "3x3", "pool_proj"))
inception_no_3x3_reduction = _inception(reduce=False)  # the 3x3 reads the input: parameters differ
inception_pool_proj_linear = _inception(pool_act=False)  # same table: only the graph shows it
inception_concat_axis_1 = _inception(axis=1)  # concatenated on the height
inception_concat_axis_3 = _inception(axis=3)  # axis 3 is the channels of a 4-D tensor
inception_relu_function = _inception(act=keras.activations.relu)


# ---------------------------------------------------------------- costs
def mult_no_channels(n_H_out, n_W_out, f, n_C_prev, n_C, bottleneck=None):
    return n_H_out * n_W_out * n_C * f * f if bottleneck is None else \
        n_H_out * n_W_out * bottleneck + n_H_out * n_W_out * n_C * f * f


def mult_f_not_squared(n_H_out, n_W_out, f, n_C_prev, n_C, bottleneck=None):
    if bottleneck is None:
        return n_H_out * n_W_out * n_C * f * n_C_prev
    return n_H_out * n_W_out * bottleneck * n_C_prev + n_H_out * n_W_out * n_C * f * bottleneck


def mult_bottleneck_ignored(n_H_out, n_W_out, f, n_C_prev, n_C, bottleneck=None):
    return n_H_out * n_W_out * n_C * f * f * n_C_prev


def mult_bottleneck_1x1_only(n_H_out, n_W_out, f, n_C_prev, n_C, bottleneck=None):  # the fxf step forgotten
    if bottleneck is None:
        return n_H_out * n_W_out * n_C * f * f * n_C_prev
    return n_H_out * n_W_out * bottleneck * n_C_prev


def mult_bottleneck_fxf_on_input(n_H_out, n_W_out, f, n_C_prev, n_C, bottleneck=None):  # fxf still reads n_C_prev
    total = n_H_out * n_W_out * n_C * f * f * n_C_prev
    return total if bottleneck is None else total + n_H_out * n_W_out * bottleneck * n_C_prev


def mult_with_bias(n_H_out, n_W_out, f, n_C_prev, n_C, bottleneck=None):  # the bias counted as a product
    if bottleneck is None:
        return n_H_out * n_W_out * n_C * (f * f * n_C_prev + 1)
    return n_H_out * n_W_out * (bottleneck * (n_C_prev + 1) + n_C * (f * f * bottleneck + 1))


def mult_helper(n_H_out, n_W_out, f, n_C_prev, n_C, bottleneck=None):  # one helper called twice
    def conv(size, n_in, n_out):
        return n_H_out * n_W_out * size * size * n_in * n_out

    return conv(f, n_C_prev, n_C) if bottleneck is None else conv(1, n_C_prev, bottleneck) + conv(f, bottleneck, n_C)


def sep_depthwise_only(n_H_out, n_W_out, f, n_C_prev, n_C):
    return n_H_out * n_W_out * n_C_prev * f * f


def sep_pointwise_only(n_H_out, n_W_out, f, n_C_prev, n_C):
    return n_H_out * n_W_out * n_C_prev * n_C


def sep_depthwise_per_filter(n_H_out, n_W_out, f, n_C_prev, n_C):  # a depthwise filter per output channel
    return n_H_out * n_W_out * n_C * f * f + n_H_out * n_W_out * n_C_prev * n_C


def sep_product(n_H_out, n_W_out, f, n_C_prev, n_C):  # the two steps multiplied instead of added
    return n_H_out * n_W_out * n_C_prev * f * f * n_C


def sep_factored(n_H_out, n_W_out, f, n_C_prev, n_C):
    return n_H_out * n_W_out * n_C_prev * (f ** 2 + n_C)


def ratio_f_not_squared(f, n_C):
    return 1.0 / n_C + 1.0 / f


def ratio_inverted(f, n_C):  # normal / separable
    return 1.0 / (1.0 / n_C + 1.0 / f ** 2)


def ratio_pointwise_only(f, n_C):
    return 1.0 / f ** 2


def ratio_integer_division(f, n_C):  # Python 2 habit: 1 // n_C is 0
    return float(1 // n_C + 1 // f ** 2)


def ratio_counts(f, n_C):  # the two counts at any size, divided
    return sep_factored(1, 1, f, 1, n_C) / mult_helper(1, 1, f, 1, n_C)


# ---------------------------------------------------------------- depthwise_separable_block
def _v1(full_conv=False, relu=lambda name: layers.ReLU(6.0, name=name), pad=((0, 1), (0, 1)), bias=False,
        pw_relu=True, same_padding_stride_2=False):
    def depthwise_separable_block(x, filters, stride, block_id):
        if stride == 2 and not same_padding_stride_2:
            x = layers.ZeroPadding2D(pad, name=f"conv_pad_{block_id}")(x)
        padding = "same" if stride == 1 or same_padding_stride_2 else "valid"
        if full_conv:  # a normal convolution where the block has a depthwise one
            x = layers.Conv2D(x.shape[-1], 3, strides=stride, padding=padding, use_bias=bias,
                              name=f"conv_dw_{block_id}")(x)
        else:
            x = layers.DepthwiseConv2D(3, strides=stride, padding=padding, use_bias=bias,
                                       name=f"conv_dw_{block_id}")(x)
        x = relu(f"conv_dw_{block_id}_relu")(layers.BatchNormalization(name=f"conv_dw_{block_id}_bn")(x))
        x = layers.Conv2D(filters, 1, use_bias=bias, name=f"conv_pw_{block_id}")(x)
        x = layers.BatchNormalization(name=f"conv_pw_{block_id}_bn")(x)
        return relu(f"conv_pw_{block_id}_relu")(x) if pw_relu else x
    return depthwise_separable_block


v1_full_conv = _v1(full_conv=True)
v1_plain_relu = _v1(relu=lambda name: layers.ReLU(name=name))  # ReLU where MobileNet has ReLU6
v1_pad_top_left = _v1(pad=((1, 0), (1, 0)))  # same shapes, the window shifted by one pixel
v1_same_padding_stride_2 = _v1(same_padding_stride_2=True)  # no conv_pad layer
v1_with_bias = _v1(bias=True)
v1_relu6_activation = _v1(relu=lambda name: layers.Activation("relu6", name=name))
v1_relu6_function = _v1(relu=lambda name: layers.Activation(keras.activations.relu6, name=name))


# ---------------------------------------------------------------- inverted_residual_block
def _v2(add_always_if_shapes=False, add_on_stride_2=False, project_relu=False, relu=lambda n: layers.ReLU(6.0, name=n),
        pad=None, expand_on_block_0=False, add=lambda name: layers.Add(name=name), skip_order=False):
    def inverted_residual_block(x, expansion, filters, stride, block_id):
        inputs, n_C_prev = x, x.shape[-1]
        prefix = "expanded_conv_" if block_id == 0 else f"block_{block_id}_"

        def bn(t, suffix):
            return layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name=prefix + suffix)(t)

        if block_id != 0 or expand_on_block_0:
            x = layers.Conv2D(expansion * n_C_prev, 1, use_bias=False, name=prefix + "expand")(x)
            x = relu(prefix + "expand_relu")(bn(x, "expand_BN"))
        if stride == 2:
            padding = pad or ((x.shape[1] % 2, 1), (x.shape[2] % 2, 1))
            x = layers.ZeroPadding2D(padding, name=prefix + "pad")(x)
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False,
                                   name=prefix + "depthwise")(x)
        x = relu(prefix + "depthwise_relu")(bn(x, "depthwise_BN"))
        x = bn(layers.Conv2D(filters, 1, use_bias=False, name=prefix + "project")(x), "project_BN")
        if project_relu:
            x = relu(prefix + "project_relu")(x)
        skip = n_C_prev == filters and (stride == 1 or add_on_stride_2)
        if add_always_if_shapes:
            skip = tuple(inputs.shape) == tuple(x.shape)
        if skip:
            x = add(prefix + "add")([x, inputs] if skip_order else [inputs, x])
        return x
    return inverted_residual_block


v2_project_relu6 = _v2(project_relu=True)  # not a linear bottleneck
v2_add_on_stride_2 = _v2(add_on_stride_2=True)  # the Add attempted with stride 2: the shapes cannot match
v2_plain_relu = _v2(relu=lambda n: layers.ReLU(name=n))
v2_pad_one_each_side = _v2(pad=((1, 1), (1, 1)))  # symmetric padding: shapes change for even inputs
v2_expand_block_0 = _v2(expand_on_block_0=True)
v2_relu6_activation_and_swapped_add = _v2(relu=lambda n: layers.Activation("relu6", name=n), skip_order=True)
v2_shape_test = _v2(add_always_if_shapes=True)  # adds when the shapes agree: the documented rule, said otherwise


# ---------------------------------------------------------------- compound_scaling
def _scaling(depth, width, resolution, flops):
    def compound_scaling(phi, alpha=1.2, beta=1.1, gamma=1.15):
        if phi < 0 or alpha < 1 or beta < 1 or gamma < 1:
            raise ValueError("phi >= 0 and alpha, beta, gamma >= 1")
        return {"depth": depth(phi, alpha), "width": width(phi, beta), "resolution": resolution(phi, gamma),
                "flops": flops(phi, alpha, beta, gamma)}
    return compound_scaling


def _power(phi, base):
    return base ** phi


def _flops(phi, a, b, g):
    return (a * b ** 2 * g ** 2) ** phi


scaling_times_phi = _scaling(lambda p, a: a * p, lambda p, b: b * p, lambda p, g: g * p, _flops)
scaling_flops_not_squared = _scaling(_power, _power, _power, lambda p, a, b, g: (a * b * g) ** p)
scaling_flops_two_to_phi = _scaling(_power, _power, _power, lambda p, a, b, g: 2.0 ** p)  # the paper's "about"
scaling_flops_squares_swapped = _scaling(_power, _power, _power, lambda p, a, b, g: (a ** 2 * b * g ** 2) ** p)


def scaling_no_checks(phi, alpha=1.2, beta=1.1, gamma=1.15):  # the input checks removed
    return {"depth": alpha ** phi, "width": beta ** phi, "resolution": gamma ** phi,
            "flops": (alpha * beta ** 2 * gamma ** 2) ** phi}


scaling_numpy = _scaling(lambda p, a: float(np.power(a, p)), lambda p, b: float(np.power(b, p)),
                         lambda p, g: float(np.power(g, p)),
                         lambda p, a, b, g: float(np.power(a, p) * np.power(b, 2 * p) * np.power(g, 2 * p)))


# ---------------------------------------------------------------- pca_color_augment
def _pca(ddof=0, ascending=False, fix_sign=True, rows=False, sqrt=False, clip=True, centre=True):
    def pca_color_augment(image, alphas):
        if image.ndim != 3 or image.shape[-1] != 3 or image.min() < 0 or image.max() > 1:
            raise ValueError("image must be (H, W, 3) in [0, 1]")
        pixels = image.reshape(-1, 3).astype(np.float64)
        if centre:
            pixels = pixels - pixels.mean(axis=0)
        values, vectors = np.linalg.eigh(pixels.T @ pixels / (len(pixels) - ddof))
        if not ascending:
            values, vectors = values[::-1], vectors[:, ::-1]
        if fix_sign:
            vectors = vectors * np.sign(vectors[np.argmax(np.abs(vectors), axis=0), [0, 1, 2]])
        if rows:
            vectors = vectors.T
        values = np.sqrt(np.maximum(values, 0)) if sqrt else values
        out = image + vectors @ (np.asarray(alphas) * values)
        return np.clip(out, 0, 1) if clip else out
    return pca_color_augment


pca_ddof_1 = _pca(ddof=1)  # np.cov's default
pca_ascending = _pca(ascending=True)  # eigh's order kept: alphas[0] goes with the smallest eigenvalue
pca_unsigned = _pca(fix_sign=False)  # eigh's arbitrary signs
pca_rows = _pca(rows=True)  # eigenvectors read as the rows of eigh's matrix
pca_sqrt_lambda = _pca(sqrt=True)  # the standard deviation instead of the variance
pca_no_clip = _pca(clip=False)
pca_uncentred = _pca(centre=False)  # the second moment instead of the covariance


def pca_cov_eig_loop(image, alphas):  # np.cov(bias=True), np.linalg.eig, sorted by hand, the sign fixed in a loop
    if image.ndim != 3 or image.shape[-1] != 3 or image.min() < 0 or image.max() > 1:
        raise ValueError("image must be (H, W, 3) in [0, 1]")
    covariance = np.atleast_2d(np.cov(image.reshape(-1, 3), rowvar=False, bias=True))
    values, vectors = np.linalg.eig(covariance)
    values, vectors = values.real, vectors.real
    shift = np.zeros(3)
    for rank, i in enumerate(np.argsort(-values)):
        p = vectors[:, i]
        if p[np.argmax(np.abs(p))] < 0:
            p = -p
        shift += alphas[rank] * values[i] * p
    return np.minimum(np.maximum(image + shift, 0.0), 1.0)


# ---------------------------------------------------------------- data_augmenter
def _augmenter(*make):
    def data_augmenter():
        return keras.Sequential([m() for m in make])
    return data_augmenter


def _flip():
    return layers.RandomFlip("horizontal")


def _rotation():
    return layers.RandomRotation(0.2)


def _zoom():
    return layers.RandomZoom(height_factor=(-0.2, 0.0))


aug_flip_both_ways = _augmenter(layers.RandomFlip, _rotation, _zoom)  # RandomFlip()'s default flips up-down too
aug_flip_vertical = _augmenter(lambda: layers.RandomFlip("vertical"), _rotation, _zoom)
aug_rotation_half_turns = _augmenter(_flip, lambda: layers.RandomRotation(0.4), _zoom)  # 0.4 * 180 = 72: a half turn
aug_rotation_one_way = _augmenter(_flip, lambda: layers.RandomRotation((0.0, 0.2)), _zoom)
aug_zoom_both_ways = _augmenter(_flip, _rotation, lambda: layers.RandomZoom(0.2))  # zooms out too
aug_coursera_two_layers = _augmenter(_flip, _rotation)  # the random crop (zoom) left out
aug_rescaling = _augmenter(lambda: layers.Rescaling(1 / 255), _flip, _rotation, _zoom)  # also active at inference


class MirrorLeftRight(keras.layers.Layer):
    """RandomFlip("horizontal") written by hand: a coin per image, the width axis reversed where it comes up."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator()

    def call(self, images, training=None):
        if not training:
            return images
        coin = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.seed_generator) < 0.5
        return ops.where(coin, ops.flip(images, axis=2), images)

    def compute_output_shape(self, input_shape):
        return input_shape


aug_other_order = _augmenter(lambda: layers.RandomZoom((-0.2, 0.0)), lambda: layers.RandomRotation((-0.2, 0.2)),
                             lambda: layers.RandomFlip(mode="horizontal"))
aug_hand_written_mirror = _augmenter(MirrorLeftRight, _rotation, _zoom)


class MirrorUpsideDown(MirrorLeftRight):
    """The hand-written mirror on the wrong axis: the height axis reversed, not the width."""

    def call(self, images, training=None):
        if not training:
            return images
        coin = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.seed_generator) < 0.5
        return ops.where(coin, ops.flip(images, axis=1), images)


aug_hand_written_mirror_upside_down = _augmenter(MirrorUpsideDown, _rotation, _zoom)

# ---------------------------------------------------------------- multi_crop
def _multi_crop(centre=lambda n, c: (n - c) // 2, swap_hw=False, flip_axis=2, stack_axis=1, honour_mirror=True,
                order=(0, 1, 2, 3, 4), checks=True, bottom=lambda n, c: n - c):
    def multi_crop(images, crop_size, mirror=True):
        if checks and (images.ndim != 4 or len(images) == 0 or isinstance(crop_size, bool)
                       or not isinstance(crop_size, (int, np.integer)) or not 1 <= crop_size <= min(images.shape[1:3])
                       or not isinstance(mirror, bool)):
            raise ValueError("bad arguments")
        n_H, n_W = images.shape[1:3]
        if swap_hw:
            n_H, n_W = n_W, n_H
        c = crop_size
        corners = [(0, 0), (0, bottom(n_W, c)), (bottom(n_H, c), 0), (bottom(n_H, c), bottom(n_W, c)),
                   (centre(n_H, c), centre(n_W, c))]
        crops = [images[:, t:t + c, l:l + c] for t, l in (corners[k] for k in order)]
        if mirror or not honour_mirror:
            crops += [np.flip(crop, axis=flip_axis) for crop in crops]
        return np.stack(crops, axis=stack_axis)
    return multi_crop


mc_centre_round_up = _multi_crop(centre=lambda n, c: (n - c + 1) // 2)
mc_centre_half_minus_half = _multi_crop(centre=lambda n, c: n // 2 - c // 2)
mc_centre_round = _multi_crop(centre=lambda n, c: int(round((n - c) / 2)))  # Python rounds 1.5 and 2.5 to 2
mc_height_width_swapped = _multi_crop(swap_hw=True)
mc_mirror_upside_down = _multi_crop(flip_axis=1)
mc_mirror_channels = _multi_crop(flip_axis=3)
mc_crops_first = _multi_crop(stack_axis=0)  # (n_crops, m, c, c, C)
mc_mirror_ignored = _multi_crop(honour_mirror=False)  # always ten crops
mc_corners_other_order = _multi_crop(order=(0, 2, 1, 3, 4))  # bottom-left before top-right
mc_bottom_off_by_one = _multi_crop(bottom=lambda n, c: max(n - c - 1, 0))
mc_no_checks = _multi_crop(checks=False)


def mc_loops(images, crop_size, mirror=True):  # every pixel by hand
    if images.ndim != 4 or len(images) == 0 or not isinstance(crop_size, int) or isinstance(crop_size, bool) \
            or not 1 <= crop_size <= min(images.shape[1:3]) or mirror not in (True, False):
        raise ValueError("bad arguments")
    m, n_H, n_W, n_C = images.shape
    c = crop_size
    starts = [(0, 0), (0, n_W - c), (n_H - c, 0), (n_H - c, n_W - c), (int((n_H - c) / 2), int((n_W - c) / 2))]
    out = np.zeros((m, 10 if mirror else 5, c, c, n_C), dtype=images.dtype)
    for i in range(m):
        for k, (t, l) in enumerate(starts):
            for r in range(c):
                for q in range(c):
                    out[i, k, r, q] = images[i, t + r, l + q]
                    if mirror:
                        out[i, k + 5, r, c - 1 - q] = images[i, t + r, l + q]
    return out


def mc_torchvision_order(images, crop_size, mirror=True):  # the mirrored half: the five crops of the mirrored image
    if not isinstance(mirror, bool):
        raise ValueError("mirror must be True or False")
    crops = _multi_crop()(images, crop_size, mirror=False)
    if mirror:
        crops = np.concatenate([crops, _multi_crop()(images[:, :, ::-1], crop_size, mirror=False)], axis=1)
    return crops


mc_fliplr = _multi_crop(flip_axis=-2)  # the same axis counted from the end


# ---------------------------------------------------------------- ensemble_predict
def _ensemble(vote=False, mean=np.mean, network_slice=slice(None), centre_only=False, crop_reduce=np.mean,
              crop_major=False, checks=True):
    def ensemble_predict(predict_fns, images, crop_size=None, mirror=True):
        if checks and (not isinstance(predict_fns, (list, tuple)) or not predict_fns
                       or not all(callable(p) for p in predict_fns) or np.ndim(images) != 4):
            raise ValueError("bad arguments")
        views = images[:, None] if crop_size is None else c2_multicrop_ops.multi_crop(images, crop_size, mirror)
        if centre_only and crop_size is not None:
            views = views[:, 4:5]
        m, k = views.shape[:2]
        batch = views.reshape(m * k, *views.shape[2:]).astype(np.float32)
        per_network = []
        for predict in list(predict_fns)[network_slice]:
            p = np.asarray(predict(batch), dtype=np.float64)
            if vote:
                p = np.eye(p.shape[1])[p.argmax(axis=1)]
            p = p.reshape(k, m, -1).transpose(1, 0, 2) if crop_major else p.reshape(m, k, -1)
            per_network.append(crop_reduce(p, axis=1))
        return mean(np.stack(per_network), axis=0)
    return ensemble_predict


def _geometric_mean(values, axis):
    return np.exp(np.log(values).mean(axis=axis))


ens_majority_vote = _ensemble(vote=True)
ens_geometric_mean = _ensemble(mean=_geometric_mean, crop_reduce=_geometric_mean)
ens_summed = _ensemble(mean=np.sum)
ens_first_network_only = _ensemble(network_slice=slice(0, 1))
ens_centre_crop_only = _ensemble(centre_only=True)
ens_max_over_crops = _ensemble(crop_reduce=np.max)
ens_crops_mixed_up = _ensemble(crop_major=True)  # reshape(n_crops, m, ...) of an image-major batch
ens_no_checks = _ensemble(checks=False)


def ens_image_by_image(predict_fns, images, crop_size=None, mirror=True):  # one call per image and network
    if not isinstance(predict_fns, list) or not predict_fns or not all(map(callable, predict_fns)) or images.ndim != 4:
        raise ValueError("bad arguments")
    rows = []
    for image in images:
        views = image[None] if crop_size is None else c2_multicrop_ops.multi_crop(image[None], crop_size, mirror)[0]
        rows.append(np.mean([np.mean(predict(views.astype(np.float32)), axis=0) for predict in predict_fns], axis=0))
    return np.array(rows)


def ens_crop_by_crop(predict_fns, images, crop_size=None, mirror=True):  # one call per crop position: a running sum
    if not isinstance(predict_fns, (list, tuple)) or not predict_fns or not all(map(callable, predict_fns)):
        raise ValueError("no network")
    if images.ndim != 4:
        raise ValueError("images must be (m, H, W, C)")
    views = images[:, None] if crop_size is None else c2_multicrop_ops.multi_crop(images, crop_size, mirror)
    total = 0
    for k in range(views.shape[1]):
        for predict in predict_fns:
            total = total + predict(views[:, k])
    return total / (views.shape[1] * len(predict_fns))


# ---------------------------------------------------------------- add_new_head and unfreeze_top
def _head(freeze="flag", activation="softmax", name="predictions", units=None, on_output=False, copy=False,
          freeze_all=False, checks=True, extra=None, sequential=False):
    def add_new_head(backbone, n_classes):
        if checks and (isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2):
            raise ValueError("n_classes must be an integer >= 2")
        if copy:
            backbone = keras.models.clone_model(backbone)
        if freeze == "flag":
            backbone.trainable = False
        elif freeze == "layers":
            for layer in backbone.layers:
                layer.trainable = False
        head = layers.Dense(units or n_classes, activation=activation, name=name)
        if sequential:
            model = keras.Sequential([keras.Input(backbone.inputs[0].shape[1:]), backbone, head])
        elif on_output:
            model = keras.Model(backbone.inputs[0], head(backbone.outputs[0]))
        else:
            inputs = keras.Input(backbone.inputs[0].shape[1:])
            x = backbone(inputs, training=False)
            if extra is not None:
                x = extra()(x)
            model = keras.Model(inputs, head(x))
        if freeze_all:
            model.trainable = False
        return model
    return add_new_head


head_not_frozen = _head(freeze=None)
head_all_frozen = _head(freeze_all=True)  # the new layer frozen too: nothing trains
head_sigmoid = _head(activation="sigmoid")
head_no_softmax = _head(activation=None)
head_other_name = _head(name="dense_head")
head_ten_classes = _head(units=10)  # the number of classes of the old task
head_copy_of_backbone = _head(copy=True)  # clone_model: a new network, random weights
head_no_checks = _head(checks=False)
head_extra_dropout = _head(extra=lambda: layers.Dropout(0.5, name="head_dropout"))
head_layers_frozen_one_by_one = _head(freeze="layers")  # the backbone's own flag stays on: nothing of it trains
head_on_backbone_output = _head(on_output=True)  # Keras's older idiom: the same layers, the same weights
head_sequential = _head(sequential=True)


def _unfreeze(skip_bn=True, only_weighted=True, from_top=True, outer=True, freeze_others=True, names=True,
              checks=True):
    def unfreeze_top(backbone, n_layers):
        candidates = [layer for layer in backbone.layers if (layer.weights or not only_weighted)
                      and not (skip_bn and isinstance(layer, layers.BatchNormalization))]
        if checks and (isinstance(n_layers, bool) or not isinstance(n_layers, int) or
                       not 0 <= n_layers <= len(candidates)):
            raise ValueError("n_layers out of range")
        top = (candidates[len(candidates) - n_layers:] if n_layers else []) if from_top else candidates[:n_layers]
        if outer:
            backbone.trainable = True
        for layer in backbone.layers:
            if any(layer is t for t in top):
                layer.trainable = True
            elif freeze_others:
                layer.trainable = False
        return [layer.name for layer in top] if names else top
    return unfreeze_top


uf_batch_norm_counted = _unfreeze(skip_bn=False)
uf_layers_without_weights_counted = _unfreeze(only_weighted=False)
uf_first_layers = _unfreeze(from_top=False)
uf_outer_flag_left_off = _unfreeze(outer=False)
uf_others_left_as_they_were = _unfreeze(freeze_others=False)
uf_returns_layers = _unfreeze(names=False)
uf_no_checks = _unfreeze(checks=False)


def uf_counting_down(backbone, n_layers):  # from the top, a counter instead of a slice
    if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 0:
        raise ValueError("n_layers must be an integer >= 0")
    backbone.trainable = True
    left, names = n_layers, []
    for layer in reversed(backbone.layers):
        take = left > 0 and bool(layer.weights) and not isinstance(layer, layers.BatchNormalization)
        layer.trainable = take
        if take:
            left -= 1
            names.insert(0, layer.name)
    if left:
        raise ValueError("n_layers is larger than the layers with weights")
    return names


def uf_freeze_then_open(backbone, n_layers):  # everything frozen first, then the chosen layers opened
    weighted = [layer for layer in backbone.layers if len(layer.weights) and type(layer).__name__ != "BatchNormalization"]
    if not isinstance(n_layers, int) or isinstance(n_layers, bool) or not 0 <= n_layers <= len(weighted):
        raise ValueError("bad n_layers")
    backbone.trainable = True
    for layer in backbone.layers:
        layer.trainable = False
    chosen = weighted[-n_layers:] if n_layers > 0 else []
    for layer in chosen:
        layer.trainable = True
    return [layer.name for layer in chosen]



# ---------------------------------------------------------------- the corpus
for _name, _value in list(globals().items()):  # the builders made by a factory get their variable's name (test ids)
    if inspect.isfunction(_value) and "<locals>" in _value.__qualname__:
        _value.__name__ = _name
MISTAKES = {
    "lenet5": [lenet_relu, lenet_max_pool, lenet_valid_conv1, lenet_fc2_linear, lenet_fixed_shape],
    "local_response_normalization": [LRNWrapsAround, LRNAlphaOverN, LRNOneSided, LRNCallsTensorFlow, LRNSpatial],
    "alexnet": [alexnet_same_conv1, alexnet_lrn_after_pool, alexnet_fc7_linear, alexnet_fixed_shape],
    "vgg16": [vgg_block3_two_convs, vgg_fc2_linear, vgg_average_pools, vgg_valid_padding],
    "identity_block": [identity_add_after_relu, identity_no_second_relu, identity_bn_axis_1, identity_keras_epsilon],
    "convolutional_block": [conv_block_no_shortcut_bn, conv_block_shortcut_stride_1, conv_block_stride_on_3x3,
                            conv_block_keras_epsilon, conv_block_shortcut_after_relu],
    "resnet50": [resnet_coursera_stem, resnet_coursera_top, resnet_conv2_stride_2, resnet_relu_before_bn,
                 resnet_stem_keras_epsilon],
    "conv1x1_forward": [conv1x1_no_relu, conv1x1_no_bias, conv1x1_relu_before_bias, conv1x1_relu_always],
    "inception_module": [inception_pool_first, inception_3x3_5x5_swapped, inception_no_3x3_reduction,
                         inception_pool_proj_linear, inception_concat_axis_1],
    "conv_multiplications": [mult_no_channels, mult_f_not_squared, mult_bottleneck_ignored, mult_bottleneck_1x1_only,
                             mult_bottleneck_fxf_on_input, mult_with_bias],
    "depthwise_separable_multiplications": [sep_depthwise_only, sep_pointwise_only, sep_depthwise_per_filter,
                                            sep_product],
    "separable_cost_ratio": [ratio_f_not_squared, ratio_inverted, ratio_pointwise_only, ratio_integer_division],
    "depthwise_separable_block": [v1_full_conv, v1_plain_relu, v1_pad_top_left, v1_same_padding_stride_2,
                                  v1_with_bias],
    "inverted_residual_block": [v2_project_relu6, v2_add_on_stride_2, v2_plain_relu, v2_pad_one_each_side,
                                v2_expand_block_0],
    "compound_scaling": [scaling_times_phi, scaling_flops_not_squared, scaling_flops_two_to_phi,
                         scaling_flops_squares_swapped, scaling_no_checks],
    "pca_color_augment": [pca_ddof_1, pca_ascending, pca_unsigned, pca_rows, pca_sqrt_lambda, pca_no_clip,
                          pca_uncentred],
    "data_augmenter": [aug_flip_both_ways, aug_flip_vertical, aug_rotation_half_turns, aug_rotation_one_way,
                       aug_zoom_both_ways, aug_coursera_two_layers, aug_rescaling,
                       aug_hand_written_mirror_upside_down],
    "multi_crop": [mc_centre_round_up, mc_centre_half_minus_half, mc_centre_round, mc_height_width_swapped,
                   mc_mirror_upside_down, mc_mirror_channels, mc_crops_first, mc_mirror_ignored,
                   mc_corners_other_order, mc_bottom_off_by_one, mc_no_checks],
    "ensemble_predict": [ens_majority_vote, ens_geometric_mean, ens_summed, ens_first_network_only,
                         ens_centre_crop_only, ens_max_over_crops, ens_crops_mixed_up, ens_no_checks],
    "add_new_head": [head_not_frozen, head_all_frozen, head_sigmoid, head_no_softmax, head_other_name,
                     head_ten_classes, head_copy_of_backbone, head_no_checks, head_extra_dropout],
    "unfreeze_top": [uf_batch_norm_counted, uf_layers_without_weights_counted, uf_first_layers, uf_outer_flag_left_off,
                     uf_others_left_as_they_were, uf_returns_layers, uf_no_checks],
}
# Mistakes the public check need not catch: only the hidden check's outputs, other shapes or boundaries show them.
PUBLIC_MAY_MISS = {lenet_fixed_shape, alexnet_fc7_linear, alexnet_fixed_shape, LRNCallsTensorFlow,
                   resnet_stem_keras_epsilon, inception_concat_axis_1,
                   inception_pool_proj_linear, conv_block_shortcut_stride_1, scaling_no_checks,
                   ratio_integer_division,
                   pca_unsigned,  # eigh's signs come from LAPACK: the public cases may all come out signed right
                   mc_no_checks, ens_no_checks}  # without checks, the public bad input raises ValueError by accident
ALTERNATIVES = {
    "lenet5": [lenet_sequential],
    "local_response_normalization": [LRNCumsum, LRNMatrix],
    "alexnet": [alexnet_sequential],
    "vgg16": [vgg_relu_layers],
    "identity_block": [identity_relu_layers, identity_functional_add],
    "convolutional_block": [conv_block_main_first, conv_block_same_padding],
    "resnet50": [resnet_relu_layer],
    "conv1x1_forward": [conv1x1_matmul, conv1x1_reshape],
    "inception_module": [inception_concat_axis_3, inception_relu_function],
    "conv_multiplications": [mult_helper],
    "depthwise_separable_multiplications": [sep_factored],
    "separable_cost_ratio": [ratio_counts],
    "depthwise_separable_block": [v1_relu6_activation, v1_relu6_function],
    "inverted_residual_block": [v2_relu6_activation_and_swapped_add, v2_shape_test],
    "compound_scaling": [scaling_numpy],
    "pca_color_augment": [pca_cov_eig_loop],
    "data_augmenter": [aug_other_order, aug_hand_written_mirror],
    "multi_crop": [mc_loops, mc_torchvision_order, mc_fliplr],
    "ensemble_predict": [ens_image_by_image, ens_crop_by_crop],
    "add_new_head": [head_layers_frozen_one_by_one, head_on_backbone_output, head_sequential],
    "unfreeze_top": [uf_counting_down, uf_freeze_then_open],
}
ROWS = [(name, fn) for name, fns in MISTAKES.items() for fn in fns]
ALTERNATIVE_ROWS = [(name, fn) for name, fns in ALTERNATIVES.items() for fn in fns]
PUBLIC_ROWS = [(name, fn) for name, fn in ROWS if fn not in PUBLIC_MAY_MISS]


def _ids(rows):
    return [f"{row[0]}-{row[1].__name__}" for row in rows]


def _check(kind, name):
    return getattr(CHECKS[name], f"{kind}_{name}")


@pytest.mark.parametrize("name,fn", ROWS, ids=_ids(ROWS))
def test_hidden_check_catches_the_mistake(name, fn):
    with pytest.raises(CheckFailed):  # a CheckFailed with its message, never a raw Keras error
        _check("hidden", name)(fn)


@pytest.mark.parametrize("name,fn", PUBLIC_ROWS, ids=_ids(PUBLIC_ROWS))
def test_public_check_catches_the_mistake(name, fn):
    with pytest.raises(CheckFailed):
        _check("public", name)(fn)


@pytest.mark.parametrize("name,fn", ALTERNATIVE_ROWS, ids=_ids(ALTERNATIVE_ROWS))
@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_correct_alternative_keeps_full_marks(name, fn, kind):
    _check(kind, name)(fn)


def test_every_graded_function_has_three_mistakes_and_an_alternative():
    graded = {f"{n[len('hidden_'):]}" for module in set(CHECKS.values()) for n in vars(module)
              if n.startswith("hidden_")}
    assert graded == set(CHECKS) == set(MISTAKES) == set(ALTERNATIVES)
    assert len(graded) == 21
    assert all(len(MISTAKES[n]) >= 3 and ALTERNATIVES[n] for n in MISTAKES)


# Where the check can tell, a hidden failure says which layer or which formula is wrong.
HINTS = [
    ("lenet5", lenet_relu, "'conv1' applies tanh, yours applies relu"),
    ("lenet5", lenet_fc2_linear, "'fc2' applies tanh, yours applies no activation"),
    ("alexnet", alexnet_fc7_linear, "'fc7' applies relu, yours applies no activation"),
    ("vgg16", vgg_fc2_linear, "'fc2' applies relu, yours applies no activation"),
    ("identity_block", identity_add_after_relu, "added before the final ReLU"),
    ("identity_block", identity_keras_epsilon, "epsilon=0.001, the reference's has epsilon=1.001e-05"),
    ("convolutional_block", conv_block_stride_on_3x3, "with stride on the first 1x1 conv"),
    ("resnet50", resnet_relu_before_bn, "layer 'conv1_bn' takes the output of ['conv1_conv'], yours takes"),
    ("resnet50", resnet_stem_keras_epsilon, "'conv1_bn' has epsilon=0.001"),
    ("resnet50", resnet_coursera_top, "not AveragePooling2D and Flatten"),
    ("inception_module", inception_pool_first, "concatenate the four branches' last layers in the docstring's order"),
    ("inception_module", inception_pool_proj_linear, "'4b_pool_proj' applies relu, yours applies no activation"),
    ("depthwise_separable_block", v1_plain_relu, "applies relu6, yours applies relu"),
    ("depthwise_separable_block", v1_pad_top_left, "'conv_pad_7' has padding="),
    ("inverted_residual_block", v2_project_relu6, "project_relu"),
    ("conv1x1_forward", conv1x1_no_relu, "the ReLU is missing"),
    ("conv1x1_forward", conv1x1_relu_before_bias, "the bias was added after the ReLU"),
    ("conv_multiplications", mult_f_not_squared, "f is not squared"),
    ("conv_multiplications", mult_bottleneck_fxf_on_input, "still reads n_C_prev channels"),
    ("depthwise_separable_multiplications", sep_depthwise_per_filter, "one filter per INPUT channel"),
    ("separable_cost_ratio", ratio_inverted, "upside down"),
    ("compound_scaling", scaling_times_phi, "it is a power"),
    ("compound_scaling", scaling_flops_not_squared, "width SQUARED and resolution SQUARED"),
    ("local_response_normalization", LRNWrapsAround, "no wrap-around"),
    ("pca_color_augment", pca_ddof_1, "ddof=1"),
    ("pca_color_augment", pca_ascending, "ASCENDING order"),
    ("pca_color_augment", pca_unsigned, "the other sign"),
    ("pca_color_augment", pca_sqrt_lambda, "sqrt(lambda_i)"),
    ("pca_color_augment", pca_rows, "ROWS of eigh's matrix"),
    ("pca_color_augment", pca_no_clip, "not clipped"),
    ("pca_color_augment", pca_uncentred, "not centred"),
    ("data_augmenter", aug_flip_both_ways, "also flip up-down"),
    ("data_augmenter", aug_flip_vertical, "upside down"),
    ("data_augmenter", aug_rotation_half_turns, "a fraction of a full turn"),
    ("data_augmenter", aug_rotation_one_way, "both ways"),
    ("data_augmenter", aug_zoom_both_ways, "zooms IN only"),
    ("data_augmenter", aug_coursera_two_layers, "the longest bar grew only"),
    ("data_augmenter", aug_rescaling, "inference mode"),
    ("multi_crop", mc_centre_round_up, "rounded DOWN"),
    ("multi_crop", mc_centre_half_minus_half, "not H // 2 - c // 2"),
    ("multi_crop", mc_height_width_swapped, "rows start at 0 or H - c (H is axis 1)"),
    ("multi_crop", mc_mirror_upside_down, "upside down"),
    ("multi_crop", mc_mirror_channels, "reverse the channels"),
    ("multi_crop", mc_crops_first, "go on axis 1"),
    ("multi_crop", mc_mirror_ignored, "the five crops only"),
    ("multi_crop", mc_corners_other_order, "another order"),
    ("multi_crop", mc_no_checks, "expected ValueError"),
    ("ensemble_predict", ens_majority_vote, "not the argmax votes"),
    ("ensemble_predict", ens_geometric_mean, "geometric mean"),
    ("ensemble_predict", ens_summed, "summed over the networks"),
    ("ensemble_predict", ens_first_network_only, "only the first network"),
    ("ensemble_predict", ens_centre_crop_only, "only the centre crop"),
    ("ensemble_predict", ens_max_over_crops, "maximum over the crops"),
    ("ensemble_predict", ens_crops_mixed_up, "crops of different images were mixed"),
    ("add_new_head", head_not_frozen, "freeze it"),
    ("add_new_head", head_all_frozen, "expected only the new layer's kernel and bias"),
    ("add_new_head", head_no_softmax, "not a softmax"),
    ("add_new_head", head_other_name, "no Dense layer named 'predictions'"),
    ("add_new_head", head_ten_classes, "expected n_classes = 2"),
    ("add_new_head", head_copy_of_backbone, "the backbone's weights are not"),
    ("add_new_head", head_extra_dropout, "in training mode"),
    ("unfreeze_top", uf_batch_norm_counted, "batch normalization layers stay frozen"),
    ("unfreeze_top", uf_layers_without_weights_counted, "only layers that hold weights count"),
    ("unfreeze_top", uf_first_layers, "the LAST layers"),
    ("unfreeze_top", uf_outer_flag_left_off, "set backbone.trainable = True first"),
    ("unfreeze_top", uf_returns_layers, "expected a list of layer names"),
]


@pytest.mark.parametrize("name,fn,text", HINTS, ids=_ids(HINTS))
def test_hidden_failure_says_what_is_wrong(name, fn, text):
    with pytest.raises(CheckFailed) as info:
        _check("hidden", name)(fn)
    assert text in str(info.value), str(info.value)


# Bad input: a builder that raises, the wrong return type, a renamed layer: a CheckFailed that says what was expected.
def lenet_raises(input_shape=(28, 28, 1), n_classes=10):
    raise NotImplementedError("not done yet")


def lenet_returns_tensor(input_shape=(28, 28, 1), n_classes=10):
    return _lenet(input_shape, n_classes).output


def vgg_renamed(input_shape=(224, 224, 3), n_classes=1000):
    model = _vgg(input_shape, n_classes)
    model.get_layer("block1_conv1").name = "conv1_1"
    return model


def identity_returns_model(x, f, filters, stage_name):
    return keras.Model(x, resnet.identity_block(x, f, filters, stage_name))


def inception_returns_branches(x, filters=None, name="3a"):
    return [layers.Conv2D(filters["1x1"], 1, name=f"{name}_1x1")(x)]


BAD_INPUT = [
    ("lenet5", lenet_raises, "lenet5((28, 28, 1), 10) raised NotImplementedError: not done yet"),
    ("lenet5", lenet_returns_tensor, "lenet5: expected a keras.Model, got KerasTensor"),
    ("vgg16", vgg_renamed, "no layer named 'block1_conv1'"),
    ("identity_block", identity_returns_model, "identity_block returned a Functional, expected the Keras tensor"),
    ("inception_module", inception_returns_branches, "inception_module returned a list, expected a Keras tensor"),
    ("inverted_residual_block", v2_add_on_stride_2, "inverted_residual_block raised ValueError"),
    ("convolutional_block", conv_block_shortcut_stride_1, "convolutional_block(x of shape"),
]


@pytest.mark.parametrize("name,fn,text", BAD_INPUT, ids=_ids(BAD_INPUT))
def test_bad_input_gets_a_clear_message(name, fn, text):
    with pytest.raises(CheckFailed) as info:
        _check("public" if fn is not conv_block_shortcut_stride_1 else "hidden", name)(fn)
    assert text in str(info.value), str(info.value)


def _resnet50_calling(identity_block):
    """The course's resnet50, defined in a namespace (a notebook's globals) whose identity_block is `identity_block`."""
    namespace = {k: v for k, v in vars(resnet).items() if not k.startswith("__")}
    namespace["identity_block"] = identity_block
    exec(inspect.getsource(resnet.resnet50), namespace)  # noqa: S102 - the course's own source
    return namespace["resnet50"]


def test_resnet50_block_mistake_costs_the_block_only(capsys):
    """One mistake, one loss: a wrong identity_block fails its own check; resnet50's hidden check swaps the course's
    blocks in and passes; its public check says where the mistake starts and passes."""
    student = _resnet50_calling(identity_add_after_relu)
    with pytest.raises(CheckFailed):
        c2_resnet.hidden_identity_block(identity_add_after_relu)
    c2_resnet.hidden_resnet50(student)
    c2_resnet.public_resnet50(student)
    assert "the mistake starts in a block" in capsys.readouterr().out
    assert student.__globals__["identity_block"] is identity_add_after_relu  # the student's block is back
