"""Chapter 2 experiment: transfer learning with few labels, on digits.

A small ConvNet is trained on every image of the digits 0-4 (the "source" task, standing in for ImageNet).
The target task is to tell the digits 5-9 apart from only a few labelled images per class. Two ways are
compared on the same labelled images, with the same data augmentation and architecture:
    transfer: the pretrained backbone, frozen, with a new softmax head (phase a); then the whole backbone is
        unfrozen and fine-tuned with a low learning rate (phase b, optional).
    scratch: the same network from random weights, every layer trained for as many epochs in all.
Accuracy is measured on held-out images of the digits 5-9 after every epoch and at the end.

Backbone (Model "backbone"), input (28, 28, 1):
    conv1 Conv2D 32 3x3 "same" relu (28, 28, 32)   pool1 MaxPool 2 (14, 14, 32)
    conv2 Conv2D 64 3x3 "same" relu (14, 14, 64)   pool2 MaxPool 2 (7, 7, 64)
    conv3 Conv2D 128 3x3 "same" relu (7, 7, 128)   flatten (6272,)   features Dense 128 relu (128,)
It keeps where strokes are (Flatten, not global average pooling): digits differ by where their strokes lie,
and features pooled over the whole image transferred no better than raw pixels in our trials.
Classifier: image -> augment (RandomRotation, RandomTranslation, RandomZoom) -> backbone -> predictions Dense.
"""

import time

import keras
import numpy as np
from keras import layers

from cnncourse.data.mnist import load_mnist
from cnncourse.experiments.c2_residual import require_settings
from cnncourse.experiments.plotting import axes_for
from cnncourse.models import twins
from cnncourse.models.c2_classic import require_image_shape, require_number
from cnncourse.ops.validate import require_int
from cnncourse.train import digit_augmentation

# Settings per mode. n_test caps the held-out digits 5-9 (None: all that are not labelled).
TRANSFER_EXPERIMENT = {
    "fast": {"labels_per_class": 5, "pretrain_epochs": 10, "head_epochs": 30, "finetune_epochs": 10,
             "finetune_layers": 2, "batch_size": 16, "head_learning_rate": 1e-2, "finetune_learning_rate": 3e-4,
             "learning_rate": 3e-3, "n_test": 500},
    "full": {"labels_per_class": 5, "pretrain_epochs": 15, "head_epochs": 60, "finetune_epochs": 40,
             "finetune_layers": 2, "batch_size": 16, "head_learning_rate": 1e-2, "finetune_learning_rate": 3e-4,
             "learning_rate": 3e-3, "n_test": None},
    "grade": {"labels_per_class": 2, "pretrain_epochs": 1, "head_epochs": 1, "finetune_epochs": 1,
              "finetune_layers": 2, "batch_size": 16, "head_learning_rate": 1e-2, "finetune_learning_rate": 3e-4,
              "learning_rate": 3e-3, "n_test": 50},  # autograding: a smoke run (cnncourse.config)
}
SETTING_KEYS = ("labels_per_class", "pretrain_epochs", "head_epochs", "finetune_epochs", "finetune_layers",
                "batch_size", "head_learning_rate", "finetune_learning_rate", "learning_rate", "n_test")
BACKBONE_WEIGHTED_LAYERS = 4  # conv1, conv2, conv3, features: what finetune_layers counts
SOURCE_DIGITS, TARGET_DIGITS = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)


def backbone_network(input_shape=(28, 28, 1)):
    """The feature extractor shared by both variants: three conv blocks and global average pooling.

    Args:
        input_shape: (n_H, n_W, n_C) of one image, height and width >= 4.
    Returns:
        keras.Model "backbone" mapping (batch, n_H, n_W, n_C) to features (batch, 128).
    """
    input_shape = require_image_shape(input_shape, 4)
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Conv2D(128, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="features")(x)
    return keras.Model(inputs, x, name="backbone")


def augmentation():
    """Random rotations (up to 10% of a turn), shifts (10%) and zooms (10%), active only in training."""
    return digit_augmentation(rotation=0.1, shift=0.1, zoom=0.1)


