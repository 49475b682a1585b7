"""Checks of Chapter 2, part 1: LeNet-5, local response normalization, AlexNet and VGG-16.

Oracles: closed-form layer tables (output sizes and (f * f * n_C_prev + 1) * n_C parameters) for LeNet-5 and
AlexNet, tf.nn.local_response_normalization for LRN, keras.applications.VGG16(weights=None) for VGG-16, and the
independent builds of cnncourse.models.twins, whose outputs must equal the student's with the same random weights.
Each model's graph (every layer's activation and the layers it reads) is compared with the oracle's too, so a model
with the right table but a missing or other activation, or a layer wired to the wrong one, fails at that layer.
"""

import numpy as np

from cnncourse.checks.architecture import (build_model, expect_same_behaviour, expect_same_graph, expect_same_rows,
                                           kind_rows, layer_rows)
from cnncourse.checks.core import expect_close, expect_equal, expect_raises, expect_shape, fail
from cnncourse.models.twins import build_alexnet, build_lenet5


def _build(builder, what, input_shape, n_classes, rebuildable=True):
    return build_model(builder, what, (input_shape, n_classes), f"input_shape {input_shape}, n_classes {n_classes}",
                       hint="build the model for any input_shape and n_classes, not only the defaults",
                       rebuildable=rebuildable)


