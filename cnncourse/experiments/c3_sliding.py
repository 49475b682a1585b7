"""Chapter 3: train the 14x14 window classifier on crops of scenes, then slide it over whole scenes two ways.

The crops come from make_scenes at size 48, where objects are 8 to 20 pixels: an object crop is the WINDOW x WINDOW
window centred (give or take MAX_JITTER pixels) on an object's box, labelled 1 + the object's class; a background
crop, labelled 0, is a window that holds no object's centre: one scene in two gives an "empty" one (it holds less
than BACKGROUND_OVERLAP of every box), the other a "hard" one that holds a piece of an object (without hard ones
the classifier calls the edge of a square a digit, and its class maps light up around every object). The trained
classifier,
or its convolutional twin (cnncourse.models.c3_sliding.convolutional_classifier), then gives every window of a
scene a class; time_sliding measures how much faster the twin is than cropping window by window.
"""

import time

import keras
import numpy as np

from cnncourse.data.scenes import CLASS_NAMES, make_scenes
from cnncourse.experiments.c2_residual import require_settings
from cnncourse.models.c2_classic import require_number
from cnncourse.models.c3_sliding import STRIDE, WINDOW, sliding_window_predictions, window_classifier
from cnncourse.ops.validate import require_array, require_int

WINDOW_CLASS_NAMES = ("background",) + CLASS_NAMES  # label 0 is background, 1 + i is CLASS_NAMES[i]
MAX_JITTER = 1  # pixels an object crop's centre may be off the object's box centre, on each axis
BACKGROUND_OVERLAP = 0.1  # an "empty" background crop holds less than this share of every object's box
HARD_BACKGROUND = 0.5  # share of background crops that hold a piece of an object, but not its centre
_BACKGROUND_TRIES = 30
TEST_SEED_OFFSET = 10_000  # held-out scenes are drawn with seed + this

# Fast mode, measured: 12,658 training crops, 18 s of fitting on 2 busy CPU cores, held-out accuracy 0.92 (hard
# background crops included). Full mode is not yet measured.
SLIDING_TRAINING = {
    "fast": {"n_scenes_train": 4000, "n_scenes_test": 500, "scene_size": 48, "epochs": 10, "batch_size": 32,
             "learning_rate": 1e-3},
    "full": {"n_scenes_train": 30000, "n_scenes_test": 3000, "scene_size": 48, "epochs": 30, "batch_size": 64,
             "learning_rate": 1e-3},
    "grade": {"n_scenes_train": 50, "n_scenes_test": 20, "scene_size": 48, "epochs": 1, "batch_size": 32,
              "learning_rate": 1e-3},  # smoke run
}
SETTING_KEYS = ("n_scenes_train", "n_scenes_test", "scene_size", "epochs", "batch_size", "learning_rate")


def window_positions(scenes, seed=0):
    """Where to crop: the windows of the object and background crops of every scene.

    Args:
        scenes: dict from make_scenes (images at least WINDOW pixels on a side).
        seed: seeds the jitter of the object crops and the places of the background crops.
    Returns:
        int64 array (N, 4), one row (scene index, top, left, label) per crop: the window covers rows
        top .. top + WINDOW - 1 and columns left .. left + WINDOW - 1 of the scene; label 0 is background,
        1 + c an object of class c centred in the window. Per scene: one crop per object whose window fits in the
        image, and one background crop.
    """
    rng = np.random.default_rng(seed)
    size = scenes["images"].shape[1]
    rows = []
    for index, (boxes, labels) in enumerate(zip(scenes["boxes"], scenes["labels"])):
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        for (x1, y1, x2, y2), label in zip(boxes, labels):
            jitter_y, jitter_x = rng.integers(-MAX_JITTER, MAX_JITTER + 1, size=2)
            top = int(round((y1 + y2) / 2 - WINDOW / 2)) + int(jitter_y)
            left = int(round((x1 + x2) / 2 - WINDOW / 2)) + int(jitter_x)
            if 0 <= top <= size - WINDOW and 0 <= left <= size - WINDOW:
                rows.append((index, top, left, 1 + int(label)))
        window = _background_window(rng, boxes, size, hard=rng.random() < HARD_BACKGROUND)
        if window is not None:
            rows.append((index, *window, 0))
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def _background_window(rng, boxes, size, hard):
    """(top, left) of a random background window of a scene with boxes (k, 4), or None if none was found.

    hard=False: the window holds less than BACKGROUND_OVERLAP of every box. hard=True: it holds at least that
    much of some box but no box's centre (a piece of an object: an edge of a square is not a digit).
    """
    for _ in range(_BACKGROUND_TRIES):
        top, left = (int(v) for v in rng.integers(0, size - WINDOW + 1, size=2))
        share = _covered_share(boxes, top, left)
        if hard and np.any(share >= BACKGROUND_OVERLAP) and not np.any(_holds_centre(boxes, top, left)):
            return top, left
        if not hard and np.all(share < BACKGROUND_OVERLAP):
            return top, left
    return None


