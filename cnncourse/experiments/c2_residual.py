"""Chapter 2 experiment: deeper plain networks train worse than shallower ones; residual networks do not.

He et al. (2016, Fig. 1 and Fig. 6) observed that past a certain depth a plain stack of convolutions reaches a HIGHER
training error than a shallower one, although batch normalisation keeps its signals in range: the deeper net is not
overfitting, it is harder to optimise. A residual block a[l+2] = relu(bn(z[l+2]) + a[l]) lets the signal and its
gradient pass through the shortcut, and the deeper residual network trains at least as well as the shallower one.
`depth_sweep` trains plain and residual networks of several depths on the shipped MNIST digits with the same seed,
data and optimiser and records the training error epoch by epoch.

Architecture of deep_network(depth, residual), the CIFAR ResNet of the paper's section 4.2 (depth = 6n + 2 layers
with weights for 3 stages of n blocks: the stem, 6n convolutions and the softmax layer), input (28, 28, 1), width w:
    stem_conv 3x3 w, stride 2 (14, 14, w) - stem_bn - stem_relu
    stage s = 1, 2, 3 (w, 2w, 4w filters; the first block of stages 2 and 3 has stride 2: 14x14, 7x7, 4x4),
    n blocks "stage{s}_block{b}": _conv1 3x3 - _bn1 - _relu1 - _conv2 3x3 - _bn2, then
        residual=True:  _add Add([shortcut, bn2]) - _out ReLU
        residual=False: _out ReLU                      (the only difference: no shortcut and no Add)
    the shortcut is the block's input; where the block halves the size and doubles the filters it is _shortcut, a
    ZeroPadShortcut (every other pixel, the new channels zero: the paper's option A, without parameters)
    pool GlobalAveragePooling2D (4w,)  predictions Dense n_classes softmax
Convolutions have no bias (the BN after them has one). Both variants have the same weights, in the same order.
"""

import time

import keras
import numpy as np
from keras import layers

from cnncourse.data.mnist import load_mnist
from cnncourse.experiments.plotting import axes_for
from cnncourse.models.c2_classic import require_image_shape, require_number
from cnncourse.ops.validate import require_int

# Settings of depth_sweep per mode (n_images: digits loaded in all, 20% of them held out; depths: 6n + 2).
# SGD with momentum 0.9 as in the paper, no augmentation, no weight decay. Fast mode takes about 1.4 times as long
# as the former single pair of 24-layer networks and shows plain 8 < 20 < 32 on three seeds (docs/benchmarks.md);
# 56 layers would double it (tracing a 56-layer training step alone takes ~7 s on 2 cores), so it is full mode's.
RESIDUAL_EXPERIMENT = {
    "fast": {"n_images": 2000, "depths": (8, 20, 32), "width": 8, "epochs": 5, "batch_size": 64,
             "learning_rate": 0.05, "momentum": 0.9},
    "full": {"n_images": None, "depths": (8, 20, 56), "width": 8, "epochs": 20, "batch_size": 64,
             "learning_rate": 0.02, "momentum": 0.9},  # at 0.05 the plain 56 layers sit at chance for 9 epochs
    "grade": {"n_images": 100, "depths": (8, 14), "width": 4, "epochs": 1, "batch_size": 32,
              "learning_rate": 0.05, "momentum": 0.9},  # smoke run
}
SETTING_KEYS = ("n_images", "depths", "width", "epochs", "batch_size", "learning_rate", "momentum")
STAGES = 3
INITIALIZER = "he_normal"  # as the paper (He et al. 2015's initialisation)
# Keras's default 0.99 leaves the moving averages of BN far from the data after the ~150 steps of a fast run, and the
# held-out accuracy (inference mode) then says nothing about the trained network; 0.9 follows them within ~20 steps.
BN_MOMENTUM = 0.9


