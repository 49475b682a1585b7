"""Chapter 5's mistake corpus (issue 26): for every graded function, plausible student mistakes that must fail its
hidden check (and its public check where the mistake is common), and correct alternatives that must pass both.

The checks are called directly, not through nbgrader. No graded function of Chapter 5 calls another one (verify and
who_is_it measure distances themselves, pair_classifier is handed its encoder), so there is no helper to swap in.
"""

import math

import keras
import numpy as np
import pytest
from keras import layers, ops

from cnncourse.checks import c5_faces as face_checks
from cnncourse.checks import c5_verification as verification_checks
from cnncourse.checks.core import CheckFailed
from cnncourse.models import c5_faces as faces


# ---------------------------------------------------------------- face_encoder
def _encoder(stage, head=None, image_size=64, embedding_dim=128):
    """The documented encoder with each stage built by stage(x, s, filters) and the head by head(x, d)."""
    inputs = keras.Input((image_size, image_size, 3))
    x = inputs
    for s, filters in enumerate((16, 32, 64, 128), start=1):
        x = stage(x, s, filters)
    x = layers.GlobalAveragePooling2D()(x)
    x = head(x, embedding_dim) if head else layers.UnitNormalization()(layers.Dense(embedding_dim)(x))
    return keras.Model(inputs, x, name="encoder")


def _stage(x, s, filters):
    x = layers.BatchNormalization(momentum=0.9)(layers.Conv2D(filters, 3, padding="same", use_bias=False)(x))
    return layers.MaxPooling2D(2)(layers.ReLU()(x))


def encoder_softmax(image_size=64, embedding_dim=128):
    return _encoder(_stage, lambda x, d: layers.UnitNormalization()(layers.Dense(d, activation="softmax")(x)),
                    image_size, embedding_dim)


def encoder_without_normalisation(image_size=64, embedding_dim=128):
    return _encoder(_stage, lambda x, d: layers.Dense(d)(x), image_size, embedding_dim)


def encoder_fixed_size(image_size=64, embedding_dim=128):  # the arguments ignored
    return _encoder(_stage)


def encoder_without_relu(image_size=64, embedding_dim=128):  # same layer table minus the ReLUs, same parameters
    return _encoder(lambda x, s, f: layers.MaxPooling2D(2)(layers.BatchNormalization(momentum=0.9)(
        layers.Conv2D(f, 3, padding="same", use_bias=False)(x))), None, image_size, embedding_dim)


def encoder_pool_before_norm(image_size=64, embedding_dim=128):  # BN and pooling swapped: same parameters
    return _encoder(lambda x, s, f: layers.ReLU()(layers.BatchNormalization(momentum=0.9)(layers.MaxPooling2D(2)(
        layers.Conv2D(f, 3, padding="same", use_bias=False)(x)))), None, image_size, embedding_dim)


def encoder_valid_padding(image_size=64, embedding_dim=128):
    return _encoder(lambda x, s, f: layers.MaxPooling2D(2)(layers.ReLU()(layers.BatchNormalization(momentum=0.9)(
        layers.Conv2D(f, 3, use_bias=False)(x)))), None, image_size, embedding_dim)


def encoder_relu_before_norm(image_size=64, embedding_dim=128):  # Conv2D(activation="relu"), then BN
    return _encoder(lambda x, s, f: layers.MaxPooling2D(2)(layers.BatchNormalization(momentum=0.9)(
        layers.Conv2D(f, 3, padding="same", use_bias=False, activation="relu")(x))), None, image_size, embedding_dim)


def encoder_sequential(image_size=64, embedding_dim=128):  # Sequential, fused activation after BN as a layer
    model = keras.Sequential([keras.Input((image_size, image_size, 3))], name="encoder")
    for filters in (16, 32, 64, 128):
        model.add(layers.Conv2D(filters, 3, padding="same", use_bias=False))
        model.add(layers.BatchNormalization(momentum=0.9))
        model.add(layers.Activation("relu"))
        model.add(layers.MaxPooling2D(2))
    model.add(layers.GlobalAveragePooling2D())
    model.add(layers.Dense(embedding_dim))
    model.add(layers.Lambda(ops.normalize))  # a keras.ops function: grading rebuilds it (no Python lambda)
    return model


