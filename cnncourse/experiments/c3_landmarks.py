"""Chapter 3: train the landmark network on generated cartoon faces and measure its error on held-out faces.

Training and held-out faces come from cnncourse.data.landmarks with different seeds, so no face is in both.
The error is reported in pixels and, as is usual for face landmarks, divided by the inter-ocular distance (the
distance between the two true eye centres), which makes it independent of the face's size.
"""

import time

import keras
import numpy as np

from cnncourse.data.landmarks import make_landmark_images
from cnncourse.experiments.c2_residual import require_settings
from cnncourse.models.c2_classic import require_number
from cnncourse.models.c3_landmarks import decode_landmarks, landmark_model
from cnncourse.models.twins import landmark_vector
from cnncourse.ops.validate import require_int

# Faces are generated, so full mode simply uses more of them and trains longer. Measured on 2 CPU cores shared with
# other work, held-out mean error (normalised by the inter-ocular distance): fast 1.7 pixels (15%) in a 30 s fit,
# full 0.8 pixels (7%) in a 4 min fit; always answering the training faces' mean positions: 12 pixels (114%).
LANDMARK_TRAINING = {
    "fast": {"n_train": 2000, "n_test": 200, "image_size": 64, "epochs": 6, "batch_size": 16, "learning_rate": 2e-3},
    "full": {"n_train": 10000, "n_test": 1000, "image_size": 64, "epochs": 15, "batch_size": 32,
             "learning_rate": 2e-3},
    "grade": {"n_train": 64, "n_test": 16, "image_size": 64, "epochs": 1, "batch_size": 32,
              "learning_rate": 2e-3},  # smoke run
}
SETTING_KEYS = ("n_train", "n_test", "image_size", "epochs", "batch_size", "learning_rate")
TEST_SEED_OFFSET = 10_000  # held-out faces are drawn with seed + this
EYES = (0, 1)  # indices of the left and right eye in cnncourse.data.landmarks.LANDMARK_NAMES


def landmark_errors(true_points, predicted_points):
    """Mean Euclidean error in pixels, and the same per face divided by its inter-ocular distance, averaged.

    Args:
        true_points, predicted_points: (n, n_landmarks, 2) pixel (x, y); landmarks 0 and 1 are the eyes.
    Returns:
        (mean error in pixels, normalised error), two floats.
    """
    true_points, predicted_points = np.asarray(true_points, np.float64), np.asarray(predicted_points, np.float64)
    if (true_points.shape != predicted_points.shape or true_points.ndim != 3
            or true_points.shape[1] < 2 or true_points.shape[2] != 2):
        raise ValueError(f"true and predicted points must both be (n, n_landmarks >= 2, 2), "
                         f"got {true_points.shape} and {predicted_points.shape}")
    distances = np.linalg.norm(predicted_points - true_points, axis=-1)  # (n, n_landmarks)
    inter_ocular = np.linalg.norm(true_points[:, EYES[0]] - true_points[:, EYES[1]], axis=-1)  # (n,)
    return float(distances.mean()), float(np.mean(distances.mean(axis=1) / inter_ocular))


