"""Checks of Chapter 2's transfer learning steps: add_new_head (freeze, new softmax) and unfreeze_top (fine-tuning).

Both are handed a small "pretrained" backbone made here: conv, batch normalization (with statistics far from those of
a batch), ReLU, pooling, flatten and a dense feature layer. Every layer is named, so that the judge, which builds
the same backbone again outside the kernel, finds the same layers (evidence.trainable_flags).

public_add_new_head: 8x8x3 images, 6 features, 4 classes. Separates: the backbone left trainable (in training mode
    its batch normalization would read the batch: the output in training mode is compared with inference), the
    whole model frozen (the head too), a copy of the backbone instead of the backbone itself (its weights must be the
    model's; a model built on backbone.input and backbone.output shares them and keeps the points), no softmax or a
    sigmoid, the head not named "predictions", the wrong number of units. (training=False on the backbone's call is
    what Keras's guide writes; in Keras 3 a frozen batch normalization layer runs in inference mode anyway, and the
    outer call's training flag reaches the backbone's layers, so the check cannot and does not tell it apart.)
hidden_add_new_head: other image sizes (not square), feature sizes and class counts, two classes (the boundary),
    a batch of one; n_classes 1 or 2.0 must raise ValueError.
public_unfreeze_top / hidden_unfreeze_top: n_layers 2 on a frozen backbone, then 0 and all of them (the boundaries);
    the returned names and which weights are trainable afterwards. Separates: layers without weights counted
    (pooling, flatten), batch normalization unfrozen or counted, the first layers unfrozen instead of the last, the
    backbone's own flag left off (then no inner flag counts), the other layers left as they were, the layers returned
    instead of their names. The hidden check adds a deeper backbone, a backbone that was trainable, and n_layers too
    large (ValueError).
Each function takes the student's function and raises CheckFailed on the first failure.
"""

import keras
import numpy as np
from keras import layers

from cnncourse.checks.core import expect_raises, expect_type, fail

HINT_HEAD = ("freeze the backbone (backbone.trainable = False), then a new keras.Input of its input shape, "
             "backbone(inputs, training=False), and Dense(n_classes, activation='softmax', name='predictions')")
HINT_UNFREEZE = ("backbone.trainable = True, then each layer of backbone.layers trainable exactly when it is one of "
                 "the last n_layers layers that hold weights and are not BatchNormalization")


def make_backbone(input_shape=(8, 8, 3), n_features=6, depth=1, seed=0, name="backbone"):
    """A small "pretrained" backbone: depth x (conv, batch normalization, ReLU), max pooling, flatten, dense.

    Args:
        input_shape: (n_H, n_W, n_C), height and width >= 2; n_features: int >= 1; depth: conv blocks, >= 1;
        seed: seeds its weights and its batch normalization statistics; name: the model's name.
    Returns:
        keras.Model mapping (batch, *input_shape) to (batch, n_features), every layer named, trainable.
    """
    rng = np.random.default_rng(seed)
    inputs = keras.Input(shape=input_shape, name=f"{name}_image")
    x = inputs
    for b in range(1, depth + 1):
        x = layers.Conv2D(4, 3, padding="same", name=f"{name}_conv{b}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{b}")(x)
        x = layers.ReLU(name=f"{name}_relu{b}")(x)
    x = layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    x = layers.Flatten(name=f"{name}_flatten")(x)
    outputs = layers.Dense(n_features, activation="tanh", name=f"{name}_features")(x)
    model = keras.Model(inputs, outputs, name=name)
    for layer in model.layers:  # statistics far from a batch's: training mode and inference mode differ
        if isinstance(layer, layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 2.0, gamma.shape), rng.normal(0, 1, beta.shape),
                               rng.normal(2.0, 1.0, mean.shape), rng.uniform(2.0, 4.0, variance.shape)])
        elif isinstance(layer, (layers.Conv2D, layers.Dense)):
            layer.set_weights([rng.normal(0, 0.5, w.shape) for w in layer.get_weights()])
    return model


def _numpy(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor), dtype=np.float64)


def _ids(weights):
    return sorted(id(w) for w in weights)


