"""Chapter 2 experiment: what multi-crop and ensembling buy at test time, and what they cost, on held-out digits.

Several small ConvNets are trained on the shipped MNIST digits, each from its own seed, on random crops
(crop_size x crop_size, a new crop of each 28x28 digit every epoch: the random-crop augmentation of AlexNet). At test
time four ways of predicting are compared on the held-out digits, each by its error and its time per image:
    one network, the centre crop     (1 pass per image)
    one network, five crops          (5 passes: the four corners and the centre, averaged)
    all the networks, the centre crop (n_networks passes, averaged)
    all the networks, five crops     (5 * n_networks passes)
Digits are not mirrored (a mirrored 2 is no 2), so the five crops stand in for AlexNet's ten.

Network (Model "crop_net{j}"), input (crop_size, crop_size, 1):
    conv1 Conv2D 16 3x3 "same" relu   pool1 MaxPool 2   conv2 Conv2D 32 3x3 "same" relu   pool2 MaxPool 2
    flatten   hidden Dense 64 relu   predictions Dense n_classes softmax
"""

import time

import keras
import numpy as np
from keras import layers

from cnncourse.data.mnist import load_mnist
from cnncourse.experiments.c2_residual import require_settings
from cnncourse.models.c2_classic import require_number
from cnncourse.ops.twins import crop_views
from cnncourse.ops.validate import require_int

# Settings per mode (n_images: digits loaded in all, 20 % of them held out; None for all 5,000).
ENSEMBLE_EXPERIMENT = {
    "fast": {"n_images": None, "n_networks": 3, "epochs": 4, "crop_size": 24, "batch_size": 64,
             "learning_rate": 2e-3},
    "full": {"n_images": None, "n_networks": 5, "epochs": 12, "crop_size": 24, "batch_size": 64,
             "learning_rate": 2e-3},
    "grade": {"n_images": 200, "n_networks": 2, "epochs": 1, "crop_size": 24, "batch_size": 64,
              "learning_rate": 2e-3},  # autograding: a smoke run (cnncourse.config)
}
SETTING_KEYS = ("n_images", "n_networks", "epochs", "crop_size", "batch_size", "learning_rate")
DIGIT_SIDE = 28


def crop_network(crop_size, n_classes=10, name="crop_net"):
    """The small ConvNet of the experiment (see the module docstring).

    Args:
        crop_size: int >= 4, the side of the square grey crops it reads.
        n_classes: int >= 2.
        name: the model's name.
    Returns:
        keras.Model mapping (batch, crop_size, crop_size, 1) to class probabilities (batch, n_classes).
    """
    crop_size = require_int(crop_size, "crop_size", 4)
    n_classes = require_int(n_classes, "n_classes", 2)
    inputs = keras.Input(shape=(crop_size, crop_size, 1), name="crop")
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(64, activation="relu", name="hidden")(x)
    return keras.Model(inputs, layers.Dense(n_classes, activation="softmax", name="predictions")(x), name=name)


def _check_settings(settings):
    require_settings(settings, SETTING_KEYS)
    if settings["n_images"] is not None:
        require_int(settings["n_images"], 'settings["n_images"]', 20)
    require_int(settings["n_networks"], 'settings["n_networks"]', 1)
    require_int(settings["epochs"], 'settings["epochs"]', 1)
    crop = require_int(settings["crop_size"], 'settings["crop_size"]', 4)
    if crop > DIGIT_SIDE:
        raise ValueError(f'settings["crop_size"] must be at most {DIGIT_SIDE} (the digits\' side), got {crop}')
    require_int(settings["batch_size"], 'settings["batch_size"]', 1)
    require_number(settings["learning_rate"], 'settings["learning_rate"]', 0)


def random_crops(images, crop_size, rng):
    """One random crop_size x crop_size crop of each image, anywhere inside it.

    Args:
        images: numpy array (m, H, W, C); crop_size: int <= min(H, W); rng: numpy Generator.
    Returns:
        numpy array (m, crop_size, crop_size, C).
    """
    m, n_H, n_W = images.shape[:3]
    tops = rng.integers(0, n_H - crop_size + 1, size=m)
    lefts = rng.integers(0, n_W - crop_size + 1, size=m)
    rows = tops[:, None] + np.arange(crop_size)  # (m, crop_size)
    cols = lefts[:, None] + np.arange(crop_size)
    return images[np.arange(m)[:, None, None], rows[:, :, None], cols[:, None, :]]


