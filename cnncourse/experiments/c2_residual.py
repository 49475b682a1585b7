"""Chapter 2 experiment: a deep plain network trains worse than the same network with skip connections.

He et al. (2016) observed that past a certain depth a plain stack of convolutions reaches a HIGHER training
error than a shallower one: the deeper net is not overfitting, it is harder to optimise. A residual block
a[l+2] = relu(z[l+2] + a[l]) lets the signal and its gradient pass through the identity shortcut, so the same
layers with the same parameters train. `plain_vs_residual` trains both variants on the shipped MNIST digits
with the same seed, data and optimiser and records the training error epoch by epoch.

There is deliberately no batch normalization here: with it the plain network of this depth still trains
well enough that the difference is hard to see in a short run.

Architecture of deep_network(depth, residual), input (28, 28, 1), width w:
    stem Conv2D w 3x3 stride 2 "same" relu (14, 14, w)
    depth // 2 blocks "block{b}": block{b}_conv1 3x3 relu, block{b}_conv2 3x3 (linear), then
        residual=True:  block{b}_add Add([block input, conv2]), block{b}_out ReLU
        residual=False: block{b}_out ReLU                      (the only difference: no Add)
    pool GlobalAveragePooling2D (w,)  predictions Dense n_classes softmax
"""

import time

import keras
import numpy as np
from keras import layers

from cnncourse.data.mnist import load_mnist
from cnncourse.experiments.plotting import axes_for
from cnncourse.models.c2_classic import require_image_shape, require_number
from cnncourse.ops.validate import require_int

# Settings of plain_vs_residual per mode (n_images: digits loaded in all, 20% of them held out).
RESIDUAL_EXPERIMENT = {
    "fast": {"n_images": 2000, "depth": 24, "epochs": 6, "batch_size": 32, "learning_rate": 1e-3},
    "full": {"n_images": None, "depth": 40, "epochs": 20, "batch_size": 32, "learning_rate": 1e-3},
    "grade": {"n_images": 200, "depth": 4, "epochs": 1, "batch_size": 32, "learning_rate": 1e-3},  # smoke run
}
SETTING_KEYS = ("n_images", "depth", "epochs", "batch_size", "learning_rate")
INITIALIZER = "glorot_uniform"  # Keras's default: a "plain" initialisation, not tuned for depth