# ---------------------------------------------------------------- add_new_head
def _check_head(fn, input_shape, n_features, n_classes, seed, batch=5):
    backbone = make_backbone(input_shape, n_features, seed=seed)
    case = f"a backbone from {input_shape} images to {n_features} features, n_classes {n_classes}"
    try:
        model = fn(backbone, n_classes)
    except Exception as err:  # noqa: BLE001 - report the error as a failed case
        fail(f"add_new_head raised {type(err).__name__}: {err}", case, HINT_HEAD)
    expect_type(model, keras.Model, "add_new_head(...)", case, hint="return the keras.Model from the new Input to the "
                                                                      "new softmax layer")
    used = {id(w) for w in model.weights}
    if not all(id(w) in used for w in backbone.weights):
        fail("add_new_head(...): the backbone's weights are not the model's (a copy of the backbone?)", case,
             "call the backbone itself on the new Input: its pretrained weights are what transfers")
    if tuple(model.inputs[0].shape[1:]) != tuple(input_shape) or len(model.inputs) != 1:
        fail(f"add_new_head(...): the model's input has shape {[tuple(t.shape) for t in model.inputs]}, expected "
             f"(None, {', '.join(map(str, input_shape))})", case, HINT_HEAD)
    head = next((layer for layer in model.layers if layer.name == "predictions"), None)
    if not isinstance(head, layers.Dense):
        fail("add_new_head(...): no Dense layer named 'predictions'", case, HINT_HEAD)
    if head.units != n_classes:
        fail(f"add_new_head(...): 'predictions' has {head.units} units, expected n_classes = {n_classes}", case)
    if any(w.trainable for w in backbone.weights):
        fail("add_new_head(...): the backbone still has trainable weights: freeze it", case,
             "backbone.trainable = False before the new head trains")
    if _ids(model.trainable_weights) != _ids(head.weights):
        fail(f"add_new_head(...): the trainable weights are {[w.path for w in model.trainable_weights]}, expected "
             f"only the new layer's kernel and bias", case,
             "freeze the backbone only: the new softmax layer is what trains")
    x = np.random.default_rng(seed + 100).uniform(-1.0, 1.0, size=(batch, *input_shape)).astype("float32")
    kernel, bias = (_numpy(w) for w in head.weights)
    features = _numpy(backbone(x, training=False))
    z = features @ kernel + bias
    want = np.exp(z - z.max(axis=1, keepdims=True))
    want /= want.sum(axis=1, keepdims=True)
    got = _numpy(model(x, training=False))
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-5):
        hint = ("the output is not a softmax: Dense(n_classes, activation='softmax')" if got.shape == want.shape and
                not np.allclose(got.sum(axis=1), 1.0, atol=1e-4) else HINT_HEAD)
        fail("add_new_head(...): the model's output in inference mode is not softmax(backbone(x) @ kernel + bias) "
             "of the new layer", case, hint)
    trained = _numpy(model(x, training=True))
    if not np.allclose(trained, want, rtol=1e-4, atol=1e-5):
        fail("add_new_head(...): in training mode (model.fit) the model's output changes: something besides the new "
             "layer trains or reads the batch (the backbone's batch normalization, an extra layer)", case, HINT_HEAD)


def public_add_new_head(add_new_head):
    """8x8x3 images, 6 features, 4 classes; n_classes 1."""
    _check_head(add_new_head, (8, 8, 3), 6, 4, seed=0)
    expect_raises(lambda: add_new_head(make_backbone(), 1), ValueError, "add_new_head(backbone, 1)",
                  "one class: nothing to tell apart", hint="keep the input checks above ### BEGIN SOLUTION")


def hidden_add_new_head(add_new_head):
    """Other sizes, two classes, a batch of one; bad n_classes."""
    _check_head(add_new_head, (10, 6, 1), 3, 2, seed=1, batch=1)
    _check_head(add_new_head, (4, 12, 2), 9, 7, seed=2)
    for n_classes in (1, 2.0, True):
        expect_raises(lambda n=n_classes: add_new_head(make_backbone(seed=3), n), ValueError,
                      f"add_new_head(backbone, {n_classes!r})", f"n_classes {n_classes!r}",
                      hint="keep the input checks above ### BEGIN SOLUTION")