# ---------------------------------------------------------------- triplet_loss
def _d(x, y):
    return ops.sum(ops.square(ops.convert_to_tensor(x) - ops.convert_to_tensor(y)), axis=-1)


def loss_without_hinge(anchor, positive, negative, alpha=0.2):
    return ops.mean(_d(anchor, positive) - _d(anchor, negative) + alpha)


def loss_sum(anchor, positive, negative, alpha=0.2):  # Coursera's and FaceNet's sum over the batch
    return ops.sum(ops.maximum(_d(anchor, positive) - _d(anchor, negative) + alpha, 0.0))


def loss_not_squared(anchor, positive, negative, alpha=0.2):
    return ops.mean(ops.maximum(ops.sqrt(_d(anchor, positive)) - ops.sqrt(_d(anchor, negative)) + alpha, 0.0))


def loss_hinge_after_mean(anchor, positive, negative, alpha=0.2):
    return ops.maximum(ops.mean(_d(anchor, positive) - _d(anchor, negative) + alpha), 0.0)


def loss_without_alpha(anchor, positive, negative, alpha=0.2):
    return ops.mean(ops.maximum(_d(anchor, positive) - _d(anchor, negative), 0.0))


def loss_mean_over_features(anchor, positive, negative, alpha=0.2):
    a, p, n = (ops.convert_to_tensor(t) for t in (anchor, positive, negative))
    d_pos, d_neg = ops.mean(ops.square(a - p), axis=-1), ops.mean(ops.square(a - n), axis=-1)
    return ops.mean(ops.maximum(d_pos - d_neg + alpha, 0.0))


def loss_no_axis(anchor, positive, negative, alpha=0.2):  # distances summed over the whole batch: one hinge
    a, p, n = (ops.convert_to_tensor(t) for t in (anchor, positive, negative))
    return ops.maximum(ops.sum(ops.square(a - p)) - ops.sum(ops.square(a - n)) + alpha, 0.0)


