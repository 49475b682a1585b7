"""Chapter 5's encoder, triplet loss and mining (cnncourse.models.c5_faces), their checks, and the training and
verification experiment (cnncourse.experiments.c5_faces)."""

import keras
import numpy as np
import pytest
from keras import layers, ops

from cnncourse.checks import CheckFailed
from cnncourse.checks import c5_faces as checks
from cnncourse.experiments import c5_faces as experiment
from cnncourse.models import c5_faces as faces


@pytest.mark.parametrize("name", ["face_encoder", "triplet_loss", "semi_hard_triplets"])
@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_checks_pass_the_reference(name, kind):
    getattr(checks, f"{kind}_{name}")(getattr(faces, name))


def _encoder_with_head(head):
    def encoder(image_size=64, embedding_dim=128):
        model = faces.face_encoder(image_size, embedding_dim)
        x = model.get_layer("gap").output
        return keras.Model(model.input, head(x, embedding_dim), name="encoder")
    return encoder


encoder_without_l2 = _encoder_with_head(lambda x, d: layers.Dense(d)(x))
encoder_with_softmax = _encoder_with_head(lambda x, d: layers.UnitNormalization()(layers.Dense(d, "softmax")(x)))
encoder_with_relu = _encoder_with_head(lambda x, d: layers.UnitNormalization()(layers.Dense(d, "relu")(x)))


def encoder_ignoring_embedding_dim(image_size=64, embedding_dim=128):
    return faces.face_encoder(image_size, 128)


def _distances(a, p, n):
    return ops.sum(ops.square(a - p), axis=-1), ops.sum(ops.square(a - n), axis=-1)


def loss_without_hinge(a, p, n, alpha=0.2):
    d_pos, d_neg = _distances(ops.convert_to_tensor(a), ops.convert_to_tensor(p), ops.convert_to_tensor(n))
    return ops.mean(d_pos - d_neg + alpha)


def loss_summed(a, p, n, alpha=0.2):
    return faces.triplet_loss(a, p, n, alpha) * np.shape(a)[0]


def loss_not_squared(a, p, n, alpha=0.2):
    a, p, n = (ops.convert_to_tensor(t) for t in (a, p, n))
    d_pos, d_neg = ops.norm(a - p, axis=-1), ops.norm(a - n, axis=-1)
    return ops.mean(ops.maximum(d_pos - d_neg + alpha, 0.0))


def loss_hinge_after_mean(a, p, n, alpha=0.2):
    d_pos, d_neg = _distances(ops.convert_to_tensor(a), ops.convert_to_tensor(p), ops.convert_to_tensor(n))
    return ops.maximum(ops.mean(d_pos - d_neg + alpha), 0.0)


def _mine(embeddings, labels, alpha, pick):
    """Reference pairs; negative chosen by pick(distance row, candidate mask, d_ap)."""
    embeddings, labels = np.asarray(embeddings, float), np.asarray(labels)
    d = np.sum((embeddings[:, None] - embeddings[None]) ** 2, axis=-1)
    rows = []
    for a in range(len(labels)):
        for p in np.flatnonzero(labels == labels[a]):
            if p != a and np.any(labels != labels[a]):
                rows.append((a, p, pick(d[a], labels, a, d[a, p], alpha)))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def mining_any_other_row(embeddings, labels, alpha=0.2):
    def pick(row, labels, a, d_ap, alpha):
        row = row.copy()
        row[a] = np.inf
        return int(np.argmin(row))
    return _mine(embeddings, labels, alpha, pick)


def mining_hardest_ignoring_window(embeddings, labels, alpha=0.2):
    def pick(row, labels, a, d_ap, alpha):
        return int(np.argmin(np.where(labels != labels[a], row, np.inf)))
    return _mine(embeddings, labels, alpha, pick)


def mining_not_squared(embeddings, labels, alpha=0.2):
    embeddings = np.asarray(embeddings, float)
    d = np.sqrt(np.sum((embeddings[:, None] - embeddings[None]) ** 2, axis=-1))  # Euclidean, not squared
    rows = []
    for a in range(len(labels)):
        negatives = np.flatnonzero(labels != labels[a])
        for p in np.flatnonzero(labels == labels[a]):
            if p != a and len(negatives):
                window = (d[a, negatives] > d[a, p]) & (d[a, negatives] < d[a, p] + alpha)
                pool = negatives[window] if window.any() else negatives
                rows.append((a, p, pool[np.argmin(d[a, pool])]))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