def deep_network(depth, residual, input_shape=(28, 28, 1), n_classes=10, width=16):
    """A stem convolution, `depth` 3x3 convolutions in pairs, global average pooling and a softmax.

    With residual=True each pair is a residual block a[l+2] = relu(z[l+2] + a[l]); with residual=False the same
    pair is plain, a[l+2] = relu(z[l+2]). Both variants have the same layers and the same parameter count.

    Args:
        depth: number of 3x3 convolutions after the stem, an even integer >= 2.
        residual: True for identity shortcuts around every pair, False for a plain stack.
        input_shape: (n_H, n_W, n_C) of one image, height and width >= 2.
        n_classes: number of output classes, >= 1.
        width: filters of every convolution, >= 1.
    Returns:
        keras.Model mapping (batch, n_H, n_W, n_C) to class probabilities (batch, n_classes).
    """
    depth = require_int(depth, "depth", 2)
    if depth % 2:
        raise ValueError(f"depth must be an even integer >= 2 (convolutions come in pairs), got {depth}")
    if not isinstance(residual, bool):
        raise ValueError(f"residual must be True or False, got {residual!r}")
    input_shape = require_image_shape(input_shape, 2)
    n_classes = require_int(n_classes, "n_classes", 1)
    width = require_int(width, "width", 1)

    def conv(name, activation=None, strides=1):
        return layers.Conv2D(width, 3, strides=strides, padding="same", activation=activation,
                             kernel_initializer=INITIALIZER, name=name)

    inputs = keras.Input(shape=input_shape, name="image")
    x = conv("stem", "relu", strides=2)(inputs)
    for b in range(1, depth // 2 + 1):
        shortcut = x
        x = conv(f"block{b}_conv1", "relu")(x)
        x = conv(f"block{b}_conv2")(x)
        if residual:
            x = layers.Add(name=f"block{b}_add")([shortcut, x])
        x = layers.ReLU(name=f"block{b}_out")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(x)
    kind = "residual" if residual else "plain"
    return keras.Model(inputs, outputs, name=f"{kind}{depth}")


def require_settings(settings, keys):
    """Check an experiment settings dict has the given keys; return it unchanged."""
    if not isinstance(settings, dict):
        raise ValueError(f"settings must be a dict with keys {list(keys)}, got {type(settings).__name__}")
    missing = [k for k in keys if k not in settings]
    if missing:
        raise ValueError(f"settings must have keys {list(keys)}; missing {missing}")
    return settings


def _check_residual_settings(settings):
    require_settings(settings, SETTING_KEYS)
    if settings["n_images"] is not None:
        require_int(settings["n_images"], 'settings["n_images"]', 20)
    require_int(settings["epochs"], 'settings["epochs"]', 1)
    require_int(settings["batch_size"], 'settings["batch_size"]', 1)
    require_number(settings["learning_rate"], 'settings["learning_rate"]', 0)
    deep_network(settings["depth"], True)  # checks depth


def _train(model, train, test, settings, seed):
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.Adam(settings["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train[0], train[1], epochs=settings["epochs"], batch_size=settings["batch_size"],
                        verbose=0).history
    probabilities = model.predict(test[0], batch_size=256, verbose=0)
    return {
        "train_error": [1.0 - float(a) for a in history["accuracy"]],
        "train_loss": [float(v) for v in history["loss"]],
        "test_accuracy": float(np.mean(np.argmax(probabilities, axis=1) == test[1])),
    }


def plain_vs_residual(settings, seed=0):
    """Train the plain and the residual deep_network of the same depth on the same digits with the same seed.

    Args:
        settings: dict with keys n_images (int >= 20 or None for all 5,000), depth (even int >= 2), epochs,
            batch_size (ints >= 1) and learning_rate (of Adam), e.g. RESIDUAL_EXPERIMENT[config.mode()].
        seed: seeds the data split, the initial weights and the batch order.
    Returns:
        dict with "plain" and "residual", each a dict of "train_error" and "train_loss" (lists of length
        epochs, measured on the training batches during each epoch) and "test_accuracy" (float), plus
        "depth", "epochs", "n_parameters" (the same for both) and "seconds" (both runs).
    """
    _check_residual_settings(settings)
    train, test = load_mnist(n=settings["n_images"], seed=seed)
    start = time.perf_counter()
    result = {"depth": settings["depth"], "epochs": settings["epochs"]}
    for residual in (False, True):
        keras.utils.set_random_seed(seed)
        model = deep_network(settings["depth"], residual, input_shape=train[0].shape[1:])
        result["n_parameters"] = model.count_params()
        result["residual" if residual else "plain"] = _train(model, train, test, settings, seed)
    result["seconds"] = time.perf_counter() - start
    return result


def plot_training_error(result, ax=None):
    """Plot the training error of both networks against the epoch on one axis.

    Args:
        result: the dict returned by plain_vs_residual.
        ax: a matplotlib Axes, or None for a new figure.
    Returns:
        the matplotlib Axes.
    """
    ax = axes_for(result, ("plain", "residual"), "plain_vs_residual", ax)
    for name, style in (("plain", "o-"), ("residual", "s-")):
        errors = result[name]["train_error"]
        ax.plot(range(1, len(errors) + 1), errors, style,
                label=f"{name} (test accuracy {result[name]['test_accuracy']:.1%})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training error (1 - accuracy)")
    ax.set_title(f"{result['depth']} convolutions deep: plain vs residual")
    ax.set_ylim(0, 1)
    ax.legend()
    return ax