def _holds_centre(boxes, top, left):
    """Whether the window at (top, left) holds the centre of each box (k, 4): (k,) bool."""
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    return (cx >= left) & (cx < left + WINDOW) & (cy >= top) & (cy < top + WINDOW)


def _covered_share(boxes, top, left):
    """Share of each box (k, 4) that lies inside the window at (top, left): (k,) in [0, 1]."""
    width = np.clip(np.minimum(boxes[:, 2], left + WINDOW) - np.maximum(boxes[:, 0], left), 0, None)
    height = np.clip(np.minimum(boxes[:, 3], top + WINDOW) - np.maximum(boxes[:, 1], top), 0, None)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return width * height / np.maximum(area, 1e-9)


def window_dataset(n_scenes, scene_size=48, seed=0):
    """Labelled WINDOW x WINDOW crops of n_scenes generated scenes (see window_positions).

    Args:
        n_scenes: number of scenes to crop, int >= 1.
        scene_size: side of the scenes in pixels, int >= 32 (48: objects of 8 to 20 pixels, about a window).
        seed: seeds the scenes and the crops; the same arguments give identical crops.
    Returns:
        (crops, labels): float32 (N, 14, 14, 3) in [0, 1] and int64 (N,) indices into WINDOW_CLASS_NAMES,
        N about 3 per scene (at size 48), the four classes about equally frequent.
    """
    n_scenes = require_int(n_scenes, "n_scenes", 1)
    scenes = make_scenes(n_scenes, size=require_int(scene_size, "scene_size", 32), seed=seed)
    positions = window_positions(scenes, seed)
    crops = np.stack([scenes["images"][i, top:top + WINDOW, left:left + WINDOW] for i, top, left, _ in positions])
    return crops.astype(np.float32), positions[:, 3].copy()


def _check_settings(settings):
    require_settings(settings, SETTING_KEYS)
    for key, low in (("n_scenes_train", 1), ("n_scenes_test", 1), ("scene_size", 32), ("epochs", 1),
                     ("batch_size", 1)):
        require_int(settings[key], f'settings["{key}"]', low)
    require_number(settings["learning_rate"], 'settings["learning_rate"]', 0)


def train_window_classifier(settings, seed=0):
    """Train window_classifier(4) on window_dataset crops (Adam), measure its accuracy on held-out crops.

    Args:
        settings: dict with the keys of SLIDING_TRAINING["fast"], e.g. SLIDING_TRAINING[config.mode()].
        seed: seeds the training crops (held out: seed + TEST_SEED_OFFSET), the weights and the batch order.
    Returns:
        dict with "model" (the trained window_classifier), "history" ({"loss": [...], "accuracy": [...]} per
        epoch), "test_accuracy" (float), "n_train" and "n_test" (numbers of crops), "seconds" (fit time).
    """
    _check_settings(settings)
    keras.utils.set_random_seed(seed)
    x_train, y_train = window_dataset(settings["n_scenes_train"], settings["scene_size"], seed)
    x_test, y_test = window_dataset(settings["n_scenes_test"], settings["scene_size"], seed + TEST_SEED_OFFSET)
    model = window_classifier(len(WINDOW_CLASS_NAMES))
    model.compile(optimizer=keras.optimizers.Adam(settings["learning_rate"]), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=settings["epochs"], batch_size=settings["batch_size"],
                        verbose=0).history
    seconds = time.perf_counter() - start
    predicted = np.argmax(model.predict(x_test, batch_size=256, verbose=0), axis=1)
    return {"model": model, "history": {k: [float(v) for v in history[k]] for k in ("loss", "accuracy")},
            "test_accuracy": float(np.mean(predicted == y_test)), "n_train": len(y_train), "n_test": len(y_test),
            "seconds": seconds}


