"""Chapter 3: train a small network to classify AND localize the one object of an image, or say there is none.

The data are generated scenes (cnncourse.data.scenes) with at most one object: most hold one digit, square or disc,
a share `empty_fraction` are bare texture backgrounds (pc = 0). The target of every image is the lecture's
y = [pc, bx, by, bh, bw, c1, c2, c3] (cnncourse.models.c3_localization.localization_target), and the network is
trained with mixed_localization_loss: logistic loss for pc, squared error for the box, log loss for the class.
Training and held-out images come from different seeds, so no image is in both.
"""

import time

import keras
import numpy as np
from keras import layers

from cnncourse.data.scenes import CLASS_NAMES, random_background, make_scenes
from cnncourse.experiments.c2_residual import require_settings
from cnncourse.models.c2_classic import require_number
from cnncourse.models.c3_localization import mixed_localization_loss
from cnncourse.models.twins import localization_vector
from cnncourse.ops.twins import box_iou
from cnncourse.ops.validate import require_int

# Fast mode, measured on 2 busy CPU cores: 30 s of fitting, held-out pc accuracy 0.99, mean IoU 0.58 (0.09 for the
# mean box), class accuracy 0.97. Full mode is not yet measured.
LOCALIZATION_TRAINING = {
    "fast": {"n_train": 4000, "n_test": 300, "image_size": 64, "empty_fraction": 0.25, "epochs": 6,
             "batch_size": 32, "learning_rate": 2e-3},
    "full": {"n_train": 20000, "n_test": 2000, "image_size": 64, "empty_fraction": 0.25, "epochs": 30,
             "batch_size": 64, "learning_rate": 2e-3},
    "grade": {"n_train": 64, "n_test": 16, "image_size": 64, "empty_fraction": 0.25, "epochs": 1,
              "batch_size": 32, "learning_rate": 2e-3},  # smoke run
}
SETTING_KEYS = ("n_train", "n_test", "image_size", "empty_fraction", "epochs", "batch_size", "learning_rate")
TEST_SEED_OFFSET = 10_000  # held-out images are drawn with seed + this
DROPOUT = 0.3  # before the dense layer: fewer memorised images (held-out IoU 0.44 -> 0.49 in a 2,000-image run)


def localization_data(n, size=64, seed=0, empty_fraction=0.25):
    """n images with at most one object each, and their localization targets.

    round(n * empty_fraction) images, at random positions, are bare texture backgrounds (the same textures as the
    scenes'); the others are make_scenes(..., max_objects=1) scenes. The same arguments give identical data.

    Args:
        n: number of images, int >= 1.
        size: height and width of the images in pixels, int >= 32.
        seed: seed of the scenes, the backgrounds and the positions of the empty images.
        empty_fraction: share of images without an object, in [0, 1].
    Returns:
        dict with
            "images": float32 (n, size, size, 3) in [0, 1];
            "targets": float32 (n, 5 + 3), y = [pc, bx, by, bh, bw, c_digit, c_square, c_disc];
            "boxes": list of n pixel corner boxes (x1, y1, x2, y2) as tuples of floats, None for an empty image;
            "labels": int64 (n,), the class index, -1 for an empty image;
            "class_names": list(CLASS_NAMES).
    """
    n, size = require_int(n, "n", 1), require_int(size, "size", 32)
    empty_fraction = require_number(empty_fraction, "empty_fraction", 0)
    if empty_fraction > 1:
        raise ValueError(f"empty_fraction must be in [0, 1], got {empty_fraction}")
    rng = np.random.default_rng([seed, 1])  # not the scenes' generator: scenes stay those of make_scenes(seed)
    empty = np.zeros(n, dtype=bool)
    empty[rng.permutation(n)[:round(n * empty_fraction)]] = True
    n_objects = int(np.sum(~empty))
    scenes = make_scenes(n_objects, size=size, seed=seed, max_objects=1) if n_objects else None
    images = np.empty((n, size, size, 3), dtype=np.float32)
    boxes, labels = [None] * n, np.full(n, -1, dtype=np.int64)
    for i in np.flatnonzero(empty):
        images[i] = random_background(rng, size)
    for k, i in enumerate(np.flatnonzero(~empty)):
        images[i] = scenes["images"][k]
        boxes[i] = tuple(float(v) for v in scenes["boxes"][k][0])
        labels[i] = scenes["labels"][k][0]
    targets = np.stack([localization_vector(box, max(label, 0), (size, size), len(CLASS_NAMES))
                        for box, label in zip(boxes, labels)])
    return {"images": images, "targets": targets, "boxes": boxes, "labels": labels,
            "class_names": list(CLASS_NAMES)}


