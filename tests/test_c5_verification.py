"""Chapter 5's verification: verify, who_is_it and pair_classifier against their checks (and typical mistakes),
build_database, and roc_curve / auc / best_threshold against brute force."""

import keras
import numpy as np
import pytest
from keras import layers, ops

from cnncourse.checks import CheckFailed
from cnncourse.checks import c5_verification as checks
from cnncourse.models import c5_verification as ver


@pytest.mark.parametrize("kind", ["public", "hidden"])
@pytest.mark.parametrize("name", ["verify", "who_is_it", "pair_classifier"])
def test_checks_pass_the_reference(kind, name):
    getattr(checks, f"{kind}_{name}")(getattr(ver, name))


def _distance(encoding, known):
    return float(np.linalg.norm(np.asarray(encoding, float) - np.asarray(known, float)))


def verify_at_most(encoding, identity, database, threshold=0.7):
    d = _distance(encoding, database[identity])
    return d, bool(d <= threshold)


def verify_squared(encoding, identity, database, threshold=0.7):
    d = _distance(encoding, database[identity]) ** 2
    return d, bool(d < threshold)


def who_argmax(encoding, database, threshold=0.7):
    name = max(database, key=lambda k: _distance(encoding, database[k]))
    d = _distance(encoding, database[name])
    return d, (name if d < threshold else None)


def who_ignores_threshold(encoding, database, threshold=0.7):
    name = min(database, key=lambda k: _distance(encoding, database[k]))
    return _distance(encoding, database[name]), name


def who_at_most(encoding, database, threshold=0.7):
    name = min(database, key=lambda k: _distance(encoding, database[k]))
    d = _distance(encoding, database[name])
    return d, (name if d <= threshold else None)


def pair_with(shared=True, absolute=True):
    """pair_classifier with one thing changed."""
    def build(encoder):
        shape = tuple(encoder.inputs[0].shape[1:])
        a, b = keras.Input(shape, name="image_a"), keras.Input(shape, name="image_b")
        other = encoder if shared else keras.Sequential.from_config({**encoder.get_config(), "name": "second"})
        x = layers.Subtract()([encoder(a), other(b)])
        if absolute:
            x = layers.Lambda(ops.abs)(x)
        return keras.Model([a, b], layers.Dense(1, activation="sigmoid", name="same")(x))
    return build


MISTAKES = [
    ("verify", "<= instead of <", verify_at_most, "strictly below"),
    ("verify", "squared distance", verify_squared, "not its square"),
    ("who_is_it", "argmax instead of argmin", who_argmax, "argmin"),
    ("who_is_it", "name returned above the threshold", who_ignores_threshold, "return None"),
    ("who_is_it", "<= instead of <", who_at_most, "return None"),
    ("pair_classifier", "two separate encoders", pair_with(shared=False), "SAME encoder"),
    ("pair_classifier", "a - b without abs", pair_with(absolute=False), "absolute difference"),
]


@pytest.mark.parametrize("name, label, mistake, words", MISTAKES, ids=[m[1] for m in MISTAKES])
def test_public_checks_catch_typical_mistakes(name, label, mistake, words):
    with pytest.raises(CheckFailed) as failure:
        getattr(checks, f"public_{name}")(mistake)
    assert words.lower() in str(failure.value).lower()


def test_verify_and_who_is_it_on_the_hand_worked_database():
    assert ver.verify(checks.ENCODING, "bob", checks.DATABASE) == (0.625, True)
    assert ver.verify(checks.ENCODING, "carol", checks.DATABASE, 0.75) == (0.75, False)
    assert ver.who_is_it(checks.ENCODING, checks.DATABASE) == (0.0, "alice")
    with pytest.raises(ValueError, match="alice"):
        ver.verify(checks.ENCODING, "eve", checks.DATABASE)
    with pytest.raises(ValueError, match="empty"):
        ver.who_is_it(checks.ENCODING, {})