class ZeroPadShortcut(layers.Layer):
    """The parameter-free shortcut of a block that changes shape: keep every `strides`-th pixel, pad the channels.

    (batch, n_H, n_W, n_C) -> (batch, ceil(n_H / strides), ceil(n_W / strides), filters), the new channels zero,
    which is the output shape of a "same" convolution with that stride and `filters` filters.
    """

    def __init__(self, filters, strides=2, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.strides = int(filters), int(strides)

    def call(self, x):
        x = x[:, ::self.strides, ::self.strides, :]
        extra = self.filters - x.shape[-1]
        return keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])

    def compute_output_shape(self, input_shape):
        n_H, n_W = ((None if n is None else -(-n // self.strides)) for n in input_shape[1:3])
        return input_shape[0], n_H, n_W, self.filters

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides}


def blocks_per_stage(depth, stages=STAGES):
    """n for depth = 2 * stages * n + 2 (the stem, the blocks' convolutions, the softmax layer); ValueError if none."""
    depth = require_int(depth, "depth", 2 * stages + 2)
    if (depth - 2) % (2 * stages):
        raise ValueError(f"depth must be {2 * stages}n + 2 for {stages} stages of n blocks of two convolutions "
                         f"(e.g. {', '.join(str(2 * stages * n + 2) for n in (1, 3, 9))}), got {depth}")
    return (depth - 2) // (2 * stages)


def deep_network(depth, residual, input_shape=(28, 28, 1), n_classes=10, width=16, stages=STAGES):
    """The CIFAR ResNet of He et al. (2016, section 4.2) with batch normalisation, with or without its shortcuts.

    With residual=True each block is a[l+2] = relu(bn(z[l+2]) + a[l]); with residual=False the same block is plain,
    a[l+2] = relu(bn(z[l+2])). Both variants have the same layers with weights and the same parameter count.

    Args:
        depth: layers with weights, 2 * stages * n + 2 (6n + 2 for 3 stages: 8, 14, 20, ..., 56).
        residual: True for a shortcut around every block, False for a plain stack.
        input_shape: (n_H, n_W, n_C) of one image, height and width >= 2.
        n_classes: number of output classes, >= 1.
        width: filters of the first stage (doubled at each further stage), >= 1.
        stages: 1 to 3 stages; each after the first halves height and width.
    Returns:
        keras.Model mapping (batch, n_H, n_W, n_C) to class probabilities (batch, n_classes).
    """
    stages = require_int(stages, "stages", 1)
    if stages > 3:
        raise ValueError(f"stages must be 1, 2 or 3, got {stages}")
    n = blocks_per_stage(depth, stages)
    if not isinstance(residual, bool):
        raise ValueError(f"residual must be True or False, got {residual!r}")
    input_shape = require_image_shape(input_shape, 2)
    n_classes = require_int(n_classes, "n_classes", 1)
    width = require_int(width, "width", 1)

    def conv_bn(x, filters, name, strides=1):
        x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False,
                          kernel_initializer=INITIALIZER, name=f"{name}_conv")(x)
        return layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)

    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.ReLU(name="stem_relu")(conv_bn(inputs, width, "stem", strides=2))
    for s in range(1, stages + 1):
        filters = width * 2 ** (s - 1)
        for b in range(1, n + 1):
            name, strides = f"stage{s}_block{b}", 2 if s > 1 and b == 1 else 1
            shortcut = x
            x = layers.ReLU(name=f"{name}_relu1")(conv_bn(x, filters, f"{name}_1", strides))
            x = conv_bn(x, filters, f"{name}_2")
            if residual:
                if strides > 1:
                    shortcut = ZeroPadShortcut(filters, strides, name=f"{name}_shortcut")(shortcut)
                x = layers.Add(name=f"{name}_add")([shortcut, x])
            x = layers.ReLU(name=f"{name}_out")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(x)
    kind = "resnet" if residual else "plain"
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
    depths = settings["depths"]
    if not isinstance(depths, (tuple, list)) or not depths or len(set(depths)) != len(depths):
        raise ValueError(f'settings["depths"] must be a non-empty tuple of different depths 6n + 2, got {depths!r}')
    for depth in depths:
        blocks_per_stage(depth)
    require_int(settings["width"], 'settings["width"]', 1)
    require_int(settings["epochs"], 'settings["epochs"]', 1)
    require_int(settings["batch_size"], 'settings["batch_size"]', 1)
    require_number(settings["learning_rate"], 'settings["learning_rate"]', 0)
    momentum = require_number(settings["momentum"], 'settings["momentum"]', 0)
    if momentum >= 1:
        raise ValueError(f'settings["momentum"] must be a number in [0, 1), got {momentum}')


