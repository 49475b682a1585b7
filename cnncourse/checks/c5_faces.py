"""Checks of Chapter 5's face encoder, triplet loss and semi-hard triplet mining (cnncourse.models.c5_faces).

Oracles: an encoder built here layer by layer from the documented architecture (parameter count, and the outputs
under the same random weights, in inference and in training mode), a numpy loop over the examples (loss) and a
brute-force loop over every (anchor, positive, negative) (mining). A failing hidden case names the typical mistakes
whose result matches what came back.
"""

import numpy as np

from cnncourse.checks.architecture import expect_rebuildable
from cnncourse.checks.core import expect_close, expect_equal, expect_shape, fail

MINING_RULE = ("for each pair a != p of one label: among the negatives with d(a,p) < d(a,n) < d(a,p) + alpha "
               "the closest; if there is none, the closest negative; d is the SQUARED Euclidean distance")


def _oracle_encoder(image_size, embedding_dim, relu=True, pool_first=False, padding="same"):
    """The documented encoder; relu, pool_first and padding build the typical wrong wirings (same parameters)."""
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((image_size, image_size, 3))])
    for filters in (16, 32, 64, 128):
        model.add(layers.Conv2D(filters, 3, padding=padding, use_bias=False))
        stage = [layers.BatchNormalization(momentum=0.9), layers.ReLU(), layers.MaxPooling2D(2)]
        if pool_first:
            stage = stage[2:] + stage[:2]
        for layer in stage:
            if relu or not isinstance(layer, layers.ReLU):
                model.add(layer)
    model.add(layers.GlobalAveragePooling2D())
    model.add(layers.Dense(embedding_dim))
    model.add(layers.UnitNormalization(axis=-1))
    return model


def _weighted(model):
    return [layer for layer in model.layers if layer.weights]


def _random_weights(model, rng):
    """Random weights for every layer of `model`, positive scales and variances for batch normalisation."""
    import keras

    for layer in _weighted(model):
        weights = [rng.normal(0, 0.5, w.shape) for w in layer.get_weights()]
        if isinstance(layer, keras.layers.BatchNormalization) and len(weights) == 4:
            weights[0], weights[3] = rng.uniform(0.5, 1.5, weights[0].shape), rng.uniform(0.5, 2.0, weights[3].shape)
        layer.set_weights([w.astype("float32") for w in weights])


def _copy_weights(source, target):
    for mine, theirs in zip(_weighted(source), _weighted(target)):
        theirs.set_weights(mine.get_weights())


def _check_behaviour(model, image_size, embedding_dim, seed, case):
    """The model's outputs against the documented encoder's with the same random weights, in inference mode (batch
    normalisation with its moving statistics) and in training mode (with the batch's statistics)."""
    import keras

    oracle = _oracle_encoder(image_size, embedding_dim)
    shapes = [[tuple(w.shape) for w in layer.get_weights()] for layer in _weighted(model)]
    want = [[tuple(w.shape) for w in layer.get_weights()] for layer in _weighted(oracle)]
    if shapes != want:
        fail(f"the layers with weights, in order: expected weight shapes {want}, got {shapes}", case,
             hint="four stages Conv2D (no bias), BatchNormalization, ReLU, MaxPooling2D; then global average "
                  "pooling, Dense, L2 normalisation; no other layer with weights")
    rng = np.random.default_rng(seed)
    _random_weights(model, rng)
    _copy_weights(model, oracle)
    wrong = {"the ReLU of each stage is missing": _oracle_encoder(image_size, embedding_dim, relu=False),
             "pooling comes before batch normalisation": _oracle_encoder(image_size, embedding_dim, pool_first=True)}
    if image_size >= 64:  # smaller images shrink to nothing with "valid" padding
        wrong['the convolutions use padding="valid"'] = _oracle_encoder(image_size, embedding_dim, padding="valid")
    for other in wrong.values():
        _copy_weights(model, other)
    images = rng.random((3, image_size, image_size, 3)).astype(np.float32)
    for training in (False, True):
        mode = "training" if training else "inference"
        got = np.asarray(keras.ops.convert_to_numpy(model(images, training=training)), dtype=np.float64)
        expected = np.asarray(keras.ops.convert_to_numpy(oracle(images, training=training)), dtype=np.float64)
        fits = [text for text, other in wrong.items() if np.allclose(
            got, keras.ops.convert_to_numpy(other(images, training=training)), rtol=1e-3, atol=1e-4)]
        expect_close(got, expected, f"face_encoder's output in {mode} mode, with the check's random weights",
                     case, rtol=1e-3, atol=1e-4, hint="; ".join([f"looks like {t}" for t in fits] + [
                         'per stage: Conv2D(padding="same", use_bias=False), BatchNormalization, ReLU, '
                         "MaxPooling2D(2), in that order"]))


