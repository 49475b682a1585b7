"""Chapter 5: train the face encoder with the triplet loss on synthetic people, verify pairs of unseen people.

Training people have ids 0 .. n_identities - 1 and held-out people ids TEST_FIRST_IDENTITY and up
(cnncourse.data.faces), so verification is one-shot: no image of a test person was seen in training. Each training
step draws P people x K images, embeds them, mines semi-hard triplets from those embeddings and takes one gradient
step on the triplet loss.
"""

import time

import keras
import numpy as np

from cnncourse.data.faces import make_faces
from cnncourse.experiments.c2_residual import require_settings
from cnncourse.models.c2_classic import require_number
from cnncourse.models.twins import build_face_encoder, mean_triplet_loss, mine_triplets
from cnncourse.models.c5_verification import auc, best_threshold, encode_images, rates_at, roc_curve
from cnncourse.ops.validate import require_int
from cnncourse.train import triplet_gradient_step

# Measured on 2 CPU cores shared with other work, 60 held-out people, 1000 pairs: fast 32 s of training, AUC 0.95,
# accuracy 0.89 (an untrained encoder: AUC 0.51). Full mode, measured on the same CPU (1,056 s of training): 98.0 % on
# 200 held-out people, AUC 0.997 (docs/benchmarks.md).
FACE_TRAINING = {
    "fast": {"n_identities": 200, "per_identity": 6, "image_size": 48, "embedding_dim": 128,
             "identities_per_batch": 8, "images_per_batch": 4, "steps": 700, "learning_rate": 2e-3, "alpha": 0.2,
             "n_test_identities": 60, "test_per_identity": 4, "n_pairs": 1000},
    "full": {"n_identities": 1000, "per_identity": 10, "image_size": 64, "embedding_dim": 128,
             "identities_per_batch": 16, "images_per_batch": 4, "steps": 4000, "learning_rate": 2e-3, "alpha": 0.2,
             "n_test_identities": 200, "test_per_identity": 5, "n_pairs": 4000},
    "grade": {"n_identities": 6, "per_identity": 3, "image_size": 32, "embedding_dim": 128,
              "identities_per_batch": 3, "images_per_batch": 2, "steps": 2, "learning_rate": 2e-3, "alpha": 0.2,
              "n_test_identities": 4, "test_per_identity": 2, "n_pairs": 20},  # smoke run
}
SETTING_KEYS = tuple(FACE_TRAINING["fast"])
TEST_FIRST_IDENTITY = 1000  # held-out people: ids 1000, 1001, ...


def _check_settings(settings):
    require_settings(settings, SETTING_KEYS)
    for key in SETTING_KEYS:
        if key not in ("learning_rate", "alpha"):
            require_int(settings[key], f'settings["{key}"]', 2 if key in ("per_identity", "n_pairs") else 1)
    require_number(settings["learning_rate"], 'settings["learning_rate"]', 0)
    require_number(settings["alpha"], 'settings["alpha"]', 0)
    if settings["identities_per_batch"] > settings["n_identities"] or settings["identities_per_batch"] < 2:
        raise ValueError("settings['identities_per_batch'] must be in 2..n_identities")
    if not 2 <= settings["images_per_batch"] <= settings["per_identity"]:
        raise ValueError("settings['images_per_batch'] must be in 2..per_identity")


def _make_gradient_step(encoder, optimizer, alpha):
    """A compiled step(images, labels) -> (loss, number of triplets): embed, mine semi-hard triplets from these
    embeddings, descend the triplet loss. The backend-specific part lives in cnncourse.train.triplet_gradient_step.
    """
    return triplet_gradient_step(encoder, optimizer,
                                 lambda embeddings, labels: mine_triplets(embeddings, labels, alpha),
                                 lambda anchor, positive, negative: mean_triplet_loss(anchor, positive, negative, alpha))


