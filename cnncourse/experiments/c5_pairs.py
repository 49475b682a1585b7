"""Chapter 5, the second way: face verification as binary classification of pairs.

A pair classifier (cnncourse.models.c5_verification.pair_classifier) applies ONE encoder to both images and feeds
|f(a) - f(b)| to a logistic unit that says "same person" (1) or "different" (0). It is trained with binary
cross-entropy on pairs of training identities, then measured on the same held-out pairs as the triplet encoder, so
the two ways can be compared.
"""

import time

import keras
import numpy as np

from cnncourse.data.faces import make_faces
from cnncourse.experiments.c2_residual import require_settings
from cnncourse.experiments.c5_faces import verification_pairs
from cnncourse.models.twins import build_face_encoder, build_pair_model

# The same people and image sizes as FACE_TRAINING of the same mode, so the two ways see the same training data.
PAIR_TRAINING = {
    "fast": {"n_identities": 200, "per_identity": 6, "image_size": 48, "n_pairs": 4000, "epochs": 5,
             "batch_size": 32, "learning_rate": 1e-3},
    "full": {"n_identities": 1000, "per_identity": 10, "image_size": 64, "n_pairs": 60000, "epochs": 20,
             "batch_size": 64, "learning_rate": 1e-3},
    "grade": {"n_identities": 6, "per_identity": 3, "image_size": 32, "n_pairs": 32, "epochs": 1, "batch_size": 32,
              "learning_rate": 1e-3},  # smoke run
}
SETTING_KEYS = ("n_identities", "per_identity", "image_size", "n_pairs", "epochs", "batch_size", "learning_rate")


def pair_arrays(data, pairs):
    """Images of the pairs and their labels.

    Args:
        data: a make_faces dict; pairs: (k, 3) int array of (i, j, same) rows (evaluate_verification's "pairs").
    Returns:
        ((images_a (k, H, W, 3), images_b (k, H, W, 3)), labels float32 (k, 1): 1 for the same person).
    """
    pairs = np.asarray(pairs)
    return (data["images"][pairs[:, 0]], data["images"][pairs[:, 1]]), pairs[:, 2:3].astype("float32")


def train_pair_classifier(settings, seed=0):
    """Train pair_classifier(face_encoder(...)) from scratch on pairs of training identities.

    Args:
        settings: dict with the keys of PAIR_TRAINING["fast"].
        seed: seeds the faces, the pairs and the weights.
    Returns:
        dict with "model" (the pair classifier), "history" (per-epoch loss), "seconds".
    """
    require_settings(settings, SETTING_KEYS)
    keras.utils.set_random_seed(seed)
    data = make_faces(settings["n_identities"], settings["per_identity"], size=settings["image_size"], seed=seed)
    pairs = np.stack(verification_pairs(data, settings["n_pairs"], seed=seed), axis=1).astype(np.int64)
    (images_a, images_b), labels = pair_arrays(data, pairs)
    model = build_pair_model(build_face_encoder(settings["image_size"]))
    model.compile(optimizer=keras.optimizers.Adam(settings["learning_rate"]), loss="binary_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit([images_a, images_b], labels, epochs=settings["epochs"], batch_size=settings["batch_size"],
                        verbose=0).history
    return {"model": model, "history": history["loss"], "seconds": time.perf_counter() - start}


def pair_accuracy(model, data, pairs, threshold=0.5):
    """Accuracy of a pair classifier on given pairs: "same" when its output is >= threshold.

    Returns:
        (accuracy float, probabilities (k,) float array).
    """
    (images_a, images_b), labels = pair_arrays(data, pairs)
    probabilities = np.asarray(model.predict([images_a, images_b], verbose=0)).reshape(-1)
    return float(np.mean((probabilities >= threshold) == (labels[:, 0] == 1))), probabilities