def loss_numpy(anchor, positive, negative, alpha=0.2):
    a, p, n = (np.asarray(t, np.float64) for t in (anchor, positive, negative))
    return np.maximum(((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + alpha, 0).mean()


def loss_relu(anchor, positive, negative, alpha=0.2):
    return ops.mean(ops.relu(_d(anchor, positive) - _d(anchor, negative) + alpha))


def loss_sum_over_batch_size(anchor, positive, negative, alpha=0.2):
    a = ops.convert_to_tensor(anchor)
    return ops.sum(ops.maximum(_d(a, positive) - _d(a, negative) + alpha, 0.0)) / a.shape[0]


# ---------------------------------------------------------------- semi_hard_triplets
def _mine(embeddings, labels, alpha, distance=None, inside=None, fallback=np.argmin, pick=np.argmin,
          skip_self=True):
    e, labels = np.asarray(embeddings, np.float64), np.asarray(labels)
    distance = distance or (lambda x, y: float(np.sum((x - y) ** 2)))
    inside = inside or (lambda d_ap, d_an: d_ap < d_an < d_ap + alpha)
    rows = []
    for a in range(len(labels)):
        negatives = [n for n in range(len(labels)) if labels[n] != labels[a]]
        if not negatives:
            continue
        for p in range(len(labels)):
            if labels[p] != labels[a] or (skip_self and p == a):
                continue
            d_ap = distance(e[a], e[p])
            d_an = np.array([distance(e[a], e[n]) for n in negatives])
            window = [i for i in range(len(negatives)) if inside(d_ap, d_an[i])]
            chosen = window[int(pick(d_an[window]))] if window else int(fallback(d_an))
            rows.append((a, p, negatives[chosen]))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def mine_not_squared(embeddings, labels, alpha=0.2):
    return _mine(embeddings, labels, alpha, distance=lambda x, y: float(np.linalg.norm(x - y)))


def mine_window_closed(embeddings, labels, alpha=0.2):  # <= at both ends of the window
    return _mine(embeddings, labels, alpha, inside=lambda d_ap, d_an: d_ap <= d_an <= d_ap + alpha)


def mine_fallback_easiest(embeddings, labels, alpha=0.2):
    return _mine(embeddings, labels, alpha, fallback=np.argmax)


def mine_farthest_semi_hard(embeddings, labels, alpha=0.2):
    return _mine(embeddings, labels, alpha, pick=np.argmax)


def mine_anchor_as_own_positive(embeddings, labels, alpha=0.2):
    return _mine(embeddings, labels, alpha, skip_self=False)


def mine_without_margin(embeddings, labels, alpha=0.2):  # any farther negative counts as semi-hard
    return _mine(embeddings, labels, alpha, inside=lambda d_ap, d_an: d_ap < d_an)


def mine_vectorised(embeddings, labels, alpha=0.2):
    e, labels = np.asarray(embeddings, np.float64), np.asarray(labels)
    d = ((e[:, None, :] - e[None, :, :]) ** 2).sum(-1)
    rows = []
    for a, p in zip(*np.nonzero((labels[:, None] == labels[None, :]) & ~np.eye(len(labels), dtype=bool))):
        negatives = np.flatnonzero(labels != labels[a])
        if len(negatives) == 0:
            continue
        d_an = np.where((d[a, negatives] > d[a, p]) & (d[a, negatives] < d[a, p] + alpha), d[a, negatives], np.inf)
        best = np.argmin(d_an) if np.isfinite(d_an).any() else np.argmin(d[a, negatives])
        rows.append((a, p, negatives[best]))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def mine_loops(embeddings, labels, alpha=0.2):
    return _mine(embeddings, labels, alpha, distance=lambda x, y: sum((u - v) ** 2 for u, v in zip(x, y)))


# ---------------------------------------------------------------- verify
def _norm(encoding, known):
    return float(np.linalg.norm(np.asarray(encoding, np.float64) - np.asarray(known, np.float64)))


def _require(identity, database):
    if identity not in database:
        raise ValueError(f"{identity!r} is not in the database")


def verify_squared(encoding, identity, database, threshold=0.7):
    _require(identity, database)
    d = _norm(encoding, database[identity]) ** 2
    return d, bool(d < threshold)


def verify_at_most(encoding, identity, database, threshold=0.7):
    _require(identity, database)
    d = _norm(encoding, database[identity])
    return d, bool(d <= threshold)


def verify_inverted(encoding, identity, database, threshold=0.7):
    _require(identity, database)
    d = _norm(encoding, database[identity])
    return d, bool(d > threshold)


def verify_closest_entry(encoding, identity, database, threshold=0.7):  # the claim ignored: the closest person
    _require(identity, database)
    d = min(_norm(encoding, known) for known in database.values())
    return d, bool(d < threshold)


def verify_unknown_is_false(encoding, identity, database, threshold=0.7):  # an unknown name: no error
    if identity not in database:
        return math.inf, False
    d = _norm(encoding, database[identity])
    return d, bool(d < threshold)


def verify_math(encoding, identity, database, threshold=0.7):
    _require(identity, database)
    d = math.dist([float(x) for x in encoding], [float(x) for x in database[identity]])
    return d, d < threshold


def verify_numpy_bool(encoding, identity, database, threshold=0.7):
    if identity not in database:
        raise ValueError(f"unknown identity {identity!r}")
    d = np.sqrt(np.sum((np.asarray(encoding, np.float64) - database[identity]) ** 2))
    return float(d), np.less(d, threshold)


# ---------------------------------------------------------------- who_is_it
def _require_some(database):
    if not database:
        raise ValueError("the database is empty")


def who_without_none(encoding, database, threshold=0.7):
    _require_some(database)
    name = min(database, key=lambda k: _norm(encoding, database[k]))
    return _norm(encoding, database[name]), name


def who_at_most(encoding, database, threshold=0.7):
    _require_some(database)
    name = min(database, key=lambda k: _norm(encoding, database[k]))
    d = _norm(encoding, database[name])
    return d, (name if d <= threshold else None)


def who_farthest(encoding, database, threshold=0.7):
    _require_some(database)
    name = max(database, key=lambda k: _norm(encoding, database[k]))
    d = _norm(encoding, database[name])
    return d, (name if d < threshold else None)


def who_squared(encoding, database, threshold=0.7):
    _require_some(database)
    name = min(database, key=lambda k: _norm(encoding, database[k]))
    d = _norm(encoding, database[name]) ** 2
    return d, (name if d < threshold else None)


def who_last_name(encoding, database, threshold=0.7):  # the name updated on every entry, not only the closer ones
    _require_some(database)
    best, identity = math.inf, None
    for name, known in database.items():
        d = _norm(encoding, known)
        best = min(best, d)
        identity = name
    return best, (identity if best < threshold else None)


def who_vectorised(encoding, database, threshold=0.7):
    _require_some(database)
    names = list(database)
    d = np.linalg.norm(np.stack([np.asarray(database[k], np.float64) for k in names]) - encoding, axis=1)
    i = int(np.argmin(d))
    return float(d[i]), (names[i] if d[i] < threshold else None)


def who_sorted(encoding, database, threshold=0.7):
    _require_some(database)
    d, name = sorted((_norm(encoding, known), k) for k, known in database.items())[0]
    return d, (None if d >= threshold else name)


# ---------------------------------------------------------------- pair_classifier
def _pair(encoder, features):
    shape = tuple(encoder.inputs[0].shape[1:])
    a, b = keras.Input(shape, name="image_a"), keras.Input(shape, name="image_b")
    out = layers.Dense(1, activation="sigmoid", name="same")(features(encoder(a), encoder(b)))
    return keras.Model([a, b], out, name="pair_classifier")


def pair_squared_difference(encoder):
    return _pair(encoder, lambda f_a, f_b: ops.square(ops.subtract(f_a, f_b)))


def pair_signed_difference(encoder):
    return _pair(encoder, lambda f_a, f_b: layers.Subtract()([f_a, f_b]))


def pair_two_encoders(encoder):
    twin = keras.models.clone_model(encoder)
    shape = tuple(encoder.inputs[0].shape[1:])
    a, b = keras.Input(shape, name="image_a"), keras.Input(shape, name="image_b")
    features = ops.abs(ops.subtract(encoder(a), twin(b)))
    return keras.Model([a, b], layers.Dense(1, activation="sigmoid", name="same")(features), name="pair_classifier")


def pair_relu_head(encoder):
    shape = tuple(encoder.inputs[0].shape[1:])
    a, b = keras.Input(shape, name="image_a"), keras.Input(shape, name="image_b")
    features = ops.abs(ops.subtract(encoder(a), encoder(b)))
    return keras.Model([a, b], layers.Dense(1, activation="relu", name="same")(features), name="pair_classifier")


def pair_product(encoder):
    return _pair(encoder, lambda f_a, f_b: layers.Multiply()([f_a, f_b]))


def pair_lambda_abs(encoder):  # a Lambda of a keras.ops function: grading rebuilds it (a Python lambda it refuses)
    return _pair(encoder, lambda f_a, f_b: layers.Lambda(ops.abs)(ops.subtract(f_a, f_b)))


def pair_ops_on_keras_tensors(encoder):  # Keras 3: ops straight on the symbolic tensors
    return _pair(encoder, lambda f_a, f_b: ops.abs(ops.subtract(f_a, f_b)))


def pair_abs_of_swapped_subtract(encoder):
    return _pair(encoder, lambda f_a, f_b: layers.Lambda(ops.abs)(layers.Subtract()([f_b, f_a])))


# ---------------------------------------------------------------- the corpus
CHECKS = {"face_encoder": face_checks, "triplet_loss": face_checks, "semi_hard_triplets": face_checks,
          "verify": verification_checks, "who_is_it": verification_checks, "pair_classifier": verification_checks}
# name -> [(mistake, public check must fail too)]
MISTAKES = {
    "face_encoder": [(encoder_softmax, True), (encoder_without_normalisation, True), (encoder_fixed_size, False),
                     (encoder_without_relu, True), (encoder_pool_before_norm, True), (encoder_valid_padding, True),
                     (encoder_relu_before_norm, True)],
    "triplet_loss": [(loss_without_hinge, True), (loss_sum, True), (loss_not_squared, True),
                     (loss_hinge_after_mean, True), (loss_without_alpha, True), (loss_mean_over_features, True),
                     (loss_no_axis, True)],
    "semi_hard_triplets": [(mine_not_squared, False), (mine_window_closed, False), (mine_fallback_easiest, True),
                           (mine_farthest_semi_hard, True), (mine_anchor_as_own_positive, True),
                           (mine_without_margin, True)],
    "verify": [(verify_squared, True), (verify_at_most, True), (verify_inverted, True),
               (verify_closest_entry, True), (verify_unknown_is_false, True)],
    "who_is_it": [(who_without_none, True), (who_at_most, True), (who_farthest, True), (who_squared, True),
                  (who_last_name, True)],
    "pair_classifier": [(pair_squared_difference, True), (pair_signed_difference, True), (pair_two_encoders, True),
                        (pair_relu_head, True), (pair_product, True)],
}
ALTERNATIVES = {
    "face_encoder": [encoder_sequential],
    "triplet_loss": [loss_numpy, loss_relu, loss_sum_over_batch_size],
    "semi_hard_triplets": [mine_vectorised, mine_loops],
    "verify": [verify_math, verify_numpy_bool],
    "who_is_it": [who_vectorised, who_sorted],
    "pair_classifier": [pair_lambda_abs, pair_abs_of_swapped_subtract, pair_ops_on_keras_tensors],
}
_MISTAKE_CASES = [(name, fn, public) for name, cases in MISTAKES.items() for fn, public in cases]
_ALTERNATIVE_CASES = [(name, fn) for name, cases in ALTERNATIVES.items() for fn in cases]


def _fails(check, fn):
    """How check(fn) failed, or None when it passed; a CheckFailed must say what was expected ("expected ..." or
    "... must ...")."""
    try:
        check(fn)
    except CheckFailed as err:
        assert "expected" in str(err) or " must " in str(err), str(err)
        return str(err)
    except Exception as err:  # noqa: BLE001 - raised inside the student's own code
        return f"{type(err).__name__}: {err}"
    return None


def _check(kind, name):
    return getattr(CHECKS[name], f"{kind}_{name}")


@pytest.mark.parametrize("name, wrong, public", _MISTAKE_CASES, ids=[f"{n}-{f.__name__}" for n, f, _ in _MISTAKE_CASES])
def test_each_mistake_fails_the_hidden_check_and_the_public_one(name, wrong, public):
    assert _fails(_check("hidden", name), wrong) is not None, f"{wrong.__name__} passed hidden_{name}"
    if public:
        assert _fails(_check("public", name), wrong) is not None, f"{wrong.__name__} passed public_{name}"


@pytest.mark.parametrize("name, right", _ALTERNATIVE_CASES, ids=[f"{n}-{f.__name__}" for n, f in _ALTERNATIVE_CASES])
def test_each_correct_alternative_passes_both_checks(name, right):
    assert _fails(_check("public", name), right) is None
    assert _fails(_check("hidden", name), right) is None


def test_the_corpus_has_three_mistakes_and_one_alternative_per_graded_function():
    assert set(MISTAKES) == set(ALTERNATIVES) == set(CHECKS)
    assert all(len(MISTAKES[name]) >= 3 and len(ALTERNATIVES[name]) >= 1 for name in CHECKS)


# What the hidden check's message must say for a mistake it can recognise.
HINTS = {
    encoder_without_relu: "ReLU of each stage is missing", encoder_pool_before_norm: "pooling comes before",
    loss_without_hinge: "max(., 0) is missing", loss_sum: "SUM over the batch", loss_not_squared: "not squared",
    loss_hinge_after_mean: "after the mean", loss_without_alpha: "alpha was left out",
    loss_mean_over_features: "averaged over the d features", loss_no_axis: "no axis=-1",
    mine_window_closed: "d(a,p) < d(a,n) < d(a,p) + alpha", verify_at_most: "strictly below",
    verify_squared: "not its square", verify_unknown_is_false: "raise ValueError", who_at_most: "return None",
    who_squared: "not squared",
}
_HINT_CASES = [(name, fn) for name, fn, _ in _MISTAKE_CASES if fn in HINTS]


@pytest.mark.parametrize("name, wrong", _HINT_CASES, ids=[f"{n}-{f.__name__}" for n, f in _HINT_CASES])
def test_hidden_failures_name_the_likely_mistake(name, wrong):
    message = _fails(_check("hidden", name), wrong)
    assert HINTS[wrong] in message, message


def test_a_valid_padding_encoder_is_named_on_the_public_images():
    message = _fails(_check("public", "face_encoder"), encoder_valid_padding)
    assert 'padding="valid"' in message, message