def target_box(y, image_size):
    """The pixel corner box (x1, y1, x2, y2) that a target or prediction y = [pc, bx, by, bh, bw, ...] describes.

    Args:
        y: array (5 + n_classes,); pc is ignored.
        image_size: (height, width) of the image in pixels.
    Returns:
        tuple of 4 floats, x2 >= x1 and y2 >= y1 (negative sizes are read as 0).
    """
    height, width = image_size
    bx, by, bh, bw = (float(v) for v in y[1:5])
    half_w, half_h = max(bw, 0.0) * width / 2, max(bh, 0.0) * height / 2
    return (bx * width - half_w, by * height - half_h, bx * width + half_w, by * height + half_h)


def localizer_model(image_size=64, n_classes=3):
    """A small convnet with the three outputs of classification with localization, concatenated.

    Layers: four stages Conv2D 3x3 "same" ReLU (16, 32, 32, 32 filters) - MaxPool 2, so a 64x64 image becomes
    (4, 4, 32); Flatten (keeps where things are: a global pooling would lose it); Dropout 0.3; Dense 128 ReLU;
    then three heads "pc" Dense 1 sigmoid, "box" Dense 4 sigmoid (bx, by, bh, bw are fractions of the image),
    "classes" Dense n_classes softmax; "y" concatenates them.

    Args:
        image_size: side of the square input in pixels, int >= 16.
        n_classes: number of object classes, int >= 1.
    Returns:
        keras.Model mapping (batch, image_size, image_size, 3) to (batch, 5 + n_classes), the layout
        mixed_localization_loss expects.
    """
    image_size = require_int(image_size, "image_size", 16)
    n_classes = require_int(n_classes, "n_classes", 1)
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = inputs
    for stage, filters in enumerate((16, 32, 32, 32), start=1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{stage}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(DROPOUT, name="dropout")(x)
    x = layers.Dense(128, activation="relu", name="fc")(x)
    pc = layers.Dense(1, activation="sigmoid", name="pc")(x)
    box = layers.Dense(4, activation="sigmoid", name="box")(x)
    classes = layers.Dense(n_classes, activation="softmax", name="classes")(x)
    outputs = layers.Concatenate(name="y")([pc, box, classes])
    return keras.Model(inputs, outputs, name="localizer")


def localization_scores(data, predicted):
    """How good predictions are: pc accuracy on all images, box IoU and class accuracy on those with an object.

    Args:
        data: dict from localization_data.
        predicted: (n, 5 + n_classes) predictions for data["images"].
    Returns:
        dict with "pc_accuracy" (pc > 0.5 against the truth), "mean_iou" (mean IoU of the predicted and the true
        box) and "class_accuracy" (argmax of the classes), the last two nan when no image has an object.
    """
    predicted = np.asarray(predicted)
    has_object = data["targets"][:, 0] == 1
    size = data["images"].shape[1:3]
    ious = [box_iou(target_box(y, size), data["boxes"][i]) for i, y in enumerate(predicted) if has_object[i]]
    classes = np.argmax(predicted[:, 5:], axis=1)
    return {"pc_accuracy": float(np.mean((predicted[:, 0] > 0.5) == has_object)),
            "mean_iou": float(np.mean(ious)) if ious else float("nan"),
            "class_accuracy": float(np.mean(classes[has_object] == data["labels"][has_object]))
            if np.any(has_object) else float("nan")}


def _check_settings(settings):
    require_settings(settings, SETTING_KEYS)
    for key, low in (("n_train", 1), ("n_test", 1), ("image_size", 32), ("epochs", 1), ("batch_size", 1)):
        require_int(settings[key], f'settings["{key}"]', low)
    require_number(settings["learning_rate"], 'settings["learning_rate"]', 0)
    if not 0 <= require_number(settings["empty_fraction"], 'settings["empty_fraction"]', 0) <= 1:
        raise ValueError(f'settings["empty_fraction"] must be in [0, 1], got {settings["empty_fraction"]}')


def train_localizer(settings, seed=0):
    """Generate images, train localizer_model with mixed_localization_loss (Adam, cosine decay), score it held out.

    Args:
        settings: dict with the keys of LOCALIZATION_TRAINING["fast"], e.g. LOCALIZATION_TRAINING[config.mode()].
        seed: seeds the training images (held out: seed + TEST_SEED_OFFSET), the weights and the batch order.
    Returns:
        dict with "model", "history" (per-epoch loss), "test" (the held-out localization_data), "predicted"
        ((n_test, 8) predictions on it), "pc_accuracy", "mean_iou", "class_accuracy" (see localization_scores),
        "baseline_iou" (mean IoU of always predicting the mean training box), "seconds" (fit time).
    """
    _check_settings(settings)
    keras.utils.set_random_seed(seed)
    size, empty = settings["image_size"], settings["empty_fraction"]
    train = localization_data(settings["n_train"], size, seed, empty)
    test = localization_data(settings["n_test"], size, seed + TEST_SEED_OFFSET, empty)
    model = localizer_model(size, len(CLASS_NAMES))
    steps = settings["epochs"] * -(-settings["n_train"] // settings["batch_size"])
    schedule = keras.optimizers.schedules.CosineDecay(settings["learning_rate"], steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=mixed_localization_loss)
    start = time.perf_counter()
    history = model.fit(train["images"], train["targets"], epochs=settings["epochs"],
                        batch_size=settings["batch_size"], verbose=0).history
    seconds = time.perf_counter() - start
    predicted = model.predict(test["images"], batch_size=256, verbose=0)
    mean_target = train["targets"][train["targets"][:, 0] == 1].mean(axis=0)
    baseline = localization_scores(test, np.tile(mean_target, (len(predicted), 1)))["mean_iou"]
    return {"model": model, "history": [float(v) for v in history["loss"]], "test": test, "predicted": predicted,
            **localization_scores(test, predicted), "baseline_iou": baseline, "seconds": seconds}


def plot_localizations(data, predicted, class_names=CLASS_NAMES, n=6):
    """Show the first n images with the true box (dashed) and the predicted box, class and pc (solid).

    Args:
        data: dict from localization_data.
        predicted: (N, 5 + n_classes) predictions for data["images"].
        class_names: names of the classes, indexed by the class part of y.
        n: number of images to show, int >= 1 (at most N).
    Returns:
        matplotlib Figure, one panel per image; a prediction with pc < 0.5 reads "no object".
    """
    import matplotlib.pyplot as plt

    n = min(require_int(n, "n", 1), len(data["images"]))
    predicted = np.asarray(predicted)
    if predicted.shape != (len(data["images"]), 5 + len(class_names)):
        raise ValueError(f"predicted must have shape ({len(data['images'])}, {5 + len(class_names)}), "
                         f"got {predicted.shape}")
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.4 * rows), squeeze=False)
    size = data["images"].shape[1:3]
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        ax.imshow(data["images"][i])
        box, y = data["boxes"][i], predicted[i]
        truth = "no object" if box is None else class_names[data["labels"][i]]
        if box is not None:
            _draw_box(ax, box, "white", "--")
        if y[0] >= 0.5:
            x1, y1, x2, y2 = _draw_box(ax, target_box(y, size), "red", "-")
            ax.text(x1, y1 - 1, f"{class_names[int(np.argmax(y[5:]))]} pc={y[0]:.2f}", color="red", fontsize=8,
                    va="bottom", bbox={"facecolor": "white", "alpha": 0.7, "pad": 1, "edgecolor": "none"})
        else:
            ax.text(2, 2, f"no object (pc={y[0]:.2f})", color="red", fontsize=8, va="top",
                    bbox={"facecolor": "white", "alpha": 0.7, "pad": 1, "edgecolor": "none"})
        ax.set_title(f"truth: {truth}", fontsize=9)
        ax.set_xlabel("x (pixels)", fontsize=8)
        ax.set_ylabel("y (pixels)", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle("Localization: true box dashed, predicted box solid")
    fig.tight_layout()
    return fig


def _draw_box(ax, box, colour, style):
    """Draw a pixel corner box; return its corners."""
    from matplotlib.patches import Rectangle

    x1, y1, x2, y2 = box
    # pixel columns x1 .. x2 - 1 span x1 - 0.5 .. x2 - 0.5 in imshow's coordinates
    ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor=colour, linestyle=style,
                           linewidth=1.5))
    return x1, y1, x2, y2