def _train(model, train, test, settings, seed):
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.SGD(settings["learning_rate"], momentum=settings["momentum"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(train[0], train[1], epochs=settings["epochs"], batch_size=settings["batch_size"],
                        verbose=0).history
    probabilities = model.predict(test[0], batch_size=256, verbose=0)
    return {
        "train_error": [1.0 - float(a) for a in history["accuracy"]],
        "train_loss": [float(v) for v in history["loss"]],
        "test_accuracy": float(np.mean(np.argmax(probabilities, axis=1) == test[1])),
        "n_parameters": model.count_params(),
        "seconds": time.perf_counter() - start,
    }


def depth_sweep(settings, seed=0):
    """Train the plain and the residual deep_network of every depth on the same digits with the same seed.

    Args:
        settings: dict with keys n_images (int >= 20 or None for all 5,000), depths (a tuple of depths 6n + 2),
            width (filters of the first stage), epochs, batch_size (ints >= 1), learning_rate and momentum (of SGD),
            e.g. RESIDUAL_EXPERIMENT[config.mode()].
        seed: seeds the data split, the initial weights (the same for both variants of a depth) and the batch order.
    Returns:
        dict with "depths" and "epochs" as given, "plain" and "residual", each a dict depth -> dict of "train_error"
        and "train_loss" (lists of length epochs, measured on the training batches during each epoch),
        "test_accuracy" (on the held-out digits), "n_parameters" and "seconds" (of the training), and "seconds"
        (all trainings).
    """
    _check_residual_settings(settings)
    train, test = load_mnist(n=settings["n_images"], seed=seed)
    start = time.perf_counter()
    result = {"depths": tuple(settings["depths"]), "epochs": settings["epochs"], "plain": {}, "residual": {}}
    for depth in result["depths"]:
        for residual in (False, True):
            keras.utils.set_random_seed(seed)
            model = deep_network(depth, residual, input_shape=train[0].shape[1:], width=settings["width"])
            result["residual" if residual else "plain"][depth] = _train(model, train, test, settings, seed)
    result["seconds"] = time.perf_counter() - start
    return result


def plot_depth_sweep(result, ax=None):
    """Plot the training error against the epoch: one colour per depth, plain solid and residual dashed.

    Args:
        result: the dict returned by depth_sweep.
        ax: a matplotlib Axes, or None for a new figure.
    Returns:
        the matplotlib Axes.
    """
    from matplotlib.ticker import MaxNLocator

    ax = axes_for(result, ("depths", "plain", "residual"), "depth_sweep", ax)
    colours = ("tab:blue", "tab:orange", "tab:red", "tab:green", "tab:purple", "tab:brown")
    for i, depth in enumerate(result["depths"]):
        for name, style in (("plain", "-"), ("residual", "--")):
            errors = result[name][depth]["train_error"]
            ax.plot(range(1, len(errors) + 1), errors, style, marker="o", color=colours[i % len(colours)],
                    label=f"{name}-{depth}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("training error (1 - accuracy)")
    ax.set_title("Training error by depth: plain (solid) and residual (dashed)")
    ax.set_ylim(bottom=0)
    ax.legend(ncol=2)
    return ax