def train_landmarks(settings, seed=0):
    """Generate faces, train landmark_model with the squared error (Adam, cosine decay), measure held-out errors.

    Args:
        settings: dict with the keys of LANDMARK_TRAINING["fast"], e.g. LANDMARK_TRAINING[config.mode()].
        seed: seeds the faces (training: seed, held out: seed + TEST_SEED_OFFSET) and the weights.
    Returns:
        dict with
            "model": the trained keras.Model;
            "history": list of the training loss per epoch;
            "test": the held-out faces, make_landmark_images's dict ("images", "points", "names");
            "predicted": float (n_test, 5, 2) predicted pixel (x, y);
            "mean_error_pixels", "normalised_error": landmark_errors of the predictions;
            "baseline_error_pixels", "baseline_normalised_error": the same for the trivial predictor that always
                answers the mean landmark positions of the training faces;
            "seconds": training (fit) time.
    """
    require_settings(settings, SETTING_KEYS)
    for key in ("n_train", "n_test", "epochs", "batch_size"):
        require_int(settings[key], f'settings["{key}"]', 1)
    require_number(settings["learning_rate"], 'settings["learning_rate"]', 0)
    size = settings["image_size"]
    keras.utils.set_random_seed(seed)
    train = make_landmark_images(settings["n_train"], size=size, seed=seed)
    test = make_landmark_images(settings["n_test"], size=size, seed=seed + TEST_SEED_OFFSET)
    targets = np.stack([landmark_vector(p, (size, size)) for p in train["points"]])
    model = landmark_model(size, train["points"].shape[1])
    steps = settings["epochs"] * -(-settings["n_train"] // settings["batch_size"])
    schedule = keras.optimizers.schedules.CosineDecay(settings["learning_rate"], steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mean_squared_error")
    start = time.perf_counter()
    history = model.fit(train["images"], targets, epochs=settings["epochs"], batch_size=settings["batch_size"],
                        verbose=0).history
    seconds = time.perf_counter() - start
    predicted = decode_landmarks(model.predict(test["images"], batch_size=256, verbose=0), (size, size))
    baseline = np.broadcast_to(train["points"].mean(axis=0), test["points"].shape)
    error, normalised = landmark_errors(test["points"], predicted)
    baseline_error, baseline_normalised = landmark_errors(test["points"], baseline)
    return {"model": model, "history": [float(v) for v in history["loss"]], "test": test, "predicted": predicted,
            "mean_error_pixels": error, "normalised_error": normalised, "baseline_error_pixels": baseline_error,
            "baseline_normalised_error": baseline_normalised, "seconds": seconds}


def plot_landmarks(images, true_points, predicted_points, names, n=6):
    """Show the first n faces with their true landmarks (circles) and the predicted ones (crosses).

    Each landmark has its own colour, the same in every panel; the title gives the mean error of the panels shown.

    Args:
        images: (N, H, W, 3) floats in [0, 1].
        true_points, predicted_points: (N, n_landmarks, 2) pixel (x, y).
        names: the n_landmarks landmark names, for the legend.
        n: number of faces to show, int >= 1 (at most N).
    Returns:
        the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    n = min(require_int(n, "n", 1), len(images))
    true_points, predicted_points = np.asarray(true_points), np.asarray(predicted_points)
    if true_points.shape != predicted_points.shape or len(names) != true_points.shape[1]:
        raise ValueError(f"true_points and predicted_points must have the same shape (N, len(names), 2), got "
                         f"{true_points.shape}, {predicted_points.shape} and {len(names)} names")
    error, normalised = landmark_errors(true_points[:n], predicted_points[:n])
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows + 0.9), squeeze=False, layout="constrained")
    colours = plt.get_cmap("tab10").colors
    height, width = np.shape(images)[1:3]
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        ax.tick_params(labelsize=7)
        if i % cols == 0:
            ax.set_ylabel("y (pixels)")
        if i + cols >= n:  # nothing below it
            ax.set_xlabel("x (pixels)")
        ax.imshow(images[i], extent=(0, width, height, 0))  # pixel (r, c) spans x in [c, c + 1]: points line up
        for k, name in enumerate(names):
            colour = colours[k % len(colours)]
            ax.plot(*true_points[i, k], "o", mfc="none", mec=colour, mew=1.5, ms=8, label=f"{name} (true)")
            ax.plot(*predicted_points[i, k], "x", color=colour, mew=2, ms=7, label=f"{name} (predicted)")
        ax.set_title(f"face {i}: error {np.linalg.norm(predicted_points[i] - true_points[i], axis=-1).mean():.1f} px",
                     fontsize=9)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(names), fontsize=7)
    fig.suptitle(f"Landmarks: true (o) and predicted (x) on {n} faces; mean error {error:.1f} pixels, "
                 f"{normalised:.1%} of the inter-ocular distance")
    return fig
