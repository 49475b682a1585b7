"""Chapter 5's pair classifier training, from random weights and from a trained encoder: settings per mode, smoke
runs, what each phase trains, and accuracy on labelled pairs."""

import keras
import numpy as np
import pytest

from cnncourse.data.faces import make_faces
from cnncourse.experiments import c5_pairs
from cnncourse.experiments.c5_faces import FACE_TRAINING, verification_pairs
from cnncourse.models.twins import build_face_encoder


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


def test_fine_tuning_settings_keep_the_triplet_encoders_people():
    assert set(c5_pairs.PAIR_FINE_TUNING) == set(c5_pairs.PAIR_TRAINING)
    for mode, settings in c5_pairs.PAIR_FINE_TUNING.items():
        assert set(settings) == set(c5_pairs.FINE_TUNING_KEYS)
        for key in ("n_identities", "per_identity", "image_size"):  # the people the encoder was trained on
            assert settings[key] == FACE_TRAINING[mode][key]


def _small_encoder():
    keras.utils.set_random_seed(3)
    return build_face_encoder(32, embedding_dim=16)


def test_fine_tuning_freezes_the_copy_first_and_leaves_the_callers_encoder_alone():
    encoder = _small_encoder()
    before = [w.copy() for w in encoder.get_weights()]
    head_only = dict(c5_pairs.PAIR_FINE_TUNING["grade"], epochs=0)
    run = c5_pairs.fine_tune_pair_classifier(encoder, head_only, seed=0)
    copied = run["model"].layers[2]
    assert copied is not encoder and isinstance(copied, keras.Model)
    assert all(np.array_equal(a, b) for a, b in zip(copied.get_weights(), before))  # frozen in the head phase
    assert len(run["history"]["head"]) == 1 and run["history"]["fine_tune"] == []
    unit = run["model"].get_layer("same").get_weights()[0]
    assert unit.shape == (16, 1) and np.any(unit != 0)

    run = c5_pairs.fine_tune_pair_classifier(encoder, c5_pairs.PAIR_FINE_TUNING["grade"], seed=0)
    tuned = run["model"].layers[2].get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(tuned, before))  # fine-tuned in the second phase
    assert all(np.array_equal(a, b) for a, b in zip(encoder.get_weights(), before))  # the caller's is untouched
    assert len(run["history"]["fine_tune"]) == 1 and np.isfinite(run["history"]["fine_tune"][0])


def test_fine_tuning_refuses_an_encoder_of_another_image_size():
    settings = dict(c5_pairs.PAIR_FINE_TUNING["grade"], image_size=48)
    with pytest.raises(ValueError, match="shape"):
        c5_pairs.fine_tune_pair_classifier(_small_encoder(), settings)
    with pytest.raises(ValueError, match="keras.Model"):
        c5_pairs.fine_tune_pair_classifier("encoder", c5_pairs.PAIR_FINE_TUNING["grade"])


def test_bench_faces_measures_the_pair_classifier_on_the_encoders_test_pairs(monkeypatch, capsys):
    from cnncourse.bench import faces

    monkeypatch.setenv("CNNCOURSE_MODE", "grade")
    figures = faces.run()
    assert figures["mode"] == "grade" and 0 <= figures["pair_accuracy"] <= 1 and figures["pair_seconds"] > 0
    assert f"accuracy {figures['pair_accuracy']:.3f} on the same test pairs" in capsys.readouterr().out
