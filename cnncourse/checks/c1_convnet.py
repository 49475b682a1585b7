"""Checks of Chapter 1's Keras ConvNet (Sequential and Functional), against the architecture table.

The expected shapes and parameter counts are computed here from the closed-form formulas
(output_size, (f * f * n_C_prev + 1) * n_C, (n_in + 1) * n_out), not taken from a built model.
"""

import numpy as np

from cnncourse.checks.core import expect_equal, fail


def _size(n, f, s, same):
    return -(-n // s) if same else (n - f) // s + 1


def expected_architecture(input_shape=(28, 28, 1), n_classes=10):
    """The table of the notebook as a list of (operation, output shape, parameters)."""
    n_H, n_W, n_C = input_shape
    rows = [(("conv", 32, 3, 1, "same"), (n_H, n_W, 32), (9 * n_C + 1) * 32), (("relu",), (n_H, n_W, 32), 0)]
    n_H, n_W = _size(n_H, 2, 2, False), _size(n_W, 2, 2, False)
    rows.append((("maxpool", 2, 2), (n_H, n_W, 32), 0))
    rows += [(("conv", 64, 3, 1, "same"), (n_H, n_W, 64), (9 * 32 + 1) * 64), (("relu",), (n_H, n_W, 64), 0)]
    n_H, n_W = _size(n_H, 2, 2, False), _size(n_W, 2, 2, False)
    flat = n_H * n_W * 64
    rows += [
        (("maxpool", 2, 2), (n_H, n_W, 64), 0),
        (("flatten",), (flat,), 0),
        (("dense", 64), (64,), (flat + 1) * 64),
        (("relu",), (64,), 0),
        (("dense", n_classes), (n_classes,), (64 + 1) * n_classes),
        (("softmax",), (n_classes,), 0),
    ]
    return rows


def describe_model(model):
    """The model as a list of (operation, output shape, parameters), folding activations into their own rows."""
    import keras

    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        shape = tuple(layer.output.shape[1:])
        params = layer.count_params()
        activation = getattr(getattr(layer, "activation", None), "__name__", None)
        if isinstance(layer, keras.layers.Conv2D) and not isinstance(layer, keras.layers.DepthwiseConv2D):
            op = ("conv", layer.filters, layer.kernel_size[0], layer.strides[0], layer.padding)
        elif isinstance(layer, keras.layers.MaxPooling2D):
            op = ("maxpool", layer.pool_size[0], layer.strides[0])
        elif isinstance(layer, keras.layers.Dense):
            op = ("dense", layer.units)
        elif isinstance(layer, keras.layers.Flatten):
            op = ("flatten",)
        elif isinstance(layer, keras.layers.ReLU):
            op, activation = ("relu",), None
        elif isinstance(layer, (keras.layers.Activation, keras.layers.Softmax)):
            name = "softmax" if isinstance(layer, keras.layers.Softmax) else activation
            op, activation = (name,), None
        else:
            op = (type(layer).__name__,)
        rows.append((op, shape, params))
        if activation not in (None, "linear"):
            rows.append(((activation,), shape, 0))
    return rows


def _compare(model, input_shape, n_classes, what):
    import keras

    if not isinstance(model, keras.Model):
        fail(f"{what}: expected a keras.Model, got {type(model).__name__}", hint="return the model you built")
    want, got = expected_architecture(input_shape, n_classes), describe_model(model)
    case = f"input_shape {input_shape}, n_classes {n_classes}"
    for k, (w, g) in enumerate(zip(want, got)):
        if w != g:
            fail(f"{what}: layer {k + 1}: expected {w[0]} with output shape {w[1]} and {w[2]} parameters, "
                 f"got {g[0]} with output shape {g[1]} and {g[2]} parameters", case,
                 hint="follow the table row by row: Conv2D(filters, kernel, strides, padding), ReLU, MaxPooling2D...")
    if len(want) != len(got):
        fail(f"{what}: expected {len(want)} operations, got {len(got)}", case)
    x = np.random.default_rng(0).random((3,) + tuple(input_shape)).astype("float32")
    p = np.asarray(model(x))
    expect_equal(p.shape, (3, n_classes), f"{what} output shape", case)
    if not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        fail(f"{what}: the outputs of each image must sum to 1 (softmax)", case)


def public_convnet(build, what):
    """The default MNIST shape against the table."""
    _compare(build(), (28, 28, 1), 10, what)


def hidden_convnet(build, what):
    """Other input shapes and class counts: the builder must use its arguments."""
    for input_shape, n_classes in (((32, 32, 3), 5), ((20, 24, 2), 7)):
        _compare(build(input_shape=input_shape, n_classes=n_classes), input_shape, n_classes, what)