def _check_encoder(fn, image_size, embedding_dim, seed):
    import keras

    case = f"image_size {image_size}, embedding_dim {embedding_dim}"
    model = fn(image_size, embedding_dim)
    if not isinstance(model, keras.Model):
        fail(f"face_encoder must return a keras.Model, got {type(model).__name__}", case)
    expect_rebuildable(model, "face_encoder", case)
    expect_equal(model.name, "encoder", "the model's name", case)
    images = np.random.default_rng(seed).random((4, image_size, image_size, 3)).astype(np.float32)
    out = np.asarray(keras.ops.convert_to_numpy(model(images, training=False)), dtype=np.float64)
    expect_shape(out, (4, embedding_dim), "face_encoder's output", case)
    expect_close(np.linalg.norm(out, axis=1), np.ones(4), "norm of each embedding", case, rtol=1e-4, atol=1e-4,
                 hint="end with L2 normalisation, e.g. layers.UnitNormalization(axis=-1)")
    last_dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if not last_dense or last_dense[-1].get_config().get("activation") not in ("linear", None):
        fail("the last Dense layer must have no activation (no softmax, no ReLU): the embedding is not a "
             "probability", case, hint="layers.Dense(embedding_dim) with the default activation=None")
    if np.all(out >= 0) or np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
        fail("the embeddings are all >= 0 or sum to 1: a ReLU or softmax sits before the normalisation", case,
             hint="Dense(embedding_dim) without activation, then L2 normalisation")
    expect_equal(model.count_params(), _oracle_encoder(image_size, embedding_dim).count_params(),
                 "number of parameters", case, hint="four stages of 16, 32, 64, 128 3x3 filters without bias, "
                                                    "each with BatchNormalization; global average pooling")
    _check_behaviour(model, image_size, embedding_dim, seed, case)


def public_face_encoder(face_encoder):
    """The 64 x 64 encoder with a 128-d embedding: the layer table, then its outputs against the documented encoder
    under the same random weights. Separates: no L2 normalisation, a softmax or ReLU on the embedding, a missing
    ReLU in the stages, pooling before batch normalisation, "valid" padding (the last three keep the parameter
    count)."""
    _check_encoder(face_encoder, 64, 128, seed=0)


def hidden_face_encoder(face_encoder):
    """Other image sizes and embedding lengths (the arguments must be used)."""
    for image_size, dim, seed in [(32, 16, 1), (48, 64, 2)]:
        _check_encoder(face_encoder, image_size, dim, seed)


def _as_number(value, case):
    try:
        from keras import ops

        return float(np.asarray(ops.convert_to_numpy(value)).reshape(()))
    except (ValueError, TypeError) as err:
        fail(f"triplet_loss must return one number (a scalar tensor), got {value!r}: {err}", case,
             hint="take the mean over the batch")


def _triplet_mistakes(a, p, n, alpha):
    """[(value, what it looks like)] of the typical wrong triplet losses, in float64."""
    d_pos, d_neg = np.sum((a - p) ** 2, axis=1), np.sum((a - n) ** 2, axis=1)
    return [(np.sum(np.maximum(d_pos - d_neg + alpha, 0)), "the SUM over the batch was taken (Coursera's, "
             "FaceNet's); this course takes the MEAN"),
            (np.mean(d_pos - d_neg + alpha), "the max(., 0) is missing: satisfied triplets count negative"),
            (max(np.mean(d_pos - d_neg + alpha), 0.0), "the max(., 0) was taken after the mean, not per example"),
            (np.mean(np.maximum(np.sqrt(d_pos) - np.sqrt(d_neg) + alpha, 0)), "the distances are not squared"),
            (np.mean(np.maximum(d_pos - d_neg, 0)), "alpha was left out"),
            (np.mean(np.maximum((d_pos - d_neg) / a.shape[1] + alpha, 0)),
             "the squared differences were averaged over the d features instead of summed"),
            (max(np.sum(d_pos) - np.sum(d_neg) + alpha, 0.0), "the distances were summed over the whole batch "
             "(no axis=-1): one hinge for the batch")]


def _loop_triplet_loss(a, p, n, alpha):
    total = 0.0
    for i in range(len(a)):
        d_pos = sum((a[i, k] - p[i, k]) ** 2 for k in range(a.shape[1]))
        d_neg = sum((a[i, k] - n[i, k]) ** 2 for k in range(a.shape[1]))
        total += max(d_pos - d_neg + alpha, 0.0)
    return total / len(a)


LOSS_HINT = "per example max(||a - p||^2 - ||a - n||^2 + alpha, 0) with SQUARED distances, then the MEAN"