# ---------------------------------------------------------------- unfreeze_top
def _expected_top(backbone, n_layers):
    weighted = [layer for layer in backbone.layers
                if layer.weights and not isinstance(layer, layers.BatchNormalization)]
    return weighted[len(weighted) - n_layers:] if n_layers else []


def _check_unfreeze(fn, backbone, n_layers, case):
    top = _expected_top(backbone, n_layers)
    try:
        names = fn(backbone, n_layers)
    except Exception as err:  # noqa: BLE001
        fail(f"unfreeze_top raised {type(err).__name__}: {err}", case, HINT_UNFREEZE)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        fail(f"unfreeze_top(...): returned {type(names).__name__}, expected a list of layer names (str)", case,
             "return [layer.name for layer in the unfrozen layers]")
    want = [layer.name for layer in top]
    if names != want:
        with_weights = [layer.name for layer in backbone.layers if layer.weights]
        not_bn = [layer.name for layer in backbone.layers
                  if layer.weights and not isinstance(layer, layers.BatchNormalization)]
        last = (lambda names_: names_[len(names_) - n_layers:]) if n_layers else (lambda names_: [])
        hint = ("batch normalization layers stay frozen and do not count" if names == last(with_weights) else
                "only layers that hold weights count (not pooling, dropout or flatten)"
                if names in (last([layer.name for layer in backbone.layers]),
                             last([layer.name for layer in backbone.layers
                                   if not isinstance(layer, layers.BatchNormalization)])) else
                "the LAST layers, nearest the output, are unfrozen" if names == not_bn[:n_layers] else HINT_UNFREEZE)
        fail(f"unfreeze_top(backbone, {n_layers}): returned {names}, expected {want}", case, hint)
    if _ids(backbone.trainable_weights) != _ids(w for layer in top for w in layer.weights):
        trainable = sorted({w.path.split("/")[0] for w in backbone.trainable_weights})
        hint = ("set backbone.trainable = True first: while the model's own flag is off, none of its layers trains"
                if not backbone.trainable else HINT_UNFREEZE)
        fail(f"unfreeze_top(backbone, {n_layers}): afterwards the layers with trainable weights are {trainable}, "
             f"expected {want}", case, hint)


def public_unfreeze_top(unfreeze_top):
    """A frozen backbone (two conv blocks): unfreeze 2, then 0, then all 3; then 4, one too many."""
    backbone = make_backbone(depth=2, seed=4)
    backbone.trainable = False
    for n_layers in (2, 0, 3):
        _check_unfreeze(unfreeze_top, backbone, n_layers,
                        f"a frozen backbone with layers {[layer.name for layer in backbone.layers]}, n_layers "
                        f"{n_layers}")
    expect_raises(lambda: unfreeze_top(backbone, 4), ValueError, "unfreeze_top(backbone, 4)",
                  "4 layers asked of a backbone with 3 layers that hold weights (batch normalization excepted)",
                  hint="keep the input checks above ### BEGIN SOLUTION")


def hidden_unfreeze_top(unfreeze_top):
    """A deeper backbone, one that was trainable, n_layers 1 and all; too many, negative and non-integer n_layers."""
    deep = make_backbone((6, 10, 2), 5, depth=4, seed=5, name="deep")
    deep.trainable = False
    for n_layers in (1, 5, 3):
        _check_unfreeze(unfreeze_top, deep, n_layers, f"a frozen backbone of 4 conv blocks, n_layers {n_layers}")
    trainable = make_backbone(depth=3, seed=6, name="open")
    _check_unfreeze(unfreeze_top, trainable, 2, "a backbone that was trainable, n_layers 2: the others get frozen")
    for n_layers in (5, -1, 1.0):
        expect_raises(lambda n=n_layers: unfreeze_top(make_backbone(depth=3, seed=7, name="bad"), n), ValueError,
                      f"unfreeze_top(backbone with 4 weighted layers, {n_layers!r})", f"n_layers {n_layers!r}",
                      hint="keep the input checks above ### BEGIN SOLUTION")