def _conv_size(n, f, s, same):
    return -(-n // s) if same else (n - f) // s + 1


# --- LeNet-5 ------------------------------------------------------------------------------------------

def lenet5_rows(input_shape=(28, 28, 1), n_classes=10):
    """LeNet-5's expected (name, class, output shape, parameters) rows, from the closed-form formulas."""
    n_H, n_W, n_C = input_shape
    h, w = n_H // 2, n_W // 2
    h2, w2 = h - 4, w - 4
    h3, w3 = h2 // 2, w2 // 2
    flat = h3 * w3 * 16
    return [
        ("conv1", "Conv2D", (n_H, n_W, 6), (25 * n_C + 1) * 6),
        ("pool1", "AveragePooling2D", (h, w, 6), 0),
        ("conv2", "Conv2D", (h2, w2, 16), (25 * 6 + 1) * 16),
        ("pool2", "AveragePooling2D", (h3, w3, 16), 0),
        ("flatten", "Flatten", (flat,), 0),
        ("fc1", "Dense", (120,), (flat + 1) * 120),
        ("fc2", "Dense", (84,), 121 * 84),
        ("predictions", "Dense", (n_classes,), 85 * n_classes),
    ]


LENET_HINTS = {"predictions": "softmax at the end (activation='softmax' on the last Dense)",
               "": "tanh after conv1, conv2, fc1 and fc2 (activation='tanh'), each layer on the previous one's output"}


def _check_lenet5(lenet5, input_shape, n_classes, outputs):
    case = f"input_shape {input_shape}, n_classes {n_classes}"
    model = _build(lenet5, "lenet5", input_shape, n_classes)
    expect_same_rows(layer_rows(model), lenet5_rows(input_shape, n_classes), "lenet5", case,
                     hint="conv1 keeps the size (padding 'same'), conv2 does not ('valid'); pools are 2x2 averages")
    oracle = build_lenet5(input_shape, n_classes)
    expect_same_graph(model, oracle, "lenet5", case, hints=LENET_HINTS)
    if outputs:
        expect_same_behaviour(model, oracle, "lenet5", case, hint="tanh after conv1, conv2, fc1 and fc2; softmax at "
                                                                  "the end; pools are averages, not maxima")


def public_lenet5(lenet5):
    """The 28x28 digit version: every layer's shape and parameters, 61,706 in all, and each layer's activation and
    input (tanh, not ReLU, in the hidden layers; softmax at the end)."""
    _check_lenet5(lenet5, (28, 28, 1), 10, outputs=False)
    expect_equal(lenet5((28, 28, 1), 10).count_params(), 61_706, "lenet5 parameter count")


def hidden_lenet5(lenet5):
    """Other input sizes, channels and classes, and the outputs of the original's activations."""
    _check_lenet5(lenet5, (28, 28, 1), 10, outputs=True)
    _check_lenet5(lenet5, (32, 32, 3), 5, outputs=True)
    _check_lenet5(lenet5, (40, 36, 2), 26, outputs=False)


# --- Local response normalization ----------------------------------------------------------------------

def _lrn_case(layer_class, x, depth_radius, bias, alpha, beta):
    import tensorflow as tf

    case = f"input shape {x.shape}, depth_radius {depth_radius}, bias {bias}, alpha {alpha}, beta {beta}"
    layer = layer_class(depth_radius=depth_radius, bias=bias, alpha=alpha, beta=beta)
    got = layer(x)
    want = tf.nn.local_response_normalization(x, depth_radius=depth_radius, bias=bias, alpha=alpha, beta=beta)
    expect_shape(got, x.shape, "LocalResponseNormalization output", case)
    expect_close(np.asarray(got), np.asarray(want), "LocalResponseNormalization output", case, rtol=2e-5, atol=1e-6,
                 hint="sum the squares over the channels d - r .. d + r (the last axis), not over height or width")


def public_local_response_normalization(layer_class):
    """AlexNet's constants on a small input, then a case where the neighbours' sum clearly matters."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 3, 7)).astype("float32")
    _lrn_case(layer_class, x, 2, 2.0, 1e-4, 0.75)
    _lrn_case(layer_class, x, 1, 1.0, 1.0, 0.5)


class _ForbiddenOp:
    """Stands in for tf.nn's own LRN while the student's layer runs: the exercise is to write it."""

    def __call__(self, *args, **kwargs):
        fail("LocalResponseNormalization calls tf.nn.local_response_normalization",
             hint="compute the sum of squares over neighbouring channels with array operations")


def hidden_local_response_normalization(layer_class):
    """Random radius, bias, alpha and beta, windows wider than the channels, without calling tf.nn's LRN."""
    import tensorflow as tf

    rng = np.random.default_rng(7)
    cases = [((1, 4, 5, 16), 3, 0.5, 0.3, 0.9), ((3, 2, 2, 3), 4, 1.5, 0.7, 0.5), ((2, 5, 5, 9), 0, 1.0, 0.2, 1.2),
             ((1, 6, 6, 32), 2, 2.0, 1e-4, 0.75)]
    saved = tf.nn.local_response_normalization, tf.nn.lrn
    for shape, r, bias, alpha, beta in cases:
        x = (rng.standard_normal(shape) * 2).astype("float32")
        want = tf.nn.local_response_normalization(x, depth_radius=r, bias=bias, alpha=alpha, beta=beta)
        case = f"input shape {shape}, depth_radius {r}, bias {bias}, alpha {alpha}, beta {beta}"
        tf.nn.local_response_normalization = tf.nn.lrn = _ForbiddenOp()
        try:
            got = layer_class(depth_radius=r, bias=bias, alpha=alpha, beta=beta)(x)
        finally:
            tf.nn.local_response_normalization, tf.nn.lrn = saved
        expect_close(np.asarray(got), np.asarray(want), "LocalResponseNormalization output", case, rtol=2e-5,
                     atol=1e-6, hint="near the first and last channel the window is cut off (no wrap-around)")
    expect_raises(lambda: layer_class(depth_radius=-1), ValueError, "depth_radius -1", hint="keep the checks of __init__")


# --- AlexNet ------------------------------------------------------------------------------------------

def alexnet_rows(input_shape=(227, 227, 3), n_classes=1000):
    """AlexNet's expected (name, class, output shape, parameters) rows, from the closed-form formulas."""
    n_H, n_W, n_C = input_shape
    h, w = _conv_size(n_H, 11, 4, False), _conv_size(n_W, 11, 4, False)
    p1 = _conv_size(h, 3, 2, False), _conv_size(w, 3, 2, False)
    p2 = _conv_size(p1[0], 3, 2, False), _conv_size(p1[1], 3, 2, False)
    p5 = _conv_size(p2[0], 3, 2, False), _conv_size(p2[1], 3, 2, False)
    flat = p5[0] * p5[1] * 256
    lrn = "LocalResponseNormalization"
    return [
        ("conv1", "Conv2D", (h, w, 96), (121 * n_C + 1) * 96),
        ("lrn1", lrn, (h, w, 96), 0),
        ("pool1", "MaxPooling2D", (*p1, 96), 0),
        ("conv2", "Conv2D", (*p1, 256), (25 * 96 + 1) * 256),
        ("lrn2", lrn, (*p1, 256), 0),
        ("pool2", "MaxPooling2D", (*p2, 256), 0),
        ("conv3", "Conv2D", (*p2, 384), (9 * 256 + 1) * 384),
        ("conv4", "Conv2D", (*p2, 384), (9 * 384 + 1) * 384),
        ("conv5", "Conv2D", (*p2, 256), (9 * 384 + 1) * 256),
        ("pool5", "MaxPooling2D", (*p5, 256), 0),
        ("flatten", "Flatten", (flat,), 0),
        ("fc6", "Dense", (4096,), (flat + 1) * 4096),
        ("drop6", "Dropout", (4096,), 0),
        ("fc7", "Dense", (4096,), 4097 * 4096),
        ("drop7", "Dropout", (4096,), 0),
        ("predictions", "Dense", (n_classes,), 4097 * n_classes),
    ]


ALEXNET_HINTS = {"lrn1": "lrn1 normalizes conv1's output (after its ReLU), before pool1",
                 "lrn2": "lrn2 normalizes conv2's output (after its ReLU), before pool2",
                 "predictions": "softmax at the end", "": "ReLU after every convolution and after fc6 and fc7"}


def _check_alexnet(alexnet, input_shape, n_classes, outputs):
    case = f"input_shape {input_shape}, n_classes {n_classes}"
    # AlexNet holds the notebook's own LocalResponseNormalization class, which Keras's safe mode does not rebuild: the
    # grader builds the course's twin of that class in its place (grading/evidence.py, notebook_layer_stand_ins)
    model = _build(alexnet, "alexnet", input_shape, n_classes, rebuildable=False)
    expect_same_rows(layer_rows(model), alexnet_rows(input_shape, n_classes), "alexnet", case,
                     hint="conv1 is 11x11 stride 4 'valid'; the other convolutions are 'same'; pools are 3x3 stride 2")
    if outputs:
        # the student's own LRN class: its mistakes are graded by the LRN exercise, not here (one mistake, one loss)
        oracle = build_alexnet(input_shape, n_classes, type(model.get_layer("lrn1")))
        expect_same_graph(model, oracle, "alexnet", case, hints=ALEXNET_HINTS)
        expect_same_behaviour(model, oracle, "alexnet", case, rtol=1e-3, atol=1e-5,  # inference only: dropout
                              hint="ReLU after every convolution and after fc6 and fc7; LRN after the ReLU of conv1, "
                                   "conv2")
    return model


def public_alexnet(alexnet):
    """The 227x227 ImageNet version: every layer's shape and parameters, 62,378,344 in all."""
    model = _check_alexnet(alexnet, (227, 227, 3), 1000, outputs=False)
    expect_equal(model.count_params(), 62_378_344, "alexnet parameter count")


def hidden_alexnet(alexnet):
    """Smaller images and other class counts, rows and outputs (with the same random weights as the table's model)."""
    _check_alexnet(alexnet, (227, 227, 3), 1000, outputs=False)
    _check_alexnet(alexnet, (67, 67, 3), 7, outputs=True)
    _check_alexnet(alexnet, (99, 83, 1), 4, outputs=True)


# --- VGG-16 -------------------------------------------------------------------------------------------

def _keras_vgg16(input_shape, n_classes):
    import keras

    return keras.applications.VGG16(weights=None, input_shape=input_shape, classes=n_classes)


def _check_vgg16(vgg16, input_shape, n_classes, outputs):
    case = f"input_shape {input_shape}, n_classes {n_classes}"
    model = _build(vgg16, "vgg16", input_shape, n_classes)
    reference = _keras_vgg16(input_shape, n_classes)
    what = "vgg16 against keras.applications.VGG16"
    expect_same_rows(kind_rows(layer_rows(model), model), kind_rows(layer_rows(reference), reference), what, case,
                     hint="blocks of 2, 2, 3, 3, 3 convolutions with 64, 128, 256, 512, 512 filters, each then a pool")
    expect_same_graph(model, reference, what, case,
                      hints={"predictions": "softmax at the end", "": "ReLU after every convolution and after fc1 "
                                                                      "and fc2, each layer on the previous one"})
    if outputs:  # no BatchNormalization and no dropout in VGG-16: inference and training mode compute the same
        expect_same_behaviour(model, reference, "vgg16", case, rtol=1e-3, atol=1e-5,
                              outputs=["block1_pool", "block2_pool", "block3_pool", "block4_pool", "block5_pool"],
                              hint="ReLU after every convolution and after fc1 and fc2; softmax at the end")
    return model


def public_vgg16(vgg16):
    """The 224x224 ImageNet version against keras.applications.VGG16(weights=None): 138,357,544 parameters, and each
    layer's activation and input (a missing ReLU or a layer wired to the wrong one fails here)."""
    model = _check_vgg16(vgg16, (224, 224, 3), 1000, outputs=False)
    expect_equal(model.count_params(), 138_357_544, "vgg16 parameter count")


def hidden_vgg16(vgg16):
    """Other sizes, channels and classes against Keras's own VGG-16, and equal outputs with shared weights."""
    _check_vgg16(vgg16, (224, 224, 3), 1000, outputs=False)
    _check_vgg16(vgg16, (32, 32, 3), 10, outputs=True)
    _check_vgg16(vgg16, (64, 48, 1), 3, outputs=True)