def public_triplet_loss(triplet_loss):
    """Hand-worked: a = (0, 0), p = (1, 0), n = (0, 2): 1 - 4 + 0.2 < 0, loss 0; with p and n swapped 4 - 1 + 0.2 =
    3.2; the batch of both: (0 + 3.2) / 2 = 1.6.

    Separates: the max(., 0) missing or taken after the mean, the sum over the batch instead of the mean, distances
    not squared (2 - 1 + 0.2), alpha left out, squared differences averaged over the features, distances summed over
    the whole batch (the batch's two triplets cancel)."""
    a, p, n = np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]), np.array([[0.0, 2.0]])
    expect_close(_as_number(triplet_loss(a, n, p, 0.2), "one triplet, positive far"), 3.2, "triplet_loss",
                 "a=(0,0), p=(0,2), n=(1,0), alpha 0.2", rtol=1e-5, hint=LOSS_HINT)
    expect_close(_as_number(triplet_loss(a, p, n, 0.2), "one triplet"), 0.0, "triplet_loss", "a=(0,0), p=(1,0), "
                 "n=(0,2), alpha 0.2: 1 - 4 + 0.2 < 0", atol=1e-6, hint="the hinge: a satisfied triplet costs 0, "
                 "not a negative amount (max(..., 0) per example, before the mean)")
    batch = (np.concatenate([a, a]), np.concatenate([p, n]), np.concatenate([n, p]))
    expect_close(_as_number(triplet_loss(*batch, 0.2), "batch of 2"), 1.6, "triplet_loss of a batch of 2",
                 "the two triplets above", rtol=1e-5, hint="the MEAN over the batch of the per-example hinge")


def hidden_triplet_loss(triplet_loss):
    """Random batches, float32 and float64, alpha 0 to 1, against a numpy loop; batches where some examples would
    go negative without the hinge."""
    rng = np.random.default_rng(5)
    for batch, d, alpha in [(1, 3, 0.2), (7, 8, 0.0), (16, 128, 0.5), (33, 16, 1.0)]:
        a, p, n = (rng.normal(size=(batch, d)) for _ in range(3))
        a, p, n = (x / np.linalg.norm(x, axis=1, keepdims=True) for x in (a, p, n))
        p[::2] = a[::2] + 0.01 * p[::2]  # every other triplet satisfied: its term must be 0, not negative
        dtype = np.float32 if batch % 2 else np.float64
        case = f"batch {batch}, d {d}, alpha {alpha}, {np.dtype(dtype).name}"
        got = _as_number(triplet_loss(a.astype(dtype), p.astype(dtype), n.astype(dtype), alpha), case)
        want = _loop_triplet_loss(a, p, n, alpha)
        fits = [text for value, text in _triplet_mistakes(a, p, n, alpha)
                if np.isclose(got, value, rtol=1e-4, atol=1e-5) and not np.isclose(want, value, rtol=1e-4, atol=1e-5)]
        expect_close(got, want, "triplet_loss", case, rtol=1e-4, atol=1e-5,
                     hint="; ".join([f"looks like {text}" for text in fits] + [LOSS_HINT]))


def _brute_force_triplets(embeddings, labels, alpha):
    rows = []
    for a in range(len(labels)):
        for p in range(len(labels)):
            if p == a or labels[p] != labels[a]:
                continue
            d_ap = float(np.sum((embeddings[a] - embeddings[p]) ** 2))
            best = None  # (is not semi-hard, d(a, n), n): semi-hard ones first, then the closest
            for n in range(len(labels)):
                if labels[n] == labels[a]:
                    continue
                d_an = float(np.sum((embeddings[a] - embeddings[n]) ** 2))
                key = (not d_ap < d_an < d_ap + alpha, d_an, n)
                best = key if best is None or key < best else best
            if best is not None:
                rows.append((a, p, best[2]))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def _check_mining(fn, embeddings, labels, alpha, case):
    got = np.asarray(fn(embeddings, labels, alpha))
    want = _brute_force_triplets(embeddings, labels, alpha)
    expect_shape(got, want.shape, "semi_hard_triplets (one row (a, p, n) per pair a != p of one label)", case)
    if len(got) and not np.issubdtype(got.dtype, np.integer):
        fail(f"semi_hard_triplets must return integer indices, got dtype {got.dtype}", case)
    same = labels[got[:, 2]] == labels[got[:, 0]] if len(got) else np.zeros(0, bool)
    if same.any():
        fail(f"triplet {got[same][0].tolist()}: its negative has the anchor's label", case,
             hint="the negative must show ANOTHER person: labels[n] != labels[a]")
    if not np.array_equal(got[:, :2], want[:, :2]):
        fail(f"(anchor, positive) pairs: expected {want[:4, :2].tolist()}..., got {got[:4, :2].tolist()}...", case,
             hint="every ordered pair a != p with the same label, sorted by anchor then positive")
    wrong = np.flatnonzero(got[:, 2] != want[:, 2])
    if len(wrong):
        i = wrong[0]
        fail(f"{len(wrong)} of {len(got)} negatives differ; first for (a, p) = {tuple(want[i, :2])}: expected "
             f"n = {want[i, 2]}, got n = {got[i, 2]}", case, hint=MINING_RULE)


