"""Chapter 5: face verification and recognition with a database of encodings, and the pair classifier.

One-shot use of a trained encoder f (images -> unit vectors of size d) on people never seen in training:
    database      {name: encoding}, one (d,) vector per known person, computed once (build_database)
    verify        "is this the person they claim to be?"  distance to that person's encoding < threshold
    who_is_it     "who is this?"  the closest person of the database, or None if even they are too far
The second way to use the encoder: a siamese pair classifier that reads |f(a) - f(b)| element-wise and says
same (1) or different (0) with a logistic unit; both images go through the SAME encoder (shared weights).
Evaluation on held-out pairs: roc_curve, auc, and the threshold chosen on a validation split (best_threshold).
"""

import keras
import numpy as np
from keras import layers, ops


def encode_images(encoder, images, batch_size=64):
    """Run the encoder on a stack of images.

    Args:
        encoder: keras.Model mapping (N, H, W, 3) to (N, d).
        images: array (N, H, W, 3), as the encoder expects them.
    Returns:
        float32 array (N, d).
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W, 3), got {images.shape}")
    return np.asarray(encoder.predict(images, batch_size=batch_size, verbose=0), dtype=np.float32)


def _unit(vectors, epsilon=1e-12):
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, epsilon)


def build_database(encoder, images_by_person):
    """The database of known people: one encoding per name.

    Each person's images are encoded, every encoding is L2-normalised, the normalised encodings are averaged and
    the mean is normalised again, so that every entry is a unit vector like a single encoding (a person with one
    image gets exactly that image's normalised encoding).

    Args:
        encoder: keras.Model mapping (N, H, W, 3) to (N, d).
        images_by_person: dict name -> array (n_i, H, W, 3) (or one image (H, W, 3)), n_i >= 1.
    Returns:
        dict name -> float32 array (d,) of unit norm, in the order of images_by_person.
    """
    if not images_by_person:
        raise ValueError("images_by_person is empty: give at least one person with at least one image")
    stacks = {}
    for name, images in images_by_person.items():
        images = np.asarray(images, dtype=np.float32)
        images = images[None] if images.ndim == 3 else images
        if images.ndim != 4 or len(images) == 0:
            raise ValueError(f"images of {name!r} must have shape (n, H, W, 3) with n >= 1, got {images.shape}")
        stacks[name] = images
    encodings = _unit(encode_images(encoder, np.concatenate(list(stacks.values()))))
    database, start = {}, 0
    for name, images in stacks.items():
        mean = encodings[start:start + len(images)].mean(axis=0)
        database[name] = _unit(mean).astype(np.float32)
        start += len(images)
    return database


def verify(encoding, identity, database, threshold=0.7):
    """Is the person whose encoding this is the one they claim to be?

    Args:
        encoding: array (d,), the encoding of the new image (computed by the encoder beforehand).
        identity: the claimed name, a key of database.
        database: dict name -> array (d,).
        threshold: float; the same person when the distance is strictly below it.
    Returns:
        (distance, same): distance = ||encoding - database[identity]||_2 as a float (not squared),
        same = distance < threshold as a bool.
    """
    if identity not in database:
        raise ValueError(f"unknown identity {identity!r}; the database knows {sorted(map(str, database))}")
    encoding = np.asarray(encoding, dtype=np.float64)
    if encoding.shape != np.shape(database[identity]):
        raise ValueError(f"encoding must have shape {np.shape(database[identity])} like the database entries, "
                         f"got {encoding.shape}")
    ### BEGIN SOLUTION
    distance = float(np.linalg.norm(encoding - np.asarray(database[identity], dtype=np.float64)))
    same = bool(distance < threshold)
    return distance, same
    ### END SOLUTION


def who_is_it(encoding, database, threshold=0.7):
    """Who, of the people in the database, is this? Nobody when even the closest is too far.

    Args:
        encoding: array (d,), the encoding of the new image.
        database: dict name -> array (d,), at least one entry.
        threshold: float; a match needs a distance strictly below it.
    Returns:
        (min_distance, identity): the smallest Euclidean distance to an entry (a float) and that entry's name,
        or None instead of the name when min_distance >= threshold.
    """
    if len(database) == 0:
        raise ValueError("the database is empty: add at least one person (name -> encoding)")
    encoding = np.asarray(encoding, dtype=np.float64)
    ### BEGIN SOLUTION
    min_distance, identity = np.inf, None
    for name, known in database.items():
        distance = float(np.linalg.norm(encoding - np.asarray(known, dtype=np.float64)))
        if distance < min_distance:
            min_distance, identity = distance, name
    if min_distance >= threshold:
        identity = None
    return min_distance, identity
    ### END SOLUTION


def pair_classifier(encoder):
    """A siamese classifier: same person (1) or not (0), from |f(a) - f(b)| and a logistic unit.

    Layers: the given encoder, applied to both inputs with the same weights; the element-wise absolute difference
    of the two encodings (d,); Dense(1, sigmoid) named "same".

    Args:
        encoder: a built keras.Model mapping (batch, H, W, 3) to (batch, d).
    Returns:
        keras.Model with inputs "image_a" and "image_b", each (batch, H, W, 3), and output (batch, 1), the
        probability that both show the same person. Parameters: the encoder's + d + 1.
    """
    if not isinstance(encoder, keras.Model):
        raise ValueError(f"encoder must be a keras.Model, got {type(encoder).__name__}")
    try:
        image_shape = tuple(encoder.inputs[0].shape[1:])
    except (AttributeError, IndexError, TypeError, ValueError):
        raise ValueError("encoder must be built with a known input shape: start it with keras.Input") from None
    ### BEGIN SOLUTION
    image_a = keras.Input(image_shape, name="image_a")
    image_b = keras.Input(image_shape, name="image_b")
    difference = layers.Subtract(name="difference")([encoder(image_a), encoder(image_b)])
    features = ops.abs(difference)  # a Keras operation in the graph: no Lambda, which grading cannot rebuild
    same = layers.Dense(1, activation="sigmoid", name="same")(features)
    return keras.Model([image_a, image_b], same, name="pair_classifier")
    ### END SOLUTION


def pair_features(encodings_a, encodings_b):
    """The pair classifier's features computed from precomputed encodings.

    Args:
        encodings_a, encodings_b: arrays (N, d) (or (d,)) of the same shape.
    Returns:
        float array of that shape, |a - b| element-wise.
    """
    a, b = np.asarray(encodings_a, dtype=np.float64), np.asarray(encodings_b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"encodings_a and encodings_b must have the same shape, got {a.shape} and {b.shape}")
    return np.abs(a - b)


def _distances_and_labels(distances, same):
    distances = np.asarray(distances, dtype=np.float64).reshape(-1)
    same = np.asarray(same).reshape(-1).astype(bool)
    if distances.shape != same.shape or distances.size == 0:
        raise ValueError(f"distances and same must be non-empty and of equal length, got {distances.size} and "
                         f"{same.size}")
    if same.all() or not same.any():
        raise ValueError("same must hold both same-person (True) and different-person (False) pairs")
    return distances, same


def roc_curve(distances, same):
    """The ROC curve of the rule "same person when distance < t", over every threshold that changes a decision.

    Args:
        distances: array (N,) of pair distances.
        same: array (N,) of bools, True for pairs of the same person (both kinds must occur).
    Returns:
        (fpr, tpr, thresholds), three float arrays (K,) with K = number of distinct distances + 1; thresholds
        ascending: the distinct distances, then inf. The first point is (0, 0) (no d < min), the last (1, 1).
        tpr = fraction of same pairs with d < t, fpr = fraction of different pairs with d < t.
    """
    distances, same = _distances_and_labels(distances, same)
    order = np.argsort(distances, kind="stable")
    sorted_d = distances[order]
    true_so_far = np.concatenate([[0], np.cumsum(same[order])])
    thresholds = np.concatenate([np.unique(sorted_d), [np.inf]])
    below = np.searchsorted(sorted_d, thresholds, side="left")  # number of pairs with d < t
    tp = true_so_far[below]
    return (below - tp) / np.sum(~same), tp / np.sum(same), thresholds


def auc(fpr, tpr):
    """Area under the ROC curve by the trapezoid rule.

    Args:
        fpr, tpr: arrays (K,), the curve's points (sorted here by fpr, then tpr).
    Returns:
        float in [0, 1]: 1 for a perfect separation, 0.5 for chance, 0 for a reversed one.
    """
    fpr, tpr = np.asarray(fpr, dtype=np.float64), np.asarray(tpr, dtype=np.float64)
    order = np.lexsort((tpr, fpr))
    fpr, tpr = fpr[order], tpr[order]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def rates_at(distances, same, threshold):
    """(tpr, fpr, accuracy) of the rule "same person when distance < threshold" on labelled pairs."""
    distances, same = _distances_and_labels(distances, same)
    decided = distances < threshold
    return (float(np.mean(decided[same])), float(np.mean(decided[~same])), float(np.mean(decided == same)))


def best_threshold(distances, same):
    """The threshold of highest accuracy on labelled (validation) pairs.

    Candidates are the midpoints between consecutive distinct distances and one value beyond each end; of equally
    accurate candidates the smallest wins.

    Args:
        distances: array (N,); same: array (N,) of bools (both kinds present).
    Returns:
        float threshold t; "same person when distance < t".
    """
    distances, same = _distances_and_labels(distances, same)
    values = np.unique(distances)
    margin = float(np.mean(np.diff(values))) if len(values) > 1 else 1e-3
    candidates = np.concatenate([[values[0]], (values[1:] + values[:-1]) / 2, [values[-1] + margin]])
    accuracies = [np.mean((distances < t) == same) for t in candidates]
    return float(candidates[int(np.argmax(accuracies))])