def train_crop_networks(settings, seed=0):
    """Train settings["n_networks"] crop_networks on the same digits, each from its own seed, on random crops.

    Args:
        settings: dict with keys n_images (int >= 20 or None), n_networks, epochs, batch_size (ints >= 1),
            crop_size (int, 4..28) and learning_rate (of Adam), e.g. ENSEMBLE_EXPERIMENT[config.mode()].
        seed: seeds the data split; network j starts from seed 1000 * seed + j.
    Returns:
        dict with "networks" (list of keras.Model), "test" ((m, 28, 28, 1) float32 digits, (m,) labels),
        "train_accuracy" (list, last epoch of each network), "crop_size" and "seconds" (all the training).
    """
    _check_settings(settings)
    train, test = load_mnist(n=settings["n_images"], seed=seed)
    start = time.perf_counter()
    networks, accuracies = [], []
    for j in range(settings["n_networks"]):
        keras.utils.set_random_seed(1000 * seed + j)
        rng = np.random.default_rng(1000 * seed + j)
        network = crop_network(settings["crop_size"], name=f"crop_net{j}")
        network.compile(optimizer=keras.optimizers.Adam(settings["learning_rate"]),
                        loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        for _ in range(settings["epochs"]):  # a new random crop of every digit each epoch
            history = network.fit(random_crops(train[0], settings["crop_size"], rng), train[1],
                                  batch_size=settings["batch_size"], epochs=1, verbose=0).history
        networks.append(network)
        accuracies.append(float(history["accuracy"][-1]))
    return {"networks": networks, "test": test, "train_accuracy": accuracies, "crop_size": settings["crop_size"],
            "seconds": time.perf_counter() - start}


def predict_fn(network, batch_size=2048):
    """A function (n, h, w, C) float32 -> (n, n_classes) numpy probabilities that calls `network` in inference mode,
    batch_size images at a time."""
    def predict(images):
        return np.concatenate([keras.ops.convert_to_numpy(network(images[i:i + batch_size], training=False))
                               for i in range(0, len(images), batch_size)])
    return predict


def course_ensemble(predict_fns, images, crop_size=None, mirror=True):
    """The mean probabilities of the networks over the crops (the course's own, from the crop_views twin)."""
    views = images[:, None] if crop_size is None else crop_views(images, crop_size, mirror)
    m, k = views.shape[:2]
    batch = views.reshape(m * k, *views.shape[2:]).astype(np.float32)
    return np.mean([np.asarray(p(batch), dtype=np.float64).reshape(m, k, -1).mean(axis=1) for p in predict_fns],
                   axis=0)


def compare_test_time_tricks(run, predict=None):
    """Error and time per image of one network or all, on the centre crop or on five crops, on the held-out digits.

    Args:
        run: the dict returned by train_crop_networks.
        predict: a function like ensemble_predict(predict_fns, images, crop_size=None, mirror=True) returning
            (m, n_classes) probabilities (the notebook passes the student's); None for the course's own.
    Returns:
        list of dicts, one per way, in the order of the module docstring, each with "way" (str), "networks" and
        "crops" (ints), "passes" (networks * crops per image), "error" (fraction of the held-out digits) and
        "ms_per_image" (wall time of the prediction per image).
    """
    predict = predict or course_ensemble
    images, labels = run["test"]
    crop = run["crop_size"]
    centre = crop_views(images, crop, mirror=False)[:, 4]  # (m, crop, crop, 1): the centre crops
    fns = [predict_fn(network) for network in run["networks"]]
    ways = [("one network, centre crop", fns[:1], None), ("one network, five crops", fns[:1], crop),
            (f"{len(fns)} networks, centre crop", fns, None), (f"{len(fns)} networks, five crops", fns, crop)]
    rows = []
    for way, chosen, crop_size in ways:
        start = time.perf_counter()
        if crop_size is None:
            probabilities = predict(chosen, centre)
        else:
            probabilities = predict(chosen, images, crop_size, mirror=False)
        seconds = time.perf_counter() - start
        crops = 1 if crop_size is None else 5
        rows.append({"way": way, "networks": len(chosen), "crops": crops, "passes": len(chosen) * crops,
                     "error": float(np.mean(np.argmax(probabilities, axis=1) != labels)),
                     "ms_per_image": 1000.0 * seconds / len(images)})
    return rows


def plot_error_and_cost(rows, ax=None):
    """Held-out error against the prediction time per image, one point per way of compare_test_time_tricks.

    Args:
        rows: the list returned by compare_test_time_tricks.
        ax: a matplotlib Axes, or None for a new figure.
    Returns:
        the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) and "way" in r for r in rows):
        raise ValueError("rows must be the list of dicts returned by compare_test_time_tricks")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    for row in rows:
        ax.plot(row["ms_per_image"], 100 * row["error"], "o", markersize=8, label=f"{row['way']} ({row['passes']} "
                f"pass{'es' if row['passes'] > 1 else ''})")
    ax.set_xlabel("prediction time per image (ms)")
    ax.set_ylabel("held-out error (%)")
    ax.set_title("Test-time tricks: lower error, paid in passes")
    ax.legend(fontsize=8)
    return ax