def class_map_figure(image, probabilities, class_names=WINDOW_CLASS_NAMES):
    """Show an image and, for every object class, its probability at each window position.

    The map's cell (i, j) is drawn around the centre of its window, (STRIDE * j + WINDOW / 2, STRIDE * i +
    WINDOW / 2) in the image's pixels, so a bright cell sits on the object that makes it bright.

    Args:
        image: (n_H, n_W, 3) float array in [0, 1].
        probabilities: (rows, cols, n_classes) window probabilities for this image, as convolutional_classifier
            (for one image) or sliding_window_predictions return them; class 0 is background and is not drawn.
        class_names: n_classes names, background first.
    Returns:
        matplotlib Figure: the image, then one map per object class, with a shared colour bar.
    """
    import matplotlib.pyplot as plt

    require_array(image, "image (n_H, n_W, 3)", ndim=3)
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 3 or probabilities.shape[2] != len(class_names):
        raise ValueError(f"probabilities must have shape (rows, cols, {len(class_names)}) (one image of "
                         f"convolutional_classifier's output), got {probabilities.shape}")
    rows, cols = probabilities.shape[:2]
    half = WINDOW / 2 - 0.5  # imshow puts pixel k's centre at k; a window starting at 0 is centred at 6.5
    extent = (half - STRIDE / 2, half + STRIDE * (cols - 0.5), half + STRIDE * (rows - 0.5), half - STRIDE / 2)
    fig, axes = plt.subplots(1, len(class_names), figsize=(3.2 * len(class_names), 3.4))
    axes[0].imshow(np.clip(image, 0, 1))
    axes[0].set_title("image")
    for k, ax in enumerate(axes[1:], start=1):
        shown = ax.imshow(probabilities[..., k], vmin=0, vmax=1, cmap="viridis", extent=extent)
        ax.set_xlim(-0.5, image.shape[1] - 0.5)
        ax.set_ylim(image.shape[0] - 0.5, -0.5)
        ax.set_title(f"P({class_names[k]})")
    for ax in axes:
        ax.set_xlabel("x (pixels)")
    axes[0].set_ylabel("y (pixels)")
    fig.colorbar(shown, ax=list(axes), label="probability of the window's class", shrink=0.8)
    fig.suptitle(f"Class of every {WINDOW}x{WINDOW} window (stride {STRIDE}), drawn at the window's centre")
    return fig


def time_sliding(classifier, twin, image, repeats=3):
    """Time the two ways of classifying every window of one image (each warmed up first).

    Only conv1 is shared between overlapping windows: fc1 and fc2 still run once per window position. So the twin
    wins by the crops it does not copy and the conv1 work it does not repeat, about 1.5 to 2.5 times on a CPU for
    this small network; a network with more convolutions before its dense layers shares far more.

    Args:
        classifier: a window_classifier.
        twin: its convolutional twin (convolutional_classifier(classifier)).
        image: (n_H, n_W, n_channels) float32 array, n_H and n_W >= WINDOW.
        repeats: timed runs of each way, int >= 1; the median is reported.
    Returns:
        dict with "crops_seconds" (sliding_window_predictions: crop every window, classify the crops),
        "convolution_seconds" (twin.predict on the whole image), "speedup" (their ratio) and "windows"
        (number of windows classified).
    """
    require_array(image, "image (n_H, n_W, n_channels)", ndim=3)
    repeats = require_int(repeats, "repeats", 1)
    batch = image[None].astype(np.float32)

    def crops():
        return sliding_window_predictions(classifier, image)

    def convolution():
        return twin.predict(batch, verbose=0)

    times = {}
    for name, run in (("crops", crops), ("convolution", convolution)):
        result = run()  # warm-up: the first call traces the graph
        durations = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            durations.append(time.perf_counter() - start)
        times[name] = float(np.median(durations))
    windows = result.shape[1] * result.shape[2]
    return {"crops_seconds": times["crops"], "convolution_seconds": times["convolution"],
            "speedup": times["crops"] / times["convolution"], "windows": int(windows)}