MISTAKES = [
    (checks.public_face_encoder, encoder_without_l2, "norm"),
    (checks.public_face_encoder, encoder_with_softmax, "activation"),
    (checks.public_face_encoder, encoder_with_relu, "activation"),
    (checks.hidden_face_encoder, encoder_ignoring_embedding_dim, "expected shape"),
    (checks.public_triplet_loss, loss_without_hinge, "hinge"),
    (checks.public_triplet_loss, loss_summed, "mean"),
    (checks.public_triplet_loss, loss_not_squared, "squared"),
    (checks.hidden_triplet_loss, loss_hinge_after_mean, "triplet_loss"),
    (checks.public_semi_hard_triplets, mining_any_other_row, "anchor's label"),
    (checks.public_semi_hard_triplets, mining_hardest_ignoring_window, "d(a,p) < d(a,n)"),
    (checks.hidden_semi_hard_triplets, mining_not_squared, "squared"),
]


@pytest.mark.parametrize("check, mistake, words", MISTAKES, ids=[m[1].__name__ for m in MISTAKES])
def test_checks_catch_typical_mistakes(check, mistake, words):
    with pytest.raises(CheckFailed) as failure:
        check(mistake)
    assert words.lower() in str(failure.value).lower()


def test_mining_returns_pairs_in_order_and_skips_a_single_person():
    embeddings = np.random.default_rng(0).normal(size=(6, 4))
    triplets = faces.semi_hard_triplets(embeddings, np.array([0, 0, 1, 1, 1, 2]))
    assert triplets.shape == (2 + 6, 3) and triplets.dtype == np.int64
    assert triplets[:, :2].tolist() == sorted(triplets[:, :2].tolist())
    assert faces.semi_hard_triplets(embeddings, np.zeros(6, int)).shape == (0, 3)


def test_verification_pairs_are_balanced_and_valid():
    identities = np.repeat(np.arange(5), 3)
    first, second, same = experiment.verification_pairs({"identities": identities}, 40, seed=1)
    assert same.sum() == 20 and len(first) == len(second) == 40
    assert np.all(first != second)
    assert np.array_equal(identities[first] == identities[second], same)
    again = experiment.verification_pairs({"identities": identities}, 40, seed=1)
    assert all(np.array_equal(x, y) for x, y in zip((first, second, same), again))
    with pytest.raises(ValueError):
        experiment.verification_pairs({"identities": np.arange(4)}, 10)


def test_grade_mode_training_and_evaluation_run():
    settings = experiment.FACE_TRAINING["grade"]
    assert all(set(s) == set(settings) for s in experiment.FACE_TRAINING.values())
    result = experiment.train_triplet_encoder(settings, seed=0)
    assert set(result) >= {"encoder", "history", "seconds", "images_per_second"}
    assert len(result["history"]) == settings["steps"] and all(np.isfinite(result["history"]))
    test = experiment.held_out_faces(settings)
    assert test["identities"].min() == experiment.TEST_FIRST_IDENTITY
    evaluation = experiment.evaluate_verification(result["encoder"], test, n_pairs=settings["n_pairs"])
    assert set(evaluation) >= {"distances", "same", "roc", "auc", "threshold", "accuracy"}
    assert evaluation["distances"].shape == (settings["n_pairs"],)
    assert np.all((evaluation["distances"] >= 0) & (evaluation["distances"] <= 2 + 1e-5))
    assert 0 <= evaluation["auc"] <= 1 and 0 <= evaluation["accuracy"] <= 1
    fpr, tpr, _ = evaluation["roc"]
    assert fpr[-1] == 1 and tpr[-1] == 1 and np.all(np.diff(fpr) >= 0)
    with pytest.raises(ValueError, match="missing"):
        experiment.train_triplet_encoder({"steps": 1})


def test_short_training_beats_an_untrained_encoder_on_held_out_people():
    settings = dict(experiment.FACE_TRAINING["fast"], n_identities=60, per_identity=4, image_size=32, steps=120,
                    n_test_identities=30, test_per_identity=3, n_pairs=400)
    test = experiment.held_out_faces(settings, seed=0)
    keras.utils.set_random_seed(0)
    untrained = experiment.evaluate_verification(faces.face_encoder(32), test, n_pairs=400)
    trained = experiment.evaluate_verification(experiment.train_triplet_encoder(settings, seed=0)["encoder"], test,
                                               n_pairs=400)
    assert trained["auc"] > untrained["auc"] + 0.15, (trained["auc"], untrained["auc"])


def test_triplet_step_names_the_backends_it_supports(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(RuntimeError, match="KERAS_BACKEND=tensorflow or jax"):
        experiment._make_gradient_step(None, None, 0.2)