def _batch(rng, n_people, per_person, d, spread):
    centres = rng.normal(size=(n_people, d))
    embeddings = np.repeat(centres, per_person, axis=0) + spread * rng.normal(size=(n_people * per_person, d))
    return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True), np.repeat(np.arange(n_people), per_person)


# 1-d points 0, 1 (one person) and -1, 1.5 (another), alpha 3: for (a, p) = (0, 1), d(a, p) = 1 and the negative at -1
# is at exactly 1 (not semi-hard: d(a, p) < d(a, n) is strict); for (1, 0), the negative at -1 is at exactly
# d(a, p) + alpha = 4 (not semi-hard either: the window is open), so the hardest negative, 1.5 at 0.25, is the one.
BOUNDARY = (np.array([[0.0], [1.0], [-1.0], [1.5]]), np.array([0, 0, 1, 1]), 3.0,
            "1-d points 0, 1 | -1, 1.5, alpha 3: negatives at exactly d(a,p) and d(a,p) + alpha")


def public_semi_hard_triplets(semi_hard_triplets):
    """Three people x three images in 8-d, a batch where no negative is semi-hard, and negatives exactly at both ends
    of the window d(a,p) < d(a,n) < d(a,p) + alpha. Separates: the fallback to the farthest negative instead of the
    hardest, the farthest semi-hard negative instead of the closest, an anchor used as its own positive (first two
    cases); a window closed at either end (<=), a window without the upper bound d(a,p) + alpha (third case)."""
    embeddings, labels = _batch(np.random.default_rng(0), 3, 3, 8, 0.6)
    _check_mining(semi_hard_triplets, embeddings, labels, 0.5, "3 people x 3 images, alpha 0.5")
    far = np.array([[0.0, 0.0], [0.1, 0.0], [3.0, 0.0], [0.0, 2.0]])  # negatives 2 and 3 far beyond d(a,p) + alpha
    _check_mining(semi_hard_triplets, far, np.array([0, 0, 1, 2]), 0.2, "no semi-hard negative: the hardest one")
    _check_mining(semi_hard_triplets, *BOUNDARY)


def hidden_semi_hard_triplets(semi_hard_triplets):
    """Random batches of P people x K images with shuffled, non-contiguous labels, several margins; batches where
    the negatives are all closer than the positives (none semi-hard); negatives exactly at both ends of the window;
    a single person (no triplet)."""
    rng = np.random.default_rng(9)
    for n_people, per_person, d, spread, alpha in [(4, 4, 16, 0.5, 0.2), (6, 3, 8, 1.0, 0.5), (8, 2, 32, 0.8, 1.0)]:
        embeddings, labels = _batch(rng, n_people, per_person, d, spread)
        order = rng.permutation(len(labels))
        labels = (labels * 7 + 3)[order]
        _check_mining(semi_hard_triplets, embeddings[order], labels, alpha,
                      f"{n_people} people x {per_person} images, shuffled labels, alpha {alpha}")
    embeddings, labels = _batch(rng, 3, 3, 4, 5.0)  # pure noise: many negatives closer than the positive
    _check_mining(semi_hard_triplets, embeddings, labels, 0.05, "3 x 3 noise, alpha 0.05")
    # a = 0, p = 1: the negative at 1.3 is semi-hard by |a - n| (1 < 1.3 < 1.5) but not by (a - n)^2 = 1.69
    points = np.array([[0.0], [1.0], [0.5], [1.3]])
    _check_mining(semi_hard_triplets, points, np.array([0, 0, 1, 1]), 0.5, "1-d points 0, 1 | 0.5, 1.3, alpha 0.5")
    embeddings, labels, _, _ = BOUNDARY  # the window's ends again, with shuffled labels and another margin scale
    _check_mining(semi_hard_triplets, 2 * embeddings, 5 - labels, 12.0,
                  "1-d points 0, 2 | -2, 3, alpha 12: negatives at exactly d(a,p) and d(a,p) + alpha")
    _check_mining(semi_hard_triplets, np.eye(3), np.zeros(3, int), 0.2, "one person: no negative, no triplet")
