"""Chapter 5's pair classifier training: settings per mode, a smoke run, and accuracy on labelled pairs."""

import numpy as np

from cnncourse.data.faces import make_faces
from cnncourse.experiments import c5_pairs
from cnncourse.experiments.c5_faces import verification_pairs


def test_every_mode_has_the_same_settings():
    assert set(c5_pairs.PAIR_TRAINING) == {"fast", "full", "grade"}
    for settings in c5_pairs.PAIR_TRAINING.values():
        assert tuple(settings) == c5_pairs.SETTING_KEYS


def test_pair_arrays_follow_the_rows():
    data = make_faces(3, 3, size=32, seed=0)
    pairs = np.stack(verification_pairs(data, 10, seed=1), axis=1).astype(np.int64)
    (a, b), labels = c5_pairs.pair_arrays(data, pairs)
    assert np.array_equal(a[4], data["images"][pairs[4, 0]]) and np.array_equal(b[4], data["images"][pairs[4, 1]])
    same = data["identities"][pairs[:, 0]] == data["identities"][pairs[:, 1]]
    assert labels.shape == (10, 1) and np.array_equal(labels[:, 0] == 1, same)


def test_grade_run_trains_and_is_measured_on_pairs():
    run = c5_pairs.train_pair_classifier(c5_pairs.PAIR_TRAINING["grade"], seed=0)
    assert len(run["history"]) == 1 and np.isfinite(run["history"][0]) and run["seconds"] > 0
    data = make_faces(4, 3, size=32, seed=0, first_identity=1000)
    pairs = np.stack(verification_pairs(data, 12, seed=0), axis=1).astype(np.int64)
    accuracy, probabilities = c5_pairs.pair_accuracy(run["model"], data, pairs)
    assert probabilities.shape == (12,) and np.all((probabilities > 0) & (probabilities < 1))
    expected = np.mean((probabilities >= 0.5) == (pairs[:, 2] == 1))
    assert accuracy == expected
