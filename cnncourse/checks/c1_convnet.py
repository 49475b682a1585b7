"""Checks of Chapter 1's Keras ConvNet (Sequential and Functional), against the architecture table.

The expected shapes and parameter counts are computed here from the closed-form formulas
(output_size, (f * f * n_C_prev + 1) * n_C, (n_in + 1) * n_out), not taken from a built model.
Then the behaviour: the model's weights are set to seeded random values and its outputs compared with a forward
pass written here in numpy from the table (conv "same", ReLU, 2x2 max pool, flatten, dense), so a model whose table
looks right but computes something else (a leaky or capped ReLU, a dilated convolution, layers wired in another
order) fails too. The numpy pass does not use the course's model, so the check works in the student edition.
"""

import numpy as np

from cnncourse.checks.architecture import expect_rebuildable
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
        elif isinstance(layer, keras.layers.Flatten) or (
                isinstance(layer, keras.layers.Reshape) and len(layer.target_shape) == 1):
            op = ("flatten",)  # Reshape((n,)) flattens the same way
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
    expect_rebuildable(model, what, f"input_shape {input_shape}, n_classes {n_classes}")
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
    _compare_behaviour(model, x, what, case)


def _numpy_forward(x, weights):
    """The table's forward pass in numpy: weights = [(kernel, bias)] of conv1, conv2, fc1, fc2."""
    def conv_same_relu(a, kernel, bias):
        a = np.pad(a, ((0, 0), (1, 1), (1, 1), (0, 0)))
        windows = np.lib.stride_tricks.sliding_window_view(a, (3, 3), axis=(1, 2))
        return np.maximum(np.einsum("mhwcij,ijcn->mhwn", windows, kernel) + bias, 0)

    def max_pool(a):
        n_H, n_W = a.shape[1] // 2, a.shape[2] // 2
        return a[:, :2 * n_H, :2 * n_W].reshape(a.shape[0], n_H, 2, n_W, 2, a.shape[3]).max(axis=(2, 4))

    (k1, b1), (k2, b2), (w3, b3), (w4, b4) = weights
    a = max_pool(conv_same_relu(x.astype(np.float64), k1, b1))
    a = max_pool(conv_same_relu(a, k2, b2)).reshape(x.shape[0], -1)
    a = np.maximum(a @ w3 + b3, 0) @ w4 + b4
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _compare_behaviour(model, x, what, case):
    """Set the 4 weighted layers' weights to seeded random values; compare the outputs with _numpy_forward."""
    rng = np.random.default_rng(1)
    weighted = [layer for layer in model.layers if layer.weights]
    if len(weighted) != 4 or any(len(layer.get_weights()) != 2 for layer in weighted):
        fail(f"{what}: expected 4 layers with a kernel and a bias each (conv1, conv2, fc1, fc2), got "
             f"{[(layer.name, len(layer.get_weights())) for layer in weighted]}", case)
    weights = []
    for layer in weighted:
        values = [(rng.standard_normal(w.shape) * 0.2).astype("float32") for w in layer.get_weights()]
        layer.set_weights(values)
        weights.append(tuple(v.astype(np.float64) for v in values))
    got = np.asarray(model(x), dtype=np.float64)
    want = _numpy_forward(x, weights)
    if not np.allclose(got, want, rtol=1e-3, atol=1e-5):
        index = tuple(int(i) for i in np.argwhere(~np.isclose(got, want, rtol=1e-3, atol=1e-5))[0])
        fail(f"{what}: with the same weights, the outputs differ from the table's forward pass; first at index "
             f"{index}: expected {want[index]:.6g}, got {got[index]:.6g}", case,
             hint="the layer table matches, so look at what the layers compute: the order the layers are called in, "
                  "plain ReLU activations (no slope, no cap), 3x3 kernels without dilation, 2x2 max pooling")


def _build(build, what, case, **arguments):
    """build(**arguments), or CheckFailed saying what went wrong when building raised (not Keras's stack trace)."""
    try:
        return build(**arguments)
    except Exception as err:  # noqa: BLE001 -- a model that cannot be built fails the check with a readable message
        if type(err).__name__ == "ReferenceCallError":
            raise  # the course's own solution: the grader flags it
        fail(f"{what}: building the model raised {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}",
             case, hint="build it layer by layer from the table; each layer's output shape must fit the next layer")


def public_convnet(build, what):
    """The default MNIST shape against the table, then the outputs under shared weights.

    Separates: "valid" instead of "same" padding, a missing or extra activation, layers in another order, average
    instead of max pooling, the softmax missing, and (outputs) an activation or convolution that looks right in the
    table but computes something else.
    """
    _compare(_build(build, what, "the defaults"), (28, 28, 1), 10, what)


def hidden_convnet(build, what):
    """Other input shapes and class counts: the builder must use its arguments."""
    for input_shape, n_classes in (((32, 32, 3), 5), ((20, 24, 2), 7)):
        case = f"input_shape {input_shape}, n_classes {n_classes}"
        model = _build(build, what, case, input_shape=input_shape, n_classes=n_classes)
        _compare(model, input_shape, n_classes, what)
