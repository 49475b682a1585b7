"""Face verification as binary classification: the features a logistic unit can read from two encodings, and what
precomputing the database's encodings saves.

    absolute_features(a, b)          |a - b| element-wise
    chi_square_features(a, b, eps)   (a - b)^2 / (|a| + |b| + eps) element-wise, the chi-square similarity of DeepFace
    closest(encoding, encodings)     index and distance of the nearest row
    time_database_queries(...)       seconds per query with the database encoded per query, and encoded once
"""

import time

import numpy as np


def _pair(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"the two encodings must have the same shape, got {a.shape} and {b.shape}")
    return a, b


def absolute_features(a, b):
    """|a - b| element-wise. a, b: arrays (N, d) or (d,) of the same shape; returns float64 of that shape."""
    a, b = _pair(a, b)
    return np.abs(a - b)


def chi_square_features(a, b, eps=1e-8):
    """The chi-square similarity features, (a_k - b_k)^2 / (a_k + b_k), one per coordinate k.

    The formula is meant for non-negative features (histograms, ReLU outputs, as in DeepFace); the denominator is
    written |a_k| + |b_k|, which is the same there and stays positive for encodings with signs. `eps` keeps a
    coordinate where both are 0 (a ReLU often gives exactly 0) from becoming 0 / 0: it then gives 0.

    Args:
        a, b: arrays (N, d) or (d,) of the same shape.
        eps: float > 0 added to the denominator.
    Returns:
        float64 array of that shape, >= 0, symmetric in a and b.
    """
    a, b = _pair(a, b)
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    return (a - b) ** 2 / (np.abs(a) + np.abs(b) + eps)


def closest(encoding, encodings):
    """The nearest row of `encodings` to `encoding`, by Euclidean distance.

    Args:
        encoding: array (d,); encodings: array (n, d), n >= 1.
    Returns:
        (index, distance): int and float.
    """
    distances = np.linalg.norm(np.asarray(encodings, dtype=np.float64) - np.asarray(encoding, dtype=np.float64),
                               axis=1)
    index = int(np.argmin(distances))
    return index, float(distances[index])


def time_database_queries(encode, database_images, query_images):
    """Identify each query against a database, two ways, and time them with time.perf_counter.

    Recomputed: every query encodes the whole database again, then itself. Precomputed: the database is encoded once
    (timed apart), and every query encodes only itself and compares with the stored encodings.

    Args:
        encode: function mapping images (n, H, W, C) to encodings (n, d), e.g. lambda x: encode_images(encoder, x).
        database_images: array (n_db, H, W, C), one image per person.
        query_images: array (n_q, H, W, C).
    Returns:
        dict with "recomputed_s", "precomputed_s": seconds per query; "database_s": the one-time encoding of the
        database; "answers_recomputed", "answers_precomputed": lists of the closest database index per query.
    """
    answers_recomputed, answers_precomputed = [], []
    start = time.perf_counter()
    for query in query_images:
        answers_recomputed.append(closest(encode(query[None])[0], encode(database_images))[0])
    recomputed = (time.perf_counter() - start) / len(query_images)
    start = time.perf_counter()
    stored = encode(database_images)
    database_s = time.perf_counter() - start
    start = time.perf_counter()
    for query in query_images:
        answers_precomputed.append(closest(encode(query[None])[0], stored)[0])
    precomputed = (time.perf_counter() - start) / len(query_images)
    return {"recomputed_s": recomputed, "precomputed_s": precomputed, "database_s": database_s,
            "answers_recomputed": answers_recomputed, "answers_precomputed": answers_precomputed}