def test_build_database_averages_normalised_encodings():
    encoder = checks.tiny_encoder((8, 8, 3), d=4, seed=3)
    rng = np.random.default_rng(0)
    people = {"ann": rng.random((3, 8, 8, 3)), "ben": rng.random((8, 8, 3))}
    database = ver.build_database(encoder, people)
    assert list(database) == ["ann", "ben"]
    encodings = np.asarray(encoder(people["ann"].astype("float32")), dtype=np.float64)
    mean = (encodings / np.linalg.norm(encodings, axis=1, keepdims=True)).mean(axis=0)
    np.testing.assert_allclose(database["ann"], mean / np.linalg.norm(mean), rtol=1e-5, atol=1e-6)
    single = np.asarray(encoder(people["ben"][None].astype("float32")))[0]
    np.testing.assert_allclose(database["ben"], single / np.linalg.norm(single), rtol=1e-5, atol=1e-6)
    assert all(abs(np.linalg.norm(v) - 1) < 1e-5 and v.shape == (4,) for v in database.values())
    d, name = ver.who_is_it(single, database)
    assert name == "ben" and d < 1e-5
    with pytest.raises(ValueError):
        ver.build_database(encoder, {})


def test_pair_classifier_matches_features_of_precomputed_encodings():
    encoder = checks.tiny_encoder((8, 8, 3), d=4, seed=4)
    model = ver.pair_classifier(encoder)
    assert len(model.inputs) == 2 and model.count_params() == encoder.count_params() + 4 + 1
    rng = np.random.default_rng(1)
    a, b = rng.random((3, 8, 8, 3)).astype("float32"), rng.random((3, 8, 8, 3)).astype("float32")
    features = ver.pair_features(encoder(a), encoder(b))
    w, bias = model.get_layer("same").get_weights()
    want = 1 / (1 + np.exp(-(features @ w + bias)))
    np.testing.assert_allclose(np.asarray(model([a, b])), want, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError):
        ver.pair_features(np.zeros((2, 3)), np.zeros((3, 3)))


def _brute_rates(distances, same, t):
    tp = sum(1 for d, s in zip(distances, same) if s and d < t)
    fp = sum(1 for d, s in zip(distances, same) if not s and d < t)
    right = sum(1 for d, s in zip(distances, same) if (d < t) == s)
    return tp / sum(same), fp / (len(same) - sum(same)), right / len(same)


def _brute_auc(distances, same):
    """Probability that a same pair is closer than a different pair, ties counting one half."""
    pos = [d for d, s in zip(distances, same) if s]
    neg = [d for d, s in zip(distances, same) if not s]
    return sum((p < n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_and_best_threshold_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 60
    same = rng.random(n) < 0.4
    same[:2] = [True, False]
    distances = np.round(np.where(same, rng.normal(0.6, 0.2, n), rng.normal(1.0, 0.2, n)), 1)  # rounding: ties
    fpr, tpr, thresholds = ver.roc_curve(distances, same)
    assert len(thresholds) == len(np.unique(distances)) + 1 and thresholds[-1] == np.inf
    assert np.all(np.diff(thresholds) > 0)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    for f, t, th in zip(fpr, tpr, thresholds):
        want_t, want_f, _ = _brute_rates(distances, same, th)
        assert (f, t) == pytest.approx((want_f, want_t))
    assert ver.auc(fpr, tpr) == pytest.approx(_brute_auc(distances, same))
    best = ver.best_threshold(distances, same)
    best_possible = max(_brute_rates(distances, same, t)[2] for t in [*np.unique(distances), np.inf])
    assert _brute_rates(distances, same, best)[2] == pytest.approx(best_possible)
    assert ver.rates_at(distances, same, best) == pytest.approx(_brute_rates(distances, same, best))


def test_auc_extremes():
    same = np.array([True] * 20 + [False] * 20)
    separated = np.concatenate([np.linspace(0.1, 0.5, 20), np.linspace(0.8, 1.5, 20)])
    assert ver.auc(*ver.roc_curve(separated, same)[:2]) == pytest.approx(1.0)
    assert ver.auc(*ver.roc_curve(separated, ~same)[:2]) == pytest.approx(0.0)
    assert 0.3 < ver.best_threshold(separated, same) < 0.8
    rng = np.random.default_rng(0)
    labels = rng.random(4000) < 0.5
    assert ver.auc(*ver.roc_curve(rng.random(4000), labels)[:2]) == pytest.approx(0.5, abs=0.04)
    with pytest.raises(ValueError, match="both"):
        ver.roc_curve([0.1, 0.2], [True, True])