def train_triplet_encoder(settings, seed=0):
    """Generate training people, train face_encoder with semi-hard triplets (Adam, cosine decay).

    Args:
        settings: dict with the keys of FACE_TRAINING["fast"], e.g. FACE_TRAINING[config.mode()].
        seed: seeds the faces, the batches and the weights.
    Returns:
        dict with "encoder" (the trained keras.Model), "history" (mean loss of each block of steps, up to 20
        blocks), "steps_per_block", "seconds" (training time, data generation excluded) and "images_per_second".
    """
    _check_settings(settings)
    keras.utils.set_random_seed(seed)
    data = make_faces(settings["n_identities"], settings["per_identity"], size=settings["image_size"], seed=seed)
    encoder = build_face_encoder(settings["image_size"], settings["embedding_dim"])
    schedule = keras.optimizers.schedules.CosineDecay(settings["learning_rate"], settings["steps"])
    optimizer = keras.optimizers.Adam(schedule)
    rng = np.random.default_rng([seed, 5])
    by_person = np.arange(len(data["identities"])).reshape(settings["n_identities"], settings["per_identity"])
    step_fn = _make_gradient_step(encoder, optimizer, settings["alpha"])
    block = max(1, settings["steps"] // 20)
    history, losses = [], []
    start = time.perf_counter()
    for step in range(settings["steps"]):
        people = rng.choice(settings["n_identities"], settings["identities_per_batch"], replace=False)
        index = np.concatenate([rng.choice(by_person[k], settings["images_per_batch"], replace=False) for k in people])
        loss, _ = step_fn(data["images"][index], data["identities"][index])
        losses.append(float(loss))
        if len(losses) == block or step == settings["steps"] - 1:
            history.append(float(np.mean(losses)))
            losses = []
    seconds = time.perf_counter() - start
    images = settings["steps"] * settings["identities_per_batch"] * settings["images_per_batch"]
    return {"encoder": encoder, "history": history, "steps_per_block": block, "seconds": seconds,
            "images_per_second": images / seconds}


def verification_pairs(data, n_pairs, seed=0):
    """Pairs of images, half of one person and half of two different people, in random order.

    Args:
        data: a dict with "identities" (N,), as make_faces or load_face_folder return; some person needs two images.
        n_pairs: number of pairs, int >= 2 (n_pairs // 2 of one person).
        seed: seed of the draw.
    Returns:
        (first, second, same): int64 (n_pairs,) image indices, first != second, and bool (n_pairs,).
    """
    n_pairs, identities = require_int(n_pairs, "n_pairs", 2), np.asarray(data["identities"])
    people, counts = np.unique(identities, return_counts=True)
    if len(people) < 2 or counts.max() < 2:
        raise ValueError("verification needs at least two people and one with at least two images")
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_pairs):
        if k < n_pairs // 2:
            person = rng.choice(people[counts >= 2])
            i, j = rng.choice(np.flatnonzero(identities == person), 2, replace=False)
        else:
            a, b = rng.choice(people, 2, replace=False)
            i, j = rng.choice(np.flatnonzero(identities == a)), rng.choice(np.flatnonzero(identities == b))
        rows.append((i, j, k < n_pairs // 2))
    rows = np.array(rows, dtype=np.int64)[rng.permutation(n_pairs)]
    return rows[:, 0], rows[:, 1], rows[:, 2].astype(bool)


def evaluate_verification(encoder, data, seed=0, n_pairs=1000):
    """Verify pairs of people the way verify() does: "same person" when the distance is below a threshold.

    Distances are Euclidean (not squared), between L2-normalised encodings, so in [0, 2] and comparable with the
    thresholds of cnncourse.models.c5_verification. The threshold maximises the accuracy on the first half of the
    pairs (validation); "accuracy" is measured on the second half (test), which played no part in choosing it.

    Args:
        encoder: a model mapping data["images"] to (N, d) embeddings.
        data: dict with "images" (N, H, W, 3) and "identities" (N,), e.g. held-out people of make_faces.
        seed: seed of verification_pairs. n_pairs: number of pairs, int >= 4.
    Returns:
        dict with "pairs" int (n_pairs, 3) rows (i, j, same), "distances" float (n_pairs,), "same" bool (n_pairs,),
        "validation" and "test" (index arrays into the pairs), "roc" (false positive rates, true positive rates,
        thresholds) over all pairs, "auc", "threshold", "validation_accuracy", "accuracy".
    """
    first, second, same = verification_pairs(data, require_int(n_pairs, "n_pairs", 4), seed)
    embeddings = encode_images(encoder, data["images"]).astype(np.float64)
    distances = np.linalg.norm(embeddings[first] - embeddings[second], axis=1)
    validation, test = np.arange(n_pairs // 2), np.arange(n_pairs // 2, n_pairs)
    if same[validation].all() or not same[validation].any() or same[test].all() or not same[test].any():
        raise ValueError(f"n_pairs={n_pairs} is too few: each half needs pairs of both kinds")
    threshold = best_threshold(distances[validation], same[validation])
    fpr, tpr, thresholds = roc_curve(distances, same)
    return {"pairs": np.stack([first, second, same.astype(np.int64)], axis=1), "distances": distances, "same": same,
            "validation": validation, "test": test, "roc": (fpr, tpr, thresholds), "auc": auc(fpr, tpr),
            "threshold": threshold,
            "validation_accuracy": rates_at(distances[validation], same[validation], threshold)[2],
            "accuracy": rates_at(distances[test], same[test], threshold)[2]}


def held_out_faces(settings, seed=0):
    """make_faces of the held-out people (ids from TEST_FIRST_IDENTITY) in the settings' size."""
    return make_faces(settings["n_test_identities"], settings["test_per_identity"], size=settings["image_size"],
                      seed=seed, first_identity=TEST_FIRST_IDENTITY)