def classifier(backbone, n_classes, frozen=False):
    """Put augmentation in front of `backbone` and a new softmax head after it.

    Args:
        backbone: a keras.Model from images to a feature vector, such as backbone_network().
        n_classes: number of output classes, >= 1.
        frozen: True sets backbone.trainable = False, so that only the head learns.
    Returns:
        keras.Model mapping (batch, n_H, n_W, n_C) to class probabilities (batch, n_classes).
    """
    if not isinstance(backbone, keras.Model) or len(backbone.output.shape) != 2:
        raise ValueError(f"backbone must be a keras.Model with a (batch, features) output, got {backbone!r}")
    n_classes = require_int(n_classes, "n_classes", 1)
    backbone.trainable = not frozen
    inputs = keras.Input(shape=backbone.input.shape[1:], name="image")
    features = backbone(augmentation()(inputs))
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(features)
    return keras.Model(inputs, outputs, name="transfer" if frozen else "classifier")


def train_phase(model, train, test, epochs, batch_size, learning_rate):
    """Compile `model` (Adam, sparse cross-entropy) and fit it; return the per-epoch held-out accuracy list.

    Compiling here is what makes a change of `trainable` (freezing, unfreezing) take effect.
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    if epochs == 0:
        return []
    history = model.fit(train[0], train[1], epochs=epochs, batch_size=batch_size, validation_data=test,
                        verbose=0).history
    return [float(a) for a in history["val_accuracy"]]


def _check_transfer_settings(settings):
    require_settings(settings, SETTING_KEYS)
    require_int(settings["labels_per_class"], 'settings["labels_per_class"]', 1)
    for key in ("pretrain_epochs", "head_epochs", "batch_size"):
        require_int(settings[key], f'settings["{key}"]', 1)
    require_int(settings["finetune_epochs"], 'settings["finetune_epochs"]', 0)
    if require_int(settings["finetune_layers"], 'settings["finetune_layers"]', 0) > BACKBONE_WEIGHTED_LAYERS:
        raise ValueError(f'settings["finetune_layers"] must be at most {BACKBONE_WEIGHTED_LAYERS}, the backbone\'s '
                         f'layers with weights, got {settings["finetune_layers"]}')
    for key in ("head_learning_rate", "finetune_learning_rate", "learning_rate"):
        require_number(settings[key], f'settings["{key}"]', 0)
    if settings["n_test"] is not None:
        require_int(settings["n_test"], 'settings["n_test"]', 5)


def _all_digits(seed):
    (x_a, y_a), (x_b, y_b) = load_mnist(seed=seed)
    return np.concatenate([x_a, x_b]), np.concatenate([y_a, y_b])


def pretrain_backbone(settings, seed=0):
    """Train backbone_network() with a 5-way head on every shipped image of the digits 0-4, augmented.

    Args:
        settings: a TRANSFER_EXPERIMENT-like dict (uses pretrain_epochs; Adam 1e-3, batches of 64).
        seed: seeds Keras, numpy and the backend.
    Returns:
        (backbone, info): the trained keras.Model "backbone" and a dict with "train_accuracy" (per epoch)
        and "seconds".
    """
    _check_transfer_settings(settings)
    keras.utils.set_random_seed(seed)
    x, y = _all_digits(seed)
    source = np.isin(y, SOURCE_DIGITS)
    backbone = backbone_network(x.shape[1:])
    inputs = keras.Input(shape=x.shape[1:])
    features = backbone(augmentation()(inputs))
    model = keras.Model(inputs, layers.Dense(len(SOURCE_DIGITS), activation="softmax")(features))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x[source], y[source], epochs=settings["pretrain_epochs"], batch_size=64, verbose=0)
    info = {"train_accuracy": [float(a) for a in history.history["accuracy"]],
            "seconds": time.perf_counter() - start}
    return backbone, info


def few_labels_split(labels_per_class, n_test=None, seed=0):
    """Split the digits 5-9 into a few labelled images per class and held-out images (labels 0..4 = 5..9).

    Returns:
        (x_train, y_train), (x_test, y_test) with len(y_train) = 5 * labels_per_class.
    """
    x, y = _all_digits(seed)
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for digit in TARGET_DIGITS:
        idx = rng.permutation(np.flatnonzero(y == digit))
        train_idx.extend(idx[:labels_per_class])
        test_idx.extend(idx[labels_per_class:])
    train_idx, test_idx = rng.permutation(train_idx), rng.permutation(test_idx)[:n_test]
    shift = TARGET_DIGITS[0]
    return (x[train_idx], y[train_idx] - shift), (x[test_idx], y[test_idx] - shift)


def transfer_vs_scratch(settings, seed=0, new_head=None, unfreeze=None):
    """Compare a pretrained, frozen-then-fine-tuned backbone with training from scratch on few labels of 5-9.

    Transfer: new_head(backbone, 5) freezes the pretrained backbone and adds a softmax layer; augmentation goes in
    front of that model; the head trains (phase a). Then unfreeze(backbone, settings["finetune_layers"]) unfreezes
    the top layers, and they are fine-tuned with the head at a low learning rate (phase b).

    Args:
        settings: dict with the keys of TRANSFER_EXPERIMENT["fast"], e.g. TRANSFER_EXPERIMENT[config.mode()].
        seed: seeds the split, the weights, the augmentation and the batch order.
        new_head: a function like add_new_head(backbone, n_classes) -> keras.Model (the notebook passes the
            student's); None for the course's twin.
        unfreeze: a function like unfreeze_top(backbone, n_layers) -> list of names; None for the course's twin.
    Returns:
        dict with "transfer" and "scratch", each with "val_accuracy" (held-out accuracy after every epoch,
        head_epochs + finetune_epochs values) and "test_accuracy" (final); "transfer" also has
        "frozen_test_accuracy" (after phase a). Plus "n_train", "n_test", "head_epochs", "pretrain" (the
        info of pretrain_backbone), "unfrozen" (the names unfreeze returned) and "seconds" (the whole experiment,
        pretraining included).
    """
    _check_transfer_settings(settings)
    new_head = new_head or twins.frozen_with_head
    unfreeze = unfreeze or twins.unfreeze_last
    start = time.perf_counter()
    backbone, pretrain = pretrain_backbone(settings, seed)
    train, test = few_labels_split(settings["labels_per_class"], settings["n_test"], seed)
    n_classes, batch = len(TARGET_DIGITS), settings["batch_size"]

    keras.utils.set_random_seed(seed)
    head_model = new_head(backbone, n_classes)
    inputs = keras.Input(shape=train[0].shape[1:], name="image")
    model = keras.Model(inputs, head_model(augmentation()(inputs)), name="augmented_transfer")
    curve = train_phase(model, train, test, settings["head_epochs"], batch, settings["head_learning_rate"])
    frozen_accuracy = curve[-1]
    # fine-tune the top layers, gently: with few labels a large step would undo the pretraining
    unfrozen = unfreeze(backbone, settings["finetune_layers"])
    curve += train_phase(model, train, test, settings["finetune_epochs"], batch, settings["finetune_learning_rate"])
    transfer = {"val_accuracy": curve, "test_accuracy": curve[-1], "frozen_test_accuracy": frozen_accuracy}

    keras.utils.set_random_seed(seed)
    model = classifier(backbone_network(train[0].shape[1:]), n_classes)
    curve = train_phase(model, train, test, settings["head_epochs"] + settings["finetune_epochs"], batch,
                        settings["learning_rate"])
    scratch = {"val_accuracy": curve, "test_accuracy": curve[-1]}
    return {"transfer": transfer, "scratch": scratch, "n_train": len(train[1]), "n_test": len(test[1]),
            "head_epochs": settings["head_epochs"], "pretrain": pretrain, "unfrozen": list(unfrozen),
            "seconds": time.perf_counter() - start}


def plot_transfer(result, ax=None):
    """Plot the held-out accuracy of both variants against the epoch, with the start of fine-tuning marked.

    Args:
        result: the dict returned by transfer_vs_scratch.
        ax: a matplotlib Axes, or None for a new figure.
    Returns:
        the matplotlib Axes.
    """
    ax = axes_for(result, ("transfer", "scratch"), "transfer_vs_scratch", ax)
    for name, style in (("transfer", "o-"), ("scratch", "s-")):
        curve = result[name]["val_accuracy"]
        ax.plot(range(1, len(curve) + 1), curve, style, markersize=3,
                label=f"{name} (final {result[name]['test_accuracy']:.1%})")
    if len(result["transfer"]["val_accuracy"]) > result["head_epochs"]:
        ax.axvline(result["head_epochs"] + 0.5, color="gray", linestyle=":", label="fine-tuning starts")
    ax.set_xlabel("epoch")
    ax.set_ylabel("held-out accuracy, digits 5-9")
    ax.set_title(f"{result['n_train']} labelled images: pretrained on 0-4 vs from scratch")
    ax.set_ylim(0, 1)
    ax.legend()
    return ax
